/* OSU-style point-to-point benchmarks written against plain mpi.h, so that
 * the same file builds with mrail's, Open MPI's and MPICH's mpicc.
 *   osu_p2p latency|bw|bibw|mbw_mr [--min BYTES] [--max BYTES] [--iters N]
 * latency: ping-pong, half the round trip in us; bw: rank 0 streams a
 * window of 64 messages, rank 1 acks each window, MB/s; bibw: both stream
 * at once, MB/s summed; mbw_mr: bw's loop as osu_mbw_mr reports it for one
 * pair, messages per second. --min 0 also measures empty messages.
 * --rbuf-offset N: both buffers page-aligned as OSU's are, the receive
 * buffer N bytes into its page (without it both come from malloc).
 * Output: "size value" per line, after a # header. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 64

static int iters_override; /* --iters: for slow links */

static int iters_for(size_t size, int small, int large)
{
    return iters_override > 0 ? iters_override : size <= 8192 ? small : large;
}

static double latency(char *buf, size_t size, int rank)
{
    int iters = iters_for(size, 10000, 200), skip = iters / 10;
    double t0 = 0;
    for (int i = 0; i < iters + skip; i++) {
        if (i == skip) {
            t0 = MPI_Wtime();
        }
        if (rank == 0) {
            MPI_Send(buf, (int)size, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
            MPI_Recv(buf, (int)size, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, (int)size, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, (int)size, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
        }
    }
    return (MPI_Wtime() - t0) * 1e6 / iters / 2;
}

static double bandwidth(char *sbuf, char *rbuf, size_t size, int rank, int both)
{
    int iters = iters_for(size, 100, 20), skip = 2;
    MPI_Request reqs[2 * WINDOW];
    char ack = 0;
    double t0 = 0;
    for (int i = 0; i < iters + skip; i++) {
        if (i == skip) {
            t0 = MPI_Wtime();
        }
        int n = 0;
        if (rank == 0 || both) {
            for (int w = 0; w < WINDOW; w++) {
                MPI_Isend(sbuf, (int)size, MPI_CHAR, 1 - rank, 2, MPI_COMM_WORLD, &reqs[n++]);
            }
        }
        if (rank == 1 || both) {
            for (int w = 0; w < WINDOW; w++) {
                MPI_Irecv(rbuf, (int)size, MPI_CHAR, 1 - rank, 2, MPI_COMM_WORLD, &reqs[n++]);
            }
        }
        MPI_Waitall(n, reqs, MPI_STATUSES_IGNORE);
        if (rank == 1) {
            MPI_Send(&ack, 1, MPI_CHAR, 0, 3, MPI_COMM_WORLD);
        } else {
            MPI_Recv(&ack, 1, MPI_CHAR, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    }
    double t = MPI_Wtime() - t0;
    return (double)size * WINDOW * iters * (both ? 2 : 1) / t / 1e6;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "";
    size_t max = 4u << 20, min = 1;
    long roff = -1; /* --rbuf-offset */
    for (int i = 2; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--max")) {
            max = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--min")) {
            min = strtoull(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--iters")) {
            iters_override = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--rbuf-offset")) {
            char *end;
            roff = strtol(argv[i + 1], &end, 10);
            roff = *argv[i + 1] != '\0' && *end == '\0' ? roff : -2; /* not a number: usage */
        }
    }
    int mr = !strcmp(mode, "mbw_mr");
    int known = !strcmp(mode, "latency") || !strcmp(mode, "bw") || !strcmp(mode, "bibw") || mr;
    if (size != 2 || !known || roff < -1 || roff > 4095) {
        if (rank == 0) {
            fprintf(stderr,
                    "usage: mpirun -n 2 osu_p2p latency|bw|bibw|mbw_mr [--min BYTES] [--max BYTES] "
                    "[--iters N] [--rbuf-offset 0..4095]\n");
        }
        MPI_Finalize();
        return 2;
    }
    char *sbuf, *rbuf, *rmem = NULL;
    if (roff < 0) {
        sbuf = malloc(max ? max : 1);
        rbuf = malloc(max ? max : 1);
    } else if (posix_memalign((void **)&sbuf, 4096, max ? max : 1) != 0 ||
               posix_memalign((void **)&rmem, 4096, max + (size_t)roff + 1) != 0) {
        fprintf(stderr, "osu_p2p: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 1;
    } else {
        rbuf = rmem + roff;
    }
    memset(sbuf, 'a', max);
    memset(rbuf, 'b', max);
    if (rank == 0) {
        printf("# osu_p2p %s: size(B) %s\n", mode,
               !strcmp(mode, "latency") ? "us"
               : mr                     ? "messages/s"
                                        : "MB/s");
    }
    for (size_t s = min; s <= max; s = s ? 2 * s : 1) {
        double v = !strcmp(mode, "latency") ? latency(sbuf, s, rank)
                                            : bandwidth(sbuf, rbuf, s, rank, !strcmp(mode, "bibw"));
        if (mr) {
            v = s > 0 ? v * 1e6 / (double)s : 0; /* MB/s -> messages/s */
        }
        if (rank == 0) {
            printf(strcmp(mode, "latency") == 0 ? "%zu %.3f\n" : "%zu %.2f\n", s, v);
            fflush(stdout);
        }
    }
    free(sbuf);
    free(rmem != NULL ? rmem : rbuf);
    MPI_Finalize();
    return 0;
}
