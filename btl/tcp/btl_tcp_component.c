/* btl/tcp: one module per IP interface. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "btl_tcp.h"

static btl_tcp_config_t btl_tcp_config;
static unsigned btl_tcp_nmodules;

static int btl_tcp_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"if_include", MRAIL_MCA_LIST, "", 1,
         "Interfaces to use, by name (eth0, glob ib*) or IPv4 CIDR (10.1.0.0/16), "
         "comma-separated; empty uses every interface not excluded. Cannot be combined with "
         "btl_tcp_if_exclude",
         NULL, offsetof(btl_tcp_config_t, if_include)},
        {"connect_timeout", MRAIL_MCA_UNSIGNED, "30", 5,
         "Seconds a rank waits for its peers' connections at start-up before it gives up", NULL,
         offsetof(btl_tcp_config_t, connect_timeout)},
        {"user_timeout", MRAIL_MCA_UNSIGNED, "5000", 4,
         "Milliseconds data may stay unacknowledged on a connection before its rail is declared "
         "failed (TCP_USER_TIMEOUT) and the PML sends that rail's fragments over the others; "
         "0 leaves it to the kernel (many minutes)",
         NULL, offsetof(btl_tcp_config_t, user_timeout)},
        {"sndbuf", MRAIL_MCA_SIZE, "0", 5,
         "Send buffer of each connection (SO_SNDBUF); 0 lets the kernel size it", NULL,
         offsetof(btl_tcp_config_t, sndbuf)},
        {"rcvbuf", MRAIL_MCA_SIZE, "0", 5,
         "Receive buffer of each connection (SO_RCVBUF); 0 lets the kernel size it", NULL,
         offsetof(btl_tcp_config_t, rcvbuf)},
        {"if_exclude", MRAIL_MCA_LIST, "lo,127.0.0.0/8,docker*,virbr*", 1,
         "Interfaces never used, by name, glob or IPv4 CIDR, comma-separated; ignored when "
         "btl_tcp_if_include is set. Cannot be set together with btl_tcp_if_include",
         NULL, offsetof(btl_tcp_config_t, if_exclude)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_tcp_config);
}

static int btl_tcp_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    return mrail_mca_check_not_both(mca, "btl_tcp_if_include", "btl_tcp_if_exclude", why);
}

static int btl_tcp_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                         mrail_reason_t *why)
{
    btl_tcp_if_t *ifs = NULL;
    size_t n = 0;
    int rc = mrail_netdevs_list(&ifs, &n, why);
    if (rc == MRAIL_SUCCESS) {
        rc = btl_tcp_if_filter(&btl_tcp_config, ifs, &n, why);
    }
    if (rc != MRAIL_SUCCESS) {
        free(ifs);
        return rc;
    }
    mrail_btl_module_t **list = NULL;
    size_t kept = 0;
    for (size_t i = 0; rc == MRAIL_SUCCESS && i < n; i++) {
        btl_tcp_module_t *m =
            (btl_tcp_module_t *)mrail_btl_module_alloc(self, ifs[i].name, sizeof(*m));
        if (m != NULL) {
            btl_tcp_module_init(m, (unsigned)i, &ifs[i], &btl_tcp_config);
        }
        rc = mrail_btl_modules_push(m ? &m->base : NULL, &list, &kept, why);
    }
    free(ifs);
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(list, kept);
        return rc;
    }
    btl_tcp_nmodules = (unsigned)kept;
    *modules = list;
    *count = kept;
    return MRAIL_SUCCESS;
}

unsigned btl_tcp_module_count(void)
{
    return btl_tcp_nmodules;
}

mrail_btl_component_t mrail_btl_tcp_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "tcp",
            .version = MRAIL_VERSION_STRING,
            .description = "TCP over every IP interface, one module per interface",
            .register_params = btl_tcp_register,
            .check_params = btl_tcp_check,
        },
    .defaults = {.exclusivity = 100,
                 .eager_limit = 64 * 1024,
                 .max_send_size = 128 * 1024,
                 .bandwidth = 0,
                 .latency = 100,
                 .min_rdma_pipeline_size = 0,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = btl_tcp_query,
};
