/* Which IP interfaces btl/tcp drives. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_tcp.h"

int btl_tcp_if_list(btl_tcp_if_t **ifs, size_t *count, mrail_reason_t *why)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "getifaddrs failed: %s", strerror(errno));
    }
    size_t n = 0;
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        n += a->ifa_addr && a->ifa_addr->sa_family == AF_INET && (a->ifa_flags & IFF_UP);
    }
    btl_tcp_if_t *list = calloc(n ? n : 1, sizeof(*list));
    if (list == NULL) {
        freeifaddrs(all);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    size_t k = 0;
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && (a->ifa_flags & IFF_UP)) {
            snprintf(list[k].name, sizeof(list[k].name), "%s", a->ifa_name);
            list[k].addr = ((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
            k++;
        }
    }
    freeifaddrs(all);
    *ifs = list;
    *count = k;
    return MRAIL_SUCCESS;
}

int btl_tcp_if_match(const char *spec, const btl_tcp_if_t *itf, int *match, mrail_reason_t *why)
{
    const char *slash = strchr(spec, '/');
    if (slash == NULL) {
        *match = fnmatch(spec, itf->name, 0) == 0;
        return MRAIL_SUCCESS;
    }
    char addr[INET_ADDRSTRLEN + 1];
    size_t alen = (size_t)(slash - spec);
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr net;
    if (alen >= sizeof(addr) || slash[1] == '\0' || *end != '\0' || bits < 0 || bits > 32) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "\"%s\" is not a valid IPv4 CIDR (expected a.b.c.d/n with n "
                                "from 0 to 32)",
                                spec);
    }
    memcpy(addr, spec, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, &net) != 1) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "\"%s\" is not a valid IPv4 CIDR (\"%s\" is not an address)", spec,
                                addr);
    }
    uint32_t mask = bits == 0 ? 0 : htonl(~0u << (32 - bits));
    *match = (itf->addr.s_addr & mask) == (net.s_addr & mask);
    return MRAIL_SUCCESS;
}

static void describe_ifs(const btl_tcp_if_t *ifs, size_t count, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < len; i++) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ifs[i].addr, a, sizeof(a));
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%s (%s)", i ? ", " : "", ifs[i].name, a);
    }
}

/* Names the parameter in front of a match error (why is both source and
 * destination, hence the copy). */
static int reason_prefix(mrail_reason_t *why, int rc, const char *param)
{
    char detail[sizeof(why->text)];
    snprintf(detail, sizeof(detail), "%s", why->text);
    return mrail_reason_set(why, rc, "%s: %s", param, detail);
}

static int any_match(const mrail_mca_list_t *specs, const btl_tcp_if_t *itf, int *match,
                     mrail_reason_t *why)
{
    *match = 0;
    for (size_t s = 0; s < specs->count && !*match; s++) {
        int rc = btl_tcp_if_match(specs->items[s], itf, match, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    return MRAIL_SUCCESS;
}

int btl_tcp_if_filter(const btl_tcp_config_t *cfg, btl_tcp_if_t *ifs, size_t *count,
                      mrail_reason_t *why)
{
    bool include = cfg->if_include.count > 0;
    const mrail_mca_list_t *specs = include ? &cfg->if_include : &cfg->if_exclude;
    char have[400];
    describe_ifs(ifs, *count, have, sizeof(have));

    /* Every include entry must name something: a typo must not quietly
     * leave a NIC unused. */
    for (size_t s = 0; include && s < specs->count; s++) {
        int hit = 0;
        for (size_t i = 0; i < *count && !hit; i++) {
            int rc = btl_tcp_if_match(specs->items[s], &ifs[i], &hit, why);
            if (rc != MRAIL_SUCCESS) {
                return reason_prefix(why, rc, "btl_tcp_if_include");
            }
        }
        if (!hit) {
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                    "btl_tcp_if_include entry \"%s\" matches no interface that "
                                    "is up; IPv4 interfaces here: %s",
                                    specs->items[s], have[0] ? have : "none");
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        int match;
        int rc = any_match(specs, &ifs[i], &match, why);
        if (rc != MRAIL_SUCCESS) {
            return reason_prefix(why, rc, include ? "btl_tcp_if_include" : "btl_tcp_if_exclude");
        }
        if (match == include) {
            ifs[kept++] = ifs[i];
        }
    }
    if (kept == 0) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "no IPv4 interface left after btl_tcp_if_%s; interfaces here: %s",
                                include ? "include" : "exclude", have[0] ? have : "none");
    }
    *count = kept;
    return MRAIL_SUCCESS;
}
