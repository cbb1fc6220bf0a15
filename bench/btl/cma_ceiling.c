/* The ceiling of Cross Memory Attach on this machine: process_vm_readv from
 * a child process against memcpy, same sizes, same buffers, no mrail
 * involved. btl/sm's CMA path cannot beat this. Medians of 7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/bench_util.h"

#define CMA_CEILING_USAGE                                                                          \
    "usage: cma_ceiling\n"                                                                         \
    "MB/s of process_vm_readv from a child process against memcpy, 1-64 MiB; medians of 7.\n"

int main(int argc, char **argv)
{
    if (argc > 1) {
        return bench_usage("cma_ceiling", CMA_CEILING_USAGE, argv[1]);
    }
    const size_t max = 64u << 20;
    char *src = malloc(max), *dst = malloc(max);
    memset(src, 1, max);
    memset(dst, 2, max);
    int go;
    pid_t child = bench_holder_start(&go); /* holds src at the same address */
    if (child < 0) {
        return 1;
    }
    printf("# %10s %14s %14s %8s\n", "size(B)", "cma(MB/s)", "memcpy(MB/s)", "ratio");
    for (size_t s = 1u << 20; s <= max; s *= 4) {
        int n = s <= (4u << 20) ? 32 : 4;
        double cma[7], mc[7];
        for (int r = 0; r < 7; r++) {
            double t0 = bench_now();
            for (int i = 0; i < n; i++) {
                struct iovec l = {dst, s}, rem = {src, s};
                if (process_vm_readv(child, &l, 1, &rem, 1, 0) != (ssize_t)s) {
                    perror("cma_ceiling: process_vm_readv");
                    return 1;
                }
            }
            cma[r] = (double)s * n / (bench_now() - t0) / 1e6;
            t0 = bench_now();
            for (int i = 0; i < n; i++) {
                memcpy(dst, src, s);
                __asm__ volatile("" : : "r"(dst) : "memory");
            }
            mc[r] = (double)s * n / (bench_now() - t0) / 1e6;
        }
        qsort(cma, 7, sizeof(double), bench_cmp_double);
        qsort(mc, 7, sizeof(double), bench_cmp_double);
        printf("  %10zu %14.0f %14.0f %8.2f\n", s, cma[3], mc[3], cma[3] / mc[3]);
    }
    int rc = bench_holder_end(child, go);
    free(src);
    free(dst);
    return rc == 0 ? 0 : 1;
}
