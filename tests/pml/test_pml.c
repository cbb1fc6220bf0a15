/* The PML between real ranks, launched through mrun; the checks live in
 * pml_probe.c (byte-checked exchange of every protocol, wildcard ordering,
 * truncation, 10,000 outstanding requests, probe, cancel, any-source). */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
#define ALL_CHECKS 7

/* min_rdma: btl_sm_min_rdma_pipeline_size ("0": never rdma get); bidir:
 * pml_stripe_bidir_rget_size. Returns how many messages the ranks sent
 * with rdma get, all ranks together. */
static unsigned long long run_checks_bidir(const char *np, const char *max, const char *checks,
                                           int nchecks, const char *mech, const char *min_rdma,
                                           const char *bidir)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "--mca",
                    "pml_stripe_bidir_rget_size",
                    (char *)bidir,
                    "-n",
                    (char *)np,
                    "--oversubscribe",
                    "--mca",
                    "btl_sm_single_copy_mechanism",
                    (char *)mech,
                    "--mca",
                    "btl_sm_min_rdma_pipeline_size",
                    (char *)min_rdma,
                    PROBE,
                    "--max",
                    (char *)max,
                    "--checks",
                    (char *)checks,
                    "--stats",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), atoi(np) * nchecks);
    cr_expect_eq(count_lines(r.err, "error"), 0);
    run_expect_clean(&r);
    unsigned long long rget = 0;
    for (const char *l = strstr(r.out, " rget="); l != NULL; l = strstr(l + 1, " rget=")) {
        rget += strtoull(l + 6, NULL, 10);
    }
    run_fini(&r);
    return rget;
}

static unsigned long long run_checks_rdma(const char *np, const char *max, const char *checks,
                                          int nchecks, const char *mech, const char *min_rdma)
{
    return run_checks_bidir(np, max, checks, nchecks, mech, min_rdma, "128k");
}

static void run_checks(const char *np, const char *max, const char *checks, int nchecks,
                       const char *mech)
{
    cr_expect_eq(run_checks_rdma(np, max, checks, nchecks, mech, "0"), 0,
                 "rdma get used although btl_sm_min_rdma_pipeline_size=0");
}

#define CHECKS "exchange,order,contexts,truncate,outstanding,probe,anysource"

Test(pml, one_rank_talks_to_itself, .timeout = 120)
{
    run_checks("1", "67108864", CHECKS, ALL_CHECKS, "auto");
}

Test(pml, two_ranks_up_to_64m, .timeout = 120)
{
    run_checks("2", "67108864", CHECKS, ALL_CHECKS, "auto");
}

Test(pml, two_ranks_256m_messages, .timeout = 240)
{
    run_checks("2", "268435456", "exchange", 1, "auto");
}

Test(pml, three_ranks_non_power_of_two, .timeout = 120)
{
    run_checks("3", "4194304", CHECKS, ALL_CHECKS, "none");
}

Test(pml, four_ranks_oversubscribed, .timeout = 240)
{
    run_checks("4", "1048576", CHECKS, ALL_CHECKS, "auto");
}

/* The rdma get protocol (the receiver pulls), with CMA and with the sm
 * btl's emulated get: every check, and it really carried the large ones. */
Test(pml, rdma_get_with_cma, .timeout = 120)
{
    cr_expect_gt(run_checks_rdma("2", "67108864", CHECKS, ALL_CHECKS, "cma", "64k"), 0);
}

Test(pml, rdma_get_without_cma, .timeout = 120)
{
    cr_expect_gt(run_checks_rdma("3", "16777216", CHECKS, ALL_CHECKS, "none", "64k"), 0);
}

/* Both directions at once at 128-384 KiB, below sm's rdma get threshold
 * (512 KiB): every byte arrives, and with pml_stripe_bidir_rget_size the
 * ranks pull what the other streams to them; without it nothing is pulled. */
Test(pml, bidir_streams_take_rdma_get_below_the_btl_threshold, .timeout = 120)
{
    cr_expect_gt(run_checks_bidir("2", "1048576", "bidir", 1, "cma", "512k", "128k"), 0,
                 "no rdma get although both ranks streamed to each other");
    cr_expect_eq(run_checks_bidir("2", "1048576", "bidir", 1, "cma", "512k", "0"), 0,
                 "rdma get below 512 KiB although pml_stripe_bidir_rget_size=0");
    cr_expect_eq(run_checks_bidir("2", "1048576", "bidir", 1, "none", "512k", "128k"), 0,
                 "rdma get without CMA, whose get is no shared copy");
}

/* 64 ranks oversubscribed on one node with default settings (every btl
 * this build has): they start, pass messages around a ring and fan out from
 * rank 0, and tcp makes no connection at all, since sm reaches everyone. */
Test(pml, sixty_four_ranks_on_one_node_with_defaults, .timeout = 240)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,    "-n",  "64", "--oversubscribe", PROBE, "--checks", "lazy",
                    "--tag", r.tag, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "check=lazy ok\n"), 64, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "ring tcp_connections=0\n"), 64, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "fanout tcp_connections=0\n"), 64, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}
