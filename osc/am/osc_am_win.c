/* osc/am: the component, windows, and the requests a window has in flight. */
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "osc_am.h"

typedef struct osc_am_config {
    unsigned progress_thread_us;
} osc_am_config_t;

static osc_am_config_t osc_am_config;

int osc_am_next_tag(osc_am_win_t *w)
{
    /* Two tags per operation (what follows, the reply); tag 0 is requests'. */
    if (w->next_tag <= 0 || w->next_tag > 0x3ffffff0) {
        w->next_tag = 2;
    }
    int32_t t = w->next_tag;
    w->next_tag += 2;
    return t;
}

am_pend_t *osc_am_pend_add(osc_am_win_t *w, pend_kind_t kind, int peer, mrail_pml_request_t *req)
{
    am_pend_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->kind = kind;
    p->peer = peer;
    p->req = req;
    p->next = w->pend;
    w->pend = p;
    return p;
}

int osc_am_send(osc_am_win_t *w, int rank, int32_t tag, const void *buf, size_t len,
                const struct iovec *iov, int niov, void *own, mrail_osc_req_t *oreq)
{
    mrail_pml_request_t *req = NULL;
    int rc =
        iov != NULL
            ? mrail_pml_isendv(mrail_obj.pml, iov, niov, w->world[rank], tag, w->ctx, false, &req)
            : mrail_pml_isend(mrail_obj.pml, buf, len, w->world[rank], tag, w->ctx, false, &req);
    if (rc != MRAIL_SUCCESS) {
        free(own);
        return MPI_ERR_INTERN;
    }
    am_pend_t *p = osc_am_pend_add(w, PEND_PLAIN, rank, req);
    if (p == NULL) {
        mrail_pml_wait(mrail_obj.pml, req, NULL);
        mrail_pml_request_free(mrail_obj.pml, req);
        free(own);
        return MPI_ERR_NO_MEM;
    }
    p->buf = own;
    p->oreq = oreq;
    if (oreq != NULL) {
        oreq->parts_left++;
    }
    return MPI_SUCCESS;
}

struct iovec *osc_am_iov(const void *buf, int count, const mpi_type_t *t, int *n)
{
    size_t max = (size_t)count * (t->nblocks ? t->nblocks : 1);
    *n = 0;
    if (count <= 0 || t->size == 0) {
        return NULL;
    }
    if (mpi_type_contiguous(t)) { /* one piece, whatever the count */
        max = 1;
    }
    struct iovec *iov = malloc(max * sizeof(*iov));
    if (iov == NULL) {
        return NULL;
    }
    if (max == 1 && mpi_type_contiguous(t)) {
        iov[0] = (struct iovec){(void *)(uintptr_t)buf, (size_t)count * t->size};
        *n = 1;
        return iov;
    }
    size_t k = 0;
    for (int i = 0; i < count; i++) {
        char *at = (char *)(uintptr_t)buf + (MPI_Aint)i * t->extent;
        for (size_t b = 0; b < t->nblocks; b++) {
            char *p = at + t->blocks[b].disp;
            size_t len = t->blocks[b].len;
            if (len == 0) {
                continue;
            }
            if (k > 0 && (char *)iov[k - 1].iov_base + iov[k - 1].iov_len == p) {
                iov[k - 1].iov_len += len;
            } else {
                iov[k++] = (struct iovec){p, len};
            }
        }
    }
    *n = (int)k;
    return iov;
}

void osc_am_req_part_done(mrail_osc_req_t *r)
{
    if (r != NULL && --r->parts_left == 0 && r->orphan) {
        free(r);
    }
}

void osc_am_deliver(const mpi_type_t *rtype, size_t rcount, void *result, MPI_Datatype base,
                    size_t first, size_t n, const char *vals)
{
    const mpi_type_t *b = mpi_type(base);
    size_t bytes = n * b->size, total = rcount * rtype->size;
    if (mpi_type_contiguous(rtype) && b->extent == (MPI_Aint)b->size) {
        memcpy((char *)result + first * b->size, vals, bytes);
        return;
    }
    char *packed = malloc(bytes + 1), *whole = malloc(total + 1);
    if (packed != NULL && whole != NULL) {
        /* Only these elements' bytes change: pack what the result holds,
         * replace them, unpack it all again. */
        mpi_type_pack(b, n, vals, packed);
        mpi_type_pack(rtype, rcount, result, whole);
        memcpy(whole + first * b->size, packed, bytes);
        mpi_type_unpack(rtype, rcount, whole, total, result);
    }
    free(whole);
    free(packed);
}

/* What an origin entry does when its request ends. */
static void origin_done(am_pend_t *p)
{
    if (p->kind == PEND_FETCHED) {
        osc_am_deliver(p->rtype, p->rcount, p->result, p->base, p->elem_first, p->nelem, p->buf);
        mpi_type_drop(p->rtype);
    } else if (p->kind == PEND_UNPACK) {
        mpi_type_unpack(p->rtype, p->rcount, p->buf, p->rcount * p->rtype->size, p->result);
        mpi_type_drop(p->rtype);
    } else if (p->kind == PEND_ACK) {
        if (p->reply != MPI_SUCCESS && *p->ack_err == MPI_SUCCESS) {
            *p->ack_err = p->reply;
        }
        --*p->ack_left;
    }
}

int osc_am_reap(osc_am_win_t *w)
{
    if (w->busy) {
        return 0;
    }
    w->busy = true;
    /* One pass takes out what ended (a test here must not progress: that
     * would be a progress per request), then each is finished; finishing
     * may add requests, which the next reap sees. */
    am_pend_t *ended = NULL, **tail = &ended;
    for (am_pend_t **pp = &w->pend; *pp != NULL;) {
        am_pend_t *p = *pp;
        if (mrail_pml_done(mrail_obj.pml, p->req)) {
            *pp = p->next;
            p->next = NULL;
            *tail = p;
            tail = &p->next;
        } else {
            pp = &p->next;
        }
    }
    int events = 0;
    while (ended != NULL) {
        am_pend_t *p = ended;
        ended = p->next;
        mrail_pml_request_free(mrail_obj.pml, p->req);
        if (p->target_side) {
            osc_am_target_done(w, p);
        } else {
            origin_done(p);
        }
        osc_am_req_part_done(p->oreq);
        free(p->buf);
        free(p->buf2);
        free(p);
        events++;
    }
    w->busy = false;
    return events;
}

void osc_am_spin(unsigned *idle)
{
    if (mrail_pml_progress(mrail_obj.pml) == 0 && ++*idle >= mrail_pml_spin_limit(mrail_obj.pml)) {
        sched_yield();
        *idle = 0;
    }
}

static bool origin_pending(const osc_am_win_t *w, int rank)
{
    for (const am_pend_t *p = w->pend; p != NULL; p = p->next) {
        if (!p->target_side && (rank < 0 || p->peer == rank)) {
            return true;
        }
    }
    return false;
}

void osc_am_wait_local(osc_am_win_t *w, int rank)
{
    unsigned idle = 0;
    osc_am_reap(w);
    while (origin_pending(w, rank)) {
        osc_am_spin(&idle);
        osc_am_reap(w);
    }
}

/* The standing receive of requests. */
static int post_am(osc_am_win_t *w)
{
    return mrail_pml_irecv(mrail_obj.pml, w->am_buf, OSC_AM_BUF, MRAIL_PML_ANY_SOURCE, OSC_AM_TAG,
                           w->ctx, &w->am_req) == MRAIL_SUCCESS
               ? MPI_SUCCESS
               : MPI_ERR_INTERN;
}

static int osc_am_progress(mrail_osc_win_t *base)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    if (w->busy) {
        return 0;
    }
    w->busy = true;
    int events = 0;
    mrail_pml_status_t st;
    /* done first: test would progress the pml while nothing came in. */
    while (w->am_req != NULL && mrail_pml_done(mrail_obj.pml, w->am_req) &&
           mrail_pml_test(mrail_obj.pml, w->am_req, &st)) {
        mrail_pml_request_free(mrail_obj.pml, w->am_req);
        w->am_req = NULL;
        osc_am_handle(w, w->am_buf, st.count);
        post_am(w);
        events++;
    }
    w->busy = false;
    events += osc_am_reap(w);
    events += osc_am_flushes(w);
    return events;
}

static void win_release(osc_am_win_t *w)
{
    free(w->am_buf);
    free(w->sizes);
    free(w->parts);
    free(w->locks);
    free(w->disp_units);
    free(w->regions);
    free(w->sent);
    free(w->answered);
    free(w->posts_seen);
    free(w->posts_used);
    free(w->access);
    free(w->locked);
    free(w->done);
    free(w->completes_seen);
    free(w->completes_used);
    free(w->complete_need);
    free(w->exposure);
    free(w->origin_error);
    free(w);
}

static int osc_am_free(mrail_osc_win_t *base)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    int rc = osc_am_quiesce(w);
    if (w->am_req != NULL) {
        mrail_pml_cancel(mrail_obj.pml, w->am_req);
        mrail_pml_wait(mrail_obj.pml, w->am_req, NULL);
        mrail_pml_request_free(mrail_obj.pml, w->am_req);
    }
    while (w->pend != NULL) { /* nothing is left after quiesce; defensively */
        am_pend_t *p = w->pend;
        w->pend = p->next;
        mrail_pml_wait(mrail_obj.pml, p->req, NULL);
        mrail_pml_request_free(mrail_obj.pml, p->req);
        free(p->buf);
        free(p->buf2);
        free(p);
    }
    while (w->waiters != NULL) {
        am_waiter_t *x = w->waiters;
        w->waiters = x->next;
        free(x);
    }
    while (w->flushes != NULL) {
        am_flush_t *x = w->flushes;
        w->flushes = x->next;
        free(x);
    }
    win_release(w);
    return rc;
}

static int osc_am_attach(mrail_osc_win_t *base, void *mem, MPI_Aint size)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    am_region_t *grown = realloc(w->regions, (size_t)(w->nregions + 1) * sizeof(*grown));
    if (grown == NULL) {
        return MPI_ERR_NO_MEM;
    }
    w->regions = grown;
    uintptr_t lo = (uintptr_t)mem;
    for (int i = 0; i < w->nregions; i++) {
        if (lo < w->regions[i].hi && w->regions[i].lo < lo + (uintptr_t)size) {
            return MPI_ERR_RMA_ATTACH; /* MPI: attached memory may not overlap */
        }
    }
    w->regions[w->nregions++] = (am_region_t){lo, lo + (uintptr_t)size};
    return MPI_SUCCESS;
}

static int osc_am_detach(mrail_osc_win_t *base, const void *mem)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    for (int i = 0; i < w->nregions; i++) {
        if (w->regions[i].lo == (uintptr_t)mem) {
            w->regions[i] = w->regions[--w->nregions];
            return MPI_SUCCESS;
        }
    }
    return MPI_ERR_RMA_ATTACH;
}

static bool osc_am_req_test(mrail_osc_win_t *base, mrail_osc_req_t *req)
{
    if (req->parts_left > 0) {
        mrail_pml_progress(mrail_obj.pml);
        osc_am_reap((osc_am_win_t *)base);
    }
    return req->parts_left == 0;
}

static void osc_am_req_free(mrail_osc_win_t *base, mrail_osc_req_t *req)
{
    (void)base;
    if (req->parts_left == 0) {
        free(req);
    } else {
        req->orphan = true;
    }
}

static const mrail_osc_ops_t osc_am_ops = {
    .put = osc_am_put,
    .get = osc_am_get,
    .accumulate = osc_am_accumulate,
    .compare_and_swap = osc_am_cas,
    .fence = osc_am_fence,
    .post = osc_am_post,
    .start = osc_am_start,
    .complete = osc_am_complete,
    .wait = osc_am_wait,
    .lock = osc_am_lock,
    .unlock = osc_am_unlock,
    .flush = osc_am_flush,
    .flush_local = osc_am_flush_local,
    .attach = osc_am_attach,
    .detach = osc_am_detach,
    .progress = osc_am_progress,
    .free = osc_am_free,
    .req_test = osc_am_req_test,
    .req_free = osc_am_req_free,
};

/* Every rank's size and disp unit, so that an origin checks its ranges. */
static int exchange_extents(osc_am_win_t *w, const mrail_osc_win_args_t *a)
{
    int64_t mine[2] = {(int64_t)a->size, a->disp_unit};
    int64_t *all = malloc((size_t)w->size * 2 * sizeof(*all));
    mrail_coll_sched_t *s = all ? mrail_coll_sched_new(a->comm) : NULL;
    if (s == NULL) {
        free(all);
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[a->comm].coll->allgather(s, a->comm, mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T);
    int rc = mrail_coll_run(s);
    for (int r = 0; r < w->size && rc == MPI_SUCCESS; r++) {
        w->sizes[r] = (MPI_Aint)all[2 * r];
        w->disp_units[r] = (int)all[2 * r + 1];
    }
    free(all);
    return rc;
}

static int osc_am_win_create(mrail_osc_component_t *self, const mrail_osc_win_args_t *a,
                             mrail_osc_win_t **out, mrail_reason_t *why)
{
    (void)self;
    /* Before anything collective: failing here fails this process's call
     * (and MPI's default handler ends the job), never a half-made window. */
    if (mrail_osc_thread_start(osc_am_config.progress_thread_us) != MRAIL_SUCCESS) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                                "cannot start the progress thread (osc_am_progress_thread_us)");
    }
    const mpi_comm_t *c = &mrail_obj.comms[a->comm];
    osc_am_win_t *w = calloc(1, sizeof(*w));
    size_t n = (size_t)c->size;
    if (w != NULL) {
        w->am_buf = malloc(OSC_AM_BUF);
        w->sizes = calloc(n, sizeof(MPI_Aint));
        w->disp_units = calloc(n, sizeof(int));
        w->sent = calloc(n, sizeof(uint64_t));
        w->answered = calloc(n, sizeof(uint64_t));
        w->posts_seen = calloc(n, sizeof(uint64_t));
        w->posts_used = calloc(n, sizeof(uint64_t));
        w->access = calloc(n, sizeof(int));
        w->locked = calloc(n, sizeof(int));
        w->done = calloc(n, sizeof(uint64_t));
        w->completes_seen = calloc(n, sizeof(uint64_t));
        w->completes_used = calloc(n, sizeof(uint64_t));
        w->complete_need = calloc(n, sizeof(uint64_t));
        w->exposure = calloc(n, sizeof(int));
        w->origin_error = calloc(n, sizeof(int32_t));
    }
    if (w == NULL || !w->am_buf || !w->sizes || !w->disp_units || !w->sent || !w->answered ||
        !w->posts_seen || !w->posts_used || !w->access || !w->locked || !w->done ||
        !w->completes_seen || !w->completes_used || !w->complete_need || !w->exposure ||
        !w->origin_error) {
        if (w != NULL) {
            win_release(w);
        }
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    w->base.ops = &osc_am_ops;
    w->ctx = c->ctx;
    w->rank = c->rank;
    w->size = c->size;
    w->world = c->world;
    w->mem = a->base;
    w->mem_size = a->size;
    w->exclusive_holder = -1;
    if (a->shm != NULL) {
        w->parts = calloc(n, sizeof(char *));
        w->locks = calloc(n, sizeof(uint32_t *));
        for (int r = 0; w->parts != NULL && w->locks != NULL && r < c->size; r++) {
            w->parts[r] = mrail_osc_shm_part(a->shm, r, NULL);
            w->locks[r] = mrail_osc_shm_lock(a->shm, r);
        }
    }
    int rc = a->shm != NULL && (w->parts == NULL || w->locks == NULL) ? MPI_ERR_NO_MEM
                                                                      : exchange_extents(w, a);
    if (rc == MPI_SUCCESS) {
        rc = post_am(w);
    }
    if (rc != MPI_SUCCESS) {
        win_release(w);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                                "the window's set-up exchange failed (MPI error %d)", rc);
    }
    *out = &w->base;
    return MRAIL_SUCCESS;
}

static int osc_am_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"progress_thread_us", MRAIL_MCA_UNSIGNED, "0", 4,
         "Passive-target progress: 0 = a target moves (grants locks, answers gets and "
         "flushes) only while it is inside an MPI call, as Open MPI's osc/pt2pt does; N > 0 "
         "= while windows exist, a thread drives it every N microseconds (at most 999999) "
         "whenever the program is outside MPI. Costs a CPU wake-up per interval",
         NULL, offsetof(osc_am_config_t, progress_thread_us)},
    };
    return mrail_mca_register(mca, "osc", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &osc_am_config);
}

/* Needs nothing but the pml: always available. */
static int osc_am_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

mrail_osc_component_t mrail_osc_am_component = {
    .ranked =
        {
            .base =
                {
                    .abi_version = MRAIL_COMPONENT_ABI_VERSION,
                    .framework = "osc",
                    .name = "am",
                    .version = MRAIL_VERSION_STRING,
                    .description = "one-sided communication as active messages over the pml: "
                                   "every transport, large transfers striped over the rails",
                    .register_params = osc_am_register,
                },
            .default_priority = 10,
            .query = osc_am_query,
        },
    .win_create = osc_am_win_create,
};
