/* What the stand-alone C benchmarks share: their answer to --help and to
 * an argument they do not take, a monotonic clock in seconds,
 * the comparison qsort needs for a median of doubles, a pair of
 * page-aligned buffers to copy between, and a child process
 * that holds a copy of the parent's memory, at the same addresses, for
 * process_vm_readv to read from. */
#ifndef MRAIL_BENCH_UTIL_H
#define MRAIL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* arg is not one of the tool's: --help and -h print usage (standard
 * output, exit status 0), anything else is named, with usage (standard
 * error, 2). Returns the exit status. usage says what the tool does. */
static inline int bench_usage(const char *prog, const char *usage, const char *arg)
{
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
        printf("%s", usage);
        return 0;
    }
    fprintf(stderr, "%s: unknown argument %s\n%s", prog, arg, usage);
    return 2;
}

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Two page-aligned buffers of bytes bytes, src filled with 1 and dst with
 * 2; on failure says so as prog and returns -1. */
static inline int bench_buffers(const char *prog, size_t bytes, char **src, char **dst)
{
    size_t whole = (bytes + 4095) & ~(size_t)4095;
    *src = aligned_alloc(4096, whole);
    *dst = aligned_alloc(4096, whole);
    if (*src == NULL || *dst == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    memset(*src, 1, whole);
    memset(*dst, 2, whole);
    return 0;
}

/* Forks the holder; -1 on failure. *go is the end bench_holder_end writes. */
static inline pid_t bench_holder_start(int *go)
{
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    pid_t child = fork();
    if (child == 0) { /* holds the memory until told to go */
        char c;
        ssize_t n = read(p[0], &c, 1);
        _exit(n == 1 ? 0 : 1);
    }
    close(p[0]);
    *go = p[1];
    return child;
}

/* Lets the holder go and reaps it; 0, or -1 if it could not be told. */
static inline int bench_holder_end(pid_t child, int go)
{
    int rc = write(go, "x", 1) == 1 ? 0 : -1;
    close(go);
    waitpid(child, NULL, 0);
    return rc;
}

#endif
