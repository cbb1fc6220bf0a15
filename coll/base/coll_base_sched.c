/* The collectives' schedule engine; see coll_base.h. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "coll_base.h"

#define COLL_TAG_MASK 0x1fffffff /* collective tags; communicator construction uses the rest */

typedef enum { STEP_SEND, STEP_RECV, STEP_OP, STEP_COPY, STEP_CALL, STEP_ROUND } step_kind_t;

typedef struct step {
    step_kind_t kind;
    const void *src;
    void *dst;
    size_t count, dcount;
    const mpi_type_t *type, *dtype; /* held while the schedule lives */
    MPI_Datatype th, dth;           /* their handles (user ops want them) */
    MPI_Op op;
    int peer;
    unsigned how; /* MRAIL_COLL_LOCAL, MRAIL_COLL_CHANNEL1 */
    mrail_pml_request_t *req;
    void *packed;          /* a non-contiguous transfer's bytes */
    bool (*fn)(void *arg); /* STEP_CALL: true once done */
    void *arg;
    bool pending; /* STEP_CALL: fn has not said done yet */
} step_t;

struct mrail_coll_sched {
    MPI_Comm comm;
    uint32_t ctx;
    int32_t tag;
    step_t *steps;
    size_t n, cap;
    size_t cursor;      /* next step to start */
    size_t round_start; /* first step of the round in flight */
    bool started, failed_alloc;
    int error;
    void **tmps;
    size_t ntmps, tmp_cap;
    bool finished;
    struct mrail_coll_sched *prev_active, *next_active; /* in the active registry */
};

/* The registry of started, unfinished schedules. MPI's progress rule: a
 * collective moves whenever the process is in MPI, not only when its own
 * request is tested; ranks that wait for their collectives in different
 * orders (or wait for a message instead) would otherwise wait for each
 * other for ever. */
static struct {
    mrail_coll_sched_t *head;
    size_t count;
} active;

static void active_link(mrail_coll_sched_t *s)
{
    s->prev_active = NULL;
    s->next_active = active.head;
    if (active.head != NULL) {
        active.head->prev_active = s;
    }
    active.head = s;
    active.count++;
}

static void active_unlink(mrail_coll_sched_t *s)
{
    if (s->prev_active == NULL && active.head != s) {
        return; /* not linked */
    }
    if (s->prev_active != NULL) {
        s->prev_active->next_active = s->next_active;
    } else {
        active.head = s->next_active;
    }
    if (s->next_active != NULL) {
        s->next_active->prev_active = s->prev_active;
    }
    s->prev_active = s->next_active = NULL;
    active.count--;
}

static mrail_coll_sched_t *sched_alloc(MPI_Comm comm, int32_t tag)
{
    mrail_coll_sched_t *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->comm = comm;
        s->ctx = mrail_obj.comms[comm].coll_ctx;
        s->tag = tag;
    }
    return s;
}

mrail_coll_sched_t *mrail_coll_sched_new(MPI_Comm comm)
{
    mpi_comm_t *c = &mrail_obj.comms[comm];
    return sched_alloc(comm, (int32_t)(c->coll_seq++ & COLL_TAG_MASK));
}

mrail_coll_sched_t *mrail_coll_sched_new_tagged(MPI_Comm comm, int tag)
{
    return sched_alloc(comm, (int32_t)(COLL_TAG_MASK + 1 + ((unsigned)tag & COLL_TAG_MASK)));
}

static step_t *push(mrail_coll_sched_t *s, step_kind_t kind)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        step_t *grown = realloc(s->steps, cap * sizeof(*grown));
        if (grown == NULL) {
            s->failed_alloc = true;
            return NULL;
        }
        s->steps = grown;
        s->cap = cap;
    }
    step_t *st = &s->steps[s->n++];
    *st = (step_t){.kind = kind};
    return st;
}

void mrail_coll_sendx(mrail_coll_sched_t *s, const void *buf, size_t count, MPI_Datatype type,
                      int peer, unsigned how)
{
    step_t *st = push(s, STEP_SEND);
    if (st != NULL) {
        st->src = buf, st->count = count, st->th = type, st->peer = peer, st->how = how;
        st->type = mpi_type_hold(mpi_type(type));
    }
}

void mrail_coll_recvx(mrail_coll_sched_t *s, void *buf, size_t count, MPI_Datatype type, int peer,
                      unsigned how)
{
    step_t *st = push(s, STEP_RECV);
    if (st != NULL) {
        st->dst = buf, st->count = count, st->th = type, st->peer = peer, st->how = how;
        st->type = mpi_type_hold(mpi_type(type));
    }
}

void mrail_coll_send(mrail_coll_sched_t *s, const void *buf, size_t count, MPI_Datatype type,
                     int peer)
{
    mrail_coll_sendx(s, buf, count, type, peer, 0);
}

void mrail_coll_recv(mrail_coll_sched_t *s, void *buf, size_t count, MPI_Datatype type, int peer)
{
    mrail_coll_recvx(s, buf, count, type, peer, 0);
}

void mrail_coll_op(mrail_coll_sched_t *s, const void *in, void *inout, size_t count,
                   MPI_Datatype type, MPI_Op op)
{
    step_t *st = push(s, STEP_OP);
    if (st != NULL) {
        st->src = in, st->dst = inout, st->count = count, st->th = type, st->op = op;
        st->type = mpi_type_hold(mpi_type(type));
    }
}

void mrail_coll_copy(mrail_coll_sched_t *s, const void *src, size_t scount, MPI_Datatype stype,
                     void *dst, size_t dcount, MPI_Datatype dtype)
{
    if (src == dst && stype == dtype && scount == dcount) {
        return;
    }
    step_t *st = push(s, STEP_COPY);
    if (st != NULL) {
        st->src = src, st->count = scount, st->th = stype;
        st->dst = dst, st->dcount = dcount, st->dth = dtype;
        st->type = mpi_type_hold(mpi_type(stype));
        st->dtype = mpi_type_hold(mpi_type(dtype));
    }
}

void mrail_coll_call(mrail_coll_sched_t *s, bool (*fn)(void *arg), void *arg)
{
    step_t *st = push(s, STEP_CALL);
    if (st != NULL) {
        st->fn = fn, st->arg = arg;
    }
}

void mrail_coll_round(mrail_coll_sched_t *s)
{
    if (s->n > 0 && s->steps[s->n - 1].kind != STEP_ROUND) {
        push(s, STEP_ROUND);
    }
}

void *mrail_coll_tmp(mrail_coll_sched_t *s, size_t count, MPI_Datatype type)
{
    const mpi_type_t *t = mpi_type(type);
    if (t == NULL) {
        s->failed_alloc = true;
        return NULL;
    }
    /* One element's worth more than the data spans: a pair type's
     * reduction reads its C struct, padding included. */
    size_t bytes = (size_t)((MPI_Aint)count * (t->extent > 0 ? t->extent : 0) + t->true_extent +
                            (t->extent > t->true_extent ? t->extent : 0));
    if (s->ntmps == s->tmp_cap) {
        size_t cap = s->tmp_cap ? 2 * s->tmp_cap : 4;
        void **grown = realloc(s->tmps, cap * sizeof(*grown));
        if (grown == NULL) {
            s->failed_alloc = true;
            return NULL;
        }
        s->tmps = grown;
        s->tmp_cap = cap;
    }
    char *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        s->failed_alloc = true;
        return NULL;
    }
    s->tmps[s->ntmps++] = p;
    return p - t->true_lb; /* element 0's data starts at the allocation */
}

static uint32_t world_of(const mrail_coll_sched_t *s, const step_t *st)
{
    const mpi_comm_t *c = &mrail_obj.comms[s->comm];
    return c->inter && !(st->how & MRAIL_COLL_LOCAL) ? c->remote_world[st->peer]
                                                     : c->world[st->peer];
}

/* A channel is a second tag of the schedule: tags proper stay below bit 30. */
static int32_t tag_of(const mrail_coll_sched_t *s, const step_t *st)
{
    return st->how & MRAIL_COLL_CHANNEL1 ? (int32_t)((uint32_t)s->tag | (1u << 30)) : s->tag;
}

static void copy_step(step_t *st)
{
    const mpi_type_t *a = st->type, *b = st->dtype;
    size_t sbytes = st->count * a->size, dbytes = st->dcount * b->size;
    size_t bytes = sbytes < dbytes ? sbytes : dbytes;
    if (mpi_type_contiguous(a) && mpi_type_contiguous(b)) {
        memmove(st->dst, st->src, bytes);
        return;
    }
    void *tmp = malloc(sbytes ? sbytes : 1);
    if (tmp == NULL) {
        return;
    }
    mpi_type_pack(a, st->count, st->src, tmp);
    mpi_type_unpack(b, st->dcount, tmp, bytes, st->dst);
    free(tmp);
}

static int post(mrail_coll_sched_t *s, step_t *st)
{
    size_t bytes = st->count * st->type->size;
    bool contig = mpi_type_contiguous(st->type);
    int rc;
    if (st->kind == STEP_SEND) {
        const void *data = st->src;
        if (!contig && bytes > 0) {
            if ((st->packed = malloc(bytes)) == NULL) {
                return MPI_ERR_NO_MEM;
            }
            mpi_type_pack(st->type, st->count, st->src, st->packed);
            data = st->packed;
        } else {
            /* A small send leaves at once, with no request to test. */
            rc =
                mrail_pml_sendi(mrail_obj.pml, data, bytes, world_of(s, st), tag_of(s, st), s->ctx);
            if (rc != MRAIL_ERR_AGAIN) {
                return rc == MRAIL_SUCCESS ? MPI_SUCCESS : MPI_ERR_INTERN;
            }
        }
        rc = mrail_pml_isend(mrail_obj.pml, data, bytes, world_of(s, st), tag_of(s, st), s->ctx,
                             false, &st->req);
    } else {
        void *data = st->dst;
        if (!contig && bytes > 0) {
            if ((st->packed = malloc(bytes)) == NULL) {
                return MPI_ERR_NO_MEM;
            }
            data = st->packed;
        }
        rc = mrail_pml_irecv(mrail_obj.pml, data, bytes, (int32_t)world_of(s, st), tag_of(s, st),
                             s->ctx, &st->req);
    }
    return rc == MRAIL_SUCCESS ? MPI_SUCCESS : MPI_ERR_INTERN;
}

/* Finishes a transfer that completed. */
static void retire(mrail_coll_sched_t *s, step_t *st, const mrail_pml_status_t *ps)
{
    if (ps->error == MRAIL_ERR_TRUNCATE) {
        s->error = MPI_ERR_TRUNCATE;
    } else if (ps->error != MRAIL_SUCCESS) {
        s->error = MPI_ERR_OTHER;
    }
    if (st->kind == STEP_RECV && st->packed != NULL) {
        mpi_type_unpack(st->type, st->count, st->packed, ps->count, st->dst);
    }
    free(st->packed);
    st->packed = NULL;
    mrail_pml_request_free(mrail_obj.pml, st->req);
    st->req = NULL;
}

/* Moves s as far as its finished transfers allow; true once it is done. */
static bool advance(mrail_coll_sched_t *s)
{
    for (;;) {
        bool waiting = false;
        for (size_t i = s->round_start; i < s->cursor; i++) {
            step_t *st = &s->steps[i];
            mrail_pml_status_t ps;
            if (st->pending) {
                st->pending = !st->fn(st->arg);
                waiting = waiting || st->pending;
            } else if (st->req != NULL) {
                if (mrail_pml_test(mrail_obj.pml, st->req, &ps)) {
                    retire(s, st, &ps);
                } else {
                    waiting = true;
                }
            }
        }
        if (waiting) {
            return false;
        }
        if (s->cursor == s->n) {
            return true;
        }
        s->round_start = s->cursor;
        while (s->cursor < s->n && s->steps[s->cursor].kind != STEP_ROUND) {
            step_t *st = &s->steps[s->cursor++];
            switch (st->kind) {
            case STEP_SEND:
            case STEP_RECV:
                if (post(s, st) != MPI_SUCCESS) {
                    s->error = MPI_ERR_INTERN;
                }
                break;
            case STEP_OP: mpi_op_apply(st->op, st->src, st->dst, st->count, st->th); break;
            case STEP_COPY: copy_step(st); break;
            case STEP_CALL: st->pending = !st->fn(st->arg); break;
            case STEP_ROUND: break;
            }
        }
        if (s->cursor < s->n) {
            s->cursor++; /* the round marker */
        }
    }
}

size_t mrail_coll_progress_all(void)
{
    for (mrail_coll_sched_t *s = active.head, *next; s != NULL; s = next) {
        next = s->next_active;
        if (advance(s)) {
            s->finished = true;
            active_unlink(s);
        }
    }
    return active.count;
}

size_t mrail_coll_active(void)
{
    return active.count;
}

int mrail_coll_start(mrail_coll_sched_t *s)
{
    s->started = true;
    if (s->failed_alloc) {
        s->error = MPI_ERR_NO_MEM;
        return s->error;
    }
    active_link(s);
    mrail_coll_test(s);
    return s->error == MPI_ERR_NO_MEM || s->error == MPI_ERR_INTERN ? s->error : MPI_SUCCESS;
}

bool mrail_coll_test(mrail_coll_sched_t *s)
{
    if (s->failed_alloc) {
        return true;
    }
    mrail_pml_progress(mrail_obj.pml);
    mrail_coll_progress_all(); /* s, and every other collective in flight */
    return s->finished;
}

bool mrail_coll_ready(void *sched)
{
    mrail_coll_sched_t *s = sched;
    if (s->failed_alloc) {
        return true;
    }
    int events = mrail_pml_progress(mrail_obj.pml);
    mrail_coll_progress_all();
    return events != 0 || s->finished;
}

int mrail_coll_run(mrail_coll_sched_t *s)
{
    int rc = mrail_coll_start(s);
    unsigned idle = 0;
    while (rc == MPI_SUCCESS && !mrail_coll_test(s)) {
        mrail_pml_idle(mrail_obj.pml, &idle, mrail_coll_ready, s); /* let the peers run */
    }
    rc = rc != MPI_SUCCESS ? rc : s->error;
    mrail_coll_free(s);
    return rc;
}

int mrail_coll_error(const mrail_coll_sched_t *s)
{
    return s->error;
}

void mrail_coll_free(mrail_coll_sched_t *s)
{
    if (s == NULL) {
        return;
    }
    active_unlink(s);
    for (size_t i = 0; i < s->n; i++) {
        step_t *st = &s->steps[i];
        while (st->pending) { /* a step of a component's own: the same */
            mrail_pml_progress(mrail_obj.pml);
            st->pending = !st->fn(st->arg);
        }
        if (st->req != NULL) { /* freed before it finished: finish it first */
            mrail_pml_wait(mrail_obj.pml, st->req, NULL);
            mrail_pml_request_free(mrail_obj.pml, st->req);
        }
        free(st->packed);
        mpi_type_drop(st->type);
        mpi_type_drop(st->dtype);
    }
    for (size_t i = 0; i < s->ntmps; i++) {
        free(s->tmps[i]);
    }
    free(s->tmps);
    free(s->steps);
    free(s);
}
