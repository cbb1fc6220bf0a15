/* The schedule engine (include/mrail/coll.h) driven directly, on
 * MPI_COMM_WORLD: rounds, a reduction step, a derived type packed per
 * transfer, two schedules in flight at once completed out of order, and a
 * truncated receive. Expected values are computed here from the ranks.
 * Prints "rank=R ok" when every check holds. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "mrail/coll.h"

#define N 64

static int check(int cond, int rank, const char *what)
{
    if (!cond) {
        fprintf(stderr, "rank %d: %s\n", rank, what);
    }
    return !cond;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, bad = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int right = (rank + 1) % size, left = (rank + size - 1) % size;

    /* 1. A strided vector sent to the right, received contiguous from the
     * left, then added into an accumulator in a second round. */
    MPI_Datatype every_other;
    MPI_Type_vector(N, 1, 2, MPI_INT, &every_other);
    MPI_Type_commit(&every_other);
    int src[2 * N], got[N], acc[N];
    for (int i = 0; i < 2 * N; i++) {
        src[i] = i % 2 == 0 ? rank * 1000 + i / 2 : -1;
    }
    for (int i = 0; i < N; i++) {
        acc[i] = 7;
    }
    mrail_coll_sched_t *s = mrail_coll_sched_new(MPI_COMM_WORLD);
    mrail_coll_send(s, src, 1, every_other, right);
    mrail_coll_recv(s, got, N, MPI_INT, left);
    mrail_coll_round(s);
    mrail_coll_op(s, got, acc, N, MPI_INT, MPI_SUM);
    int rc = mrail_coll_run(s);
    bad += check(rc == MPI_SUCCESS, rank, "vector schedule failed");
    for (int i = 0; i < N; i++) {
        bad += check(got[i] == left * 1000 + i && acc[i] == 7 + left * 1000 + i, rank,
                     "vector schedule: wrong element");
    }

    /* 2. Two schedules in flight, started in order, finished in reverse:
     * each has its own tag, so neither takes the other's message. */
    long a_out = 11 + rank, b_out = 22 + rank, a_in = -1, b_in = -1;
    mrail_coll_sched_t *a = mrail_coll_sched_new(MPI_COMM_WORLD);
    mrail_coll_sched_t *b = mrail_coll_sched_new(MPI_COMM_WORLD);
    mrail_coll_send(a, &a_out, 1, MPI_LONG, right);
    mrail_coll_recv(a, &a_in, 1, MPI_LONG, left);
    mrail_coll_send(b, &b_out, 1, MPI_LONG, right);
    mrail_coll_recv(b, &b_in, 1, MPI_LONG, left);
    bad += check(mrail_coll_start(a) == MPI_SUCCESS && mrail_coll_start(b) == MPI_SUCCESS, rank,
                 "start failed");
    while (!mrail_coll_test(b)) {
    }
    while (!mrail_coll_test(a)) {
    }
    bad += check(mrail_coll_error(a) == MPI_SUCCESS && mrail_coll_error(b) == MPI_SUCCESS, rank,
                 "concurrent schedules failed");
    mrail_coll_free(a);
    mrail_coll_free(b);
    bad += check(a_in == 11 + left && b_in == 22 + left, rank, "concurrent schedules mixed up");

    /* 3. A temporary buffer and a copy step between layouts. */
    s = mrail_coll_sched_new(MPI_COMM_WORLD);
    int *tmp = mrail_coll_tmp(s, N, MPI_INT);
    int back[2 * N];
    memset(back, 0, sizeof(back));
    bad += check(tmp != NULL, rank, "no temporary buffer");
    if (tmp != NULL) {
        mrail_coll_recv(s, tmp, N, MPI_INT, left);
        mrail_coll_send(s, src, 1, every_other, right);
        mrail_coll_round(s);
        mrail_coll_copy(s, tmp, N, MPI_INT, back, 1, every_other);
        bad += check(mrail_coll_run(s) == MPI_SUCCESS, rank, "copy schedule failed");
        for (int i = 0; i < N; i++) {
            bad += check(back[2 * i] == left * 1000 + i && back[2 * i + 1] == 0, rank,
                         "copy schedule: wrong element");
        }
    } else {
        mrail_coll_free(s);
    }

    /* 4. Four ints into room for two: the schedule reports truncation. */
    int four[4] = {1, 2, 3, 4}, two[2] = {0, 0};
    s = mrail_coll_sched_new(MPI_COMM_WORLD);
    mrail_coll_send(s, four, 4, MPI_INT, right);
    mrail_coll_recv(s, two, 2, MPI_INT, left);
    rc = mrail_coll_run(s);
    bad += check(rc == MPI_ERR_TRUNCATE, rank, "truncation not reported");

    MPI_Type_free(&every_other);
    printf("rank=%d %s\n", rank, bad ? "wrong" : "ok");
    MPI_Finalize();
    return bad != 0;
}
