/* osc/am: the target's side. Requests are handled one at a time, in the
 * order they arrive; memory outside the window is never touched (the
 * operation is dropped, and the origin's next flush or unlock says so). */
#include <stdlib.h>
#include <string.h>

#include "osc_am.h"

static void finished(osc_am_win_t *w, int origin)
{
    w->done[origin]++;
    w->done_total++;
}

static void range_error(osc_am_win_t *w, int origin)
{
    w->origin_error[origin] = MPI_ERR_RMA_RANGE;
    w->range_error = MPI_ERR_RMA_RANGE;
}

/* Is [off, off + len) memory of the window here? */
static bool inside(const osc_am_win_t *w, uint64_t off, uint64_t len)
{
    if (w->base.flavor != MPI_WIN_FLAVOR_DYNAMIC) {
        return off <= (uint64_t)w->mem_size && len <= (uint64_t)w->mem_size - off;
    }
    for (int i = 0; i < w->nregions; i++) {
        if (off >= w->regions[i].lo && off + len <= w->regions[i].hi && off + len >= off) {
            return true;
        }
    }
    return false;
}

static char *at(const osc_am_win_t *w, uint64_t off)
{
    return w->base.flavor == MPI_WIN_FLAVOR_DYNAMIC ? (char *)(uintptr_t)off : w->mem + off;
}

/* The pieces as addresses here; NULL (and the origin told) when one is
 * outside the window, or out of memory. */
static struct iovec *pieces_here(osc_am_win_t *w, const am_hdr_t *h, const am_piece_t *p)
{
    struct iovec *iov = malloc(((size_t)h->npieces + 1) * sizeof(*iov));
    uint64_t total = 0;
    for (uint32_t i = 0; iov != NULL && i < h->npieces; i++) {
        if (!inside(w, p[i].off, p[i].len)) {
            range_error(w, h->origin);
            free(iov);
            return NULL;
        }
        iov[i] = (struct iovec){at(w, p[i].off), p[i].len};
        total += p[i].len;
    }
    if (iov != NULL && total != h->bytes) { /* a malformed request */
        range_error(w, h->origin);
        free(iov);
        return NULL;
    }
    return iov;
}

static int target_send(osc_am_win_t *w, int origin, int32_t tag, const void *buf, size_t len,
                       struct iovec *iov, int niov, void *own)
{
    int rc = osc_am_send(w, origin, tag, buf, len, iov, niov, own, NULL);
    if (rc == MPI_SUCCESS) {
        w->pend->target_side = true;
    }
    return rc;
}

static void reply(osc_am_win_t *w, int origin, int32_t tag, int32_t value)
{
    int32_t *v = malloc(sizeof(*v));
    if (v != NULL) {
        *v = value;
        target_send(w, origin, tag, v, sizeof(*v), NULL, 0, v);
    }
}

/* A request that cannot be carried out (short, or no memory for it): it
 * counts as finished, so that no synchronisation waits for it, the origin
 * hears of it at its next flush or unlock, and a get's or fetch's reply
 * is zeros, so that no origin waits for one either. */
static void malformed(osc_am_win_t *w, const am_hdr_t *h)
{
    range_error(w, h->origin);
    bool replies = h->kind == AM_GET || h->kind == AM_CAS || (h->kind == AM_ACC && h->fetch);
    size_t reply = h->kind == AM_GET   ? h->bytes
                   : h->kind == AM_CAS ? mpi_type_size(h->type)
                   : mpi_type(h->type) ? h->bytes * (size_t)mpi_type(h->type)->extent
                                       : 0;
    if (replies) {
        void *zeros = calloc(1, reply + 1);
        if (zeros != NULL) {
            target_send(w, h->origin, h->kind == AM_GET ? h->tag + 1 : h->tag, zeros, reply, NULL,
                        0, zeros);
        }
    }
    finished(w, h->origin);
}

static void do_put(osc_am_win_t *w, const am_hdr_t *h, const am_piece_t *pieces, const char *data)
{
    struct iovec *iov = pieces_here(w, h, pieces);
    if (data != NULL) {
        for (uint32_t i = 0; iov != NULL && i < h->npieces; i++) {
            memcpy(iov[i].iov_base, data, iov[i].iov_len);
            data += iov[i].iov_len;
        }
        free(iov);
        finished(w, h->origin);
        return;
    }
    /* The data follows: into the window's pieces; through a buffer that
     * is scattered when it lands (many small pieces); or, dropped, into a
     * scratch buffer. */
    bool direct = iov != NULL && osc_am_iov_worth_it((int)h->npieces, h->bytes);
    void *scratch = direct ? NULL : malloc(h->bytes + 1);
    mrail_pml_request_t *rx = NULL;
    am_pend_t *p = NULL;
    int32_t from = (int32_t)w->world[h->origin];
    int rc = direct ? mrail_pml_irecvv(mrail_obj.pml, iov, (int)h->npieces, from, h->tag + 1,
                                       w->ctx, &rx)
             : scratch != NULL
                 ? mrail_pml_irecv(mrail_obj.pml, scratch, h->bytes, from, h->tag + 1, w->ctx, &rx)
                 : MRAIL_ERR_OUT_OF_RESOURCE;
    if (rc == MRAIL_SUCCESS) {
        p = osc_am_pend_add(w, PEND_PUT_IN, h->origin, rx);
    }
    if (p == NULL) { /* out of memory: the origin's data will wait unreceived */
        free(iov);
        free(scratch);
        range_error(w, h->origin);
        return;
    }
    p->target_side = true;
    p->buf = iov; /* NULL: dropped */
    p->buf2 = scratch;
    p->nelem = h->npieces;
}

/* A put's data landed in a buffer: into the window's pieces. */
static void scatter(const am_pend_t *p)
{
    const struct iovec *iov = p->buf;
    const char *from = p->buf2;
    for (size_t i = 0; iov != NULL && from != NULL && i < p->nelem; i++) {
        memcpy(iov[i].iov_base, from, iov[i].iov_len);
        from += iov[i].iov_len;
    }
}

static void do_get(osc_am_win_t *w, const am_hdr_t *h, const am_piece_t *pieces)
{
    struct iovec *iov = pieces_here(w, h, pieces);
    if (iov == NULL) { /* zeros, so that the origin's receive ends */
        void *zeros = calloc(1, h->bytes + 1);
        if (zeros != NULL) {
            target_send(w, h->origin, h->tag + 1, zeros, h->bytes, NULL, 0, zeros);
        }
    } else if (osc_am_iov_worth_it((int)h->npieces, h->bytes)) {
        target_send(w, h->origin, h->tag + 1, NULL, 0, iov, (int)h->npieces, iov);
    } else { /* many small pieces: gathered into one buffer */
        char *packed = malloc(h->bytes + 1), *to = packed;
        for (uint32_t i = 0; packed != NULL && i < h->npieces; i++) {
            memcpy(to, iov[i].iov_base, iov[i].iov_len);
            to += iov[i].iov_len;
        }
        free(iov);
        if (packed != NULL) {
            target_send(w, h->origin, h->tag + 1, packed, h->bytes, NULL, 0, packed);
        }
    }
    finished(w, h->origin);
}

/* After the request: what follows it (pieces), or the operation itself. */
static void put_or_get(osc_am_win_t *w, const am_hdr_t *h, const char *rest, size_t len)
{
    if (h->pieces_follow) {
        size_t plen = (size_t)h->npieces * sizeof(am_piece_t);
        void *pieces = malloc(plen + 1);
        mrail_pml_request_t *rx = NULL;
        am_pend_t *p = NULL;
        if (pieces != NULL &&
            mrail_pml_irecv(mrail_obj.pml, pieces, plen, (int32_t)w->world[h->origin], h->tag,
                            w->ctx, &rx) == MRAIL_SUCCESS) {
            p = osc_am_pend_add(w, PEND_PIECES, h->origin, rx);
        }
        if (p == NULL) {
            free(pieces);
            range_error(w, h->origin);
            return;
        }
        p->target_side = true;
        p->buf = pieces;
        p->hdr = *h;
        return;
    }
    size_t plen = (size_t)h->npieces * sizeof(am_piece_t);
    am_piece_t *pieces = plen <= len ? malloc(plen + 1) : NULL; /* an aligned copy */
    if (pieces == NULL) {
        malformed(w, h);
        return;
    }
    memcpy(pieces, rest, plen);
    if (h->kind == AM_PUT) {
        bool inline_data = !h->data_follows && len - plen >= h->bytes;
        do_put(w, h, pieces, inline_data ? rest + plen : NULL);
    } else {
        do_get(w, h, pieces);
    }
    free(pieces);
}

static void do_acc(osc_am_win_t *w, const am_hdr_t *h, const char *rest, size_t len)
{
    const mpi_type_t *b = mpi_type(h->type);
    size_t rl = (size_t)h->npieces * sizeof(am_piece_t);
    size_t ext = b ? (size_t)b->extent : 0;
    bool with_data = h->op != MPI_NO_OP;
    if (b == NULL || rl > len || (with_data && len - rl < h->bytes * ext)) {
        malformed(w, h);
        return;
    }
    am_piece_t *runs = malloc(rl + 1);
    char *old = h->fetch ? malloc(h->bytes * ext + 1) : NULL;
    if (runs == NULL || (h->fetch && old == NULL)) {
        free(runs);
        free(old);
        malformed(w, h);
        return;
    }
    memcpy(runs, rest, rl);
    const char *in = rest + rl;
    char *out = old;
    bool ok = true;
    for (uint32_t i = 0; i < h->npieces; i++) {
        uint64_t n = runs[i].len;
        ok = ok && n > 0 && inside(w, runs[i].off, (n - 1) * ext + b->size);
    }
    for (uint32_t i = 0; ok && i < h->npieces; i++) {
        char *t = at(w, runs[i].off);
        size_t n = runs[i].len, bytes = n * ext;
        if (out != NULL) {
            memcpy(out, t, bytes);
            out += bytes;
        }
        if (h->op == MPI_REPLACE) {
            memcpy(t, in, bytes);
        } else if (with_data) {
            mpi_op_apply(h->op, in, t, n, h->type);
        }
        in += with_data ? bytes : 0;
    }
    if (!ok) {
        range_error(w, h->origin);
        if (old != NULL) {
            memset(old, 0, h->bytes * ext);
        }
    }
    if (h->fetch) {
        target_send(w, h->origin, h->tag, old, h->bytes * ext, NULL, 0, old);
    }
    free(runs);
    finished(w, h->origin);
}

static void do_cas(osc_am_win_t *w, const am_hdr_t *h, const char *rest, size_t len)
{
    size_t sz = mpi_type_size(h->type);
    char *old = calloc(1, sz + 1);
    if (old == NULL) {
        malformed(w, h);
        return;
    }
    if (len < 2 * sz || !inside(w, h->bytes, sz)) {
        range_error(w, h->origin);
        target_send(w, h->origin, h->tag, old, sz, NULL, 0, old);
    } else {
        char *t = at(w, h->bytes);
        memcpy(old, t, sz);
        if (memcmp(t, rest + sz, sz) == 0) {
            memcpy(t, rest, sz);
        }
        target_send(w, h->origin, h->tag, old, sz, NULL, 0, old);
    }
    finished(w, h->origin);
}

/* Grants the waiting locks in order, as long as each is compatible. */
static void grant_locks(osc_am_win_t *w)
{
    while (w->waiters != NULL) {
        am_waiter_t *x = w->waiters;
        bool ok = x->lock_type == MPI_LOCK_EXCLUSIVE
                      ? w->exclusive_holder < 0 && w->shared_holders == 0
                      : w->exclusive_holder < 0;
        if (!ok) {
            return;
        }
        if (x->lock_type == MPI_LOCK_EXCLUSIVE) {
            w->exclusive_holder = x->origin;
        } else {
            w->shared_holders++;
        }
        w->waiters = x->next;
        reply(w, x->origin, x->tag, MPI_SUCCESS);
        free(x);
    }
}

static void queue_lock(osc_am_win_t *w, const am_hdr_t *h)
{
    am_waiter_t *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        reply(w, h->origin, h->tag, MPI_ERR_NO_MEM);
        return;
    }
    *x = (am_waiter_t){h->origin, h->lock_type, h->tag, NULL};
    am_waiter_t **p = &w->waiters;
    while (*p != NULL) {
        p = &(*p)->next;
    }
    *p = x;
    grant_locks(w);
}

static void queue_flush(osc_am_win_t *w, const am_hdr_t *h)
{
    am_flush_t *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        reply(w, h->origin, h->tag, MPI_ERR_NO_MEM);
        return;
    }
    *f = (am_flush_t){h->origin,    h->count,  h->tag, h->kind == AM_UNLOCK && h->lock_type != 0,
                      h->lock_type, w->flushes};
    w->flushes = f;
}

int osc_am_flushes(osc_am_win_t *w)
{
    int events = 0;
    am_flush_t **pp = &w->flushes;
    while (*pp != NULL) {
        am_flush_t *f = *pp;
        if (w->done[f->origin] < f->count) {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        if (f->release) {
            if (f->lock_type == MPI_LOCK_EXCLUSIVE && w->exclusive_holder == f->origin) {
                w->exclusive_holder = -1;
            } else if (f->lock_type == MPI_LOCK_SHARED && w->shared_holders > 0) {
                w->shared_holders--;
            }
        }
        reply(w, f->origin, f->tag, w->origin_error[f->origin]);
        w->origin_error[f->origin] = MPI_SUCCESS;
        free(f);
        grant_locks(w);
        events++;
    }
    return events;
}

int osc_am_handle(osc_am_win_t *w, const void *msg, size_t len)
{
    am_hdr_t h;
    if (len < sizeof(h)) {
        return MPI_ERR_INTERN;
    }
    memcpy(&h, msg, sizeof(h));
    if (h.origin < 0 || h.origin >= w->size) {
        return MPI_ERR_INTERN;
    }
    const char *rest = (const char *)msg + sizeof(h);
    len -= sizeof(h);
    switch (h.kind) {
    case AM_PUT:
    case AM_GET: put_or_get(w, &h, rest, len); break;
    case AM_ACC: do_acc(w, &h, rest, len); break;
    case AM_CAS: do_cas(w, &h, rest, len); break;
    case AM_LOCK: queue_lock(w, &h); break;
    case AM_UNLOCK:
    case AM_FLUSH: queue_flush(w, &h); break;
    case AM_POST: w->posts_seen[h.origin]++; break;
    case AM_COMPLETE:
        w->completes_seen[h.origin]++;
        if (h.count > w->complete_need[h.origin]) {
            w->complete_need[h.origin] = h.count;
        }
        break;
    default: return MPI_ERR_INTERN;
    }
    return MPI_SUCCESS;
}

void osc_am_target_done(osc_am_win_t *w, am_pend_t *p)
{
    if (p->kind == PEND_PUT_IN) {
        scatter(p);
        finished(w, p->peer);
    } else if (p->kind == PEND_PIECES) {
        if (p->hdr.kind == AM_PUT) {
            do_put(w, &p->hdr, p->buf, NULL);
        } else {
            do_get(w, &p->hdr, p->buf);
        }
    }
}
