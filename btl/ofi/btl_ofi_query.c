/* btl/ofi's core: asks libfabric's providers and opens a module per
 * domain kept (loaded by the plugin only once its check passes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_ofi.h"
#include "mrail/rails_devices.h"

static bool name_listed(const mrail_mca_list_t *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool domain_wanted(const char *domain)
{
    return btl_ofi_config.domain_include.count > 0
               ? name_listed(&btl_ofi_config.domain_include, domain)
               : !name_listed(&btl_ofi_config.domain_exclude, domain);
}

/* The providers' answer for reliable-datagram endpoints with messages,
 * and put/get when rma is set. We can give local descriptors
 * (FI_MR_LOCAL); a provider that needs none clears the bit. */
static struct fi_info *ask_providers(bool rma, int *ret)
{
    struct fi_info *hints = fi_allocinfo(), *info = NULL;
    if (hints == NULL) {
        *ret = -FI_ENOMEM;
        return NULL;
    }
    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = FI_MSG | (rma ? FI_RMA : 0);
    hints->mode = FI_CONTEXT | FI_CONTEXT2;
    hints->domain_attr->threading = FI_THREAD_DOMAIN;
    hints->domain_attr->mr_mode =
        FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT;
    hints->tx_attr->msg_order = FI_ORDER_SAS;
    hints->rx_attr->msg_order = FI_ORDER_SAS;
    *ret = fi_getinfo(FI_VERSION(1, 9), NULL, NULL, 0, hints, &info);
    fi_freeinfo(hints);
    return *ret == 0 ? info : NULL;
}

/* Link speed of the domain's NIC in MB/s, when libfabric or the interface
 * of the same name says; 0 when nobody does. */
static unsigned domain_mbs(const struct fi_info *i)
{
    if (i->nic != NULL && i->nic->link_attr != NULL && i->nic->link_attr->speed > 0) {
        return (unsigned)(i->nic->link_attr->speed / 8000000u);
    }
    mrail_netdev_t *devs = NULL;
    size_t n = 0;
    mrail_reason_t ignored;
    unsigned mbs = 0;
    if (mrail_netdevs_list(&devs, &n, &ignored) == MRAIL_SUCCESS) {
        for (size_t k = 0; k < n; k++) {
            if (strcmp(devs[k].name, i->domain_attr->name) == 0 && devs[k].speed_mbps > 0) {
                mbs = (unsigned)devs[k].speed_mbps / 8;
            }
        }
        free(devs);
    }
    return mbs;
}

/* A provider name may be layered ("tcp;ofi_rxm"): any layer in the list counts. */
static bool provider_listed(const mrail_mca_list_t *list, const char *prov)
{
    for (size_t i = 0; i < list->count; i++) {
        size_t len = strlen(list->items[i]);
        for (const char *p = prov; p != NULL; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
            if (strncmp(p, list->items[i], len) == 0 && (p[len] == '\0' || p[len] == ';')) {
                return true;
            }
        }
    }
    return false;
}

/* An IPv6 link-local fabric (fe80::/64) has the same name on every link,
 * so peers could not tell by it which of their interfaces share a wire. */
static bool link_local(const struct fi_info *i)
{
    return i->fabric_attr->name != NULL && strncmp(i->fabric_attr->name, "fe80:", 5) == 0;
}

/* Opens a module for info unless its device has one already. */
static int add_module(mrail_btl_component_t *self, struct fi_info *i, mrail_btl_module_t ***list,
                      size_t *n, mrail_reason_t *why)
{
    char device[64];
    snprintf(device, sizeof(device), "%s/%s", i->fabric_attr->prov_name, i->domain_attr->name);
    for (size_t k = 0; k < *n; k++) {
        if (strcmp((*list)[k]->device, device) == 0) {
            return MRAIL_SUCCESS;
        }
    }
    btl_ofi_module_t *m =
        (btl_ofi_module_t *)mrail_btl_module_alloc(self, device, sizeof(btl_ofi_module_t));
    if (m == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    if (m->base.config.bandwidth == 0) {
        unsigned mbs = domain_mbs(i);
        m->base.config.bandwidth = mbs > 0 ? mbs : 1250;
        m->base.bandwidth_source = mbs > 0 ? MRAIL_BTL_BW_DEVICE : MRAIL_BTL_BW_GUESS;
    }
    int rc = btl_ofi_module_open(m, i, why);
    if (rc != MRAIL_SUCCESS) {
        m->base.finalize(&m->base); /* closes what was opened */
        return rc;
    }
    return mrail_btl_modules_push(&m->base, list, n, why);
}

int btl_ofi_core_query(const void *config, mrail_btl_component_t *self,
                       mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why)
{
    if (config != &btl_ofi_config) { /* a split plugin: the plugin's values */
        btl_ofi_config = *(const btl_ofi_config_t *)config;
    }
    int ret_rma, ret_msg;
    struct fi_info *with_rma = ask_providers(true, &ret_rma);
    struct fi_info *msg_only = ask_providers(false, &ret_msg);
    if (with_rma == NULL && msg_only == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "libfabric offers no reliable-datagram provider: %s",
                                fi_strerror(-ret_msg));
    }
    bool include = btl_ofi_config.provider_include.count > 0;
    size_t n = 0;
    mrail_btl_module_t **list = NULL;
    char skipped[400] = "";
    size_t used = 0;
    int rc = MRAIL_SUCCESS, open_failed = MRAIL_SUCCESS;
    char open_why[sizeof(why->text)] = "";
    /* Domains that offer put/get first, so that they keep it. */
    struct fi_info *answers[2] = {with_rma, msg_only};
    for (int a = 0; a < 2; a++) {
        for (struct fi_info *i = answers[a]; i != NULL && rc == MRAIL_SUCCESS; i = i->next) {
            const char *prov = i->fabric_attr->prov_name;
            bool keep = include ? provider_listed(&btl_ofi_config.provider_include, prov)
                                : !provider_listed(&btl_ofi_config.provider_exclude, prov);
            if (!keep || !domain_wanted(i->domain_attr->name) || link_local(i)) {
                if (strstr(skipped, prov) == NULL && used < sizeof(skipped)) {
                    used += (size_t)snprintf(skipped + used, sizeof(skipped) - used, "%s%s",
                                             used ? ", " : "", prov);
                }
                continue;
            }
            /* A domain that does not open is left out; the others serve. */
            mrail_reason_t failed;
            int arc = add_module(self, i, &list, &n, &failed);
            if (arc == MRAIL_ERR_OUT_OF_RESOURCE) {
                rc = mrail_reason_set(why, arc, "%s", failed.text);
            } else if (arc != MRAIL_SUCCESS) {
                open_failed = arc;
                snprintf(open_why, sizeof(open_why), "%s", failed.text);
            }
        }
    }
    fi_freeinfo(with_rma);
    fi_freeinfo(msg_only);
    if (rc == MRAIL_SUCCESS && n == 0 && open_failed != MRAIL_SUCCESS) {
        rc = mrail_reason_set(why,
                              open_failed == MRAIL_ERR_BAD_PARAM ? open_failed : MRAIL_ERR_DECLINED,
                              "%s", open_why);
    } else if (rc == MRAIL_SUCCESS && n == 0) {
        rc = mrail_reason_set(why, MRAIL_ERR_DECLINED,
                              "every libfabric provider and domain found is left out by "
                              "btl_ofi_provider_%s and btl_ofi_domain_%s (found: %s)",
                              include ? "include" : "exclude",
                              btl_ofi_config.domain_include.count ? "include" : "exclude", skipped);
    }
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(list, n);
        return rc;
    }
    *modules = list;
    *count = n;
    return MRAIL_SUCCESS;
}
