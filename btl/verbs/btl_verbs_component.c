/* btl/verbs: InfiniBand / RoCE through libibverbs, connections through
 * librdmacm. One module per active HCA port that has an IPv4 address for
 * the connection manager (IPoIB on InfiniBand, the RoCE v2 GID's address
 * on Ethernet). */
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "btl_verbs.h"

btl_verbs_config_t btl_verbs_config;

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

static bool port_listed(const mrail_mca_list_t *list, const char *dev, unsigned port)
{
    char full[80];
    snprintf(full, sizeof(full), "%s:%u", dev, port);
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], dev) == 0 || strcmp(list->items[i], full) == 0) {
            return true;
        }
    }
    return false;
}

static bool port_wanted(const char *dev, unsigned port)
{
    if (btl_verbs_config.if_include.count > 0) {
        return port_listed(&btl_verbs_config.if_include, dev, port);
    }
    return !port_listed(&btl_verbs_config.if_exclude, dev, port);
}

/* The address librdmacm reaches the port by, and the GID peers see. */
static bool port_address(const char *dev, unsigned port, const struct ibv_port_attr *pa,
                         struct ibv_context *ctx, uint8_t ip[4], uint8_t gid[16], char *why,
                         size_t why_len)
{
    if (pa->link_layer == IBV_LINK_LAYER_ETHERNET) {
        char dir[256];
        snprintf(dir, sizeof(dir), "/sys/class/infiniband/%s/ports/%u", dev, port);
        if (btl_verbs_roce_v2_ipv4_gid(dir, gid, why, why_len) < 0) {
            return false;
        }
        memcpy(ip, gid + 12, 4);
        return true;
    }
    union ibv_gid g;
    if (ibv_query_gid(ctx, (uint8_t)port, 0, &g) != 0) {
        snprintf(why, why_len, "%s:%u: ibv_query_gid failed", dev, port);
        return false;
    }
    memcpy(gid, g.raw, 16);
    if (!btl_verbs_ipoib_ipv4(dev, port, ip)) {
        snprintf(why, why_len,
                 "%s:%u has no IPoIB interface with an IPv4 address, which the connection "
                 "manager needs",
                 dev, port);
        return false;
    }
    return true;
}

typedef struct verbs_scan {
    mrail_btl_component_t *self;
    mrail_btl_module_t **list;
    size_t count;
    int active; /* active, wanted ports */
    char skipped[512];
} verbs_scan_t;

static int add_port(verbs_scan_t *scan, struct ibv_context *ctx, const char *dev, unsigned port,
                    const struct ibv_port_attr *pa, mrail_reason_t *why)
{
    uint8_t ip[4], gid[16];
    if (!port_address(dev, port, pa, ctx, ip, gid, scan->skipped, sizeof(scan->skipped))) {
        return MRAIL_SUCCESS;
    }
    char device[64];
    snprintf(device, sizeof(device), "%s:%u", dev, port);
    mrail_btl_module_t *m = mrail_btl_module_alloc(scan->self, device, btl_verbs_module_size());
    if (m == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    if (m->config.bandwidth == 0) {
        unsigned bw = btl_verbs_port_bandwidth(pa->active_width, pa->active_speed);
        m->config.bandwidth = bw > 0 ? bw : 1250;
    }
    mrail_reason_t failed;
    int rc = btl_verbs_module_open(m, ctx, port, pa, ip, gid, &failed);
    if (rc != MRAIL_SUCCESS) {
        m->finalize(m);
        snprintf(scan->skipped, sizeof(scan->skipped), "%s", failed.text);
        return rc == MRAIL_ERR_OUT_OF_RESOURCE ? mrail_reason_set(why, rc, "%s", failed.text)
                                               : MRAIL_SUCCESS;
    }
    char dev_dir[256];
    snprintf(dev_dir, sizeof(dev_dir), "/sys/class/infiniband/%s", dev);
    int numa = btl_verbs_numa_node(dev_dir);
    size_t used = strlen(m->note);
    if (numa >= 0 && used < sizeof(m->note)) {
        snprintf(m->note + used, sizeof(m->note) - used, "; HCA on NUMA node %d", numa);
    }
    return mrail_btl_modules_push(m, &scan->list, &scan->count, why);
}

static uint64_t draw_secret(void)
{
    uint64_t secret = 0;
    if (getrandom(&secret, sizeof(secret), 0) != sizeof(secret)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        secret = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    return secret;
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
    btl_verbs_config.secret = draw_secret(); /* rank 0's is the one used */
    verbs_scan_t scan = {.self = self};
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
            scan.active++;
            rc = add_port(&scan, devs[d], name, p, &pattr, why);
        }
    }
    /* The contexts stay open in librdmacm (its ids use them): only the
     * list goes. */
    rdma_free_devices(devs);
    if (rc == MRAIL_SUCCESS && scan.count == 0) {
        rc = scan.active > 0 ? mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s", scan.skipped)
                             : mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                                "%d RDMA device(s) found, but no "
                                                "active port%s",
                                                ndev,
                                                btl_verbs_config.if_include.count ||
                                                        btl_verbs_config.if_exclude.count
                                                    ? " that btl_verbs_if_include/_exclude leave"
                                                    : "");
    }
    if (rc != MRAIL_SUCCESS) {
        mrail_btl_modules_free(scan.list, scan.count);
        return rc;
    }
    *modules = scan.list;
    *count = scan.count;
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
