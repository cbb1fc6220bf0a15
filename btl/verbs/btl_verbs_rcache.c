/* btl/verbs registration cache. Registering memory with an HCA pins it and
 * costs tens of microseconds, so a buffer sent again (the common case:
 * an application's halo or collective buffers) reuses its registration.
 * The danger is memory that goes back to the system and comes back at the
 * same address with other pages: the cached registration would point the
 * HCA at the old ones. btl_verbs_rcache_invalidate is called when memory
 * is released (runtime/rte_mem_release.c), and drops what overlaps it. */
#include <stdlib.h>
#include <unistd.h>

#include "btl_verbs.h"

void btl_verbs_rcache_init(btl_verbs_rcache_t *rc, size_t max, btl_verbs_reg_fn_t reg,
                           btl_verbs_dereg_fn_t dereg, void *ctx)
{
    long page = sysconf(_SC_PAGESIZE);
    *rc = (btl_verbs_rcache_t){
        .max = max, .page = page > 0 ? (size_t)page : 4096, .reg = reg, .dereg = dereg, .ctx = ctx};
}

static void unlink_reg(btl_verbs_rcache_t *rc, btl_verbs_reg_t *r)
{
    for (btl_verbs_reg_t **p = &rc->head; *p != NULL; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            rc->count--;
            return;
        }
    }
}

static void drop(btl_verbs_rcache_t *rc, btl_verbs_reg_t *r)
{
    rc->dereg(rc->ctx, r->handle);
    free(r);
}

/* Unused registrations beyond max go, least recently used first. */
static void evict(btl_verbs_rcache_t *rc)
{
    while (rc->count > rc->max) {
        btl_verbs_reg_t *oldest = NULL;
        for (btl_verbs_reg_t *r = rc->head; r != NULL; r = r->next) {
            if (r->refs == 0 && (oldest == NULL || r->last_use < oldest->last_use)) {
                oldest = r;
            }
        }
        if (oldest == NULL) {
            return; /* all in use: they go when put back */
        }
        unlink_reg(rc, oldest);
        drop(rc, oldest);
        rc->evictions++;
    }
}

btl_verbs_reg_t *btl_verbs_rcache_get(btl_verbs_rcache_t *rc, const void *addr, size_t len)
{
    uintptr_t a = (uintptr_t)addr;
    uintptr_t base = a & ~(uintptr_t)(rc->page - 1);
    uintptr_t end = (a + (len ? len : 1) + rc->page - 1) & ~(uintptr_t)(rc->page - 1);
    if (end <= base) { /* wrapped: no such buffer */
        return NULL;
    }
    for (btl_verbs_reg_t *r = rc->head; r != NULL; r = r->next) {
        if (r->base <= base && end <= r->end) {
            r->refs++;
            r->last_use = ++rc->clock;
            rc->hits++;
            return r;
        }
    }
    rc->misses++;
    btl_verbs_reg_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->handle = rc->reg(rc->ctx, (void *)base, end - base);
    if (r->handle == NULL) {
        free(r);
        return NULL;
    }
    r->base = base;
    r->end = end;
    r->refs = 1;
    r->last_use = ++rc->clock;
    r->next = rc->head;
    rc->head = r;
    rc->count++;
    evict(rc);
    return r;
}

void btl_verbs_rcache_put(btl_verbs_rcache_t *rc, btl_verbs_reg_t *r)
{
    if (r == NULL || r->refs == 0) {
        return;
    }
    if (--r->refs == 0 && r->stale) {
        drop(rc, r); /* already out of the list */
        return;
    }
    evict(rc);
}

void btl_verbs_rcache_invalidate(btl_verbs_rcache_t *rc, const void *addr, size_t len)
{
    uintptr_t a = (uintptr_t)addr, e = a + len;
    btl_verbs_reg_t **p = &rc->head;
    while (*p != NULL) {
        btl_verbs_reg_t *r = *p;
        if (r->base < e && a < r->end) {
            *p = r->next;
            rc->count--;
            rc->invalidations++;
            if (r->refs == 0) {
                drop(rc, r);
            } else {
                r->stale = true; /* an operation still uses it */
            }
            continue;
        }
        p = &r->next;
    }
}

void btl_verbs_rcache_fini(btl_verbs_rcache_t *rc)
{
    while (rc->head != NULL) {
        btl_verbs_reg_t *r = rc->head;
        rc->head = r->next;
        drop(rc, r);
    }
    rc->count = 0;
}
