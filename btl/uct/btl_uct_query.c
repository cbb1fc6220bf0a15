/* btl/uct's core: asks UCX for its transports and opens a module for each
 * one listed (loaded by the plugin only once its check passes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_uct.h"

static bool listed(const mrail_mca_list_t *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool transport_listed(const char *tl, const char *dev)
{
    bool dev_ok = btl_uct_config.device_include.count > 0
                      ? listed(&btl_uct_config.device_include, dev)
                      : !listed(&btl_uct_config.device_exclude, dev);
    return listed(&btl_uct_config.transports, tl) && dev_ok;
}

#define BTL_UCT_MAX_COMPANIONS 8

typedef struct uct_scan {
    mrail_btl_component_t *self;
    mrail_btl_module_t **list;
    size_t count;
    btl_uct_companion_t companions[BTL_UCT_MAX_COMPANIONS];
    size_t ncompanions;
    char seen[400]; /* transports found but not listed, for the decline reason */
    size_t seen_len;
    char failed[512]; /* why the last listed interface could not be driven */
} uct_scan_t;

/* Opens a module for one interface (its own memory domain, worker and
 * interface); one that cannot open, or that btl/uct cannot drive, is left
 * out with its reason kept for the decline message. */
static int add_module(uct_scan_t *scan, uct_component_h comp, const char *md_name,
                      const uct_tl_resource_desc_t *res, mrail_reason_t *why)
{
    char device[64];
    snprintf(device, sizeof(device), "%s/%s", res->tl_name, res->dev_name);
    uct_md_config_t *config;
    uct_md_h md;
    if (uct_md_config_read(comp, NULL, NULL, &config) != UCS_OK) {
        return MRAIL_SUCCESS;
    }
    ucs_status_t st = uct_md_open(comp, md_name, config, &md);
    uct_config_release(config);
    if (st != UCS_OK) {
        return MRAIL_SUCCESS;
    }
    btl_uct_module_t *m =
        (btl_uct_module_t *)mrail_btl_module_alloc(scan->self, device, sizeof(btl_uct_module_t));
    if (m == NULL) {
        uct_md_close(md);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    mrail_reason_t failed;
    int rc = btl_uct_module_open(m, comp, md, res->tl_name, res->dev_name, res->dev_type, &failed);
    if (rc == MRAIL_ERR_DECLINED && m->iface != NULL && btl_uct_rma_capable(&m->attr) &&
        !(m->attr.cap.flags & UCT_IFACE_FLAG_AM_BCOPY) &&
        scan->ncompanions < BTL_UCT_MAX_COMPANIONS) {
        /* get/put without messages: it serves the modules of its kind */
        btl_uct_companion_t *c = &scan->companions[scan->ncompanions++];
        c->comp = comp;
        snprintf(c->md_name, sizeof(c->md_name), "%s", md_name);
        snprintf(c->tl, sizeof(c->tl), "%s", res->tl_name);
        snprintf(c->dev, sizeof(c->dev), "%s", res->dev_name);
        c->dev_type = res->dev_type;
        snprintf(failed.text, sizeof(failed.text),
                 "%s moves get/put only (no active messages): list it with a transport of the "
                 "same kind that carries messages (cma with posix or sysv)",
                 device);
    }
    if (rc != MRAIL_SUCCESS) {
        m->base.finalize(&m->base);
        snprintf(scan->failed, sizeof(scan->failed), "%s", failed.text);
        return rc == MRAIL_ERR_OUT_OF_RESOURCE ? mrail_reason_set(why, rc, "%s", failed.text)
                                               : MRAIL_SUCCESS;
    }
    return mrail_btl_modules_push(&m->base, &scan->list, &scan->count, why);
}

static int scan_md(uct_scan_t *scan, uct_component_h comp, const char *md_name, mrail_reason_t *why)
{
    uct_md_config_t *config;
    uct_md_h md;
    if (uct_md_config_read(comp, NULL, NULL, &config) != UCS_OK) {
        return MRAIL_SUCCESS; /* an unusable memory domain holds no rail */
    }
    ucs_status_t st = uct_md_open(comp, md_name, config, &md);
    uct_config_release(config);
    if (st != UCS_OK) {
        return MRAIL_SUCCESS;
    }
    uct_tl_resource_desc_t *res;
    unsigned nres;
    int rc = MRAIL_SUCCESS;
    if (uct_md_query_tl_resources(md, &res, &nres) == UCS_OK) {
        for (unsigned r = 0; r < nres && rc == MRAIL_SUCCESS; r++) {
            char device[64];
            snprintf(device, sizeof(device), "%s/%s", res[r].tl_name, res[r].dev_name);
            if (transport_listed(res[r].tl_name, res[r].dev_name)) {
                rc = add_module(scan, comp, md_name, &res[r], why);
            } else if (scan->seen_len < sizeof(scan->seen)) {
                scan->seen_len += (size_t)snprintf(scan->seen + scan->seen_len,
                                                   sizeof(scan->seen) - scan->seen_len, "%s%s",
                                                   scan->seen_len ? ", " : "", device);
            }
        }
        uct_release_tl_resource_list(res);
    }
    uct_md_close(md);
    return rc;
}

int btl_uct_core_query(const void *config, mrail_btl_component_t *self,
                       mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why)
{
    if (config != &btl_uct_config) { /* a split plugin: the plugin's values */
        btl_uct_config = *(const btl_uct_config_t *)config;
    }
    uct_component_h *comps;
    unsigned ncomps;
    if (uct_query_components(&comps, &ncomps) != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "uct_query_components failed");
    }
    uct_scan_t scan = {.self = self};
    int rc = MRAIL_SUCCESS;
    for (unsigned c = 0; c < ncomps && rc == MRAIL_SUCCESS; c++) {
        uct_component_attr_t attr = {.field_mask = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCE_COUNT};
        if (uct_component_query(comps[c], &attr) != UCS_OK || attr.md_resource_count == 0) {
            continue;
        }
        uct_md_resource_desc_t *mds = calloc(attr.md_resource_count, sizeof(*mds));
        if (mds == NULL) {
            rc = mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
            break;
        }
        attr.field_mask = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCES;
        attr.md_resources = mds;
        if (uct_component_query(comps[c], &attr) == UCS_OK) {
            for (unsigned m = 0; m < attr.md_resource_count && rc == MRAIL_SUCCESS; m++) {
                rc = scan_md(&scan, comps[c], mds[m].md_name, why);
            }
        }
        free(mds);
    }
    /* Modules without get/put of their own take a companion of their
     * device type (component handles are UCT's own, valid after the list). */
    for (size_t i = 0; i < scan.count && rc == MRAIL_SUCCESS; i++) {
        btl_uct_module_t *m = (btl_uct_module_t *)scan.list[i];
        for (size_t c = 0; c < scan.ncompanions && !m->has_rma; c++) {
            if (scan.companions[c].dev_type == m->dev_type) {
                mrail_reason_t no_rma;
                (void)btl_uct_rma_open(m, &scan.companions[c], &no_rma); /* else messages only */
                btl_uct_module_note(m);
            }
        }
    }
    uct_release_component_list(comps);
    if (rc == MRAIL_SUCCESS && scan.count == 0 && scan.failed[0] != '\0') {
        rc = mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s", scan.failed);
    } else if (rc == MRAIL_SUCCESS && scan.count == 0) {
        rc = mrail_reason_set(why, MRAIL_ERR_DECLINED,
                              "no UCT transport and device that btl_uct_transports and "
                              "btl_uct_device_%s leave is present; UCT offers here: %s",
                              btl_uct_config.device_include.count ? "include" : "exclude",
                              scan.seen[0] ? scan.seen : "nothing");
    }
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(scan.list, scan.count);
        return rc;
    }
    *modules = scan.list;
    *count = scan.count;
    return MRAIL_SUCCESS;
}
