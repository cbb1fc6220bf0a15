/* The collectives, communicators and datatypes through mrun at 1, 2, 3, 4,
 * 7 and 16 ranks (16 oversubscribed). Each size runs the collectives with
 * automatic choices (coll/sm takes the small barrier, bcast, reduce and
 * allreduce calls: its report must show them), once with coll/sm's slots
 * cut to 64 bytes (calls through the segment and handed to coll/tuned
 * interleave, blocking and not), once with slots too large for any rank to
 * map (every rank must fall back alike), and once per "round" of forced tuned
 * algorithms without coll/sm: round i forces algorithm i of every
 * collective (cycling through shorter lists), so every algorithm of
 * every collective runs at every size. */
#include "run_util.h"

#define MRUN MRAIL_TEST_BIN_DIR "/mrun"
#define COLL MRAIL_TEST_BIN_DIR "/mpi_coll_test"
#define COMM MRAIL_TEST_BIN_DIR "/mpi_comm_test"
#define INTER MRAIL_TEST_BIN_DIR "/mpi_inter_test"
#define NEIGHBOR MRAIL_TEST_BIN_DIR "/mpi_neighbor_test"
#define TYPES MRAIL_TEST_BIN_DIR "/mpi_type_test"

static const struct {
    const char *kind;
    const char *algos[5];
} algorithms[] = {
    {"barrier", {"dissemination", "linear"}},
    {"bcast", {"linear", "binomial", "scatter_allgather", "pipeline"}},
    {"reduce", {"linear", "binomial"}},
    {"allreduce", {"reduce_bcast", "recursive_doubling", "rabenseifner", "ring"}},
    {"gather", {"linear", "binomial"}},
    {"scatter", {"linear", "binomial"}},
    {"allgather", {"linear", "ring", "recursive_doubling", "bruck"}},
    {"alltoall", {"linear", "pairwise", "bruck"}},
    {"reduce_scatter", {"reduce_scatterv", "ring"}},
    {"scan", {"linear", "recursive_doubling"}},
};
#define NKINDS (sizeof(algorithms) / sizeof(algorithms[0]))
#define ROUNDS 4 /* the longest list */
#define AUTO (-1)
#define SMALL_SLOTS (-2)
#define NO_SEGMENT (-3) /* slots too large to map: every rank keeps coll/tuned */

static void run_prog(const char *np, const char *prog, int round)
{
    char names[NKINDS][64];
    char *argv[24 + 3 * NKINDS] = {MRUN, "-n", (char *)np, "--oversubscribe"};
    int a = 4;
    if (round == AUTO) {
        argv[a++] = "--mca", argv[a++] = "coll_sm_report", argv[a++] = "true";
    } else if (round == SMALL_SLOTS) {
        argv[a++] = "--mca", argv[a++] = "coll_sm_max_bytes", argv[a++] = "64";
    } else if (round == NO_SEGMENT) {
        argv[a++] = "--mca", argv[a++] = "coll_sm_max_bytes", argv[a++] = "64t";
        argv[a++] = "--mca", argv[a++] = "coll_sm_report", argv[a++] = "true";
    } else {
        argv[a++] = "--mca", argv[a++] = "coll", argv[a++] = "^sm";
    }
    for (size_t k = 0; round >= 0 && k < NKINDS; k++) {
        int n = 0;
        while (n < 5 && algorithms[k].algos[n] != NULL) {
            n++;
        }
        snprintf(names[k], sizeof(names[k]), "coll_tuned_%s_algorithm", algorithms[k].kind);
        argv[a++] = "--mca";
        argv[a++] = names[k];
        argv[a++] = (char *)algorithms[k].algos[round % n];
    }
    if (round >= 0) { /* small pieces: the pipeline really pipelines */
        argv[a++] = "--mca";
        argv[a++] = "coll_tuned_bcast_segment_size";
        argv[a++] = "4k";
    }
    argv[a++] = (char *)prog;
    argv[a++] = atoi(np) > 8 && strcmp(prog, COLL) == 0 ? "--small" : NULL;
    argv[a] = NULL;
    run_t r;
    run_init(&r);
    run_cmd(&r, argv, NULL, NULL);
    cr_assert_eq(r.status, 0, "round %d: %s", round, r.err);
    cr_expect_eq(count_lines(r.out, " checks passed\n"), atoi(np), "%s", r.out);
    cr_expect_eq(count_lines(r.err, "error"), 0, "%s", r.err);
    if ((round == AUTO || round == NO_SEGMENT) && strcmp(prog, COLL) == 0) {
        /* Automatic: every rank used its segment; unmappable: none did. */
        int used = 0, reports = 0;
        for (const char *at = r.err; (at = strstr(at, "coll sm: segments=")) != NULL; at++) {
            unsigned long segs = 0, through = 0;
            sscanf(at, "coll sm: segments=%lu through=%lu", &segs, &through);
            used += segs >= 1 && through >= 10;
            reports++;
        }
        cr_expect_eq(reports, atoi(np), "%s", r.err);
        cr_expect_eq(used, round == AUTO && atoi(np) > 1 ? atoi(np) : 0, "coll/sm use:\n%s", r.err);
        /* A segment that could not be mapped is reported with its reason. */
        int why = count_lines(r.err, "segment(s) not mapped, the last because: ");
        cr_expect_eq(why, round == NO_SEGMENT && atoi(np) > 1 ? atoi(np) : 0, "%s", r.err);
    }
    run_expect_clean(&r);
    run_fini(&r);
}

static void every_algorithm(const char *np)
{
    for (int round = NO_SEGMENT; round < ROUNDS; round++) {
        run_prog(np, COLL, round);
    }
    run_prog(np, COMM, AUTO);     /* communicators, groups, topologies, datatypes */
    run_prog(np, INTER, AUTO);    /* intercommunicator collectives (2 ranks or more) */
    run_prog(np, NEIGHBOR, AUTO); /* neighbourhood collectives */
    run_prog(np, TYPES, AUTO);    /* array and f90 datatypes, datatype attributes */
}

Test(mpi_coll, one_rank, .timeout = 300)
{
    every_algorithm("1");
}
Test(mpi_coll, two_ranks, .timeout = 300)
{
    every_algorithm("2");
}
Test(mpi_coll, three_ranks, .timeout = 300)
{
    every_algorithm("3");
}
Test(mpi_coll, four_ranks, .timeout = 300)
{
    every_algorithm("4");
}
Test(mpi_coll, seven_ranks, .timeout = 600)
{
    every_algorithm("7");
}
Test(mpi_coll, sixteen_ranks_oversubscribed, .timeout = 900)
{
    every_algorithm("16");
}
