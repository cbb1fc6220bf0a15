/* One-sided communication (tests/mpi/mpi_rma_test.c) through mrun at 1,
 * 2, 3 and 4 ranks, and 64 oversubscribed; a passive target that computes
 * for a second without MPI calls, without and with the progress thread. */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define RMA MRAIL_TEST_BIN_DIR "/mpi_rma_test"

/* thread: the opt-in progress thread's interval in µs, or NULL. */
static void run_rma(const char *np, const char *arg, const char *thread)
{
    char *argv[] = {MRUN,
                    "-n",
                    (char *)np,
                    "--oversubscribe",
                    "--mca",
                    "osc_am_progress_thread_us",
                    thread ? (char *)thread : "0",
                    RMA,
                    (char *)arg,
                    NULL};
    run_t r;
    run_init(&r);
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s ranks: %s", np, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np), "%s", r.out);
    cr_expect_eq(count_lines(r.err, "error"), 0, "%s", r.err);
    if (arg != NULL) {
        cr_expect_eq(count_lines(r.out, "busy target: the origin waited"), 1, "%s", r.out);
        /* Without the thread the target moves once it calls MPI again,
         * after its second of computing; with it, during. */
        cr_expect_eq(count_lines(r.out, thread ? "the flag was set while it computed"
                                               : "the flag was not set while it computed"),
                     1, "%s", r.out);
        const char *at = strstr(r.out, "busy target: the origin");
        if (at != NULL) {
            cr_log_info("%s: %.*s", thread ? "progress thread" : "no thread",
                        (int)strcspn(at, "\n"), at);
        }
    }
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi_rma, one_rank, .timeout = 300)
{
    run_rma("1", NULL, NULL);
}
Test(mpi_rma, two_ranks, .timeout = 300)
{
    run_rma("2", NULL, NULL);
}
Test(mpi_rma, three_ranks, .timeout = 300)
{
    run_rma("3", NULL, NULL);
}
Test(mpi_rma, four_ranks, .timeout = 300)
{
    run_rma("4", NULL, NULL);
}
/* As a demanding user runs it: 64 ranks on this machine's cores, defaults. */
Test(mpi_rma, sixty_four_ranks_oversubscribed, .timeout = 900)
{
    run_rma("64", NULL, NULL);
}
Test(mpi_rma, a_busy_passive_target_waits_for_its_next_mpi_call, .timeout = 300)
{
    run_rma("2", "--wait-report", NULL);
}
/* The whole suite with the thread on (every pml call then takes its
 * lock), and the busy target served while it computes. */
Test(mpi_rma, the_progress_thread_serves_a_busy_target, .timeout = 300)
{
    run_rma("3", "--wait-report", "100");
}

/* Across the lab's two emulated hosts (root only): btl/sm inside a host,
 * two tcp rails between them. The large puts and gets are striped over
 * both rails like large sends: rank 0's pml report shows fragments on
 * each. Subnets of its own (see lab_hosts.h): 250-254. */
#define LAB_SUBNET_FIRST 250
#define LAB_SUBNETS 5
#include "lab_hosts.h"

TestSuite(mpi_rma_lab, .init = hosts_up, .fini = hosts_down, .timeout = 300);

static void across_hosts(const char *np)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "-n",
                    (char *)np,
                    "--oversubscribe",
                    "--netns",
                    nslist,
                    "--pmix-if",
                    bridge,
                    "--mca",
                    "btl",
                    "self,sm,tcp",
                    "--mca",
                    "btl_tcp_if_include",
                    "rail1,rail2",
                    "--mca",
                    "pml_stripe_report",
                    "true",
                    RMA,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np), "%s", r.out);
    /* The report of the last rank of the first host on the first of the
     * other (mrun fills a host before the next): it puts to its right
     * neighbour there, 4 MiB in one of them. */
    char peer[64];
    int n = atoi(np);
    snprintf(peer, sizeof(peer), "mrail pml: rank %d to %d rail ", n / 2 - 1, n / 2);
    int rails = 0;
    for (const char *l = strstr(r.err, peer); l != NULL; l = strstr(l + 1, peer)) {
        unsigned rail;
        char name[32];
        double mb;
        unsigned long long frags;
        cr_assert_eq(sscanf(l + strlen(peer), "%u (%31[^)]): %lf MB in %llu fragments", &rail, name,
                            &mb, &frags),
                     4, "%s", l);
        cr_expect_gt(frags, 0, "rail %s carried no fragment: %s", name, r.err);
        cr_expect_gt(mb, 1.0, "rail %s carried %.2f MB", name, mb);
        rails++;
    }
    cr_expect_eq(rails, 2, "%s: %s", peer, r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi_rma_lab, two_ranks_on_two_hosts_stripe_over_both_rails)
{
    shape_two_rails();
    across_hosts("2");
}

Test(mpi_rma_lab, four_ranks_on_two_hosts)
{
    shape_two_rails();
    across_hosts("4");
}
