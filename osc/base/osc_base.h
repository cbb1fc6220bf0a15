/* osc/base: selection, the windows progress drives, shared segments; the
 * contract is include/mrail/osc.h. Below it: the collectives, the MPI
 * object tables and the pml. */
#ifndef MRAIL_OSC_BASE_H
#define MRAIL_OSC_BASE_H

#include "mpiobj.h"
#include "mrail/coll.h"
#include "mrail/osc.h"

#endif
