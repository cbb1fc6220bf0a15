/* How fast one copy runs when its destination lies 16 bytes past its
 * source in a page (the pair include/mrail/copy.h is about) against the
 * same copy 64 bytes apart: glibc's memcpy, mrail_copy, and the kernel's
 * copy behind process_vm_readv from a child process (CMA). GB/s (10^9),
 * medians of 7. No MPI, no mrail transport involved.
 *   copy_alias [--max BYTES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/bench_util.h"

#include "mrail/copy.h"

#define COPY_ALIAS_USAGE                                                                           \
    "usage: copy_alias [--max BYTES]\n"                                                            \
    "GB/s of memcpy, mrail_copy and CMA with the destination 16 and 64 bytes past the\n"           \
    "source in a page, sizes up to --max (default 4 MiB); medians of 7.\n"

#define REPS 7

enum { WAY_MEMCPY, WAY_MRAIL, WAY_CMA };

/* One pass of iters copies of n bytes from src to dst, the given way. */
static void copy_once(int way, pid_t child, char *dst, char *src, size_t n)
{
    if (way == WAY_MEMCPY) {
        memcpy(dst, src, n);
    } else if (way == WAY_MRAIL) {
        mrail_copy(dst, src, n);
    } else {
        struct iovec l = {dst, n}, r = {src, n};
        if (process_vm_readv(child, &l, 1, &r, 1, 0) != (ssize_t)n) {
            perror("copy_alias: process_vm_readv");
            exit(1);
        }
    }
    __asm__ volatile("" : : "r"(dst) : "memory");
}

static double rate(int way, pid_t child, char *dst, char *src, size_t n)
{
    double r[REPS];
    size_t iters = ((size_t)256 << 20) / n;
    for (int k = 0; k < REPS; k++) {
        double t0 = bench_now();
        for (size_t i = 0; i < iters; i++) {
            copy_once(way, child, dst, src, n);
        }
        r[k] = (double)(iters * n) / (bench_now() - t0) / 1e9;
    }
    qsort(r, REPS, sizeof(r[0]), bench_cmp_double);
    return r[REPS / 2];
}

int main(int argc, char **argv)
{
    size_t max = 4u << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc) {
            max = strtoull(argv[++i], NULL, 0);
        } else {
            return bench_usage("copy_alias", COPY_ALIAS_USAGE, argv[i]);
        }
    }
    if (max < 4096) {
        fprintf(stderr, "copy_alias: --max %zu: give 4096 or more\n", max);
        return 2;
    }
    char *src, *dst;
    if (bench_buffers("copy_alias", max + 4096, &src, &dst) != 0) {
        return 1;
    }
    int go;
    pid_t child = bench_holder_start(&go); /* holds src at the same address */
    if (child < 0) {
        return 1;
    }
    printf("# copy_alias: GB/s, medians of %d; +16: destination 16 bytes past the source in a "
           "page, +64: 64 bytes past\n",
           REPS);
    printf("# %9s %12s %12s %12s %12s %12s\n", "size(B)", "memcpy+64", "memcpy+16", "mrail_copy+16",
           "cma+64", "cma+16");
    for (size_t n = 4096; n <= max; n *= 4) {
        printf("%11zu %12.1f %12.1f %12.1f %12.1f %12.1f\n", n,
               rate(WAY_MEMCPY, child, dst + 64, src, n), rate(WAY_MEMCPY, child, dst + 16, src, n),
               rate(WAY_MRAIL, child, dst + 16, src, n), rate(WAY_CMA, child, dst + 64, src, n),
               rate(WAY_CMA, child, dst + 16, src, n));
        fflush(stdout);
    }
    int rc = bench_holder_end(child, go) == 0 ? 0 : 1;
    free(src);
    free(dst);
    return rc;
}
