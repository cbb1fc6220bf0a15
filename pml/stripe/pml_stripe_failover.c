/* Rail failover for striped messages.
 *
 * A message striped over several rails is done only when the receiver
 * confirms it (FIN). Until then the sender keeps its fragment plan: when a
 * rail fails, every fragment that rail carried for an unconfirmed message
 * goes again over the rails left, whether or not its btl had finished it,
 * because a btl's "done" (bytes in a socket buffer) is no proof of
 * delivery. The receiver drops the copies of fragments it already has (by
 * index in the plan) and those for receives that are over (by request id).
 *
 * Not covered: a control message (RTS, CTS, FIN) that a btl accepted and a
 * failing rail then lost. They travel on the peer's first rail that is up. */
#include "pml_stripe.h"

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
    pml->stats.rails_failed += pml->sched[peer][rail].up;
    size_t left = mrail_rail_table_fail(&pml->rails.table, peer, module);
    pml->sched[peer][rail].up = false;
    if (left == 0) {
        return 0;
    }
    pml_railq_drain(pml, peer, (unsigned)rail);
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
