/* pml/stripe: the instance, active-message entry points, requests. */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pml_stripe.h"

#define PML_FREE_LIST_MAX 1024 /* recycled unexpected headers kept */

double pml_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static void unexpected_free(pml_unexpected_t *u)
{
    if (u->data != u->small) {
        free(u->data);
    }
    free(u);
}

pml_comm_t *pml_comm_lookup(pml_stripe_t *pml, uint32_t ctx)
{
    if (ctx >= MRAIL_PML_CTX_MAX) {
        return NULL; /* a header's context is a peer's word: the table is bounded */
    }
    /* In chunks: a context far above the others (a peer's communicator we
     * are not yet part of, or a wrong header) costs one chunk, not the
     * whole range below it. */
    uint32_t chunk = ctx / PML_COMM_CHUNK;
    if (chunk >= pml->ncomm_chunks) {
        pml_comm_t **grown = realloc(pml->comm_chunks, (chunk + 1) * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        memset(grown + pml->ncomm_chunks, 0, (chunk + 1 - pml->ncomm_chunks) * sizeof(*grown));
        pml->comm_chunks = grown;
        pml->ncomm_chunks = chunk + 1;
    }
    if (pml->comm_chunks[chunk] == NULL &&
        (pml->comm_chunks[chunk] = calloc(PML_COMM_CHUNK, sizeof(pml_comm_t))) == NULL) {
        return NULL;
    }
    pml_comm_t *c = &pml->comm_chunks[chunk][ctx % PML_COMM_CHUNK];
    if (c->send_seq == NULL) {
        c->send_seq = calloc(pml->size, sizeof(uint32_t));
        if (c->send_seq == NULL ||
            match_comm_init(&c->match, pml->size, pml_recv_matched, pml) != 0) {
            free(c->send_seq);
            c->send_seq = NULL;
            return NULL;
        }
    }
    pml->comm_last_ctx = ctx;
    pml->comm_last = c;
    return c;
}

int pml_send_control(pml_stripe_t *pml, uint32_t peer, mrail_btl_tag_t tag, void *hdr, size_t len)
{
    return pml_ctl_send(pml, peer, tag, hdr, len, NULL, 0);
}

static void active_remove(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    if (req->on_active) {
        req->on_active = false;
        pml->nactive--;
    }
}

void pml_request_complete(mrail_pml_request_t *req)
{
    req->complete = true;
    req->place_epoch++;
    active_remove(req->pml, req);
    pml_adapt_release(req, req->len);
}

void pml_peer_unreachable(pml_stripe_t *pml, uint32_t peer)
{
    if (pml->unreachable[peer]) {
        return;
    }
    pml->unreachable[peer] = true;
    pml->failed = MRAIL_ERR_UNREACHABLE;
    pml_railq_abandon(pml, peer);
    for (uint32_t i = 0; i < pml->nreqs; i++) {
        mrail_pml_request_t *req = pml->reqs[i];
        if (!req->on_active) {
            continue;
        }
        if (req->is_send && (uint32_t)req->peer == peer) {
            pml_send_abort(pml, req);
        } else if (!req->is_send &&
                   ((req->rstate == PML_RECV_POSTED && req->peer == (int32_t)peer) ||
                    (req->rstate == PML_RECV_RECEIVING && req->src == peer))) {
            pml_recv_abort(pml, req);
        }
    }
}

/* A header shorter than its kind's is a peer's bug or a stranger's bytes:
 * dropped and counted, never read past. */
static bool header_fits(pml_stripe_t *pml, const struct iovec *segs, int nsegs, size_t need)
{
    if (nsegs >= 1 && segs[0].iov_len >= need) {
        return true;
    }
    pml->stats.malformed++;
    return false;
}

static void am_match_header(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                            mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep;
    pml_rail_seen(ctx, peer, m);
    if (header_fits(ctx, segs, nsegs, sizeof(pml_hdr_match_t)) &&
        pml_ctl_arrived(ctx, peer, segs[0].iov_base)) {
        pml_recv_on_match_header(ctx, peer, tag, segs, nsegs);
    }
}

static void am_short(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                     mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag;
    pml_rail_seen(ctx, peer, m);
    if (header_fits(ctx, segs, nsegs, sizeof(pml_hdr_short_t))) {
        pml_recv_on_short(ctx, peer, segs, nsegs);
    }
}

static void am_ack(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                   mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag;
    pml_rail_seen(ctx, peer, m);
    if (header_fits(ctx, segs, nsegs, sizeof(pml_hdr_ack_t))) {
        pml_ctl_arrived(ctx, peer, segs[0].iov_base);
    }
}

static void am_probe(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                     mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag, (void)segs, (void)nsegs;
    pml_rail_seen(ctx, peer, m); /* the peer rebuilt a rail we saw fail */
}

static void am_cts(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                   mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag;
    pml_rail_seen(ctx, peer, m);
    if (!header_fits(ctx, segs, nsegs, sizeof(pml_hdr_cts_t))) {
        return;
    }
    pml_hdr_cts_t cts;
    memcpy(&cts, segs[0].iov_base, sizeof(cts));
    if (pml_ctl_arrived(ctx, peer, &cts)) {
        pml_send_on_cts(ctx, peer, &cts);
    }
}

static void am_frag(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                    mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag;
    pml_rail_seen(ctx, peer, m);
    if (header_fits(ctx, segs, nsegs, sizeof(pml_hdr_frag_t))) {
        pml_recv_on_frag(ctx, peer, segs, nsegs);
    }
}

static void am_place_frag(mrail_btl_module_t *m, uint32_t peer, mrail_btl_tag_t tag,
                          const void *hdr, size_t hdr_len, size_t payload_len,
                          mrail_btl_place_t *out, void *ctx)
{
    (void)m, (void)tag;
    pml_recv_place_frag(ctx, peer, hdr, hdr_len, payload_len, out);
}

static void am_fin(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                   mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)ep, (void)tag;
    pml_rail_seen(ctx, peer, m);
    if (!header_fits(ctx, segs, nsegs, sizeof(pml_hdr_fin_t))) {
        return;
    }
    pml_hdr_fin_t fin;
    memcpy(&fin, segs[0].iov_base, sizeof(fin));
    if (pml_ctl_arrived(ctx, peer, &fin)) {
        pml_send_on_fin(ctx, peer, &fin);
    }
}

static void on_btl_error(mrail_btl_module_t *m, uint32_t peer, int status, const char *what,
                         void *ctx)
{
    (void)status, (void)what;
    pml_stripe_t *pml = ctx;
    /* Failover sends what the rail carried over the rails left; with none
     * left the job fails. */
    for (uint32_t p = peer == UINT32_MAX ? 0 : peer; p < pml->size; p++) {
        if (pml_rail_index(pml, p, m) >= 0 && pml_failover(pml, p, m) == 0) {
            pml_peer_unreachable(pml, p);
        }
        if (peer != UINT32_MAX) {
            break;
        }
    }
}

/* What the scheduler knows about each rail of each peer. */
static int sched_init(pml_stripe_t *pml)
{
    pml->sched = calloc(pml->size, sizeof(*pml->sched));
    pml->rx_rates = calloc(pml->size, sizeof(*pml->rx_rates));
    pml->railq = calloc(pml->size, sizeof(*pml->railq));
    if (pml->sched == NULL || pml->rx_rates == NULL || pml->railq == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    pml->unreachable = calloc(pml->size, sizeof(bool));
    pml->stall_seen = calloc(pml->size, sizeof(unsigned));
    pml->silent_seen = calloc(pml->size, sizeof(unsigned));
    pml->silent_since_us = calloc(pml->size, sizeof(double));
    pml->rndv_rx_us = calloc(pml->size, sizeof(double));
    pml->adapt = calloc(pml->size, sizeof(*pml->adapt));
    if (pml->unreachable == NULL || pml->stall_seen == NULL || pml->silent_seen == NULL ||
        pml->silent_since_us == NULL || pml->rndv_rx_us == NULL || pml->adapt == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    for (uint32_t p = 0; p < pml->size; p++) {
        const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, p);
        pml->sched[p] = calloc(pr->count, sizeof(sched_rail_t));
        pml->railq[p] = calloc(pr->count ? pr->count : 1, sizeof(pml_railq_t));
        if (pml->sched[p] == NULL || pml->railq[p] == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        for (size_t i = 0; i < pr->count; i++) {
            const mrail_btl_config_t *cfg = &pr->rails[i].module->config;
            pml->sched[p][i] = (sched_rail_t){
                .nominal_bw = cfg->bandwidth,
                .latency_us = cfg->latency,
                .max_frag = cfg->max_send_size - sizeof(pml_hdr_frag_t),
                .up = true,
            };
        }
    }
    return MRAIL_SUCCESS;
}

static void stripe_close(mrail_pml_t *base);
static const mrail_pml_ops_t pml_stripe_ops;
static void pml_stripe_request_free(mrail_pml_t *base, mrail_pml_request_t *req);

int pml_stripe_open(mrail_pml_component_t *self, mrail_rte_t *rte, mrail_frameworks_t *fws,
                    mrail_pml_t **pml_out, mrail_reason_t *why)
{
    (void)self;
    pml_stripe_t *pml = calloc(1, sizeof(*pml));
    if (pml == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    pml->base.ops = &pml_stripe_ops;
    pml->comm_last_ctx = UINT32_MAX; /* no context yet (pml_comm) */
    pml->rte = rte;
    pml->rank = mrail_rte_facts(rte)->rank;
    pml->size = mrail_rte_facts(rte)->size;
    pml->sched_opts = pml_stripe_sched_opts();
    pml->send_window = pml_stripe_send_window();
    pml->steal = pml_stripe_steal();
    pml->stall_us = pml_stripe_stall_timeout() * 1e3;
    pml->bidir_rget = pml_stripe_bidir_rget_size();
    pml->rget_adapt = pml_stripe_rget_adapt();
    pml->silent_us = pml_stripe_silent_peer() * 1e3;
    pml->silent_round = 1; /* see pml_silent_check */
    pml->report = pml_stripe_report();
    /* With a CPU per rank, a yield only hands the CPU to whatever else runs
     * there (the application's other threads, a memory-bound neighbour)
     * for the rest of its time slice: milliseconds, where the message was
     * microseconds away (8-byte message rate beside a memcpy load fell
     * from 0.7 M/s to 0.15 M/s once polling got cheaper and yields came
     * sooner). As Open MPI, yield only when ranks outnumber CPUs. */
    pml->spin_limit = mrail_rte_facts(rte)->oversubscribed ? 1 : UINT_MAX;
    pml->sleep = pml_stripe_sleep(&pml->sleep_after) && mrail_rte_facts(rte)->oversubscribed;
    pml->sleep_after = pml->sleep_after < (1u << 30) ? pml->sleep_after : 1u << 30;
    mrail_btl_am_register(&pml->am, PML_TAG_EAGER, am_match_header, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_RTS, am_match_header, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_SHORT, am_short, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_CTS, am_cts, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_FRAG, am_frag, pml);
    mrail_btl_am_register_place(&pml->am, PML_TAG_FRAG, am_place_frag);
    mrail_btl_am_register(&pml->am, PML_TAG_FIN, am_fin, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_ACK, am_ack, pml);
    mrail_btl_am_register(&pml->am, PML_TAG_PROBE, am_probe, pml);
    pml->am.on_error = on_btl_error;
    pml->am.error_ctx = pml;
    int rc = mrail_rails_connect(fws, rte, &pml->am, &pml->rails, why);
    if (rc == MRAIL_SUCCESS && (sched_init(pml) != MRAIL_SUCCESS || pml_comm(pml, 0) == NULL ||
                                pml_ctl_init(pml) != MRAIL_SUCCESS)) {
        rc = mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    if (rc != MRAIL_SUCCESS) {
        stripe_close(&pml->base);
        return rc;
    }
    *pml_out = &pml->base;
    return MRAIL_SUCCESS;
}

static void stripe_close(mrail_pml_t *base)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (pml == NULL) {
        return;
    }
    if (pml->report) {
        pml_report_rails(pml, stderr);
    }
    for (uint32_t c = 0; c < pml->ncomm_chunks * PML_COMM_CHUNK; c++) {
        pml_comm_t *comm = pml->comm_chunks[c / PML_COMM_CHUNK];
        if (comm == NULL) {
            c += PML_COMM_CHUNK - 1;
            continue;
        }
        comm += c % PML_COMM_CHUNK;
        for (match_msg_t *m = comm->match.unexpected; m != NULL;) {
            match_msg_t *next = m->next;
            unexpected_free(m->owner);
            m = next;
        }
        for (uint32_t s = 0; comm->match.out_of_order && s < pml->size; s++) {
            for (match_msg_t *m = comm->match.out_of_order[s]; m != NULL;) {
                match_msg_t *next = m->next;
                unexpected_free(m->owner);
                m = next;
            }
        }
        if (comm->send_seq != NULL) {
            match_comm_fini(&comm->match);
        }
        free(comm->send_seq);
    }
    for (uint32_t k = 0; k < pml->ncomm_chunks; k++) {
        free(pml->comm_chunks[k]);
    }
    free(pml->comm_chunks);
    free(pml->reqs);
    while (pml->free_requests != NULL) {
        mrail_pml_request_t *next = pml->free_requests->next_free;
        free(pml->free_requests);
        pml->free_requests = next;
    }
    while (pml->free_unexpected != NULL) {
        pml_unexpected_t *next = pml->free_unexpected->next_free;
        free(pml->free_unexpected);
        pml->free_unexpected = next;
    }
    for (uint32_t p = 0; pml->sched && p < pml->size; p++) {
        free(pml->sched[p]);
    }
    for (uint32_t p = 0; pml->rx_rates && p < pml->size; p++) {
        free(pml->rx_rates[p]);
    }
    for (uint32_t p = 0; pml->railq && p < pml->size; p++) {
        free(pml->railq[p]);
    }
    free(pml->railq);
    free(pml->unreachable);
    free(pml->stall_seen);
    free(pml->silent_seen);
    free(pml->silent_since_us);
    free(pml->rndv_rx_us);
    pml_adapt_free(pml);
    pml_ctl_fini(pml);
    free(pml->sched);
    free(pml->rx_rates);
    mrail_rails_disconnect(&pml->rails);
    pml_ctl_free_copies(pml);
    free(pml);
}

static int pml_stripe_progress(mrail_pml_t *base)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    int events = mrail_rails_progress(&pml->rails);
    /* The clock and the rails' health, every PML_HEALTH_EVERY calls: none
     * of it on the path of a small message. */
    if (++pml->health_polls >= PML_HEALTH_EVERY) {
        pml_health_poll(pml);
    }
    return events + mrail_pml_run_hook(base);
}

static const struct mrail_rails *pml_stripe_rails(const mrail_pml_t *base)
{
    const pml_stripe_t *pml = (const pml_stripe_t *)base;
    return &pml->rails;
}

static void pml_stripe_stats(const mrail_pml_t *base, mrail_pml_stats_t *stats)
{
    const pml_stripe_t *pml = (const pml_stripe_t *)base;
    *stats = pml->stats;
}

static unsigned pml_stripe_spin_limit(const mrail_pml_t *base)
{
    const pml_stripe_t *pml = (const pml_stripe_t *)base;
    return pml->spin_limit;
}

static int pml_stripe_failed(const mrail_pml_t *base)
{
    const pml_stripe_t *pml = (const pml_stripe_t *)base;
    return pml->failed;
}

/* Inlined into each caller: its call and argument moves were a tenth of a
 * small receive's instructions (callgrind, bench/osu/msg_instr.sh). */
static inline __attribute__((always_inline)) mrail_pml_request_t *
request_new(pml_stripe_t *pml, bool is_send, void *buf, size_t len, int32_t peer, int32_t tag,
            uint32_t ctx)
{
    mrail_pml_request_t *req = pml->free_requests;
    uint32_t slot, gen = 0;
    if (req != NULL) {
        pml->free_requests = req->next_free;
        pml->nfree_requests--;
        slot = req->slot, gen = req->gen + 1;
    } else if ((req = calloc(1, sizeof(*req))) == NULL) {
        return NULL;
    } else if (pml_req_register(pml, req) != MRAIL_SUCCESS) {
        free(req);
        return NULL;
    } else {
        slot = req->slot;
    }
    if (is_send) { /* an inline loop of vector stores */
        uint64_t epoch = req->place_epoch;
        memset(req, 0, sizeof(*req));
        req->place_epoch = epoch;
    } else {
        /* What a receive may read before it writes it. It never reads the
         * send fields (last in the struct); iov, iov_at, confirm_rx and rid
         * are clear since request_free (or calloc); place_epoch only grows,
         * so that a btl's place from an earlier use stays void. */
        req->complete = false;
        req->cancelled = false;
        req->error = MRAIL_SUCCESS;
        req->niov = 0;
        req->status = (mrail_pml_status_t){0};
        req->rstate = PML_RECV_POSTED;
        req->expected = 0;
        req->received = 0;
        req->src = 0;
        req->sreq = 0;
        req->gets_pending = 0;
    }
    req->pml = pml;
    req->slot = slot;
    req->gen = gen;
    req->is_send = is_send;
    req->buf = buf;
    req->len = len;
    req->peer = peer;
    req->tag = tag;
    req->ctx = ctx;
    req->on_active = true;
    pml->nactive++;
    return req;
}

pml_unexpected_t *pml_unexpected_get(pml_stripe_t *pml)
{
    pml_unexpected_t *u = pml->free_unexpected;
    if (u != NULL) {
        pml->free_unexpected = u->next_free;
        pml->nfree_unexpected--;
    } else if ((u = malloc(sizeof(*u))) == NULL) {
        return NULL;
    }
    memset(u, 0, offsetof(pml_unexpected_t, reg));
    return u;
}

void pml_unexpected_put(pml_stripe_t *pml, pml_unexpected_t *u)
{
    if (pml->nfree_unexpected >= PML_FREE_LIST_MAX) {
        unexpected_free(u);
        return;
    }
    if (u->data != u->small) {
        free(u->data);
    }
    u->next_free = pml->free_unexpected;
    pml->free_unexpected = u;
    pml->nfree_unexpected++;
}

static int pml_stripe_isend(mrail_pml_t *base, const void *buf, size_t len, uint32_t dst,
                            int32_t tag, uint32_t ctx, bool synchronous,
                            mrail_pml_request_t **req_out)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (dst >= pml->size || tag < 0) {
        return MRAIL_ERR_BAD_PARAM;
    }
    if (pml->unreachable[dst]) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_pml_request_t *req =
        request_new(pml, true, (void *)(uintptr_t)buf, len, (int32_t)dst, tag, ctx);
    if (req == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    req->synchronous = synchronous;
    int rc = pml_send_start(pml, req);
    if (rc != MRAIL_SUCCESS) {
        pml_stripe_request_free(&pml->base, req);
        return rc;
    }
    *req_out = req;
    return MRAIL_SUCCESS;
}

static int pml_stripe_irecv(mrail_pml_t *base, void *buf, size_t len, int32_t src, int32_t tag,
                            uint32_t ctx, mrail_pml_request_t **req_out)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if ((src < 0 && src != MRAIL_PML_ANY_SOURCE) || (src >= 0 && (uint32_t)src >= pml->size) ||
        (tag < 0 && tag != MRAIL_PML_ANY_TAG)) {
        return MRAIL_ERR_BAD_PARAM;
    }
    if (src >= 0 && pml->unreachable[src]) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_pml_request_t *req = request_new(pml, false, buf, len, src, tag, ctx);
    if (req == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    int rc = pml_recv_start(pml, req);
    if (rc != MRAIL_SUCCESS) {
        pml_stripe_request_free(&pml->base, req);
        return rc;
    }
    *req_out = req;
    return MRAIL_SUCCESS;
}

static int pml_stripe_isendv(mrail_pml_t *base, const struct iovec *iov, int niov, uint32_t dst,
                             int32_t tag, uint32_t ctx, bool synchronous,
                             mrail_pml_request_t **req_out)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (dst >= pml->size || tag < 0 || niov < 0) {
        return MRAIL_ERR_BAD_PARAM;
    }
    if (pml->unreachable[dst]) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_pml_request_t *req = request_new(pml, true, NULL, 0, (int32_t)dst, tag, ctx);
    if (req == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    req->synchronous = synchronous;
    int rc = pml_iov_prepare(req, iov, niov);
    rc = rc != MRAIL_SUCCESS ? rc : pml_send_start(pml, req);
    if (rc != MRAIL_SUCCESS) {
        pml_stripe_request_free(&pml->base, req);
        return rc;
    }
    *req_out = req;
    return MRAIL_SUCCESS;
}

static int pml_stripe_irecvv(mrail_pml_t *base, const struct iovec *iov, int niov, int32_t src,
                             int32_t tag, uint32_t ctx, mrail_pml_request_t **req_out)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if ((src < 0 && src != MRAIL_PML_ANY_SOURCE) || (src >= 0 && (uint32_t)src >= pml->size) ||
        (tag < 0 && tag != MRAIL_PML_ANY_TAG) || niov < 0) {
        return MRAIL_ERR_BAD_PARAM;
    }
    if (src >= 0 && pml->unreachable[src]) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_pml_request_t *req = request_new(pml, false, NULL, 0, src, tag, ctx);
    if (req == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    int rc = pml_iov_prepare(req, iov, niov);
    rc = rc != MRAIL_SUCCESS ? rc : pml_recv_start(pml, req);
    if (rc != MRAIL_SUCCESS) {
        pml_stripe_request_free(&pml->base, req);
        return rc;
    }
    *req_out = req;
    return MRAIL_SUCCESS;
}

static bool pml_stripe_test(mrail_pml_t *base, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (!req->complete) {
        pml_stripe_progress(&pml->base);
    }
    if (req->complete && status != NULL) {
        *status = req->status;
    }
    return req->complete;
}

static bool pml_stripe_done(const mrail_pml_t *base, const mrail_pml_request_t *req)
{
    (void)base;
    return req->complete;
}

/* The longest sleep: what no bell announces (a peer that died, the
 * silent-peer and stall timers, a tcp module that carries no rail) is
 * still looked at this often. */
#define PML_SLEEP_MAX_US 1000

/* May this rank sleep while it waits? Only when whatever reaches it rings
 * its bell: every module that carries a rail wakes, and no progress
 * thread holds the pml's lock meanwhile. */
static bool can_sleep(const pml_stripe_t *pml)
{
    if (!pml->sleep || pml->base.lock != NULL) {
        return false;
    }
    for (size_t i = 0; i < pml->rails.ncarrying; i++) {
        if (!(pml->rails.carrying[i]->flags & MRAIL_BTL_FLAG_WAKES)) {
            return false;
        }
    }
    return true;
}

static void pml_stripe_idle(mrail_pml_t *base, unsigned *idle, bool (*ready)(void *arg), void *arg)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (++*idle < pml->spin_limit) {
        return;
    }
    if (*idle <= pml->spin_limit + pml->sleep_after || !can_sleep(pml)) {
        sched_yield();
        if (*idle > pml->spin_limit + pml->sleep_after) {
            *idle = 0; /* it may not sleep now: count afresh */
        }
        return;
    }
    /* Stays past sleep_after: a wait that is still not over sleeps again. */
    *idle = pml->spin_limit + pml->sleep_after;
    if (mrail_rte_doze(pml->rte, ready, arg, PML_SLEEP_MAX_US)) {
        pml->stats.sleeps++;
    } else {
        sched_yield();
    }
}

typedef struct {
    pml_stripe_t *pml;
    const mrail_pml_request_t *req;
} wait_ctx_t;

static bool wait_ready(void *arg)
{
    wait_ctx_t *w = arg;
    return pml_stripe_progress(&w->pml->base) != 0 || w->req->complete;
}

static void pml_stripe_wait(mrail_pml_t *base, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    unsigned idle = 0;
    wait_ctx_t w = {pml, req};
    while (!req->complete) {
        /* Spin: a yield is a system call and would cost more than the
         * message. Only a long wait (oversubscribed: the peer we wait for
         * may need our CPU) yields, or sleeps. */
        if (pml_stripe_progress(&pml->base) != 0) {
            idle = 0;
        } else {
            pml_stripe_idle(&pml->base, &idle, wait_ready, &w);
        }
    }
    if (status != NULL) {
        *status = req->status;
    }
}

/* Inlined into finish, the call of every completed request. */
static inline __attribute__((always_inline)) void request_free(mrail_pml_request_t *req)
{
    pml_stripe_t *pml = req->pml;
    active_remove(pml, req);
    /* A small message's request holds none of these: no calls into free. */
    if (req->frag_hdrs != NULL || req->frag_ctx != NULL || req->confirm_rx != NULL ||
        req->iov_at != NULL) {
        free(req->frag_hdrs);
        free(req->frag_ctx);
        free(req->confirm_rx);
        free(req->iov_at);
        req->iov_at = NULL;
        req->frag_hdrs = NULL;
        req->frag_ctx = NULL;
        req->confirm_rx = NULL;
    }
    req->iov = NULL;
    req->rid = 0;
    req->rstate = PML_RECV_DONE;
    pml_adapt_release(req, 0); /* a send that failed to start */
    /* Kept, not freed, until the PML closes: a late fragment copy (after a
     * failover) may still name it, and must find it not receiving. */
    req->next_free = pml->free_requests;
    pml->free_requests = req;
    pml->nfree_requests++;
}

static void pml_stripe_request_free(mrail_pml_t *base, mrail_pml_request_t *req)
{
    (void)base; /* the request knows its pml */
    if (req != NULL) {
        request_free(req);
    }
}

/* pml_stripe_finish of a request not complete yet: kept out of line, so
 * that finishing a complete one saves no registers. */
static __attribute__((noinline)) bool finish_incomplete(mrail_pml_t *base, mrail_pml_request_t *req,
                                                        bool block, mrail_pml_status_t *status)
{
    if (block) {
        pml_stripe_wait(base, req, NULL);
    } else if (pml_stripe_progress(base), !req->complete) {
        return false;
    }
    *status = req->status;
    request_free(req);
    return true;
}

static bool pml_stripe_finish(mrail_pml_t *base, mrail_pml_request_t *req, bool block,
                              mrail_pml_status_t *status)
{
    if (!req->complete) {
        return finish_incomplete(base, req, block, status);
    }
    *status = req->status;
    request_free(req);
    return true;
}

static bool pml_stripe_cancel(mrail_pml_t *base, mrail_pml_request_t *req)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    if (req->is_send || req->rstate != PML_RECV_POSTED) {
        return false;
    }
    pml_comm_t *c = pml_comm(pml, req->ctx);
    if (c == NULL || !match_cancel(&c->match, &req->match)) {
        return false;
    }
    req->cancelled = true;
    req->status.cancelled = true;
    pml_request_complete(req);
    return true;
}

/* The unexpected message a receive for (src, tag) on ctx would take, its
 * status filled; NULL if none. */
static pml_unexpected_t *probe_unexpected(pml_stripe_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                                          bool take, mrail_pml_status_t *status)
{
    pml_stripe_progress(&pml->base);
    pml_comm_t *c = pml_comm(pml, ctx);
    match_msg_t *m = c ? match_probe(&c->match, src, tag) : NULL;
    if (m == NULL) {
        return NULL;
    }
    if (take) {
        match_take(&c->match, m);
    }
    pml_unexpected_t *u = m->owner;
    if (status != NULL) {
        *status =
            (mrail_pml_status_t){.source = u->hdr.src, .tag = u->hdr.tag, .count = u->hdr.len};
    }
    return u;
}

static bool pml_stripe_iprobe(mrail_pml_t *base, int32_t src, int32_t tag, uint32_t ctx,
                              mrail_pml_status_t *status)
{
    return probe_unexpected((pml_stripe_t *)base, src, tag, ctx, false, status) != NULL;
}

static bool pml_stripe_improbe(mrail_pml_t *base, int32_t src, int32_t tag, uint32_t ctx,
                               mrail_pml_status_t *status, mrail_pml_message_t **msg)
{
    pml_unexpected_t *u = probe_unexpected((pml_stripe_t *)base, src, tag, ctx, true, status);
    *msg = (mrail_pml_message_t *)u;
    return u != NULL;
}

static int pml_stripe_imrecv(mrail_pml_t *base, void *buf, size_t len, const struct iovec *iov,
                             int niov, mrail_pml_message_t *msg, mrail_pml_request_t **req_out)
{
    pml_stripe_t *pml = (pml_stripe_t *)base;
    pml_unexpected_t *u = (pml_unexpected_t *)msg;
    if (u == NULL || niov < 0) {
        return MRAIL_ERR_BAD_PARAM;
    }
    mrail_pml_request_t *req = request_new(pml, false, iov ? NULL : buf, iov ? 0 : len, u->hdr.src,
                                           u->hdr.tag, u->hdr.ctx);
    if (req == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    int rc = iov != NULL ? pml_iov_prepare(req, iov, niov) : MRAIL_SUCCESS;
    if (rc != MRAIL_SUCCESS) {
        pml_stripe_request_free(&pml->base, req);
        return rc;
    }
    pml_recv_start_matched(pml, req, u);
    *req_out = req;
    return MRAIL_SUCCESS;
}

static int pml_stripe_sendi(mrail_pml_t *base, const void *buf, size_t len, uint32_t dst,
                            int32_t tag, uint32_t ctx)
{
    return pml_send_inline((pml_stripe_t *)base, buf, len, dst, tag, ctx);
}

static const mrail_pml_ops_t pml_stripe_ops = {
    .close = stripe_close,
    .isend = pml_stripe_isend,
    .irecv = pml_stripe_irecv,
    .sendi = pml_stripe_sendi,
    .isendv = pml_stripe_isendv,
    .irecvv = pml_stripe_irecvv,
    .test = pml_stripe_test,
    .done = pml_stripe_done,
    .wait = pml_stripe_wait,
    .request_free = pml_stripe_request_free,
    .finish = pml_stripe_finish,
    .cancel = pml_stripe_cancel,
    .iprobe = pml_stripe_iprobe,
    .improbe = pml_stripe_improbe,
    .imrecv = pml_stripe_imrecv,
    .progress = pml_stripe_progress,
    .spin_limit = pml_stripe_spin_limit,
    .idle = pml_stripe_idle,
    .failed = pml_stripe_failed,
    .stats = pml_stripe_stats,
    .rails = pml_stripe_rails,
};
