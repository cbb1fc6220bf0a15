/* btl/ofi with libfabric's software providers, as the tests can run it:
 * shm and tcp on one host, tcp over the rails between two emulated hosts,
 * and an ofi rail striped with a tcp rail. Every byte is checked by the
 * rank programs (tests/mpi/mpi_*_test.c and tests/pml/pml_probe.c). */
#include <math.h>

#define LAB_SUBNET_FIRST 160
#include "lab_hosts.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
#define P2P MRAIL_TEST_BIN_DIR "/mpi_p2p_test"
#define COLL MRAIL_TEST_BIN_DIR "/mpi_coll_test"
#define COMM MRAIL_TEST_BIN_DIR "/mpi_comm_test"

TestSuite(btl_ofi, .init = hosts_up, .fini = hosts_down, .timeout = 300);

/* mrun -n np [--netns both hosts] --mca btl self,ofi, the provider, and
 * the extra --mca pairs, running prog with its arguments. */
static void run_ofi(run_t *r, const char *np, bool two_hosts, const char *provider,
                    const char *const *mca, const char *const *prog)
{
    char *argv[64];
    int a = 0;
    argv[a++] = MRUN;
    argv[a++] = "-n";
    argv[a++] = (char *)np;
    argv[a++] = "--oversubscribe";
    if (two_hosts) {
        argv[a++] = "--netns";
        argv[a++] = nslist;
        argv[a++] = "--pmix-if";
        argv[a++] = bridge;
    }
    argv[a++] = "--mca";
    argv[a++] = "btl_ofi_provider_include";
    argv[a++] = (char *)provider;
    for (const char *const *m = mca; m != NULL && *m != NULL && a < 40; m++) {
        argv[a++] = (char *)*m;
    }
    for (const char *const *p = prog; *p != NULL && a < 62; p++) {
        argv[a++] = (char *)*p;
    }
    argv[a] = NULL;
    run_init(r);
    run_cmd(r, argv, NULL, NULL);
}

static void expect_suite(const char *np, bool two_hosts, const char *provider,
                         const char *const *mca, const char *prog)
{
    run_t r;
    const char *const cmd[] = {prog, NULL};
    run_ofi(&r, np, two_hosts, provider, mca, cmd);
    cr_expect_eq(r.status, 0, "%s over %s: %s", prog, provider, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np), "%s over %s: %s", prog, provider,
                 r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

/* A counter from pml_probe --stats, e.g. "rget=" of "rank=1 stats". */
static unsigned long long probe_stat(const char *out, const char *rank_stats, const char *key)
{
    const char *s = strstr(out, rank_stats);
    cr_assert_not_null(s, "%s", out);
    const char *v = strstr(s, key);
    cr_assert_not_null(v, "%s", s);
    return strtoull(v + strlen(key), NULL, 10);
}

/* On one host, the provider reaches every rank: p2p, collectives and
 * communicators, and the PML's get protocol over fi_read (rget > 0, as
 * the peer has this one rail). tcp is given one domain, the lab's control
 * bridge: an interface every machine running this suite has. */
static void one_host(const char *provider)
{
    const char *const mca[] = {"--mca", "btl", "self,ofi", "--mca", "btl_ofi_domain_include",
                               strcmp(provider, "tcp") == 0 ? bridge : "shm", NULL};
    expect_suite("3", false, provider, mca, P2P);
    expect_suite("4", false, provider, mca, COLL);
    expect_suite("3", false, provider, mca, COMM);

    run_t r;
    const char *const probe[] = {
        PROBE, "--checks", "exchange,order,truncate,outstanding,probe,anysource", "--stats", NULL};
    run_ofi(&r, "2", false, provider, mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 6, "%s", r.out);
    cr_expect_gt(probe_stat(r.out, "rank=1 stats", "rget="), 0,
                 "large messages must have been pulled with fi_read: %s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_ofi, the_shm_provider_runs_the_mpi_suites_on_one_host)
{
    one_host("shm");
}

Test(btl_ofi, the_tcp_provider_runs_the_mpi_suites_on_one_host)
{
    one_host("tcp");
}

static void expect_shares(const char *out, int nrails)
{
    int seen = 0;
    for (const char *line = strstr(out, "rank=0 rail="); line;
         line = strstr(line + 1, "rank=0 rail=")) {
        char name[64];
        double weight, share;
        cr_assert_eq(sscanf(line, "rank=0 rail=%63s weight=%lf share=%lf", name, &weight, &share),
                     3);
        cr_expect(fabs(share - weight) <= 0.15 * weight,
                  "%s carried %.3f of the bytes, its weight is %.3f", name, share, weight);
        seen++;
    }
    cr_expect_eq(seen, nrails, "rails to rank 1: %d, expected %d: %s", seen, nrails, out);
}

/* Between two hosts, libfabric's tcp provider offers one domain per
 * interface: rail1 and rail2 become two modules, and the PML stripes over
 * both. The MPI suites run across the hosts over them. */
Test(btl_ofi, two_ofi_rails_between_hosts_stripe_and_run_the_mpi_suites)
{
    const char *const mca[] = {"--mca", "btl", "self,ofi", "--mca", "btl_ofi_domain_include",
                               "rail1,rail2", "--mca", "pml_stripe_steal", "false", "--mca",
                               "pml_stripe_use_measured_bandwidth", "false", NULL};
    run_t r;
    const char *const probe[] = {PROBE, "--checks", "exchange,order,stripe", "--max", "16777216",
                                 "--stats", NULL};
    run_ofi(&r, "2", true, "tcp", mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3, "%s", r.out);
    expect_shares(r.out, 2);
    cr_expect_eq(count_lines(r.out, "rail=ofi:tcp;ofi_rxm/rail"), 2, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);

    expect_suite("2", true, "tcp", mca, P2P);
    expect_suite("4", true, "tcp", mca, COLL);
}

/* One peer, one tcp rail and one ofi rail (equal exclusivity, so that
 * neither hides the other): the PML stripes over both by weight. */
Test(btl_ofi, a_tcp_rail_and_an_ofi_rail_stripe_together)
{
    const char *const mca[] = {"--mca", "btl", "self,tcp,ofi", "--mca", "btl_tcp_if_include",
                               "rail1", "--mca", "btl_ofi_domain_include", "rail2", "--mca",
                               "btl_ofi_exclusivity", "100", "--mca", "pml_stripe_steal", "false",
                               "--mca", "pml_stripe_use_measured_bandwidth", "false", NULL};
    run_t r;
    const char *const probe[] = {PROBE, "--checks", "exchange,order,stripe", "--max", "16777216",
                                 NULL};
    run_ofi(&r, "2", true, "tcp", mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 rail=tcp:rail1 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 rail=ofi:tcp;ofi_rxm/rail2 "), 1, "%s", r.out);
    expect_shares(r.out, 2);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Bad values are errors naming the value and the valid ones; a domain
 * nobody has makes the component decline, and asking for it alone says
 * why instead of hanging. */
Test(btl_ofi, bad_settings_are_clear_errors)
{
    run_t r;
    const char *const bad[] = {"--mca", "btl", "self,ofi", "--mca", "btl_ofi_recv_buffers", "0",
                               NULL};
    const char *const prog[] = {P2P, NULL};
    run_ofi(&r, "2", false, "shm", bad, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_ofi_recv_buffers is 0; valid values are 1 to 4096") != NULL, "%s",
              r.err);
    run_fini(&r);

    const char *const none[] = {"--mca", "btl", "self,ofi", "--mca", "btl_ofi_domain_include",
                                "nosuchnic0", NULL};
    run_ofi(&r, "2", false, "tcp", none, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_ofi_domain_include") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "unreachable") != NULL || strstr(r.err, "no btl") != NULL ||
                  strstr(r.err, "reach") != NULL,
              "the job must say that rank 1 cannot be reached: %s", r.err);
    run_fini(&r);
}
