/* Rail failover for striped messages, and fail-back.
 *
 * A message striped over several rails is done only when the receiver
 * confirms it (FIN). Until then the sender keeps its fragment plan: when a
 * rail fails, every fragment that rail carried for an unconfirmed message
 * goes again over the rails left, whether or not its btl had finished it,
 * because a btl's "done" (bytes in a socket buffer) is no proof of
 * delivery. The receiver drops the copies of fragments it already has (by
 * index in the plan) and those for receives that are over (by request id).
 *
 * Control and eager messages to such peers are kept until acknowledged
 * and go again too (pml_stripe_ctl.c).
 *
 * Fail-back: a failed rail is probed (its btl endpoint reset, a PROBE sent
 * over it) after 1 s, then at doubling intervals up to 30 s; a probe the
 * btl delivers, or anything arriving over the rail, puts it back in the
 * rail table. Its measured rate starts again from nothing, so its weight
 * grows back from what it delivers. */
#include <stdlib.h>

#include "pml_stripe.h"

#define PML_PROBE_FIRST_US 1e6
#define PML_PROBE_MAX_US 30e6

void pml_striping_add(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    req->prev_striping = NULL;
    req->next_striping = pml->striping;
    if (pml->striping != NULL) {
        pml->striping->prev_striping = req;
    }
    pml->striping = req;
}

void pml_striping_remove(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    if (req->prev_striping != NULL) {
        req->prev_striping->next_striping = req->next_striping;
    } else if (pml->striping == req) {
        pml->striping = req->next_striping;
    }
    if (req->next_striping != NULL) {
        req->next_striping->prev_striping = req->prev_striping;
    }
    req->prev_striping = req->next_striping = NULL;
}

int pml_rail_index(const pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *module)
{
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    for (size_t i = 0; pr != NULL && i < pr->count; i++) {
        if (pr->rails[i].module == module) {
            return (int)i;
        }
    }
    return -1;
}

size_t pml_failover(pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *module)
{
    int rail = pml_rail_index(pml, peer, module);
    if (rail < 0) {
        return 0;
    }
    if (pml->sched[peer][rail].up) {
        pml_railq_t *q = &pml->railq[peer][rail];
        pml->stats.rails_failed++;
        pml->rails_down++;
        q->failed++;
        q->peer = peer;
        q->rail = (unsigned)rail;
        q->probe_gap_us = PML_PROBE_FIRST_US;
        q->next_probe_us = pml_now_us() + q->probe_gap_us;
    }
    size_t left = mrail_rail_table_fail(&pml->rails.table, peer, module);
    pml->sched[peer][rail].up = false;
    if (left == 0) {
        return 0;
    }
    pml_railq_drain(pml, peer, (unsigned)rail);
    pml_ctl_resend(pml, peer, module);
    /* No request here can finish before its FIN, so the list holds still. */
    for (mrail_pml_request_t *req = pml->striping, *next; req != NULL; req = next) {
        next = req->next_striping;
        if ((uint32_t)req->peer != peer || req->fin_received) {
            continue; /* a confirmed message only waits for its btl callbacks */
        }
        /* Until FIN, req stays striping, whatever its fragments do now. */
        req->frags_pending++;
        for (size_t i = 0; i < req->nfrags; i++) {
            pml_frag_ctx_t *f = &req->frag_ctx[i];
            if (f->issued && f->module == module) {
                pml_frag_issue(pml, req, i);
            }
        }
        req->frags_pending--;
    }
    return left;
}

void pml_rail_readmit(pml_stripe_t *pml, uint32_t peer, unsigned rail)
{
    sched_rail_t *r = &pml->sched[peer][rail];
    if (r->up) {
        return;
    }
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    mrail_rail_table_restore(&pml->rails.table, peer, pr->rails[rail].module);
    r->up = true;
    r->samples = 0; /* its weight grows back from what it delivers */
    r->measured_bw = r->bytes_sum = r->usec_sum = 0;
    pml->rails_down--;
    pml->unreachable[peer] = false;
    pml->stats.rails_restored++;
    pml->railq[peer][rail].restored++;
}

static void probe_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    pml_railq_t *q = cbdata;
    pml_stripe_t *pml = q->pml;
    q->probing = false;
    if (status == MRAIL_SUCCESS) { /* connected and handed over: the path works */
        pml_rail_readmit(pml, q->peer, q->rail);
        return;
    }
    q->probe_gap_us =
        q->probe_gap_us * 2 < PML_PROBE_MAX_US ? q->probe_gap_us * 2 : PML_PROBE_MAX_US;
    q->next_probe_us = pml_now_us() + q->probe_gap_us;
}

static void probe(pml_stripe_t *pml, pml_railq_t *q)
{
    static const pml_hdr_ack_t hdr; /* nothing to say: arriving is the news */
    const mrail_rail_t *rail = &mrail_rail_table_peer(&pml->rails.table, q->peer)->rails[q->rail];
    mrail_btl_module_t *m = rail->module;
    if (m->reset == NULL) {
        q->next_probe_us = pml_now_us() + PML_PROBE_MAX_US;
        return;
    }
    q->pml = pml;
    q->probing = true;
    m->reset(m, rail->ep);
    int rc = m->send(m, rail->ep, PML_TAG_PROBE, &hdr, sizeof(hdr), NULL, 0, probe_done, q);
    if (rc != MRAIL_INPROGRESS) {
        probe_done(m, rail->ep, rc, q);
    }
}

/* A rail whose btl has bytes out that the peer has not acknowledged for
 * stall_us, while another rail of the same peer is acknowledged (or has
 * nothing out): its path is gone although the btl has not given up yet
 * (TCP waits for its user timeout; a socket buffer hides the stall from
 * completions). A receiver that stops reading still acknowledges what
 * arrives (zero window), so that is never taken for a failure. */
static void stall_check_peer(pml_stripe_t *pml, uint32_t p)
{
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, p);
    mrail_btl_health_t h[MRAIL_MAX_RAILS];
    bool known[MRAIL_MAX_RAILS] = {false}, healthy = false;
    unsigned limit_ms = (unsigned)(pml->stall_us / 1e3);
    size_t n = pr->count < MRAIL_MAX_RAILS ? pr->count : MRAIL_MAX_RAILS;
    for (size_t r = 0; r < n; r++) {
        mrail_btl_module_t *m = pr->rails[r].module;
        known[r] = pr->rails[r].state == MRAIL_RAIL_UP && m->health != NULL &&
                   m->health(m, pr->rails[r].ep, &h[r]) == MRAIL_SUCCESS;
        healthy = healthy || (known[r] && (!h[r].outstanding || h[r].silent_ms < limit_ms / 2));
    }
    for (size_t r = 0; healthy && r < n; r++) {
        if (known[r] && h[r].outstanding && h[r].silent_ms > limit_ms &&
            pml_rail_table_usable(pml, p) > 1) {
            mrail_btl_module_t *m = pr->rails[r].module;
            pml->stats.rails_stalled++;
            pml_failover(pml, p, m);
            if (m->reset != NULL) { /* drop its connection: the probe rebuilds it */
                m->reset(m, pr->rails[r].ep);
            }
        }
    }
}

/* Only peers with striped messages not confirmed yet can be waiting on a
 * dead rail's socket. */
static void stall_check(pml_stripe_t *pml)
{
    pml->stall_gen++;
    for (mrail_pml_request_t *req = pml->striping; req != NULL; req = req->next_striping) {
        uint32_t p = (uint32_t)req->peer;
        if (pml->stall_seen[p] != pml->stall_gen) {
            pml->stall_seen[p] = pml->stall_gen;
            stall_check_peer(pml, p);
        }
    }
}

void pml_health_poll(pml_stripe_t *pml)
{
    pml->health_polls = 0;
    double now = pml_now_us();
    if (pml->stall_us > 0 && pml->striping != NULL) {
        stall_check(pml);
    }
    /* Four rounds per silent_us: often enough to tell a peer awaited
     * without a break, rare enough that the walk over every request is
     * nothing. */
    if (pml->silent_us > 0 && pml->nactive > 0 && now - pml->silent_last_us >= pml->silent_us / 4) {
        pml->silent_last_us = now;
        pml_silent_check(pml, now);
    }
    for (uint32_t p = 0; p < pml->size && pml->rails_down > 0; p++) {
        const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, p);
        for (size_t i = 0; i < pr->count; i++) {
            pml_railq_t *q = &pml->railq[p][i];
            if (!pml->sched[p][i].up && !q->probing && now >= q->next_probe_us) {
                probe(pml, q);
            }
        }
    }
}
