/* The receive side of the protocols, one state machine:
 *
 *   POSTED ──EAGER matched──────────────────────────────> DONE (data copied)
 *   POSTED ──RTS matched──> RECEIVING (CTS sent) ──last FRAG──> DONE [FIN sent]
 *   POSTED ──rget RTS matched──> GETTING ──last get done──> DONE (FIN sent)
 *                                   └──get refused──> RECEIVING (CTS sent)
 *
 * Over several rails each FRAG is checked against the fragments already
 * here (a failover may send one twice) and its arrival time recorded: the
 * rate at which each rail delivered is fed back to the sender in the next
 * CTS, and the scheduler weighs the rails by it.
 *
 * A header that arrives before its receive waits as unexpected (an EAGER
 * payload is copied out of the btl's buffer only then); posting a receive
 * first searches those. A message longer than the buffer fills the buffer
 * and completes with MRAIL_ERR_TRUNCATE; the sender then only sends
 * what the receiver accepted. */
#include <stdlib.h>
#include <string.h>

#include "mrail/copy.h"
#include "pml_stripe.h"

/* A rail's delivery of one message is a rate sample only if it lasted this
 * long: shorter spans are dominated by when progress happened to run. */
#define PML_MIN_SAMPLE_US 200.0
/* Striped messages in a row a measured rail may carry nothing of, while
 * another rail gives a sample, before its rate is forgotten. */
#define PML_STARVED_RESET 16

static void gather(void *dst, size_t max, const struct iovec *segs, int nsegs)
{
    size_t at = 0;
    for (int i = 0; i < nsegs && at < max; i++) {
        size_t n = segs[i].iov_len < max - at ? segs[i].iov_len : max - at;
        if (n > 0) {
            mrail_copy((char *)dst + at, segs[i].iov_base, n);
        }
        at += n;
    }
}

/* The first max bytes of segs into the request's buffer. */
static void gather_into(mrail_pml_request_t *req, size_t max, const struct iovec *segs, int nsegs)
{
    size_t at = 0;
    for (int i = 0; i < nsegs && at < max; i++) {
        size_t n = segs[i].iov_len < max - at ? segs[i].iov_len : max - at;
        pml_copy_in(req, at, segs[i].iov_base, n);
        at += n;
    }
}

static void send_fin(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    pml_hdr_fin_t fin = {.sreq = req->sreq};
    if (pml_send_control(pml, req->src, PML_TAG_FIN, &fin, sizeof(fin)) != MRAIL_SUCCESS) {
        pml->failed = MRAIL_ERROR;
    }
}

/* CTS: how much we take, and the sender's rail rates as we see them. */
static void send_cts(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    req->rstate = req->expected > 0 ? PML_RECV_RECEIVING : PML_RECV_DONE;
    pml_hdr_cts_t cts = {
        .sreq = req->sreq, .rreq = pml_req_handle(req), .rid = req->rid, .accepted = req->expected};
    const sched_rail_t *rates = pml->rx_rates[req->src];
    /* Every entry is valid once the sender's rails were measured at all: a
     * zero count tells the sender a rate was forgotten. */
    for (unsigned i = 0; rates != NULL && i < MRAIL_MAX_RAILS; i++) {
        cts.bw[i] = (float)rates[i].measured_bw;
        cts.samples[i] = rates[i].samples < UINT16_MAX ? (uint16_t)rates[i].samples : UINT16_MAX;
        cts.nrails = MRAIL_MAX_RAILS;
    }
    if (pml_send_control(pml, req->src, PML_TAG_CTS, &cts, sizeof(cts)) != MRAIL_SUCCESS) {
        pml->failed = MRAIL_ERROR;
    }
    if (req->expected == 0) {
        pml_request_complete(req);
    }
}

static void get_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    mrail_pml_request_t *req = cbdata;
    if (status != MRAIL_SUCCESS) {
        req->status.error = status;
        req->pml->failed = status;
    }
    if (--req->gets_pending == 0) {
        send_fin(req->pml, req);
        req->rstate = PML_RECV_DONE;
        pml_request_complete(req);
    }
}

/* rdma get: pull the accepted bytes in pieces of the btl's pipeline size.
 * A btl that refuses the first get (the kernel said no) leaves the
 * message to the rendezvous fragments. */
static int get_start(pml_stripe_t *pml, mrail_pml_request_t *req, const pml_unexpected_t *u)
{
    const mrail_rail_t *r = &mrail_rail_table_peer(&pml->rails.table, req->src)->rails[0];
    mrail_btl_module_t *m = r->module;
    if (r->state != MRAIL_RAIL_UP || !(m->flags & MRAIL_BTL_FLAG_GET)) {
        return MRAIL_ERROR;
    }
    size_t piece = m->config.rdma_pipeline_frag_size < m->put_limit
                       ? m->config.rdma_pipeline_frag_size
                       : m->put_limit;
    if (m->flags & MRAIL_BTL_FLAG_GET_SHARED) {
        piece = req->expected; /* the btl cuts it, and the sender copies part */
    }
    req->rstate = PML_RECV_GETTING;
    req->gets_pending = 1; /* held until every get is issued */
    for (size_t at = 0; at < req->expected; at += piece) {
        size_t n = req->expected - at < piece ? req->expected - at : piece;
        req->gets_pending++;
        int rc = m->get(m, r->ep, (char *)req->buf + at, u->raddr + at, u->reg, n, get_done, req);
        if (rc < 0 && at == 0) {
            req->gets_pending = 0;
            return rc;
        }
        if (rc != MRAIL_INPROGRESS) {
            get_done(m, r->ep, rc, req);
        }
    }
    get_done(m, r->ep, MRAIL_SUCCESS, req);
    return MRAIL_SUCCESS;
}

/* The status of the receive req of the message h; returns the bytes it takes. */
static size_t take_status(mrail_pml_request_t *req, const pml_hdr_match_t *h)
{
    size_t take = h->len < req->len ? h->len : req->len;
    req->status.source = h->src;
    req->status.tag = h->tag;
    req->status.count = take;
    req->status.error = h->len > req->len ? MRAIL_ERR_TRUNCATE : MRAIL_SUCCESS;
    return take;
}

/* The receive req takes the message u. */
static void deliver(pml_stripe_t *pml, mrail_pml_request_t *req, pml_unexpected_t *u)
{
    size_t take = take_status(req, &u->hdr);
    if (!u->rts) {
        if (u->data != NULL) {
            pml_copy_in(req, 0, u->data, take);
        } else {
            gather_into(req, take, u->live_segs, u->live_nsegs);
        }
        req->rstate = PML_RECV_DONE;
        pml_request_complete(req);
    } else {
        req->expected = take;
        req->received = 0;
        req->src = (uint32_t)u->hdr.src;
        req->sreq = u->hdr.sreq;
        req->rid = ++pml->next_rid;
        if (!(u->rget && take > 0 && req->iov == NULL && get_start(pml, req, u) == MRAIL_SUCCESS)) {
            send_cts(pml, req);
        }
    }
    if (u == pml->live) {
        u->consumed = true; /* its arrival handler recycles it */
    } else {
        pml_unexpected_put(pml, u);
    }
}

void pml_recv_matched(match_recv_t *recv, match_msg_t *msg, void *ctx)
{
    deliver(ctx, recv->owner, msg->owner);
}

/* A match header h of communicator c (with rts, the whole RTS when it
 * carries an rget address) and the payload segs that follow it; h->src is
 * a rank of c's matching. */
/* An EAGER message h that the posted receive r took, in sequence: straight
 * from the btl's buffer into the receive, with no state of its own. */
static inline void take_posted(pml_comm_t *c, match_recv_t *r, const pml_hdr_match_t *h,
                               const struct iovec *segs, int nsegs)
{
    mrail_pml_request_t *req = r->owner;
    size_t take = take_status(req, h);
    if (take > 0 && nsegs == 1 && req->iov == NULL && take == segs[0].iov_len &&
        req->buf != segs[0].iov_base) { /* one piece, all of it: most messages */
        mrail_copy(req->buf, segs[0].iov_base, take);
    } else { /* an empty one, in pieces, cut short, or placed already by the btl */
        gather_into(req, take, segs, nsegs);
    }
    req->rstate = PML_RECV_DONE;
    pml_request_complete(req);
    match_incoming_done(&c->match, h->src);
}

/* The header h of a message no posted receive took in sequence: it waits,
 * or matches once the headers before it have. */
static void on_header_waiting(pml_stripe_t *pml, pml_comm_t *c, const pml_hdr_match_t *h, bool rts,
                              const pml_hdr_rts_t *rget, const struct iovec *segs, int nsegs);

static void on_header(pml_stripe_t *pml, pml_comm_t *c, const pml_hdr_match_t *h, bool rts,
                      const pml_hdr_rts_t *rget, const struct iovec *segs, int nsegs)
{
    match_recv_t *r = rts ? NULL : match_incoming_posted(&c->match, h->src, h->tag, h->seq);
    if (r != NULL) {
        take_posted(c, r, h, segs, nsegs);
    } else {
        on_header_waiting(pml, c, h, rts, rget, segs, nsegs);
    }
}

static void on_header_waiting(pml_stripe_t *pml, pml_comm_t *c, const pml_hdr_match_t *h, bool rts,
                              const pml_hdr_rts_t *rget, const struct iovec *segs, int nsegs)
{
    pml_unexpected_t *u = pml_unexpected_get(pml);
    if (u == NULL) {
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        return;
    }
    u->hdr = *h;
    u->rts = rts;
    if (rget != NULL) {
        u->rget = rget->rget == 1 && rget->reg_len <= PML_REG_MAX;
        u->raddr = rget->addr;
        u->reg_len = rget->reg_len;
        memcpy(u->reg, rget->reg, u->rget ? rget->reg_len : 0);
    }
    u->live_segs = segs;
    u->live_nsegs = nsegs;
    u->match = (match_msg_t){.src = h->src, .tag = h->tag, .seq = h->seq, .owner = u};
    pml->live = u;
    match_incoming(&c->match, &u->match);
    pml->live = NULL;
    if (u->consumed) {
        pml_unexpected_put(pml, u);
        return;
    }
    /* It waits (unexpected, or ahead of its sequence): keep the payload. */
    if (!u->rts && u->hdr.len > 0) {
        u->data = u->hdr.len <= sizeof(u->small) ? u->small : malloc(u->hdr.len);
        if (u->data == NULL) {
            pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
            return;
        }
        gather(u->data, u->hdr.len, u->live_segs, u->live_nsegs);
    }
    u->live_segs = NULL;
    u->live_nsegs = 0;
}

void pml_recv_on_match_header(pml_stripe_t *pml, uint32_t from, mrail_btl_tag_t tag,
                              const struct iovec *segs, int nsegs)
{
    pml_hdr_match_t h;
    memcpy(&h, segs[0].iov_base, sizeof(h));
    pml_comm_t *c = pml_comm(pml, h.ctx);
    if (c == NULL) {
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        return;
    }
    /* The matching state is indexed by the sender: a header that names
     * another rank than the one it came from is not ours to believe. */
    if (h.src < 0 || (uint32_t)h.src != from || from >= c->match.nprocs) {
        pml->failed = MRAIL_ERROR;
        return;
    }
    bool rts = tag == PML_TAG_RTS;
    if (rts && pml->bidir_rget > 0) {
        pml->rndv_rx_us[from] = pml_now_us(); /* the peer streams to us: see rget_rail */
    }
    size_t payload = 0;
    for (int i = 1; i < nsegs; i++) {
        payload += segs[i].iov_len;
    }
    if (!rts && h.len != payload) {
        pml->stats.malformed++; /* an EAGER message carries exactly its length */
        return;
    }
    /* Copied out: a btl's buffer holds the header at any alignment. */
    pml_hdr_rts_t rget;
    bool has_rget = rts && segs[0].iov_len >= sizeof(rget);
    if (has_rget) {
        memcpy(&rget, segs[0].iov_base, sizeof(rget));
    }
    if (rts && h.len >= PML_ADAPT_MIN) {
        pml_adapt_follow(pml, from, h.len, has_rget && rget.rget == 1);
    }
    on_header(pml, c, &h, rts, has_rget ? &rget : NULL, segs + 1, nsegs - 1);
}

void pml_recv_on_short(pml_stripe_t *pml, uint32_t from, const struct iovec *segs, int nsegs)
{
    pml_hdr_short_t s;
    memcpy(&s, segs[0].iov_base, sizeof(s));
    pml_comm_t *c = pml_comm(pml, s.ctx);
    if (c == NULL || from >= c->match.nprocs) {
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        return;
    }
    size_t len = 0;
    for (int i = 1; i < nsegs; i++) {
        len += segs[i].iov_len;
    }
    pml_hdr_match_t h = {.ctx = s.ctx,
                         .src = (int32_t)from,
                         .tag = s.tag,
                         .seq = match_seq_widen(&c->match, from, s.seq),
                         .len = len};
    match_recv_t *r = match_incoming_posted(&c->match, h.src, h.tag, h.seq);
    if (r != NULL) {
        take_posted(c, r, &h, segs + 1, nsegs - 1);
    } else {
        on_header_waiting(pml, c, &h, false, NULL, segs + 1, nsegs - 1);
    }
}

/* First fragment of a striped receive: where its bookkeeping lives. */
static pml_confirm_t *confirm_of(pml_stripe_t *pml, mrail_pml_request_t *req, uint32_t nfrags)
{
    if (req->confirm_rx == NULL) {
        size_t words = ((size_t)nfrags + 63) / 64;
        req->confirm_rx = calloc(1, sizeof(pml_confirm_t) + words * sizeof(uint64_t));
        if (req->confirm_rx == NULL) {
            pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
            return NULL;
        }
        req->confirm_rx->nfrags = nfrags;
    }
    return req->confirm_rx;
}

/* False for a copy of a fragment already here; records arrival times. */
static bool confirm_frag(pml_stripe_t *pml, mrail_pml_request_t *req, const pml_hdr_frag_t *h,
                         size_t len)
{
    pml_confirm_t *c = confirm_of(pml, req, h->nfrags);
    if (c == NULL || h->index >= c->nfrags) {
        return false;
    }
    uint64_t bit = 1ull << (h->index % 64);
    if (c->seen[h->index / 64] & bit) {
        pml->stats.dup_dropped++;
        return false;
    }
    c->seen[h->index / 64] |= bit;
    if (!(h->flags & (PML_FRAG_RESENT | PML_FRAG_STOLEN)) && h->rail < MRAIL_MAX_RAILS) {
        double now = pml_now_us();
        if (c->bytes[h->rail] == 0) {
            c->first[h->rail] = now;
            c->first_len[h->rail] = len;
        }
        c->last[h->rail] = now;
        c->bytes[h->rail] += len;
    }
    return true;
}

/* Each sender rail that delivered enough of the message gives a rate
 * (sched_rail_delivery); one starved while others are measured may have
 * its rate forgotten (sched_rail_starve), so the sender plans it by its
 * nominal rate again. */
static void record_rates(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    pml_confirm_t *c = req->confirm_rx;
    if (c == NULL) {
        return;
    }
    if (pml->rx_rates[req->src] == NULL &&
        (pml->rx_rates[req->src] = calloc(MRAIL_MAX_RAILS, sizeof(sched_rail_t))) == NULL) {
        return;
    }
    sched_rail_t *rates = pml->rx_rates[req->src];
    bool sampled = false;
    for (unsigned r = 0; r < MRAIL_MAX_RAILS; r++) {
        double span = c->last[r] - c->first[r];
        sampled |=
            sched_rail_delivery(&rates[r], c->first_len[r], c->bytes[r], span, PML_MIN_SAMPLE_US);
    }
    for (unsigned r = 0; sampled && r < MRAIL_MAX_RAILS; r++) {
        if (c->bytes[r] == 0 && sched_rail_starve(&rates[r], PML_STARVED_RESET)) {
            pml->stats.rates_forgotten++;
        }
    }
}

void pml_recv_on_frag(pml_stripe_t *pml, uint32_t from, const struct iovec *segs, int nsegs)
{
    pml_hdr_frag_t h;
    memcpy(&h, segs[0].iov_base, sizeof(h));
    mrail_pml_request_t *req = pml_req_lookup(pml, h.rreq);
    if (req == NULL || req->is_send) {
        pml->stats.malformed++;
        return;
    }
    /* A late copy (failover) for a finished receive finds its request with
     * another id, or not receiving. */
    if (req->rid != h.rid || req->rstate != PML_RECV_RECEIVING || req->src != from) {
        pml->stats.dup_dropped++;
        return;
    }
    if (h.offset > req->expected || h.nfrags == 0 || h.nfrags > req->expected) {
        pml->stats.malformed++; /* each fragment carries a byte at least */
        return;
    }
    size_t len = 0;
    for (int i = 1; i < nsegs; i++) {
        len += segs[i].iov_len;
    }
    if ((h.flags & PML_FRAG_CONFIRM) && !confirm_frag(pml, req, &h, len)) {
        return;
    }
    size_t at = h.offset;
    for (int i = 1; i < nsegs; i++) {
        size_t n = segs[i].iov_len;
        if (at + n > req->expected) { /* never past what we accepted */
            n = at < req->expected ? req->expected - at : 0;
        }
        pml_copy_in(req, at, segs[i].iov_base, n);
        at += segs[i].iov_len;
        req->received += n;
    }
    if (req->received == req->expected) {
        req->rstate = PML_RECV_DONE;
        if (h.flags & PML_FRAG_CONFIRM) {
            record_rates(pml, req);
            send_fin(pml, req);
        }
        pml_request_complete(req);
    }
}

void pml_recv_place_frag(pml_stripe_t *pml, uint32_t from, const void *hdr, size_t hdr_len,
                         size_t payload_len, mrail_btl_place_t *out)
{
    pml_hdr_frag_t h;
    if (hdr_len < sizeof(h)) {
        return;
    }
    memcpy(&h, hdr, sizeof(h));
    mrail_pml_request_t *req = pml_req_lookup(pml, h.rreq);
    if (req == NULL || req->is_send || req->rid != h.rid || req->rstate != PML_RECV_RECEIVING ||
        req->src != from || h.offset > req->expected || payload_len > req->expected - h.offset) {
        return; /* a late copy, or more than we accepted: the btl buffers it */
    }
    const pml_confirm_t *c = req->confirm_rx;
    if ((h.flags & PML_FRAG_CONFIRM) && c != NULL &&
        (h.index >= c->nfrags || (c->seen[h.index / 64] & (1ull << (h.index % 64))))) {
        return;
    }
    if (req->iov == NULL) {
        out->iov[0] = (struct iovec){(char *)req->buf + h.offset, payload_len};
        out->niov = 1;
    } else {
        int n = pml_iov_slice(req, h.offset, payload_len, out->iov, MRAIL_BTL_PLACE_IOV);
        out->niov = n > 0 ? n : 0;
    }
    /* Two copies of one fragment (a failover) may both be placed: they
     * write the same bytes, and the receive completes on the first. */
    out->live = &req->place_epoch;
    out->live_value = req->place_epoch;
    pml->stats.frags_placed += out->niov > 0;
}

void pml_recv_abort(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    if (req->rstate == PML_RECV_POSTED) {
        pml_comm_t *c = pml_comm(pml, req->ctx);
        if (c == NULL || !match_cancel(&c->match, &req->match)) {
            return;
        }
    }
    req->status.error = MRAIL_ERR_UNREACHABLE;
    req->rstate = PML_RECV_DONE;
    pml_request_complete(req);
}

void pml_recv_start_matched(pml_stripe_t *pml, mrail_pml_request_t *req, pml_unexpected_t *u)
{
    req->rstate = PML_RECV_POSTED;
    req->match = (match_recv_t){.src = u->hdr.src, .tag = u->hdr.tag, .owner = req};
    deliver(pml, req, u);
}

int pml_recv_start(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    pml_comm_t *c = pml_comm(pml, req->ctx);
    if (c == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    req->rstate = PML_RECV_POSTED;
    req->match = (match_recv_t){.src = req->peer, .tag = req->tag, .owner = req};
    match_msg_t *m = match_post(&c->match, &req->match);
    if (m != NULL) {
        deliver(pml, req, m->owner);
    }
    return MRAIL_SUCCESS;
}
