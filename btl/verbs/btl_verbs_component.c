/* btl/verbs: InfiniBand / RoCE through libibverbs, connections through
 * librdmacm. One module per active HCA port that has an IPv4 address for
 * the connection manager (IPoIB on InfiniBand, the RoCE v2 GID's address
 * on Ethernet). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_verbs.h"
#include "mrail/rails_devices.h"

static int btl_verbs_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"if_include", MRAIL_MCA_LIST, "", 1,
         "HCA ports to use as device:port (mlx5_0:1) or device (all its ports), "
         "comma-separated; empty uses every active port. Cannot be combined with "
         "btl_verbs_if_exclude",
         NULL, offsetof(btl_verbs_config_t, if_include)},
        {"if_exclude", MRAIL_MCA_LIST, "", 1,
         "HCA ports never used, as device:port or device, comma-separated", NULL,
         offsetof(btl_verbs_config_t, if_exclude)},
        {"recv_buffers", MRAIL_MCA_UNSIGNED, "256", 3,
         "Receive buffers each port keeps posted in its shared receive queue (each "
         "btl_verbs_max_send_size bytes); 16 to 65536",
         NULL, offsetof(btl_verbs_config_t, recv_buffers)},
        {"send_buffers", MRAIL_MCA_UNSIGNED, "128", 3,
         "Registered send buffers per port; messages wait for one when all are in flight; "
         "1 to 65536",
         NULL, offsetof(btl_verbs_config_t, send_buffers)},
        {"qp_depth", MRAIL_MCA_UNSIGNED, "64", 4,
         "Send work requests a connection's queue pair holds; 1 to 16384", NULL,
         offsetof(btl_verbs_config_t, qp_depth)},
        {"rcache_size", MRAIL_MCA_UNSIGNED, "1024", 4,
         "Memory registrations kept for reuse (dropped when their memory is released); "
         "0 registers for each operation",
         NULL, offsetof(btl_verbs_config_t, rcache_size)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_verbs_config);
}

static int in_range(const char *name, unsigned v, unsigned lo, unsigned hi, mrail_reason_t *why)
{
    if (v < lo || v > hi) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "btl_verbs_%s is %u; valid values are %u to %u", name, v, lo, hi);
    }
    return MRAIL_SUCCESS;
}

static int btl_verbs_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    const btl_verbs_config_t *c = &btl_verbs_config;
    int rc = mrail_mca_check_not_both(mca, "btl_verbs_if_include", "btl_verbs_if_exclude", why);
    if (rc == MRAIL_SUCCESS) {
        rc = in_range("recv_buffers", c->recv_buffers, 16, 65536, why);
    }
    if (rc == MRAIL_SUCCESS) {
        rc = in_range("send_buffers", c->send_buffers, 1, 65536, why);
    }
    if (rc == MRAIL_SUCCESS) {
        rc = in_range("qp_depth", c->qp_depth, 1, 16384, why);
    }
    return rc;
}

static int btl_verbs_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules,
                           size_t *count, mrail_reason_t *why)
{
    /* rdma_get_devices loads every provider driver libibverbs knows (~20
     * libraries: milliseconds of every process's start-up); the kernel's
     * device list says for free whether there is anything to open. */
    if (!mrail_rdma_devices_present()) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "no RDMA device found (/sys/class/infiniband is empty)");
    }
#ifdef MRAIL_CORE_SPLIT
    /* Loading libibverbs and librdmacm alone costs a few ms of every process. */
    return mrail_btl_core_query(self, "btl_verbs_core_query", &btl_verbs_config, modules, count,
                                why);
#else
    return btl_verbs_core_query(&btl_verbs_config, self, modules, count, why);
#endif
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
            .check_params = btl_verbs_check,
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
