/* Route lookup (rails/rails_routes.c) and the pairing of two ranks' tcp
 * modules (btl/tcp/btl_tcp_pair.c): which interface talks to which. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "btl_tcp.h"
#include "mrail/rails_devices.h"

static uint32_t ip(const char *s)
{
    struct in_addr a;
    cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
    return a.s_addr;
}

static mrail_route_t route(const char *dst, uint8_t plen, uint32_t oif, uint32_t prio)
{
    return (mrail_route_t){.dst = ip(dst), .plen = plen, .oif = oif, .priority = prio};
}

static btl_tcp_modex_t mod(const char *addr, uint32_t ifindex)
{
    return (btl_tcp_modex_t){.magic = BTL_TCP_MAGIC,
                             .addr = ip(addr),
                             .netmask = ip("255.255.255.0"),
                             .port = htons(40000),
                             .ifindex = ifindex};
}

Test(routes, longest_prefix_then_lowest_metric)
{
    mrail_route_t r[] = {route("0.0.0.0", 0, 1, 0), route("10.1.0.0", 16, 2, 0),
                         route("10.1.2.0", 24, 3, 100), route("10.1.2.0", 24, 4, 50)};
    cr_expect_eq(mrail_route_lookup(r, 4, ip("8.8.8.8"))->oif, 1u, "default route");
    cr_expect_eq(mrail_route_lookup(r, 4, ip("10.1.7.7"))->oif, 2u, "/16 beats default");
    cr_expect_eq(mrail_route_lookup(r, 4, ip("10.1.2.9"))->oif, 4u, "/24, lower metric");
    cr_expect_null(mrail_route_lookup(r + 1, 3, ip("192.168.0.1")), "nothing covers it");
}

/* The kernel has a connected route for every address it holds: the lookup
 * of each interface's own address must leave through that interface.
 * Other tests add and remove interfaces meanwhile, so only those that are
 * the same before and after the route dump are judged. */
static bool unchanged(const mrail_netdev_t *d, const mrail_netdev_t *after, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!strcmp(after[k].name, d->name) && after[k].ifindex == d->ifindex &&
            after[k].addr.s_addr == d->addr.s_addr) {
            return true;
        }
    }
    return false;
}

Test(routes, netlink_dump_matches_the_interfaces)
{
    mrail_route_t *routes;
    size_t n;
    mrail_reason_t why;
    mrail_netdev_t *devs, *after;
    size_t nd, na;
    cr_assert_eq(mrail_netdevs_list(&devs, &nd, &why), MRAIL_SUCCESS, "%s", why.text);
    cr_assert_eq(mrail_routes_list(&routes, &n, &why), MRAIL_SUCCESS, "%s", why.text);
    cr_assert_eq(mrail_netdevs_list(&after, &na, &why), MRAIL_SUCCESS, "%s", why.text);
    size_t checked = 0;
    for (size_t i = 0; i < nd; i++) {
        if (devs[i].loopback || devs[i].netmask.s_addr == 0xffffffffu ||
            !unchanged(&devs[i], after, na)) {
            continue;
        }
        const mrail_route_t *r = mrail_route_lookup(routes, n, devs[i].addr.s_addr);
        cr_assert_not_null(r, "no route to %s's own address", devs[i].name);
        cr_expect_eq(r->oif, devs[i].ifindex, "%s's subnet routes through ifindex %u", devs[i].name,
                     r->oif);
        checked++;
    }
    cr_expect_gt(checked, 0u, "this machine has a non-loopback IPv4 interface");
    free(routes);
    free(devs);
    free(after);
}

/* Two hosts on three rails, each rail its own subnet: rail k pairs with rail k. */
Test(pair, one_subnet_per_rail)
{
    btl_tcp_modex_t a[] = {mod("10.0.1.2", 11), mod("10.0.2.2", 12), mod("10.0.3.2", 13)};
    btl_tcp_modex_t b[] = {mod("10.0.3.3", 23), mod("10.0.1.3", 21), mod("10.0.2.3", 22)};
    mrail_route_t ra[] = {route("10.0.1.0", 24, 11, 0), route("10.0.2.0", 24, 12, 0),
                          route("10.0.3.0", 24, 13, 0)};
    mrail_route_t rb[] = {route("10.0.1.0", 24, 21, 0), route("10.0.2.0", 24, 22, 0),
                          route("10.0.3.0", 24, 23, 0)};
    btl_tcp_side_t lo = {a, 3, ra, 3}, hi = {b, 3, rb, 3};
    int l2h[3], h2l[3];
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[0], 1);
    cr_expect_eq(l2h[1], 2);
    cr_expect_eq(l2h[2], 0);
    cr_expect_eq(h2l[0], 2);
    cr_expect_eq(h2l[1], 0);
    cr_expect_eq(h2l[2], 1);
}

/* A module that could not listen (its address vanished between the probe
 * and wire-up) publishes port 0: it pairs with nothing, and the rail that
 * would have been its partner is free for no one else either. */
Test(pair, a_module_that_could_not_listen_pairs_with_nothing)
{
    btl_tcp_modex_t a[] = {mod("10.0.1.2", 11), mod("10.0.2.2", 12)};
    btl_tcp_modex_t b[] = {mod("10.0.1.3", 21), mod("10.0.2.3", 22)};
    mrail_route_t ra[] = {route("10.0.1.0", 24, 11, 0), route("10.0.2.0", 24, 12, 0)};
    mrail_route_t rb[] = {route("10.0.1.0", 24, 21, 0), route("10.0.2.0", 24, 22, 0)};
    b[1].port = 0;
    btl_tcp_side_t lo = {a, 2, ra, 2}, hi = {b, 2, rb, 2};
    int l2h[2], h2l[2];
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[0], 0);
    cr_expect_eq(l2h[1], -1);
    cr_expect_eq(h2l[1], -1);
    b[1].port = htons(40001);
    a[0].port = 0;
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[0], -1);
    cr_expect_eq(h2l[0], -1);
    cr_expect_eq(l2h[1], 1);
}

/* Rail 2 of b sits in another subnet: routed both ways it pairs; with no
 * route back (asymmetric) it is skipped on both sides, never tried. */
Test(pair, routed_pairs_and_one_way_routes)
{
    btl_tcp_modex_t a[] = {mod("10.0.1.2", 11), mod("10.0.2.2", 12)};
    btl_tcp_modex_t b[] = {mod("10.0.1.3", 21), mod("10.0.9.3", 22)};
    mrail_route_t ra[] = {route("10.0.1.0", 24, 11, 0), route("10.0.2.0", 24, 12, 0),
                          route("10.0.9.0", 24, 12, 0)};
    mrail_route_t rb[] = {route("10.0.1.0", 24, 21, 0), route("10.0.9.0", 24, 22, 0),
                          route("10.0.2.0", 24, 22, 0)};
    btl_tcp_side_t lo = {a, 2, ra, 3}, hi = {b, 2, rb, 3};
    int l2h[2], h2l[2];
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[0], 0);
    cr_expect_eq(l2h[1], 1, "10.0.2.2 <-> 10.0.9.3 is routed both ways");
    hi.nroutes = 2; /* b has no route back to 10.0.2.0/24 */
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[1], -1, "no route back: not a pair");
    cr_expect_eq(h2l[1], -1);
    cr_expect_eq(l2h[0], 0, "the other rail is unaffected");
}

/* Everything reachable through a default route on one interface: only
 * that interface pairs, once; the same answer whichever rank computes. */
Test(pair, default_route_pairs_once_and_symmetrically)
{
    btl_tcp_modex_t a[] = {mod("192.168.1.2", 11), mod("172.16.0.2", 12)};
    btl_tcp_modex_t b[] = {mod("192.168.5.3", 21), mod("172.17.0.3", 22)};
    mrail_route_t ra[] = {route("192.168.1.0", 24, 11, 0), route("172.16.0.0", 24, 12, 0),
                          route("0.0.0.0", 0, 11, 0)};
    mrail_route_t rb[] = {route("192.168.5.0", 24, 21, 0), route("172.17.0.0", 24, 22, 0),
                          route("0.0.0.0", 0, 21, 0)};
    btl_tcp_side_t lo = {a, 2, ra, 3}, hi = {b, 2, rb, 3};
    int l2h[2], h2l[2];
    btl_tcp_pair(&lo, &hi, l2h, h2l);
    cr_expect_eq(l2h[0], 0);
    cr_expect_eq(l2h[1], -1, "172.16/24 routes nothing of b's");
    cr_expect_eq(h2l[0], 0);
    cr_expect_eq(h2l[1], -1);
}
