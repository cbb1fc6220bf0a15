/* 8-byte ping-pong latency between ranks 0 and 1 while rank 0 streams one
 * 64 MiB message to rank 1: how long small messages wait behind a stripe.
 *   mrun -n 2 ... latency_under_load
 * Prints the median and the largest of 20 half round trips, and whether
 * the stream was still going when the pings ended (else they measured an
 * idle path). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

enum { PINGS = 20, BIG = 64 << 20 };

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) {
        if (rank == 0) {
            fprintf(stderr, "latency_under_load: run it with 2 ranks, not %d\n", size);
        }
        MPI_Finalize();
        return 2;
    }
    char *big = calloc(1, BIG), ping[8] = {0};
    double lat[PINGS];
    MPI_Request stream;
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        MPI_Isend(big, BIG, MPI_CHAR, 1, 1, MPI_COMM_WORLD, &stream);
        for (int i = 0; i < PINGS; i++) {
            double t0 = MPI_Wtime();
            MPI_Send(ping, 8, MPI_CHAR, 1, 2, MPI_COMM_WORLD);
            MPI_Recv(ping, 8, MPI_CHAR, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            lat[i] = (MPI_Wtime() - t0) / 2 * 1e6;
        }
        int done = 0;
        MPI_Test(&stream, &done, MPI_STATUS_IGNORE);
        MPI_Wait(&stream, MPI_STATUS_IGNORE);
        qsort(lat, PINGS, sizeof(double), cmp);
        printf("8-byte latency during a 64 MiB stream: median %.0f us, max %.0f us (stream %s "
               "when the pings ended)\n",
               lat[PINGS / 2], lat[PINGS - 1], done ? "done" : "still going");
    } else {
        MPI_Irecv(big, BIG, MPI_CHAR, 0, 1, MPI_COMM_WORLD, &stream);
        for (int i = 0; i < PINGS; i++) {
            MPI_Recv(ping, 8, MPI_CHAR, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(ping, 8, MPI_CHAR, 0, 2, MPI_COMM_WORLD);
        }
        MPI_Wait(&stream, MPI_STATUS_IGNORE);
    }
    free(big);
    MPI_Finalize();
    return 0;
}
