/* The soak in CI (issue 16): tests/mpi/mpi_soak.c on 16 ranks
 * oversubscribed on this machine's cores, over two emulated hosts (8 ranks
 * each: btl/sm inside a host, two tc-shaped tcp rails between them), for
 * MRAIL_SOAK_SECONDS (60 unless set; bench/lab/soak.sh runs it longer).
 * Every byte and every collective result is checked by the ranks; rank 0's
 * table of resident memory and descriptors (after a warm-up, at the end)
 * must be flat. Root only (network namespaces). */
#include <stdlib.h>

#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define SOAK MRAIL_TEST_BIN_DIR "/mpi_soak"
/* Subnets of its own (see lab_hosts.h): 30-39. */
#define LAB_SUBNET_FIRST 30
#define LAB_SUBNETS 10
#include "lab_hosts.h"

TestSuite(soak, .init = hosts_up, .fini = hosts_down);

Test(soak, sixteen_ranks_of_mixed_traffic_over_sm_and_two_rails_lose_nothing, .timeout = 600)
{
    const char *seconds = getenv("MRAIL_SOAK_SECONDS") ? getenv("MRAIL_SOAK_SECONDS") : "60";
    shape_two_rails();
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,
                    "-n",
                    "16",
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
                    SOAK,
                    "--seconds",
                    (char *)seconds,
                    "--tag",
                    r.tag,
                    NULL};
    /* AddressSanitizer keeps freed blocks in a quarantine (256 MiB by
     * default) until it is full: resident memory grows until then, leak
     * or not. A small one fills during the warm-up. */
    char asan[512];
    const char *given = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%squarantine_size_mb=16", given ? given : "",
             given && given[0] ? ":" : "");
    /* Fixed malloc thresholds: resident memory then follows what is held,
     * not glibc's high-water mark (see mpi_soak.c). */
    char tunables[] =
        "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=262144";
    char *env[] = {asan, tunables, NULL};
    run_cmd(&r, argv, env, NULL);
    cr_log_info("%s", r.out);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, " 0 errors; memory and descriptors flat\n"), "%s%s", r.out,
                       r.err);
    cr_expect_eq(count_lines(r.out, "soak: "), 1, "%s", r.out);
    run_expect_clean(&r);
    run_fini(&r);
}
