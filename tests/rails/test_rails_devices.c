/* Device discovery answers for the caller's network namespace, also after
 * setns (mrun --netns), where /sys/class/net still shows the old one. */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define PROBE MRAIL_TEST_BIN_DIR "/netdevs_probe"
#define HOSTS MRAIL_TEST_SRC_DIR "/../runtime/netns_hosts.sh"

Test(rails_devices, loopback_is_seen_as_loopback, .timeout = 30)
{
    run_t r;
    run_init(&r);
    char *argv[] = {PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0);
    cr_expect_eq(count_lines(r.out, "dev=lo addr=127.0.0.1 loopback=1 speed=-1"), 1);
    run_fini(&r);
}

Test(rails_devices, inside_a_namespace_entered_by_setns, .timeout = 60)
{
    skip_unless_root("a second network namespace");
    char prefix[16], cmd[256], ns[40], br[32], want[128];
    int id = (int)(getpid() % 10000), subnet = 100 + id % 150;
    snprintf(prefix, sizeof(prefix), "mrd%d", id);
    snprintf(ns, sizeof(ns), "%s-0", prefix);
    snprintf(br, sizeof(br), "%sbr", prefix);
    snprintf(cmd, sizeof(cmd), "%s up %s %d 1", HOSTS, prefix, subnet);
    cr_assert_eq(system(cmd), 0);
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN, "-n", "1", "--netns", ns, "--pmix-if", br, PROBE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "%s down %s 1", HOSTS, prefix);
    cr_expect_eq(system(cmd), 0);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* A veth reports 10000 Mb/s; it has no device, so no NUMA node. */
    snprintf(want, sizeof(want), "dev=eth0 addr=10.%d.0.2 loopback=0 speed=10000 numa=-1", subnet);
    cr_expect_eq(count_lines(r.out, want), 1, "namespace's eth0 not seen as \"%s\"", want);
    cr_expect_eq(count_lines(r.out, "dev="), 2, "only lo and eth0 live in the namespace");
    run_fini(&r);
}
