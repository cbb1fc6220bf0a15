/* btl/tcp interface selection: names, globs, CIDRs and their errors. */
#include <arpa/inet.h>

#include "btl_tcp.h"
#include "test_util.h"

static btl_tcp_if_t itf(const char *name, const char *addr)
{
    btl_tcp_if_t i;
    memset(&i, 0, sizeof(i));
    snprintf(i.name, sizeof(i.name), "%s", name);
    cr_assert_eq(inet_pton(AF_INET, addr, &i.addr), 1);
    return i;
}

static mrail_mca_list_t list_of(char **items, size_t n)
{
    return (mrail_mca_list_t){n, items};
}

Test(btl_tcp_if, names_globs_and_cidrs_match)
{
    btl_tcp_if_t eth = itf("eth0", "10.1.2.3");
    mrail_reason_t why;
    int m;
    const struct {
        const char *spec;
        int match;
    } cases[] = {
        {"eth0", 1},        {"eth1", 0},        {"eth*", 1},        {"ib*", 0},
        {"10.1.0.0/16", 1}, {"10.2.0.0/16", 0}, {"10.1.2.3/32", 1}, {"0.0.0.0/0", 1},
        {"10.1.2.2/32", 0}, {"10.1.2.0/24", 1},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        cr_assert_eq(btl_tcp_if_match(cases[k].spec, &eth, &m, &why), MRAIL_SUCCESS, "%s: %s",
                     cases[k].spec, why.text);
        cr_expect_eq(m, cases[k].match, "%s", cases[k].spec);
    }
}

Test(btl_tcp_if, invalid_cidrs_are_errors)
{
    btl_tcp_if_t eth = itf("eth0", "10.1.2.3");
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/",   "10.0.0/8",
                         "300.1.1.1/8", "10.0.0.0/-1", "10.0.0.0/8x"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        mrail_reason_t why;
        int m;
        cr_expect_eq(btl_tcp_if_match(bad[k], &eth, &m, &why), MRAIL_ERR_BAD_PARAM, "%s", bad[k]);
        cr_expect(strstr(why.text, bad[k]) && strstr(why.text, "a.b.c.d/n")
                      ? 1
                      : strstr(why.text, "not an address") != NULL,
                  "%s: %s", bad[k], why.text);
    }
}

Test(btl_tcp_if, exclude_removes_and_include_keeps)
{
    btl_tcp_if_t ifs[4] = {itf("lo", "127.0.0.1"), itf("eth0", "10.1.0.1"), itf("eth1", "10.2.0.1"),
                           itf("docker0", "172.17.0.1")};
    size_t n = 4;
    char *exc[] = {"lo", "docker*"};
    btl_tcp_config_t cfg = {.if_include = {0, NULL}, .if_exclude = list_of(exc, 2)};
    mrail_reason_t why;
    cr_assert_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_SUCCESS, "%s", why.text);
    cr_assert_eq(n, 2u);
    cr_expect_str_eq(ifs[0].name, "eth0");
    cr_expect_str_eq(ifs[1].name, "eth1");

    char *inc[] = {"10.2.0.0/16"};
    cfg = (btl_tcp_config_t){.if_include = list_of(inc, 1), .if_exclude = list_of(exc, 2)};
    cr_assert_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_SUCCESS, "%s", why.text);
    cr_assert_eq(n, 1u);
    cr_expect_str_eq(ifs[0].name, "eth1");
}

/* The default exclusion leaves container and VM bridges out (issue 17):
 * they reach nothing off the node, so they must never become rails. */
Test(btl_tcp_if, the_default_leaves_out_container_bridges)
{
    btl_tcp_if_t ifs[] = {itf("lo", "127.0.0.1"),         itf("eth0", "10.1.0.1"),
                          itf("docker0", "172.17.0.1"),   itf("virbr0", "192.168.122.1"),
                          itf("br-3f2a9c", "172.18.0.1"), itf("cni0", "10.88.0.1"),
                          itf("podman1", "10.89.0.1"),    itf("flannel.1", "10.244.0.0"),
                          itf("cali7d1e", "10.245.0.1"),  itf("vxlan.calico", "10.246.0.1"),
                          itf("ens3", "10.2.0.1"),        itf("bridge0", "10.3.0.1")};
    size_t n = sizeof(ifs) / sizeof(ifs[0]);
    char spec[] = BTL_TCP_IF_EXCLUDE_DEFAULT, *items[32], *save = NULL;
    size_t count = 0;
    for (char *t = strtok_r(spec, ",", &save); t != NULL && count < 32;
         t = strtok_r(NULL, ",", &save)) {
        items[count++] = t;
    }
    btl_tcp_config_t cfg = {.if_exclude = list_of(items, count)};
    mrail_reason_t why;
    cr_assert_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_SUCCESS, "%s", why.text);
    cr_assert_eq(n, 3u, "left: %zu", n);
    cr_expect_str_eq(ifs[0].name, "eth0");
    cr_expect_str_eq(ifs[1].name, "ens3");
    cr_expect_str_eq(ifs[2].name, "bridge0"); /* a bridge an admin named: used */
}

Test(btl_tcp_if, include_entry_matching_nothing_lists_the_interfaces)
{
    btl_tcp_if_t ifs[2] = {itf("lo", "127.0.0.1"), itf("eth0", "10.1.0.1")};
    size_t n = 2;
    char *inc[] = {"eth0", "eth9"};
    btl_tcp_config_t cfg = {.if_include = list_of(inc, 2)};
    mrail_reason_t why;
    cr_expect_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_ERR_BAD_PARAM);
    cr_expect(strstr(why.text, "\"eth9\" matches no interface"), "%s", why.text);
    cr_expect(strstr(why.text, "lo (127.0.0.1), eth0 (10.1.0.1)"), "%s", why.text);
    cr_expect_eq(n, 2u, "nothing changed on error");
}

Test(btl_tcp_if, bad_include_cidr_names_the_parameter)
{
    btl_tcp_if_t ifs[1] = {itf("eth0", "10.1.0.1")};
    size_t n = 1;
    char *inc[] = {"10.0.0.0/40"};
    btl_tcp_config_t cfg = {.if_include = list_of(inc, 1)};
    mrail_reason_t why;
    cr_expect_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_ERR_BAD_PARAM);
    cr_expect(strstr(why.text, "btl_tcp_if_include") && strstr(why.text, "10.0.0.0/40"), "%s",
              why.text);
}

Test(btl_tcp_if, nothing_left_declines_with_the_interfaces)
{
    btl_tcp_if_t ifs[1] = {itf("lo", "127.0.0.1")};
    size_t n = 1;
    char *exc[] = {"lo"};
    btl_tcp_config_t cfg = {.if_exclude = list_of(exc, 1)};
    mrail_reason_t why;
    cr_expect_eq(btl_tcp_if_filter(&cfg, ifs, &n, &why), MRAIL_ERR_DECLINED);
    cr_expect(strstr(why.text, "lo (127.0.0.1)"), "%s", why.text);
}

Test(btl_tcp_if, real_interfaces_include_loopback)
{
    btl_tcp_if_t *ifs;
    size_t n;
    mrail_reason_t why;
    cr_assert_eq(mrail_netdevs_list(&ifs, &n, &why), MRAIL_SUCCESS, "%s", why.text);
    int found_lo = 0;
    for (size_t i = 0; i < n; i++) {
        found_lo |= ifs[i].addr.s_addr == htonl(INADDR_LOOPBACK);
    }
    cr_expect(found_lo, "getifaddrs shows no 127.0.0.1");
    free(ifs);
}
