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
#define PML_HEALTH_EVERY 1024 /* progress calls between looks at the clock */

void pml_striping_add(mrail_pml_t *pml, mrail_pml_request_t *req)
{
    req->prev_striping = NULL;
    req->next_striping = pml->striping;
    if (pml->striping != NULL) {
        pml->striping->prev_striping = req;
    }
    pml->striping = req;
}

void pml_striping_remove(mrail_pml_t *pml, mrail_pml_request_t *req)
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

int pml_rail_index(const mrail_pml_t *pml, uint32_t peer, const mrail_btl_module_t *module)
{
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    for (size_t i = 0; pr != NULL && i < pr->count; i++) {
        if (pr->rails[i].module == module) {
            return (int)i;
        }
    }
    return -1;
}

size_t pml_failover(mrail_pml_t *pml, uint32_t peer, const mrail_btl_module_t *module)
{
    int rail = pml_rail_index(pml, peer, module);
    if (rail < 0) {
        return 0;
    }
    if (pml->sched[peer][rail].up) {
        pml_railq_t *q = &pml->railq[peer][rail];
        pml->stats.rails_failed++;
        pml->rails_down++;
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

void pml_rail_readmit(mrail_pml_t *pml, uint32_t peer, unsigned rail)
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
}

static void probe_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    pml_railq_t *q = cbdata;
    mrail_pml_t *pml = q->pml;
    q->probing = false;
    if (status == MRAIL_SUCCESS) { /* connected and handed over: the path works */
        pml_rail_readmit(pml, q->peer, q->rail);
        return;
    }
    q->probe_gap_us =
        q->probe_gap_us * 2 < PML_PROBE_MAX_US ? q->probe_gap_us * 2 : PML_PROBE_MAX_US;
    q->next_probe_us = pml_now_us() + q->probe_gap_us;
}

static void probe(mrail_pml_t *pml, pml_railq_t *q)
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
    if (rc != MRAIL_BTL_INPROGRESS) {
        probe_done(m, rail->ep, rc, q);
    }
}

void pml_failback_poll(mrail_pml_t *pml)
{
    if (++pml->health_polls < PML_HEALTH_EVERY) {
        return;
    }
    pml->health_polls = 0;
    double now = pml_now_us();
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
