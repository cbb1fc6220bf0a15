/* The send side of the protocols, one state machine:
 *
 *   eager:      EAGER_SENDING ──btl done──> DONE       (sendi: DONE at once)
 *   rendezvous: RTS_SENT ──CTS──> STRIPING ──last fragment done [and FIN]──> DONE
 *   rdma get:   RTS_SENT ──FIN──> DONE       (──CTS──> STRIPING if get failed)
 *
 * Eager when the header and data fit the first rail's eager limit and the
 * send is not synchronous. Rendezvous data is spread by the scheduler over
 * every rail of the peer so that they all finish together; over more than
 * one rail the message is done only when the receiver confirms (FIN), so
 * that a failing rail's fragments can go again. A single-rail peer whose
 * btl offers get() pulls large messages itself (one copy). */
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

static void send_finish(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    if (req->registered) {
        req->rget_module->mem_deregister(req->rget_module, req->rts.reg);
        req->registered = false;
    }
    if (req->confirm) {
        pml_striping_remove(pml, req);
    }
    req->sstate = PML_SEND_DONE;
    pml_request_complete(req);
}

static void maybe_finish(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    bool dead = pml->unreachable[req->peer]; /* no FIN will come */
    if (req->frags_pending == 0 && (!req->confirm || req->fin_received || dead)) {
        send_finish(pml, req);
    }
}

void pml_send_abort(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    req->status.error = MRAIL_ERR_UNREACHABLE;
    switch (req->sstate) {
    case PML_SEND_RTS_SENT: send_finish(pml, req); break;
    case PML_SEND_STRIPING: maybe_finish(pml, req); break;
    default: break; /* eager: its btl callback reports the failure */
    }
}

static void rail_pump(pml_stripe_t *pml, uint32_t peer, unsigned rail);

/* A fragment's btl callback. One whose fragment has since gone again on
 * another rail (after a failover) only counts down. The rail it left has
 * room for the next waiting fragment. */
static void frag_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)ep;
    pml_frag_ctx_t *f = cbdata;
    mrail_pml_request_t *req = f->req;
    pml_stripe_t *pml = req->pml;
    int rail = pml_rail_index(pml, f->peer, m);
    if (rail >= 0) {
        pml->railq[f->peer][rail].inflight--;
    }
    if (status != MRAIL_SUCCESS && m == f->module) {
        /* Unconfirmed messages survive while another rail is left. */
        if (!req->confirm) {
            req->status.error = status;
            pml->failed = status;
        } else if (pml_failover(pml, f->peer, m) == 0) {
            pml_peer_unreachable(pml, f->peer);
        }
    }
    if (rail >= 0 && status == MRAIL_SUCCESS) {
        rail_pump(pml, f->peer, (unsigned)rail);
    }
    if (--req->frags_pending == 0) {
        maybe_finish(pml, req);
    }
}

/* Hands fragment f to its rail's btl. */
static void frag_send(pml_stripe_t *pml, pml_frag_ctx_t *f)
{
    mrail_pml_request_t *req = f->req;
    size_t i = (size_t)(f - req->frag_ctx);
    const mrail_rail_t *rail = &mrail_rail_table_peer(&pml->rails.table, f->peer)->rails[f->rail];
    f->module = rail->module;
    f->issued = true;
    struct iovec pieces[PML_MAX_PIECES];
    int npieces = 1;
    pieces[0] = (struct iovec){(char *)req->buf + f->offset, f->len};
    if (req->iov != NULL &&
        (npieces = pml_iov_slice(req, f->offset, f->len, pieces, PML_MAX_PIECES)) < 0) {
        req->status.error = MRAIL_ERR_BAD_PARAM; /* the caller's pieces are too small */
        pml->failed = MRAIL_ERR_BAD_PARAM;
        pml->railq[f->peer][f->rail].inflight--;
        if (--req->frags_pending == 0) {
            maybe_finish(pml, req);
        }
        return;
    }
    int rc = rail->module->send(rail->module, rail->ep, PML_TAG_FRAG, &req->frag_hdrs[i],
                                sizeof(pml_hdr_frag_t), pieces, npieces, frag_done, f);
    if (rc != MRAIL_INPROGRESS) {
        frag_done(rail->module, rail->ep, rc == MRAIL_SUCCESS ? MRAIL_SUCCESS : rc, f);
    }
}

static void railq_push(pml_railq_t *q, pml_frag_ctx_t *f)
{
    f->queued = true;
    f->next_wait = NULL;
    f->prev_wait = q->tail;
    if (q->tail != NULL) {
        q->tail->next_wait = f;
    } else {
        q->head = f;
    }
    q->tail = f;
    q->queued_bytes += f->len;
}

static void railq_unlink(pml_railq_t *q, pml_frag_ctx_t *f)
{
    if (f->prev_wait != NULL) {
        f->prev_wait->next_wait = f->next_wait;
    } else {
        q->head = f->next_wait;
    }
    if (f->next_wait != NULL) {
        f->next_wait->prev_wait = f->prev_wait;
    } else {
        q->tail = f->prev_wait;
    }
    f->next_wait = f->prev_wait = NULL;
    f->queued = false;
    q->queued_bytes -= f->len;
}

/* Bytes a rail's btl holds for the peer and the peer has not acknowledged
 * (0 when the btl cannot tell). */
static size_t rail_backlog(pml_stripe_t *pml, uint32_t peer, unsigned rail)
{
    const mrail_rail_t *r = &mrail_rail_table_peer(&pml->rails.table, peer)->rails[rail];
    mrail_btl_health_t h = {0};
    mrail_btl_module_t *m = r->module;
    return m->health != NULL && m->health(m, r->ep, &h) == MRAIL_SUCCESS ? h.backlog : 0;
}

/* The rail's queue ran dry while its window has room: it takes the last
 * waiting fragment of the rail that would send it last, if it gets it to
 * the peer sooner, counting what each btl still holds (socket buffers
 * hide seconds of a slow rail's work). Weights set from yesterday's
 * measurements (or a rail that loses packets today) then cost only the
 * last fragments' worth at the end of a burst. */
static bool rail_steal(pml_stripe_t *pml, uint32_t peer, unsigned rail)
{
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    const sched_rail_t *s = pml->sched[peer];
    unsigned n = pr->count < MRAIL_MAX_RAILS ? (unsigned)pr->count : MRAIL_MAX_RAILS;
    double bw[MRAIL_MAX_RAILS];
    sched_plan_rates(s, n, &pml->sched_opts, bw);
    double my_bw = rail < n ? bw[rail] : 0, my_backlog = -1;
    unsigned victim = UINT32_MAX;
    double latest = 0;
    for (unsigned r = 0; r < n && my_bw > 0; r++) {
        const pml_railq_t *v = &pml->railq[peer][r];
        if (r == rail || v->tail == NULL || bw[r] <= 0 || v->tail->len > s[rail].max_frag) {
            continue;
        }
        if (my_backlog < 0) {
            my_backlog = (double)rail_backlog(pml, peer, rail);
        }
        double theirs = (double)(rail_backlog(pml, peer, r) + v->queued_bytes) / bw[r];
        double mine = (my_backlog + (double)v->tail->len) / my_bw;
        if (theirs > latest && mine < theirs) {
            latest = theirs;
            victim = r;
        }
    }
    if (victim == UINT32_MAX) {
        return false;
    }
    pml_frag_ctx_t *f = pml->railq[peer][victim].tail;
    railq_unlink(&pml->railq[peer][victim], f);
    mrail_pml_request_t *req = f->req;
    f->rail = rail;
    f->module = pr->rails[rail].module;
    req->frag_hdrs[f - req->frag_ctx].rail = (uint8_t)rail;
    req->frag_hdrs[f - req->frag_ctx].flags |= PML_FRAG_STOLEN;
    railq_push(&pml->railq[peer][rail], f);
    pml->stats.frags_stolen++;
    return true;
}

/* Sends waiting fragments while the rail's window has room. A btl that
 * finishes a send at once calls back into here: the inner call returns and
 * this loop goes on, so the stack stays flat. */
static void rail_pump(pml_stripe_t *pml, uint32_t peer, unsigned rail)
{
    pml_railq_t *q = &pml->railq[peer][rail];
    if (q->pumping) {
        return;
    }
    q->pumping = true;
    while (pml->send_window == 0 || q->inflight < pml->send_window) {
        if (q->head == NULL &&
            !(pml->steal && pml->sched[peer][rail].up && rail_steal(pml, peer, rail))) {
            break;
        }
        pml_frag_ctx_t *f = q->head;
        railq_unlink(q, f);
        q->inflight++;
        q->sent_bytes += f->len;
        q->sent_frags++;
        pml->stats.max_inflight =
            q->inflight > pml->stats.max_inflight ? q->inflight : pml->stats.max_inflight;
        frag_send(pml, f);
    }
    q->pumping = false;
}

void pml_railq_drain(pml_stripe_t *pml, uint32_t peer, unsigned rail)
{
    pml_railq_t *q = &pml->railq[peer][rail];
    pml_frag_ctx_t *f = q->head;
    q->head = q->tail = NULL;
    q->queued_bytes = 0;
    while (f != NULL) {
        pml_frag_ctx_t *next = f->next_wait;
        f->next_wait = f->prev_wait = NULL;
        f->queued = false;
        f->req->frags_pending--; /* pml_frag_issue counts it again */
        pml_frag_issue(pml, f->req, (size_t)(f - f->req->frag_ctx));
        f = next;
    }
}

void pml_railq_abandon(pml_stripe_t *pml, uint32_t peer)
{
    size_t n = mrail_rail_table_peer(&pml->rails.table, peer)->count;
    for (size_t r = 0; r < n; r++) {
        pml_railq_t *q = &pml->railq[peer][r];
        for (pml_frag_ctx_t *f = q->head, *next; f != NULL; f = next) {
            next = f->next_wait;
            f->next_wait = f->prev_wait = NULL;
            f->queued = false;
            f->req->frags_pending--; /* its request finishes with the error */
        }
        q->head = q->tail = NULL;
        q->queued_bytes = 0;
    }
}

void pml_frag_issue(pml_stripe_t *pml, mrail_pml_request_t *req, size_t i)
{
    pml_frag_ctx_t *f = &req->frag_ctx[i];
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, f->peer);
    sched_rail_t *rails = pml->sched[f->peer];
    if (!rails[f->rail].up) {
        sched_frag_t lost = {f->rail, f->offset, f->len};
        sched_plan_t plan = {0};
        int rc = sched_reassign(rails, (unsigned)pr->count, &lost, 1, &pml->sched_opts, &plan);
        unsigned to = rc == 0 ? plan.frags[0].rail : 0;
        sched_plan_free(&plan);
        if (rc != 0) {
            req->status.error = MRAIL_ERROR;
            pml->failed = MRAIL_ERROR;
            return;
        }
        f->rail = to;
        req->frag_hdrs[i].flags |= PML_FRAG_RESENT;
        pml->stats.resent += f->issued;
    }
    if (f->queued) {
        return; /* already waiting for room */
    }
    req->frags_pending++;
    pml_railq_t *q = &pml->railq[f->peer][f->rail];
    /* Its rail from now on: a failover looks for fragments by module. */
    f->module = pr->rails[f->rail].module;
    railq_push(q, f);
    rail_pump(pml, f->peer, f->rail);
    pml->stats.frags_waited += f->queued; /* no room: it waits for a completion */
}

/* Whether a message of len bytes to dst is large enough for rdma get over
 * m: from the btl's min_rdma_pipeline_size; or, where the btl shares the
 * copy with the receiver, from pml_stripe_bidir_rget_size while dst also
 * streams to us. Then both sides copy what they receive, once, instead of
 * two copies of every byte per core through the rings: measured on two
 * cores, bibw at 128-256 KiB rose from 25-27 GB/s to 29-43.
 * "Streams to us" is a rendezvous from dst in the last PML_BIDIR_US. With
 * 1 ms, bibw fell into a trap: a window of 64 sends posted at once (OSU's)
 * decides on the RTSs of the previous window, which all arrived at its
 * start; once a window took over 1 ms, the next went through the rings,
 * took longer still, and the run stayed there (5 GB/s at 128-256 KiB in
 * about one run in two, against 10-18 with get forced). A false "both
 * ways" only costs a one-way message the shared get, level with the rings
 * at these sizes. */
#define PML_BIDIR_US 50000.0
/* Over a btl that shares the copy these thresholds are where a size class
 * from PML_ADAPT_MIN starts: which of the two is faster is then measured
 * (pml_stripe_adapt.c), and req->adapt_class says the send is. One way
 * below min the class starts from the rings and tries rdma get only while
 * the rings are slow: there get read 6-10 GB/s against the rings' 19-35 in
 * the fast mode, while each try of it cost a short benchmark a third of its
 * rate at 64 KiB. */
static bool rget_size_ok(pml_stripe_t *pml, mrail_pml_request_t *req, const mrail_btl_module_t *m)
{
    uint32_t dst = (uint32_t)req->peer;
    size_t len = req->len, min = m->config.min_rdma_pipeline_size;
    if (min == 0) {
        return false; /* the btl keeps get for others' use only */
    }
    bool shared = (m->flags & MRAIL_BTL_FLAG_GET_SHARED) != 0;
    bool both =
        shared && pml->rndv_rx_us[dst] > 0 && pml_now_us() - pml->rndv_rx_us[dst] < PML_BIDIR_US;
    bool get = len >= min || (both && pml->bidir_rget > 0 && len >= pml->bidir_rget);
    if (shared && len >= PML_ADAPT_MIN) {
        return pml_adapt_use_get(pml, dst, len, both, get, &req->adapt_class);
    }
    return get;
}

/* rdma get: the single rail offers get() and the message is large enough. */
static const mrail_rail_t *rget_rail(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    uint32_t dst = (uint32_t)req->peer;
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, dst);
    if (pr->usable != 1 || pr->count != 1) {
        return NULL;
    }
    const mrail_rail_t *r = &pr->rails[0];
    const mrail_btl_module_t *m = r->module;
    bool can = (m->flags & MRAIL_BTL_FLAG_GET) && m->get != NULL && m->put_limit > 0 &&
               m->reg_size <= PML_REG_MAX && (m->reg_size == 0 || m->mem_register != NULL) &&
               rget_size_ok(pml, req, m); /* last: it may start measuring the send */
    return can ? r : NULL;
}

/* The largest EAGER message (header included) module m carries. */
static size_t eager_max_of(const mrail_btl_module_t *m)
{
    return m->config.eager_limit < m->config.max_send_size ? m->config.eager_limit
                                                           : m->config.max_send_size;
}

int pml_send_start(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    pml_comm_t *c = pml_comm(pml, req->ctx);
    if (c == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    uint32_t dst = (uint32_t)req->peer;
    const mrail_rail_t *r0 = pml_first_up(pml, dst);
    if (r0 == NULL) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_btl_module_t *m = r0->module;
    req->rts.m = (pml_hdr_match_t){.ctx = req->ctx,
                                   .src = (int32_t)pml->rank,
                                   .tag = req->tag,
                                   .seq = c->send_seq[dst]++,
                                   .len = req->len,
                                   .sreq = pml_req_handle(req)};
    req->status =
        (mrail_pml_status_t){.source = (int32_t)pml->rank, .tag = req->tag, .count = req->len};
    size_t eager_max = eager_max_of(m);
    if (!req->synchronous && sizeof(req->rts.m) + req->len <= eager_max &&
        r0->state == MRAIL_RAIL_UP && req->niov <= PML_MAX_PIECES) {
        pml->stats.eager++;
        if (mrail_rail_table_peer(&pml->rails.table, dst)->count > 1) {
            /* Kept until acknowledged, so the request is done at once. */
            struct iovec whole = {req->buf, req->len};
            int rc = pml_ctl_send(pml, dst, PML_TAG_EAGER, &req->rts.m, sizeof(req->rts.m),
                                  req->iov != NULL ? req->iov : &whole,
                                  req->iov != NULL ? req->niov : 1);
            if (rc == MRAIL_SUCCESS) {
                req->sstate = PML_SEND_DONE;
                pml_request_complete(req);
            }
            return rc;
        }
        if (req->iov != NULL) { /* the btl sends from the pieces */
            req->sstate = PML_SEND_EAGER_SENDING;
            int rc = m->send(m, r0->ep, PML_TAG_EAGER, &req->rts.m, sizeof(req->rts.m), req->iov,
                             req->niov, eager_done, req);
            if (rc == MRAIL_SUCCESS) {
                eager_done(m, r0->ep, MRAIL_SUCCESS, req);
            }
            return rc < 0 ? rc : MRAIL_SUCCESS;
        }
        pml_hdr_short_t sh = {
            .ctx = (uint16_t)req->ctx, .seq = (uint16_t)req->rts.m.seq, .tag = req->tag};
        if (m->sendi != NULL && req->ctx <= UINT16_MAX && sizeof(sh) + req->len <= eager_max &&
            m->sendi(m, r0->ep, PML_TAG_SHORT, &sh, sizeof(sh), req->buf, req->len) ==
                MRAIL_SUCCESS) {
            req->sstate = PML_SEND_DONE;
            pml_request_complete(req);
            return MRAIL_SUCCESS;
        }
        struct iovec iov = {req->buf, req->len};
        req->sstate = PML_SEND_EAGER_SENDING;
        int rc = m->send(m, r0->ep, PML_TAG_EAGER, &req->rts.m, sizeof(req->rts.m), &iov, 1,
                         eager_done, req);
        if (rc == MRAIL_SUCCESS) {
            eager_done(m, r0->ep, MRAIL_SUCCESS, req);
        }
        return rc < 0 ? rc : MRAIL_SUCCESS;
    }
    req->sstate = PML_SEND_RTS_SENT;
    const mrail_rail_t *rg = req->len > 0 && req->iov == NULL ? rget_rail(pml, req) : NULL;
    if (req->adapt_class != 0) {
        pml_adapt_started(pml, dst, req->adapt_class);
    }
    size_t rts_len = sizeof(req->rts.m);
    if (rg != NULL) {
        mrail_btl_module_t *gm = rg->module;
        if (gm->reg_size == 0 || gm->mem_register(gm, req->buf, req->len, req->rts.reg) == 0) {
            req->registered = gm->reg_size > 0;
            req->rget_module = gm;
            req->rts.addr = (uintptr_t)req->buf;
            req->rts.rget = 1;
            req->rts.reg_len = (uint32_t)gm->reg_size;
            rts_len = sizeof(req->rts);
        }
    }
    return pml_send_control(pml, dst, PML_TAG_RTS, &req->rts, rts_len);
}

int pml_send_inline(pml_stripe_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx)
{
    if (dst >= pml->size || tag < 0) {
        return MRAIL_ERR_BAD_PARAM;
    }
    /* Only a single-rail peer: with several, eager messages go through the
     * acknowledged control channel so that a failing rail's can go again. */
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, dst);
    pml_comm_t *c;
    if (pr->count != 1 || pr->rails[0].state != MRAIL_RAIL_UP || pml->unreachable[dst] ||
        pr->rails[0].module->sendi == NULL || (c = pml_comm(pml, ctx)) == NULL) {
        return MRAIL_ERR_AGAIN; /* isend decides, and reports what it finds */
    }
    const mrail_rail_t *r0 = &pr->rails[0];
    mrail_btl_module_t *m = r0->module;
    size_t eager_max = eager_max_of(m);
    pml_hdr_short_t h = {.ctx = (uint16_t)ctx, .seq = (uint16_t)c->send_seq[dst], .tag = tag};
    if (ctx > UINT16_MAX || sizeof(h) + len > eager_max ||
        m->sendi(m, r0->ep, PML_TAG_SHORT, &h, sizeof(h), buf, len) != MRAIL_SUCCESS) {
        return MRAIL_ERR_AGAIN; /* nothing went: the sequence number stays free */
    }
    c->send_seq[dst]++;
    pml->stats.eager++;
    return MRAIL_SUCCESS;
}

/* The figures the receiver measured of our rails towards it; a rail it
 * has no figure for (never measured, or forgotten) is planned by its
 * nominal rate. */
static void take_rates(sched_rail_t *rails, size_t count, const pml_hdr_cts_t *cts)
{
    for (size_t i = 0; i < count && i < cts->nrails && i < MRAIL_MAX_RAILS; i++) {
        if (cts->samples[i] > 0 && cts->bw[i] > 0) {
            rails[i].measured_bw = cts->bw[i];
            rails[i].samples = cts->samples[i];
        } else {
            rails[i].measured_bw = 0;
            rails[i].samples = 0;
        }
    }
}

void pml_send_on_cts(pml_stripe_t *pml, uint32_t from, const pml_hdr_cts_t *cts)
{
    mrail_pml_request_t *req = pml_req_lookup(pml, cts->sreq);
    if (req == NULL || !req->is_send || req->sstate != PML_SEND_RTS_SENT ||
        req->peer != (int32_t)from || cts->accepted > req->len) {
        pml->stats.malformed++; /* a CTS is sent once (copies are dropped by cseq) */
        return;
    }
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, from);
    sched_rail_t *rails = pml->sched[from];
    take_rates(rails, pr->count, cts);
    if (cts->accepted == 0) {
        send_finish(pml, req);
        return;
    }
    for (size_t i = 0; i < pr->count; i++) {
        rails[i].up = pr->rails[i].state == MRAIL_RAIL_UP;
    }
    sched_plan_t plan = {0};
    if (sched_plan_range(rails, (unsigned)pr->count, 0, cts->accepted, &pml->sched_opts, &plan) !=
            0 ||
        (req->frag_hdrs = malloc(plan.count * sizeof(pml_hdr_frag_t))) == NULL ||
        (req->frag_ctx = malloc(plan.count * sizeof(pml_frag_ctx_t))) == NULL) {
        sched_plan_free(&plan);
        req->status.error = MRAIL_ERR_OUT_OF_RESOURCE;
        pml->failed = MRAIL_ERR_OUT_OF_RESOURCE;
        send_finish(pml, req);
        return;
    }
    req->sstate = PML_SEND_STRIPING;
    pml->stats.rendezvous++;
    req->nfrags = plan.count;
    req->confirm = pr->usable > 1;
    uint8_t flags = req->confirm ? PML_FRAG_CONFIRM : 0;
    for (size_t i = 0; i < plan.count; i++) {
        const sched_frag_t *f = &plan.frags[i];
        req->frag_ctx[i] = (pml_frag_ctx_t){
            .req = req, .peer = from, .rail = f->rail, .offset = f->offset, .len = f->len};
        req->frag_hdrs[i] = (pml_hdr_frag_t){.rreq = cts->rreq,
                                             .rid = cts->rid,
                                             .offset = f->offset,
                                             .index = (uint32_t)i,
                                             .nfrags = (uint32_t)plan.count,
                                             .rail = (uint8_t)f->rail,
                                             .flags = flags};
    }
    sched_plan_free(&plan);
    if (req->confirm) {
        pml_striping_add(pml, req);
    }
    req->frags_pending = 1; /* held until every fragment is issued */
    for (size_t i = 0; i < req->nfrags; i++) {
        pml_frag_issue(pml, req, i);
    }
    if (--req->frags_pending == 0) {
        maybe_finish(pml, req);
    }
}

void pml_send_on_fin(pml_stripe_t *pml, uint32_t from, const pml_hdr_fin_t *fin)
{
    mrail_pml_request_t *req = pml_req_lookup(pml, fin->sreq);
    if (req == NULL || !req->is_send || req->peer != (int32_t)from ||
        !((req->sstate == PML_SEND_RTS_SENT && req->rts.rget) ||
          (req->sstate == PML_SEND_STRIPING && req->confirm && !req->fin_received))) {
        pml->stats.malformed++;
        return;
    }
    if (req->sstate == PML_SEND_RTS_SENT) { /* rdma get: the receiver has it all */
        pml->stats.rget++;
        send_finish(pml, req);
        return;
    }
    req->fin_received = true;
    maybe_finish(pml, req);
}
