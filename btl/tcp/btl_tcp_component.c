/* btl/tcp: one module per IP interface. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_tcp.h"

static btl_tcp_config_t btl_tcp_config;
static unsigned btl_tcp_nmodules;

/* btl_tcp_bandwidth_<ifname> for every interface this host has: the
 * device-claimed speed is often wrong (veths, bonds, VMs), and a setting
 * for an interface that does not exist is then reported as unknown. */
static int register_if_bandwidths(mrail_component_t *self, mrail_mca_t *mca)
{
    mrail_netdev_t *devs = NULL;
    size_t n = 0;
    mrail_reason_t why;
    if (mrail_netdevs_list(&devs, &n, &why) != MRAIL_SUCCESS) {
        return MRAIL_SUCCESS; /* query reports it */
    }
    int rc = MRAIL_SUCCESS;
    btl_tcp_config_t *c = &btl_tcp_config;
    for (size_t i = 0; i < n && c->nifs < BTL_TCP_MAX_IFS; i++) {
        bool seen = false;
        for (unsigned k = 0; k < c->nifs && !seen; k++) {
            seen = strcmp(c->if_names[k], devs[i].name) == 0;
        }
        if (seen || devs[i].loopback) {
            continue;
        }
        char name[96], help[256];
        snprintf(name, sizeof(name), "bandwidth_%s", devs[i].name);
        snprintf(help, sizeof(help),
                 "Bandwidth of interface %s in MB/s, for the scheduler's first weights (before "
                 "rates are measured); 0 = btl_tcp_bandwidth, else the link speed, else a guess",
                 devs[i].name);
        unsigned k = c->nifs++;
        snprintf(c->if_names[k], sizeof(c->if_names[k]), "%s", devs[i].name);
        mrail_mca_param_def_t def = {name,
                                     MRAIL_MCA_UNSIGNED,
                                     "0",
                                     3,
                                     help,
                                     NULL,
                                     offsetof(btl_tcp_config_t, if_bandwidth) +
                                         k * sizeof(unsigned)};
        int r = mrail_mca_register(mca, "btl", self->name, &def, 1, &btl_tcp_config);
        rc = rc != MRAIL_SUCCESS ? rc : r;
    }
    free(devs);
    return rc;
}

static int btl_tcp_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"if_include", MRAIL_MCA_LIST, "", 1,
         "Interfaces to use, by name (eth0, glob ib*) or IPv4 CIDR (10.1.0.0/16), "
         "comma-separated; empty uses every interface not excluded. Cannot be combined with "
         "btl_tcp_if_exclude",
         NULL, offsetof(btl_tcp_config_t, if_include)},
        {"connect_timeout", MRAIL_MCA_UNSIGNED, "30", 5,
         "Seconds a peer's host may take to take a connection (made on the first send to the "
         "peer) before the rail to that peer is declared failed; once taken, the handshake "
         "waits for the peer's next progress however long it computes",
         NULL, offsetof(btl_tcp_config_t, connect_timeout)},
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
        {"links", MRAIL_MCA_UNSIGNED, "1", 4,
         "Connections per interface and peer, each its own rail (module \"tcp:<if>#<n>\" "
         "beyond the first), for a NIC that one TCP stream cannot fill; 1 to 16",
         NULL, offsetof(btl_tcp_config_t, links)},
        {"verbose", MRAIL_MCA_UNSIGNED, "0", 5,
         "1: report on stderr which interfaces pair with which peer addresses (and why a pair "
         "is skipped) and every refused connection; 0: quiet",
         NULL, offsetof(btl_tcp_config_t, verbose)},
        {"hello_timeout", MRAIL_MCA_UNSIGNED, "2000", 5,
         "Milliseconds an accepted connection may take to send its whole hello before it is "
         "closed as a stranger (a peer that connects and stays silent would otherwise hold a "
         "descriptor for ever); a job member whose hello was late connects again; 0: no limit",
         NULL, offsetof(btl_tcp_config_t, hello_timeout)},
        {"max_pending", MRAIL_MCA_UNSIGNED, "64", 5,
         "Accepted connections that may wait for their hello at once; past it the oldest is "
         "closed (a flood of silent connections cannot take a rank's descriptors); at least 1",
         NULL, offsetof(btl_tcp_config_t, max_pending)},
        {"if_exclude", MRAIL_MCA_LIST, BTL_TCP_IF_EXCLUDE_DEFAULT, 1,
         "Interfaces never used, by name, glob or IPv4 CIDR, comma-separated; ignored when "
         "btl_tcp_if_include is set. Cannot be set together with btl_tcp_if_include. The "
         "default leaves out loopback and container/VM bridges (docker, libvirt, br-*, CNI, "
         "podman, flannel, calico, vxlan)",
         NULL, offsetof(btl_tcp_config_t, if_exclude)},
    };
    int rc = mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                                &btl_tcp_config);
    int rc2 = register_if_bandwidths(self, mca);
    return rc != MRAIL_SUCCESS ? rc : rc2;
}

static int btl_tcp_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    if (btl_tcp_config.links < 1 || btl_tcp_config.links > BTL_TCP_MAX_LINKS) {
        char d[512];
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "btl_tcp_links must be 1 to %d: %s",
                                BTL_TCP_MAX_LINKS,
                                mrail_mca_describe(mca, "btl_tcp_links", d, sizeof(d)));
    }
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
    unsigned links = btl_tcp_config.links;
    /* One module per interface and link, at most MRAIL_MAX_RAILS: the
     * modex and pairing index them in fixed arrays, and the PML drives no
     * more rails to a peer. A host with more keeps the first ones. */
    for (size_t i = 0; rc == MRAIL_SUCCESS && i < n; i++) {
        for (unsigned l = 0; rc == MRAIL_SUCCESS && l < links && kept < BTL_TCP_MAX_IFS; l++) {
            char device[80];
            snprintf(device, sizeof(device), l == 0 ? "%s" : "%s#%u", ifs[i].name, l);
            btl_tcp_module_t *m =
                (btl_tcp_module_t *)mrail_btl_module_alloc(self, device, sizeof(*m));
            if (m != NULL) {
                btl_tcp_module_init(m, (unsigned)kept, &ifs[i], &btl_tcp_config, links);
            }
            rc = mrail_btl_modules_push(m ? &m->base : NULL, &list, &kept, why);
        }
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
