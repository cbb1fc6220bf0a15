/* Streams from rank 0 to rank 1 for a number of seconds and prints, every
 * interval, the wall-clock time and the bandwidth rank 1 received in it, so
 * that a rail cut and its return show as a curve.
 *   stream_timeline [--seconds S] [--interval-ms MS] [--size BYTES]
 * Output (rank 1): "# unix_time MB/s" then one "t rate" line per interval. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 8

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double seconds = 15, interval = 0.1;
    size_t size = 1 << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
            interval = atof(argv[++i]) / 1000;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            size = strtoull(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "usage: stream_timeline [--seconds S] [--interval-ms MS] [--size B]\n");
            return 2;
        }
    }
    MPI_Init(&argc, &argv);
    int rank, size_world;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size_world);
    if (size_world != 2) {
        if (rank == 0) {
            fprintf(stderr, "stream_timeline: run it with 2 ranks, not %d\n", size_world);
        }
        MPI_Finalize();
        return 2;
    }
    char *buf = malloc(size * WINDOW);
    memset(buf, 1, size * WINDOW);
    MPI_Request reqs[WINDOW];
    int more = 1;
    double start = wall(), mark = start;
    size_t bytes = 0;
    if (rank == 1) {
        printf("# unix_time MB/s\n");
    }
    while (more) {
        for (int k = 0; k < WINDOW; k++) {
            if (rank == 0) {
                MPI_Isend(buf + k * size, (int)size, MPI_CHAR, 1, k, MPI_COMM_WORLD, &reqs[k]);
            } else {
                MPI_Irecv(buf + k * size, (int)size, MPI_CHAR, 0, k, MPI_COMM_WORLD, &reqs[k]);
            }
        }
        MPI_Waitall(WINDOW, reqs, MPI_STATUSES_IGNORE);
        if (rank == 1) {
            bytes += size * WINDOW;
            double now = wall();
            if (now - mark >= interval) {
                printf("%.3f %.2f\n", now, (double)bytes / (now - mark) / 1e6);
                fflush(stdout);
                bytes = 0;
                mark = now;
            }
            more = now - start < seconds;
            MPI_Send(&more, 1, MPI_INT, 0, 99, MPI_COMM_WORLD);
        } else {
            MPI_Recv(&more, 1, MPI_INT, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
