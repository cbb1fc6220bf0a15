/* btl/verbs: what a port is worth and how it is addressed, from the codes
 * ibv_query_port gives and the files the kernel keeps in sysfs. No verbs
 * calls: tested without an HCA (tests/btl/test_btl_verbs.c). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "btl_verbs.h"
#include "mrail/mrail.h"

/* Data Gbit/s per lane after the line code (8b/10b up to QDR, 64b/66b
 * from FDR10 on), by active_speed code. */
static double lane_gbps(uint8_t speed)
{
    switch (speed) {
    case 1: return 2.0;     /* SDR */
    case 2: return 4.0;     /* DDR */
    case 4: return 8.0;     /* QDR */
    case 8: return 10.0;    /* FDR10 */
    case 16: return 13.64;  /* FDR */
    case 32: return 25.0;   /* EDR */
    case 64: return 50.0;   /* HDR */
    case 128: return 100.0; /* NDR */
    default: return 0.0;
    }
}

static unsigned lanes(uint8_t width)
{
    switch (width) {
    case 1: return 1;
    case 2: return 4;
    case 4: return 8;
    case 8: return 12;
    case 16: return 2;
    default: return 0;
    }
}

unsigned btl_verbs_port_bandwidth(uint8_t active_width, uint8_t active_speed)
{
    return (unsigned)(lanes(active_width) * lane_gbps(active_speed) * 125.0 + 0.5);
}

int btl_verbs_gid_parse(const char *text, uint8_t gid[16])
{
    char buf[64];
    size_t n = strcspn(text, "\n");
    if (n == 0 || n >= sizeof(buf)) {
        return MRAIL_ERR_BAD_PARAM;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, gid) == 1 ? MRAIL_SUCCESS : MRAIL_ERR_BAD_PARAM;
}

void btl_verbs_gid_format(const uint8_t gid[16], char out[40])
{
    for (int i = 0; i < 8; i++) {
        snprintf(out + 5 * i, 6, "%02x%02x%s", gid[2 * i], gid[2 * i + 1], i < 7 ? ":" : "");
    }
}

/* The first line of path, without its newline; false when unreadable. */
static bool read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok) {
        buf[strcspn(buf, "\n")] = '\0';
    }
    return ok;
}

static bool ipv4_mapped(const uint8_t gid[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(gid, prefix, sizeof(prefix)) == 0;
}

/* A port's GID table has at most a few hundred entries; the kernel
 * leaves unused ones unreadable or zero. */
#define MAX_GIDS 256

int btl_verbs_roce_v2_ipv4_gid(const char *port_dir, uint8_t gid[16], char *why, size_t why_len)
{
    int v2 = 0;
    for (int i = 0; i < MAX_GIDS; i++) {
        char path[512], type[32], text[64];
        snprintf(path, sizeof(path), "%s/gid_attrs/types/%d", port_dir, i);
        if (!read_line(path, type, sizeof(type)) || strcmp(type, "RoCE v2") != 0) {
            continue;
        }
        v2++;
        snprintf(path, sizeof(path), "%s/gids/%d", port_dir, i);
        uint8_t g[16];
        if (read_line(path, text, sizeof(text)) && btl_verbs_gid_parse(text, g) == MRAIL_SUCCESS &&
            ipv4_mapped(g)) {
            memcpy(gid, g, 16);
            return i;
        }
    }
    snprintf(why, why_len,
             v2 ? "%s: its %d RoCE v2 GID(s) hold no IPv4 address (give its netdev one)"
                : "%s: no RoCE v2 GID%.0d (is the port's netdev up with an address?)",
             port_dir, v2);
    return -1;
}

int btl_verbs_numa_node(const char *dev_dir)
{
    char path[512], text[32];
    snprintf(path, sizeof(path), "%s/device/numa_node", dev_dir);
    int node = -1;
    if (!read_line(path, text, sizeof(text)) || sscanf(text, "%d", &node) != 1) {
        return -1;
    }
    return node >= 0 ? node : -1;
}

bool btl_verbs_ipoib_ipv4(const char *dev, unsigned port, uint8_t ip[4])
{
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0) {
        return false;
    }
    bool found = false;
    for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET) {
            continue;
        }
        char path[512], text[32];
        struct stat st;
        snprintf(path, sizeof(path), "/sys/class/net/%s/device/infiniband/%s", i->ifa_name, dev);
        if (stat(path, &st) != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/class/net/%s/dev_port", i->ifa_name);
        unsigned dev_port = 0;
        if (read_line(path, text, sizeof(text)) && sscanf(text, "%u", &dev_port) == 1 &&
            dev_port + 1 == port) {
            memcpy(ip, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
            found = true;
        }
    }
    freeifaddrs(list);
    return found;
}
