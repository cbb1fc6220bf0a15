/* btl/tcp between two emulated hosts (network namespaces) joined by one to
 * three rails: byte-checked PML traffic, and each rail carrying its share.
 * The rank program is tests/pml/pml_probe.c. */
#include <math.h>

#include "mrail/mrail.h"
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
#include "lab_hosts.h"

TestSuite(btl_tcp, .init = hosts_up, .fini = hosts_down, .timeout = 180);

/* Runs pml_probe over the first nrails rails; returns its stdout. The
 * planner's weights are what the share checks judge: stealing (on by
 * default) would move the tail of each burst to whichever rail the CPU
 * happened to serve first, as these rails are not shaped. */
static void run_rails(run_t *r, int nrails, const char *checks, const char *measured)
{
    char include[128] = "";
    for (int k = 1; k <= nrails; k++) {
        snprintf(include + strlen(include), sizeof(include) - strlen(include), "%s10.%d.%d.0/24",
                 k > 1 ? "," : "", subnet, k);
    }
    run_init(r);
    char *argv[] = {MRUN,
                    "-n",
                    "2",
                    "--netns",
                    nslist,
                    "--pmix-if",
                    bridge,
                    "--mca",
                    "btl",
                    "self,sm,tcp",
                    "--mca",
                    "btl_tcp_if_include",
                    include,
                    "--mca",
                    "pml_stripe_use_measured_bandwidth",
                    (char *)measured,
                    "--mca",
                    "pml_stripe_steal",
                    "false",
                    PROBE,
                    "--checks",
                    (char *)checks,
                    "--max",
                    "16777216",
                    "--tag",
                    r->tag,
                    NULL};
    run_cmd(r, argv, NULL, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
}

static void expect_shares(const char *out, int nrails)
{
    int seen = 0;
    for (const char *line = strstr(out, "rail="); line; line = strstr(line + 1, "rail=")) {
        char name[64];
        double weight, share;
        cr_assert_eq(sscanf(line, "rail=%63s weight=%lf share=%lf", name, &weight, &share), 3);
        cr_expect(strncmp(name, "tcp:rail", 8) == 0, "rank 1 is reached over %s", name);
        cr_expect(fabs(share - weight) <= 0.15 * weight,
                  "%s carried %.3f of the bytes, its weight is %.3f", name, share, weight);
        seen++;
    }
    cr_expect_eq(seen, nrails, "rails to rank 1: %d, expected %d", seen, nrails);
}

Test(btl_tcp, one_rail_every_check)
{
    run_t r;
    run_rails(&r, 1, "exchange,order,truncate,outstanding,probe,anysource,stripe", "true");
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 7);
    expect_shares(r.out, 1);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_tcp, two_rails_share_by_weight)
{
    run_t r;
    run_rails(&r, 2, "exchange,order,stripe", "false");
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3);
    expect_shares(r.out, 2);
    run_fini(&r);
}

/* By the devices' weights: these rails are not shaped, so measured rates
 * follow the CPU's scheduling, and a 15 % bound on them judged noise (1
 * run in 10 failed); the lab benches measure the measured mode. */
Test(btl_tcp, three_rails_share_by_weight)
{
    run_t r;
    run_rails(&r, 3, "exchange,stripe", "false");
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 2);
    expect_shares(r.out, 3);
    run_fini(&r);
}

/* pml_stripe_report: at finalize the sender names each rail and what it
 * carried; the bytes add up to the 96 MiB the stripe check sends, and each
 * rail's part matches what its btl counted (pml_probe's share). */
Test(btl_tcp, the_pml_reports_what_each_rail_carried)
{
    run_t r;
    run_init(&r);
    char include[64];
    snprintf(include, sizeof(include), "10.%d.1.0/24,10.%d.2.0/24", subnet, subnet);
    char *argv[] = {MRUN,          "-n",    "2",
                    "--netns",     nslist,  "--pmix-if",
                    bridge,        "--mca", "btl",
                    "self,sm,tcp", "--mca", "btl_tcp_if_include",
                    include,       "--mca", "pml_stripe_report",
                    "true",        PROBE,   "--checks",
                    "stripe",      "--tag", r.tag,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    double total = 0, mb[2] = {0};
    int lines = 0;
    for (const char *l = strstr(r.err, "mrail pml: rank 0 to 1 rail "); l != NULL;
         l = strstr(l + 1, "mrail pml: rank 0 to 1 rail ")) {
        unsigned rail, failed, restored;
        char name[32];
        unsigned long long frags;
        cr_assert_eq(sscanf(l,
                            "mrail pml: rank 0 to 1 rail %u (%31[^)]): %lf MB in %llu fragments; "
                            "weighed by %*f MB/s %*s failed %u, restored %u;",
                            &rail, name, &mb[lines < 2 ? lines : 1], &frags, &failed, &restored),
                     6, "%s", l);
        cr_expect_eq(rail, (unsigned)lines);
        char want[32];
        snprintf(want, sizeof(want), "tcp:rail%u", rail + 1);
        cr_expect_str_eq(name, want);
        cr_expect_gt(frags, 0);
        cr_expect_eq(failed, 0);
        cr_expect_eq(restored, 0);
        total += mb[lines < 2 ? lines : 1];
        lines++;
    }
    cr_assert_eq(lines, 2, "rank 0's report: %s", r.err);
    cr_expect(fabs(total - 3 * 32 * 1048576 / 1e6) <= 0.15, "the rails carried %.1f MB", total);
    int seen = 0;
    for (const char *l = strstr(r.out, "rank=0 rail="); l != NULL;
         l = strstr(l + 1, "rank=0 rail=")) {
        double weight, share;
        cr_assert_eq(sscanf(l, "rank=0 rail=tcp:rail%*u weight=%lf share=%lf", &weight, &share), 2);
        cr_expect(fabs(share - mb[seen] / total) <= 0.02, "rail %d: btl share %.3f, report %.3f",
                  seen, share, mb[seen] / total);
        seen++;
    }
    cr_expect_eq(seen, 2, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Striped fragments are read from the socket straight into the receive
 * buffer (contiguous, or a few pieces per fragment); a buffer in pieces
 * too small for that still gets every byte, through the btl's buffer. */
Test(btl_tcp, fragments_are_received_straight_into_the_buffer)
{
    run_t r;
    run_rails(&r, 2, "placed", "true");
    cr_expect_eq(count_lines(r.out, "check=placed ok\n"), 2, "%s", r.out);
    const char *line = strstr(r.out, "rank=1 placed ");
    cr_assert_not_null(line, "%s", r.out);
    unsigned long long contiguous, coarse, fine;
    cr_assert_eq(sscanf(line, "rank=1 placed contiguous=%llu coarse=%llu fine=%llu", &contiguous,
                        &coarse, &fine),
                 3, "%s", line);
    /* 8 MiB in fragments of at most the btl's 128 KiB: at least 64 each */
    cr_expect_geq(contiguous, 64, "%s", line);
    cr_expect_geq(coarse, 64, "%s", line);
    cr_expect_eq(fine, 0, "%s", line);
    run_fini(&r);
}

Test(btl_tcp, excluded_rails_carry_nothing)
{
    /* Three rails exist; btl_tcp_if_include names the second only. */
    run_t r;
    run_init(&r);
    char include[64];
    snprintf(include, sizeof(include), "rail2");
    char *argv[] = {MRUN,    "-n",    "2",        "--netns",  nslist,  "--pmix-if",
                    bridge,  "--mca", "btl",      "self,tcp", "--mca", "btl_tcp_if_include",
                    include, PROBE,   "--checks", "stripe",   NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail2 weight=1.000 share=1.000"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail1"), 0);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail3"), 0);
    run_fini(&r);
}

/* Three rails of 16 links each would be 48 modules; mrail drives at most
 * MRAIL_MAX_RAILS rails to a peer (once, 64+ modules overran the pairing's
 * arrays): the first 32 are made, every byte still arrives. */
Test(btl_tcp, more_modules_than_rails_are_capped)
{
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
                    "rail1,rail2,rail3",
                    "--mca",
                    "btl_tcp_links",
                    "16",
                    PROBE,
                    "--checks",
                    "exchange,stripe",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 rail=tcp:"), MRAIL_MAX_RAILS, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 rail=tcp:rail3"), 0, "rail3 is past the cap");
    run_fini(&r);
}

Test(btl_tcp, strangers_are_refused_while_traffic_flows)
{
    run_t r;
    run_rails(&r, 1, "strangers", "true");
    cr_expect_eq(count_lines(r.out, "check=strangers ok\n"), 2);
    cr_expect_eq(count_lines(r.out, "rank=1 strangers_refused=6\n"), 1,
                 "garbage, truncated, wrong secret, other job, duplicate member and bare "
                 "connects must all be refused: %s",
                 r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Thousands of connections that send part of a hello and then nothing
 * (issue 16): the rank keeps its descriptors within btl_tcp_max_pending
 * and gets them back after btl_tcp_hello_timeout, and traffic flows
 * byte-exact (pml_probe's "crowd" check judges the numbers). */
Test(btl_tcp, silent_connections_cannot_take_a_ranks_descriptors, .timeout = 120)
{
    run_t r;
    run_rails(&r, 1, "crowd", "true");
    cr_expect_eq(count_lines(r.out, "check=crowd ok\n"), 2, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "rank=0 crowd=2000\n"), 1, "rank 0 held fewer: %s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* A rank that starts a connection and then computes longer than its
 * peer's hello timeout: the peer drops the silent connection, the
 * handshake starts again when the rank is back, the message arrives. */
Test(btl_tcp, a_hello_late_past_the_timeout_is_retried_not_failed, .timeout = 120)
{
    run_t r;
    run_rails(&r, 1, "late_hello", "true");
    cr_expect_eq(count_lines(r.out, "check=late_hello ok\n"), 2, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "rank=1 late_refused=1\n"), 1, "%s", r.out);
    cr_expect(count_lines(r.out, "rank=0 reconnects=1\n") == 1, "%s", r.out);
    cr_expect(strstr(r.err, "failed") == NULL, "a rail failed: %s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Host 0's egress on rail1 and rail2 shaped to 400 Mbit/s, so that a 32
 * MiB message is still on its way when a test cuts a rail. */
/* rail1 and rail2 are shaped alike (400 Mbit/s), but the admin claims
 * 100 and 900 MB/s and measurements are off: the planner gives rail1 10 %
 * of each message. rail1 runs dry first and takes the last waiting
 * fragments of rail2's queue whenever, by the claimed speeds and what each
 * btl still holds, it gets them there sooner: rail1 ends up carrying more
 * than its weight (at most the half it really delivers), and every byte
 * arrives. (With measurements on, as by default, the weights themselves
 * follow the rails; stealing then evens out what noise leaves at the end
 * of each burst.) */
Test(btl_tcp, a_rail_with_room_takes_fragments_from_a_slower_one, .timeout = 120)
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
                    "btl_tcp_bandwidth_rail1",
                    "100",
                    "--mca",
                    "btl_tcp_bandwidth_rail2",
                    "900",
                    "--mca",
                    "pml_stripe_use_measured_bandwidth",
                    "false",
                    PROBE,
                    "--checks",
                    "exchange,stripe",
                    "--max",
                    "4194304",
                    "--stats",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 4, "%s", r.out);
    const char *line = strstr(r.out, "rank=0 rail=tcp:rail1 ");
    cr_assert_not_null(line, "%s", r.out);
    double weight, share;
    cr_assert_eq(sscanf(line, "rank=0 rail=tcp:rail1 weight=%lf share=%lf", &weight, &share), 2);
    cr_expect(fabs(weight - 0.1) < 0.01, "rail1's weight from the claims: %.3f", weight);
    /* How much moves depends on when each rail ran dry (a loaded CI
     * machine moved less: 0.14); without stealing the share is the
     * weight to the 4 KiB alignment. */
    cr_expect(share >= weight + 0.01 && share <= 0.55,
              "rail1 (weight %.3f) carried %.3f of the bytes: %s", weight, share, r.out);
    const char *st = strstr(r.out, "rank=0 stats");
    cr_assert_not_null(st, "%s", r.out);
    cr_expect_gt(strtoull(strstr(st, "frags_stolen=") + strlen("frags_stolen="), NULL, 10), 0, "%s",
                 st);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Rank 1's rail3 moves to another subnet, routed both ways: pairing follows
 * the routes, so it still carries its share. Its rail2 moves to a subnet
 * nobody routes: skipped on both sides, explained (btl_tcp_verbose), never
 * tried, and nothing waits for it. */
Test(btl_tcp, pairs_follow_routes_and_unroutable_rails_are_skipped)
{
    char cmd[512];
    snprintf(
        cmd, sizeof(cmd),
        "ip -n %1$s-1 addr flush dev rail3 && ip -n %1$s-1 addr add 10.%2$d.9.3/24 dev rail3 "
        "&& ip -n %1$s-0 route add 10.%2$d.9.0/24 dev rail3 "
        "&& ip -n %1$s-1 route add 10.%2$d.3.0/24 dev rail3 "
        "&& ip -n %1$s-1 addr flush dev rail2 && ip -n %1$s-1 addr add 10.%2$d.8.3/24 dev rail2",
        prefix, subnet);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
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
                    "rail1,rail2,rail3",
                    "--mca",
                    "btl_tcp_verbose",
                    "1",
                    "--mca", /* shares by the planner's weights (see run_rails) */
                    "pml_stripe_steal",
                    "false",
                    "--mca", /* by the claimed weights: measured ones drift under load */
                    "pml_stripe_use_measured_bandwidth",
                    "false",
                    PROBE,
                    "--checks",
                    "exchange,stripe",
                    "--max",
                    "16777216",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 4, "%s", r.out);
    expect_shares(r.out, 2);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail1 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail3 "), 1, "routed rail3 must carry: %s", r.out);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail2 "), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "tcp:rail2: no rail to rank 1: "), 1, "%s", r.err);
    cr_expect_eq(count_lines(r.err, "tcp:rail2: no rail to rank 0: "), 1, "%s", r.err);
    cr_expect_eq(count_lines(r.err, "tcp:rail3 (10."), 2, "%s", r.err);
    run_fini(&r);
}

/* btl_tcp_links=2 over one interface: two connections, two rails, each
 * with its half of the interface's weight and of the bytes. */
Test(btl_tcp, two_links_per_interface_share_it)
{
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
                    "rail1",
                    "--mca",
                    "btl_tcp_links",
                    "2",
                    "--mca", /* shares by the planner's weights (see run_rails) */
                    "pml_stripe_steal",
                    "false",
                    PROBE,
                    "--checks",
                    "exchange,order,stripe",
                    "--max",
                    "16777216",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 6, "%s", r.out);
    expect_shares(r.out, 2);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail1 weight=0.500"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rail=tcp:rail1#1 weight=0.500"), 1, "%s", r.out);
    run_fini(&r);
}

Test(btl_tcp, links_out_of_range_is_a_clear_error)
{
    run_t r;
    run_init(&r);
    char *argv[] = {
        MRUN, "-n",  "1",        "--mca",    "btl", "self,tcp", "--mca", "btl_tcp_links",
        "0",  PROBE, "--checks", "exchange", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_tcp_links must be 1 to 16") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "\"0\"") != NULL || strstr(r.err, " 0 ") != NULL ||
                  strstr(r.err, "=0") != NULL || strstr(r.err, "= 0") != NULL,
              "the bad value is named: %s", r.err);
    run_fini(&r);
}

/* The number a rank printed after "rank=<r> <phase> tcp_connections=". */
static int connections_of(const char *out, unsigned rank, const char *phase)
{
    char key[64];
    snprintf(key, sizeof(key), "rank=%u %s tcp_connections=", rank, phase);
    const char *at = strstr(out, key);
    return at != NULL ? atoi(at + strlen(key)) : -1;
}

/* 2 hosts x 16 ranks (ranks 0-15 on the first, 16-31 on the second), one
 * rail, default btls: tcp connects only when a rank first sends to a peer
 * on the other host. After a ring exchange only the ranks where the ring
 * crosses hosts (15-16, 31-0) hold a connection, one each; after rank 0
 * sends to everyone it holds 16 (one per rank of the other host), each of
 * those one more, and the ranks of its own host none. */
Test(btl_tcp, connections_follow_the_peers_a_rank_talks_to, .timeout = 240)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,        "-n",
                    "32",        "--oversubscribe",
                    "--netns",   nslist,
                    "--pmix-if", bridge,
                    "--mca",     "btl_tcp_if_include",
                    "rail1",     PROBE,
                    "--checks",  "lazy",
                    "--tag",     r.tag,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "check=lazy ok\n"), 32, "%s", r.out);
    for (unsigned k = 0; k < 32; k++) {
        int ring = k == 0 || k == 15 || k == 16 || k == 31;
        cr_expect_eq(connections_of(r.out, k, "ring"), ring, "rank %u after the ring: %s", k,
                     r.out);
        int fanout = k == 0 ? 16 : k == 16 ? 2 : k > 16 || k == 15 ? 1 : 0;
        cr_expect_eq(connections_of(r.out, k, "fanout"), fanout, "rank %u after the fan-out: %s", k,
                     r.out);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

/* The most fragments one rail had in its btl, and how many waited, as
 * rank 0 printed them. */
static void window_stats(const char *out, unsigned long long *waited, unsigned long long *inflight)
{
    const char *s = strstr(out, "rank=0 stats");
    cr_assert_not_null(s, "%s", out);
    const char *w = strstr(s, "frags_waited="), *m = strstr(s, "max_inflight=");
    cr_assert(w != NULL && m != NULL, "%s", s);
    *waited = strtoull(w + strlen("frags_waited="), NULL, 10);
    *inflight = strtoull(m + strlen("max_inflight="), NULL, 10);
}

static void run_window(run_t *r, const char *window)
{
    run_init(r);
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
                    "pml_stripe_send_window",
                    (char *)window,
                    PROBE,
                    "--checks",
                    "stripe,exchange",
                    "--max",
                    "16777216",
                    "--stats",
                    "--tag",
                    r->tag,
                    NULL};
    run_cmd(r, argv, NULL, NULL);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cr_expect_eq(count_lines(r->out, " ok\n"), 4, "%s", r->out);
    /* Streams both ways on healthy rails: no rail may be taken for dead. */
    cr_expect_eq(count_lines(r->out, " rails_failed=0 "), 2, "a false alarm: %s", r->out);
}

/* pml_stripe_send_window bounds the fragments a rail has in its btl (so an
 * eager or control message waits behind at most that many); the rest wait
 * in the PML and every byte still arrives (the checks compare them). With
 * no bound, the btl takes a whole share at once. */
Test(btl_tcp, the_send_window_bounds_fragments_in_flight_per_rail)
{
    run_t r;
    unsigned long long waited, inflight;
    run_window(&r, "2");
    window_stats(r.out, &waited, &inflight);
    cr_expect_leq(inflight, 2, "window 2, yet %llu fragments in one rail's btl", inflight);
    cr_expect_gt(waited, 0, "16 MiB over two rails must outgrow a window of 2: %s", r.out);
    run_fini(&r);
    run_window(&r, "0");
    window_stats(r.out, &waited, &inflight);
    cr_expect_gt(inflight, 2, "no window: a rail's whole share goes to its btl");
    cr_expect_eq(waited, 0);
    run_fini(&r);
}
