/* coll/sm: the component, its parameter, and a communicator's segment. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "coll_sm.h"

typedef struct coll_sm_config {
    size_t max_bytes;
    bool report;
} coll_sm_config_t;

static coll_sm_config_t coll_sm_config;

/* What the report says: this process's operations on every communicator. */
static struct {
    unsigned long comms, through, handed_on;
    unsigned long failed; /* communicators whose segment could not be mapped */
    mrail_reason_t why;   /* the last such failure, as the report names it */
} coll_sm_counts;

size_t coll_sm_max_bytes(void)
{
    return coll_sm_config.max_bytes;
}

void coll_sm_count(bool through)
{
    if (through) {
        coll_sm_counts.through++;
    } else {
        coll_sm_counts.handed_on++;
    }
}

static int coll_sm_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"max_bytes", MRAIL_MCA_SIZE, "4k", 5,
         "Largest bcast, reduce or allreduce (bytes per rank) that goes through the "
         "communicator's shared segment; larger ones go to coll/tuned. Each communicator "
         "whose ranks share a node maps 2 x ranks x this much at its first blocking "
         "collective; 0 leaves only barrier to coll/sm",
         NULL, offsetof(coll_sm_config_t, max_bytes)},
        {"report", MRAIL_MCA_BOOL, "false", 4,
         "At finalize, each process writes to stderr how many communicators mapped a segment "
         "and how many barrier, bcast, reduce and allreduce calls went through one or were "
         "handed to coll/tuned",
         NULL, offsetof(coll_sm_config_t, report)},
    };
    return mrail_mca_register(mca, "coll", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &coll_sm_config);
}

static int coll_sm_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

static void coll_sm_close(mrail_component_t *self)
{
    (void)self;
    if (coll_sm_config.report) {
        fprintf(stderr, "coll sm: segments=%lu through=%lu handed_on=%lu\n", coll_sm_counts.comms,
                coll_sm_counts.through, coll_sm_counts.handed_on);
        if (coll_sm_counts.failed > 0) { /* a quiet fallback, but not a silent one */
            fprintf(stderr, "coll sm: %lu segment(s) not mapped, the last because: %s\n",
                    coll_sm_counts.failed, coll_sm_counts.why.text);
        }
    }
}

static void coll_sm_state_free(void *state)
{
    coll_sm_comm_t *st = state;
    if (st->map != NULL) {
        munmap(st->map, st->map_len);
    }
    free(st->bells);
    free(st);
}

/* The bells of the communicator's other ranks, when the node is crowded. */
static mrail_rte_bell_t **member_bells(const mpi_comm_t *c)
{
    mrail_rte_bell_t **bells = NULL;
    for (int r = 0; r < c->size && mrail_obj.rte != NULL; r++) {
        int local = r == c->rank ? -1 : mpi_world_local_index(c->world[r]);
        mrail_rte_bell_t *bell =
            local < 0 ? NULL : mrail_rte_bell_of(mrail_obj.rte, (uint32_t)local);
        if (bell != NULL && bells == NULL &&
            (bells = calloc((size_t)c->size, sizeof(*bells))) == NULL) {
            return NULL; /* not rung from here: a sleep on our news ends by its timeout */
        }
        if (bell != NULL) {
            bells[r] = bell;
        }
    }
    return bells;
}

/* The first blocking collective: map the segment, or leave everything to
 * the operations below when any rank cannot (all ranks learn the same). */
static void coll_sm_setup(MPI_Comm comm)
{
    coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
    size_t lines = (size_t)st->n * sizeof(coll_sm_line_t);
    st->map_len = lines + 2 * (size_t)st->n * st->max;
    mrail_reason_t why = {""};
    if (mrail_coll_shm_map(comm, &st->below, "coll", st->map_len, &st->map, &why) == MPI_SUCCESS) {
        st->lines = st->map;
        st->slots = (char *)st->map + lines;
        st->ready = true;
        st->bells = member_bells(&mrail_obj.comms[comm]);
        coll_sm_counts.comms++;
    } else {
        coll_sm_counts.failed++;
        coll_sm_counts.why = why;
    }
}

static bool all_on_this_node(const mpi_comm_t *c)
{
    for (int r = 0; r < c->size; r++) {
        if (!mpi_world_on_this_node(c->world[r])) {
            return false;
        }
    }
    return true;
}

/* Intracommunicators of two ranks or more on this node, when there is
 * something below to hand larger operations (and the set-up) to. */
static void coll_sm_comm_query(mrail_coll_component_t *self, MPI_Comm comm,
                               const mrail_coll_fns_t *below, mrail_coll_fns_t *fns)
{
    (void)self;
    mpi_comm_t *c = &mrail_obj.comms[comm];
    if (c->inter || c->size < 2 || c->coll_state != NULL || below->barrier == NULL ||
        below->bcast == NULL || below->reduce == NULL || below->allreduce == NULL ||
        !all_on_this_node(c)) {
        return;
    }
    coll_sm_comm_t *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return; /* below runs everything */
    }
    st->below = *below;
    st->n = c->size;
    st->rank = c->rank;
    /* Slots stay line-aligned. */
    st->max = (coll_sm_max_bytes() + COLL_SM_LINE - 1) / COLL_SM_LINE * COLL_SM_LINE;
    c->coll_state = st;
    c->coll_state_free = coll_sm_state_free;
    fns->barrier = coll_sm_barrier;
    fns->bcast = coll_sm_bcast;
    fns->reduce = coll_sm_reduce;
    fns->allreduce = coll_sm_allreduce;
    fns->setup = coll_sm_setup;
}

mrail_coll_component_t mrail_coll_sm_component = {
    .ranked =
        {
            .base =
                {
                    .abi_version = MRAIL_COMPONENT_ABI_VERSION,
                    .framework = "coll",
                    .name = "sm",
                    .version = MRAIL_VERSION_STRING,
                    .description = "barrier, bcast, reduce and allreduce of small messages "
                                   "through a shared segment, on communicators within a node",
                    .register_params = coll_sm_register,
                    .close = coll_sm_close,
                },
            .default_priority = 35,
            .query = coll_sm_query,
        },
    .comm_query = coll_sm_comm_query,
};
