/* mrail jobs under Slurm's own launcher, `srun --mpi=pmix`, on a cluster of
 * emulated nodes (slurm_cluster.sh: munged, slurmctld and three slurmd on
 * this host, Slurm's defaults). PMIx is mrail's only wire-up, so the same
 * binaries run as under mrun; and a rank killed mid-traffic must end the
 * step although Slurm's default (KillOnBadExit=0) leaves the other tasks
 * running: the survivors find the dead peer themselves (issue 16). */
#include <time.h>

#include "run_util.h"

#define CLUSTER MRAIL_TEST_SRC_DIR "/slurm_cluster.sh"
#define CLUSTER_DIR MRAIL_TEST_WORK_DIR "/slurm"
#define SRUN "/usr/bin/srun"
#define SALLOC "/usr/bin/salloc"
#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/rte_probe"
#define SLURM_CONF "SLURM_CONF=" CLUSTER_DIR "/mrail-test-slurm.conf"

static void cluster_up(void)
{
    skip_unless_root("a Slurm cluster of emulated nodes");
    cr_assert_eq(access(SRUN, X_OK), 0, "%s missing: tools/setup-debian.sh installs slurm-client",
                 SRUN);
    cr_assert_eq(system(CLUSTER " up " CLUSTER_DIR " 3"), 0, "the Slurm cluster did not start");
}

static void cluster_down(void)
{
    if (geteuid() == 0) {
        cr_expect_eq(system(CLUSTER " down " CLUSTER_DIR), 0);
    }
}

TestSuite(slurm, .init = cluster_up, .fini = cluster_down, .timeout = 300);

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Slurm's PMIx plugin keeps its per-step files under each node's TmpFS. */
static void expect_node_tmp_empty(const char *what)
{
    int rc = system("test -z \"$(find " CLUSTER_DIR "/tmp -mindepth 2)\"");
    cr_expect_eq(rc, 0, "%s: files left in the nodes' TmpFS", what);
}

Test(slurm, srun_pmix_runs_the_p2p_suite_across_three_nodes)
{
    run_t r;
    run_init(&r);
    char *env[] = {SLURM_CONF, NULL};
    char *argv[] = {SRUN,  "--mpi=pmix", "-N", "3", "-n", "6", MRAIL_TEST_BIN_DIR "/mpi_p2p_test",
                    r.tag, NULL};
    run_cmd(&r, argv, env, NULL);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), 6, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
    expect_node_tmp_empty("p2p");
}

/* Killed by SIGKILL while rank 0 sends to it, while it sends to rank 1, and
 * in a loop of allreduces (tests/mpi/mpi_killed.c), once with every rank on
 * a node of its own (tcp between them) and once with all on one node (sm).
 * The step ends (bound: 30 s each; measured 0.6-1.6 s), not with success,
 * and leaves no process, /dev/shm segment or file behind. */
Test(slurm, a_rank_killed_mid_traffic_ends_the_step)
{
    static const char *const where[] = {"send", "recv", "coll"};
    static const char *const nodes[] = {"3", "1"};
    int before = shm_leftovers("slurm.pmix.");
    for (int n = 0; n < 2; n++) {
        for (int i = 0; i < 3; i++) {
            run_t r;
            run_init(&r);
            char *env[] = {SLURM_CONF, NULL};
            char *argv[] = {SRUN,
                            "--mpi=pmix",
                            "-N",
                            (char *)nodes[n],
                            "-n",
                            "3",
                            MRAIL_TEST_BIN_DIR "/mpi_killed",
                            (char *)where[i],
                            r.tag,
                            NULL};
            r.dump_before_signal = true; /* CI saw one such hang in many runs */
            double t0 = seconds();
            run_cmd_signal(&r, argv, env, NULL, SIGTERM, 30000); /* srun cancels the step */
            double took = seconds() - t0;
            cr_log_info("%s on %s node(s): exit %d after %.2f s", where[i], nodes[n], r.status,
                        took);
            cr_expect_neq(r.status, 0, "%s, %s node(s): the step succeeded", where[i], nodes[n]);
            cr_expect(strstr(r.err, "Killed") != NULL,
                      "%s, %s node(s): no task reported killed: %s", where[i], nodes[n], r.err);
            cr_expect_lt(took, 30.0, "%s, %s node(s): the step took %.1f s to end", where[i],
                         nodes[n], took);
            run_expect_clean(&r);
            run_fini(&r);
            cr_expect_eq(shm_leftovers("slurm.pmix."), before,
                         "%s, %s node(s): /dev/shm segments left", where[i], nodes[n]);
            expect_node_tmp_empty(where[i]);
        }
    }
}

/* Inside an allocation of several nodes (salloc, sbatch) mrun hands the job
 * to srun --mpi=pmix instead of starting every rank on this node: the ranks
 * spread over the allocation's nodes, -N becomes --ntasks-per-node, and an
 * option srun cannot take stops mrun with a message naming it (issue 17). */
Test(slurm, mrun_inside_an_allocation_runs_the_job_through_srun)
{
    static const struct {
        const char *np, *per_node, *want_cmd;
        int per[2];
    } cases[] = {
        /* Slurm fills a node's CPUs first: at least one rank on each. */
        {"4", NULL, "running srun --mpi=pmix --kill-on-bad-exit=1 --ntasks=4 ", {-1, -1}},
        {"2", "1", "--ntasks=2 --ntasks-per-node=1 ", {1, 1}},
    };
    for (size_t k = 0; k < 2; k++) {
        run_t r;
        run_init(&r);
        char *env[] = {SLURM_CONF, NULL};
        char ntasks[16];
        snprintf(ntasks, sizeof(ntasks), "--ntasks=%s", cases[k].np);
        char *argv[16] = {SALLOC,         "-N", "2", ntasks, MRUN, "-n", (char *)cases[k].np,
                          "--display-map"};
        int n = 8;
        if (cases[k].per_node != NULL) {
            argv[n++] = "-N";
            argv[n++] = (char *)cases[k].per_node;
        }
        argv[n++] = PROBE;
        argv[n++] = "--tag";
        argv[n++] = r.tag;
        argv[n] = NULL;
        run_cmd(&r, argv, env, NULL);
        cr_assert_eq(r.status, 0, "case %zu: %s", k, r.err);
        cr_expect(strstr(r.err, cases[k].want_cmd) != NULL, "case %zu: %s", k, r.err);
        cr_expect_eq(count_lines(r.out, "modex=ok"), atoi(cases[k].np), "%s", r.out);
        for (int node = 0; node < 2; node++) {
            char want[64];
            snprintf(want, sizeof(want), " node=%d singleton=0 ", node);
            int got = count_lines(r.out, want);
            cr_expect(cases[k].per[node] < 0 ? got >= 1 : got == cases[k].per[node],
                      "case %zu node %d: %d ranks: %s", k, node, got, r.out);
        }
        run_expect_clean(&r);
        run_fini(&r);
    }
    run_t r;
    run_init(&r);
    char *env[] = {SLURM_CONF, NULL};
    char *argv[] = {SALLOC, "-N", "2", MRUN, "-n", "2", "--output-filename", "/tmp", PROBE, NULL};
    run_cmd(&r, argv, env, NULL);
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(strstr(r.err, "srun --mpi=pmix, which cannot take --output-filename") != NULL, "%s",
              r.err);
    run_fini(&r);
}

/* Inside an allocation, the job's shape still comes from mrun's options:
 * several programs go through srun --multi-prog (each its own arguments,
 * MPI_APPNUM its index), hosts with slots place ranks in that order, and
 * --map-by ppr:N:socket becomes --ntasks-per-socket. */
Test(slurm, mrun_mpmd_and_host_slots_inside_an_allocation)
{
    run_t r;
    run_init(&r);
    char *env[] = {SLURM_CONF, NULL};
    char *mpmd[] = {SALLOC,  "-N",  "2",     "--ntasks=3",        MRUN, "-n", "1", PROBE,
                    "--tag", r.tag, "--say", "it's \"one\" a\\b", ":",  "-n", "2", PROBE,
                    "--tag", r.tag, "--say", "two words",         NULL};
    run_cmd(&r, mpmd, env, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "rank=0 says=it's \"one\" a\\b\n"), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "says=two words\n"), 2, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 size=3 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, " app=0 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, " app=1 "), 2, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);

    run_init(&r);
    char *slots[] = {SALLOC,          "-N",     "3",         "--ntasks=6", MRUN,    "-n",  "4",
                     "--display-map", "--host", "n3:2,n1:2", PROBE,        "--tag", r.tag, NULL};
    run_cmd(&r, slots, env, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "--nodelist n3,n3,n1,n1 --distribution=arbitrary") != NULL, "%s",
              r.err);
    for (int rank = 0; rank < 4; rank++) {
        /* Nodes are numbered by name: n1 is node 0, n3 node 1. */
        char want[128];
        snprintf(want, sizeof(want),
                 "rank=%d size=4 local_rank=%d local_size=2 node=%d singleton=0 app=0 host=n%d "
                 "peers=%d,%d\n",
                 rank, rank % 2, rank < 2, rank < 2 ? 3 : 1, rank & ~1, (rank & ~1) + 1);
        cr_expect_eq(count_lines(r.out, want), 1, "no %s in %s", want, r.out);
    }
    run_expect_clean(&r);
    run_fini(&r);

    /* ppr:1:socket: one rank per socket; these nodes have one socket each. */
    run_init(&r);
    char *ppr[] = {SALLOC,     "-N",           "2",   MRUN,    "-n",  "2", "--display-map",
                   "--map-by", "ppr:1:socket", PROBE, "--tag", r.tag, NULL};
    run_cmd(&r, ppr, env, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "--ntasks=2 --ntasks-per-socket=1 ") != NULL, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " local_size=1 node=0 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, " local_size=1 node=1 "), 1, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);

    run_init(&r);
    char *pct[] = {SALLOC,  "-N",   "2", MRUN, "-n", "1",   PROBE,
                   "--say", "100%", ":", "-n", "1",  PROBE, NULL};
    run_cmd(&r, pct, env, NULL);
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(strstr(r.err, "srun --multi-prog cannot carry the argument \"100%\" of program 1") !=
                  NULL,
              "%s", r.err);
    run_fini(&r);
}
