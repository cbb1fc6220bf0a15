/* The table that turns a request number from a peer's header back into a
 * request. Requests are recycled, never freed while the PML is open, so a
 * slot always holds the request it was given to; the generation, bumped
 * at each reuse, tells a late header about an earlier message from one
 * about the current. */
#include <stdlib.h>

#include "pml_stripe.h"

int pml_req_register(pml_stripe_t *pml, mrail_pml_request_t *req)
{
    if (pml->nreqs == pml->reqs_cap) {
        uint32_t cap = pml->reqs_cap ? pml->reqs_cap * 2 : 64;
        mrail_pml_request_t **grown = realloc(pml->reqs, cap * sizeof(*grown));
        if (grown == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        pml->reqs = grown;
        pml->reqs_cap = cap;
    }
    req->slot = pml->nreqs;
    pml->reqs[pml->nreqs++] = req;
    return MRAIL_SUCCESS;
}

uint64_t pml_req_handle(const mrail_pml_request_t *req)
{
    return ((uint64_t)req->gen << 32) | ((uint64_t)req->slot + 1);
}

mrail_pml_request_t *pml_req_lookup(const pml_stripe_t *pml, uint64_t handle)
{
    uint32_t slot = (uint32_t)handle - 1;
    if ((uint32_t)handle == 0 || slot >= pml->nreqs) {
        return NULL;
    }
    mrail_pml_request_t *req = pml->reqs[slot];
    return req->gen == (uint32_t)(handle >> 32) ? req : NULL;
}
