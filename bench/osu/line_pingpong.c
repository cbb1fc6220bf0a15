/* The floor under any shared-memory latency on this machine: one cache
 * line's flag bounced between two processes pinned to two CPUs, nothing
 * else. Half a round trip is the least a message can take from one core
 * to the other, whatever the MPI; osu_latency's figures are read against
 * it (docs/PERFORMANCE.md).
 *   line_pingpong [--cpus A,B] [--rounds N]
 * Prints "one-way ns: X" (the median of 5 runs of N round trips). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/bench_util.h"

#define LINE_PINGPONG_USAGE                                                                        \
    "usage: line_pingpong [--cpus A,B] [--rounds N]\n"                                             \
    "One cache line bounced between CPUs A and B (default 0,1); prints the one-way time.\n"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int cpu_a = 0, cpu_b = 1;
    long rounds = 200000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cpus") && i + 1 < argc &&
            sscanf(argv[i + 1], "%d,%d", &cpu_a, &cpu_b) == 2) {
            i++;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc && atol(argv[i + 1]) > 0) {
            rounds = atol(argv[++i]);
        } else {
            return bench_usage("line_pingpong", LINE_PINGPONG_USAGE, argv[i]);
        }
    }
    /* Two flags on their own lines: each side writes one and polls the other. */
    _Atomic long *ping =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ping == MAP_FAILED) {
        perror("line_pingpong: mmap");
        return 1;
    }
    _Atomic long *pong = ping + 8;
    enum { RUNS = 5 };
    pid_t child = fork();
    if (child < 0) {
        perror("line_pingpong: fork");
        return 1;
    }
    if (pin(child == 0 ? cpu_b : cpu_a) != 0) {
        fprintf(stderr, "line_pingpong: cannot pin to CPU %d\n", child == 0 ? cpu_b : cpu_a);
        if (child == 0) {
            _exit(1);
        }
        kill(child, SIGKILL);
        return 1;
    }
    long total = rounds * RUNS;
    if (child == 0) {
        for (long i = 1; i <= total; i++) {
            while (atomic_load_explicit(ping, memory_order_acquire) != i) {
            }
            atomic_store_explicit(pong, i, memory_order_release);
        }
        _exit(0);
    }
    double runs[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        for (long i = r * rounds + 1; i <= (r + 1) * rounds; i++) {
            atomic_store_explicit(ping, i, memory_order_release);
            while (atomic_load_explicit(pong, memory_order_acquire) != i) {
            }
        }
        runs[r] = (now_s() - t0) / (double)rounds / 2 * 1e9;
    }
    int status;
    waitpid(child, &status, 0);
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    printf("one-way ns: %.1f\n", runs[RUNS / 2]);
    return 0;
}
