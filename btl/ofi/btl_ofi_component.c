/* btl/ofi: libfabric providers, one module per (provider, domain).
 *
 * Providers that only re-drive what btl/sm and btl/tcp already drive are
 * excluded by default: counting one NIC twice would give the scheduler a
 * rail that does not exist. */
#include <rdma/fabric.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/btl.h"
#include "mrail/rails_devices.h"

typedef struct btl_ofi_config {
    mrail_mca_list_t provider_include;
    mrail_mca_list_t provider_exclude;
} btl_ofi_config_t;

static btl_ofi_config_t btl_ofi_config;

static int btl_ofi_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"provider_include", MRAIL_MCA_LIST, "", 1,
         "libfabric providers to use (e.g. verbs,efa,psm3), comma-separated; empty uses every "
         "provider not excluded. Cannot be combined with btl_ofi_provider_exclude",
         NULL, offsetof(btl_ofi_config_t, provider_include)},
        {"provider_exclude", MRAIL_MCA_LIST, "shm,sockets,tcp,udp,net", 1,
         "libfabric providers never used; the default leaves out the ones btl/sm and btl/tcp "
         "already cover. Ignored when btl_ofi_provider_include is set",
         NULL, offsetof(btl_ofi_config_t, provider_exclude)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_ofi_config);
}

static int btl_ofi_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    return mrail_mca_check_not_both(mca, "btl_ofi_provider_include", "btl_ofi_provider_exclude",
                                    why);
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

static int btl_ofi_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                         mrail_reason_t *why)
{
    /* Loading libfabric's providers costs ~0.15 s of every process (64
     * ranks on a small node: seconds of MPI_Init). When only the hardware
     * providers are eligible (the default) and no such device exists, the
     * answer is known without asking. */
    if (btl_ofi_config.provider_include.count == 0 && !mrail_rdma_devices_present()) {
        return mrail_reason_set(
            why, MRAIL_ERR_DECLINED,
            "no RDMA-class device (/sys/class/infiniband, /dev/hfi1_*, "
            "/dev/cxi*) for the providers btl_ofi_provider_exclude leaves; "
            "libfabric's providers were not started (btl_ofi_provider_include=tcp "
            "probes a software provider)");
    }
    struct fi_info *hints = fi_allocinfo(), *info = NULL;
    if (hints == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "fi_allocinfo failed");
    }
    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = FI_MSG;
    int ret = fi_getinfo(FI_VERSION(1, 9), NULL, NULL, 0, hints, &info);
    fi_freeinfo(hints);
    if (ret != 0 || info == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "libfabric offers no reliable-datagram provider: %s",
                                fi_strerror(-ret));
    }
    bool include = btl_ofi_config.provider_include.count > 0;
    size_t n = 0;
    mrail_btl_module_t **list = NULL;
    char skipped[400] = "";
    size_t used = 0;
    int rc = MRAIL_SUCCESS;
    for (struct fi_info *i = info; i != NULL && rc == MRAIL_SUCCESS; i = i->next) {
        const char *prov = i->fabric_attr->prov_name;
        bool keep = include ? provider_listed(&btl_ofi_config.provider_include, prov)
                            : !provider_listed(&btl_ofi_config.provider_exclude, prov);
        char device[64];
        snprintf(device, sizeof(device), "%s/%s", prov, i->domain_attr->name);
        bool seen = false;
        for (size_t k = 0; k < n; k++) {
            seen = seen || strcmp(list[k]->device, device) == 0;
        }
        if (!keep) {
            if (strstr(skipped, prov) == NULL && used < sizeof(skipped)) {
                used += (size_t)snprintf(skipped + used, sizeof(skipped) - used, "%s%s",
                                         used ? ", " : "", prov);
            }
            continue;
        }
        if (!seen) {
            rc = mrail_btl_modules_append(self, device, &list, &n, why);
        }
    }
    fi_freeinfo(info);
    if (rc == MRAIL_SUCCESS && n == 0) {
        rc = mrail_reason_set(why, MRAIL_ERR_DECLINED,
                              "every libfabric provider found is left out by btl_ofi_provider_%s "
                              "(found: %s)",
                              include ? "include" : "exclude", skipped);
    }
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(list, n);
        return rc;
    }
    *modules = list;
    *count = n;
    return MRAIL_SUCCESS;
}

mrail_btl_component_t mrail_btl_ofi_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "ofi",
            .version = MRAIL_VERSION_STRING,
            .description = "libfabric providers (verbs, efa, psm3, ...)",
            .register_params = btl_ofi_register,
            .check_params = btl_ofi_check,
        },
    .defaults = {.exclusivity = 200,
                 .eager_limit = 8 * 1024,
                 .max_send_size = 64 * 1024,
                 .bandwidth = 0,
                 .latency = 5,
                 .min_rdma_pipeline_size = 64 * 1024,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = btl_ofi_query,
};
