/* What the MPI test programs here share: this rank, the world's size, the
 * checks passed so far, CHECK (which names the failure and aborts the
 * job) and the closing line the launching test counts, one per rank. */
#ifndef MRAIL_TESTS_MPI_CHECK_H
#define MRAIL_TESTS_MPI_CHECK_H

#include <mpi.h>
#include <stdio.h>

static int rank, size, checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d (of %d): check failed at line %d: ", rank, size, __LINE__);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

/* Every rank passed: "rank R: N checks passed". */
static inline void checks_passed(void)
{
    MPI_Barrier(MPI_COMM_WORLD);
    printf("rank %d: %d checks passed\n", rank, checks);
}

#endif
