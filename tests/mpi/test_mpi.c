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
Test(mpi, p2p_surface_on_1_4_and_7_ranks, .timeout = 240)
{
    run_p2p("1", PROG);
    run_p2p("4", PROG);
    run_p2p("7", PROG);
}

/* The p2p suite under valgrind's memcheck, over sm and over tcp: no
 * invalid access, no use of uninitialised bytes, no leak (libpmix's own
 * are suppressed by name in tests/valgrind.supp). Not in sanitized builds:
 * valgrind cannot run them. */
static void run_memcheck(const char *btls)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "-n",
                    "2",
                    "--oversubscribe",
                    "--mca",
                    "btl",
                    (char *)btls,
                    "valgrind",
                    "--quiet",
                    "--error-exitcode=99",
                    "--leak-check=full",
                    "--errors-for-leak-kinds=definite",
                    "--suppressions=" MRAIL_TEST_SRC_DIR "/../valgrind.supp",
                    PROG,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "btl %s: %s", btls, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), 2, "%s", r.out);
    cr_expect_null(strstr(r.err, "=="), "btl %s: valgrind said: %s", btls, r.err);
    run_fini(&r);
}

Test(mpi, the_p2p_surface_is_clean_under_valgrind_memcheck, .timeout = 300)
{
    if (MRAIL_TEST_SANITIZED) {
        cr_skip_test("valgrind cannot run a program built with AddressSanitizer");
    }
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        cr_skip_test("valgrind is not installed (tools/setup-debian.sh installs it)");
    }
    run_memcheck("self,sm");
    run_memcheck("self,tcp");
}

/* A rank killed by SIGKILL in the middle of a send, a receive and a
 * collective (issue 16): the job ends (the test's timeout is the bound)
 * and leaves no process, no /dev/shm segment and no temporary file. mrun
 * names the killed rank and its signal and exits 137, unless a survivor
 * found the peer's process gone first (a CMA copy from it fails) and
 * aborted, saying so. */
Test(mpi, a_rank_killed_mid_send_recv_or_collective_ends_the_job, .timeout = 120)
{
    static const char *const where[] = {"send", "recv", "coll"};
    int before = shm_leftovers("mrun.");
    for (int i = 0; i < 3; i++) {
        run_t r;
        run_init(&r);
        char *argv[] = {
            MRUN,  "-n", "3", "--oversubscribe", MRAIL_TEST_BIN_DIR "/mpi_killed", (char *)where[i],
            r.tag, NULL};
        run_cmd(&r, argv, NULL, NULL);
        bool killed = r.status == 137 && strstr(r.err, "killed by signal 9 (Killed)") != NULL;
        bool noticed = r.status != 0 && strstr(r.err, "peer unreachable") != NULL;
        cr_expect(killed || noticed, "%s: exit %d: %s", where[i], r.status, r.err);
        run_expect_clean(&r);
        run_fini(&r);
        cr_expect_eq(shm_leftovers("mrun."), before, "%s: /dev/shm segments left", where[i]);
    }
}

/* Over shared memory with CMA (the default where the kernel allows it),
 * a large receive completes while its sender computes outside MPI. */
Test(mpi, large_receive_completes_while_the_sender_computes, .timeout = 120)
{
    FILE *yama = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
    int scope = 0;
    if (yama != NULL) {
        if (fscanf(yama, "%d", &scope) != 1) {
            scope = 0;
        }
        fclose(yama);
    }
    if (scope > 0) {
        cr_skip_test("kernel.yama.ptrace_scope=%d refuses CMA between ranks", scope);
    }
    run_t r;
    run_init(&r);
    char flag[512];
    snprintf(flag, sizeof(flag), "%s/sender_computes.%s", MRAIL_TEST_WORK_DIR, r.tag);
    unlink(flag);
    char *argv[] = {MRUN,
                    "-n",
                    "2",
                    "--mca",
                    "btl_sm_single_copy_mechanism",
                    "cma",
                    (char *)PROG,
                    "--sender-computes",
                    flag,
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), 2, "%s", r.out);
    run_expect_clean(&r);
    unlink(flag);
    run_fini(&r);
}

/* mpi_p2p_test on two ranks, args (NULL-ended) after "mrun -n 2": the
 * program and its arguments last. what names the run in a failure. */
static void run_two(const char *what, char *const args[])
{
    char *argv[16] = {MRUN, "-n", "2"};
    size_t n = 3;
    for (size_t i = 0; args[i] != NULL; i++) {
        cr_assert_lt(n, sizeof(argv) / sizeof(argv[0]) - 1, "too many arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    run_t r;
    run_init(&r);
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s: %s", what, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), 2, "%s: %s", what, r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Buffers at any offset in their pages, through each copy mechanism of
 * btl/sm: single copy (cma, where the kernel allows it) and the rings. */
static void run_offsets(const char *mechanism)
{
    char *args[] = {"--mca",           "btl_sm_single_copy_mechanism",
                    (char *)mechanism, (char *)PROG,
                    "--offsets",       NULL};
    run_two(mechanism, args);
}

Test(mpi, buffers_at_any_page_offset_arrive_whole_by_every_copy, .timeout = 120)
{
    run_offsets("auto");
    run_offsets("none");
}

/* A ring size set by hand, with no fragment size: fragments are a quarter
 * of the ring, as for a ring sized automatically (a 64k ring once failed
 * at start-up on the 32k default it never asked for). The rings carry
 * everything (no single copy), so every message crosses them in pieces. */
static void run_ring(const char *ring)
{
    char *args[] = {
        "--mca", "btl_sm_ring_size", (char *)ring, "--mca", "btl_sm_single_copy_mechanism",
        "none",  (char *)PROG,       NULL};
    run_two(ring, args);
}

Test(mpi, a_ring_size_set_alone_sizes_its_fragments, .timeout = 120)
{
    run_ring("64k");
    run_ring("4k");
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
    cr_expect(strstr(r.err, "rank 1 (pid ") && strstr(r.err, "killed by signal 11"), "%s", r.err);
    cr_expect(strstr(r.err, "exited with status") == NULL, "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi, a_crashing_rank_keeps_its_signal_whatever_plugins_loaded, .timeout = 120)
{
    expect_segv("", "", "");            /* every plugin loaded and asked */
    expect_segv("", "tcp", "tcp");      /* libfabric's and UCX's software transports started */
    expect_segv("self,sm,tcp", "", ""); /* no plugin loaded */
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
    cr_expect_eq(count_lines(r.out, "uct-core"), MRAIL_TEST_PLUGIN_UCT ? 2 : 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libfabric"), MRAIL_TEST_PLUGIN_OFI ? 2 : 0, "%s", r.out);
    run_fini(&r);

    /* Defaults: every plugin is loaded and declines here (no RDMA device)
     * before its core, which alone links the transport's libraries, is
     * loaded; a declined plugin is unloaded. (A leak checker cannot name
     * the libraries of what they left behind once they are gone: no leak
     * check in this run; the sanitized suite keeps them mapped.) */
    char *unload[] = {"MRAIL_MCA_mca_base_unload_declined=true", "ASAN_OPTIONS=detect_leaks=0",
                      NULL};
    run_init(&r);
    run_cmd(&r, all, unload, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rank="), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, " mapped=none\n"), 2, "%s", r.out);
    run_fini(&r);

    /* Kept, the declined plugin stays, still without its core. */
    char *keep[] = {"MRAIL_MCA_mca_base_unload_declined=false", NULL};
    run_init(&r);
    run_cmd(&r, all, keep, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "uct-plugin"), MRAIL_TEST_PLUGIN_UCT ? 2 : 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "uct-core"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libuct"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libfabric"), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "libibverbs"), 0, "%s", r.out);
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

/* mpicc with the test's sanitizer flags; args after the compiler's own. */
static void mpicc(char **args)
{
    char *argv[16] = {MPICC};
    for (int i = 0; args[i] != NULL && i < 14; i++) {
        argv[i + 1] = args[i];
    }
    char env_cc[128];
    snprintf(env_cc, sizeof(env_cc), "MRAIL_CC=cc %s", MRAIL_TEST_CFLAGS);
    char *env[] = {env_cc, NULL};
    run_t r;
    run_init(&r);
    run_cmd(&r, argv, env, NULL);
    cr_assert_eq(r.status, 0, "mpicc failed: %s", r.err);
    run_fini(&r);
}

/* The profiling interface: a tool library built with mpicc defines
 * MPI_Send, MPI_Allreduce and MPI_Finalize and forwards to PMPI_; linked
 * with an unmodified program it sees exactly the program's own calls, not
 * the sends inside MPI_Bcast, MPI_Sendrecv or MPI_Barrier. Without it the
 * same program runs unprofiled. */
Test(mpi, a_pmpi_tool_counts_the_calls_of_an_unmodified_program, .timeout = 120)
{
    char tool[300], plain[300], profiled[300], libdir[300];
    snprintf(libdir, sizeof(libdir), "%s", MRAIL_TEST_WORK_DIR);
    snprintf(tool, sizeof(tool), "%s/libpmpi_count.so", MRAIL_TEST_WORK_DIR);
    snprintf(plain, sizeof(plain), "%s/pmpi_prog", MRAIL_TEST_WORK_DIR);
    snprintf(profiled, sizeof(profiled), "%s/pmpi_prog_profiled", MRAIL_TEST_WORK_DIR);
    char *build_tool[] = {"-Wall", "-Wextra", "-Werror", "-shared",
                          "-fPIC", "-o",      tool,      MRAIL_TEST_SRC_DIR "/pmpi_count.c",
                          NULL};
    mpicc(build_tool);
    char *build_plain[] = {
        "-Wall", "-Wextra", "-Werror", "-o", plain, MRAIL_TEST_SRC_DIR "/pmpi_prog.c", NULL};
    mpicc(build_plain);
    char rpath[320];
    snprintf(rpath, sizeof(rpath), "-Wl,-rpath,%s", libdir);
    char ldir[320];
    snprintf(ldir, sizeof(ldir), "-L%s", libdir);
    char *build_profiled[] = {
        "-o", profiled, MRAIL_TEST_SRC_DIR "/pmpi_prog.c", ldir, "-lpmpi_count", rpath, NULL};
    mpicc(build_profiled);

    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "--oversubscribe", profiled, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "pmpi_count rank=0 send=5 allreduce=3\n"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "pmpi_count rank=1 send=0 allreduce=3\n"), 1, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);

    run_init(&r);
    char *argv2[] = {MRUN, "-n", "2", "--oversubscribe", plain, NULL};
    run_cmd(&r, argv2, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "pmpi_count"), 0, "%s", r.out);
    run_fini(&r);
}

/* The pml the selection picks is the one that runs: tests/plugins holds
 * pml testhi (priority 50, above stripe's 20), a loopback pml for one-rank
 * jobs that reports its calls at close. With that directory searched it
 * carries the program's self-send; with --mca pml stripe it is not even
 * opened; on two ranks its open fails and MPI_Init says why. */
Test(mpi, the_selected_pml_is_the_one_called, .timeout = 120)
{
    char prog[300];
    snprintf(prog, sizeof(prog), "%s/pmpi_prog_sel", MRAIL_TEST_WORK_DIR);
    char *build[] = {"-o", prog, MRAIL_TEST_SRC_DIR "/pmpi_prog.c", NULL};
    mpicc(build);

    run_t r;
    run_init(&r);
    char *one[] = {MRUN, "-n", "1", "--mca", "mca_base_component_path", MRAIL_TEST_PLUGIN_DIR,
                   prog, NULL};
    run_cmd(&r, one, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rank=0 ok\n"), 1, "%s", r.out);
    /* MPI_Sendrecv to itself: one isend, one irecv, through testhi. */
    cr_expect_eq(count_lines(r.err, "pml testhi: isend=1 irecv=1 "), 1, "%s", r.err);
    run_fini(&r);

    run_init(&r);
    char *stripe[] = {
        MRUN,  "-n",     "1",  "--mca", "mca_base_component_path", MRAIL_TEST_PLUGIN_DIR, "--mca",
        "pml", "stripe", prog, NULL};
    run_cmd(&r, stripe, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rank=0 ok\n"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "pml testhi"), 0, "%s", r.err);
    run_fini(&r);

    run_init(&r);
    char *two[] = {MRUN,
                   "-n",
                   "2",
                   "--oversubscribe",
                   "--mca",
                   "mca_base_component_path",
                   MRAIL_TEST_PLUGIN_DIR,
                   prog,
                   NULL};
    run_cmd(&r, two, NULL, NULL);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "pml testhi carries messages of one-rank jobs only (size 2)") != NULL,
              "%s", r.err);
    run_fini(&r);
}

/* MPI_Finalize right after many eager sends to a rank that starts
 * receiving a second later: every byte arrives and nothing hangs, over
 * shared memory and over two tcp links (where eager sends to a peer with
 * several rails complete once the PML holds a copy). */
Test(mpi, finalize_keeps_queued_sends_moving, .timeout = 180)
{
    const char *btls[][4] = {{"btl", "self,sm", "btl_tcp_links", "1"},
                             {"btl", "self,tcp", "btl_tcp_links", "2"}};
    for (int k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char *argv[] = {MRUN,
                        "-n",
                        "2",
                        "--timeout",
                        "60",
                        "--mca",
                        (char *)btls[k][0],
                        (char *)btls[k][1],
                        "--mca",
                        (char *)btls[k][2],
                        (char *)btls[k][3],
                        MRAIL_TEST_BIN_DIR "/mpi_finalize_drain",
                        NULL};
        run_cmd(&r, argv, NULL, NULL);
        cr_expect_eq(r.status, 0, "%s: %s", btls[k][1], r.err);
        cr_expect_eq(count_lines(r.out, " drained\n"), 2, "%s: %s", btls[k][1], r.out);
        run_expect_clean(&r);
        run_fini(&r);
    }
}

/* More ranks than CPUs: a waiting rank sleeps on its bell until a peer
 * delivers (pml_stripe_sleep), and every wait still ends with every byte
 * (mpi_crowded). It sleeps only where each rail wakes it: not when the
 * parameter says no, nor when tcp carries the messages. */
static void run_crowded(const char *const *mca, size_t nmca, bool slept_expected)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char np[24];
    snprintf(np, sizeof(np), "%ld", (cpus > 0 && cpus < 1000 ? cpus : 1) + 2);
    run_t r;
    run_init(&r);
    char *argv[24] = {MRUN,        "-n",  np,      "--oversubscribe",
                      "--timeout", "120", "--mca", "pml_stripe_report",
                      "true"};
    size_t n = 9;
    for (size_t i = 0; i < nmca && n < 21; i++) {
        argv[n++] = (char *)mca[i];
    }
    argv[n++] = MRAIL_TEST_BIN_DIR "/mpi_crowded";
    argv[n] = NULL;
    run_cmd(&r, argv, NULL, NULL);
    const char *what = nmca > 0 ? mca[nmca - 1] : "defaults";
    cr_assert_eq(r.status, 0, "%s: %s%s", what, r.out, r.err);
    cr_expect_eq(count_lines(r.out, " crowded checks passed\n"), atoi(np), "%s: %s", what, r.out);
    /* Every rank reports, rank 0 (who waited 0.4 s for the senders) too. */
    cr_expect_eq(count_lines(r.err, " times while it waited\n"), atoi(np), "%s: %s", what, r.err);
    unsigned long slept0 = 0;
    const char *l = strstr(r.err, "mrail pml: rank 0 slept ");
    cr_assert(l != NULL && sscanf(l, "mrail pml: rank 0 slept %lu times", &slept0) == 1, "%s: %s",
              what, r.err);
    if (slept_expected) {
        cr_expect_gt(slept0, 0, "%s: rank 0 never slept: %s", what, r.err);
    } else {
        cr_expect_eq(count_lines(r.err, " slept 0 times while it waited\n"), atoi(np), "%s: %s",
                     what, r.err);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mpi, ranks_that_outnumber_the_cpus_sleep_while_they_wait, .timeout = 300)
{
    const char *const first[] = {"--mca", "pml_stripe_sleep_after", "0"};
    run_crowded(first, 3, true);
    run_crowded(NULL, 0, true);
    const char *const off[] = {"--mca", "pml_stripe_sleep", "false"};
    run_crowded(off, 3, false);
    const char *const tcp[] = {"--mca", "btl", "self,tcp"};
    run_crowded(tcp, 3, false);
}
