/* Receives waiting on a peer that never connected.
 *
 * A peer that dies holding connections to us closes them, and the btl
 * reports the rail failed. One that dies before it ever connected leaves
 * nothing to close: a receive posted for it would wait for ever, unless
 * the launcher ends the job (mrun does; srun only with --kill-on-bad-exit).
 * So once a receive has waited pml_stripe_silent_peer ms on a peer, every
 * rail to that peer that has no connection gets a PROBE, which makes the
 * btl connect: a live peer's host takes the connection (whose loss the btl
 * reports from then on), a dead peer's refuses it, which fails the rail
 * and, with no rail left, the receive. Rails whose btl knows nothing of
 * connections (no health, as sm) are left to the launcher. */
#include "pml_stripe.h"

static void silent_probe_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status,
                              void *cbdata)
{
    /* A failure was reported to on_btl_error already: nothing to add. */
    (void)m, (void)ep, (void)status, (void)cbdata;
}

static void probe_unconnected(pml_stripe_t *pml, uint32_t peer)
{
    static const pml_hdr_ack_t hdr; /* nothing to say: connecting is the point */
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    for (size_t i = 0; pr != NULL && i < pr->count; i++) {
        const mrail_rail_t *rail = &pr->rails[i];
        mrail_btl_module_t *m = rail->module;
        mrail_btl_health_t h = {0};
        if (rail->state != MRAIL_RAIL_UP || m->health == NULL ||
            m->health(m, rail->ep, &h) != MRAIL_ERR_NOT_SUPPORTED) {
            continue; /* connected (or connecting), failed, or nothing to tell */
        }
        pml->stats.silent_probes++;
        m->send(m, rail->ep, PML_TAG_PROBE, &hdr, sizeof(hdr), NULL, 0, silent_probe_done, NULL);
    }
}

static uint32_t awaited_peer(const mrail_pml_request_t *req)
{
    if (req->is_send) {
        return UINT32_MAX;
    }
    if (req->rstate == PML_RECV_POSTED) {
        return req->peer >= 0 ? (uint32_t)req->peer : UINT32_MAX; /* ANY_SOURCE: nobody */
    }
    return req->rstate == PML_RECV_RECEIVING ? req->src : UINT32_MAX;
}

void pml_silent_check(pml_stripe_t *pml, double now_us)
{
    /* A peer counts as awaited without a break while every round finds a
     * receive for it; rounds start at 2 so that a peer never seen (0) is
     * not taken for one seen in the round before the first. */
    unsigned round = ++pml->silent_round;
    for (uint32_t i = 0; i < pml->nreqs; i++) {
        const mrail_pml_request_t *req = pml->reqs[i];
        uint32_t p = req->on_active ? awaited_peer(req) : UINT32_MAX;
        if (p >= pml->size || p == pml->rank || pml->silent_seen[p] == round) {
            continue;
        }
        bool awaited_before = pml->silent_seen[p] == round - 1;
        pml->silent_seen[p] = round;
        if (!awaited_before) {
            pml->silent_since_us[p] = now_us;
        } else if (now_us - pml->silent_since_us[p] >= pml->silent_us) {
            pml->silent_since_us[p] = now_us;
            probe_unconnected(pml, p);
        }
    }
}
