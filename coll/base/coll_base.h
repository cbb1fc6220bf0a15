/* coll/base: the schedule engine and the per-communicator selection; the
 * contract is include/mrail/coll.h. Below it: the MPI object tables
 * (mpiobj/) and the pml. */
#ifndef MRAIL_COLL_BASE_H
#define MRAIL_COLL_BASE_H

#include "mpiobj.h"
#include "mrail/coll.h"

#endif
