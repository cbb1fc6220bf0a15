/* A memory-bandwidth load for benchmarks: streams memcpy between two
 * 64 MiB buffers (far beyond the last-level cache) until killed, as an
 * application's own memory traffic would beside its MPI messages. Pin it
 * with taskset to share a core with a rank. On SIGTERM/SIGINT it prints
 * the GB/s it streamed to stderr.
 *   memload [--mib N] */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/bench_util.h"

#define MEMLOAD_USAGE                                                                              \
    "usage: memload [--mib N]\n"                                                                   \
    "Streams memcpy between two N MiB buffers (default 64) until SIGINT or SIGTERM, then\n"        \
    "prints the GB/s it copied to standard error. Pin it with taskset.\n"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    size_t mib = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
            mib = strtoull(argv[++i], NULL, 0);
        } else {
            return bench_usage("memload", MEMLOAD_USAGE, argv[i]);
        }
    }
    if (mib == 0) {
        fprintf(stderr, "memload: --mib must be at least 1\n");
        return 2;
    }
    size_t n = mib << 20;
    char *a = malloc(n), *b = malloc(n);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "memload: cannot allocate 2 x %zu MiB\n", mib);
        return 1;
    }
    memset(a, 1, n);
    memset(b, 2, n);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double bytes = 0;
    while (!stop) {
        memcpy(b, a, n);
        memcpy(a, b, n);
        bytes += 2.0 * (double)n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "memload: %.1f GB/s copied over %.1f s\n", bytes / s / 1e9, s);
    free(a);
    free(b);
    return 0;
}
