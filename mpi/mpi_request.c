/* MPI requests over PML requests: the wait and test families, persistent
 * requests, cancel, and what completes in the background (freed requests,
 * buffered sends). */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"
#include "mpi_win.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Wait);
MRAIL_MPI_ALIAS(MPI_Test);
MRAIL_MPI_ALIAS(MPI_Waitall);
MRAIL_MPI_ALIAS(MPI_Testall);
MRAIL_MPI_ALIAS(MPI_Testany);
MRAIL_MPI_ALIAS(MPI_Waitany);
MRAIL_MPI_ALIAS(MPI_Testsome);
MRAIL_MPI_ALIAS(MPI_Waitsome);
MRAIL_MPI_ALIAS(MPI_Request_get_status);
MRAIL_MPI_ALIAS(MPI_Request_free);
MRAIL_MPI_ALIAS(MPI_Cancel);
MRAIL_MPI_ALIAS(MPI_Test_cancelled);
MRAIL_MPI_ALIAS(MPI_Start);
MRAIL_MPI_ALIAS(MPI_Startall);

int mpi_req_grow(void)
{
    int old = mrail_mpi.nreqs, n = old ? 2 * old : 64;
    mpi_req_t *grown = realloc(mrail_mpi.reqs, (size_t)n * sizeof(*grown));
    int *stack = grown ? realloc(mrail_mpi.free_slots, (size_t)n * sizeof(int)) : NULL;
    if (stack == NULL) {
        if (grown != NULL) {
            mrail_mpi.reqs = grown;
        }
        return MPI_ERR_NO_MEM;
    }
    memset(grown + old, 0, (size_t)(n - old) * sizeof(*grown));
    mrail_mpi.reqs = grown;
    mrail_mpi.free_slots = stack;
    mrail_mpi.nreqs = n;
    for (int h = n; h > old; h--) { /* lowest handles come out first */
        stack[mrail_mpi.nfree++] = h;
    }
    return MPI_SUCCESS;
}

int mpi_req_sent_init(void)
{
    mpi_req_t *req;
    MPI_Request handle;
    if (mpi_req_new(&req, &handle) != MPI_SUCCESS) {
        return MPI_ERR_NO_MEM;
    }
    if (handle != MPI_REQ_SENT) { /* the table was not empty: a bug of MPI_Init's order */
        mpi_req_drop(req);
        return MPI_ERR_INTERN;
    }
    /* Done, with no pml request; MPI_PROC_NULL as its peer gives
     * MPI_Request_get_status an empty status. */
    req->kind = MPI_REQ_SEND;
    req->active = true;
    req->peer = MPI_PROC_NULL;
    req->comm = MPI_COMM_WORLD;
    return MPI_SUCCESS;
}

/* Blocks of at least this many bytes go to the PML as they lie in memory
 * (the btls send from them and arrivals land in them: no pack copy); a
 * type with smaller ones is packed, which costs less than a long list. */
#define MPI_MIN_PIECE 1024

static bool pieces_worth_it(const mpi_type_t *t)
{
    for (size_t b = 0; b < t->nblocks; b++) {
        if (t->blocks[b].len < MPI_MIN_PIECE) {
            return false;
        }
    }
    return t->nblocks > 0;
}

static int start_pieces(mpi_req_t *req, const mpi_comm_t *c, const mpi_type_t *t, const char *fn)
{
    size_t n = (size_t)req->count * t->nblocks;
    struct iovec *iov = malloc(n * sizeof(*iov));
    if (iov == NULL) {
        req->active = false;
        return mpi_error(req->comm, MPI_ERR_NO_MEM, fn, "no memory for %zu pieces", n);
    }
    for (size_t i = 0, k = 0; i < (size_t)req->count; i++) {
        char *base = (char *)req->buf + (MPI_Aint)i * t->extent;
        for (size_t b = 0; b < t->nblocks; b++) {
            iov[k++] = (struct iovec){base + t->blocks[b].disp, t->blocks[b].len};
        }
    }
    req->packed = iov; /* freed with the request, like a packing buffer */
    req->held_type = mpi_type_hold(t);
    req->pieces = true;
    int rc;
    if (req->kind == MPI_REQ_SEND) {
        rc = mrail_pml_isendv(mrail_obj.pml, iov, (int)n, mpi_peer_world(c, req->peer), req->tag,
                              c->ctx, req->synchronous, &req->pml);
    } else {
        int32_t src = req->peer == MPI_ANY_SOURCE ? MRAIL_PML_ANY_SOURCE
                                                  : (int32_t)mpi_peer_world(c, req->peer);
        int32_t tag = req->tag == MPI_ANY_TAG ? MRAIL_PML_ANY_TAG : req->tag;
        rc = req->pml_msg != NULL
                 ? mrail_pml_imrecv(mrail_obj.pml, NULL, 0, iov, (int)n, req->pml_msg, &req->pml)
                 : mrail_pml_irecvv(mrail_obj.pml, iov, (int)n, src, tag, c->ctx, &req->pml);
        req->pml_msg = NULL;
    }
    if (rc != MRAIL_SUCCESS) {
        req->active = false;
        return mpi_error(req->comm,
                         rc == MRAIL_ERR_OUT_OF_RESOURCE ? MPI_ERR_NO_MEM : MPI_ERR_INTERN, fn,
                         "the PML refused the operation (%s)", mrail_strerror(rc));
    }
    return MPI_SUCCESS;
}

int mpi_req_start(mpi_req_t *req, const char *fn)
{
    mpi_comm_t *c = &mrail_obj.comms[req->comm];
    req->active = true;
    req->pml = NULL;
    if (req->peer == MPI_PROC_NULL) {
        return MPI_SUCCESS; /* completes at once, with an empty status */
    }
    const mpi_type_t *t = req->kept_type != NULL ? req->kept_type : mpi_type(req->type);
    size_t bytes = (size_t)req->count * t->size;
    bool contiguous = mpi_type_contiguous(t) || bytes == 0 || req->bsend_copy != NULL;
    if (!contiguous && pieces_worth_it(t)) {
        return start_pieces(req, c, t, fn);
    }
    /* Other non-contiguous types travel packed (a buffered send is packed already). */
    bool pack = !contiguous;
    if (pack) {
        req->packed = malloc(bytes);
        if (req->packed == NULL) {
            req->active = false;
            return mpi_error(req->comm, MPI_ERR_NO_MEM, fn, "no memory to pack %zu bytes", bytes);
        }
        req->held_type = mpi_type_hold(t);
        if (req->kind == MPI_REQ_SEND) {
            mpi_type_pack(t, (size_t)req->count, req->buf, req->packed);
        }
    }
    const void *data = req->bsend_copy ? req->bsend_copy : pack ? req->packed : req->buf;
    return mpi_req_start_contig(req, (void *)(uintptr_t)data, bytes, fn);
}

int mpi_req_start_contig(mpi_req_t *req, void *data, size_t bytes, const char *fn)
{
    const mpi_comm_t *c = &mrail_obj.comms[req->comm];
    int rc;
    if (req->kind == MPI_REQ_SEND && data == req->buf && !req->synchronous &&
        mrail_pml_sendi(mrail_obj.pml, data, bytes, mpi_peer_world(c, req->peer), req->tag,
                        c->ctx) == MRAIL_SUCCESS) {
        return MPI_SUCCESS; /* sent already: the request completes at its wait or test */
    }
    if (req->kind == MPI_REQ_SEND) {
        rc = mrail_pml_isend(mrail_obj.pml, data, bytes, mpi_peer_world(c, req->peer), req->tag,
                             c->ctx, req->synchronous, &req->pml);
    } else {
        int32_t src = req->peer == MPI_ANY_SOURCE ? MRAIL_PML_ANY_SOURCE
                                                  : (int32_t)mpi_peer_world(c, req->peer);
        int32_t tag = req->tag == MPI_ANY_TAG ? MRAIL_PML_ANY_TAG : req->tag;
        rc = req->pml_msg != NULL
                 ? mrail_pml_imrecv(mrail_obj.pml, data, bytes, NULL, 0, req->pml_msg, &req->pml)
                 : mrail_pml_irecv(mrail_obj.pml, data, bytes, src, tag, c->ctx, &req->pml);
        req->pml_msg = NULL;
    }
    if (rc != MRAIL_SUCCESS) {
        req->active = false;
        return mpi_error(req->comm,
                         rc == MRAIL_ERR_OUT_OF_RESOURCE ? MPI_ERR_NO_MEM : MPI_ERR_INTERN, fn,
                         "the PML refused the operation (%s)", mrail_strerror(rc));
    }
    return MPI_SUCCESS;
}

void mpi_status_empty(MPI_Status *out)
{
    if (out != MPI_STATUS_IGNORE) {
        *out = (MPI_Status){
            .MPI_SOURCE = MPI_ANY_SOURCE, .MPI_TAG = MPI_ANY_TAG, .MPI_ERROR = MPI_SUCCESS};
    }
}

void mpi_status_from_pml(MPI_Comm comm, const mrail_pml_status_t *in, MPI_Status *out)
{
    if (out == MPI_STATUS_IGNORE) {
        return;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int source = MPI_ANY_SOURCE;
    /* Most communicators keep the job's order (MPI_COMM_WORLD, dups): the
     * job rank is the rank, and no search is needed. */
    if (in->source >= 0 && in->source < mpi_peer_size(c) &&
        mpi_peer_world(c, in->source) == (uint32_t)in->source) {
        source = in->source;
    }
    for (int r = 0; source == MPI_ANY_SOURCE && r < mpi_peer_size(c); r++) {
        if (mpi_peer_world(c, r) == (uint32_t)in->source) {
            source = r;
            break;
        }
    }
    *out = (MPI_Status){.MPI_SOURCE = source,
                        .MPI_TAG = in->tag,
                        .MPI_ERROR = in->error == MRAIL_ERR_TRUNCATE ? MPI_ERR_TRUNCATE
                                     : in->error                     ? MPI_ERR_OTHER
                                                                     : MPI_SUCCESS,
                        .mrail_cancelled = in->cancelled,
                        .mrail_count = in->count};
}

/* A packed receive lands in the user's buffer; the packing goes. */
static inline void unpack(mpi_req_t *req, size_t bytes)
{
    if (req->packed != NULL) {
        if (req->kind == MPI_REQ_RECV && !req->pieces) {
            mpi_type_unpack(req->held_type, (size_t)req->count, req->packed, bytes, req->buf);
        }
        free(req->packed);
        mpi_type_drop(req->held_type);
        req->packed = NULL;
        req->held_type = NULL;
        req->pieces = false;
    }
}

/* Has req's operation finished (without completing the request)? */
static bool req_done(mpi_req_t *req)
{
    if (req->kind == MPI_REQ_COLL) {
        return req->coll == NULL || mrail_coll_test(req->coll);
    }
    if (req->kind == MPI_REQ_GREQ) {
        return mpi_greq_done(req);
    }
    if (req->kind == MPI_REQ_RMA) {
        return req->rma == NULL || mpi_osc_req_test(req->rma_win, req->rma);
    }
    return req->pml == NULL || mrail_pml_test(mrail_obj.pml, req->pml, NULL);
}

static void release(mpi_req_t *req)
{
    if (req->idup != NULL) { /* freed before it completed: the copy is still made */
        mpi_idup_done(req->idup);
        req->idup = NULL;
    }
    if (req->coll != NULL) {
        mrail_coll_free(req->coll);
        req->coll = NULL;
    }
    if (req->greq != NULL) {
        mpi_greq_release(req);
    }
    if (req->rma != NULL) {
        mpi_osc_req_free(req->rma_win, req->rma);
        req->rma = NULL;
    }
    unpack(req, 0);
    if (req->kept_type != NULL) { /* persistent requests only: no call for the others */
        mpi_type_drop(req->kept_type);
        req->kept_type = NULL;
    }
    if (req->bsend_copy != NULL) {
        free(req->bsend_copy);
        mrail_mpi.bsend_used -= req->bsend_bytes;
        mrail_mpi.bsend_pending--;
    }
    mpi_req_drop(req);
}

/* The status of a request with no pml operation: MPI_PROC_NULL's, or
 * that of a send the pml's sendi completed at its start. */
static void done_status(const mpi_req_t *req, MPI_Status *out)
{
    if (req->peer == MPI_PROC_NULL || req->kind != MPI_REQ_SEND) {
        *out = (MPI_Status){.MPI_SOURCE = MPI_PROC_NULL, .MPI_TAG = MPI_ANY_TAG};
        return;
    }
    const mpi_comm_t *c = &mrail_obj.comms[req->comm];
    mrail_pml_status_t ps = {.source = (int32_t)c->world[c->rank],
                             .tag = req->tag,
                             .count =
                                 (size_t)req->count * (req->kept_type ? req->kept_type->size
                                                                      : mpi_type_size(req->type))};
    mpi_status_from_pml(req->comm, &ps, out);
}

/* How a finished request ended, for the error handler of its communicator. */
typedef struct mpi_outcome {
    int err; /* MPI error class */
    MPI_Comm comm;
    int cause; /* the PML's status */
} mpi_outcome_t;

/* A pml request's wait while collectives are in flight (mrail_pml_idle). */
static bool pml_and_coll_ready(void *pml_req)
{
    int events = mrail_pml_progress(mrail_obj.pml);
    mrail_coll_progress_all();
    return events != 0 || mrail_pml_done(mrail_obj.pml, pml_req);
}

/* The pml operation of req (a send or a receive) is done, or waited for
 * if block: its status into st, the pml request freed. False if not done. */
static inline __attribute__((always_inline)) bool
finish_pml(mpi_req_t *req, MPI_Status *status, bool block, MPI_Status *st, mpi_outcome_t *out)
{
    mrail_pml_status_t ps;
    if (!block || mrail_coll_active() == 0) {
        if (!block) {
            mrail_coll_progress_all();
        }
        if (!mrail_pml_finish(mrail_obj.pml, req->pml, block, &ps)) {
            return false;
        }
    } else { /* collectives in flight move while we wait (MPI's progress rule) */
        unsigned idle = 0;
        while (!mrail_pml_test(mrail_obj.pml, req->pml, &ps)) {
            mrail_coll_progress_all();
            mrail_pml_idle(mrail_obj.pml, &idle, pml_and_coll_ready, req->pml);
        }
        mrail_pml_request_free(mrail_obj.pml, req->pml);
    }
    req->pml = NULL;
    if (status == MPI_STATUS_IGNORE && ps.error == MRAIL_SUCCESS) {
        st->MPI_ERROR = MPI_SUCCESS; /* nothing else is read */
    } else {
        mpi_status_from_pml(req->comm, &ps, st);
    }
    out->cause = ps.error;
    unpack(req, ps.count);
    return true;
}

/* finish of a request with no pml operation: a collective, generalized
 * or one-sided request, MPI_PROC_NULL's, or a send sendi completed. */
static __attribute__((noinline)) bool finish_other(mpi_req_t *req, MPI_Status *status, bool block,
                                                   MPI_Status *st)
{
    if (req->kind == MPI_REQ_COLL) {
        unsigned idle = 0;
        while (!mrail_coll_test(req->coll)) {
            if (!block) {
                return false;
            }
            /* let the peers run */
            mrail_pml_idle(mrail_obj.pml, &idle, mrail_coll_ready, req->coll);
        }
        mpi_status_empty(st);
        st->MPI_ERROR = mrail_coll_error(req->coll);
        if (req->idup != NULL) {
            st->MPI_ERROR = mpi_idup_done(req->idup);
            req->idup = NULL;
        }
        mrail_coll_free(req->coll);
        req->coll = NULL;
    } else if (req->kind == MPI_REQ_GREQ) {
        unsigned idle = 0;
        while (!mpi_greq_done(req)) { /* the program completes it: from another thread, or
                                         from a callback of something MPI progresses */
            if (!block) {
                return false;
            }
            mpi_reap_background();
            if (++idle >= mrail_pml_spin_limit(mrail_obj.pml)) {
                sched_yield();
                idle = 0;
            }
        }
        mpi_greq_finish(req, st);
    } else if (req->kind == MPI_REQ_RMA) {
        unsigned idle = 0;
        while (req->rma != NULL && !mpi_osc_req_test(req->rma_win, req->rma)) {
            if (!block) {
                return false;
            }
            mrail_coll_progress_all();
            if (++idle >= mrail_pml_spin_limit(mrail_obj.pml)) {
                sched_yield();
                idle = 0;
            }
        }
        mpi_status_empty(st);
        if (req->rma != NULL) {
            mpi_osc_req_free(req->rma_win, req->rma);
            req->rma = NULL;
        }
    } else if (status != MPI_STATUS_IGNORE) {
        done_status(req, st);
    } else {
        st->MPI_ERROR = MPI_SUCCESS; /* nothing else is read */
    }
    return true;
}

/* Finishes req if its operation is done (waiting for it if block); fills
 * status; returns whether it finished, and how in out. Inlined into each
 * wait and test: a message-rate window calls it once per message. */
static inline __attribute__((always_inline)) bool finish(MPI_Request *handle, MPI_Status *status,
                                                         bool block, mpi_outcome_t *out)
{
    *out = (mpi_outcome_t){MPI_SUCCESS, MPI_COMM_WORLD, MRAIL_SUCCESS};
    if (*handle == MPI_REQ_SENT) { /* shared: it stays active for the next */
        mpi_status_empty(status);
        *handle = MPI_REQUEST_NULL;
        return true;
    }
    mpi_req_t *req = mpi_req_get(*handle);
    if (req == NULL || !req->active) {
        mpi_status_empty(status);
        return true;
    }
    MPI_Status st;
    bool pml = req->pml != NULL; /* first: sends and receives are most requests */
    if (!(pml ? finish_pml(req, status, block, &st, out) : finish_other(req, status, block, &st))) {
        return false;
    }
    out->err = st.MPI_ERROR;
    out->comm = req->comm;
    if (status != MPI_STATUS_IGNORE) {
        *status = st;
    }
    req->active = false;
    if (!req->persistent) {
        /* A send or receive whose packing finish_pml freed holds nothing
         * else, unless it is a buffered send's. */
        if (pml && req->bsend_copy == NULL) {
            mpi_req_drop_sendrecv(req);
        } else {
            release(req);
        }
        *handle = MPI_REQUEST_NULL;
    }
    return true;
}

int mpi_report_outcome(MPI_Comm comm, int err, int cause, const char *fn)
{
    if (err == MPI_SUCCESS) {
        return MPI_SUCCESS;
    }
    if (err == MPI_ERR_TRUNCATE) {
        return mpi_error(comm, err, fn,
                         "a message was longer than its receive buffer (the buffer holds its "
                         "first part)");
    }
    return mpi_error(comm, err, fn, "the operation failed: %s", mrail_strerror(cause));
}

/* A failed request's error goes to its communicator's handler. */
static int report(const mpi_outcome_t *o, const char *fn)
{
    return mpi_report_outcome(o->comm, o->err, o->cause, fn);
}

void mpi_reap_background(void)
{
    mrail_pml_progress(mrail_obj.pml);
    if (mrail_coll_active() > 0) {
        mrail_coll_progress_all();
    }
    for (int i = 0; i < mrail_mpi.nreqs; i++) {
        mpi_req_t *req = &mrail_mpi.reqs[i];
        if (req->kind != MPI_REQ_UNUSED && req->detached && req_done(req)) {
            mrail_pml_request_free(mrail_obj.pml, req->pml);
            req->pml = NULL;
            release(req);
        }
    }
}

/* MPI_REQUEST_NULL or a live request; index >= 0 names its place in an array. */
static int check_handle(MPI_Request h, int index, const char *fn)
{
    if (h == MPI_REQUEST_NULL || mpi_req_get(h) != NULL) {
        return MPI_SUCCESS;
    }
    if (index >= 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn,
                         "invalid request handle %d at index %d (not a request of this process "
                         "nor MPI_REQUEST_NULL)",
                         h, index);
    }
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn,
                     "invalid request handle %d (not a request of this process nor "
                     "MPI_REQUEST_NULL)",
                     h);
}

/* The checks of every call that takes one request by address. */
static int check_one(MPI_Request *request, const char *fn)
{
    int rc = mpi_check_init(fn);
    if (rc == MPI_SUCCESS && request == NULL) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn, "NULL request pointer");
    }
    return rc ? rc : check_handle(*request, -1, fn);
}

/* And of every call that takes an array of them. */
static int check_array(int count, const MPI_Request reqs[], const char *fn)
{
    int rc = mpi_check_init(fn);
    if (rc == MPI_SUCCESS && count < 0) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", count);
    }
    if (rc == MPI_SUCCESS && count > 0 && reqs == NULL) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn, "NULL array of %d requests", count);
    }
    for (int i = 0; rc == MPI_SUCCESS && i < count; i++) {
        rc = check_handle(reqs[i], i, fn);
    }
    return rc;
}

int PMPI_Wait(MPI_Request *request, MPI_Status *status)
{
    int rc = check_one(request, "MPI_Wait");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_outcome_t o;
    finish(request, status, true, &o);
    return report(&o, "MPI_Wait");
}

int PMPI_Test(MPI_Request *request, int *flag, MPI_Status *status)
{
    int rc = check_one(request, "MPI_Test");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_outcome_t o;
    *flag = finish(request, status, false, &o);
    return report(&o, "MPI_Test");
}

/* Waitall on requests already checked (fn names the call). */
static int waitall(int count, MPI_Request reqs[], MPI_Status statuses[], const char *fn)
{
    mpi_outcome_t first = {MPI_SUCCESS, MPI_COMM_WORLD, MRAIL_SUCCESS};
    for (int i = 0; i < count; i++) {
        mpi_outcome_t o;
        finish(&reqs[i], statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &statuses[i], true,
               &o);
        first = first.err == MPI_SUCCESS ? o : first;
    }
    if (first.err != MPI_SUCCESS) {
        return mpi_error(first.comm, MPI_ERR_IN_STATUS, fn,
                         "at least one request failed (the first: %s); see each status's "
                         "MPI_ERROR",
                         mrail_strerror(first.cause));
    }
    return MPI_SUCCESS;
}

int PMPI_Waitall(int count, MPI_Request reqs[], MPI_Status statuses[])
{
    int rc = check_array(count, reqs, "MPI_Waitall");
    return rc ? rc : waitall(count, reqs, statuses, "MPI_Waitall");
}

int PMPI_Testall(int count, MPI_Request reqs[], int *flag, MPI_Status statuses[])
{
    int rc = check_array(count, reqs, "MPI_Testall");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_pml_progress(mrail_obj.pml);
    /* All or nothing: complete none unless every one is done. */
    for (int i = 0; i < count; i++) {
        mpi_req_t *req = mpi_req_get(reqs[i]);
        if (req != NULL && req->active && !req_done(req)) {
            *flag = 0;
            return MPI_SUCCESS;
        }
    }
    *flag = 1;
    return waitall(count, reqs, statuses, "MPI_Testall");
}

/* Index of a finished request among reqs, or -1; MPI_UNDEFINED via *all_null
 * when none is active. */
static int find_done(int count, MPI_Request reqs[], bool *all_null)
{
    *all_null = true;
    for (int i = 0; i < count; i++) {
        mpi_req_t *req = mpi_req_get(reqs[i]);
        if (req == NULL || !req->active) {
            continue;
        }
        *all_null = false;
        if (req_done(req)) {
            return i;
        }
    }
    return -1;
}

/* Testany on requests already checked: Waitany checks once, not per spin. */
static int testany(int count, MPI_Request reqs[], int *index, int *flag, MPI_Status *status,
                   const char *fn)
{
    mrail_pml_progress(mrail_obj.pml);
    bool all_null;
    int i = find_done(count, reqs, &all_null);
    if (all_null) {
        *index = MPI_UNDEFINED;
        *flag = 1;
        mpi_status_empty(status);
        return MPI_SUCCESS;
    }
    *flag = i >= 0;
    *index = i >= 0 ? i : MPI_UNDEFINED;
    if (i < 0) {
        return MPI_SUCCESS;
    }
    mpi_outcome_t o;
    finish(&reqs[i], status, true, &o);
    return report(&o, fn);
}

int PMPI_Testany(int count, MPI_Request reqs[], int *index, int *flag, MPI_Status *status)
{
    int rc = check_array(count, reqs, "MPI_Testany");
    return rc ? rc : testany(count, reqs, index, flag, status, "MPI_Testany");
}

int PMPI_Waitany(int count, MPI_Request reqs[], int *index, MPI_Status *status)
{
    int flag = 0, rc = check_array(count, reqs, "MPI_Waitany");
    while (rc == MPI_SUCCESS && !flag) {
        rc = testany(count, reqs, index, &flag, status, "MPI_Waitany");
    }
    return rc;
}

/* Testsome on requests already checked. */
static int testsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
                    MPI_Status statuses[], const char *fn)
{
    int any_err = 0;
    mrail_pml_progress(mrail_obj.pml);
    bool active = false;
    *outcount = 0;
    for (int i = 0; i < incount; i++) {
        mpi_req_t *req = mpi_req_get(reqs[i]);
        if (req == NULL || !req->active) {
            continue;
        }
        active = true;
        if (req_done(req)) {
            mpi_outcome_t o;
            MPI_Status *st =
                statuses == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &statuses[*outcount];
            finish(&reqs[i], st, true, &o);
            any_err = any_err || o.err != MPI_SUCCESS;
            indices[(*outcount)++] = i;
        }
    }
    if (!active) {
        *outcount = MPI_UNDEFINED;
    }
    if (any_err) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_IN_STATUS, fn,
                         "at least one request failed; see each status's MPI_ERROR");
    }
    return MPI_SUCCESS;
}

int PMPI_Testsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
                  MPI_Status statuses[])
{
    int rc = check_array(incount, reqs, "MPI_Testsome");
    return rc ? rc : testsome(incount, reqs, outcount, indices, statuses, "MPI_Testsome");
}

int PMPI_Waitsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
                  MPI_Status statuses[])
{
    int rc = check_array(incount, reqs, "MPI_Waitsome");
    do {
        rc = rc ? rc : testsome(incount, reqs, outcount, indices, statuses, "MPI_Waitsome");
    } while (rc == MPI_SUCCESS && *outcount == 0);
    return rc;
}

int PMPI_Request_get_status(MPI_Request request, int *flag, MPI_Status *status)
{
    int rc = mpi_check_init("MPI_Request_get_status");
    rc = rc ? rc : check_handle(request, -1, "MPI_Request_get_status");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_req_t *req = mpi_req_get(request);
    if (req == NULL || !req->active) {
        *flag = 1;
        mpi_status_empty(status);
        return MPI_SUCCESS;
    }
    if (req->kind == MPI_REQ_COLL || req->kind == MPI_REQ_RMA) {
        *flag = req_done(req);
        mpi_status_empty(status);
        return MPI_SUCCESS;
    }
    if (req->kind == MPI_REQ_GREQ) {
        MPI_Status st;
        *flag = mpi_greq_done(req);
        if (*flag && status != MPI_STATUS_IGNORE) {
            mpi_greq_query(req, &st);
            *status = st;
        }
        return MPI_SUCCESS;
    }
    if (req->pml == NULL) {
        *flag = 1;
        if (status != MPI_STATUS_IGNORE) {
            done_status(req, status);
        }
        return MPI_SUCCESS;
    }
    mrail_pml_status_t ps;
    *flag = mrail_pml_test(mrail_obj.pml, req->pml, &ps);
    if (*flag) {
        mpi_status_from_pml(req->comm, &ps, status);
    }
    return MPI_SUCCESS;
}

int PMPI_Request_free(MPI_Request *request)
{
    int rc = check_one(request, "MPI_Request_free");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_req_t *req = mpi_req_get(*request);
    if (req == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Request_free",
                         "invalid request handle %d", *request);
    }
    if (*request == MPI_REQ_SENT) {
        /* shared by every send done at its start: nothing to free */
    } else if (req->active) {
        req->detached = true; /* finishes on its own; reaped by later calls */
        req->persistent = false;
    } else {
        release(req);
    }
    *request = MPI_REQUEST_NULL;
    return MPI_SUCCESS;
}

int PMPI_Cancel(MPI_Request *request)
{
    int rc = check_one(request, "MPI_Cancel");
    mpi_req_t *req = rc == MPI_SUCCESS ? mpi_req_get(*request) : NULL;
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (req == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Cancel", "invalid request handle %d",
                         *request);
    }
    /* Receives that have not matched are cancelled; sends are not (MPI
     * lets a cancel fail; MPI_Test_cancelled then says false). */
    if (req->active && req->kind == MPI_REQ_RECV && req->pml != NULL) {
        mrail_pml_cancel(mrail_obj.pml, req->pml);
    } else if (req->active && req->kind == MPI_REQ_GREQ) {
        mpi_greq_cancel(req);
    }
    return MPI_SUCCESS;
}

int PMPI_Test_cancelled(const MPI_Status *status, int *flag)
{
    *flag = status->mrail_cancelled;
    return MPI_SUCCESS;
}

int PMPI_Start(MPI_Request *request)
{
    int rc = check_one(request, "MPI_Start");
    mpi_req_t *req = rc == MPI_SUCCESS ? mpi_req_get(*request) : NULL;
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (req == NULL || !req->persistent) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Start",
                         "request %d is not a persistent request", *request);
    }
    if (req->active) {
        return mpi_error(req->comm, MPI_ERR_REQUEST, "MPI_Start",
                         "request %d is already active; wait for it first", *request);
    }
    if (req->buffered) { /* the copy is out at once: the request is done */
        rc = mpi_bsend(req->buf, req->count, req->type, req->kept_type, req->peer, req->tag,
                       req->comm, true, "MPI_Start");
        req->active = rc == MPI_SUCCESS;
        req->pml = NULL;
        return rc;
    }
    return mpi_req_start(req, "MPI_Start");
}

int PMPI_Startall(int count, MPI_Request reqs[])
{
    int rc = check_array(count, reqs, "MPI_Startall");
    for (int i = 0; i < count && rc == MPI_SUCCESS; i++) {
        rc = PMPI_Start(&reqs[i]);
    }
    return rc;
}
