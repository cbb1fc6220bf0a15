/* What one small message costs in instructions, for bench/osu/msg_instr.sh
 * to count under callgrind: the same file builds with mrail's, Open MPI's
 * and MPICH's mpicc. Rank 0 sends an 8-byte message to rank 1, sleeps
 * outside MPI while rank 1 receives it and sends it back, then receives
 * the reply, which is there by then: its MPI_Send and MPI_Recv are the
 * whole path of one message out and one message in, without the polls
 * that find nothing (their number depends on timing, not on the stack).
 * --count send|recv has callgrind (run with --collect-atstart=no) count
 * only rank 0's MPI_Send or MPI_Recv calls after --warmup iterations.
 * --count poll counts instead one MPI_Test of the reply's receive, posted
 * (MPI_Irecv) and tested before the message goes out, so nothing can be
 * there: the cost of one idle look at every transport, which a waiting
 * rank repeats until its message comes (the reply is then waited for).
 * --count window counts the receiving side of a message-rate window as
 * osu_mbw_mr runs it: rank 0 posts WINDOW MPI_Irecv, tells rank 1 to go,
 * sleeps outside MPI while rank 1 sends the WINDOW messages, then
 * MPI_Waitall; the Irecvs and the Waitall are counted (divide by WINDOW).
 *   msg_instr [--iters N] [--warmup N] [--size BYTES] [--sleep-us US]
 *             [--count send|recv|poll|window]
 * Rank 0 checks every byte of every reply; it prints "ok N" or the first
 * bad byte and exits 1. */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

#define WINDOW 64

static long arg_long(const char *flag, const char *text, long lo, long hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "msg_instr: %s takes an integer in %ld..%ld, not '%s'\n", flag, lo, hi,
                text);
        exit(2);
    }
    return v;
}

static void nap(long us)
{
    struct timespec t = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

/* --count window: rank 0 receives WINDOW messages per round into in
 * (WINDOW * size bytes); 0, or 1 after naming the first bad byte. */
static int rate_window(int rank, unsigned char *in, long size, long warmup, long iters,
                       long sleep_us)
{
    MPI_Request reqs[WINDOW];
    unsigned char go = 1;
    for (long i = 0; i < warmup + iters; i++) {
        if (rank == 1) {
            MPI_Recv(&go, 1, MPI_BYTE, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (int w = 0; w < WINDOW; w++) {
                for (long b = 0; b < size; b++) {
                    in[b] = (unsigned char)(i * 31 + w * 7 + b);
                }
                MPI_Send(in, (int)size, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
            }
            continue;
        }
        bool counted = i >= warmup;
        if (counted) {
            CALLGRIND_TOGGLE_COLLECT;
        }
        for (int w = 0; w < WINDOW; w++) {
            MPI_Irecv(in + w * size, (int)size, MPI_BYTE, 1, 7, MPI_COMM_WORLD, &reqs[w]);
        }
        if (counted) {
            CALLGRIND_TOGGLE_COLLECT;
        }
        MPI_Send(&go, 1, MPI_BYTE, 1, 8, MPI_COMM_WORLD);
        nap(sleep_us);
        if (counted) {
            CALLGRIND_TOGGLE_COLLECT;
        }
        MPI_Waitall(WINDOW, reqs, MPI_STATUSES_IGNORE);
        if (counted) {
            CALLGRIND_TOGGLE_COLLECT;
        }
        for (int w = 0; w < WINDOW; w++) {
            for (long b = 0; b < size; b++) {
                if (in[w * size + b] != (unsigned char)(i * 31 + w * 7 + b)) {
                    fprintf(stderr, "msg_instr: round %ld message %d byte %ld is %u\n", i, w, b,
                            in[w * size + b]);
                    return 1;
                }
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    long iters = 100, warmup = 100, size = 8, sleep_us = 2000;
    int count = 0; /* 1: MPI_Send, 2: MPI_Recv, 3: MPI_Test finding nothing, 4: a window */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: msg_instr [--iters N] [--warmup N] [--size BYTES] [--sleep-us US] "
                   "[--count send|recv|poll|window] (2 ranks)\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "msg_instr: %s needs a value (see --help)\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--iters")) {
            iters = arg_long("--iters", argv[++i], 1, 100000000);
        } else if (!strcmp(argv[i], "--warmup")) {
            warmup = arg_long("--warmup", argv[++i], 0, 100000000);
        } else if (!strcmp(argv[i], "--count")) {
            i++;
            count = !strcmp(argv[i], "send")     ? 1
                    : !strcmp(argv[i], "recv")   ? 2
                    : !strcmp(argv[i], "poll")   ? 3
                    : !strcmp(argv[i], "window") ? 4
                                                 : -1;
            if (count < 0) {
                fprintf(stderr, "msg_instr: --count takes send, recv, poll or window, not '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--size")) {
            size = arg_long("--size", argv[++i], 1, 4096);
        } else if (!strcmp(argv[i], "--sleep-us")) {
            sleep_us = arg_long("--sleep-us", argv[++i], 0, 10000000);
        } else {
            fprintf(stderr, "msg_instr: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks != 2) {
        if (rank == 0) {
            fprintf(stderr, "msg_instr: runs on 2 ranks, not %d\n", nranks);
        }
        MPI_Finalize();
        return 2;
    }
    unsigned char *out = malloc((size_t)size), *in = malloc((size_t)size * WINDOW);
    if (out == NULL || in == NULL) {
        fprintf(stderr, "msg_instr: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int bad = 0;
    if (count == 4) {
        bad = rate_window(rank, in, size, warmup, iters, sleep_us);
    }
    for (long i = 0; count != 4 && i < warmup + iters && !bad; i++) {
        if (rank == 0) {
            bool counted = i >= warmup;
            for (long b = 0; b < size; b++) {
                out[b] = (unsigned char)(i * 31 + b);
            }
            MPI_Request reply = MPI_REQUEST_NULL;
            if (count == 3) {
                int flag = 0;
                MPI_Irecv(in, (int)size, MPI_BYTE, 1, 7, MPI_COMM_WORLD, &reply);
                if (counted) {
                    CALLGRIND_TOGGLE_COLLECT;
                }
                MPI_Test(&reply, &flag, MPI_STATUS_IGNORE);
                if (counted) {
                    CALLGRIND_TOGGLE_COLLECT;
                }
                if (flag) {
                    fprintf(stderr, "msg_instr: a reply came before its message went out\n");
                    MPI_Abort(MPI_COMM_WORLD, 1);
                }
            }
            if (counted && count == 1) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            MPI_Send(out, (int)size, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
            if (counted && count == 1) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            nap(sleep_us);
            if (counted && count == 2) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            if (count == 3) {
                MPI_Wait(&reply, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(in, (int)size, MPI_BYTE, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            }
            if (counted && count == 2) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            for (long b = 0; b < size && !bad; b++) {
                if (in[b] != (unsigned char)(out[b] ^ 0x5a)) {
                    fprintf(stderr, "msg_instr: reply %ld byte %ld is %u, expected %u\n", i, b,
                            in[b], out[b] ^ 0x5a);
                    bad = 1;
                }
            }
        } else {
            MPI_Recv(in, (int)size, MPI_BYTE, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (long b = 0; b < size; b++) {
                in[b] ^= 0x5a;
            }
            MPI_Send(in, (int)size, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
        }
    }
    if (rank == 0 && !bad) {
        printf("ok %ld\n", iters);
    }
    free(out);
    free(in);
    if (bad) {
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
    return 0;
}
