/* The coll framework through mrun: the schedule engine on 2 and 3 ranks,
 * and per-communicator selection with coll/testbarrier (tests/plugins), a
 * component of higher priority than tuned that takes barrier only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"

/* Runs prog on np ranks over self and sm with pml stripe (the test
 * plugin directory also holds a one-rank pml and fake btls), the test
 * plugins searched, and --mca coll <coll> when coll is not NULL. */
static void run_prog(run_t *r, const char *np, const char *prog, const char *coll)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", MRAIL_TEST_BIN_DIR, prog);
    char *argv[20] = {MRUN,
                      "-n",
                      (char *)np,
                      "--oversubscribe",
                      "--mca",
                      "mca_base_component_path",
                      MRAIL_TEST_PLUGIN_DIR,
                      "--mca",
                      "pml",
                      "stripe",
                      "--mca",
                      "btl",
                      "self,sm"};
    int n = 13;
    if (coll != NULL) {
        argv[n++] = "--mca";
        argv[n++] = "coll";
        argv[n++] = (char *)coll;
    }
    argv[n++] = path;
    argv[n] = NULL;
    run_init(r);
    run_cmd(r, argv, NULL, NULL);
}

Test(coll, schedule_engine_rounds_types_concurrency_truncation, .timeout = 120)
{
    const char *sizes[] = {"2", "3"};
    for (int i = 0; i < 2; i++) {
        run_t r;
        run_prog(&r, sizes[i], "coll_sched_prog", NULL);
        cr_assert_eq(r.status, 0, "np %s: %s", sizes[i], r.err);
        cr_expect_eq(count_lines(r.out, " ok\n"), sizes[i][0] - '0', "%s", r.out);
        run_fini(&r);
    }
}

/* With the plugin directory searched, barrier comes from testbarrier (5 per
 * rank: 3 MPI_Barrier, 1 MPI_Ibarrier and MPI_Finalize's own) and
 * allreduce still from tuned. */
Test(coll, a_component_that_takes_only_barrier_runs_every_barrier, .timeout = 120)
{
    run_t r;
    run_prog(&r, "3", "coll_select_prog", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 3, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "coll testbarrier: barriers=5\n"), 3, "%s", r.err);
    run_fini(&r);
}

/* coll=tuned leaves testbarrier out: it is never opened, nothing printed. */
Test(coll, selection_leaves_the_barrier_to_tuned, .timeout = 120)
{
    run_t r;
    run_prog(&r, "3", "coll_select_prog", "tuned");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out, " ok\n"), 3, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "coll testbarrier"), 0, "%s", r.err);
    run_fini(&r);
}

/* coll=testbarrier alone: the first collective names the operation that no
 * component provides, and the job fails instead of hanging. */
Test(coll, a_missing_operation_is_named, .timeout = 120)
{
    run_t r;
    run_prog(&r, "2", "coll_select_prog", "testbarrier");
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "no selected coll component provides bcast") != NULL, "%s", r.err);
    run_fini(&r);
}
