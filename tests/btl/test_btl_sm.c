/* btl/sm and btl/self moving byte-checked messages between real ranks,
 * launched through mrun. The rank program is btl_exchange.c. */
#include <sys/statvfs.h>

#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define EXCHANGE MRAIL_TEST_BIN_DIR "/btl_exchange"
#define ALL_SIZES "0,1,4095,4096,4097,65536,1048576,67108864"
#define SMALL_SIZES "0,1,4095,4096,4097,65536,1048576"

/* Runs the exchange; every rank must report errors=0 and every phase. */
static void exchange(const char *np, const char *btl, const char *mech, const char *sizes,
                     const char *paths, const char *bp, int nsizes, int npaths, const char *note)
{
    run_t r;
    run_init(&r);
    char *argv[32] = {MRUN,
                      "-n",
                      (char *)np,
                      "--oversubscribe",
                      "--mca",
                      "btl",
                      (char *)btl,
                      "--mca",
                      "btl_sm_single_copy_mechanism",
                      (char *)mech,
                      EXCHANGE,
                      "--sizes",
                      (char *)sizes,
                      "--paths",
                      (char *)paths,
                      "--tag",
                      r.tag};
    int argc = 17;
    if (bp != NULL) {
        argv[argc++] = "--backpressure";
        argv[argc++] = (char *)bp;
    }
    run_cmd(&r, argv, NULL, NULL);
    int n = atoi(np);
    cr_assert_eq(r.status, 0, "exchange failed: %s", r.err);
    cr_expect_eq(count_lines(r.out, " errors=0\n"), n);
    cr_expect_eq(count_lines(r.out, " ok\n"), n * nsizes * npaths + (bp ? n : 0));
    cr_expect_eq(count_lines(r.err, "error"), 0);
    if (note != NULL) {
        cr_expect_eq(count_lines(r.out, note), n, "not every rank reports \"%s\"", note);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

#define CMA_NOTE "note=single copy through CMA"
#define RING_NOTE "note=copy-in/copy-out through the rings"

Test(btl_sm, two_ranks_every_size_every_path_cma, .timeout = 240)
{
    exchange("2", "self,sm", "cma", ALL_SIZES, "send,get,rget,put", "3000", 8, 4, CMA_NOTE);
}

/* The copy both ranks share (rget: get of registered memory), between many
 * pairs at once, at sizes around the 256 KiB chunk and of up to 32 chunks. */
Test(btl_sm, eight_ranks_share_copies_cut_in_chunks, .timeout = 240)
{
    exchange("8", "self,sm", "cma", "262143,262144,262145,1048583,8388608", "rget", NULL, 5, 1,
             CMA_NOTE);
}

Test(btl_sm, two_ranks_every_size_every_path_copy_fallback, .timeout = 240)
{
    exchange("2", "self,sm", "none", ALL_SIZES, "send,get,rget,put", "3000", 8, 4, RING_NOTE);
}

Test(btl_sm, auto_picks_cma_where_the_kernel_allows_it, .timeout = 240)
{
    exchange("2", "self,sm", "auto", "1048576", "get,put", NULL, 1, 2, CMA_NOTE);
}

Test(btl_sm, eight_ranks_up_to_1m_both_mechanisms, .timeout = 240)
{
    exchange("8", "self,sm", "cma", SMALL_SIZES, "send,get,put", NULL, 7, 3, CMA_NOTE);
    exchange("8", "self,sm", "none", SMALL_SIZES, "send,get,put", NULL, 7, 3, RING_NOTE);
}

Test(btl_sm, eight_ranks_64m_single_copy, .timeout = 240)
{
    exchange("8", "self,sm", "cma", "67108864", "get", NULL, 1, 1, CMA_NOTE);
}

Test(btl_sm, sm_alone_also_reaches_self, .timeout = 240)
{
    exchange("3", "sm", "auto", SMALL_SIZES, "send,get,put", "500", 7, 3, NULL);
}

Test(btl_sm, self_alone_in_a_singleton_job, .timeout = 60)
{
    exchange("1", "self", "auto", ALL_SIZES, "send,get,put", NULL, 8, 3, NULL);
}

Test(btl_sm, a_rank_killed_mid_transfer_leaves_no_segment, .timeout = 120)
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,     "-n",      "4",       "--oversubscribe", "--mca", "btl",   "self,sm",
                    EXCHANGE, "--sizes", "1048576", "--paths",         "send",  "--die", "2",
                    "--tag",  r.tag,     NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_eq(r.status, 128 + 9, "%s", r.err);
    cr_expect(strstr(r.err, "rank 2 (pid") && strstr(r.err, "killed by signal 9"), "%s", r.err);
    char *job = strstr(r.out, "job=");
    cr_assert_not_null(job, "the ranks did not say their job");
    char name[256];
    cr_assert_eq(sscanf(job, "job=%200s", name), 1);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls /dev/shm | grep -q '^mrail\\.%s\\.'", name);
    cr_expect_neq(system(cmd), 0, "segments of job %s are left in /dev/shm", name);
    run_expect_clean(&r);
    run_fini(&r);
}

/* Runs the exchange on np ranks with btl_sm_ring_size=value, which must
 * be refused with a message holding every one of want[]. */
static void expect_ring_refused(const char *np, const char *value, const char *const want[])
{
    run_t r;
    run_init(&r);
    char *argv[] = {MRUN,          "-n",     (char *)np, "--mca", "btl_sm_ring_size",
                    (char *)value, EXCHANGE, NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_neq(r.status, 0, "btl_sm_ring_size=%s was accepted", value);
    for (size_t i = 0; want[i] != NULL; i++) {
        cr_expect(strstr(r.err, want[i]) != NULL, "no \"%s\" in: %s", want[i], r.err);
    }
    cr_expect(strstr(r.err, "signal 7") == NULL, "a rank died of SIGBUS: %s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_sm, bad_ring_size_is_refused, .timeout = 60)
{
    const char *const want[] = {"btl_sm_ring_size must be 0 (sized by the ranks on the node) or a "
                                "power of two of at least 4k",
                                "btl_sm_ring_size = 100000", NULL};
    expect_ring_refused("1", "100000", want);
}

/* /dev/shm is sparse: a ring larger than its free space would map and
 * then kill a rank with SIGBUS mid-message. It is refused at start-up,
 * with the sizes, and leaves no segment behind. */
Test(btl_sm, a_ring_larger_than_dev_shm_is_refused_at_start, .timeout = 60)
{
    const char *const want[] = {"/dev/shm has ", "this node's 2 ranks need",
                                "2 rings of btl_sm_ring_size 68719476736 bytes", NULL};
    expect_ring_refused("2", "64g", want);
}

/* Each rank's own segment fits /dev/shm, but the node's two do not: each
 * would map, and the second to touch its pages would die of SIGBUS. */
Test(btl_sm, rings_that_fit_one_by_one_but_not_together_are_refused, .timeout = 60)
{
    struct statvfs fs;
    cr_assert_eq(statvfs("/dev/shm", &fs), 0, "statvfs /dev/shm");
    unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize, ring = 4096;
    while (ring * 2 <= free_bytes / 2) { /* the largest power of two <= free / 2 */
        ring *= 2;
    }
    /* A segment is 2 rings (2 ranks): 2 ring <= free < 4 ring. */
    char value[32];
    snprintf(value, sizeof(value), "%llu", ring);
    const char *const want[] = {"/dev/shm has ", "this node's 2 ranks need", NULL};
    expect_ring_refused("2", value, want);
}

/* A real refusal: ranks without CAP_SYS_PTRACE that made themselves
 * non-dumpable cannot read each other with process_vm_readv, as under Yama. */
#define NO_PTRACE "/usr/bin/setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"

Test(btl_sm, auto_falls_back_when_the_kernel_refuses_cma, .timeout = 120)
{
    cr_assert_eq(access("/usr/bin/setpriv", X_OK), 0, "setpriv (util-linux) is needed");
    run_t r;
    run_init(&r);
    char *argv[] = {NO_PTRACE,      MRUN,     "-n",           "2",       "--mca",     "btl",
                    "self,sm",      EXCHANGE, "--undumpable", "--sizes", SMALL_SIZES, "--paths",
                    "send,get,put", "--tag",  r.tag,          NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, "note=copy-in/copy-out through the rings: the kernel refused "
                                    "CMA (process_vm_readv on rank"),
                 2);
    cr_expect_eq(count_lines(r.out, " errors=0\n"), 2);
    cr_expect_eq(count_lines(r.out, " ok\n"), 2 * 7 * 3);
    run_expect_clean(&r);
    run_fini(&r);
}

Test(btl_sm, cma_demanded_but_refused_is_a_clear_error, .timeout = 120)
{
    run_t r;
    run_init(&r);
    char *argv[] = {NO_PTRACE, MRUN,     "-n",
                    "2",       "--mca",  "btl",
                    "self,sm", "--mca",  "btl_sm_single_copy_mechanism",
                    "cma",     EXCHANGE, "--undumpable",
                    NULL};
    run_cmd(&r, argv, NULL, NULL);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "btl_sm_single_copy_mechanism=cma, but process_vm_readv on rank") &&
                  strstr(r.err, "Operation not permitted") && strstr(r.err, "or use auto"),
              "%s", r.err);
    run_expect_clean(&r);
    run_fini(&r);
}
