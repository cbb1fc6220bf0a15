/* btl/ofi and btl/uct with the software transports the tests can run:
 * libfabric's shm and tcp providers, UCX's posix, sysv and tcp transports,
 * on one host, over the rails between two emulated hosts, and striped with
 * a tcp rail. Every byte is checked by the rank programs
 * (tests/mpi/mpi_*_test.c and tests/pml/pml_probe.c). */
#include <math.h>

#define LAB_SUBNET_FIRST 160
#include "lab_hosts.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/pml_probe"
#define P2P MRAIL_TEST_BIN_DIR "/mpi_p2p_test"
#define COLL MRAIL_TEST_BIN_DIR "/mpi_coll_test"
#define COMM MRAIL_TEST_BIN_DIR "/mpi_comm_test"

TestSuite(btl_ofi, .init = hosts_up, .fini = hosts_down, .timeout = 300);
TestSuite(btl_uct, .init = hosts_up, .fini = hosts_down, .timeout = 300);

/* A component and the software transport it is told to drive. */
typedef struct fabric {
    const char *btl;       /* "ofi", "uct" */
    const char *pick;      /* the parameter that names the transport */
    const char *transport; /* its value: a provider or UCT transport */
    const char *devices;   /* the parameter that names domains or devices */
    const char *rail;      /* module name of rail N without the N: "uct:tcp/rail" */
    const char *extra[5];  /* further parameters: name, value, ..., NULL */
} fabric_t;

static const fabric_t ofi_tcp = {
    "ofi", "btl_ofi_provider_include", "tcp", "btl_ofi_domain_include", "ofi:tcp;ofi_rxm/rail",
    {NULL}};
static const fabric_t ofi_shm = {
    "ofi", "btl_ofi_provider_include", "shm", "btl_ofi_domain_include", NULL, {NULL}};
static const fabric_t uct_tcp = {
    "uct", "btl_uct_transports", "tcp", "btl_uct_device_include", "uct:tcp/rail", {NULL}};
static const fabric_t uct_posix = {
    "uct", "btl_uct_transports", "posix", "btl_uct_device_include", NULL, {NULL}};
static const fabric_t uct_tcp_ep = {"uct",          "btl_uct_transports",
                                    "tcp",          "btl_uct_device_include",
                                    "uct:tcp/rail", {"btl_uct_connect", "ep", NULL}};
static const fabric_t uct_tcp_modex = {"uct",          "btl_uct_transports",
                                       "tcp",          "btl_uct_device_include",
                                       "uct:tcp/rail", {"btl_uct_connect", "modex", NULL}};
/* The path of providers that want local descriptors (efa, verbs;ofi_rxm),
 * and one posted buffer per message instead of multi-receive slabs. */
static const fabric_t ofi_tcp_local = {
    "ofi",
    "btl_ofi_provider_include",
    "tcp",
    "btl_ofi_domain_include",
    "ofi:tcp;ofi_rxm/rail",
    {"btl_ofi_register_local", "true", "btl_ofi_multi_recv", "false", NULL}};
static const fabric_t uct_posix_cma = {
    "uct", "btl_uct_transports", "posix,cma", "btl_uct_device_include", NULL, {NULL}};
static const fabric_t uct_sysv_cma = {
    "uct", "btl_uct_transports", "sysv,cma", "btl_uct_device_include", NULL, {NULL}};
static const fabric_t uct_cma = {"uct", "btl_uct_transports", "cma", "btl_uct_device_include", NULL,
                                 {NULL}};

/* mrun -n np [--netns both hosts] --mca <btl's transport>, the extra --mca
 * pairs, then prog with its arguments. */
static void run_fabric(run_t *r, const char *np, bool two_hosts, const fabric_t *f,
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
    argv[a++] = (char *)f->pick;
    argv[a++] = (char *)f->transport;
    for (const char *const *x = f->extra; *x != NULL; x += 2) {
        argv[a++] = "--mca";
        argv[a++] = (char *)x[0];
        argv[a++] = (char *)x[1];
    }
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

static void expect_suite(const char *np, bool two_hosts, const fabric_t *f, const char *const *mca,
                         const char *prog)
{
    run_t r;
    const char *const cmd[] = {prog, NULL};
    run_fabric(&r, np, two_hosts, f, mca, cmd);
    cr_expect_eq(r.status, 0, "%s over %s %s: %s", prog, f->btl, f->transport, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np), "%s over %s %s: %s", prog,
                 f->btl, f->transport, r.out);
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

/* On one host, the transport reaches every rank: p2p, collectives and
 * communicators, and the PML's get protocol exactly where the btl offers
 * get (rget > 0, as the peer has this one rail; rget = 0 without). A
 * network transport is given one device, the lab's control bridge: an
 * interface every machine running this suite has. */
static void one_host(const fabric_t *f, const char *device, bool expect_get)
{
    char btl[32];
    snprintf(btl, sizeof(btl), "self,%s", f->btl);
    const char *const mca[] = {"--mca", "btl", btl, "--mca", f->devices, device, NULL};
    expect_suite("3", false, f, mca, P2P);
    expect_suite("4", false, f, mca, COLL);
    expect_suite("3", false, f, mca, COMM);

    run_t r;
    const char *const probe[] = {PROBE, "--checks",
                                 "exchange,order,contexts,truncate,outstanding,probe,anysource",
                                 "--stats", NULL};
    run_fabric(&r, "2", false, f, mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 7, "%s", r.out);
    if (expect_get) {
        cr_expect_gt(probe_stat(r.out, "rank=1 stats", "rget="), 0,
                     "large messages must have been pulled with get: %s", r.out);
    } else {
        cr_expect_eq(probe_stat(r.out, "rank=1 stats", "rget="), 0,
                     "%s %s offers no get, yet rget counted: %s", f->btl, f->transport, r.out);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_ofi, the_shm_provider_runs_the_mpi_suites_on_one_host)
{
    one_host(&ofi_shm, "shm", true);
}

Test(btl_ofi, the_tcp_provider_runs_the_mpi_suites_on_one_host)
{
    one_host(&ofi_tcp, bridge, true);
}

/* mrail_info's note for the module of f on device. */
static void expect_note(const fabric_t *f, const char *device, const char *want)
{
    char *argv[24];
    int a = 0;
    argv[a++] = MRAIL_TEST_BIN_DIR "/mrail_info";
    argv[a++] = "--parsable";
    argv[a++] = "--mca";
    argv[a++] = (char *)f->pick;
    argv[a++] = (char *)f->transport;
    argv[a++] = "--mca";
    argv[a++] = (char *)f->devices;
    argv[a++] = (char *)device;
    for (const char *const *x = f->extra; *x != NULL; x += 2) {
        argv[a++] = "--mca";
        argv[a++] = (char *)x[0];
        argv[a++] = (char *)x[1];
    }
    argv[a] = NULL;
    run_t r;
    run_init(&r);
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "module_note:") != NULL && strstr(r.out, want) != NULL,
              "expected \"%s\" in: %s", want, r.out);
    run_fini(&r);
}

/* Both providers offer FI_MULTI_RECV: the suites above ran with slabs. */
Test(btl_ofi, multi_receive_slabs_where_the_provider_offers_them)
{
    expect_note(&ofi_shm, "shm", "4 multi-receive slabs");
    expect_note(&ofi_tcp, bridge, "4 multi-receive slabs");
}

Test(btl_ofi, local_descriptors_and_single_buffers_run_the_mpi_suites_on_one_host)
{
    expect_note(&ofi_tcp_local, bridge, "one posted buffer each, local descriptors");
    one_host(&ofi_tcp_local, bridge, true);
}

Test(btl_uct, the_posix_transport_runs_the_mpi_suites_on_one_host)
{
    one_host(&uct_posix, "memory", false);
}

/* posix and sysv carry messages; cma beside them moves the PML's gets
 * (process_vm_readv straight from the sender's buffer). */
Test(btl_uct, posix_with_cma_runs_the_mpi_suites_on_one_host_with_gets)
{
    one_host(&uct_posix_cma, "memory", true);
}

Test(btl_uct, sysv_with_cma_runs_the_mpi_suites_on_one_host_with_gets)
{
    one_host(&uct_sysv_cma, "memory", true);
}

Test(btl_uct, the_tcp_transport_runs_the_mpi_suites_on_one_host)
{
    one_host(&uct_tcp, bridge, false);
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

/* Between two hosts, the network transport offers one device per
 * interface: rail1 and rail2 become two modules, and the PML stripes over
 * both by weight. The MPI suites run across the hosts over them. */
static void two_rails(const fabric_t *f)
{
    char btl[32];
    snprintf(btl, sizeof(btl), "self,%s", f->btl);
    const char *const mca[] = {"--mca",
                               "btl",
                               btl,
                               "--mca",
                               f->devices,
                               "rail1,rail2",
                               "--mca",
                               "pml_stripe_steal",
                               "false",
                               "--mca",
                               "pml_stripe_use_measured_bandwidth",
                               "false",
                               NULL};
    run_t r;
    const char *const probe[] = {
        PROBE, "--checks", "exchange,order,stripe", "--max", "16777216", "--stats", NULL};
    run_fabric(&r, "2", true, f, mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3, "%s", r.out);
    expect_shares(r.out, 2);
    char rail[64];
    snprintf(rail, sizeof(rail), "rail=%s", f->rail);
    cr_expect_eq(count_lines(r.out, rail), 2, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);

    expect_suite("2", true, f, mca, P2P);
    expect_suite("4", true, f, mca, COLL);
}

Test(btl_ofi, two_rails_between_hosts_stripe_and_run_the_mpi_suites)
{
    two_rails(&ofi_tcp);
}

Test(btl_uct, two_rails_between_hosts_stripe_and_run_the_mpi_suites)
{
    two_rails(&uct_tcp);
}

/* UCT's tcp also connects endpoint to endpoint, as RC transports do: the
 * addresses go in a first message, from both sides at once in the
 * collectives. mrail_info shows the mode really changed. */
Test(btl_uct, endpoint_to_endpoint_wire_up_runs_the_mpi_suites_between_hosts)
{
    two_rails(&uct_tcp_ep);
    expect_note(&uct_tcp_ep, bridge,
                "connected endpoint to endpoint (addresses in a first message)");
}

/* What RC transports get (auto, as they connect no other way): an
 * endpoint per rank made at start-up, addresses in the modex. */
Test(btl_uct, endpoint_addresses_in_the_modex_run_the_mpi_suites_between_hosts)
{
    two_rails(&uct_tcp_modex);
    expect_note(&uct_tcp_modex, bridge, "connected endpoint to endpoint (addresses in the modex)");
}

/* One peer, one btl/tcp rail and one rail of the component (equal
 * exclusivity, so that neither hides the other): the PML stripes over both
 * by weight. */
static void mixed(const fabric_t *f)
{
    char btl[32], excl[48], rail2[64];
    snprintf(btl, sizeof(btl), "self,tcp,%s", f->btl);
    snprintf(excl, sizeof(excl), "btl_%s_exclusivity", f->btl);
    snprintf(rail2, sizeof(rail2), "rank=0 rail=%s2 ", f->rail);
    const char *const mca[] = {"--mca",
                               "btl",
                               btl,
                               "--mca",
                               "btl_tcp_if_include",
                               "rail1",
                               "--mca",
                               f->devices,
                               "rail2",
                               "--mca",
                               excl,
                               "100",
                               "--mca",
                               "pml_stripe_steal",
                               "false",
                               "--mca",
                               "pml_stripe_use_measured_bandwidth",
                               "false",
                               NULL};
    run_t r;
    const char *const probe[] = {PROBE,   "--checks", "exchange,order,stripe",
                                 "--max", "16777216", NULL};
    run_fabric(&r, "2", true, f, mca, probe);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 3, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "rank=0 rail=tcp:rail1 "), 1, "%s", r.out);
    cr_expect_eq(count_lines(r.out, rail2), 1, "%s", r.out);
    expect_shares(r.out, 2);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_ofi, a_tcp_rail_and_an_ofi_rail_stripe_together)
{
    mixed(&ofi_tcp);
}

Test(btl_uct, a_tcp_rail_and_a_uct_rail_stripe_together)
{
    mixed(&uct_tcp);
}

/* Bad values are errors naming the value and the valid ones; a device
 * nobody has makes the component decline, and asking for it alone says
 * so instead of hanging. */
Test(btl_ofi, bad_settings_are_clear_errors)
{
    run_t r;
    const char *const bad[] = {"--mca", "btl", "self,ofi", "--mca", "btl_ofi_recv_buffers",
                               "0",     NULL};
    const char *const prog[] = {P2P, NULL};
    run_fabric(&r, "2", false, &ofi_shm, bad, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_ofi_recv_buffers is 0; valid values are 1 to 4096") != NULL, "%s",
              r.err);
    run_fini(&r);

    const char *const none[] = {"--mca",      "btl", "self,ofi", "--mca", "btl_ofi_domain_include",
                                "nosuchnic0", NULL};
    run_fabric(&r, "2", false, &ofi_tcp, none, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_ofi_domain_include") != NULL, "%s", r.err);
    run_fini(&r);
}

Test(btl_uct, bad_settings_are_clear_errors)
{
    run_t r;
    const char *const both[] = {"--mca",
                                "btl",
                                "self,uct",
                                "--mca",
                                "btl_uct_device_include",
                                "memory",
                                "--mca",
                                "btl_uct_device_exclude",
                                "lo",
                                NULL};
    const char *const prog[] = {P2P, NULL};
    run_fabric(&r, "2", false, &uct_posix, both, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_uct_device_include") != NULL &&
                  strstr(r.err, "btl_uct_device_exclude") != NULL,
              "%s", r.err);
    run_fini(&r);

    const char *const none[] = {"--mca",      "btl", "self,uct", "--mca", "btl_uct_device_include",
                                "nosuchnic0", NULL};
    run_fabric(&r, "2", false, &uct_tcp, none, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_uct_device_include") != NULL, "%s", r.err);
    run_fini(&r);

    /* posix has no endpoint-to-endpoint mode to force */
    const char *const ep[] = {"--mca",           "btl", "self,uct", "--mca",
                              "btl_uct_connect", "ep",  "--mca",    "btl_uct_device_include",
                              "memory",          NULL};
    run_fabric(&r, "2", false, &uct_posix, ep, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "posix/memory cannot connect endpoint to endpoint "
                            "(btl_uct_connect=ep)") != NULL,
              "%s", r.err);
    run_fini(&r);

    const char *const bad_mode[] = {"--mca",           "btl", "self,uct", "--mca",
                                    "btl_uct_connect", "rc",  NULL};
    run_fabric(&r, "2", false, &uct_posix, bad_mode, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_uct_connect") != NULL && strstr(r.err, "rc") != NULL &&
                  strstr(r.err, "auto") != NULL && strstr(r.err, "iface") != NULL &&
                  strstr(r.err, "modex") != NULL,
              "%s", r.err);
    run_fini(&r);

    /* cma has no active messages: alone it is no transport */
    const char *const alone[] = {"--mca", "btl", "self,uct", NULL};
    run_fabric(&r, "2", false, &uct_cma, alone, prog);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "cma/memory moves get/put only") != NULL &&
                  strstr(r.err, "posix or sysv") != NULL,
              "%s", r.err);
    run_fini(&r);
}
