/* The coll framework: one component per job, the highest priority wins. */
#include "mrail/coll.h"

const mrail_framework_ops_t mrail_coll_framework_ops = {
    .name = "coll",
    .description = "collective algorithms for MPI: one component, the highest priority wins",
    .policy = MRAIL_SELECT_ONE,
    .register_common = mrail_ranked_register_common,
    .query = mrail_ranked_query,
};
