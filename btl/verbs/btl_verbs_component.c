/* btl/verbs: InfiniBand / RoCE through libibverbs, connections through
 * librdmacm. One module per active HCA port. */
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/btl.h"

typedef struct btl_verbs_config {
    mrail_mca_list_t if_include;
} btl_verbs_config_t;

static btl_verbs_config_t btl_verbs_config;

static int btl_verbs_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"if_include", MRAIL_MCA_LIST, "", 1,
         "HCA ports to use as device:port (mlx5_0:1) or device (all its ports), "
         "comma-separated; empty uses every active port",
         NULL, offsetof(btl_verbs_config_t, if_include)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, 1, &btl_verbs_config);
}

static bool port_wanted(const char *dev, unsigned port)
{
    if (btl_verbs_config.if_include.count == 0) {
        return true;
    }
    char full[80];
    snprintf(full, sizeof(full), "%s:%u", dev, port);
    for (size_t i = 0; i < btl_verbs_config.if_include.count; i++) {
        const char *item = btl_verbs_config.if_include.items[i];
        if (strcmp(item, dev) == 0 || strcmp(item, full) == 0) {
            return true;
        }
    }
    return false;
}

static int btl_verbs_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules,
                           size_t *count, mrail_reason_t *why)
{
    int ndev = 0;
    /* rdma_get_devices opens every device the connection manager can use:
     * no device here means no rail, whatever libibverbs has installed. */
    struct ibv_context **devs = rdma_get_devices(&ndev);
    if (devs == NULL || ndev == 0) {
        if (devs != NULL) {
            rdma_free_devices(devs);
        }
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "no RDMA device found");
    }
    mrail_btl_module_t **list = NULL;
    size_t n = 0;
    int rc = MRAIL_SUCCESS;
    for (int d = 0; d < ndev && rc == MRAIL_SUCCESS; d++) {
        struct ibv_device_attr attr;
        if (ibv_query_device(devs[d], &attr) != 0) {
            continue;
        }
        const char *name = ibv_get_device_name(devs[d]->device);
        for (unsigned p = 1; p <= attr.phys_port_cnt && rc == MRAIL_SUCCESS; p++) {
            struct ibv_port_attr pattr;
            if (ibv_query_port(devs[d], (uint8_t)p, &pattr) != 0 ||
                pattr.state != IBV_PORT_ACTIVE || !port_wanted(name, p)) {
                continue;
            }
            char device[64];
            snprintf(device, sizeof(device), "%s:%u", name, p);
            rc = mrail_btl_modules_append(self, device, &list, &n, why);
        }
    }
    rdma_free_devices(devs);
    if (rc == MRAIL_SUCCESS && n == 0) {
        rc = mrail_reason_set(why, MRAIL_ERR_DECLINED,
                              "%d RDMA device(s) found, but no active port%s", ndev,
                              btl_verbs_config.if_include.count ? " in btl_verbs_if_include" : "");
    }
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(list, n);
        return rc;
    }
    *modules = list;
    *count = n;
    return MRAIL_SUCCESS;
}

mrail_btl_component_t mrail_btl_verbs_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "verbs",
            .version = MRAIL_VERSION_STRING,
            .description = "InfiniBand and RoCE through libibverbs and librdmacm",
            .register_params = btl_verbs_register,
        },
    .defaults = {.exclusivity = 300,
                 .eager_limit = 12 * 1024,
                 .max_send_size = 64 * 1024,
                 .bandwidth = 0,
                 .latency = 2,
                 .min_rdma_pipeline_size = 64 * 1024,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = btl_verbs_query,
};
