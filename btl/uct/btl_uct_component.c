/* btl/uct: UCX transports, one module per (transport, device).
 *
 * Only the transports listed in btl_uct_transports are driven; the default
 * names the RDMA ones, because tcp and shared memory are btl/tcp's and
 * btl/sm's and counting them twice would invent rails. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_uct.h"
#include "mrail/rails_devices.h"

static int btl_uct_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const char *const connect_names[] = {"auto", "iface", "ep", "modex", NULL};
    static const mrail_mca_param_def_t defs[] = {
        {"connect", MRAIL_MCA_ENUM, "auto", 4,
         "How endpoints connect: iface (to the peer's interface, addresses from the modex), ep "
         "(endpoint to endpoint, addresses exchanged in a first message on the first send, over "
         "the interface's connect-to-interface path), modex (endpoint to endpoint, an endpoint "
         "per rank made at start-up and its address published in the modex) or auto (iface "
         "where the transport offers it, else modex: RC transports)",
         connect_names, offsetof(btl_uct_config_t, connect)},
        {"transports", MRAIL_MCA_LIST, "rc_mlx5,dc_mlx5,ud_mlx5,rc_verbs,ud_verbs", 2,
         "UCT transports to drive, comma-separated (names as ucx_info -d prints them, e.g. "
         "rc_mlx5, tcp, posix)",
         NULL, offsetof(btl_uct_config_t, transports)},
        {"device_include", MRAIL_MCA_LIST, "", 2,
         "UCT devices to use (e.g. mlx5_0:1, eth0, memory), comma-separated; empty uses every "
         "device not excluded. Cannot be combined with btl_uct_device_exclude",
         NULL, offsetof(btl_uct_config_t, device_include)},
        {"device_exclude", MRAIL_MCA_LIST, "lo", 2,
         "UCT devices never used (the default leaves out the loopback interface, which "
         "reaches no other host). Ignored when btl_uct_device_include is set",
         NULL, offsetof(btl_uct_config_t, device_exclude)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_uct_config);
}

static int btl_uct_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    return mrail_mca_check_not_both(mca, "btl_uct_device_include", "btl_uct_device_exclude", why);
}

/* Transports of InfiniBand / RoCE hardware: rc_mlx5, dc_mlx5, ud_verbs, ... */
static bool needs_rdma_device(const char *tl)
{
    size_t n = strlen(tl);
    return (n > 5 && strcmp(tl + n - 5, "_mlx5") == 0) ||
           (n > 6 && strcmp(tl + n - 6, "_verbs") == 0);
}

static int btl_uct_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                         mrail_reason_t *why)
{
    /* Starting UCX costs every process a few ms of MPI_Init (a third of a
     * second for 64 ranks on 2 CPUs): when every listed transport needs an
     * RDMA device and there is none, the answer is known without it. */
    bool hardware_only = true;
    for (size_t i = 0; i < btl_uct_config.transports.count; i++) {
        hardware_only = hardware_only && needs_rdma_device(btl_uct_config.transports.items[i]);
    }
    if (hardware_only && !mrail_rdma_devices_present()) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "no RDMA device (/sys/class/infiniband) for the transports in "
                                "btl_uct_transports; UCX was not started (btl_uct_transports="
                                "tcp probes a software transport)");
    }
#ifdef MRAIL_CORE_SPLIT
    /* Loading UCX's libraries alone costs a few ms of every process. */
    return mrail_btl_core_query(self, "btl_uct_core_query", &btl_uct_config, modules, count, why);
#else
    return btl_uct_core_query(&btl_uct_config, self, modules, count, why);
#endif
}

mrail_btl_component_t mrail_btl_uct_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "uct",
            .version = MRAIL_VERSION_STRING,
            .description = "UCX transports through UCT",
            .register_params = btl_uct_register,
            .check_params = btl_uct_check,
        },
    .defaults = {.exclusivity = 200,
                 .eager_limit = 8 * 1024,
                 .max_send_size = 64 * 1024,
                 .bandwidth = 0,
                 .latency = 3,
                 .min_rdma_pipeline_size = 64 * 1024,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = btl_uct_query,
};
