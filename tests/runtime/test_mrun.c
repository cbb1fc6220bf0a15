/* mrun and the runtime, launched the way a user launches a job. */
#include <sched.h>
#include <sys/stat.h>

#include "run_util.h"

/* The programs under test: this build's, or those of the build that
 * MRAIL_TEST_PROGRAMS names (CI runs this suite, built plainly, on a
 * ThreadSanitizer build's mrun and rte_probe: Criterion itself cannot run
 * under ThreadSanitizer). */
static char MRUN[512], PROBE[512], MPIRUN[512], MPIEXEC[512];

static void find_programs(void)
{
    const char *dir = getenv("MRAIL_TEST_PROGRAMS");
    dir = dir != NULL && dir[0] != '\0' ? dir : MRAIL_TEST_BIN_DIR;
    snprintf(MRUN, sizeof(MRUN), "%s/mrun", dir);
    snprintf(PROBE, sizeof(PROBE), "%s/rte_probe", dir);
    snprintf(MPIRUN, sizeof(MPIRUN), "%s/mpirun", dir);
    snprintf(MPIEXEC, sizeof(MPIEXEC), "%s/mpiexec", dir);
}

TestSuite(mrun, .init = find_programs);

static int usable_cpus(void)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    return CPU_COUNT(&set);
}

/* Job facts and a full modex for n ranks. */
static void facts_for(unsigned n)
{
    run_t r;
    run_init(&r);
    char np[16];
    snprintf(np, sizeof(np), "%u", n);
    char *argv[] = {MRUN, "-n", np, "--oversubscribe", PROBE, "--tag", r.tag, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "mrun -n %u failed: %s", n, r.err);
    cr_expect_eq(count_lines(r.out, "modex=ok"), (int)n);
    char peers[1024] = "";
    for (unsigned i = 0; i < n; i++) {
        snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers), "%s%u", i ? "," : "", i);
    }
    for (unsigned i = 0; i < n; i++) {
        char want[1200];
        snprintf(want, sizeof(want),
                 "rank=%u size=%u local_rank=%u local_size=%u node=0 singleton=0 ", i, n, i, n);
        cr_expect_eq(count_lines(r.out, want), 1, "no line \"%s\"", want);
        snprintf(want, sizeof(want), "rank=%u ", i);
        cr_expect_eq(count_lines(r.out, want), 2, "rank %u printed the wrong number of lines", i);
    }
    char want_peers[1100];
    snprintf(want_peers, sizeof(want_peers), "peers=%s\n", peers);
    cr_expect_eq(count_lines(r.out, want_peers), (int)n);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun, facts_and_modex_1, .timeout = 60)
{
    facts_for(1);
}
Test(mrun, facts_and_modex_2, .timeout = 60)
{
    facts_for(2);
}
Test(mrun, facts_and_modex_4, .timeout = 60)
{
    facts_for(4);
}
Test(mrun, facts_and_modex_16_oversubscribed, .timeout = 60)
{
    facts_for(16);
}

Test(mrun, mpirun_and_mpiexec_are_mrun, .timeout = 60)
{
    const char *names[] = {MPIRUN, MPIEXEC};
    for (int k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char *argv[] = {(char *)names[k], "-np", "2", PROBE, NULL};
        run_cmd(&r, argv, NULL, NULL);
        cr_expect_eq(r.status, 0);
        cr_expect_eq(count_lines(r.out, "modex=ok"), 2);
        run_fini(&r);
    }
}

/* MPMD, as mpirun takes it: one job of 1 + 2 ranks, numbered in the order
 * the programs were given, each program with its own arguments (the ':'
 * is not one of them) and its index as PMIx's appnum (MPI_APPNUM). */
Test(mrun, programs_separated_by_colons_are_one_job, .timeout = 60)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MPIRUN,  "--oversubscribe", "-np",    "1",   PROBE,
                    "--say", "first",           ":",      "-np", "2",
                    PROBE,   "--say",           "second", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "modex=ok"), 3, "%s", r.out);
    for (int i = 0; i < 3; i++) {
        char want[256];
        snprintf(want, sizeof(want),
                 "rank=%d size=3 local_rank=%d local_size=3 node=0 singleton=0 app=%d ", i, i,
                 i == 0 ? 0 : 1);
        cr_expect_eq(count_lines(r.out, want), 1, "no line \"%s\" in %s", want, r.out);
    }
    cr_expect_eq(count_lines(r.out, "rank=0 says=first\n"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=1 says=second\n"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=2 says=second\n"), 1, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun, singleton_without_launcher, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(count_lines(r.out, "rank=0 size=1 local_rank=0 local_size=1 node=0 singleton=1"),
                 1);
    cr_expect_eq(count_lines(r.out, "rank=0 modex=ok"), 1);
    run_fini(&r);
}

Test(mrun, foreign_multi_rank_launch_is_refused, .timeout = 30)
{
    char *envs[][2] = {{"PMI_SIZE=4", NULL},
                       {"SLURM_STEP_NUM_TASKS=2", NULL},
                       {"OMPI_COMM_WORLD_SIZE=3", NULL},
                       {"PMI_FD=5", NULL}};
    for (size_t k = 0; k < sizeof(envs) / sizeof(envs[0]); k++) {
        run_t r;
        run_init(&r);
        char *argv[] = {PROBE, NULL};
        run_cmd(&r, argv, envs[k], NULL);
        cr_expect_neq(r.status, 0, "%s: ran as a singleton", envs[k][0]);
        cr_expect(strstr(r.err, "srun --mpi=pmix") && strstr(r.err, "mrun -n N"), "%s: %s",
                  envs[k][0], r.err);
        cr_expect_eq(count_lines(r.out, "rank="), 0);
        run_fini(&r);
    }
    /* A batch script's own environment is not a launch. */
    run_t r;
    run_init(&r);
    char *argv[] = {PROBE, NULL};
    char *batch[] = {"SLURM_NTASKS=4", NULL};
    run_cmd(&r, argv, batch, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    run_fini(&r);
}

Test(mrun, exports_and_mca_reach_the_ranks, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "-n",
                    "2",
                    "-x",
                    "MRAIL_T_FROM_ENV",
                    "-x",
                    "MRAIL_T_SET=given",
                    "--mca",
                    "btl_tcp_if_include",
                    "lo",
                    PROBE,
                    "--env",
                    "MRAIL_T_FROM_ENV",
                    "--mca",
                    "btl_tcp_if_include",
                    "--no-modex",
                    NULL};
    char *env[] = {"MRAIL_T_FROM_ENV=inherited", NULL};
    run_cmd(&r, argv, env, NULL);
    cr_assert_eq(r.status, 0);
    cr_expect_eq(count_lines(r.out, "env MRAIL_T_FROM_ENV=inherited"), 2);
    cr_expect_eq(count_lines(r.out, "mca btl_tcp_if_include=lo source=command line"), 2);
    run_fini(&r);

    run_init(&r);
    char *argv2[] = {MRUN,  "-n",    "1",           "-x",         "MRAIL_T_SET=given",
                     PROBE, "--env", "MRAIL_T_SET", "--no-modex", NULL};
    run_cmd(&r, argv2, NULL, NULL);
    cr_expect_eq(count_lines(r.out, "env MRAIL_T_SET=given"), 1);
    run_fini(&r);
}

static int topology_id(int cpu, const char *what)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, what);
    FILE *f = fopen(path, "r");
    int id = 0;
    if (f != NULL) {
        cr_assert_eq(fscanf(f, "%d", &id), 1, "%s", path);
        fclose(f);
    }
    return id;
}

/* --map-by ppr:N:core|socket: the k-th rank goes to the (k / N)-th core or
 * socket and is bound to all of it; the expected CPU sets come from sysfs. */
Test(mrun, ppr_per_core_and_socket_place_and_bind, .timeout = 30)
{
    cpu_set_t mine;
    cr_assert_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
    int first = -1, sockets = 0, seen[CPU_SETSIZE];
    char core[512] = "", socket[512] = "";
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &mine)) {
            continue;
        }
        first = first < 0 ? c : first;
        int pkg = topology_id(c, "physical_package_id"), known = 0;
        for (int k = 0; k < sockets; k++) {
            known |= seen[k] == pkg;
        }
        if (!known) {
            seen[sockets++] = pkg;
        }
        if (pkg == topology_id(first, "physical_package_id")) {
            snprintf(socket + strlen(socket), sizeof(socket) - strlen(socket), "%s%d",
                     socket[0] ? "," : "", c);
            if (topology_id(c, "core_id") == topology_id(first, "core_id")) {
                snprintf(core + strlen(core), sizeof(core) - strlen(core), "%s%d",
                         core[0] ? "," : "", c);
            }
        }
    }
    struct {
        const char *np, *ppr, *cpus;
    } cases[] = {{"2", "ppr:2:core", core}, {"1", "ppr:1:socket", socket}};
    for (size_t k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char *argv[] = {MRUN,
                        "-n",
                        (char *)cases[k].np,
                        "--oversubscribe",
                        "--map-by",
                        (char *)cases[k].ppr,
                        PROBE,
                        "--affinity",
                        "--no-modex",
                        NULL};
        run_cmd(&r, argv, NULL, NULL);
        cr_assert_eq(r.status, 0, "%s", r.err);
        for (int rank = 0; rank < atoi(cases[k].np); rank++) {
            char want[600];
            snprintf(want, sizeof(want), "rank=%d cpus=%s\n", rank, cases[k].cpus);
            cr_expect_eq(count_lines(r.out, want), 1, "%s: no %s in %s", cases[k].ppr, want, r.out);
        }
        run_fini(&r);
    }
    run_t r;
    run_init(&r);
    char np[16], want[128];
    snprintf(np, sizeof(np), "%d", sockets + 1);
    char *argv[] = {MRUN, "-n", np, "--oversubscribe", "--map-by", "ppr:1:socket", PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 2, "%s", r.err);
    snprintf(want, sizeof(want), "--map-by ppr:1:socket: a node has %d socket%s here, room for %d",
             sockets, sockets == 1 ? "" : "s", sockets);
    cr_expect(strstr(r.err, want) != NULL, "want \"%s\" in %s", want, r.err);
    cr_expect_eq(count_lines(r.out, "rank="), 0);
    run_fini(&r);
}

Test(mrun, bindings_are_applied, .timeout = 30)
{
    int ncpu = usable_cpus();
    cr_assert_geq(ncpu, 1);
    unsigned n = ncpu >= 2 ? 2 : 1;
    char np[8];
    snprintf(np, sizeof(np), "%u", n);
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,  "-n",         np,           "--bind-to", "core", "--report-bindings",
                    PROBE, "--affinity", "--no-modex", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0);
    cpu_set_t mine;
    sched_getaffinity(0, sizeof(mine), &mine);
    int cpus[CPU_SETSIZE], k = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &mine)) {
            cpus[k++] = c;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "rank=%u cpus=%d\n", i, cpus[i]);
        cr_expect_eq(count_lines(r.out, want), 1, "rank %u not bound to cpu %d", i, cpus[i]);
        snprintf(want, sizeof(want), "rank %u (pid", i);
        cr_expect_eq(count_lines(r.err, want), 1, "no --report-bindings line for rank %u", i);
    }
    run_fini(&r);

    run_init(&r);
    char *argv2[] = {MRUN, "-n", "1", "--bind-to", "none", PROBE, "--affinity", "--no-modex", NULL};
    run_cmd(&r, argv2, NULL, NULL);
    char all[1024] = "";
    for (int c = 0; c < k; c++) {
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%d", c ? "," : "", cpus[c]);
    }
    char want[1100];
    snprintf(want, sizeof(want), "rank=0 cpus=%s\n", all);
    cr_expect_eq(count_lines(r.out, want), 1, "--bind-to none narrowed the CPU set");
    run_fini(&r);
}

/* A failure: the status, the message naming rank, pid and cause, nothing left. */
static void expect_failure(char *fail_rank, char *how, char *code, int want_status,
                           const char *want_msg, unsigned n)
{
    run_t r;
    run_init(&r);
    char np[8];
    snprintf(np, sizeof(np), "%u", n);
    char *argv[] = {MRUN, "-n", np,  "--oversubscribe", PROBE, "--tag", r.tag, "--fail", fail_rank,
                    how,  code, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, want_status, "%s: status %d, expected %d", how, r.status, want_status);
    char pid_msg[64];
    snprintf(pid_msg, sizeof(pid_msg), "rank %s (pid ", fail_rank);
    cr_expect(strstr(r.err, pid_msg) != NULL, "%s: rank and pid not named: %s", how, r.err);
    cr_expect(strstr(r.err, want_msg) != NULL, "%s: \"%s\" not in: %s", how, want_msg, r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun, rank_exit_status_is_passed_on, .timeout = 30)
{
    expect_failure("1", "exit", "3", 3, "exited with status 3", 2);
}

Test(mrun, rank_killed_by_signal, .timeout = 30)
{
    expect_failure("1", "kill", "0", 128 + 9, "killed by signal 9", 2);
}

Test(mrun, rank_exiting_without_finalize, .timeout = 30)
{
    expect_failure("0", "no-finalize", "0", 1, "without finalizing", 2);
}

Test(mrun, rank_abort, .timeout = 30)
{
    expect_failure("1", "abort", "7", 7, "aborted the job with status 7", 2);
}

Test(mrun, rank_dying_during_a_fence, .timeout = 30)
{
    expect_failure("3", "in-fence", "0", 128 + 9, "killed by signal 9", 4);
}

Test(mrun, fence_upcall_path, .timeout = 30)
{
    /* (1) With the local-only shortcut off, fences go through mrun's fence_nb. */
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-v", "-n", "4", "--oversubscribe", PROBE, NULL};
    char *env[] = {"PMIX_MCA_pmix_server_fence_localonly_opt=0", NULL};
    run_cmd(&r, argv, env, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_geq(count_lines(r.err, "fence_nb upcall"), 2);
    cr_expect_eq(count_lines(r.out, "modex=ok"), 4);
    run_expect_clean(&r);
    run_fini(&r);
}

typedef struct usage_case {
    char *args[10];
    int status;
    const char *msg;
} usage_case_t;

/* Each case's mrun exits with its status and says its message, and leaves
 * nothing behind. */
static void run_usage_cases(const usage_case_t *cases, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char *argv[12] = {MRUN};
        for (int i = 0; cases[k].args[i]; i++) {
            argv[i + 1] = cases[k].args[i];
        }
        run_t r;
        run_init(&r);
        run_cmd(&r, argv, NULL, NULL);
        cr_expect_eq(r.status, cases[k].status, "case %zu: status %d", k, r.status);
        cr_expect(strstr(r.err, cases[k].msg) != NULL, "case %zu: \"%s\" not in: %s", k,
                  cases[k].msg, r.err);
        run_expect_clean(&r);
        run_fini(&r);
    }
}

Test(mrun, usage_errors, .timeout = 30)
{
    char oversub[16];
    snprintf(oversub, sizeof(oversub), "%d", usable_cpus() + 1);
    usage_case_t cases[] = {
        {{"--frobnicate", "-n", "1", PROBE}, 2, "unknown option \"--frobnicate\""},
        {{"-n", "0", PROBE}, 2, "-n needs a whole number of ranks from 1 up, got \"0\""},
        {{"-n", "two", PROBE}, 2, "got \"two\""},
        {{PROBE}, 2, "the number of ranks is missing"},
        {{"-n", "1"}, 2, "no program to run"},
        {{"-n", oversub, PROBE}, 2, "add --oversubscribe"},
        {{"-n", "1", "--bind-to", "rack", PROBE}, 2, "none, core, socket or numa, got \"rack\""},
        {{"-n", "1", "-x", "MRAIL_T_SURELY_UNSET", PROBE}, 2, "is not set in this environment"},
        {{"-n", "1", "--timeout", "-3", PROBE}, 2, "--timeout needs a number of seconds"},
        {{"-n", "2", "/nonexistent/program"}, 127, "cannot run \"/nonexistent/program\""},
        {{"-n", "2", "no-such-program-anywhere"}, 127, "(searched PATH)"},
        {{"-n", "1", "--netns", "mrail-no-such-ns", "--pmix-if", "lo", PROBE},
         2,
         "mrail-no-such-ns"},
        {{"-n", "1", "--pmix-if", "mrailnoif0", PROBE},
         1,
         "--pmix-if mrailnoif0: no such network interface"},
        {{"-n", "1", PROBE, ":"}, 2, "no program after ':'"},
        {{"-n", "1", PROBE, ":", PROBE}, 2, "the program after ':' needs its own -n M"},
        {{"-n", "1", PROBE, ":", "--oversubscribe", "-n", "1", PROBE},
         2,
         "after ':' only -n M may come before the program, got \"--oversubscribe\""},
        {{"-n", "1", PROBE, ":", "-n", "0", PROBE}, 2, "-n needs a whole number"},
        {{"-n", "1", PROBE, ":", "-n", "1", "no-such-program-anywhere"},
         127,
         "cannot run \"no-such-program-anywhere\""},
    };
    run_usage_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(mrun, help_and_version, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "--help", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "Usage: mrun [options] PROGRAM") != NULL);
    run_fini(&r);
    run_init(&r);
    char *argv2[] = {MRUN, "--version", NULL};
    run_cmd(&r, argv2, NULL, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "mrun (mrail) ") == r.out);
    run_fini(&r);
}

Test(mrun, timeout_kills_the_job, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "--timeout", "1", PROBE, "--tag", r.tag, "--hang", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 124);
    cr_expect(strstr(r.err, "ran past --timeout 1 s") != NULL, "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun, sigint_and_sigterm_reach_every_rank, .timeout = 30)
{
    int sigs[] = {SIGINT, SIGTERM};
    for (int k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char *argv[] = {MRUN, "-n", "2", PROBE, "--tag", r.tag, "--hang", NULL};
        run_cmd_signal(&r, argv, NULL, NULL, sigs[k], 500);
        cr_expect_eq(r.status, 128 + sigs[k], "status %d", r.status);
        cr_expect(strstr(r.err, "passing it to every rank") != NULL, "%s", r.err);
        run_expect_clean(&r);
        run_fini(&r);
    }
}

Test(mrun, output_lines_and_stdin, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "--tag-output", "/bin/cat", NULL};
    run_cmd(&r, argv, NULL, "first line\nsecond line\n");
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "[1,0]<stdout>:first line\n[1,0]<stdout>:second line\n");
    run_fini(&r);

    run_init(&r);
    char *argv2[] = {MRUN, "-n", "2", "--tag-output", "/bin/sh", "-c", "echo to-err >&2", NULL};
    run_cmd(&r, argv2, NULL, NULL);
    cr_expect_eq(count_lines(r.err, "[1,0]<stderr>:to-err"), 1);
    cr_expect_eq(count_lines(r.err, "[1,1]<stderr>:to-err"), 1);
    run_fini(&r);
}

Test(mrun, programs_without_pmix_run_too, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "2", "/bin/echo", "plain", NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(count_lines(r.out, "plain"), 2);
    run_fini(&r);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return strdup("(missing)");
    }
    char *text = calloc(1, 4096);
    size_t n = fread(text, 1, 4095, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* What scripts written for Open MPI and MPICH pass: --allow-run-as-root and
 * -q (accepted), -wdir (the ranks' working directory, where a relative
 * program path is found), -genv/-env (MPICH's -x), --merge-stderr-to-stdout,
 * and --output-filename DIR (DIR/1/rank.N/stdout and stderr, Open MPI's
 * layout; copied to the terminal unless DIR:nocopy). */
Test(mrun, open_mpi_and_mpich_habits, .timeout = 30)
{
    for (int nocopy = 0; nocopy < 2; nocopy++) {
        run_t r;
        run_init(&r);
        char wdir[256], prog[300], out[256], outarg[300];
        snprintf(wdir, sizeof(wdir), "%s/work", r.tmpdir);
        snprintf(prog, sizeof(prog), "%s/show.sh", wdir);
        snprintf(out, sizeof(out), "%s/out", r.tmpdir);
        snprintf(outarg, sizeof(outarg), "%s%s", out, nocopy ? ":nocopy" : "");
        cr_assert_eq(mkdir(wdir, 0755), 0);
        FILE *f = fopen(prog, "w");
        cr_assert_not_null(f);
        fprintf(f, "#!/bin/sh\necho \"cwd=$(pwd) g=$MRAIL_T_G e=$MRAIL_T_E\"\necho oops >&2\n");
        fclose(f);
        cr_assert_eq(chmod(prog, 0755), 0);
        char *argv[] = {MRUN,
                        "--allow-run-as-root",
                        "-q",
                        "-n",
                        "2",
                        "-wdir",
                        wdir,
                        "-genv",
                        "MRAIL_T_G",
                        "gval",
                        "-env",
                        "MRAIL_T_E",
                        "e v",
                        "--merge-stderr-to-stdout",
                        "--output-filename",
                        outarg,
                        "./show.sh",
                        NULL};
        run_cmd(&r, argv, NULL, NULL);
        cr_assert_eq(r.status, 0, "%s", r.err);
        char want[400];
        snprintf(want, sizeof(want), "cwd=%s g=gval e=e v\n", wdir);
        cr_expect_eq(count_lines(r.out, want), nocopy ? 0 : 2, "%s", r.out);
        cr_expect_eq(count_lines(r.out, "oops\n"), nocopy ? 0 : 2, "stderr merged: %s", r.out);
        cr_expect_eq(r.err_len, 0, "%s", r.err);
        for (int rank = 0; rank < 2; rank++) {
            char path[400];
            snprintf(path, sizeof(path), "%s/1/rank.%d/stdout", out, rank);
            char *text = slurp(path);
            cr_expect_eq(count_lines(text, want), 1, "%s: %s", path, text);
            cr_expect_eq(count_lines(text, "oops\n"), 1, "%s: %s", path, text);
            free(text);
            snprintf(path, sizeof(path), "%s/1/rank.%d/stderr", out, rank);
            text = slurp(path);
            cr_expect_str_empty(text, "%s: %s", path, text);
            free(text);
        }
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", wdir, out);
        cr_expect_eq(system(cmd), 0);
        run_expect_clean(&r);
        run_fini(&r);
    }
}

/* Outside a Slurm allocation --host, -N and --display-map work on this
 * machine: the ranks start here, and the map says so. */
Test(mrun, hosts_that_name_this_machine_and_the_map, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {
        MRUN,  "-n",    "2",   "--host", "localhost,localhost", "-N", "2", "--display-map",
        PROBE, "--tag", r.tag, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "modex=ok"), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "rank 0 on node 0 ("), 1, "%s", r.err);
    cr_expect_eq(count_lines(r.err, "rank 1 on node 0 ("), 1, "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(mrun, habit_usage_errors, .timeout = 30)
{
    usage_case_t cases[] = {
        {{"-n", "1", "-wdir", "/nonexistent-mrail-dir", PROBE},
         2,
         "-wdir needs an existing directory, got \"/nonexistent-mrail-dir\": No such file"},
        {{"-n", "1", "--wdir", "/etc/hostname", PROBE}, 2, "not a directory"},
        {{"-n", "1", "-genv", "ONLY_NAME"}, 2, "-genv needs a variable name and a value"},
        {{"-n", "1", "--output-filename"}, 2, "--output-filename needs a directory"},
        {{"-n", "1", "--host", "no-such-host-mrail", PROBE},
         2,
         "host no-such-host-mrail is not this machine"},
        {{"-n", "2", "-N", "1", PROBE}, 2, "1 ranks per node on this one node cannot hold 2"},
        {{"-n", "1", "--map-by", "ppr:2:numa", PROBE},
         2,
         "--map-by takes ppr:N:node, ppr:N:socket or ppr:N:core"},
        {{"-n", "1", "--hostfile", "/nonexistent-hostfile", PROBE},
         2,
         "--hostfile needs a readable file of hosts"},
        {{"-n", "1", "--host", "localhost:many", PROBE},
         2,
         "host \"localhost:many\": the slot count must be a number from 1"},
    };
    run_usage_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
