/* The same binary under Open MPI's mpirun (Debian's Open MPI 4.1, same
 * libpmix): PMIx is our only wire-up, so this must just work. */
#include "run_util.h"

#define PROBE MRAIL_TEST_BIN_DIR "/rte_probe"
#define OMPI_MPIRUN "/usr/bin/mpirun.openmpi"

Test(openmpi, mpirun_launches_mrail_ranks, .timeout = 60)
{
    cr_assert_eq(access(OMPI_MPIRUN, X_OK), 0,
                 "%s missing: tools/setup-debian.sh installs openmpi-bin", OMPI_MPIRUN);
    run_t r;
    run_init(&r);
    char *argv[] = {
        OMPI_MPIRUN, "--allow-run-as-root", "--oversubscribe", "-n", "3", PROBE, "--tag", r.tag,
        NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (int i = 0; i < 3; i++) {
        char want[128];
        snprintf(want, sizeof(want),
                 "rank=%d size=3 local_rank=%d local_size=3 node=0 singleton=0 ", i, i);
        cr_expect_eq(count_lines(r.out, want), 1, "no line \"%s\"", want);
    }
    cr_expect_eq(count_lines(r.out, "peers=0,1,2\n"), 3);
    cr_expect_eq(count_lines(r.out, "modex=ok"), 3);
    run_expect_clean(&r);
    run_fini(&r);
}
