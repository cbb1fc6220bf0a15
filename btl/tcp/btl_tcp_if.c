/* Which IP interfaces btl/tcp drives. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_tcp.h"

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
