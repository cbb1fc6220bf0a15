/* btl/sm data path: wire-up, sends through the rings, progress. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "btl_sm.h"
#include "mrail/copy.h"

#define SM_MODEX_KEY "btl.sm"
#define SM_POLL_BATCH 64
#define SM_STUCK_FLUSHES 4096 /* progress calls with a full ring before a liveness check */

static btl_sm_module_t *sm_of(mrail_btl_module_t *m)
{
    return (btl_sm_module_t *)m;
}

static int sm_wire_up(mrail_btl_module_t *module, mrail_reason_t *why)
{
    btl_sm_module_t *m = sm_of(module);
    const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
    m->my_rank = f->rank;
    m->nlocal = f->local_size;
    for (uint32_t i = 0; i < f->local_size; i++) {
        if (f->local_peers[i] == f->rank) {
            m->my_local = i;
        }
    }
    size_t ring = m->cfg.ring_size != 0 ? m->cfg.ring_size : btl_sm_auto_ring_size(m->nlocal);
    if (!m->cfg.max_send_given) { /* a ring set by hand, too: 64k must not fail on 32k */
        size_t frag = ring / BTL_SM_FRAGS_PER_RING;
        module->config.max_send_size = frag < BTL_SM_FRAG_MAX ? frag : BTL_SM_FRAG_MAX;
    }
    if (m->cfg.ring_size == 0) {
        while (module->config.max_send_size + sizeof(btl_sm_rdma_hdr_t) >
               btl_sm_ring_max_record(ring)) {
            ring *= 2; /* the fragments asked for must fit */
        }
        m->cfg.ring_size = ring;
    }
    int rc = btl_sm_segment_create(m, f->job, m->nlocal, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    btl_sm_modex_t blob = {.magic = BTL_SM_MAGIC,
                           .pid = getpid(),
                           .node_id = f->node_id,
                           .seg_size = m->seg_size,
                           .seg_addr = (uintptr_t)m->seg};
    snprintf(blob.seg_name, sizeof(blob.seg_name), "%s", m->seg_name);
    return mrail_rte_modex_put(module->rte, SM_MODEX_KEY, &blob, sizeof(blob), why);
}

static int fetch_modex(btl_sm_module_t *m, uint32_t rank, btl_sm_modex_t *out, mrail_reason_t *why)
{
    void *blob;
    size_t len;
    int rc = mrail_rte_modex_get(m->base.rte, rank, SM_MODEX_KEY, &blob, &len, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    if (len != sizeof(*out) || ((btl_sm_modex_t *)blob)->magic != BTL_SM_MAGIC) {
        free(blob);
        return mrail_reason_set(why, MRAIL_ERROR, "rank %u published a foreign btl/sm blob", rank);
    }
    memcpy(out, blob, sizeof(*out));
    free(blob);
    return MRAIL_SUCCESS;
}

/* Maps every local peer's segment; collective over the job (a barrier
 * before unlinking our own file). */
static int connect_local_peers(btl_sm_module_t *m, mrail_reason_t *why)
{
    const mrail_rte_facts_t *f = mrail_rte_facts(m->base.rte);
    btl_sm_modex_t *peers = calloc(m->nlocal, sizeof(*peers));
    m->eps = calloc(m->nlocal, sizeof(*m->eps));
    if (peers == NULL || m->eps == NULL) {
        free(peers);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    int rc = MRAIL_SUCCESS;
    for (uint32_t i = 0; i < m->nlocal && rc == MRAIL_SUCCESS; i++) {
        mrail_btl_endpoint_t *ep = &m->eps[i];
        *ep = (mrail_btl_endpoint_t){.module = m, .rank = f->local_peers[i], .local_index = i};
        rc = fetch_modex(m, ep->rank, &peers[i], why);
        if (rc != MRAIL_SUCCESS) {
            break;
        }
        ep->pid = peers[i].pid;
        ep->peer_seg_size = peers[i].seg_size;
        ep->peer_seg = i == m->my_local
                           ? m->seg
                           : btl_sm_segment_attach(peers[i].seg_name, peers[i].seg_size, why);
        if (ep->peer_seg == NULL) {
            rc = MRAIL_ERR_IO;
            break;
        }
        ep->to_peer = btl_sm_segment_ring(ep->peer_seg, m->cfg.ring_size, m->my_local);
        ep->from_peer = btl_sm_segment_ring(m->seg, m->cfg.ring_size, i);
    }
    for (uint32_t i = 0; rc == MRAIL_SUCCESS && i < m->nlocal; i++) {
        mrail_rte_bell_attach(m->base.rte, i, &((btl_sm_seg_header_t *)m->eps[i].peer_seg)->bell);
        m->eps[i].bell = i == m->my_local ? NULL : mrail_rte_bell_of(m->base.rte, i);
    }
    /* Every local rank has mapped our segment once all are past this. */
    int brc = mrail_rte_barrier(m->base.rte, rc == MRAIL_SUCCESS ? why : NULL);
    btl_sm_segment_unlink(m);
    if (rc == MRAIL_SUCCESS) {
        rc = brc != MRAIL_SUCCESS ? brc : btl_sm_rdma_select(m, peers, why);
    }
    free(peers);
    return rc;
}

static int sm_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                        mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    btl_sm_module_t *m = sm_of(module);
    if (m->eps == NULL) {
        int rc = connect_local_peers(m, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    for (size_t k = 0; k < n; k++) {
        eps[k] = NULL;
        for (uint32_t i = 0; i < m->nlocal; i++) {
            if (m->eps[i].rank == ranks[k]) {
                eps[k] = &m->eps[i];
            }
        }
    }
    return MRAIL_SUCCESS;
}

static void sm_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module, (void)eps, (void)n; /* endpoints live until finalize */
}

btl_sm_out_t *btl_sm_out_new(size_t extra)
{
    return calloc(1, sizeof(btl_sm_out_t) + extra);
}

void btl_sm_out_enqueue(mrail_btl_endpoint_t *ep, btl_sm_out_t *o)
{
    o->next = NULL;
    if (ep->out_tail != NULL) {
        ep->out_tail->next = o;
    } else {
        ep->out_head = o;
    }
    ep->out_tail = o;
}

static size_t iov_total(const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        total += iov[i].iov_len;
    }
    return total;
}

/* One record with hdr and payload copied in; false when there is no room.
 * Inlined where it is called, so that sendi's single payload costs no
 * loops (its caller passes one iovec, a constant there). */
static inline __attribute__((always_inline)) bool emit(btl_sm_module_t *m, mrail_btl_endpoint_t *ep,
                                                       uint8_t kind, uint8_t tag, const void *hdr,
                                                       size_t hdr_len, const struct iovec *payload,
                                                       int npayload)
{
    size_t len = hdr_len + iov_total(payload, npayload);
    if (!ep->to_peer_warm) {
        btl_sm_ring_warm(ep->to_peer, m->cfg.ring_size, true);
        ep->to_peer_warm = true;
    }
    btl_sm_rec_t *rec = btl_sm_ring_reserve(ep->to_peer, m->cfg.ring_size, len, &ep->to_peer_tail);
    if (rec == NULL) {
        return false;
    }
    char *p = (char *)(rec + 1);
    if (hdr_len == sizeof(uint64_t)) {
        memcpy(p, hdr, sizeof(uint64_t)); /* the pml's short header: one store, not a call */
    } else {
        memcpy(p, hdr, hdr_len);
    }
    p += hdr_len;
    for (int i = 0; i < npayload; i++) {
        if (payload[i].iov_len > 0) {
            mrail_copy(p, payload[i].iov_base, payload[i].iov_len);
            p += payload[i].iov_len;
        }
    }
    btl_sm_ring_commit(ep->to_peer, rec, len, kind, tag, (uint16_t)hdr_len);
    btl_sm_ring_own_ahead(ep->to_peer, m->cfg.ring_size, ep->to_peer_tail);
    if (ep->bell != NULL) {
        mrail_rte_bell_ring(ep->bell);
    }
    return true;
}

/* Emits the head of the queue, or part of it; true when it is finished. */
static bool emit_item(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, btl_sm_out_t *o)
{
    if (o->kind == BTL_SM_OUT_AM || o->kind == BTL_SM_OUT_COPY) {
        return emit(m, ep, o->rec_kind, o->tag, o->hdr, o->hdr_len, o->payload, o->npayload);
    }
    size_t chunk_max = m->base.config.max_send_size - sizeof(btl_sm_rdma_hdr_t);
    while (o->sent < o->rdma.len) {
        size_t chunk = o->rdma.len - o->sent < chunk_max ? o->rdma.len - o->sent : chunk_max;
        btl_sm_rdma_hdr_t h = o->rdma;
        h.offset = o->sent;
        struct iovec data = {(void *)(uintptr_t)(o->src + o->sent), chunk};
        if (!emit(m, ep, o->rec_kind, 0, &h, sizeof(h), &data, 1)) {
            return false;
        }
        o->sent += chunk;
    }
    return true;
}

int btl_sm_out_flush(btl_sm_module_t *m, mrail_btl_endpoint_t *ep)
{
    int done = 0;
    while (ep->out_head != NULL && emit_item(m, ep, ep->out_head)) {
        btl_sm_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (ep->out_head == NULL) {
            ep->out_tail = NULL;
        }
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_SUCCESS, o->cbdata);
        }
        free(o);
        done++;
    }
    return done;
}

static int check_size(const btl_sm_module_t *m, size_t hdr_len, size_t len)
{
    return hdr_len <= UINT16_MAX && hdr_len + len <= m->base.config.max_send_size
               ? MRAIL_SUCCESS
               : MRAIL_ERR_BAD_PARAM;
}

static int sm_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                   const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    btl_sm_module_t *m = sm_of(module);
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (check_size(m, hdr_len, iov_total(payload, npayload)) != MRAIL_SUCCESS) {
        return MRAIL_ERR_BAD_PARAM;
    }
    if (ep->out_head == NULL && emit(m, ep, BTL_SM_REC_AM, tag, hdr, hdr_len, payload, npayload)) {
        return MRAIL_SUCCESS;
    }
    /* Ring full: keep references, not copies; progress emits it in order. */
    btl_sm_out_t *o = btl_sm_out_new((size_t)npayload * sizeof(struct iovec));
    if (o == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    o->kind = BTL_SM_OUT_AM;
    o->rec_kind = BTL_SM_REC_AM;
    o->tag = tag;
    o->done = done;
    o->cbdata = cbdata;
    o->hdr = hdr;
    o->hdr_len = hdr_len;
    o->npayload = npayload;
    o->payload = (struct iovec *)o->inline_bytes;
    if (npayload > 0) {
        memcpy(o->payload, payload, (size_t)npayload * sizeof(struct iovec));
    }
    btl_sm_out_enqueue(ep, o);
    return MRAIL_INPROGRESS;
}

static int sm_sendi(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                    const void *hdr, size_t hdr_len, const void *payload, size_t len)
{
    btl_sm_module_t *m = sm_of(module);
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (check_size(m, hdr_len, len) != MRAIL_SUCCESS) {
        return MRAIL_ERR_BAD_PARAM;
    }
    struct iovec iov = {(void *)(uintptr_t)payload, len};
    if (ep->out_head == NULL && emit(m, ep, BTL_SM_REC_AM, tag, hdr, hdr_len, &iov, 1)) {
        return MRAIL_SUCCESS;
    }
    return MRAIL_ERR_AGAIN;
}

static int poll_peer(btl_sm_module_t *m, mrail_btl_endpoint_t *ep)
{
    /* A callback that calls progress must not see the record it is being
     * handed again: its slot is only released when the callback returns. */
    if (ep->polling || !btl_sm_ring_ready(ep->from_peer, m->cfg.ring_size)) {
        return 0;
    }
    ep->polling = true;
    int events = 0;
    btl_sm_rec_t *rec;
    while (events < SM_POLL_BATCH &&
           (rec = btl_sm_ring_peek(ep->from_peer, m->cfg.ring_size)) != NULL) {
        if (!ep->from_peer_warm) {
            btl_sm_ring_warm(ep->from_peer, m->cfg.ring_size, false);
            ep->from_peer_warm = true;
        }
        char *body = (char *)(rec + 1);
        if (rec->kind == BTL_SM_REC_AM) {
            struct iovec segs[2] = {{body, rec->hdr_len},
                                    {body + rec->hdr_len, rec->len - rec->hdr_len}};
            mrail_btl_am_deliver(&m->base, ep, ep->rank, rec->tag, segs, 2);
        } else {
            btl_sm_rdma_incoming(m, ep, rec);
        }
        btl_sm_ring_pop(ep->from_peer, rec);
        events++;
    }
    ep->polling = false;
    if (events > 0 && ep->bell != NULL) {
        mrail_rte_bell_ring(ep->bell); /* the peer may wait for room */
    }
    return events;
}

/* A peer with work waiting that no longer exists will never drain its ring. */
static void check_peer_alive(btl_sm_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->failed || ep->pid <= 0 || kill(ep->pid, 0) == 0 || errno != ESRCH) {
        return;
    }
    ep->failed = true;
    while (ep->out_head != NULL) {
        btl_sm_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_ERROR, o->cbdata);
        }
        free(o);
    }
    ep->out_tail = NULL;
    btl_sm_rdma_fail_peer(m, ep);
    mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERROR, "%s: rank %u (pid %d) is gone",
                           m->base.name, ep->rank, (int)ep->pid);
}

/* The walk over the peers from index first on (those before it had
 * nothing a moment ago), once there is something to do. */
__attribute__((noinline)) static int sm_progress_work(btl_sm_module_t *m, uint32_t first)
{
    int events = 0;
    for (uint32_t i = first; m->eps != NULL && i < m->nlocal; i++) {
        mrail_btl_endpoint_t *ep = &m->eps[i];
        if (ep->out_head != NULL) {
            int flushed = btl_sm_out_flush(m, ep);
            /* A full ring is the normal state of a stream; only a long run of
             * progress calls that move nothing asks the kernel (a system
             * call) whether the peer still exists. */
            ep->stuck_flushes = flushed == 0 ? ep->stuck_flushes + 1 : 0;
            if (ep->stuck_flushes >= SM_STUCK_FLUSHES) {
                ep->stuck_flushes = 0;
                check_peer_alive(m, ep);
            }
            events += flushed;
        }
        events += poll_peer(m, ep);
    }
    if (m->share_noffered > 0 || m->pulls != NULL) {
        events += btl_sm_share_progress(m);
    }
    return events;
}

/* An idle wait calls this between every two looks at a ring: it only
 * looks (one line per peer, no stores, no calls, so no registers to save)
 * and leaves the work to sm_progress_work. */
static int sm_progress(mrail_btl_module_t *module)
{
    btl_sm_module_t *m = sm_of(module);
    mrail_btl_endpoint_t *eps = m->eps;
    for (uint32_t i = 0; eps != NULL && i < m->nlocal; i++) {
        if (eps[i].out_head != NULL || btl_sm_ring_ready(eps[i].from_peer, m->cfg.ring_size)) {
            return sm_progress_work(m, i);
        }
    }
    return m->share_noffered > 0 || m->pulls != NULL ? sm_progress_work(m, m->nlocal) : 0;
}

static void sm_finalize(mrail_btl_module_t *module)
{
    btl_sm_module_t *m = sm_of(module);
    for (uint32_t i = 0; m->eps != NULL && i < m->nlocal; i++) {
        mrail_btl_endpoint_t *ep = &m->eps[i];
        while (ep->out_head != NULL) {
            btl_sm_out_t *o = ep->out_head;
            ep->out_head = o->next;
            free(o);
        }
        mrail_rte_bell_attach(m->base.rte, i, NULL);
        if (ep->peer_seg != NULL && ep->peer_seg != m->seg) {
            munmap(ep->peer_seg, ep->peer_seg_size);
        }
    }
    btl_sm_rdma_fail_peer(m, NULL);
    btl_sm_segment_unlink(m);
    if (m->seg != NULL) {
        munmap(m->seg, m->seg_size);
    }
    free(m->eps);
    free(m->bounce);
    free(m);
}

void btl_sm_module_init(btl_sm_module_t *m, const btl_sm_config_t *cfg)
{
    mrail_btl_module_t *b = &m->base;
    m->cfg = *cfg;
    b->flags = MRAIL_BTL_FLAG_SEND | MRAIL_BTL_FLAG_SENDI | MRAIL_BTL_FLAG_PUT |
               MRAIL_BTL_FLAG_GET | MRAIL_BTL_FLAG_WAKES;
    b->put_limit = SIZE_MAX;
    b->reg_size = BTL_SM_SHARE_HANDLE_SIZE;
    b->mem_register = btl_sm_share_register;
    b->mem_deregister = btl_sm_share_deregister;
    b->wire_up = sm_wire_up;
    b->add_peers = sm_add_peers;
    b->del_peers = sm_del_peers;
    b->send = sm_send;
    b->sendi = sm_sendi;
    b->put = btl_sm_put;
    b->get = btl_sm_get;
    b->progress = sm_progress;
    b->finalize = sm_finalize;
}
