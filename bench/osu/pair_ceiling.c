/* The most two cores move through shared memory by copy-in/copy-out, with
 * no MPI and no protocol: the ceiling over osu_bw and osu_bibw for every
 * stack that copies twice (docs/PERFORMANCE.md, issue 14). Two processes
 * pinned to two CPUs; per direction a ring of 16 slots of --chunk bytes
 * in a shared mapping, each slot with a flag on a cache line of its own.
 * A sender copies a chunk of its 4 MiB message into a free slot and sets
 * the flag; the receiver copies it out into its own 4 MiB buffer and
 * clears it. Both ways at once, each process alternates one chunk out and
 * one chunk in. The copies are mrail_copy's, as mrail's rings make them.
 * Prints MB/s (10^6) as OSU counts them (both ways: the sum), the median
 * of 7 runs of 64 messages of 4 MiB each way.
 *   pair_ceiling [--cpus A,B] [--chunk BYTES] [--oneway] */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/bench_util.h"

#include "mrail/copy.h"

#define SLOTS 16
#define MSG (4u << 20)
#define WINDOW 64
#define RUNS 7

typedef struct flag {
    _Alignas(64) _Atomic uint64_t seq; /* 0: free; else the chunk's number + 1 */
} flag_t;

typedef struct ring {
    flag_t flags[SLOTS];
    _Alignas(4096) char data[];
} ring_t;

typedef struct shared {
    _Alignas(64) _Atomic int ready;
    _Alignas(64) _Atomic int go; /* run number the parent started */
    _Alignas(64) _Atomic int done;
} shared_t;

static size_t ring_bytes(size_t chunk)
{
    return sizeof(ring_t) + SLOTS * chunk;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        perror("pair_ceiling: sched_setaffinity");
        exit(1);
    }
}

/* Did every byte that came in come from the peer's buffer? */
static bool arrived_whole(const char *dst, int peer)
{
    for (size_t i = 0; i < MSG; i++) {
        if (dst[i] != (char)(1 + peer)) {
            fprintf(stderr, "pair_ceiling: byte %zu of the received message is %d, not %d\n", i,
                    dst[i], 1 + peer);
            return false;
        }
    }
    return true;
}

/* One run: send total chunks on out (unless NULL), receive total on in
 * (unless NULL), one of each in turn. */
static void run(ring_t *out, ring_t *in, size_t chunk, const char *src, char *dst, uint64_t total)
{
    uint64_t sent = 0, got = 0, per_msg = MSG / chunk;
    uint64_t want_out = out ? total : 0, want_in = in ? total : 0;
    while (sent < want_out || got < want_in) {
        if (sent < want_out) {
            flag_t *f = &out->flags[sent % SLOTS];
            if (atomic_load_explicit(&f->seq, memory_order_acquire) == 0) {
                mrail_copy(out->data + (sent % SLOTS) * chunk, src + (sent % per_msg) * chunk,
                           chunk);
                atomic_store_explicit(&f->seq, sent + 1, memory_order_release);
                sent++;
            }
        }
        if (got < want_in) {
            flag_t *f = &in->flags[got % SLOTS];
            if (atomic_load_explicit(&f->seq, memory_order_acquire) == got + 1) {
                mrail_copy(dst + (got % per_msg) * chunk, in->data + (got % SLOTS) * chunk, chunk);
                atomic_store_explicit(&f->seq, 0, memory_order_release);
                got++;
            }
        }
    }
}

int main(int argc, char **argv)
{
    int cpu[2] = {0, 1};
    size_t chunk = 128 * 1024;
    bool oneway = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cpus") && i + 1 < argc &&
            sscanf(argv[i + 1], "%d,%d", &cpu[0], &cpu[1]) == 2) {
            i++;
        } else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
            chunk = strtoull(argv[++i], NULL, 0);
            if (chunk < 4096 || chunk > MSG || MSG % chunk != 0) {
                fprintf(stderr, "pair_ceiling: --chunk %s: give a divisor of 4 MiB from 4096\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--oneway")) {
            oneway = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pair_ceiling [--cpus A,B] [--chunk BYTES] [--oneway]\n");
            return 0;
        } else {
            fprintf(stderr, "pair_ceiling: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    size_t rb = ring_bytes(chunk), map = 4096 + 2 * rb;
    char *base = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("pair_ceiling: mmap");
        return 1;
    }
    shared_t *sh = (shared_t *)(void *)base;
    ring_t *ring[2] = {(ring_t *)(void *)(base + 4096), (ring_t *)(void *)(base + 4096 + rb)};
    uint64_t total = (uint64_t)WINDOW * (MSG / chunk);
    pid_t child = fork();
    if (child < 0) {
        perror("pair_ceiling: fork");
        return 1;
    }
    int me = child == 0 ? 1 : 0;
    pin(cpu[me]);
    char *src, *dst;
    if (bench_buffers("pair_ceiling", MSG, &src, &dst) != 0) {
        return 1;
    }
    memset(src, 1 + me, MSG);
    memset(dst, 0, MSG);
    ring_t *out = oneway && me == 1 ? NULL : ring[me];
    ring_t *in = oneway && me == 0 ? NULL : ring[1 - me];
    if (me == 1) {
        atomic_store(&sh->ready, 1);
        for (int r = 1; r <= RUNS + 1; r++) { /* the first run warms the rings */
            while (atomic_load(&sh->go) != r) {
            }
            run(out, in, chunk, src, dst, total);
            atomic_fetch_add(&sh->done, 1);
        }
        _exit(in == NULL || arrived_whole(dst, 0) ? 0 : 1);
    }
    while (atomic_load(&sh->ready) == 0) {
    }
    double mbs[RUNS];
    for (int r = 1; r <= RUNS + 1; r++) {
        double t0 = bench_now();
        atomic_store(&sh->go, r);
        run(out, in, chunk, src, dst, total);
        while (atomic_load(&sh->done) != r) {
        }
        double bytes = (double)total * (double)chunk * (oneway ? 1 : 2);
        if (r > 1) {
            mbs[r - 2] = bytes / (bench_now() - t0) / 1e6;
        }
    }
    int status;
    bool whole = waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0 && (in == NULL || arrived_whole(dst, 1));
    free(src);
    free(dst);
    munmap(base, map);
    if (!whole) {
        fprintf(stderr, "pair_ceiling: the data did not arrive whole\n");
        return 1;
    }
    qsort(mbs, RUNS, sizeof(mbs[0]), bench_cmp_double);
    printf("pair_ceiling %s, chunk %zu: %.0f MB/s (median of %d; min %.0f, max %.0f)\n",
           oneway ? "one way" : "both ways", chunk, mbs[RUNS / 2], RUNS, mbs[0], mbs[RUNS - 1]);
    return 0;
}
