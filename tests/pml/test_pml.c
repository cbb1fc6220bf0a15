/* The PML between real ranks, launched through mrun; the checks live in
 * pml_probe.c (byte-checked exchange of both protocols, wildcard ordering,
 * truncation, 10,000 outstanding requests, probe, cancel, any-source). */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
#define ALL_CHECKS 6

static void run_checks(const char *np, const char *max, const char *checks, int nchecks,
                       const char *mech)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,         "-n",
                    (char *)np,   "--oversubscribe",
                    "--mca",      "btl_sm_single_copy_mechanism",
                    (char *)mech, PROBE,
                    "--max",      (char *)max,
                    "--checks",   (char *)checks,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), atoi(np) * nchecks);
    cr_expect_eq(count_lines(r.err, "error"), 0);
    run_expect_clean(&r);
    run_fini(&r);
}

#define CHECKS "exchange,order,truncate,outstanding,probe,anysource"

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
