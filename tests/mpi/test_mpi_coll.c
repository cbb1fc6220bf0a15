/* The collectives, communicators and datatypes through mrun at 1, 2, 3, 4,
 * 7 and 16 ranks (16 oversubscribed). Each size runs the collectives once
 * with automatic choices and once per "round" of forced algorithms: round
 * i forces algorithm i of every collective (cycling through shorter
 * lists), so every algorithm of every collective runs at every size. */
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

static void run_prog(const char *np, const char *prog, int round)
{
    char names[NKINDS][64];
    char *argv[16 + 3 * NKINDS] = {MRUN, "-n", (char *)np, "--oversubscribe"};
    int a = 4;
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
    run_expect_clean(&r);
    run_fini(&r);
}

static void every_algorithm(const char *np)
{
    for (int round = -1; round < ROUNDS; round++) {
        run_prog(np, COLL, round);
    }
    run_prog(np, COMM, -1);     /* communicators, groups, topologies, datatypes */
    run_prog(np, INTER, -1);    /* intercommunicator collectives (2 ranks or more) */
    run_prog(np, NEIGHBOR, -1); /* neighbourhood collectives */
    run_prog(np, TYPES, -1);    /* array and f90 datatypes, datatype attributes */
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
