/* OSU-style collective latency, written against mpi.h only, so that the
 * same source builds with any MPI (bench/osu/coll_compare.sh).
 *   mpirun -n N osu_coll allreduce|bcast|alltoall|barrier [--min BYTES] [--max BYTES] [--iters N]
 * Prints "size avg_latency_us" per message size: the time of one call,
 * averaged over the iterations and then over the ranks (as OSU does), with
 * a barrier between calls that is not timed. For alltoall the size is per
 * peer; barrier has one line, of size 0. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "";
    size_t min = 4, max = 1 << 20;
    int iters_override = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--min")) {
            min = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--max")) {
            max = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--iters")) {
            iters_override = atoi(argv[i + 1]);
        }
    }
    int op = !strcmp(mode, "allreduce")  ? 0
             : !strcmp(mode, "bcast")    ? 1
             : !strcmp(mode, "alltoall") ? 2
             : !strcmp(mode, "barrier")  ? 3
                                         : -1;
    if (op == 3) {
        min = max = 1; /* one round, reported as size 0 */
    }
    if (op < 0 || min == 0 || min > max) {
        if (rank == 0) {
            fprintf(stderr, "usage: mpirun -n N osu_coll allreduce|bcast|alltoall|barrier [--min "
                            "BYTES] [--max BYTES] [--iters N]\n");
        }
        MPI_Finalize();
        return 2;
    }
    size_t per = op == 2 ? (size_t)size : 1;
    char *sbuf = malloc(max * per), *rbuf = malloc(max * per);
    memset(sbuf, 1, max * per);
    if (rank == 0) {
        printf("# osu_coll %s on %d ranks: size(B) avg latency(us)\n", mode, size);
    }
    for (size_t bytes = min; bytes <= max; bytes *= 2) {
        int iters = iters_override > 0 ? iters_override : bytes <= 8192 ? 1000 : 100;
        int skip = iters / 10;
        int count = (int)(bytes / sizeof(float));
        double total = 0;
        for (int i = 0; i < iters + skip; i++) {
            double t0 = MPI_Wtime();
            if (op == 0) {
                MPI_Allreduce(sbuf, rbuf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            } else if (op == 1) {
                MPI_Bcast(sbuf, (int)bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
            } else if (op == 2) {
                MPI_Alltoall(sbuf, (int)bytes, MPI_CHAR, rbuf, (int)bytes, MPI_CHAR,
                             MPI_COMM_WORLD);
            } else {
                MPI_Barrier(MPI_COMM_WORLD);
            }
            double t = MPI_Wtime() - t0;
            if (i >= skip) {
                total += t;
            }
            MPI_Barrier(MPI_COMM_WORLD);
        }
        double mine = total * 1e6 / iters, sum = 0;
        MPI_Reduce(&mine, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("%zu %.2f\n", op == 3 ? 0 : bytes, sum / size);
            fflush(stdout);
        }
    }
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
