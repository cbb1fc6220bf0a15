/* The pml framework: one component per job, the highest priority wins. */
#include "mrail/pml.h"

const mrail_framework_ops_t mrail_pml_framework_ops = {
    .name = "pml",
    .description = "point-to-point messaging: one component, the highest priority wins",
    .policy = MRAIL_SELECT_ONE,
    .register_common = mrail_ranked_register_common,
    .query = mrail_ranked_query,
};
