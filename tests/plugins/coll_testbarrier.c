/* A coll component that takes one operation, barrier, with a priority
 * above coll/tuned's: every other operation stays with tuned. Its barrier
 * is linear through rank 0 (everyone reports in, then rank 0 releases
 * everyone). At close it prints how many barriers it built, so a test can
 * tell that the communicator's table really calls it. */
#include <stdio.h>

#include "mrail/coll.h"

static unsigned long barriers_built;

static void testbarrier_barrier(mrail_coll_sched_t *s, MPI_Comm comm)
{
    barriers_built++;
    int rank = mrail_coll_comm_rank(comm), size = mrail_coll_comm_size(comm);
    if (rank == 0) {
        for (int r = 1; r < size; r++) {
            mrail_coll_recv(s, NULL, 0, MPI_BYTE, r);
        }
        mrail_coll_round(s);
        for (int r = 1; r < size; r++) {
            mrail_coll_send(s, NULL, 0, MPI_BYTE, r);
        }
    } else {
        mrail_coll_send(s, NULL, 0, MPI_BYTE, 0);
        mrail_coll_round(s);
        mrail_coll_recv(s, NULL, 0, MPI_BYTE, 0);
    }
}

static void testbarrier_comm_query(mrail_coll_component_t *self, MPI_Comm comm,
                                   const mrail_coll_fns_t *below, mrail_coll_fns_t *fns)
{
    (void)self;
    (void)below;
    (void)comm;
    fns->barrier = testbarrier_barrier;
}

static int testbarrier_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

static void testbarrier_close(mrail_component_t *self)
{
    (void)self;
    fprintf(stderr, "coll testbarrier: barriers=%lu\n", barriers_built);
}

mrail_coll_component_t mrail_coll_testbarrier_component = {
    .ranked = {.base = {.abi_version = MRAIL_COMPONENT_ABI_VERSION,
                        .framework = "coll",
                        .name = "testbarrier",
                        .version = "0.0.1",
                        .description = "test coll: takes barrier only, counts it",
                        .close = testbarrier_close},
               .default_priority = 40,
               .query = testbarrier_query},
    .comm_query = testbarrier_comm_query,
};
