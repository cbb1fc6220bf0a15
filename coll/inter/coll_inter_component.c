/* coll/inter: the component; it takes intercommunicators only. */
#include "coll_inter.h"
#include "mrail/coll.h"

static int coll_inter_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

static void coll_inter_comm_query(mrail_coll_component_t *self, MPI_Comm comm,
                                  const mrail_coll_fns_t *below, mrail_coll_fns_t *fns)
{
    (void)self;
    (void)below;
    if (!mrail_obj.comms[comm].inter) {
        return;
    }
    *fns = (mrail_coll_fns_t){
        .barrier = coll_inter_barrier,
        .bcast = coll_inter_bcast,
        .reduce = coll_inter_reduce,
        .allreduce = coll_inter_allreduce,
        .gather = coll_inter_gather,
        .gatherv = coll_inter_gatherv,
        .scatter = coll_inter_scatter,
        .scatterv = coll_inter_scatterv,
        .allgather = coll_inter_allgather,
        .allgatherv = coll_inter_allgatherv,
        .alltoall = coll_inter_alltoall,
        .alltoallw = coll_inter_alltoallw,
        .reduce_scatter = coll_inter_reduce_scatter,
    };
}

mrail_coll_component_t mrail_coll_inter_component = {
    .ranked =
        {
            .base =
                {
                    .abi_version = MRAIL_COMPONENT_ABI_VERSION,
                    .framework = "coll",
                    .name = "inter",
                    .version = MRAIL_VERSION_STRING,
                    .description = "collectives on intercommunicators, between and within the "
                                   "two groups",
                },
            .default_priority = 40,
            .query = coll_inter_query,
        },
    .comm_query = coll_inter_comm_query,
};
