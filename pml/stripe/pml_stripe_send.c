/* The send side of both protocols, one state machine:
 *
 *   eager:      EAGER_SENDING ──btl done──> DONE       (sendi: DONE at once)
 *   rendezvous: RTS_SENT ──CTS──> STRIPING ──last fragment done──> DONE
 *
 * Eager when the header and data fit the first rail's eager limit and the
 * send is not synchronous; otherwise rendezvous, whose data the scheduler
 * spreads over every rail of the peer so that they all finish together. */
#include <stdlib.h>
#include <string.h>

#include "pml_stripe.h"

static void eager_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    mrail_pml_request_t *req = cbdata;
    req->status.error = status == MRAIL_SUCCESS ? MRAIL_SUCCESS : status;
    req->sstate = PML_SEND_DONE;
    pml_request_complete(req);
}

/* A rail's share of a message that the btl could not take at once gives
 * one throughput sample when its last fragment completes: all the bytes it
 * carried over the time since the first was issued. (Per fragment, a
 * sample would count the wait behind the rail's earlier fragments.) Shares
 * a btl took at once (copied into shared memory) say nothing about the rail. */
static void frag_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    pml_frag_ctx_t *f = cbdata;
    mrail_pml_request_t *req = f->req;
    if (status != MRAIL_SUCCESS) {
        req->status.error = status;
    } else if (f->bytes > 0 && f->rail < PML_MAX_RAILS) {
        req->rail_sampled[f->rail] = req->rail_sampled[f->rail] || f->deferred;
        if (--req->rail_pending[f->rail] == 0 && req->rail_sampled[f->rail]) {
            sched_rail_observe(&req->pml->sched[f->peer][f->rail], req->rail_bytes[f->rail],
                               pml_now_us() - req->t_issue);
        }
    }
    if (--req->frags_pending == 0) {
        req->sstate = PML_SEND_DONE;
        pml_request_complete(req);
    }
}

int pml_send_start(mrail_pml_t *pml, mrail_pml_request_t *req)
{
    pml_comm_t *c = pml_comm(pml, req->ctx);
    if (c == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    uint32_t dst = (uint32_t)req->peer;
    const mrail_rail_t *r0 = &mrail_rail_table_peer(&pml->rails.table, dst)->rails[0];
    mrail_btl_module_t *m = r0->module;
    req->mhdr = (pml_hdr_match_t){.ctx = req->ctx,
                                  .src = (int32_t)pml->rank,
                                  .tag = req->tag,
                                  .seq = c->send_seq[dst]++,
                                  .len = req->len,
                                  .sreq = (uintptr_t)req};
    req->status =
        (mrail_pml_status_t){.source = (int32_t)pml->rank, .tag = req->tag, .count = req->len};
    size_t eager_max = m->config.eager_limit < m->config.max_send_size ? m->config.eager_limit
                                                                       : m->config.max_send_size;
    if (!req->synchronous && sizeof(req->mhdr) + req->len <= eager_max) {
        if (m->sendi(m, r0->ep, PML_TAG_EAGER, &req->mhdr, sizeof(req->mhdr), req->buf, req->len) ==
            MRAIL_SUCCESS) {
            req->sstate = PML_SEND_DONE;
            pml_request_complete(req);
            return MRAIL_SUCCESS;
        }
        struct iovec iov = {req->buf, req->len};
        req->sstate = PML_SEND_EAGER_SENDING;
        int rc = m->send(m, r0->ep, PML_TAG_EAGER, &req->mhdr, sizeof(req->mhdr), &iov, 1,
                         eager_done, req);
        if (rc == MRAIL_SUCCESS) {
            eager_done(m, r0->ep, MRAIL_SUCCESS, req);
        }
        return rc < 0 ? rc : MRAIL_SUCCESS;
    }
    req->sstate = PML_SEND_RTS_SENT;
    return pml_send_control(pml, dst, PML_TAG_RTS, &req->mhdr, sizeof(req->mhdr));
}

void pml_send_on_cts(mrail_pml_t *pml, uint32_t from, const pml_hdr_cts_t *cts)
{
    mrail_pml_request_t *req = (mrail_pml_request_t *)(uintptr_t)cts->sreq;
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, from);
    if (cts->accepted == 0) {
        req->sstate = PML_SEND_DONE;
        pml_request_complete(req);
        return;
    }
    sched_rail_t *rails = pml->sched[from];
    for (size_t i = 0; i < pr->count; i++) {
        rails[i].up = pr->rails[i].state == MRAIL_RAIL_UP;
    }
    sched_plan_t plan = {0};
    if (sched_plan_range(rails, (unsigned)pr->count, 0, cts->accepted, &pml->sched_opts, &plan) !=
            0 ||
        (req->frag_hdrs = malloc(plan.count * sizeof(pml_hdr_frag_t))) == NULL) {
        sched_plan_free(&plan);
        req->status.error = MRAIL_ERROR;
        pml->failed = MRAIL_ERROR;
        pml_request_complete(req);
        return;
    }
    req->frag_ctx = malloc((plan.count + 1) * sizeof(pml_frag_ctx_t));
    if (req->frag_ctx == NULL) {
        sched_plan_free(&plan);
        req->status.error = MRAIL_ERR_OUT_OF_RESOURCE;
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        pml_request_complete(req);
        return;
    }
    req->sstate = PML_SEND_STRIPING;
    req->frags_pending = plan.count + 1; /* held until every fragment is issued */
    memset(req->rail_bytes, 0, sizeof(req->rail_bytes));
    memset(req->rail_pending, 0, sizeof(req->rail_pending));
    memset(req->rail_sampled, 0, sizeof(req->rail_sampled));
    for (size_t i = 0; i < plan.count; i++) {
        if (plan.frags[i].rail < PML_MAX_RAILS) {
            req->rail_bytes[plan.frags[i].rail] += plan.frags[i].len;
            req->rail_pending[plan.frags[i].rail]++;
        }
    }
    req->t_issue = pml_now_us();
    for (size_t i = 0; i < plan.count; i++) {
        const sched_frag_t *f = &plan.frags[i];
        const mrail_rail_t *rail = &pr->rails[f->rail];
        pml_frag_ctx_t *ctx = &req->frag_ctx[i];
        *ctx = (pml_frag_ctx_t){req, from, f->rail, f->len, true};
        req->frag_hdrs[i] = (pml_hdr_frag_t){.rreq = cts->rreq, .offset = f->offset};
        struct iovec iov = {(char *)req->buf + f->offset, f->len};
        int rc = rail->module->send(rail->module, rail->ep, PML_TAG_FRAG, &req->frag_hdrs[i],
                                    sizeof(pml_hdr_frag_t), &iov, 1, frag_done, ctx);
        if (rc != MRAIL_BTL_INPROGRESS) {
            ctx->deferred = false; /* taken at once */
            frag_done(rail->module, rail->ep, rc == MRAIL_SUCCESS ? MRAIL_SUCCESS : rc, ctx);
        }
    }
    sched_plan_free(&plan);
    req->frag_ctx[plan.count] = (pml_frag_ctx_t){.req = req}; /* the issuing hold */
    frag_done(NULL, NULL, MRAIL_SUCCESS, &req->frag_ctx[plan.count]);
}
