/* The receive side of both protocols, one state machine:
 *
 *   POSTED ──EAGER matched──────────────────────────────> DONE (data copied)
 *   POSTED ──RTS matched──> RECEIVING (CTS sent) ──last FRAG──> DONE
 *
 * A header that arrives before its receive waits as unexpected (an EAGER
 * payload is copied out of the btl's buffer only then); posting a receive
 * first searches those. A message longer than the buffer fills the buffer
 * and completes with MRAIL_PML_ERR_TRUNCATE; the sender then only sends
 * what the receiver accepted. */
#include <stdlib.h>
#include <string.h>

#include "pml_stripe.h"

static void gather(void *dst, size_t max, const struct iovec *segs, int nsegs)
{
    size_t at = 0;
    for (int i = 0; i < nsegs && at < max; i++) {
        size_t n = segs[i].iov_len < max - at ? segs[i].iov_len : max - at;
        if (n > 0) {
            memcpy((char *)dst + at, segs[i].iov_base, n);
        }
        at += n;
    }
}

/* The receive req takes the message u. */
static void deliver(mrail_pml_t *pml, mrail_pml_request_t *req, pml_unexpected_t *u)
{
    size_t take = u->hdr.len < req->len ? u->hdr.len : req->len;
    req->status.source = u->hdr.src;
    req->status.tag = u->hdr.tag;
    req->status.count = take;
    req->status.error = u->hdr.len > req->len ? MRAIL_PML_ERR_TRUNCATE : MRAIL_SUCCESS;
    if (!u->rts) {
        if (u->data != NULL) {
            memcpy(req->buf, u->data, take);
        } else {
            gather(req->buf, take, u->live_segs, u->live_nsegs);
        }
        req->rstate = PML_RECV_DONE;
        pml_request_complete(req);
    } else {
        req->expected = take;
        req->received = 0;
        req->rstate = take > 0 ? PML_RECV_RECEIVING : PML_RECV_DONE;
        pml_hdr_cts_t cts = {.sreq = u->hdr.sreq, .rreq = (uintptr_t)req, .accepted = take};
        if (pml_send_control(pml, (uint32_t)u->hdr.src, PML_TAG_CTS, &cts, sizeof(cts)) !=
            MRAIL_SUCCESS) {
            pml->failed = MRAIL_ERROR;
        }
        if (take == 0) {
            pml_request_complete(req);
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

void pml_recv_on_match_header(mrail_pml_t *pml, uint32_t from, mrail_btl_tag_t tag,
                              const struct iovec *segs, int nsegs)
{
    (void)from;
    pml_unexpected_t *u = pml_unexpected_get(pml);
    if (u == NULL) {
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        return;
    }
    memcpy(&u->hdr, segs[0].iov_base, sizeof(u->hdr));
    u->rts = tag == PML_TAG_RTS;
    u->live_segs = segs + 1;
    u->live_nsegs = nsegs - 1;
    u->match = (match_msg_t){.src = u->hdr.src, .tag = u->hdr.tag, .seq = u->hdr.seq, .owner = u};
    pml_comm_t *c = pml_comm(pml, u->hdr.ctx);
    if (c == NULL) {
        pml_unexpected_put(pml, u);
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        return;
    }
    pml->live = u;
    match_incoming(&c->match, &u->match);
    pml->live = NULL;
    if (u->consumed) {
        pml_unexpected_put(pml, u);
        return;
    }
    /* It waits (unexpected, or ahead of its sequence): keep the payload. */
    if (!u->rts && u->hdr.len > 0) {
        u->data = malloc(u->hdr.len);
        if (u->data == NULL) {
            pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
            return;
        }
        gather(u->data, u->hdr.len, u->live_segs, u->live_nsegs);
    }
    u->live_segs = NULL;
    u->live_nsegs = 0;
}

void pml_recv_on_frag(mrail_pml_t *pml, const struct iovec *segs, int nsegs)
{
    (void)pml;
    pml_hdr_frag_t h;
    memcpy(&h, segs[0].iov_base, sizeof(h));
    mrail_pml_request_t *req = (mrail_pml_request_t *)(uintptr_t)h.rreq;
    size_t at = h.offset;
    for (int i = 1; i < nsegs; i++) {
        size_t n = segs[i].iov_len;
        if (at + n > req->expected) { /* never past what we accepted */
            n = at < req->expected ? req->expected - at : 0;
        }
        if (n > 0) {
            memcpy((char *)req->buf + at, segs[i].iov_base, n);
        }
        at += segs[i].iov_len;
        req->received += n;
    }
    if (req->received == req->expected && req->rstate == PML_RECV_RECEIVING) {
        req->rstate = PML_RECV_DONE;
        pml_request_complete(req);
    }
}

int pml_recv_start(mrail_pml_t *pml, mrail_pml_request_t *req)
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
