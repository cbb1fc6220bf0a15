/* Job wire-up: every selected btl module, one fence, one rail table. */
#include <stdlib.h>

#include "mrail/rails.h"

static int collect_modules(mrail_frameworks_t *fws, mrail_rails_t *rails, mrail_reason_t *why)
{
    mrail_framework_t *btl = mrail_frameworks_find(fws, "btl");
    for (size_t i = 0; btl != NULL && i < btl->entry_count; i++) {
        mrail_component_entry_t *e = &btl->entries[i];
        for (size_t k = 0; e->state == MRAIL_COMPONENT_SELECTED && k < e->module_count; k++) {
            mrail_btl_module_t *m = e->modules[k];
            if (m->add_peers == NULL) {
                continue; /* probe only: no data path yet */
            }
            mrail_btl_module_t **grown =
                realloc(rails->modules, (rails->nmodules + 1) * sizeof(*grown));
            if (grown == NULL) {
                return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
            }
            rails->modules = grown;
            rails->modules[rails->nmodules++] = m;
        }
    }
    return MRAIL_SUCCESS;
}

/* Highest exclusivity first (stable), so that each module is offered only
 * the ranks no better module reaches: tcp never pairs with (or later
 * connects to) a peer that sm reaches. */
static void by_exclusivity(mrail_btl_module_t **mods, size_t n)
{
    for (size_t a = 1; a < n; a++) {
        mrail_btl_module_t *v = mods[a];
        size_t b = a;
        while (b > 0 && mods[b - 1]->config.exclusivity < v->config.exclusivity) {
            mods[b] = mods[b - 1];
            b--;
        }
        mods[b] = v;
    }
}

/* The ranks that no module of higher exclusivity than excl reaches. */
static size_t unreached(const mrail_rail_table_t *t, unsigned excl, uint32_t *ranks, uint32_t size)
{
    size_t n = 0;
    for (uint32_t r = 0; r < size; r++) {
        const mrail_peer_rails_t *pr = mrail_rail_table_peer(t, r);
        if (pr->count == 0 || pr->rails[0].module->config.exclusivity <= excl) {
            ranks[n++] = r;
        }
    }
    return n;
}

/* Is m the module of some peer's rail? */
static bool module_carries(const mrail_rail_table_t *t, const mrail_btl_module_t *m)
{
    for (uint32_t r = 0; r < t->npeers; r++) {
        for (size_t k = 0; k < t->peers[r].count; k++) {
            if (t->peers[r].rails[k].module == m) {
                return true;
            }
        }
    }
    return false;
}

int mrail_rails_connect(mrail_frameworks_t *fws, mrail_rte_t *rte, mrail_btl_am_table_t *am,
                        mrail_rails_t *rails, mrail_reason_t *why)
{
    const mrail_rte_facts_t *f = mrail_rte_facts(rte);
    *rails = (mrail_rails_t){0};
    int rc = collect_modules(fws, rails, why);
    by_exclusivity(rails->modules, rails->nmodules);
    for (size_t i = 0; rc == MRAIL_SUCCESS && i < rails->nmodules; i++) {
        mrail_btl_module_t *m = rails->modules[i];
        m->am = am;
        m->rte = rte;
        rc = m->wire_up ? m->wire_up(m, why) : MRAIL_SUCCESS;
    }
    /* Every rank fences, even after a local failure, so that no peer waits. */
    int frc = mrail_rte_modex_fence(rte, rc == MRAIL_SUCCESS ? why : NULL);
    rc = rc != MRAIL_SUCCESS ? rc : frc;
    uint32_t *ranks = malloc(f->size * sizeof(*ranks));
    mrail_btl_endpoint_t **eps = malloc(f->size * sizeof(*eps));
    if (rc == MRAIL_SUCCESS && (ranks == NULL || eps == NULL ||
                                mrail_rail_table_init(&rails->table, f->size) != MRAIL_SUCCESS)) {
        rc = mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    for (size_t i = 0; rc == MRAIL_SUCCESS && i < rails->nmodules; i++) {
        mrail_btl_module_t *m = rails->modules[i];
        size_t n = unreached(&rails->table, m->config.exclusivity, ranks, f->size);
        rc = m->add_peers(m, ranks, n, eps, why);
        for (size_t k = 0; rc == MRAIL_SUCCESS && k < n; k++) {
            if (eps[k] != NULL) {
                rc = mrail_rail_table_add(&rails->table, ranks[k], m, eps[k]);
            }
        }
    }
    rails->carrying =
        rc == MRAIL_SUCCESS ? calloc(rails->nmodules + 1, sizeof(*rails->carrying)) : NULL;
    if (rc == MRAIL_SUCCESS && rails->carrying == NULL) {
        rc = mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    for (size_t i = 0; rc == MRAIL_SUCCESS && i < rails->nmodules; i++) {
        if (module_carries(&rails->table, rails->modules[i])) {
            rails->carrying[rails->ncarrying++] = rails->modules[i];
        }
    }
    for (uint32_t r = 0; rc == MRAIL_SUCCESS && r < f->size; r++) {
        if (mrail_rail_table_peer(&rails->table, r)->count == 0) {
            rc = mrail_reason_set(why, MRAIL_ERR_NOT_FOUND,
                                  "no selected btl reaches rank %u from rank %u (btl=%s)", r,
                                  f->rank, mrail_frameworks_find(fws, "btl")->selection);
        }
    }
    free(ranks);
    free(eps);
    if (rc != MRAIL_SUCCESS) {
        mrail_rails_disconnect(rails);
    }
    return rc;
}

void mrail_rails_disconnect(mrail_rails_t *rails)
{
    mrail_rail_table_fini(&rails->table);
    free(rails->modules);
    free(rails->carrying);
    rails->carrying = NULL;
    rails->ncarrying = 0;
    rails->modules = NULL;
    rails->nmodules = 0;
}

#define RAILS_IDLE_MODULE_POLLS (1u << 14)

int mrail_rails_progress(mrail_rails_t *rails)
{
    int events = 0;
    /* Modules that carry no rail (tcp when sm reaches every peer) only
     * accept connections nobody in the job makes: their turn costs a
     * system call (epoll_wait), which every 256 polls was a third of an
     * 8-byte ping-pong's time. A few hundred microseconds is prompt enough
     * for a listener. The others are walked from their own short list:
     * the walk is what an idle wait does between two looks at the rings. */
    if (++rails->quiet_polls >= RAILS_IDLE_MODULE_POLLS || rails->carrying == NULL) {
        rails->quiet_polls = 0;
        for (size_t i = 0; i < rails->nmodules; i++) {
            events += rails->modules[i]->progress(rails->modules[i]);
        }
        return events;
    }
    for (size_t i = 0; i < rails->ncarrying; i++) {
        events += rails->carrying[i]->progress(rails->carrying[i]);
    }
    return events;
}
