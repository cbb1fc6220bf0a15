/* mrun's emulated hosts: ranks in network namespaces, one node each. */
#include "run_util.h"

#define PROBE MRAIL_TEST_BIN_DIR "/rte_probe"
#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define HOSTS MRAIL_TEST_SRC_DIR "/netns_hosts.sh"

static char prefix[16], bridge[24], nslist[64], subnet[8];

static void hosts_up(void)
{
    int id = (int)(getpid() % 10000);
    snprintf(prefix, sizeof(prefix), "mrt%d", id);
    snprintf(bridge, sizeof(bridge), "%sbr", prefix);
    snprintf(nslist, sizeof(nslist), "%s-0,%s-1", prefix, prefix);
    snprintf(subnet, sizeof(subnet), "%d", 220 + id % 30); /* lab_hosts.h's ranges */
    skip_unless_root("emulated hosts are network namespaces");
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s up %s %s 2", HOSTS, prefix, subnet);
    cr_assert_eq(system(cmd), 0, "could not build the emulated hosts");
}

static void hosts_down(void)
{
    if (geteuid() != 0) {
        return; /* skipped: nothing was built */
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s down %s 2", HOSTS, prefix);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(mrun_netns, .init = hosts_up, .fini = hosts_down, .timeout = 60);

Test(mrun_netns, each_namespace_is_a_node)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,        "-n",   "4",   "--oversubscribe", "--netns", nslist,
                    "--pmix-if", bridge, PROBE, "--tag",           r.tag,     NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[256];
    for (int rank = 0; rank < 4; rank++) {
        int node = rank / 2;
        snprintf(want, sizeof(want),
                 "rank=%d size=4 local_rank=%d local_size=2 node=%d singleton=0 app=0 host=%s-%d "
                 "peers=%d,%d\n",
                 rank, rank % 2, node, prefix, node, 2 * node, 2 * node + 1);
        cr_expect_eq(count_lines(r.out, want), 1, "no line %s", want);
    }
    cr_expect_eq(count_lines(r.out, "modex=ok"), 4);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun_netns, ranks_run_inside_their_namespace)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,       "-n", "2",  "--netns", nslist, "--pmix-if", bridge, "--tag-output",
                    "/sbin/ip", "-4", "-o", "addr",    "show", "dev",       "eth0", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[64];
    for (int rank = 0; rank < 2; rank++) {
        snprintf(want, sizeof(want), "[1,%d]<stdout>:2: eth0    inet 10.%s.0.%d/24", rank, subnet,
                 rank + 2);
        cr_expect_eq(count_lines(r.out, want), 1, "rank %d is not in its namespace", rank);
    }
    run_fini(&r);
}

Test(mrun_netns, netns_needs_an_interface_for_pmix)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "--netns", nslist, PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--netns needs --pmix-if") != NULL, "%s", r.err);
    run_fini(&r);
}

/* libpmix 4 cannot listen on an interface whose kernel index has bit 15 set;
 * mrun must say so instead of passing on PMIx's bare "listener thread failed
 * to start". The index is picked free in 32768-65535. */
Test(mrun_netns, an_interface_pmix_cannot_listen_on_is_named)
{
    char name[24], cmd[128];
    snprintf(name, sizeof(name), "%shi", prefix);
    int idx = 40000 + (int)(getpid() % 1000);
    for (;; idx++) {
        cr_assert_lt(idx, 65536, "no free interface index in 32768-65535");
        snprintf(cmd, sizeof(cmd), "ip link add name %s index %d type bridge 2>/dev/null", name,
                 idx);
        if (system(cmd) == 0) {
            break;
        }
    }
    snprintf(cmd, sizeof(cmd), "ip addr add 10.%s.9.1/24 dev %s && ip link set %s up", subnet, name,
             name);
    cr_expect_eq(system(cmd), 0);
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "1", "--pmix-if", name, PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "ip link del %s", name);
    cr_expect_eq(system(cmd), 0);
    char want[64];
    snprintf(want, sizeof(want), "its kernel index is %d", idx);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, want) != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "32768-65535") != NULL, "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}
