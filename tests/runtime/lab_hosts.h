/* Two emulated hosts (network namespaces <prefix>-0 and -1) joined by a
 * control bridge and three data rails, built by netns_hosts.sh for a test
 * suite's init and removed by its fini. Subnet and names come from the
 * test process's pid, so suites running at once do not meet. */
#ifndef MRAIL_TEST_LAB_HOSTS_H
#define MRAIL_TEST_LAB_HOSTS_H

#include "run_util.h"

#define HOSTS MRAIL_TEST_SRC_DIR "/../runtime/netns_hosts.sh"
/* Each suite that builds hosts takes subnets from its own range (10.S.x.0/24
 * in the root namespace), so that suites run side by side never collide:
 * soak 30-39, pml_failover 40-99, btl_tcp 100-159, btl_ofi 160-219, mrun_netns
 * 220-249, mpi_rma 250-254. */
#ifndef LAB_SUBNET_FIRST
#define LAB_SUBNET_FIRST 100
#endif
#ifndef LAB_SUBNETS
#define LAB_SUBNETS 60
#endif

static char prefix[16], bridge[24], nslist[64];
static int subnet;

/* A subnet still held by hosts a killed run left up (netns_hosts.sh exits
 * 3) is passed over for the next one in the range; so is a name such hosts
 * still hold (pids come round again: a run killed hours ago on this machine
 * left mrc8992 up, and a later test with pid 8992 could not build its own). */
static void hosts_up(void)
{
    int id = (int)(getpid() % 10000);
    for (int j = 0; j < 10; j++, id += 10000) {
        char cmd[96];
        snprintf(cmd, sizeof(cmd), "ip link show mrc%dbr >/dev/null 2>&1", id);
        if (system(cmd) != 0) {
            break; /* no such bridge: the name is free */
        }
    }
    snprintf(prefix, sizeof(prefix), "mrc%d", id);
    snprintf(bridge, sizeof(bridge), "%sbr", prefix);
    snprintf(nslist, sizeof(nslist), "%s-0,%s-1", prefix, prefix);
    skip_unless_root("emulated hosts are network namespaces");
    int rc = -1;
    for (int k = 0; k < LAB_SUBNETS; k++) {
        subnet = LAB_SUBNET_FIRST + (id + k) % LAB_SUBNETS;
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "%s up %s %d 2 3", HOSTS, prefix, subnet);
        rc = system(cmd);
        if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 3) {
            break;
        }
    }
    cr_assert_eq(rc, 0, "could not build the emulated hosts");
}

static void hosts_down(void)
{
    if (geteuid() != 0) {
        return; /* skipped: nothing was built */
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s down %s 2 3", HOSTS, prefix);
    cr_expect_eq(system(cmd), 0);
}

/* Shapes rail1 and rail2 of host 0 to 400 Mbit/s. */
static inline void shape_two_rails(void)
{
    char cmd[256];
    for (int k = 1; k <= 2; k++) {
        snprintf(cmd, sizeof(cmd),
                 "ip netns exec %s-0 tc qdisc add dev rail%d root tbf rate 400mbit burst 256kb "
                 "latency 100ms",
                 prefix, k);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
    }
}

#endif
