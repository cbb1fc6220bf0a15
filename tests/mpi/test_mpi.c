/* MPI programs as users build and run them: the p2p surface through mrun,
 * the default error handler, and mpicc. */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROG MRAIL_TEST_BIN_DIR "/mpi_p2p_test"
#define MPICC MRAIL_TEST_BIN_DIR "/mpicc"

static void run_p2p(const char *np, const char *prog)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", (char *)np, "--oversubscribe", (char *)prog, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np));
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi, p2p_surface_on_2_ranks, .timeout = 120)
{
    run_p2p("2", PROG);
}
Test(mpi, p2p_surface_on_3_ranks, .timeout = 120)
{
    run_p2p("3", PROG);
}

Test(mpi, errors_are_fatal_by_default_and_name_the_call, .timeout = 60)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", PROG, "--fatal", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 6, "MPI_ERR_RANK (6) is the job's status: %d", r.status);
    cr_expect(strstr(r.err, "MPI_Send: MPI_ERR_RANK: invalid destination rank 5 (valid: 0..1"),
              "%s", r.err);
    cr_expect(strstr(r.err, "aborted the job") != NULL, "%s", r.err);
    cr_expect_eq(count_lines(r.err, "returned"), 0, "MPI_Send came back after a fatal error");
    run_expect_clean(&r);
    run_fini(&r);
}

/* The transports' libraries install SIGSEGV handlers that print a
 * backtrace and exit(1) (libucs; PSM2 under libfabric): a rank that
 * crashes must still be reported with its signal and the job's status be
 * 128 + 11, with the plugins loaded, started (software providers asked
 * for) or left out. The sanitizers' own handler is turned off here, as it
 * would report the crash its own way. */
static void expect_segv(const char *btl, const char *ofi_providers, const char *uct_transports)
{
    char ofi[96], uct[96];
    snprintf(ofi, sizeof(ofi), "MRAIL_MCA_btl_ofi_provider_include=%s", ofi_providers);
    snprintf(uct, sizeof(uct), "MRAIL_MCA_btl_uct_transports=%s", uct_transports);
    char *env[] = {"ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:detect_leaks=0", ofi, uct, NULL};
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "--mca", "btl", (char *)btl, PROG, "--segv", NULL};
    run_cmd(&r, argv, env, NULL);
    cr_expect_eq(r.status, 128 + 11, "btl=%s: the job's status is %d: %s", btl, r.status, r.err);
    cr_expect(strstr(r.err, "rank 1 (pid ") && strstr(r.err, "killed by signal 11"), "%s",
              r.err);
    cr_expect(strstr(r.err, "exited with status") == NULL, "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi, a_crashing_rank_keeps_its_signal_whatever_plugins_loaded, .timeout = 120)
{
    expect_segv("", "", "");             /* every plugin loaded and asked */
    expect_segv("", "tcp", "tcp");       /* libfabric's and UCX's software transports started */
    expect_segv("self,sm,tcp", "", "");  /* no plugin loaded */
}

/* A plugin the btl selection cannot pick is never loaded, nor the
 * libraries it would map (and whose handlers, threads and start-up cost
 * come with them); one that declines is unloaded. With the default
 * selection and software transports asked for, the same program shows
 * them mapped. */
Test(mpi, plugins_the_btl_selection_leaves_out_are_never_loaded, .timeout = 120)
{
    char *env[] = {"MRAIL_MCA_btl_ofi_provider_include=tcp", "MRAIL_MCA_btl_uct_transports=tcp",
                   NULL};
    run_t r;
    run_init(&r);
    char *sel[] = {MRUN, "-n", "2", "--mca", "btl", "self,sm,tcp", PROG, "--maps", NULL};
    run_cmd(&r, sel, env, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " mapped=none\n"), 2, "%s", r.out);
    run_fini(&r);

    run_init(&r);
    char *all[] = {MRUN, "-n", "2", PROG, "--maps", NULL};
    run_cmd(&r, all, env, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* A build without UCX or libfabric has no plugin to map them. */
    cr_expect_eq(count_lines(r.out, "libucs"), MRAIL_TEST_PLUGIN_UCT ? 2 : 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libfabric"), MRAIL_TEST_PLUGIN_OFI ? 2 : 0, "%s", r.out);
    run_fini(&r);

    /* Defaults: every plugin is loaded and declines here (no RDMA device),
     * and is unloaded with the libraries only it needed. libucs stays:
     * UCX pins it in memory itself when it loads. (A leak checker cannot
     * name the libraries of what they left behind once they are gone: no
     * leak check in this run; the sanitized suite keeps them mapped.) */
    char *unload[] = {"MRAIL_MCA_mca_base_unload_declined=true", "ASAN_OPTIONS=detect_leaks=0",
                      NULL};
    run_init(&r);
    run_cmd(&r, all, unload, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rank="), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libfabric"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libuct"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libibverbs"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "librdmacm"), 0, "%s", r.out);
    run_fini(&r);

    char *keep[] = {"MRAIL_MCA_mca_base_unload_declined=false", NULL};
    run_init(&r);
    run_cmd(&r, all, keep, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "libfabric"), MRAIL_TEST_PLUGIN_OFI ? 2 : 0, "%s", r.out);
    run_fini(&r);
}

Test(mpi, mpicc_builds_a_program_that_runs, .timeout = 120)
{
    run_t r;
    run_init(&r);
    char out[300];
    snprintf(out, sizeof(out), "%s/mpi_p2p_test_mpicc", MRAIL_TEST_WORK_DIR);
    char *show[] = {MPICC, "-show", NULL};
    run_cmd(&r, show, NULL, NULL);
    cr_expect(strstr(r.out, "-lmrail") != NULL, "%s", r.out);
    run_fini(&r);

    run_init(&r);
    char env_cc[128];
    snprintf(env_cc, sizeof(env_cc), "MRAIL_CC=cc %s", MRAIL_TEST_CFLAGS);
    char *env[] = {env_cc, NULL};
    char *cc[] = {
        MPICC, "-Wall", "-Wextra", "-Werror", "-o", out, MRAIL_TEST_SRC_DIR "/mpi_p2p_test.c",
        NULL};
    run_cmd(&r, cc, env, NULL);
    cr_assert_eq(r.status, 0, "mpicc failed: %s", r.err);
    run_fini(&r);
    run_p2p("2", out);
}

Test(mpi, header_compiles_clean_as_c99_and_cxx, .timeout = 120)
{
    const char *compilers[][3] = {{MRAIL_TEST_BIN_DIR "/mpicc", "-std=c99", "MRAIL_CC=cc"},
                                  {MRAIL_TEST_BIN_DIR "/mpicxx", "-xc++", "MRAIL_CXX=c++"}};
    for (int k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char out[300], env_cc[160];
        snprintf(out, sizeof(out), "%s/header_check_%d", MRAIL_TEST_WORK_DIR, k);
        snprintf(env_cc, sizeof(env_cc), "%s %s", compilers[k][2], MRAIL_TEST_CFLAGS);
        char *env[] = {env_cc, NULL};
        char *cc[] = {(char *)compilers[k][0],
                      (char *)compilers[k][1],
                      "-Wall",
                      "-Wextra",
                      "-Werror",
                      "-pedantic",
                      "-o",
                      out,
                      MRAIL_TEST_SRC_DIR "/header_check.c",
                      NULL};
        run_cmd(&r, cc, env, NULL);
        cr_expect_eq(r.status, 0, "%s: %s", compilers[k][0], r.err);
        run_fini(&r);
        if (k == 0) {
            run_init(&r);
            char *argv[] = {MRUN, "-n", "1", out, NULL};
            run_cmd(&r, argv, NULL, NULL);
            cr_expect_eq(r.status, 0, "%s", r.err);
            run_fini(&r);
        }
    }
}
