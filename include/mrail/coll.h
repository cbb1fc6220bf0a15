/* The coll framework: collective algorithms for the MPI layer. One
 * component per job, the highest priority wins (like pml). Components
 * build schedules (coll/base/coll_base.h) for the MPI collectives; their
 * MCA parameters choose the algorithms. */
#ifndef MRAIL_COLL_H
#define MRAIL_COLL_H

#include "mrail/component.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef mrail_ranked_component_t mrail_coll_component_t;

extern const mrail_framework_ops_t mrail_coll_framework_ops;

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
