/* coll/tuned: the component and its algorithm parameters. */
#include <stddef.h>
#include <string.h>

#include "coll_tuned.h"
#include "mrail/coll.h"

typedef struct coll_tuned_config {
    int algorithm[COLL_KINDS]; /* 0 = auto, else 1 + index in the names */
    size_t segment_size;
} coll_tuned_config_t;

static coll_tuned_config_t coll_tuned_config;

static const char *const barrier_names[] = {"auto", "dissemination", "linear", NULL};
static const char *const bcast_names[] = {"auto",     "linear", "binomial", "scatter_allgather",
                                          "pipeline", NULL};
static const char *const reduce_names[] = {"auto", "linear", "binomial", NULL};
static const char *const allreduce_names[] = {"auto",         "reduce_bcast", "recursive_doubling",
                                              "rabenseifner", "ring",         NULL};
static const char *const gather_names[] = {"auto", "linear", "binomial", NULL};
static const char *const allgather_names[] = {"auto",  "linear", "ring", "recursive_doubling",
                                              "bruck", NULL};
static const char *const alltoall_names[] = {"auto", "linear", "pairwise", "bruck", NULL};
static const char *const reduce_scatter_names[] = {"auto", "reduce_scatterv", "ring", NULL};
static const char *const scan_names[] = {"auto", "linear", "recursive_doubling", NULL};

static const char *const *const names[COLL_KINDS] = {
    barrier_names, bcast_names,     reduce_names,   allreduce_names,      gather_names,
    gather_names,  allgather_names, alltoall_names, reduce_scatter_names, scan_names};

const char *coll_tuned_forced(coll_kind_t kind)
{
    int a = coll_tuned_config.algorithm[kind];
    return a > 0 ? names[kind][a] : NULL;
}

size_t coll_tuned_segment_size(void)
{
    return coll_tuned_config.segment_size ? coll_tuned_config.segment_size : 128 * 1024;
}

#define ALGO(op, kind, help)                                                                       \
    {                                                                                              \
#op "_algorithm", MRAIL_MCA_ENUM, "auto", 4, help, op##_names,                             \
            offsetof(coll_tuned_config_t, algorithm) + (kind) * sizeof(int)                        \
    }

static int coll_tuned_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        ALGO(barrier, COLL_BARRIER,
             "MPI_Barrier/Ibarrier: dissemination (log p rounds) or linear (through rank 0); "
             "auto: linear when every rank is on one node with more ranks than CPUs, else "
             "dissemination"),
        ALGO(bcast, COLL_BCAST,
             "MPI_Bcast/Ibcast: linear, binomial tree, scatter then ring allgather, or a "
             "pipelined chain of coll_tuned_bcast_segment_size pieces; auto: below 128 KiB "
             "binomial, or linear when every rank is on one node with more ranks than CPUs; "
             "scatter_allgather above"),
        ALGO(reduce, COLL_REDUCE,
             "MPI_Reduce/Ireduce: linear (in rank order at the root) or binomial tree (rank "
             "order kept for non-commutative operations); auto = binomial"),
        ALGO(allreduce, COLL_ALLREDUCE,
             "MPI_Allreduce/Iallreduce: reduce then bcast, recursive doubling, Rabenseifner "
             "(reduce-scatter + allgather) or ring; auto: recursive doubling below 8 KiB or for "
             "non-commutative operations, Rabenseifner below 1 MiB, ring above"),
        ALGO(gather, COLL_GATHER,
             "MPI_Gather/Igather: linear or binomial tree; auto: binomial below 16 KiB per "
             "rank on 8 ranks or more, else linear"),
        {"scatter_algorithm", MRAIL_MCA_ENUM, "auto", 4,
         "MPI_Scatter/Iscatter: linear or binomial tree; auto: binomial below 16 KiB per rank "
         "on 8 ranks or more, else linear",
         gather_names, offsetof(coll_tuned_config_t, algorithm) + COLL_SCATTER * sizeof(int)},
        ALGO(allgather, COLL_ALLGATHER,
             "MPI_Allgather/Iallgather: linear (gather + bcast), ring, recursive doubling "
             "(power-of-two sizes) or Bruck; auto: recursive doubling or Bruck below 64 KiB in "
             "all, ring above"),
        ALGO(alltoall, COLL_ALLTOALL,
             "MPI_Alltoall/Ialltoall: linear (everything posted at once), pairwise exchange or "
             "Bruck; auto: Bruck below 256 bytes per pair on 8 ranks or more, linear up to 4 "
             "ranks, pairwise otherwise"),
        ALGO(reduce_scatter, COLL_REDUCE_SCATTER,
             "MPI_Reduce_scatter(_block) and their nonblocking forms: reduce then scatterv, or "
             "ring; auto: ring for commutative operations"),
        ALGO(scan, COLL_SCAN,
             "MPI_Scan/Exscan and their nonblocking forms: linear chain or recursive doubling; "
             "auto: recursive doubling on 8 ranks or more"),
        {"bcast_segment_size", MRAIL_MCA_SIZE, "128k", 6,
         "Piece size of the pipelined bcast (coll_tuned_bcast_algorithm=pipeline)", NULL,
         offsetof(coll_tuned_config_t, segment_size)},
    };
    return mrail_mca_register(mca, "coll", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &coll_tuned_config);
}

static int coll_tuned_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

/* Every operation, on every intracommunicator. */
static void coll_tuned_comm_query(mrail_coll_component_t *self, MPI_Comm comm,
                                  const mrail_coll_fns_t *below, mrail_coll_fns_t *fns)
{
    (void)self;
    (void)below;
    if (mrail_obj.comms[comm].inter) {
        return;
    }
    *fns = (mrail_coll_fns_t){
        .barrier = coll_tuned_barrier,
        .bcast = coll_tuned_bcast,
        .reduce = coll_tuned_reduce,
        .allreduce = coll_tuned_allreduce,
        .gather = coll_tuned_gather,
        .gatherv = coll_tuned_gatherv,
        .scatter = coll_tuned_scatter,
        .scatterv = coll_tuned_scatterv,
        .allgather = coll_tuned_allgather,
        .allgatherv = coll_tuned_allgatherv,
        .alltoall = coll_tuned_alltoall,
        .alltoallw = coll_tuned_alltoallw,
        .reduce_scatter = coll_tuned_reduce_scatter,
        .scan = coll_tuned_scan,
        .neighbor_alltoallw = coll_tuned_neighbor_alltoallw,
    };
}

mrail_coll_component_t mrail_coll_tuned_component = {
    .ranked =
        {
            .base =
                {
                    .abi_version = MRAIL_COMPONENT_ABI_VERSION,
                    .framework = "coll",
                    .name = "tuned",
                    .version = MRAIL_VERSION_STRING,
                    .description =
                        "collectives over the PML, algorithms by size or by MCA parameter",
                    .register_params = coll_tuned_register,
                },
            .default_priority = 30,
            .query = coll_tuned_query,
        },
    .comm_query = coll_tuned_comm_query,
};
