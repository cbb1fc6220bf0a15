/* Per-peer rail tables. */
#include <stdlib.h>

#include "mrail/rails.h"

int mrail_rail_table_init(mrail_rail_table_t *t, uint32_t npeers)
{
    t->npeers = npeers;
    t->peers = calloc(npeers ? npeers : 1, sizeof(*t->peers));
    return t->peers ? MRAIL_SUCCESS : MRAIL_ERR_OUT_OF_RESOURCE;
}

void mrail_rail_table_fini(mrail_rail_table_t *t)
{
    for (uint32_t p = 0; t->peers && p < t->npeers; p++) {
        free(t->peers[p].rails);
    }
    free(t->peers);
    t->peers = NULL;
    t->npeers = 0;
}

/* Shares in proportion to bandwidth; a rail of unknown bandwidth makes
 * every share equal, since nothing can be compared then. */
static void reweigh(mrail_peer_rails_t *pr)
{
    double total = 0;
    bool unknown = false;
    pr->usable = 0;
    for (size_t i = 0; i < pr->count; i++) {
        if (pr->rails[i].state == MRAIL_RAIL_UP) {
            pr->usable++;
            total += pr->rails[i].module->config.bandwidth;
            unknown = unknown || pr->rails[i].module->config.bandwidth == 0;
        }
    }
    for (size_t i = 0; i < pr->count; i++) {
        mrail_rail_t *r = &pr->rails[i];
        if (r->state != MRAIL_RAIL_UP) {
            r->weight = 0;
        } else if (unknown || total == 0) {
            r->weight = 1.0 / (double)pr->usable;
        } else {
            r->weight = r->module->config.bandwidth / total;
        }
    }
}

int mrail_rail_table_add(mrail_rail_table_t *t, uint32_t peer, mrail_btl_module_t *module,
                         mrail_btl_endpoint_t *ep)
{
    if (peer >= t->npeers || module == NULL || ep == NULL) {
        return MRAIL_ERR_BAD_PARAM;
    }
    mrail_peer_rails_t *pr = &t->peers[peer];
    unsigned excl = module->config.exclusivity;
    if (pr->count > 0) {
        unsigned have = pr->rails[0].module->config.exclusivity;
        if (excl < have) {
            return MRAIL_SUCCESS; /* hidden by a better way to that peer */
        }
        if (excl > have) {
            pr->count = 0; /* this one hides everything there was */
        }
    }
    if (pr->count >= MRAIL_MAX_RAILS) {
        return MRAIL_SUCCESS; /* the PML drives no more: the first ones serve */
    }
    mrail_rail_t *grown = realloc(pr->rails, (pr->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    pr->rails = grown;
    pr->rails[pr->count++] = (mrail_rail_t){module, ep, 0, MRAIL_RAIL_UP};
    reweigh(pr);
    return MRAIL_SUCCESS;
}

const mrail_peer_rails_t *mrail_rail_table_peer(const mrail_rail_table_t *t, uint32_t peer)
{
    return peer < t->npeers ? &t->peers[peer] : NULL;
}

size_t mrail_rail_table_fail(mrail_rail_table_t *t, uint32_t peer, const mrail_btl_module_t *module)
{
    if (peer >= t->npeers) {
        return 0;
    }
    mrail_peer_rails_t *pr = &t->peers[peer];
    for (size_t i = 0; i < pr->count; i++) {
        if (pr->rails[i].module == module) {
            pr->rails[i].state = MRAIL_RAIL_FAILED;
        }
    }
    reweigh(pr);
    return pr->usable;
}

void mrail_rail_table_restore(mrail_rail_table_t *t, uint32_t peer,
                              const mrail_btl_module_t *module)
{
    if (peer >= t->npeers) {
        return;
    }
    mrail_peer_rails_t *pr = &t->peers[peer];
    for (size_t i = 0; i < pr->count; i++) {
        if (pr->rails[i].module == module) {
            pr->rails[i].state = MRAIL_RAIL_UP;
        }
    }
    reweigh(pr);
}

void mrail_rail_table_fail_module(mrail_rail_table_t *t, const mrail_btl_module_t *module)
{
    for (uint32_t p = 0; p < t->npeers; p++) {
        mrail_rail_table_fail(t, p, module);
    }
}
