/* btl/sm shared single copy: a large get whose copy both ranks do.
 *
 * The owner of the memory offers it in a slot of its own segment
 * (mem_register); the getter accepts the offer (get) by writing where the
 * bytes go, and from then on each side claims chunks with one atomic word:
 * the owner from the front, writing into the getter (process_vm_writev),
 * the getter from the back, reading (process_vm_readv). Each byte is copied
 * once, by whichever core reaches it first, so a rank that is busy, or not
 * in MPI at all, leaves its share to the other instead of holding the
 * message up, and with traffic both ways each core copies about half of
 * each message once where the rings make it copy every byte twice.
 *
 *   slot: FREE ──mem_register──> OFFERED ──get──> ACCEPTING ──> ACTIVE
 *         ACTIVE ──every byte done, mem_deregister──> FREE
 *         OFFERED ──mem_deregister (never accepted)──> FREE
 *
 * The getter completes when the done counter reaches the total, which can
 * only happen after every claimed chunk was copied; it then tells the owner
 * (the PML's FIN), who frees the slot. ctl carries a generation, so a stale
 * or forged handle accepts nothing. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "btl_sm.h"

#ifdef MRAIL_HAVE_VALGRIND
#include <memcheck.h>
#define BTL_SM_MARK_WRITTEN(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define BTL_SM_MARK_WRITTEN(p, n) ((void)(p), (void)(n))
#endif

enum { SHARE_FREE, SHARE_OFFERED, SHARE_ACCEPTING, SHARE_ACTIVE };

#define SHARE_STUCK_POLLS 4096 /* polls waiting on the owner before a liveness check */

/* The handle the PML carries in the RTS. */
typedef struct btl_sm_share_handle {
    uint32_t index; /* BTL_SM_SHARE_NONE: nothing offered, the plain get */
    uint32_t gen;
} btl_sm_share_handle_t;

_Static_assert(sizeof(btl_sm_share_handle_t) == BTL_SM_SHARE_HANDLE_SIZE, "handle size");

#define BTL_SM_SHARE_NONE UINT32_MAX

/* A get this rank accepted, copying from the back. */
typedef struct btl_sm_pull {
    struct btl_sm_pull *next;
    mrail_btl_endpoint_t *ep; /* the owner */
    btl_sm_share_t *slot;     /* in the owner's segment */
    unsigned stuck;
    mrail_btl_done_fn_t done;
    void *cbdata;
    void *local; /* our buffer, and its length */
    size_t len;
} btl_sm_pull_t;

static uint64_t ctl_word(uint32_t gen, unsigned state)
{
    return (uint64_t)gen << 2 | state;
}

btl_sm_share_t *btl_sm_segment_shares(void *seg, size_t ring_size, uint32_t nrings)
{
    return (btl_sm_share_t *)((char *)seg + BTL_SM_CACHE_LINE +
                              (size_t)nrings * btl_sm_ring_bytes(ring_size));
}

static uint64_t chunk_bytes(const btl_sm_share_t *s, uint64_t chunk)
{
    uint64_t at = chunk * s->chunk;
    return s->total - at < s->chunk ? s->total - at : s->chunk;
}

/* Moves one chunk of the slot with CMA, the owner writing, the getter
 * reading; returns 0 or an errno. */
static int copy_chunk(btl_sm_module_t *m, pid_t pid, const btl_sm_share_t *s, uint64_t chunk,
                      bool owner)
{
    uint64_t at = chunk * s->chunk, mine = (owner ? s->from : s->to) + at;
    uint64_t theirs = (owner ? s->to : s->from) + at;
    return btl_sm_cma_copy(m, pid, (void *)(uintptr_t)mine, theirs, (size_t)chunk_bytes(s, chunk),
                           owner);
}

/* Claims the next chunk from the front (owner) or the back (getter); false
 * when none is left. claims = back << 32 | front, the chunks between
 * unclaimed. */
static bool claim(btl_sm_share_t *s, bool front, uint64_t *chunk)
{
    uint64_t w = atomic_load_explicit(&s->claims, memory_order_relaxed);
    for (;;) {
        uint64_t f = w & UINT32_MAX, b = w >> 32;
        if (f >= b) {
            return false;
        }
        uint64_t next = front ? w + 1 : w - (UINT64_C(1) << 32);
        if (atomic_compare_exchange_weak_explicit(&s->claims, &w, next, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            *chunk = front ? f : b - 1;
            return true;
        }
    }
}

int btl_sm_share_register(mrail_btl_module_t *self, void *base, size_t len, void *handle)
{
    btl_sm_module_t *m = (btl_sm_module_t *)self;
    btl_sm_share_handle_t h = {.index = BTL_SM_SHARE_NONE};
    /* Without CMA, get() pulls through the rings and needs no slot. */
    for (uint32_t i = 0; m->use_cma && i < BTL_SM_SHARE_SLOTS; i++) {
        uint32_t idx = (m->share_cursor + i) % BTL_SM_SHARE_SLOTS;
        if (m->share_in_use[idx]) {
            continue;
        }
        btl_sm_share_t *s = &m->shares[idx];
        h = (btl_sm_share_handle_t){.index = idx, .gen = ++m->share_gen};
        s->base = (uintptr_t)base;
        s->len = len;
        atomic_store_explicit(&s->ctl, ctl_word(h.gen, SHARE_OFFERED), memory_order_release);
        m->share_in_use[idx] = true;
        m->share_offered[m->share_noffered++] = idx;
        m->share_cursor = idx + 1;
        break;
    }
    memcpy(handle, &h, sizeof(h));
    return MRAIL_SUCCESS; /* no free slot: the plain get, the getter copies alone */
}

static void unoffer(btl_sm_module_t *m, uint32_t idx)
{
    for (uint32_t i = 0; i < m->share_noffered; i++) {
        if (m->share_offered[i] == idx) {
            m->share_offered[i] = m->share_offered[--m->share_noffered];
            return;
        }
    }
}

void btl_sm_share_deregister(mrail_btl_module_t *self, void *handle)
{
    btl_sm_module_t *m = (btl_sm_module_t *)self;
    btl_sm_share_handle_t h;
    memcpy(&h, handle, sizeof(h));
    if (h.index >= BTL_SM_SHARE_SLOTS || !m->share_in_use[h.index]) {
        return;
    }
    btl_sm_share_t *s = &m->shares[h.index];
    unoffer(m, h.index);
    uint64_t offered = ctl_word(h.gen, SHARE_OFFERED);
    bool finished =
        atomic_compare_exchange_strong_explicit(&s->ctl, &offered, ctl_word(h.gen, SHARE_FREE),
                                                memory_order_acq_rel, memory_order_acquire) ||
        (offered == ctl_word(h.gen, SHARE_ACTIVE) &&
         atomic_load_explicit(&s->done, memory_order_acquire) == s->total);
    /* A slot a getter may still be copying through (the send ended with an
     * error) is never offered again. */
    if (finished) {
        atomic_store_explicit(&s->ctl, ctl_word(h.gen, SHARE_FREE), memory_order_release);
        m->share_in_use[h.index] = false;
    }
}

/* Owner: one chunk of each accepted offer. */
static int push(btl_sm_module_t *m)
{
    int events = 0;
    for (uint32_t i = 0; i < m->share_noffered; i++) {
        btl_sm_share_t *s = &m->shares[m->share_offered[i]];
        uint64_t chunk;
        if ((atomic_load_explicit(&s->ctl, memory_order_acquire) & 3) != SHARE_ACTIVE ||
            s->getter >= m->nlocal || !claim(s, true, &chunk)) {
            continue;
        }
        int err = copy_chunk(m, m->eps[s->getter].pid, s, chunk, true);
        if (err != 0) {
            atomic_store_explicit(&s->error, err, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&s->done, chunk_bytes(s, chunk), memory_order_release);
        if (m->eps[s->getter].bell != NULL) {
            mrail_rte_bell_ring(m->eps[s->getter].bell); /* this may be its last chunk */
        }
        events++;
    }
    return events;
}

static void pull_finish(btl_sm_module_t *m, btl_sm_pull_t *p, int status)
{
    for (btl_sm_pull_t **q = &m->pulls; *q != NULL; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            break;
        }
    }
    if (status == MRAIL_SUCCESS) {
        /* The owner wrote part of our buffer from its process: memcheck,
         * watching only ours, would call those bytes uninitialised. */
        BTL_SM_MARK_WRITTEN(p->local, p->len);
    } else {
        mrail_btl_report_error(&m->base, p->ep->rank, status, "%s: get from rank %u failed%s",
                               m->base.name, p->ep->rank,
                               status == MRAIL_ERR_UNREACHABLE ? ": its process is gone" : "");
    }
    p->done(&m->base, p->ep, status, p->cbdata);
    free(p);
}

/* Getter: one chunk from the back, or the end once every byte is in. */
static int pull_step(btl_sm_module_t *m, btl_sm_pull_t *p)
{
    btl_sm_share_t *s = p->slot;
    uint64_t chunk;
    if (claim(s, false, &chunk)) {
        int err = copy_chunk(m, p->ep->pid, s, chunk, false);
        atomic_fetch_add_explicit(&s->done, chunk_bytes(s, chunk), memory_order_release);
        if (err == ESRCH) {
            p->ep->failed = true;
        }
        if (err != 0) {
            pull_finish(m, p, err == ESRCH ? MRAIL_ERR_UNREACHABLE : MRAIL_ERROR);
        }
        return 1;
    }
    if (atomic_load_explicit(&s->done, memory_order_acquire) == s->total) {
        int err = atomic_load_explicit(&s->error, memory_order_relaxed);
        pull_finish(m, p, err == 0 ? MRAIL_SUCCESS : MRAIL_ERROR);
        return 1;
    }
    /* The owner is copying its last chunk, or died doing it. */
    if (++p->stuck >= SHARE_STUCK_POLLS) {
        p->stuck = 0;
        if (kill(p->ep->pid, 0) != 0 && errno == ESRCH) {
            p->ep->failed = true;
            pull_finish(m, p, MRAIL_ERR_UNREACHABLE);
            return 1;
        }
    }
    return 0;
}

int btl_sm_share_progress(btl_sm_module_t *m)
{
    int events = m->share_noffered > 0 ? push(m) : 0;
    for (btl_sm_pull_t *p = m->pulls, *next; p != NULL; p = next) {
        next = p->next;
        events += pull_step(m, p);
    }
    return events;
}

int btl_sm_share_get(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, void *local,
                     uint64_t remote_addr, const void *remote_handle, size_t len,
                     mrail_btl_done_fn_t done, void *cbdata)
{
    btl_sm_share_handle_t h;
    memcpy(&h, remote_handle, sizeof(h));
    size_t chunk = m->base.config.rdma_pipeline_frag_size;
    if (h.index >= BTL_SM_SHARE_SLOTS || ep->peer_seg == NULL || len <= chunk ||
        len / chunk >= UINT32_MAX) {
        return MRAIL_ERR_NOT_FOUND; /* not worth sharing, or nothing offered */
    }
    const btl_sm_seg_header_t *hdr = ep->peer_seg;
    btl_sm_share_t *s = &btl_sm_segment_shares(ep->peer_seg, hdr->ring_size, hdr->nrings)[h.index];
    uint64_t offered = ctl_word(h.gen, SHARE_OFFERED);
    if (!atomic_compare_exchange_strong_explicit(&s->ctl, &offered,
                                                 ctl_word(h.gen, SHARE_ACCEPTING),
                                                 memory_order_acq_rel, memory_order_acquire)) {
        return MRAIL_ERR_NOT_FOUND;
    }
    btl_sm_pull_t *p = malloc(sizeof(*p));
    bool inside = remote_addr >= s->base && len <= s->len && remote_addr - s->base <= s->len - len;
    if (p == NULL || !inside) {
        free(p);
        /* Back to OFFERED: the owner frees it when its send ends. */
        atomic_store_explicit(&s->ctl, ctl_word(h.gen, SHARE_OFFERED), memory_order_release);
        return p == NULL ? MRAIL_ERR_OUT_OF_RESOURCE : MRAIL_ERR_BAD_PARAM;
    }
    s->from = remote_addr;
    s->to = (uintptr_t)local;
    s->total = len;
    s->chunk = (uint32_t)chunk;
    s->getter = m->my_local;
    atomic_store_explicit(&s->error, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    atomic_store_explicit(&s->claims, (uint64_t)((len + chunk - 1) / chunk) << 32,
                          memory_order_relaxed);
    atomic_store_explicit(&s->ctl, ctl_word(h.gen, SHARE_ACTIVE), memory_order_release);
    *p = (btl_sm_pull_t){m->pulls, ep, s, 0, done, cbdata, local, len};
    m->pulls = p;
    pull_step(m, p);
    return MRAIL_INPROGRESS;
}

void btl_sm_share_fail_peer(btl_sm_module_t *m, mrail_btl_endpoint_t *ep)
{
    for (btl_sm_pull_t *p = m->pulls, *next; p != NULL; p = next) {
        next = p->next;
        if (ep == NULL || p->ep == ep) {
            pull_finish(m, p, MRAIL_ERROR);
        }
    }
}
