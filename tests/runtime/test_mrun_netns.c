/* mrun's emulated hosts: ranks in network namespaces, one node each. */
#include "run_util.h"

#define PROBE MRAIL_TEST_BIN_DIR "/rte_probe"
#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define HOSTS MRAIL_TEST_SRC_DIR "/netns_hosts.sh"

static char prefix[16], bridge[24], nslist[64], ns3[96], subnet[8];

static void hosts_up(void)
{
    int id = (int)(getpid() % 10000);
    snprintf(prefix, sizeof(prefix), "mrt%d", id);
    snprintf(bridge, sizeof(bridge), "%sbr", prefix);
    snprintf(nslist, sizeof(nslist), "%s-0,%s-1", prefix, prefix);
    snprintf(ns3, sizeof(ns3), "%s-0,%s-1,%s-2", prefix, prefix, prefix);
    snprintf(subnet, sizeof(subnet), "%d", 220 + id % 30); /* lab_hosts.h's ranges */
    skip_unless_root("emulated hosts are network namespaces");
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s up %s %s 3", HOSTS, prefix, subnet);
    cr_assert_eq(system(cmd), 0, "could not build the emulated hosts");
}

static void hosts_down(void)
{
    if (geteuid() != 0) {
        return; /* skipped: nothing was built */
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s down %s 3", HOSTS, prefix);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(mrun_netns, .init = hosts_up, .fini = hosts_down, .timeout = 60);

/* Runs rte_probe as mrun with opts places it on the three emulated hosts,
 * and checks that rank i ran on host want[i] ("<prefix>-<want[i]>"), with
 * the node numbers, local ranks and peers those places imply. */
static void expect_placement(char *const opts[], size_t nopts, unsigned np, const int *want)
{
    run_t r;
    run_init(&r);
    char npbuf[8];
    snprintf(npbuf, sizeof(npbuf), "%u", np);
    char *argv[32] = {MRUN, "-n", npbuf, "--oversubscribe", "--netns", ns3, "--pmix-if", bridge};
    size_t n = 8;
    for (size_t i = 0; i < nopts; i++) {
        argv[n++] = opts[i];
    }
    argv[n++] = "--display-map";
    argv[n++] = PROBE;
    argv[n++] = "--tag";
    argv[n++] = r.tag;
    argv[n] = NULL;
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* Nodes are the hosts that have ranks, numbered in --netns order. */
    int node_of_host[3] = {-1, -1, -1}, nodes = 0;
    for (int h = 0; h < 3; h++) {
        for (unsigned i = 0; i < np; i++) {
            if (want[i] == h) {
                node_of_host[h] = nodes++;
                break;
            }
        }
    }
    for (unsigned i = 0; i < np; i++) {
        char peers[64] = "", line[256];
        int local_rank = -1, local_size = 0;
        for (unsigned k = 0; k < np; k++) {
            if (want[k] == want[i]) {
                local_rank += k <= i;
                snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers), "%s%u",
                         local_size++ ? "," : "", k);
            }
        }
        snprintf(line, sizeof(line),
                 "rank=%u size=%u local_rank=%d local_size=%d node=%d singleton=0 app=0 "
                 "host=%s-%d peers=%s\n",
                 i, np, local_rank, local_size, node_of_host[want[i]], prefix, want[i], peers);
        cr_expect_eq(count_lines(r.out, line), 1, "no line %s in\n%s", line, r.out);
        snprintf(line, sizeof(line), "rank %u on node %d (%s-%d)", i, node_of_host[want[i]], prefix,
                 want[i]);
        cr_expect_eq(count_lines(r.err, line), 1, "--display-map: no \"%s\" in\n%s", line, r.err);
    }
    cr_expect_eq(count_lines(r.out, "modex=ok"), (int)np, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun_netns, host_slots_place_ranks_in_the_order_given)
{
    char hosts[64];
    snprintf(hosts, sizeof(hosts), "%s-2:2,%s-0", prefix, prefix);
    char *opts[] = {"--host", hosts};
    expect_placement(opts, 2, 3, (int[]){2, 2, 0});
}

Test(mrun_netns, npernode_puts_n_ranks_on_each_host)
{
    char *opts[] = {"-N", "1"};
    expect_placement(opts, 2, 3, (int[]){0, 1, 2});
    char *ppr[] = {"--map-by", "ppr:2:node"};
    expect_placement(ppr, 2, 4, (int[]){0, 0, 1, 1});
}

Test(mrun_netns, hostfile_slots_as_open_mpi_writes_them)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/mrail-hostfile.%d", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "# two kinds of line\n%s-1\tmax_slots=9 slots=2\n\n%s-2:1\n", prefix, prefix);
    fclose(f);
    char *opts[] = {"--hostfile", path};
    expect_placement(opts, 2, 3, (int[]){1, 1, 2});
    unlink(path);
}

Test(mrun_netns, oversubscribed_hosts_are_filled_again_in_turn)
{
    char hosts[64];
    snprintf(hosts, sizeof(hosts), "%s-0:2,%s-1", prefix, prefix);
    char *opts[] = {"-H", hosts};
    expect_placement(opts, 2, 5, (int[]){0, 0, 1, 0, 0});
}

Test(mrun_netns, placement_errors_are_named)
{
    char hosts[64], stranger[64], want[160];
    snprintf(hosts, sizeof(hosts), "%s-0:2,%s-1", prefix, prefix);
    snprintf(stranger, sizeof(stranger), "%s-0,elsewhere", prefix);
    snprintf(want, sizeof(want), "host elsewhere is not one of the emulated hosts (--netns %s)",
             ns3);
    struct {
        char *opts[4];
        const char *msg;
    } cases[] = {
        {{"--host", hosts}, "4 ranks do not fit in the 3 slots of 2 hosts; give slots"},
        {{"--host", stranger}, want},
        {{"-N", "1"}, "4 ranks do not fit in the 3 slots of 3 hosts at -N ranks each"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        run_t r;
        run_init(&r);
        char *argv[] = {MRUN,
                        "-n",
                        "4",
                        "--netns",
                        ns3,
                        "--pmix-if",
                        bridge,
                        cases[c].opts[0],
                        cases[c].opts[1],
                        PROBE,
                        NULL};
        run_cmd(&r, argv, NULL, NULL);
        cr_expect_eq(r.status, 2, "case %zu: %s", c, r.err);
        cr_expect(strstr(r.err, cases[c].msg) != NULL, "case %zu: want \"%s\" in %s", c,
                  cases[c].msg, r.err);
        cr_expect_eq(count_lines(r.out, "rank="), 0, "case %zu started ranks", c);
        run_fini(&r);
    }
}

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
    char want[96];
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
