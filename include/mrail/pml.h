/* mrail point-to-point messaging layer: one component is selected per job,
 * the one with the highest pml_<comp>_priority that accepts. Matching,
 * protocols and the scheduler come with the PML issue. */
#ifndef MRAIL_PML_H
#define MRAIL_PML_H

#include "mrail/component.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_pml_component mrail_pml_component_t;

struct mrail_pml_component {
    mrail_component_t base;
    int default_priority; /* default of pml_<comp>_priority */
    int priority;         /* its value, registered by pml/base */
    /* Accepts (MRAIL_SUCCESS, priority set) or declines with why. */
    int (*query)(mrail_pml_component_t *self, int *priority, mrail_reason_t *why);
};

extern const mrail_framework_ops_t mrail_pml_framework_ops;

#ifdef __cplusplus
}
#endif

#endif
