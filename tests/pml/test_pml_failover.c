/* The PML's failover over btl/tcp between two emulated hosts (network
 * namespaces): rails pulled, stalled, lossy, never connected, all cut, and
 * brought back, with every byte checked by the rank program
 * (tests/pml/pml_probe.c). */
#include <math.h>

#include "mrail/mrail.h"
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
/* Subnets of its own (see lab_hosts.h): 40-99. */
#define LAB_SUBNET_FIRST 40
#include "lab_hosts.h"

TestSuite(pml_failover, .init = hosts_up, .fini = hosts_down, .timeout = 180);

/* Two rails shaped to 400 Mbit/s; during the second of three 32 MiB
 * messages (each followed by 64 eager ones) rank fail_rank takes rail
 * fail_if down. Both btls time it out (btl_tcp_user_timeout, or keepalive
 * on the side that only waits) and the PML sends the fragments, and the
 * eager and control messages, that the rail carried over the other one:
 * every byte arrives (pml_probe checks them), nothing is reported as an
 * error, and the statistics show the failover happened. */
static void run_failover(const char *fail_if, const char *fail_rank, bool first_rail,
                         const char *user_timeout, bool expect_stall, bool at_start)
{
    shape_two_rails();
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "-n",
                    "2",
                    "--netns",
                    nslist,
                    "--pmix-if",
                    bridge,
                    "--mca",
                    "btl",
                    "self,tcp",
                    "--mca",
                    "btl_tcp_if_include",
                    "rail1,rail2",
                    "--mca",
                    "btl_tcp_user_timeout",
                    (char *)user_timeout,
                    "--mca",
                    "btl_tcp_connect_timeout",
                    at_start ? "600" : "30",
                    PROBE,
                    "--checks",
                    "failover",
                    "--fail-if",
                    (char *)fail_if,
                    "--fail-rank",
                    (char *)fail_rank,
                    "--stats",
                    "--tag",
                    r.tag,
                    at_start ? "--fail-at-start" : NULL,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "check=failover ok\n"), 2, "%s", r.out);
    const char *s0 = strstr(r.out, "rank=0 stats");
    cr_assert_not_null(s0, "%s", r.out);
    unsigned long long eager, rndv, rget, resent, dup, failed;
    cr_assert_eq(sscanf(s0,
                        "rank=0 stats eager=%llu rendezvous=%llu rget=%llu resent=%llu "
                        "dup_dropped=%llu rails_failed=%llu",
                        &eager, &rndv, &rget, &resent, &dup, &failed),
                 6);
    cr_expect_eq(failed, 1, "rank 0 must have failed exactly %s: %s", fail_if, r.out);
    if (!first_rail) { /* on the first rail, the cut may catch only control messages */
        cr_expect_gt(resent, 0, "%s's fragments must have gone again: %s", fail_if, r.out);
    }
    /* With the first rail down, eager messages go as rendezvous until the
     * sender knows: every message is one or the other. */
    cr_expect_eq(rndv + eager, 3 + 3 * 64, "%s", r.out);
    cr_expect_geq(rndv, 3, "%s", r.out);
    if (expect_stall) {
        const char *st = strstr(s0, "rails_stalled=");
        cr_assert_not_null(st, "%s", s0);
        cr_expect_eq(strtoull(st + strlen("rails_stalled="), NULL, 10), 1,
                     "the sender's PML must have failed the stalled rail itself: %s", r.out);
    }
    if (first_rail) { /* the control messages' rail: some of them went again */
        unsigned long long ctl = 0;
        for (const char *l = strstr(r.out, " ctl_resent="); l; l = strstr(l + 1, " ctl_resent=")) {
            ctl += strtoull(l + strlen(" ctl_resent="), NULL, 10);
        }
        cr_expect_gt(ctl, 0, "control messages on %s must have gone again: %s", fail_if, r.out);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

Test(pml_failover, a_rail_pulled_mid_message_loses_nothing, .timeout = 120)
{
    run_failover("rail2", "1", false, "1000", false, false);
}

/* With the btl's own timeout out of the way (30 s), the sender's PML sees
 * rail2 finish nothing while rail1 goes on, fails it itself
 * (pml_stripe_stall_timeout) and moves its fragments. */
Test(pml_failover, a_stalled_rail_is_failed_by_the_pml_before_the_btl_notices, .timeout = 120)
{
    run_failover("rail2", "1", false, "30000", true, false);
}

/* The first rail carries the control and eager messages: a cut there, on
 * either side, must not lose one or hang. */
Test(pml_failover, the_first_rail_pulled_by_the_receiver_loses_nothing, .timeout = 120)
{
    run_failover("rail1", "1", true, "1000", false, false);
}

Test(pml_failover, the_first_rail_pulled_by_the_sender_loses_nothing, .timeout = 120)
{
    run_failover("rail1", "0", true, "1000", false, false);
}

/* rail2 is cut before anything was sent: its first connection never comes
 * up. With the btl's connect timeout far away (600 s), the sender's PML
 * sees the connect make no progress while rail1 carries data, fails rail2
 * itself and sends its fragments over rail1. */
Test(pml_failover, a_rail_that_never_connects_is_failed_by_the_pml, .timeout = 120)
{
    run_failover("rail2", "1", false, "30000", true, true);
}

#define DROP_SRC MRAIL_TEST_SRC_DIR "/../runtime/drop_random.bpf.c"

/* Host 0 drops permille/1000 of what it sends on rail<k> at random (a tc
 * bpf program: this kernel has no netem): its data to rank 1 and its
 * acknowledgements of rank 1's data. */
static void lose_packets(int k, int permille)
{
    char obj[64], cmd[512];
    snprintf(obj, sizeof(obj), "/tmp/%s-drop.o", prefix);
    snprintf(cmd, sizeof(cmd), "clang -O2 -target bpf -DPERMILLE=%d -c %s -o %s", permille,
             DROP_SRC, obj);
    cr_assert_eq(system(cmd), 0, "%s (clang is in tools/setup-debian.sh)", cmd);
    snprintf(cmd, sizeof(cmd),
             "ip netns exec %s-0 tc qdisc add dev rail%d clsact && "
             "ip netns exec %s-0 tc filter add dev rail%d egress bpf da obj %s sec classifier",
             prefix, k, prefix, k, obj);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    unlink(obj);
}

/* Packets host 0's loss program dropped on rail<k>. */
static unsigned long long packets_lost(int k)
{
    char cmd[128], line[256];
    snprintf(cmd, sizeof(cmd), "ip netns exec %s-0 tc -s qdisc show dev rail%d", prefix, k);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    unsigned long long dropped = 0;
    bool clsact = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *d = strstr(line, "(dropped ");
        if (strstr(line, "qdisc clsact") != NULL) {
            clsact = true;
        } else if (clsact && d != NULL) {
            dropped = strtoull(d + strlen("(dropped "), NULL, 10);
            clsact = false;
        }
    }
    pclose(f);
    return dropped;
}

/* rail2 loses 5 % of host 0's packets: retransmissions, lost SYNs and
 * stretched acknowledgements, but a path that works. Every byte arrives
 * in order both ways, and neither PML takes the lossy rail for a dead
 * one (a lost SYN used to look like a rail that never connects). */
Test(pml_failover, a_lossy_rail_carries_its_part_without_false_alarms, .timeout = 120)
{
    shape_two_rails();
    lose_packets(2, 50);
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,          "-n",        "2",        "--netns",
                    nslist,        "--pmix-if", bridge,     "--mca",
                    "btl",         "self,tcp",  "--mca",    "btl_tcp_if_include",
                    "rail1,rail2", PROBE,       "--checks", "exchange,order,stripe",
                    "--max",       "16777216",  "--stats",  NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3, "%s", r.out);
    cr_expect_gt(packets_lost(2), 0, "the loss program dropped nothing on rail2");
    for (unsigned rank = 0; rank < 2; rank++) {
        char key[32];
        snprintf(key, sizeof(key), "rank=%u stats", rank);
        const char *st = strstr(r.out, key);
        cr_assert_not_null(st, "%s", r.out);
        const char *f = strstr(st, "rails_failed=");
        cr_assert_not_null(f, "%s", st);
        cr_expect_eq(strtoull(f + strlen("rails_failed="), NULL, 10), 0,
                     "rank %u failed the lossy rail: %s", rank, r.out);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

/* Runs pml_probe's check over rail1 and rail2 (shaped) with rank 1
 * cutting the rails in fail_if during it; extra is one more probe flag or
 * NULL. */
static void run_cut(run_t *r, const char *check, const char *fail_if, const char *extra)
{
    shape_two_rails();
    run_init(r);
    char *argv[] = {MRUN,          "-n",        "2",
                    "--netns",     nslist,      "--pmix-if",
                    bridge,        "--mca",     "btl",
                    "self,tcp",    "--mca",     "btl_tcp_if_include",
                    "rail1,rail2", "--mca",     "btl_tcp_user_timeout",
                    "1000",        PROBE,       "--checks",
                    (char *)check, "--fail-if", (char *)fail_if,
                    "--tag",       r->tag,      (char *)extra,
                    NULL};
    run_cmd(r, argv, NULL, NULL);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
}

/* Rank 1 cuts both rails in the middle of a 32 MiB message (shaped to 400
 * Mbit/s so that it is still going). Nothing hangs: on both ranks the
 * message and a receive the peer never answers complete with
 * MRAIL_ERR_UNREACHABLE, new operations to the peer are refused, and the
 * job ends normally (pml_probe checks all of it; the control network that
 * mrun uses is untouched). */
Test(pml_failover, every_rail_cut_fails_pending_requests_instead_of_hanging, .timeout = 120)
{
    run_t r;
    run_cut(&r, "unreachable", "rail1,rail2", NULL);
    cr_expect_eq(count_lines(r.out, "check=unreachable ok\n"), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 unreachable after "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=1 unreachable after "), 1, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* A rail cut during a message and put back afterwards carries traffic
 * again: the PML probes it, re-admits it, and the next messages use it
 * (every byte checked by pml_probe). */
Test(pml_failover, a_rail_that_comes_back_is_used_again, .timeout = 150)
{
    run_t r;
    run_cut(&r, "failback", "rail2", "--stats");
    cr_expect_eq(count_lines(r.out, "check=failback ok\n"), 2, "%s", r.out);
    const char *l = strstr(r.out, "rank=0 failback ");
    cr_assert_not_null(l, "%s", r.out);
    int rounds;
    unsigned long long restored, after;
    cr_assert_eq(sscanf(l, "rank=0 failback rounds=%d restored=%llu rail_bytes_after=%llu", &rounds,
                        &restored, &after),
                 3, "%s", l);
    cr_expect_geq(restored, 1, "rail2 was never re-admitted: %s", r.out);
    cr_expect_gt(after, 1u << 20, "rail2 carried %llu bytes of 3 x 16 MiB after its return", after);
    run_expect_clean(&r);
    run_fini(&r);
}
