/* The coll framework: every available component may take operations on a
 * communicator; the highest priority that takes one runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_base.h"

const mrail_framework_ops_t mrail_coll_framework_ops = {
    .name = "coll",
    .description = "collective algorithms for MPI: each operation of a communicator from the "
                   "highest-priority component that takes it",
    .policy = MRAIL_SELECT_MANY,
    .register_common = mrail_ranked_register_common,
    .query = mrail_ranked_query,
};

int mrail_coll_comm_rank(MPI_Comm comm)
{
    return mrail_obj.comms[comm].rank;
}

int mrail_coll_comm_size(MPI_Comm comm)
{
    return mrail_obj.comms[comm].size;
}

/* Applies f to every operation of the table, with its name. */
#define COLL_FNS(f)                                                                                \
    f(barrier) f(bcast) f(reduce) f(allreduce) f(gather) f(gatherv) f(scatter) f(scatterv)         \
        f(allgather) f(allgatherv) f(alltoall) f(alltoallw) f(reduce_scatter) f(scan)              \
            f(neighbor_alltoallw) f(setup)

/* The name of an operation no component took, or NULL; an
 * intercommunicator has no scan and no neighbourhood. */
static const char *missing(const mrail_coll_fns_t *fns, bool inter)
{
#define MISSING(op)                                                                                \
    if (fns->op == NULL && strcmp(#op, "setup") != 0 &&                                            \
        !(inter && (strcmp(#op, "scan") == 0 || strcmp(#op, "neighbor_alltoallw") == 0))) {        \
        return #op;                                                                                \
    }
    COLL_FNS(MISSING)
#undef MISSING
    return NULL;
}

mrail_coll_fns_t *mrail_coll_comm_select(mrail_frameworks_t *fws, MPI_Comm comm,
                                         mrail_reason_t *why)
{
    mrail_framework_t *fw = mrail_frameworks_find(fws, "coll");
    mrail_coll_fns_t *fns = calloc(1, sizeof(*fns));
    if (fns == NULL || fw == NULL) {
        snprintf(why->text, sizeof(why->text), "%s",
                 fns == NULL ? "out of memory" : "the coll framework is not open");
        free(fns);
        return NULL;
    }
    /* Lowest priority first: a later component's entries replace earlier ones. */
    bool *done = calloc(fw->entry_count ? fw->entry_count : 1, sizeof(bool));
    if (done == NULL) {
        snprintf(why->text, sizeof(why->text), "out of memory");
        free(fns);
        return NULL;
    }
    for (;;) {
        mrail_component_entry_t *next = NULL;
        size_t at = 0;
        for (size_t k = 0; k < fw->entry_count; k++) {
            mrail_component_entry_t *e = &fw->entries[k];
            if (!done[k] && e->state == MRAIL_COMPONENT_SELECTED &&
                (next == NULL || e->priority < next->priority)) {
                next = e;
                at = k;
            }
        }
        if (next == NULL) {
            break;
        }
        done[at] = true;
        mrail_coll_component_t *c = (mrail_coll_component_t *)next->component;
        mrail_coll_fns_t taken = {0};
        c->comm_query(c, comm, fns, &taken);
#define TAKE(op)                                                                                   \
    if (taken.op != NULL) {                                                                        \
        fns->op = taken.op;                                                                        \
    }
        COLL_FNS(TAKE)
#undef TAKE
    }
    free(done);
    const char *op = missing(fns, mrail_obj.comms[comm].inter);
    if (op != NULL) {
        snprintf(why->text, sizeof(why->text),
                 "no selected coll component provides %s for this communicator (coll=\"%s\"; "
                 "coll/tuned provides every operation on intracommunicators, coll/inter on "
                 "intercommunicators)",
                 op, fw->selection ? fw->selection : "");
        free(fns);
        return NULL;
    }
    return fns;
}
