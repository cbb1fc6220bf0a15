/* coll/sm: the operations through the segment (see coll_sm.h). Each is
 * one step of its schedule, so that blocking and nonblocking calls share
 * it; the step never blocks, it says whether it has finished. */
#include <string.h>

#include "coll_sm.h"
#include "mrail/copy.h"

typedef enum { SM_BARRIER, SM_BCAST, SM_REDUCE, SM_ALLREDUCE } sm_kind_t;

typedef struct coll_sm_op {
    coll_sm_comm_t *st;
    uint64_t seq; /* its number among the communicator's operations here */
    sm_kind_t kind;
    int root; /* bcast, reduce */
    const void *sbuf;
    void *rbuf; /* bcast: the buffer */
    size_t count;
    const mpi_type_t *type; /* held until it finishes */
    MPI_Datatype th;
    MPI_Op op;
    bool joined;
} coll_sm_op_t;

static inline uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Stores this rank's news, and wakes the ranks that sleep waiting for it. */
static inline void publish(const coll_sm_comm_t *st, uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
    if (st->bells != NULL) {
        mrail_rte_bells_ring(st->bells, (size_t)st->n);
    }
}

static char *slot(const coll_sm_comm_t *st, uint64_t seq, int rank)
{
    return st->slots + ((size_t)(seq & 1) * (size_t)st->n + (size_t)rank) * st->max;
}

static bool all_arrived(const coll_sm_comm_t *st, uint64_t seq)
{
    for (int r = 0; r < st->n; r++) {
        if (load(&st->lines[r].arrived) < seq) {
            return false;
        }
    }
    return true;
}

static bool all_done(const coll_sm_comm_t *st, uint64_t seq)
{
    for (int r = 0; r < st->n; r++) {
        if (load(&st->lines[r].done) < seq) {
            return false;
        }
    }
    return true;
}

/* Does this rank write a slot when it joins? */
static bool writes(const coll_sm_op_t *o)
{
    return o->kind == SM_REDUCE || o->kind == SM_ALLREDUCE ||
           (o->kind == SM_BCAST && o->st->rank == o->root);
}

/* Does it read anything after joining? */
static bool reads(const coll_sm_op_t *o)
{
    int me = o->st->rank;
    return o->kind == SM_BARRIER || o->kind == SM_ALLREDUCE ||
           (o->kind == SM_BCAST && me != o->root) || (o->kind == SM_REDUCE && me == o->root);
}

static void join(coll_sm_op_t *o)
{
    coll_sm_comm_t *st = o->st;
    if (!writes(o)) {
        /* nothing to put in the segment */
    } else if (o->kind == SM_BCAST) {
        mpi_type_pack(o->type, o->count, o->rbuf, slot(st, o->seq, st->rank));
    } else {
        mrail_copy(slot(st, o->seq, st->rank), o->sbuf, o->count * o->type->size);
    }
    publish(st, &st->lines[st->rank].arrived, o->seq);
    o->joined = true;
}

/* Everything it waits for has arrived. */
static bool ready(const coll_sm_op_t *o)
{
    const coll_sm_comm_t *st = o->st;
    if (o->kind == SM_BCAST) {
        return load(&st->lines[o->root].arrived) >= o->seq;
    }
    if (o->kind == SM_BARRIER && st->rank != 0) {
        return load(&st->lines[0].release) >= o->seq;
    }
    if (!all_arrived(st, o->seq)) {
        return false;
    }
    if (o->kind == SM_BARRIER) {
        publish(st, &st->lines[0].release, o->seq);
    }
    return true;
}

/* rbuf = slot 0 op slot 1 op ... op slot n-1, in rank order for every
 * operation (so every rank computes the same bits, and non-commutative
 * operations are right): start from the last and fold the others in. */
static void combine(const coll_sm_op_t *o)
{
    const coll_sm_comm_t *st = o->st;
    mrail_copy(o->rbuf, slot(st, o->seq, st->n - 1), o->count * o->type->size);
    for (int r = st->n - 2; r >= 0; r--) {
        mpi_op_apply(o->op, slot(st, o->seq, r), o->rbuf, o->count, o->th);
    }
}

static bool coll_sm_step(void *arg)
{
    coll_sm_op_t *o = arg;
    coll_sm_comm_t *st = o->st;
    if (!o->joined) {
        /* In order, and never into a slot someone may still read. */
        if (st->finished + 1 != o->seq || (writes(o) && o->seq > 2 && !all_done(st, o->seq - 2))) {
            return false;
        }
        join(o);
    }
    if (reads(o)) {
        if (!ready(o)) {
            return false;
        }
        if (o->kind == SM_BCAST) {
            mpi_type_unpack(o->type, o->count, slot(st, o->seq, o->root), o->count * o->type->size,
                            o->rbuf);
        } else if (o->kind != SM_BARRIER) {
            combine(o);
        }
    }
    publish(st, &st->lines[st->rank].done, o->seq);
    st->finished = o->seq;
    if (o->type != NULL) {
        mpi_type_drop(o->type);
        o->type = NULL;
    }
    return true;
}

/* The communicator's state when the segment is up, else NULL. */
static coll_sm_comm_t *usable(MPI_Comm comm)
{
    coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
    return st->ready ? st : NULL;
}

/* Appends operation kind to s: false when out of memory (s then fails). */
static bool add(mrail_coll_sched_t *s, coll_sm_comm_t *st, coll_sm_op_t init)
{
    coll_sm_count(true);
    coll_sm_op_t *o = mrail_coll_tmp(s, sizeof(*o), MPI_BYTE);
    if (o == NULL) {
        return false;
    }
    *o = init;
    o->st = st;
    o->seq = ++st->built;
    if (o->type != NULL) {
        mpi_type_hold(o->type);
    }
    mrail_coll_call(s, coll_sm_step, o);
    return true;
}

void coll_sm_barrier(mrail_coll_sched_t *s, MPI_Comm comm)
{
    coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
    if (usable(comm) == NULL) {
        coll_sm_count(false);
        st->below.barrier(s, comm);
        return;
    }
    add(s, st, (coll_sm_op_t){.kind = SM_BARRIER});
}

void coll_sm_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count, MPI_Datatype type,
                   int root)
{
    coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
    const mpi_type_t *t = mpi_type(type);
    if (usable(comm) == NULL || count * t->size > st->max) {
        coll_sm_count(false);
        st->below.bcast(s, comm, buf, count, type, root);
        return;
    }
    add(s, st,
        (coll_sm_op_t){
            .kind = SM_BCAST, .root = root, .rbuf = buf, .count = count, .type = t, .th = type});
}

/* A reduction (root < 0: allreduce) through the segment when its bytes
 * fit a slot and its type is one contiguous block (the slot holds the
 * user's layout); false when it does not apply. */
static bool reduction(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                      size_t count, MPI_Datatype type, MPI_Op op, int root)
{
    coll_sm_comm_t *st = usable(comm);
    const mpi_type_t *t = mpi_type(type);
    if (st == NULL || count * t->size > st->max || !mpi_type_contiguous(t)) {
        coll_sm_count(false);
        return false;
    }
    add(s, st,
        (coll_sm_op_t){.kind = root < 0 ? SM_ALLREDUCE : SM_REDUCE,
                       .root = root,
                       .sbuf = sbuf,
                       .rbuf = rbuf,
                       .count = count,
                       .type = t,
                       .th = type,
                       .op = op});
    return true;
}

void coll_sm_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                    size_t count, MPI_Datatype type, MPI_Op op, int root)
{
    if (!reduction(s, comm, sbuf, rbuf, count, type, op, root)) {
        coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
        st->below.reduce(s, comm, sbuf, rbuf, count, type, op, root);
    }
}

void coll_sm_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op)
{
    if (!reduction(s, comm, sbuf, rbuf, count, type, op, -1)) {
        coll_sm_comm_t *st = mrail_obj.comms[comm].coll_state;
        st->below.allreduce(s, comm, sbuf, rbuf, count, type, op);
    }
}
