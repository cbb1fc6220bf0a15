/* glibc's memcpy against mrail_copy's vector loop (include/mrail/copy.h)
 * for copies of one size, two ways: "resident", the same n bytes copied
 * over and over (they stay in the core's caches), and "streaming", a 4 MiB
 * span copied in pieces of n bytes (the way a put or a ring's fragments
 * move data: each piece misses the core's L1 and L2). The destination is
 * page-aligned, the source off bytes into a page. The two ways of copying
 * alternate, rep by rep, each first in every other rep, so that a change of
 * the machine's speed hits both.
 * GB/s (10^9), medians of 15. No MPI, no mrail transport involved.
 *   copy_stream [--off BYTES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/bench_util.h"

#include "mrail/copy.h"

#define COPY_STREAM_USAGE                                                                          \
    "usage: copy_stream [--off BYTES]\n"                                                           \
    "GB/s of glibc's memcpy against mrail_copy's loop, copies resident in the caches and\n"        \
    "streaming through 4 MiB; the source --off bytes into a page (default 16, 0..4095).\n"

#define REPS 15
#define SPAN (4u << 20)

/* GB/s of copying span bytes in pieces of n, memcpy (loop false) or the loop. */
static double pass(bool loop, char *dst, const char *src, size_t n, size_t span)
{
    size_t laps = ((size_t)256 << 20) / span;
    double t0 = bench_now();
    for (size_t l = 0; l < laps; l++) {
        for (size_t at = 0; at < span; at += n) {
            if (loop) {
                mrail_copy_loop(dst + at, src + at, n);
            } else {
                memcpy(dst + at, src + at, n);
            }
            __asm__ volatile("" : : "r"(dst) : "memory");
        }
    }
    return (double)(laps * span) / (bench_now() - t0) / 1e9;
}

/* Medians of REPS alternating passes: out[0] memcpy, out[1] the loop. */
static void compare(char *dst, const char *src, size_t n, size_t span, double out[2])
{
    double r[2][REPS];
    for (int k = 0; k < REPS; k++) { /* each way goes first in every other rep */
        bool loop_first = k % 2 == 1;
        r[loop_first][k] = pass(loop_first, dst, src, n, span);
        r[!loop_first][k] = pass(!loop_first, dst, src, n, span);
    }
    for (int w = 0; w < 2; w++) {
        qsort(r[w], REPS, sizeof(r[w][0]), bench_cmp_double);
        out[w] = r[w][REPS / 2];
    }
}

int main(int argc, char **argv)
{
    long off = 16;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--off") && i + 1 < argc) {
            off = strtol(argv[++i], &end, 0);
            if (*end != '\0' || off < 0 || off > 4095) {
                fprintf(stderr, "copy_stream: --off %s: give 0..4095\n", argv[i]);
                return 2;
            }
        } else {
            return bench_usage("copy_stream", COPY_STREAM_USAGE, argv[i]);
        }
    }
    char *src, *dst;
    if (bench_buffers("copy_stream", SPAN + 4096, &src, &dst) != 0) {
        return 1;
    }
    printf("# copy_stream: GB/s, medians of %d; source %ld bytes into a page, destination "
           "page-aligned\n",
           REPS, off);
    printf("# %9s %12s %12s %7s %12s %12s %7s\n", "size(B)", "resident:mc", "loop", "ratio",
           "stream:mc", "loop", "ratio");
    for (size_t n = 4096; n <= SPAN; n *= 4) {
        double res[2], str[2];
        compare(dst, src + off, n, n, res);
        compare(dst, src + off, n, SPAN, str);
        printf("%11zu %12.1f %12.1f %7.2f %12.1f %12.1f %7.2f\n", n, res[0], res[1],
               res[1] / res[0], str[0], str[1], str[1] / str[0]);
        fflush(stdout);
    }
    free(src);
    free(dst);
    return 0;
}
