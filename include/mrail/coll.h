/* The coll framework: collective algorithms for the MPI layer. One
 * component per job, the highest priority wins (like pml). Components
 * build schedules (coll/base/coll_base.h) for the MPI collectives; their
 * MCA parameters choose the algorithms. */
#ifndef MRAIL_COLL_H
#define MRAIL_COLL_H

#include "mrail/component.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_coll_component {
    mrail_component_t base;
    int default_priority;
    int priority; /* coll_<name>_priority */
    /* Accepts (MRAIL_SUCCESS, may lower *priority) or declines with why. */
    int (*query)(struct mrail_coll_component *self, int *priority, mrail_reason_t *why);
} mrail_coll_component_t;

extern const mrail_framework_ops_t mrail_coll_framework_ops;

#ifdef __cplusplus
}
#endif

#endif
