/* btl/verbs' core: opens the RDMA devices and a module per active port
 * (loaded by the plugin only once the kernel lists a device). */
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "btl_verbs.h"

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
        m->bandwidth_source = bw > 0 ? MRAIL_BTL_BW_DEVICE : MRAIL_BTL_BW_GUESS;
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

int btl_verbs_core_query(const void *config, mrail_btl_component_t *self,
                         mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why)
{
    if (config != &btl_verbs_config) { /* a split plugin: the plugin's values */
        btl_verbs_config = *(const btl_verbs_config_t *)config;
    }
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
