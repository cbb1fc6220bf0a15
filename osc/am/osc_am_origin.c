/* osc/am: the origin's side of put, get, accumulate and compare-and-swap. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/copy.h"
#include "osc_am.h"

int osc_am_request(osc_am_win_t *w, int rank, const am_hdr_t *h, const void *extra,
                   size_t extra_len)
{
    char *msg = malloc(sizeof(*h) + extra_len);
    if (msg == NULL) {
        return MPI_ERR_NO_MEM;
    }
    memcpy(msg, h, sizeof(*h));
    if (extra_len > 0) {
        memcpy(msg + sizeof(*h), extra, extra_len);
    }
    return osc_am_send(w, rank, OSC_AM_TAG, msg, sizeof(*h) + extra_len, NULL, 0, msg, NULL);
}

static bool dynamic(const osc_am_win_t *w)
{
    return w->base.flavor == MPI_WIN_FLAVOR_DYNAMIC;
}

/* The bytes the target's type covers there, as pieces; a static window's
 * range checked (MPI_ERR_RMA_RANGE). */
static int target_pieces(osc_am_win_t *w, const mrail_osc_target_t *t, am_piece_t **out,
                         uint32_t *n)
{
    const mpi_type_t *tt = mpi_type(t->type);
    MPI_Aint start = dynamic(w) ? t->disp : t->disp * w->disp_units[t->rank];
    int niov = 0;
    struct iovec *iov = osc_am_iov((void *)(uintptr_t)start, t->count, tt, &niov);
    *out = NULL;
    *n = 0;
    if (niov == 0) {
        free(iov);
        return iov == NULL && t->count > 0 && tt->size > 0 ? MPI_ERR_NO_MEM : MPI_SUCCESS;
    }
    am_piece_t *p = malloc((size_t)niov * sizeof(*p));
    if (p == NULL) {
        free(iov);
        return MPI_ERR_NO_MEM;
    }
    for (int i = 0; i < niov; i++) {
        MPI_Aint off = (MPI_Aint)(uintptr_t)iov[i].iov_base;
        if (!dynamic(w) && (off < 0 || off + (MPI_Aint)iov[i].iov_len > w->sizes[t->rank])) {
            free(iov);
            free(p);
            return MPI_ERR_RMA_RANGE;
        }
        p[i] = (am_piece_t){(uint64_t)off, iov[i].iov_len};
    }
    free(iov);
    *out = p;
    *n = (uint32_t)niov;
    return MPI_SUCCESS;
}

static mrail_osc_req_t *new_req(mrail_osc_req_t **req)
{
    if (req == NULL) {
        return NULL;
    }
    *req = calloc(1, sizeof(**req));
    return *req;
}

/* What put and get begin with: the target's pieces and the request form's
 * request; 1 when there is nothing to move. */
static int begin(osc_am_win_t *w, const mrail_osc_target_t *t, size_t bytes, mrail_osc_req_t **req,
                 am_piece_t **pieces, uint32_t *np, mrail_osc_req_t **r)
{
    int rc = target_pieces(w, t, pieces, np);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    *r = new_req(req);
    if ((req != NULL && *r == NULL) || bytes == 0) {
        free(*pieces);
        return req != NULL && *r == NULL ? MPI_ERR_NO_MEM : 1;
    }
    return MPI_SUCCESS;
}

/* A large copy in 128 KiB pieces: one memcpy of a MiB or more runs at
 * 47 GB/s here where the same bytes in pieces run at 57 (memcpy takes
 * `rep movsb` for them, slower on this AMD part than its vector loop at
 * this size; docs/PERFORMANCE.md, issue 18). Each piece goes through
 * mrail_copy: a window is page-aligned and a buffer from malloc is not,
 * the pair that makes `rep movsb` crawl (mrail/copy.h). */
static void copy_chunked(char *dst, const char *src, size_t len)
{
    const size_t chunk = 128 * 1024;
    while (len > chunk) {
        mrail_copy(dst, src, chunk);
        dst += chunk;
        src += chunk;
        len -= chunk;
    }
    mrail_copy(dst, src, len);
}

/* Between ranks of one shared segment a put or get is a copy between the
 * origin's buffer and the target's pieces, done (at both ends) when it
 * returns: the synchronisation that follows (a fence's barrier, a flush,
 * an unlock, a complete) orders it before what the target does next. */
static int copy_direct(osc_am_win_t *w, int rank, const am_piece_t *pieces, uint32_t np, char *buf,
                       int count, const mpi_type_t *ot, bool put)
{
    char *part = w->parts[rank];
    size_t bytes = (size_t)count * ot->size;
    char *tmp = mpi_type_contiguous(ot) ? buf : malloc(bytes ? bytes : 1);
    if (tmp == NULL) {
        return MPI_ERR_NO_MEM;
    }
    if (put && tmp != buf) {
        mpi_type_pack(ot, (size_t)count, buf, tmp);
    }
    char *at = tmp;
    for (uint32_t i = 0; i < np; i++) {
        char *there = part + pieces[i].off;
        copy_chunked(put ? there : at, put ? at : there, pieces[i].len);
        at += pieces[i].len;
    }
    if (!put && tmp != buf) {
        mpi_type_unpack(ot, (size_t)count, tmp, bytes, buf);
    }
    if (tmp != buf) {
        free(tmp);
    }
    return MPI_SUCCESS;
}

/* A contiguous target within a node, without a request form: its one
 * piece is known without building a list, so that a small put or get
 * allocates nothing. 1 when this does not apply. */
static int direct_contiguous(osc_am_win_t *w, const mrail_osc_target_t *t, char *buf, int count,
                             const mpi_type_t *ot, mrail_osc_req_t **req, bool put)
{
    const mpi_type_t *tt = mpi_type(t->type);
    if (w->parts == NULL || req != NULL || dynamic(w) || !mpi_type_contiguous(tt)) {
        return 1;
    }
    MPI_Aint len = (MPI_Aint)t->count * (MPI_Aint)tt->size;
    if (len != (MPI_Aint)count * (MPI_Aint)ot->size) {
        return 1; /* the general path's way with a mismatch, whatever it is */
    }
    if (len == 0) {
        return MPI_SUCCESS;
    }
    MPI_Aint off = t->disp * w->disp_units[t->rank];
    if (off < 0 || off + len > w->sizes[t->rank]) {
        return MPI_ERR_RMA_RANGE;
    }
    am_piece_t one = {(uint64_t)off, (uint64_t)len};
    return copy_direct(w, t->rank, &one, 1, buf, count, ot, put);
}

int osc_am_put(mrail_osc_win_t *base, const void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    const mpi_type_t *ot = mpi_type(type);
    int rc = direct_contiguous(w, t, (char *)(uintptr_t)buf, count, ot, req, true);
    if (rc != 1) {
        return rc;
    }
    size_t bytes = (size_t)count * ot->size;
    am_piece_t *pieces;
    uint32_t np;
    mrail_osc_req_t *r;
    rc = begin(w, t, bytes, req, &pieces, &np, &r);
    if (rc != MPI_SUCCESS) {
        return rc == 1 ? MPI_SUCCESS : rc;
    }
    if (w->parts != NULL) {
        rc = copy_direct(w, t->rank, pieces, np, (char *)(uintptr_t)buf, count, ot, true);
        free(pieces);
        return rc;
    }
    am_hdr_t h = {.kind = AM_PUT,
                  .origin = w->rank,
                  .tag = osc_am_next_tag(w),
                  .npieces = np,
                  .bytes = bytes};
    size_t plen = (size_t)np * sizeof(*pieces);
    h.pieces_follow = sizeof(h) + plen > OSC_AM_BUF;
    size_t len = sizeof(h) + (h.pieces_follow ? 0 : plen);
    h.data_follows = h.pieces_follow || len + bytes > OSC_AM_BUF;
    char *msg = malloc(len + (h.data_follows ? 0 : bytes));
    if (msg == NULL) {
        free(pieces);
        return MPI_ERR_NO_MEM;
    }
    memcpy(msg, &h, sizeof(h));
    if (!h.pieces_follow) {
        memcpy(msg + sizeof(h), pieces, plen);
    }
    if (!h.data_follows) {
        mpi_type_pack(ot, (size_t)count, buf, msg + len);
        len += bytes;
    }
    rc = osc_am_send(w, t->rank, OSC_AM_TAG, msg, len, NULL, 0, msg, r);
    if (rc == MPI_SUCCESS && h.pieces_follow) {
        rc = osc_am_send(w, t->rank, h.tag, pieces, plen, NULL, 0, pieces, NULL);
        pieces = NULL;
    }
    free(pieces);
    if (rc == MPI_SUCCESS && h.data_follows) {
        int niov = 0;
        struct iovec *iov = mpi_type_contiguous(ot) ? NULL : osc_am_iov(buf, count, ot, &niov);
        if (mpi_type_contiguous(ot)) {
            rc = osc_am_send(w, t->rank, h.tag + 1, buf, bytes, NULL, 0, NULL, r);
        } else if (iov != NULL && osc_am_iov_worth_it(niov, bytes)) {
            rc = osc_am_send(w, t->rank, h.tag + 1, NULL, 0, iov, niov, iov, r);
        } else {
            free(iov);
            char *packed = malloc(bytes);
            if (packed != NULL) {
                mpi_type_pack(ot, (size_t)count, buf, packed);
            }
            rc = packed == NULL
                     ? MPI_ERR_NO_MEM
                     : osc_am_send(w, t->rank, h.tag + 1, packed, bytes, NULL, 0, packed, r);
        }
    }
    if (rc == MPI_SUCCESS) {
        w->sent[t->rank]++;
    }
    return rc;
}

int osc_am_get(mrail_osc_win_t *base, void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    const mpi_type_t *ot = mpi_type(type);
    int rc = direct_contiguous(w, t, buf, count, ot, req, false);
    if (rc != 1) {
        return rc;
    }
    size_t bytes = (size_t)count * ot->size;
    am_piece_t *pieces;
    uint32_t np;
    mrail_osc_req_t *r;
    rc = begin(w, t, bytes, req, &pieces, &np, &r);
    if (rc != MPI_SUCCESS) {
        return rc == 1 ? MPI_SUCCESS : rc;
    }
    if (w->parts != NULL) {
        rc = copy_direct(w, t->rank, pieces, np, buf, count, ot, false);
        free(pieces);
        return rc;
    }
    am_hdr_t h = {.kind = AM_GET,
                  .origin = w->rank,
                  .tag = osc_am_next_tag(w),
                  .npieces = np,
                  .bytes = bytes};
    size_t plen = (size_t)np * sizeof(*pieces);
    h.pieces_follow = sizeof(h) + plen > OSC_AM_BUF;
    /* The reply's receive first, so that it never waits as unexpected. */
    mrail_pml_request_t *rx = NULL;
    int niov = 0;
    struct iovec *iov = mpi_type_contiguous(ot) ? NULL : osc_am_iov(buf, count, ot, &niov);
    char *packed = NULL;
    int32_t from = (int32_t)w->world[t->rank];
    if (mpi_type_contiguous(ot)) {
        rc = mrail_pml_irecv(mrail_obj.pml, buf, bytes, from, h.tag + 1, w->ctx, &rx);
    } else if (iov != NULL && osc_am_iov_worth_it(niov, bytes)) {
        rc = mrail_pml_irecvv(mrail_obj.pml, iov, niov, from, h.tag + 1, w->ctx, &rx);
    } else {
        free(iov);
        iov = NULL;
        packed = malloc(bytes);
        rc = packed == NULL
                 ? MRAIL_ERR_OUT_OF_RESOURCE
                 : mrail_pml_irecv(mrail_obj.pml, packed, bytes, from, h.tag + 1, w->ctx, &rx);
    }
    am_pend_t *p = rc == MRAIL_SUCCESS
                       ? osc_am_pend_add(w, packed ? PEND_UNPACK : PEND_PLAIN, t->rank, rx)
                       : NULL;
    if (p == NULL) {
        free(iov);
        free(packed);
        free(pieces);
        return MPI_ERR_NO_MEM;
    }
    p->buf = packed != NULL ? (void *)packed : (void *)iov;
    if (packed != NULL) {
        p->rtype = mpi_type_hold(ot);
        p->result = buf;
        p->rcount = (size_t)count;
    }
    p->oreq = r;
    if (r != NULL) {
        r->parts_left++;
    }
    rc = osc_am_request(w, t->rank, &h, pieces, h.pieces_follow ? 0 : plen);
    if (rc == MPI_SUCCESS && h.pieces_follow) {
        rc = osc_am_send(w, t->rank, h.tag, pieces, plen, NULL, 0, pieces, NULL);
        pieces = NULL;
    }
    free(pieces);
    if (rc == MPI_SUCCESS) {
        w->sent[t->rank]++;
    }
    return rc;
}

/* An accumulate's data as n elements of base b, each b's extent apart
 * (what the target applies the operation to); *own is what to free. */
static const char *elements_of(const void *buf, int count, const mpi_type_t *ot,
                               const mpi_type_t *b, size_t n, void **own)
{
    *own = NULL;
    bool pair = b->extent != (MPI_Aint)b->size;
    if (mpi_type_contiguous(ot) && !pair) {
        return buf;
    }
    char *packed = malloc(n * b->size + 1);
    if (packed == NULL) {
        return NULL;
    }
    mpi_type_pack(ot, (size_t)count, buf, packed);
    if (!pair) {
        *own = packed;
        return packed;
    }
    char *laid = malloc(n * (size_t)b->extent);
    if (laid != NULL) {
        mpi_type_unpack(b, n, packed, n * b->size, laid);
    }
    free(packed);
    *own = laid;
    return laid;
}

/* The target's runs of elements of b: each piece's bytes, or a pair
 * type's instances themselves. */
static int target_runs(osc_am_win_t *w, const mrail_osc_target_t *t, const mpi_type_t *b,
                       am_piece_t **runs, uint32_t *n)
{
    if (b->extent != (MPI_Aint)b->size) { /* a pair type: only as itself */
        if (t->type != mpi_type(t->type)->base || mpi_type(t->type) != b) {
            return MPI_ERR_TYPE;
        }
        int rc = target_pieces(w, t, runs, n); /* the range check */
        free(*runs);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
        MPI_Aint start = dynamic(w) ? t->disp : t->disp * w->disp_units[t->rank];
        *runs = malloc(sizeof(**runs));
        if (*runs == NULL) {
            return MPI_ERR_NO_MEM;
        }
        (*runs)[0] = (am_piece_t){(uint64_t)start, (uint64_t)t->count};
        *n = 1;
        return MPI_SUCCESS;
    }
    int rc = target_pieces(w, t, runs, n);
    for (uint32_t i = 0; rc == MPI_SUCCESS && i < *n; i++) {
        (*runs)[i].len /= b->size;
    }
    return rc;
}

/* One request of an accumulate: runs [0, nr) of its elements, data for
 * them (NULL for MPI_NO_OP), and, when fetching, the reply's receive. */
typedef struct acc_chunk {
    am_hdr_t h;
    const am_piece_t *runs;
    uint32_t nr;
    size_t first, nelem; /* which of the operation's elements */
} acc_chunk_t;

static int acc_send(osc_am_win_t *w, int rank, acc_chunk_t *c, const char *data, size_t ext,
                    void *result, int rcount, MPI_Datatype rtype, mrail_osc_req_t *r)
{
    const mpi_type_t *b = mpi_type(c->h.type);
    c->h.tag = osc_am_next_tag(w);
    c->h.npieces = c->nr;
    c->h.bytes = c->nelem;
    if (c->h.fetch) {
        const mpi_type_t *rt = mpi_type(rtype);
        bool direct = mpi_type_contiguous(rt) && b->extent == (MPI_Aint)b->size;
        void *into = direct ? (char *)result + c->first * b->size : malloc(c->nelem * ext + 1);
        mrail_pml_request_t *rx = NULL;
        if (into == NULL ||
            mrail_pml_irecv(mrail_obj.pml, into, c->nelem * ext, (int32_t)w->world[rank], c->h.tag,
                            w->ctx, &rx) != MRAIL_SUCCESS) {
            if (!direct) {
                free(into);
            }
            return MPI_ERR_NO_MEM;
        }
        am_pend_t *p = osc_am_pend_add(w, direct ? PEND_PLAIN : PEND_FETCHED, rank, rx);
        if (p == NULL) {
            return MPI_ERR_NO_MEM; /* the receive stays posted: out of memory is fatal here */
        }
        if (!direct) {
            p->buf = into;
            p->rtype = mpi_type_hold(rt);
            p->base = c->h.type;
            p->result = result;
            p->rcount = (size_t)rcount;
            p->elem_first = c->first;
            p->nelem = c->nelem;
        }
        p->oreq = r;
        if (r != NULL) {
            r->parts_left++;
        }
    }
    size_t rl = c->nr * sizeof(am_piece_t), dl = data ? c->nelem * ext : 0;
    char *msg = malloc(sizeof(c->h) + rl + dl);
    if (msg == NULL) {
        return MPI_ERR_NO_MEM;
    }
    memcpy(msg, &c->h, sizeof(c->h));
    memcpy(msg + sizeof(c->h), c->runs, rl);
    if (dl > 0) {
        memcpy(msg + sizeof(c->h) + rl, data + c->first * ext, dl);
    }
    int rc = osc_am_send(w, rank, OSC_AM_TAG, msg, sizeof(c->h) + rl + dl, NULL, 0, msg, r);
    if (rc == MPI_SUCCESS) {
        w->sent[rank]++;
    }
    return rc;
}

/* The lock of a part of a shared segment: every accumulate to that part,
 * from any rank, holds it while it reads and writes (per-element
 * atomicity, and MPI's ordering, for all of them at once). A holder that
 * is not running (more ranks than cores) gets the CPU after a while. */
static void part_lock(uint32_t *lock)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(lock, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) {
            if (++spins >= 4096) {
                sched_yield();
                spins = 0;
            }
        }
    }
}

static void part_unlock(uint32_t *lock)
{
    __atomic_store_n(lock, 0u, __ATOMIC_RELEASE);
}

/* An accumulate into a part of a shared segment, applied here under the
 * part's lock; the values before (result non-NULL) delivered at once:
 * straight into result when it is n elements of the base type (the common
 * MPI_Fetch_and_op and MPI_Get_accumulate), else through a copy. */
static int acc_direct(osc_am_win_t *w, int rank, const am_piece_t *runs, uint32_t nr,
                      const char *data, MPI_Datatype bh, MPI_Op op, size_t n, void *result,
                      int rcount, MPI_Datatype rtype)
{
    const mpi_type_t *b = mpi_type(bh);
    size_t ext = (size_t)b->extent;
    bool straight = result != NULL && rtype == bh && (size_t)rcount == n;
    char *old = straight ? result : result != NULL ? malloc(n * ext + 1) : NULL, *out = old;
    if (result != NULL && old == NULL) {
        return MPI_ERR_NO_MEM;
    }
    const char *in = data;
    part_lock(w->locks[rank]);
    for (uint32_t i = 0; i < nr; i++) {
        char *t = w->parts[rank] + runs[i].off;
        size_t k = runs[i].len;
        /* A pair type's last element ends at its size, not its extent:
         * its padding may be the next part's first bytes. */
        size_t span = k > 0 ? (k - 1) * ext + b->size : 0;
        if (out != NULL) {
            memcpy(out, t, span);
            out += k * ext;
        }
        if (op == MPI_REPLACE) {
            memcpy(t, in, span);
        } else if (op != MPI_NO_OP) {
            mpi_op_apply(op, in, t, k, bh);
        }
        in += op != MPI_NO_OP ? k * ext : 0;
    }
    part_unlock(w->locks[rank]);
    if (result != NULL && !straight) {
        osc_am_deliver(mpi_type(rtype), (size_t)rcount, result, bh, 0, n, old);
        free(old);
    }
    return MPI_SUCCESS;
}

/* The common accumulate within a node: one predefined type at the origin,
 * the target and the result, no request form (MPI_Accumulate,
 * MPI_Get_accumulate, MPI_Fetch_and_op on an allocated window). Its one
 * run is known without building a list: with acc_direct's straight
 * result, nothing is allocated. 1 when this does not apply. */
static int acc_direct_basic(osc_am_win_t *w, const void *buf, int count, MPI_Datatype type,
                            void *result, int rcount, MPI_Datatype rtype,
                            const mrail_osc_target_t *t, MPI_Op op, mrail_osc_req_t **req)
{
    const mpi_type_t *b = mpi_type(t->type);
    if (w->parts == NULL || req != NULL || dynamic(w) || b == NULL || b->base != t->type ||
        b->extent != (MPI_Aint)b->size ||
        (op != MPI_NO_OP && (type != t->type || count != t->count))) {
        return 1;
    }
    MPI_Aint len = (MPI_Aint)t->count * (MPI_Aint)b->size;
    if (len == 0) {
        return MPI_SUCCESS;
    }
    MPI_Aint off = t->disp * w->disp_units[t->rank];
    if (off < 0 || off + len > w->sizes[t->rank]) {
        return MPI_ERR_RMA_RANGE;
    }
    am_piece_t one = {(uint64_t)off, (uint64_t)t->count};
    return acc_direct(w, t->rank, &one, 1, op != MPI_NO_OP ? buf : NULL, t->type, op,
                      (size_t)t->count, result, rcount, rtype);
}

int osc_am_accumulate(mrail_osc_win_t *base, const void *buf, int count, MPI_Datatype type,
                      void *result, int rcount, MPI_Datatype rtype, const mrail_osc_target_t *t,
                      MPI_Op op, mrail_osc_req_t **req)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    int rc = acc_direct_basic(w, buf, count, type, result, rcount, rtype, t, op, req);
    if (rc != 1) {
        return rc;
    }
    const mpi_type_t *tt = mpi_type(t->type);
    MPI_Datatype bh = tt->base;
    const mpi_type_t *b = mpi_type(bh);
    if (b == NULL) {
        return MPI_ERR_TYPE;
    }
    size_t n = (size_t)t->count * tt->base_count, ext = (size_t)b->extent;
    am_piece_t *runs;
    uint32_t nr;
    rc = target_runs(w, t, b, &runs, &nr);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_osc_req_t *r = new_req(req);
    if (req != NULL && r == NULL) {
        free(runs);
        return MPI_ERR_NO_MEM;
    }
    void *own = NULL;
    const char *data = NULL;
    if (op != MPI_NO_OP && n > 0) {
        data = elements_of(buf, count, mpi_type(type), b, n, &own);
        if (data == NULL) {
            free(runs);
            return MPI_ERR_NO_MEM;
        }
    }
    if (w->parts != NULL) {
        rc = acc_direct(w, t->rank, runs, nr, data, bh, op, n, result, rcount, rtype);
        free(runs);
        free(own);
        return rc;
    }
    /* Cut into requests of at most OSC_AM_BUF bytes, elements whole. */
    acc_chunk_t c = {
        .h = {.kind = AM_ACC, .origin = w->rank, .type = bh, .op = op, .fetch = result != NULL}};
    am_piece_t *cut = malloc(((size_t)nr + 1) * sizeof(*cut));
    if (cut == NULL) {
        free(runs);
        free(own);
        return MPI_ERR_NO_MEM;
    }
    size_t per_elem = data ? ext : 0, budget = OSC_AM_BUF - sizeof(am_hdr_t), used = 0;
    size_t at = 0; /* elements of the operation sent so far */
    c.runs = cut;
    for (uint32_t i = 0; i < nr && rc == MPI_SUCCESS; i++) {
        uint64_t off = runs[i].off, left = runs[i].len;
        while (left > 0 && rc == MPI_SUCCESS) {
            if (used + sizeof(am_piece_t) + per_elem > budget) {
                rc = acc_send(w, t->rank, &c, data, ext, result, rcount, rtype, r);
                c.first = at;
                c.nr = 0;
                c.nelem = 0;
                used = 0;
                continue;
            }
            size_t room = per_elem ? (budget - used - sizeof(am_piece_t)) / per_elem : left;
            size_t k = left < room ? left : room;
            cut[c.nr++] = (am_piece_t){off, k};
            c.nelem += k;
            at += k;
            used += sizeof(am_piece_t) + k * per_elem;
            off += k * ext;
            left -= k;
        }
    }
    if (rc == MPI_SUCCESS && c.nr > 0) {
        rc = acc_send(w, t->rank, &c, data, ext, result, rcount, rtype, r);
    }
    free(cut);
    free(runs);
    free(own);
    return rc;
}

int osc_am_cas(mrail_osc_win_t *base, const void *buf, const void *compare, void *result,
               MPI_Datatype type, int rank, MPI_Aint disp)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    size_t sz = mpi_type_size(type);
    mrail_osc_target_t t = {rank, disp, 1, type};
    am_piece_t *at;
    uint32_t np;
    int rc = target_pieces(w, &t, &at, &np);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->parts != NULL) {
        char *there = w->parts[rank] + at[0].off;
        free(at);
        part_lock(w->locks[rank]);
        memcpy(result, there, sz);
        if (memcmp(there, compare, sz) == 0) {
            memcpy(there, buf, sz);
        }
        part_unlock(w->locks[rank]);
        return MPI_SUCCESS;
    }
    am_hdr_t h = {.kind = AM_CAS,
                  .origin = w->rank,
                  .tag = osc_am_next_tag(w),
                  .type = type,
                  .npieces = 1,
                  .bytes = at[0].off};
    free(at);
    mrail_pml_request_t *rx = NULL;
    if (mrail_pml_irecv(mrail_obj.pml, result, sz, (int32_t)w->world[rank], h.tag, w->ctx, &rx) !=
            MRAIL_SUCCESS ||
        osc_am_pend_add(w, PEND_PLAIN, rank, rx) == NULL) {
        return MPI_ERR_NO_MEM;
    }
    char two[2 * 64];
    memcpy(two, buf, sz);
    memcpy(two + sz, compare, sz);
    rc = osc_am_request(w, rank, &h, two, 2 * sz);
    if (rc == MPI_SUCCESS) {
        w->sent[rank]++;
    }
    return rc;
}
