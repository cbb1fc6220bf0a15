/* BTL-level benchmark, OSU style, between rank 0 and rank 1 (mrun -n 2):
 *  - latency: ping-pong of one message, half the round trip;
 *  - bandwidth: a window of messages streamed from 0 to 1, one ack back;
 *    messages above the btl's max send size go as rendezvous gets (the
 *    receiver pulls: single copy through CMA, or the rings' fallback);
 *  - memcpy: the same sizes copied inside rank 0, the reference.
 * Each figure is the median of --reps repetitions.
 *   btl_bench [--max SIZE] [--reps N] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/bench_util.h"
#include "mrail/rails.h"

#define BTL_BENCH_USAGE                                                                            \
    "usage: mrun -n 2 btl_bench [--max BYTES] [--reps N]\n"                                        \
    "Latency and bandwidth of the btl between ranks 0 and 1 (no pml, no MPI), OSU style,\n"        \
    "against memcpy, sizes up to --max (default 64 MiB); medians of --reps (1..99, 7).\n"

enum { TAG_PING = 1, TAG_PONG, TAG_DATA, TAG_ACK, TAG_RTS, TAG_FIN };
#define WINDOW 64
#define RNDV_WINDOW 8

typedef struct bench_hdr {
    uint64_t seq, addr, len;
} bench_hdr_t;

typedef struct bench {
    mrail_rte_t *rte;
    uint32_t rank;
    mrail_rails_t rails;
    mrail_btl_am_table_t am;
    mrail_btl_module_t *m;
    mrail_btl_endpoint_t *ep;
    unsigned pongs, acks, fins, data_seen;
    unsigned char *rbuf;
} bench_t;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* Spin; yield only after a long idle stretch (a yield costs more than a
 * small message, but oversubscribed runs need the peer to get the CPU). */
static void progress(bench_t *b)
{
    static unsigned idle;
    if (mrail_rails_progress(&b->rails) != 0) {
        idle = 0;
    } else if (++idle >= 1000) {
        sched_yield();
        idle = 0;
    }
}

static void done_free(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep, (void)status;
    free(cbdata);
}

/* Small control messages; never waits (callbacks use it too). */
static void send_small(bench_t *b, uint8_t tag, const bench_hdr_t *h, const void *payload,
                       size_t len)
{
    if (b->m->sendi(b->m, b->ep, tag, h, sizeof(*h), payload, len) == MRAIL_SUCCESS) {
        return;
    }
    bench_hdr_t *copy = malloc(sizeof(*copy) + len);
    memcpy(copy, h, sizeof(*h));
    if (len > 0) {
        memcpy(copy + 1, payload, len);
    }
    struct iovec iov = {copy + 1, len};
    if (b->m->send(b->m, b->ep, tag, copy, sizeof(*copy), &iov, 1, done_free, copy) ==
        MRAIL_SUCCESS) {
        free(copy);
    }
}

static void on_get(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep, (void)status;
    bench_t *b = cbdata;
    bench_hdr_t fin = {0};
    send_small(b, TAG_FIN, &fin, NULL, 0);
}

static void on_msg(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                   mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)m, (void)ep, (void)peer;
    bench_t *b = ctx;
    bench_hdr_t h;
    memcpy(&h, segs[0].iov_base, sizeof(h));
    size_t len = nsegs > 1 ? segs[1].iov_len : 0;
    switch (tag) {
    case TAG_PING: send_small(b, TAG_PONG, &h, nsegs > 1 ? segs[1].iov_base : NULL, len); break;
    case TAG_PONG: b->pongs++; break;
    case TAG_DATA:
        if (len > 0) {
            memcpy(b->rbuf, segs[1].iov_base, len); /* a receiver copies out */
        }
        if (++b->data_seen % WINDOW == 0) {
            send_small(b, TAG_ACK, &h, NULL, 0);
        }
        break;
    case TAG_ACK: b->acks++; break;
    case TAG_RTS: {
        int rc = b->m->get(b->m, b->ep, b->rbuf, h.addr, NULL, h.len, on_get, b);
        if (rc == MRAIL_SUCCESS) {
            on_get(b->m, b->ep, MRAIL_SUCCESS, b);
        }
        break;
    }
    case TAG_FIN: b->fins++; break;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static size_t small_max(const bench_t *b)
{
    return b->m->config.max_send_size - sizeof(bench_hdr_t);
}

/* Half a round trip, microseconds. */
static double latency(bench_t *b, unsigned char *buf, size_t size, int iters)
{
    bench_hdr_t h = {0};
    b->pongs = 0;
    double t0 = now_us();
    for (int i = 0; i < iters; i++) {
        send_small(b, TAG_PING, &h, buf, size);
        while (b->pongs <= (unsigned)i) {
            progress(b);
        }
    }
    return (now_us() - t0) / iters / 2;
}

/* MB/s of a window streamed to rank 1. */
static double bandwidth(bench_t *b, unsigned char *buf, size_t size)
{
    bench_hdr_t h = {.addr = (uintptr_t)buf, .len = size};
    double t0 = now_us();
    if (size <= small_max(b)) {
        unsigned want = b->acks + 1;
        for (int i = 0; i < WINDOW; i++) {
            send_small(b, TAG_DATA, &h, buf, size);
        }
        while (b->acks < want) {
            progress(b);
        }
        return (double)size * WINDOW / (now_us() - t0);
    }
    unsigned want = b->fins + RNDV_WINDOW;
    for (int i = 0; i < RNDV_WINDOW; i++) {
        send_small(b, TAG_RTS, &h, NULL, 0);
    }
    while (b->fins < want) {
        progress(b);
    }
    return (double)size * RNDV_WINDOW / (now_us() - t0);
}

static double memcpy_bw(unsigned char *dst, const unsigned char *src, size_t size)
{
    int n = size < 65536 ? 2000 : size < (8u << 20) ? 64 : 8;
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        memcpy(dst, src, size);
        __asm__ volatile("" : : "r"(dst) : "memory"); /* keep every copy */
    }
    return size ? (double)size * n / (now_us() - t0) : 0;
}

int main(int argc, char **argv)
{
    size_t max = 64u << 20;
    int reps = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc) {
            max = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            return bench_usage("btl_bench", BTL_BENCH_USAGE, argv[i]);
        }
    }
    if (reps < 1 || reps > 99) {
        fprintf(stderr, "btl_bench: --reps must be 1..99\n");
        return 2;
    }
    bench_t b = {0};
    mrail_reason_t why;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    if (mrail_rte_init(&b.rte, &why) != MRAIL_SUCCESS ||
        mrail_mca_open(NULL, &mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "btl_bench: %s\n", why.text);
        return 1;
    }
    b.rank = mrail_rte_facts(b.rte)->rank;
    if (mrail_rte_facts(b.rte)->size != 2) {
        fprintf(stderr, "btl_bench: run it with 2 ranks (mrun -n 2 btl_bench)\n");
        return 2;
    }
    for (int t = TAG_PING; t <= TAG_FIN; t++) {
        mrail_btl_am_register(&b.am, (mrail_btl_tag_t)t, on_msg, &b);
    }
    if (mrail_frameworks_open(mca, &fws) != MRAIL_SUCCESS ||
        mrail_frameworks_select(fws) != MRAIL_SUCCESS ||
        mrail_rails_connect(fws, b.rte, &b.am, &b.rails, &why) != MRAIL_SUCCESS) {
        for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
            fprintf(stderr, "btl_bench: %s\n", mrail_mca_diag_text(mca, i, NULL));
        }
        fprintf(stderr, "btl_bench: %s\n", why.text);
        return 1;
    }
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&b.rails.table, 1 - b.rank);
    b.m = pr->rails[0].module;
    b.ep = pr->rails[0].ep;
    unsigned char *buf = malloc(max), *src = malloc(max);
    b.rbuf = malloc(max);
    memset(buf, 0x5a, max);
    memset(src, 0xa5, max);
    memset(b.rbuf, 0, max);
    if (b.rank == 0) {
        printf("# mrail btl_bench: %s (%s), medians of %d\n", b.m->name, b.m->note, reps);
        printf("# %10s %12s %12s %14s %10s\n", "size(B)", "latency(us)", "bw(MB/s)", "memcpy(MB/s)",
               "bw/memcpy");
        /* Untimed: a peer's first message warms its ring (btl_sm_ring_warm),
         * which would count in the first size's latency (1 us at 0 B). */
        (void)latency(&b, buf, 0, 200);
        for (size_t size = 0; size <= max; size = size ? 2 * size : 1) {
            double lat[99], bw[99], mc[99];
            for (int r = 0; r < reps; r++) {
                lat[r] =
                    size <= small_max(&b) ? latency(&b, buf, size, size < 4096 ? 2000 : 200) : 0;
                bw[r] = bandwidth(&b, buf, size);
                mc[r] = memcpy_bw(b.rbuf, src, size);
            }
            double l = median(lat, reps), w = median(bw, reps), c = median(mc, reps);
            char lat_s[32] = "-", ratio_s[32] = "-";
            if (size <= small_max(&b)) {
                snprintf(lat_s, sizeof(lat_s), "%.3f", l);
            }
            if (c > 0) {
                snprintf(ratio_s, sizeof(ratio_s), "%.2f", w / c);
            }
            printf("  %10zu %12s %12.1f %14.1f %10s\n", size, lat_s, w, c, ratio_s);
            fflush(stdout);
        }
        bench_hdr_t stop = {.seq = UINT64_MAX};
        send_small(&b, TAG_FIN, &stop, NULL, 0);
    } else {
        while (b.fins == 0) { /* rank 0's final FIN says it is done */
            progress(&b);
        }
    }
    /* Drain what is in flight before tearing down. */
    for (int i = 0; i < 1000; i++) {
        progress(&b);
    }
    mrail_rte_barrier(b.rte, &why);
    mrail_rails_disconnect(&b.rails);
    mrail_frameworks_close(fws);
    mrail_mca_close(mca);
    free(buf);
    free(src);
    free(b.rbuf);
    mrail_rte_finalize(b.rte);
    return 0;
}
