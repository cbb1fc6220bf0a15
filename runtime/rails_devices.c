/* Network device discovery shared by the components. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mrail/rails_devices.h"

/* Link speed through the ethtool ioctl, which answers for our namespace. */
static int link_speed(int sock, const char *name)
{
    struct ethtool_cmd cmd = {.cmd = ETHTOOL_GSET};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    size_t len = strnlen(name, sizeof(ifr.ifr_name) - 1); /* names are < IFNAMSIZ */
    memcpy(ifr.ifr_name, name, len);
    ifr.ifr_data = (void *)&cmd;
    if (sock < 0 || ioctl(sock, SIOCETHTOOL, &ifr) != 0) {
        return -1;
    }
    /* Not ethtool_cmd_speed(): it shifts a promoted int into the sign bit
     * when the driver reports an unknown speed (0xffff:0xffff). */
    uint32_t speed = ((uint32_t)cmd.speed_hi << 16) | cmd.speed;
    return speed == 0 || speed == (uint32_t)SPEED_UNKNOWN ? -1 : (int)speed;
}

/* sysfs knows the NUMA node of a physical NIC, but it may describe another
 * namespace: trust it only when the interface there has our ifindex. */
static int numa_node_of(const char *name, unsigned ifindex)
{
    char path[160];
    unsigned sys_index = 0;
    int node = -1;
    snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    bool ours = fscanf(f, "%u", &sys_index) == 1 && sys_index == ifindex;
    fclose(f);
    snprintf(path, sizeof(path), "/sys/class/net/%s/device/numa_node", name);
    f = ours ? fopen(path, "r") : NULL;
    if (f != NULL) {
        if (fscanf(f, "%d", &node) != 1) {
            node = -1;
        }
        fclose(f);
    }
    return node;
}

int mrail_netdevs_list(mrail_netdev_t **devs, size_t *count, mrail_reason_t *why)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "getifaddrs failed: %s", strerror(errno));
    }
    size_t n = 0;
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        n += a->ifa_addr && a->ifa_addr->sa_family == AF_INET && (a->ifa_flags & IFF_UP);
    }
    mrail_netdev_t *list = calloc(n ? n : 1, sizeof(*list));
    if (list == NULL) {
        freeifaddrs(all);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    size_t k = 0;
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP)) {
            continue;
        }
        mrail_netdev_t *d = &list[k++];
        snprintf(d->name, sizeof(d->name), "%s", a->ifa_name);
        d->addr = ((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
        if (a->ifa_netmask != NULL) {
            d->netmask = ((struct sockaddr_in *)(void *)a->ifa_netmask)->sin_addr;
        }
        d->ifindex = if_nametoindex(a->ifa_name);
        d->loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
        d->speed_mbps = d->loopback ? -1 : link_speed(sock, d->name);
        d->numa_node = numa_node_of(d->name, d->ifindex);
    }
    if (sock >= 0) {
        close(sock);
    }
    freeifaddrs(all);
    *devs = list;
    *count = k;
    return MRAIL_SUCCESS;
}

/* Where the devices of the hardware transports appear: verbs, efa, usnic,
 * mlx5 and psm3 register RDMA devices; psm2 and opx drive hfi1, cxi its
 * own character devices. */
bool mrail_rdma_devices_present(void)
{
    DIR *d = opendir("/sys/class/infiniband");
    struct dirent *e;
    bool found = false;
    while (d != NULL && !found && (e = readdir(d)) != NULL) {
        found = e->d_name[0] != '.';
    }
    if (d != NULL) {
        closedir(d);
    }
    static const char *const nodes[] = {"/dev/hfi1*", "/dev/cxi*", "/dev/infiniband/uverbs*"};
    for (size_t i = 0; !found && i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        glob_t g;
        found = glob(nodes[i], 0, NULL, &g) == 0 && g.gl_pathc > 0;
        globfree(&g);
    }
    return found;
}
