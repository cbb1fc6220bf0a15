/* A node with more ranks than CPUs, where a waiting rank may sleep on its
 * bell (pml_stripe_sleep): every wait must still end when its data comes.
 * Each rank but 0 computes outside MPI for a while, then sends rank 0 an
 * 8-byte, a 64 KiB and a 4 MiB message (eager, through the rings, single
 * copy), which rank 0 waits for rank by rank; then every rank passes
 * messages round a ring and runs barriers, bcasts and allreduces. Every
 * byte is checked against values computed here. Prints
 * "rank=R crowded checks passed" when all is well, else what was wrong. */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROUNDS = 200, BCAST_BYTES = 1024 };

static const int sizes[] = {8, 64 << 10, 4 << 20};

static unsigned char pattern(int rank, int which, size_t i)
{
    return (unsigned char)(rank * 31 + which * 7 + (int)(i % 251));
}

/* Busy, outside MPI: the rank holds its CPU as an application would. */
static void compute(double seconds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile double x = 1.0;
    do {
        for (int i = 0; i < 10000; i++) {
            x = x * 1.0000001 + 1e-9;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);
}

/* How long the senders compute. Rank 0 yields pml_stripe_sleep_after
 * times before it sleeps, and a yield beside ranks that compute can take a
 * time slice: with 0.1 s, under a loaded CI runner (another test's ranks on
 * the same two CPUs, sanitizers) rank 0 once got its data before its
 * yields ran out, and never slept. */
#define SENDERS_COMPUTE_S 0.4

static int check_late_senders(int rank, int size, unsigned char *buf)
{
    int bad = 0;
    /* Rank 0 is at its first receive when the senders start computing. */
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank != 0) {
        compute(SENDERS_COMPUTE_S);
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < sizes[k]; i++) {
                buf[i] = pattern(rank, k, (size_t)i);
            }
            MPI_Send(buf, sizes[k], MPI_BYTE, 0, k, MPI_COMM_WORLD);
        }
        return 0;
    }
    for (int src = 1; src < size; src++) {
        for (int k = 0; k < 3; k++) {
            memset(buf, 0, (size_t)sizes[k]);
            MPI_Recv(buf, sizes[k], MPI_BYTE, src, k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (int i = 0; i < sizes[k]; i++) {
                if (buf[i] != pattern(src, k, (size_t)i)) {
                    printf("rank=0 message %d from %d: byte %d is %u, not %u\n", k, src, i, buf[i],
                           pattern(src, k, (size_t)i));
                    bad++;
                    break;
                }
            }
        }
    }
    return bad;
}

static int check_ring_and_collectives(int rank, int size)
{
    int bad = 0, right = (rank + 1) % size, left = (rank + size - 1) % size;
    unsigned char b[BCAST_BYTES];
    for (int round = 0; round < ROUNDS && bad == 0; round++) {
        int out = rank * 1000 + round, in = -1;
        MPI_Sendrecv(&out, 1, MPI_INT, right, round, &in, 1, MPI_INT, left, round, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        if (in != left * 1000 + round) {
            printf("rank=%d round %d: ring brought %d, not %d\n", rank, round, in,
                   left * 1000 + round);
            bad++;
        }
        MPI_Barrier(MPI_COMM_WORLD);
        int root = round % size;
        for (int i = 0; i < BCAST_BYTES; i++) {
            b[i] = rank == root ? pattern(root, round, (size_t)i) : 0;
        }
        MPI_Bcast(b, BCAST_BYTES, MPI_BYTE, root, MPI_COMM_WORLD);
        for (int i = 0; i < BCAST_BYTES; i++) {
            if (b[i] != pattern(root, round, (size_t)i)) {
                printf("rank=%d round %d: bcast byte %d is %u\n", rank, round, i, b[i]);
                bad++;
                break;
            }
        }
        long mine = rank + round, sum = 0, want = 0;
        for (int r = 0; r < size; r++) {
            want += r + round;
        }
        MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (sum != want) {
            printf("rank=%d round %d: allreduce gave %ld, not %ld\n", rank, round, sum, want);
            bad++;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    unsigned char *buf = malloc((size_t)sizes[2]);
    if (buf == NULL) {
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int bad = check_late_senders(rank, size, buf);
    bad += check_ring_and_collectives(rank, size);
    free(buf);
    if (bad == 0) {
        printf("rank=%d crowded checks passed\n", rank);
    }
    fflush(stdout);
    MPI_Finalize();
    return bad != 0;
}
