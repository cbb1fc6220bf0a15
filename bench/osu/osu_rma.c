/* OSU-style one-sided benchmarks against plain mpi.h, so that the same file
 * builds with mrail's, Open MPI's and MPICH's mpicc. Rank 0 is the origin,
 * rank 1 the target, which waits in MPI_Barrier (inside MPI, as OSU's
 * targets do); a window from MPI_Win_allocate, one passive-target epoch
 * (MPI_Win_lock_all) per measurement, as osu_put_latency's default.
 *   osu_rma put_lat|get_lat|put_bw|get_bw|acc_lat|fop_rate [--min BYTES] [--max BYTES]
 *           [--iters N]
 * put_lat / get_lat: one put (get) and MPI_Win_flush, in us;
 * put_bw / get_bw: a window of 64 puts (gets), then a flush, MB/s (10^6);
 * acc_lat: MPI_Accumulate of size bytes of doubles (MPI_SUM) and a flush, us;
 * fop_rate: MPI_Fetch_and_op (int64, MPI_SUM) and a flush, operations per second
 * (one size: 8).
 * Output: "size value" per line, after a # header. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 64

static int iters_override;

static int iters_for(size_t size, int small, int large)
{
    return iters_override > 0 ? iters_override : size <= 8192 ? small : large;
}

/* One measurement: iters rounds of (window operations, then a flush). */
static double measure(const char *mode, char *local, size_t size, MPI_Win win)
{
    int bw = strstr(mode, "_bw") != NULL;
    int window = bw ? WINDOW : 1;
    int iters = bw ? iters_for(size, 100, 10) : iters_for(size, 5000, 100);
    int skip = iters / 10 + 1;
    int count = (int)size;
    int64_t one = 1, old;
    double t0 = 0;
    MPI_Win_lock_all(0, win);
    for (int i = 0; i < iters + skip; i++) {
        if (i == skip) {
            t0 = MPI_Wtime();
        }
        for (int w = 0; w < window; w++) {
            if (strncmp(mode, "put", 3) == 0) {
                MPI_Put(local, count, MPI_CHAR, 1, 0, count, MPI_CHAR, win);
            } else if (strncmp(mode, "get", 3) == 0) {
                MPI_Get(local, count, MPI_CHAR, 1, 0, count, MPI_CHAR, win);
            } else if (strcmp(mode, "acc_lat") == 0) {
                MPI_Accumulate(local, count / 8, MPI_DOUBLE, 1, 0, count / 8, MPI_DOUBLE, MPI_SUM,
                               win);
            } else {
                MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 1, 0, MPI_SUM, win);
            }
        }
        MPI_Win_flush(1, win);
    }
    double t = MPI_Wtime() - t0;
    MPI_Win_unlock_all(win);
    if (bw) {
        return (double)size * window * iters / t / 1e6;
    }
    if (strcmp(mode, "fop_rate") == 0) {
        return iters / t;
    }
    return t * 1e6 / iters;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "";
    size_t min = 1, max = 4194304;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--max")) {
            max = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--min")) {
            min = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--iters")) {
            iters_override = atoi(argv[i + 1]);
        }
    }
    const char *modes[] = {"put_lat", "get_lat", "put_bw", "get_bw", "acc_lat", "fop_rate"};
    int known = 0;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        known |= strcmp(mode, modes[k]) == 0;
    }
    if (!known || size != 2) {
        if (rank == 0) {
            fprintf(stderr,
                    "usage: mpirun -n 2 osu_rma put_lat|get_lat|put_bw|get_bw|acc_lat|fop_rate "
                    "[--min BYTES] [--max BYTES] [--iters N]%s\n",
                    known ? " (2 ranks exactly)" : "");
        }
        MPI_Finalize();
        return 2;
    }
    if (strcmp(mode, "fop_rate") == 0) {
        min = max = 8;
    } else if (strcmp(mode, "acc_lat") == 0 && min < 8) {
        min = 8;
    }
    char *local = malloc(max), *mem;
    memset(local, 1, max);
    MPI_Win win;
    MPI_Win_allocate((MPI_Aint)max, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    memset(mem, 0, max);
    if (rank == 0) {
        printf("# osu_rma %s\n", mode);
    }
    for (size_t s = min; s <= max; s *= (strstr(mode, "_bw") ? 4 : 2)) {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            double v = measure(mode, local, s, win);
            printf("%zu %.3f\n", s, v);
            fflush(stdout);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
    MPI_Win_free(&win);
    free(local);
    MPI_Finalize();
    return 0;
}
