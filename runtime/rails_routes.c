/* IPv4 routes through rtnetlink (RTM_GETROUTE dump), which answers for the
 * caller's network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mrail/rails_routes.h"

static uint32_t prefix_mask(uint8_t plen)
{
    if (plen >= 32) { /* above 32 only in a corrupt table (a peer's modex): a host route */
        return ~0u;
    }
    return plen == 0 ? 0 : htonl(~0u << (32 - plen));
}

const mrail_route_t *mrail_route_lookup(const mrail_route_t *routes, size_t count, uint32_t addr)
{
    const mrail_route_t *best = NULL;
    for (size_t i = 0; i < count; i++) {
        const mrail_route_t *r = &routes[i];
        if ((addr & prefix_mask(r->plen)) != (r->dst & prefix_mask(r->plen))) {
            continue;
        }
        if (best == NULL || r->plen > best->plen ||
            (r->plen == best->plen && r->priority < best->priority)) {
            best = r;
        }
    }
    return best;
}

/* One RTM_NEWROUTE message into out; false for routes we do not use. */
static bool parse_route(struct nlmsghdr *nh, mrail_route_t *out)
{
    struct rtmsg *rt = NLMSG_DATA(nh);
    if (rt->rtm_family != AF_INET || rt->rtm_table != RT_TABLE_MAIN ||
        rt->rtm_type != RTN_UNICAST) {
        return false;
    }
    *out = (mrail_route_t){.plen = rt->rtm_dst_len};
    int len = (int)RTM_PAYLOAD(nh);
    for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        switch (a->rta_type) {
        case RTA_DST: memcpy(&out->dst, RTA_DATA(a), sizeof(out->dst)); break;
        case RTA_OIF: memcpy(&out->oif, RTA_DATA(a), sizeof(out->oif)); break;
        case RTA_GATEWAY: out->gateway = 1; break;
        case RTA_PRIORITY: memcpy(&out->priority, RTA_DATA(a), sizeof(out->priority)); break;
        default: break;
        }
    }
    return out->oif != 0; /* multipath routes (no single oif) are left out */
}

int mrail_routes_list(mrail_route_t **routes, size_t *count, mrail_reason_t *why)
{
    *routes = NULL;
    *count = 0;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "netlink socket: %s", strerror(errno));
    }
    struct {
        struct nlmsghdr nh;
        struct rtmsg rt;
    } req = {.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
                    .nlmsg_type = RTM_GETROUTE,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                    .nlmsg_seq = 1},
             .rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN}};
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
        int err = errno;
        close(fd);
        return mrail_reason_set(why, MRAIL_ERR_IO, "netlink route dump: %s", strerror(err));
    }
    size_t cap = 0;
    int rc = MRAIL_SUCCESS;
    bool done = false;
    char buf[16384] __attribute__((aligned(4)));
    while (!done && rc == MRAIL_SUCCESS) {
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0) {
            rc = mrail_reason_set(why, MRAIL_ERR_IO, "netlink route dump: %s", strerror(errno));
            break;
        }
        int left = (int)got;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left);
             nh = NLMSG_NEXT(nh, left)) {
            if (nh->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (nh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(nh);
                rc = mrail_reason_set(why, MRAIL_ERR_IO, "netlink route dump: %s",
                                      strerror(-e->error));
                break;
            }
            mrail_route_t r;
            if (nh->nlmsg_type != RTM_NEWROUTE || !parse_route(nh, &r)) {
                continue;
            }
            if (*count == cap) {
                cap = cap ? 2 * cap : 16;
                mrail_route_t *grown = realloc(*routes, cap * sizeof(*grown));
                if (grown == NULL) {
                    rc = mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
                    break;
                }
                *routes = grown;
            }
            (*routes)[(*count)++] = r;
        }
    }
    close(fd);
    if (rc != MRAIL_SUCCESS) {
        free(*routes);
        *routes = NULL;
        *count = 0;
    }
    return rc;
}
