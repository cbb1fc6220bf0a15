/* Rank program for the PML tests (launched through mrun). Runs the named
 * checks in order and prints "rank=R check=NAME ok" for each passed; any
 * failure prints why and exits 1.
 *   pml_probe [--max BYTES] [--checks exchange,order,...] [--fail-if IFNAME] [--fail-rank R]
 *             [--fail-at-start] [--stats]
 * --stats prints each rank's PML statistics at the end ("rank=R stats ..."). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mrail/pml.h"
#include "mrail/rails.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btl_strangers.h" /* tests/btl: strangers at btl/tcp's door */

typedef struct probe {
    mrail_pml_t *pml;
    mrail_rte_t *rte;
    uint32_t rank, size;
    size_t max;
    const char *fail_if; /* failover: the interfaces --fail-rank takes down */
    uint32_t fail_rank;
    bool fail_at_start; /* failover: cut before the first message (no connection yet) */
} probe_t;

static void die(const probe_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const probe_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rank=%u error: ", p->rank);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static uint64_t word(uint32_t src, uint32_t dst, uint64_t size, uint64_t i)
{
    return ((((uint64_t)src << 48) ^ ((uint64_t)dst << 32) ^ size) + i) * 0x9E3779B97F4A7C15ull;
}

static void fill(unsigned char *b, uint32_t src, uint32_t dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (unsigned char)(word(src, dst, n, i / 8) >> (8 * (i % 8)));
    }
}

static size_t first_bad(const unsigned char *b, uint32_t src, uint32_t dst, size_t n,
                        size_t msg_len)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != (unsigned char)(word(src, dst, msg_len, i / 8) >> (8 * (i % 8)))) {
            return i;
        }
    }
    return n;
}

static void isend(probe_t *p, const void *buf, size_t len, uint32_t dst, int tag, bool sync,
                  mrail_pml_request_t **r)
{
    if (mrail_pml_isend(p->pml, buf, len, dst, tag, 0, sync, r) != MRAIL_SUCCESS) {
        die(p, "isend of %zu bytes to %u failed", len, dst);
    }
}

static void irecv(probe_t *p, void *buf, size_t len, int src, int tag, mrail_pml_request_t **r)
{
    if (mrail_pml_irecv(p->pml, buf, len, src, tag, 0, r) != MRAIL_SUCCESS) {
        die(p, "irecv from %d failed", src);
    }
}

static mrail_pml_status_t wait_free(probe_t *p, mrail_pml_request_t *r)
{
    mrail_pml_status_t st;
    mrail_pml_wait(p->pml, r, &st);
    mrail_pml_request_free(p->pml, r);
    return st;
}

static int barrier_progress(void *pml)
{
    return mrail_pml_progress(pml);
}

/* A PMIx fence that keeps the PML progressing, as MPI_Finalize does: a
 * completed eager send may still sit in a btl's queue (a socket that is
 * full), and a peer waiting for it would never reach the fence. A plain
 * fence with 100 progress calls before it hung check_order over two tcp
 * rails about once in 20 runs beside other tests. A plain fence follows:
 * a rank still progressing in the first must not see what a peer that left
 * it does next (check_lazy counted a connection of the fan-out as one of
 * the ring's; a peer that closed failed the rails of one still in it).
 * Runs with --fail-if keep the plain fence alone: progress would run the
 * PML's probes of failed rails while they wait, and their checks count
 * failures. */
static void barrier(probe_t *p)
{
    mrail_reason_t why;
    int rc = MRAIL_SUCCESS;
    if (p->fail_if == NULL) {
        rc = mrail_rte_barrier_progress(p->rte, barrier_progress, p->pml, &why);
    } else {
        for (int i = 0; i < 100; i++) {
            mrail_pml_progress(p->pml);
        }
    }
    if (rc == MRAIL_SUCCESS) {
        rc = mrail_rte_barrier(p->rte, &why);
    }
    if (rc != MRAIL_SUCCESS) {
        die(p, "barrier: %s", why.text);
    }
}

/* Every rank to every rank (itself too), every size, standard and
 * synchronous: eager and rendezvous both. */
static void check_exchange(probe_t *p)
{
    size_t sizes[] = {0, 1, 4000, 4095, 4096, 4097, 65536, 1 << 20, 16 << 20, 64 << 20, 256 << 20};
    unsigned char *sbuf = malloc(p->max), *rbuf = malloc(p->max);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]) && sizes[s] <= p->max; s++) {
        size_t n = sizes[s];
        for (uint32_t d = 0; d < p->size; d++) {
            uint32_t dst = (p->rank + d) % p->size, src = (p->rank + p->size - d) % p->size;
            fill(sbuf, p->rank, dst, n);
            memset(rbuf, 0, n);
            mrail_pml_request_t *rr, *sr;
            irecv(p, rbuf, n, (int)src, 7, &rr);
            isend(p, sbuf, n, dst, 7, d % 2 == 1, &sr);
            mrail_pml_status_t st = wait_free(p, rr);
            wait_free(p, sr);
            if (st.count != n || st.source != (int32_t)src || st.tag != 7 || st.error) {
                die(p, "status of %zu bytes from %u: count %zu source %d tag %d error %d", n, src,
                    st.count, st.source, st.tag, st.error);
            }
            size_t bad = first_bad(rbuf, src, p->rank, n, n);
            if (bad != n) {
                die(p, "%zu bytes from rank %u wrong from byte %zu", n, src, bad);
            }
        }
        barrier(p);
    }
    free(sbuf);
    free(rbuf);
}

/* Ranks 0 and 1 stream windows of 128-384 KiB messages to each other at
 * once, each message's bytes its own: the sizes where a peer that streams
 * to us too makes our sends rdma gets (pml_stripe_bidir_rget_size). The
 * rounds of a size run back to back, as a streaming program's do: the
 * bytes are written before and checked after them. */
static void check_bidir(probe_t *p)
{
    enum { W = 8, ROUNDS = 4, N = W * ROUNDS };
    static const size_t sizes[] = {131072, 196609, 262144, 393216};
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    uint32_t peer = 1 - p->rank;
    size_t max = sizes[sizeof(sizes) / sizeof(sizes[0]) - 1];
    unsigned char *sbuf = malloc(N * max), *rbuf = malloc(N * max);
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        size_t n = sizes[z];
        for (unsigned k = 0; k < N; k++) {
            for (size_t i = 0; i < n; i++) {
                sbuf[k * max + i] =
                    (unsigned char)(word(p->rank, peer, n + 1000 * k, i / 8) >> (8 * (i % 8)));
            }
        }
        memset(rbuf, 0, N * max);
        for (unsigned round = 0; round < ROUNDS; round++) {
            mrail_pml_request_t *rr[W], *sr[W];
            unsigned first = round * W;
            for (unsigned k = 0; k < W; k++) {
                irecv(p, rbuf + (first + k) * max, n, (int)peer, 9, &rr[k]);
            }
            for (unsigned k = 0; k < W; k++) {
                isend(p, sbuf + (first + k) * max, n, peer, 9, false, &sr[k]);
            }
            for (unsigned k = 0; k < W; k++) {
                mrail_pml_status_t st = wait_free(p, rr[k]);
                wait_free(p, sr[k]);
                if (st.count != n || st.error) {
                    die(p, "bidir: message %u of %zu bytes: count %zu error %d", first + k, n,
                        st.count, st.error);
                }
            }
        }
        for (unsigned k = 0; k < N; k++) {
            size_t bad = first_bad(rbuf + k * max, peer, p->rank, n, n + 1000 * k);
            if (bad != n) {
                die(p, "bidir: message %u of %zu bytes wrong from byte %zu", k, n, bad);
            }
        }
    }
    free(sbuf);
    free(rbuf);
    barrier(p);
}

/* Rank 0 sends 300 messages to rank 1 with tags 0..2 and sizes that
 * alternate eager and rendezvous; rank 1 receives them with wildcards and
 * must see, per tag, the values in order. */
static void check_order(probe_t *p)
{
    enum { N = 300 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    static uint32_t bufs[N][4096];
    if (p->rank == 0) {
        mrail_pml_request_t *r[N];
        for (uint32_t i = 0; i < N; i++) {
            size_t words = i % 3 == 0 ? 4096 : 4;
            for (size_t w = 0; w < words; w++) {
                bufs[i][w] = i;
            }
            isend(p, bufs[i], words * 4, 1, (int)(i % 3), false, &r[i]);
        }
        for (uint32_t i = 0; i < N; i++) {
            wait_free(p, r[i]);
        }
    } else {
        uint32_t last[3] = {0, 0, 0};
        bool seen[3] = {false, false, false};
        for (uint32_t i = 0; i < N; i++) {
            static uint32_t in[4096];
            mrail_pml_request_t *r;
            int tag = i < N / 2 ? MRAIL_PML_ANY_TAG : (int)(i % 3);
            irecv(p, in, sizeof(in), i % 2 ? MRAIL_PML_ANY_SOURCE : 0, tag, &r);
            mrail_pml_status_t st = wait_free(p, r);
            uint32_t v = in[0];
            if (st.tag != (int32_t)(v % 3) || (seen[st.tag] && v <= last[st.tag])) {
                die(p, "message %u (tag %d) arrived after %u: order broken", v, st.tag,
                    last[st.tag]);
            }
            for (size_t w = 0; w < st.count / 4; w++) {
                if (in[w] != v) {
                    die(p, "message %u corrupt", v);
                }
            }
            seen[st.tag] = true;
            last[st.tag] = v;
        }
    }
    barrier(p);
}

/* Small messages on communicator contexts on both sides of 16 bits (a
 * short header carries 16; larger ones take the full header), interleaved
 * on one peer, synchronous ones among them, received before they arrive
 * and after: each lands in its own receive, in order, per context. */
static void check_contexts(probe_t *p)
{
    enum { NCTX = 4, N = 16 };
    static const uint32_t ctxs[NCTX] = {0, 65535, 65536, 70001};
    uint32_t dst = (p->rank + 1) % p->size, src = (p->rank + p->size - 1) % p->size;
    uint32_t out[NCTX][N], in[NCTX][N];
    mrail_pml_request_t *rr[NCTX][N], *sr[NCTX][N];
    for (int round = 0; round < 2; round++) {
        bool posted_first = round == 0;
        for (int c = 0; posted_first && c < NCTX; c++) {
            for (int k = 0; k < N; k++) {
                if (mrail_pml_irecv(p->pml, &in[c][k], sizeof(in[c][k]), (int32_t)src, 9, ctxs[c],
                                    &rr[c][k]) != MRAIL_SUCCESS) {
                    die(p, "irecv on context %u failed", ctxs[c]);
                }
            }
        }
        barrier(p);
        for (int k = 0; k < N; k++) {
            for (int c = 0; c < NCTX; c++) {
                out[c][k] = p->rank * 1000000 + ctxs[c] * 10 + (uint32_t)k + (uint32_t)round;
                if (mrail_pml_isend(p->pml, &out[c][k], sizeof(out[c][k]), dst, 9, ctxs[c],
                                    k % 5 == 2, &sr[c][k]) != MRAIL_SUCCESS) {
                    die(p, "isend on context %u failed", ctxs[c]);
                }
            }
        }
        if (!posted_first) {
            barrier(p);
        }
        for (int c = 0; !posted_first && c < NCTX; c++) {
            for (int k = 0; k < N; k++) {
                if (mrail_pml_irecv(p->pml, &in[c][k], sizeof(in[c][k]), (int32_t)src, 9, ctxs[c],
                                    &rr[c][k]) != MRAIL_SUCCESS) {
                    die(p, "irecv on context %u failed", ctxs[c]);
                }
            }
        }
        for (int c = 0; c < NCTX; c++) {
            for (int k = 0; k < N; k++) {
                wait_free(p, rr[c][k]);
                uint32_t want = src * 1000000 + ctxs[c] * 10 + (uint32_t)k + (uint32_t)round;
                if (in[c][k] != want) {
                    die(p, "message %d on context %u is %u, not %u", k, ctxs[c], in[c][k], want);
                }
            }
        }
        for (int c = 0; c < NCTX; c++) {
            for (int k = 0; k < N; k++) {
                wait_free(p, sr[c][k]);
            }
        }
    }
    barrier(p);
}

static void check_truncate(probe_t *p)
{
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    size_t lens[2] = {1000, 200000}, bufs[2] = {500, 50000};
    for (int k = 0; k < 2; k++) {
        unsigned char *b = malloc(lens[k]);
        mrail_pml_request_t *r;
        if (p->rank == 0) {
            fill(b, 0, 1, lens[k]);
            isend(p, b, lens[k], 1, 3, false, &r);
            wait_free(p, r);
        } else {
            memset(b, 0, lens[k]);
            irecv(p, b, bufs[k], 0, 3, &r);
            mrail_pml_status_t st = wait_free(p, r);
            if (st.error != MRAIL_ERR_TRUNCATE || st.count != bufs[k]) {
                die(p, "truncation of %zu into %zu: error %d count %zu", lens[k], bufs[k], st.error,
                    st.count);
            }
            if (first_bad(b, 0, 1, bufs[k], lens[k]) != bufs[k] || b[bufs[k]] != 0) {
                die(p, "truncated receive holds the wrong bytes, or too many");
            }
        }
        free(b);
    }
    barrier(p);
}

/* 10,000 receives posted before any send, then 10,000 sends, to the next rank. */
static void check_outstanding(probe_t *p)
{
    enum { N = 10000 };
    uint32_t to = (p->rank + 1) % p->size, from = (p->rank + p->size - 1) % p->size;
    uint32_t *in = calloc(N, sizeof(uint32_t)), *out = malloc(N * sizeof(uint32_t));
    mrail_pml_request_t **rr = malloc(N * sizeof(*rr)), **sr = malloc(N * sizeof(*sr));
    for (uint32_t i = 0; i < N; i++) {
        irecv(p, &in[i], 4, (int)from, 11, &rr[i]);
    }
    barrier(p);
    for (uint32_t i = 0; i < N; i++) {
        out[i] = i * 2654435761u;
        isend(p, &out[i], 4, to, 11, false, &sr[i]);
    }
    for (uint32_t i = 0; i < N; i++) {
        wait_free(p, sr[i]);
        wait_free(p, rr[i]);
        if (in[i] != i * 2654435761u) {
            die(p, "outstanding receive %u got %u", i, in[i]);
        }
    }
    free(in);
    free(out);
    free(rr);
    free(sr);
    barrier(p);
}

static void check_probe_and_cancel(probe_t *p)
{
    uint32_t to = (p->rank + 1) % p->size, from = (p->rank + p->size - 1) % p->size;
    char msg[77];
    memset(msg, (int)p->rank, sizeof(msg));
    mrail_pml_request_t *s, *r;
    isend(p, msg, sizeof(msg), to, 21, false, &s);
    mrail_pml_status_t st;
    while (!mrail_pml_iprobe(p->pml, MRAIL_PML_ANY_SOURCE, 21, 0, &st)) {
    }
    if (st.source != (int32_t)from || st.tag != 21 || st.count != sizeof(msg)) {
        die(p, "iprobe: source %d tag %d count %zu", st.source, st.tag, st.count);
    }
    if (!mrail_pml_iprobe(p->pml, (int)from, 21, 0, &st)) {
        die(p, "iprobe consumed the message");
    }
    char in[77];
    irecv(p, in, sizeof(in), (int)from, 21, &r);
    st = wait_free(p, r);
    if (st.count != sizeof(in) || in[0] != (char)from) {
        die(p, "probed message received wrong");
    }
    wait_free(p, s);
    irecv(p, in, sizeof(in), (int)from, 999, &r);
    if (!mrail_pml_cancel(p->pml, r)) {
        die(p, "cancel of an unmatched receive failed");
    }
    st = wait_free(p, r);
    if (!st.cancelled) {
        die(p, "cancelled receive not marked cancelled");
    }
    barrier(p);
}

/* Everyone sends 50 messages to rank 0, which takes them with ANY_SOURCE
 * and checks each source's order. */
static void check_anysource(probe_t *p)
{
    enum { N = 50 };
    if (p->rank != 0) {
        uint32_t v[N];
        mrail_pml_request_t *r[N];
        for (uint32_t i = 0; i < N; i++) {
            v[i] = i;
            isend(p, &v[i], 4, 0, 5, false, &r[i]);
        }
        for (uint32_t i = 0; i < N; i++) {
            wait_free(p, r[i]);
        }
    } else {
        uint32_t *next = calloc(p->size, sizeof(uint32_t));
        for (uint32_t i = 0; i < N * (p->size - 1); i++) {
            uint32_t v;
            mrail_pml_request_t *r;
            irecv(p, &v, 4, MRAIL_PML_ANY_SOURCE, 5, &r);
            mrail_pml_status_t st = wait_free(p, r);
            if (st.source <= 0 || v != next[st.source]++) {
                die(p, "any-source: got %u from %d", v, st.source);
            }
        }
        free(next);
    }
    barrier(p);
}

/* Rank 0 streams 96 MiB to rank 1 in rendezvous messages; prints, per
 * rail to rank 1, its weight and the share of the bytes it carried. */
static void check_stripe(probe_t *p)
{
    enum { MSG = 32 << 20, COUNT = 3 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    const mrail_rails_t *rails = mrail_pml_rails(p->pml);
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&rails->table, 1);
    uint64_t before[MRAIL_MAX_RAILS] = {0};
    for (size_t i = 0; p->rank == 0 && i < pr->count && i < MRAIL_MAX_RAILS; i++) {
        before[i] = pr->rails[i].module->tx_bytes;
    }
    unsigned char *buf = malloc(MSG);
    for (int k = 0; k < COUNT; k++) {
        mrail_pml_request_t *r;
        if (p->rank == 0) {
            fill(buf, 0, 1, MSG);
            isend(p, buf, MSG, 1, 31, false, &r);
            wait_free(p, r);
        } else {
            irecv(p, buf, MSG, 0, 31, &r);
            wait_free(p, r);
            if (first_bad(buf, 0, 1, MSG, MSG) != MSG) {
                die(p, "striped message %d is corrupt", k);
            }
        }
    }
    free(buf);
    uint64_t total = 0;
    for (size_t i = 0; p->rank == 0 && i < pr->count && i < MRAIL_MAX_RAILS; i++) {
        total += pr->rails[i].module->tx_bytes - before[i];
    }
    for (size_t i = 0; p->rank == 0 && i < pr->count && i < MRAIL_MAX_RAILS; i++) {
        const mrail_rail_t *rail = &pr->rails[i];
        printf("rank=0 rail=%s weight=%.3f share=%.3f\n", rail->module->name, rail->weight,
               total ? (double)(rail->module->tx_bytes - before[i]) / (double)total : 0.0);
    }
    barrier(p);
}

/* Rank 0 streams 32 MiB messages to rank 1 over every rail; during the
 * second, rank 1 takes its interface fail_if down (a cable pulled). Every
 * byte must still arrive: the sender's btl times the rail out and the PML
 * sends what it carried over the rails left. */
/* Takes each interface of the comma-separated list down. */
static void cut(probe_t *p, const char *list)
{
    char cmd[256], copy[128];
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *save = NULL, *itf = strtok_r(copy, ",", &save); itf != NULL;
         itf = strtok_r(NULL, ",", &save)) {
        snprintf(cmd, sizeof(cmd), "ip link set %s down", itf);
        if (system(cmd) != 0) {
            die(p, "could not run: %s", cmd);
        }
    }
}

/* Rank 0 sends three 32 MiB messages to rank 1, each followed by 64 eager
 * ones; during the second (before the first with --fail-at-start, when no
 * rail is connected yet), rank --fail-rank takes the --fail-if rail down.
 * Every byte of every message must arrive (fragments, eager messages and
 * control messages that the cut rail swallowed go again). */
static void check_failover(probe_t *p)
{
    enum { MSG = 32 << 20, COUNT = 3, SMALL = 64, SMALL_LEN = 1000 };
    if (p->size < 2 || p->rank > 1 || p->fail_if == NULL) {
        barrier(p);
        return;
    }
    unsigned char *buf = malloc(MSG), small[SMALL][SMALL_LEN];
    if (p->fail_at_start) {
        if (p->rank == p->fail_rank) {
            cut(p, p->fail_if);
        }
        barrier(p);
    }
    for (int k = 0; k < COUNT; k++) {
        mrail_pml_request_t *r, *rs[SMALL];
        if (p->rank == 0) {
            fill(buf, (uint32_t)k, 1, MSG);
            isend(p, buf, MSG, 1, 51, false, &r);
            for (int i = 0; i < SMALL; i++) {
                fill(small[i], (uint32_t)(k * SMALL + i), 1, SMALL_LEN);
                isend(p, small[i], SMALL_LEN, 1, 52, false, &rs[i]);
            }
        } else {
            memset(buf, 0, MSG);
            memset(small, 0, sizeof(small));
            irecv(p, buf, MSG, 0, 51, &r);
            for (int i = 0; i < SMALL; i++) {
                irecv(p, small[i], SMALL_LEN, 0, 52, &rs[i]);
            }
        }
        if (k == 1 && p->rank == p->fail_rank && !p->fail_at_start) {
            /* let it get going, then pull the cable */
            mrail_pml_status_t st;
            for (int spin = 0; spin < 100 && !mrail_pml_test(p->pml, r, &st); spin++) {
                usleep(1000);
            }
            cut(p, p->fail_if);
        }
        mrail_pml_status_t st = wait_free(p, r);
        for (int i = 0; i < SMALL; i++) {
            mrail_pml_status_t s2 = wait_free(p, rs[i]);
            uint32_t src = (uint32_t)(k * SMALL + i);
            if (p->rank == 1 && (s2.error != MRAIL_SUCCESS || s2.count != SMALL_LEN ||
                                 first_bad(small[i], src, 1, SMALL_LEN, SMALL_LEN) != SMALL_LEN)) {
                die(p, "eager message %d of round %d after the rail failed: error %d", i, k,
                    s2.error);
            }
        }
        size_t bad = p->rank == 1 ? first_bad(buf, (uint32_t)k, 1, MSG, MSG) : MSG;
        if (st.error != MRAIL_SUCCESS || st.count != MSG || bad != MSG) {
            die(p, "message %d after the rail failed: error %d, %zu bytes, first bad byte %zu", k,
                st.error, (size_t)st.count, bad);
        }
    }
    free(buf);
    barrier(p);
}

/* While rank 0 streams to rank 1 over tcp, it also knocks on rank 1's
 * door as strangers: garbage, a truncated hello, a wrong secret, another
 * job, a job member that is already connected, and a bare connect. Rank 1
 * must refuse them all and lose no byte of the real traffic. */
static void check_strangers(probe_t *p)
{
    enum { MSG = 8 << 20, ROUNDS = 6 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    unsigned char *buf = malloc(MSG);
    for (int k = 0; k < ROUNDS; k++) {
        mrail_pml_request_t *r;
        if (p->rank == 0) {
            fill(buf, 0, 1, MSG);
            isend(p, buf, MSG, 1, 41, false, &r);
            char why[256];
            if (btl_stranger_knock(p->rte, 1, k % BTL_STRANGER_KINDS, why, sizeof(why)) != 0) {
                die(p, "%s", why);
            }
            wait_free(p, r);
        } else {
            irecv(p, buf, MSG, 0, 41, &r);
            wait_free(p, r);
            if (first_bad(buf, 0, 1, MSG, MSG) != MSG) {
                die(p, "message %d corrupt while strangers knocked", k);
            }
        }
    }
    free(buf);
    barrier(p);
    if (p->rank == 1) {
        /* Strangers may still be mid-handshake: give progress a moment. */
        const mrail_rails_t *rails = mrail_pml_rails(p->pml);
        unsigned refused = 0;
        for (int spin = 0; spin < 2000 && refused < ROUNDS; spin++) {
            mrail_pml_progress(p->pml);
            refused = btl_tcp_strangers_refused(rails);
            usleep(1000);
        }
        printf("rank=1 strangers_refused=%u\n", refused);
    }
}

/* Descriptors this process has open. */
static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        n += e->d_name[0] != '.';
    }
    if (d != NULL) {
        closedir(d);
    }
    return n - 1; /* the directory's own */
}

/* Keeps rank 1 in progress for secs, as a rank waiting in MPI does. */
static void progress_for(probe_t *p, double secs)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        mrail_pml_progress(p->pml);
        usleep(1000);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < secs);
}

/* Rank 0 opens thousands of connections to rank 1's tcp port that send 5
 * bytes of a hello and then nothing, and keeps them open (issue 16: 1100
 * of them pinned a rank at its descriptor limit), while it streams
 * byte-checked messages to rank 1. Rank 1's descriptors stay within
 * btl_tcp_max_pending of where they were, and come back once
 * btl_tcp_hello_timeout has passed, though rank 0 still holds them all. */
static void check_crowd(probe_t *p)
{
    enum { MSG = 4 << 20, ROUNDS = 3, CROWD = 2000, MAX_PENDING = 64, SLACK = 8 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    unsigned char *buf = malloc(MSG);
    mrail_pml_request_t *r;
    if (p->rank == 0) { /* the real connection first */
        fill(buf, 0, 1, MSG);
        isend(p, buf, MSG, 1, 51, false, &r);
        wait_free(p, r);
    } else {
        irecv(p, buf, MSG, 0, 51, &r);
        wait_free(p, r);
    }
    barrier(p);
    int base = open_fds();
    if (p->rank == 0) {
        struct rlimit lim;
        getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        int n = lim.rlim_cur > (rlim_t)CROWD + 256 ? CROWD : (int)lim.rlim_cur - 256;
        int *fds = malloc((size_t)n * sizeof(int));
        char why[256];
        for (int i = 0; i < n; i++) {
            if ((fds[i] = btl_stranger_hold(p->rte, 1, 5, why, sizeof(why))) < 0) {
                die(p, "silent connection %d: %s", i, why);
            }
        }
        for (int k = 0; k < ROUNDS; k++) {
            fill(buf, 0, 1, MSG);
            isend(p, buf, MSG, 1, 52, false, &r);
            wait_free(p, r);
        }
        char done;
        irecv(p, &done, 1, 1, 53, &r);
        wait_free(p, r);
        for (int i = 0; i < n; i++) {
            close(fds[i]);
        }
        free(fds);
        printf("rank=0 crowd=%d\n", n);
    } else {
        for (int k = 0; k < ROUNDS; k++) {
            memset(buf, 0, MSG);
            irecv(p, buf, MSG, 0, 52, &r);
            wait_free(p, r);
            if (first_bad(buf, 0, 1, MSG, MSG) != MSG) {
                die(p, "message %d corrupt among silent connections", k);
            }
        }
        int during = open_fds();
        progress_for(p, 3.0); /* past btl_tcp_hello_timeout (2 s) */
        int after = open_fds();
        const mrail_rails_t *rails = mrail_pml_rails(p->pml);
        printf("rank=1 fds_base=%d fds_during=%d fds_after=%d refused=%u\n", base, during, after,
               btl_tcp_strangers_refused(rails));
        if (during > base + MAX_PENDING + SLACK || after > base + SLACK) {
            die(p, "descriptors grew from %d to %d (%d after the hello timeout)", base, during,
                after);
        }
        char done = 1;
        isend(p, &done, 1, 0, 53, false, &r);
        wait_free(p, r);
    }
    free(buf);
    barrier(p);
}

/* Rank 0 sends to rank 1 for the first time and then computes, away from
 * MPI, for longer than rank 1's btl_tcp_hello_timeout: rank 1 gives up on
 * the connection whose hello never came. When rank 0 comes back its
 * handshake starts again and the message arrives whole; no rail fails. */
static void check_late_hello(probe_t *p)
{
    enum { MSG = 1 << 20 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    unsigned char *buf = malloc(MSG);
    mrail_pml_request_t *r;
    if (p->rank == 0) {
        fill(buf, 0, 1, MSG);
        isend(p, buf, MSG, 1, 61, false, &r); /* starts the connect */
        sleep(3);                             /* computing: no progress */
        mrail_pml_status_t st = wait_free(p, r);
        if (st.error != MRAIL_SUCCESS) {
            die(p, "the send after a late hello failed: %s", mrail_strerror(st.error));
        }
        printf("rank=0 reconnects=%u\n", btl_tcp_reconnects(mrail_pml_rails(p->pml)));
    } else {
        irecv(p, buf, MSG, 0, 61, &r);
        mrail_pml_status_t st = wait_free(p, r);
        if (st.error != MRAIL_SUCCESS || first_bad(buf, 0, 1, MSG, MSG) != MSG) {
            die(p, "the message after a late hello is %s",
                st.error != MRAIL_SUCCESS ? "an error" : "corrupt");
        }
        printf("rank=1 late_refused=%u\n", btl_tcp_strangers_refused(mrail_pml_rails(p->pml)));
    }
    free(buf);
    barrier(p);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A 4 MiB message from rank 0 to rank 1, striped, so that every rail is
 * connected before a check cuts one (a rail cut before its first
 * connection fails only after btl_tcp_connect_timeout). buf holds 4 MiB. */
static void connect_rails(probe_t *p, unsigned char *buf)
{
    mrail_pml_request_t *warm;
    if (p->rank == 0) {
        fill(buf, 9, 1, 4 << 20);
        isend(p, buf, 4 << 20, 1, 60, false, &warm);
    } else {
        irecv(p, buf, 4 << 20, 0, 60, &warm);
    }
    if (wait_free(p, warm).error != MRAIL_SUCCESS) {
        die(p, "the warm-up message failed");
    }
}

/* Every rail between ranks 0 and 1 is cut (rank 1 takes each interface of
 * --fail-if down) while rank 0 streams a message to rank 1 and each has a
 * receive posted that the other never sends. Every pending request on both
 * sides must complete with MRAIL_ERR_UNREACHABLE (the waiting side learns
 * it from keepalive probes); new operations to the peer are refused at
 * once. How long each side took is printed, not judged. */
static void check_unreachable(probe_t *p)
{
    enum { MSG = 32 << 20 };
    if (p->size < 2 || p->rank > 1 || p->fail_if == NULL) {
        barrier(p);
        return;
    }
    uint32_t peer = 1 - p->rank;
    unsigned char *buf = malloc(MSG), extra[64];
    mrail_pml_request_t *big, *never;
    connect_rails(p, buf);
    fill(buf, 0, 1, MSG);
    irecv(p, extra, sizeof(extra), (int)peer, 77, &never);
    if (p->rank == 0) {
        isend(p, buf, MSG, 1, 61, false, &big);
    } else {
        irecv(p, buf, MSG, 0, 61, &big);
        /* 100 ms of the ~330 the message takes: by the clock, since on a
         * loaded machine a hundred 1-ms sleeps can outlast the message. */
        mrail_pml_status_t st;
        double posted = seconds();
        while (seconds() - posted < 0.1 && !mrail_pml_test(p->pml, big, &st)) {
            usleep(1000);
        }
        cut(p, p->fail_if);
    }
    double cut_at = seconds();
    mrail_pml_status_t st = wait_free(p, big);
    double t_big = seconds() - cut_at;
    mrail_pml_status_t st2 = wait_free(p, never);
    if (st.error != MRAIL_ERR_UNREACHABLE || st2.error != MRAIL_ERR_UNREACHABLE) {
        die(p, "requests to a peer with every rail cut ended with %d and %d, expected %d (%s)",
            st.error, st2.error, MRAIL_ERR_UNREACHABLE, mrail_strerror(MRAIL_ERR_UNREACHABLE));
    }
    mrail_pml_request_t *r = NULL;
    int rc = mrail_pml_isend(p->pml, extra, 8, peer, 1, 0, false, &r);
    int rc2 = mrail_pml_irecv(p->pml, extra, 8, (int)peer, 1, 0, &r);
    if (rc != MRAIL_ERR_UNREACHABLE || rc2 != MRAIL_ERR_UNREACHABLE) {
        die(p, "new operations to an unreachable peer: isend %d, irecv %d", rc, rc2);
    }
    printf("rank=%u unreachable after %.2f s (%s)\n", p->rank, t_big,
           p->rank == 0 ? "sending" : "receiving");
    free(buf);
    barrier(p);
}

/* Bytes this rank's module on interface itf has sent so far. */
static unsigned long long tx_of(const probe_t *p, const char *itf)
{
    const mrail_rails_t *rails = mrail_pml_rails(p->pml);
    for (size_t i = 0; i < rails->nmodules; i++) {
        if (!strcmp(rails->modules[i]->device, itf)) {
            return (unsigned long long)rails->modules[i]->tx_bytes;
        }
    }
    return 0;
}

/* Rank 1 cuts the --fail-if rail during the first 16 MiB message and puts
 * it back once its own PML has failed the rail. Rank 0 goes on sending (every
 * byte checked) until its PML has re-admitted the rail, then three more
 * messages, and reports how many bytes the rail carried in those. */
static void check_failback(probe_t *p)
{
    enum { MSG = 16 << 20, MAX_ROUNDS = 200, AFTER = 3 };
    if (p->size < 2 || p->rank > 1 || p->fail_if == NULL) {
        barrier(p);
        return;
    }
    unsigned char *buf = malloc(MSG);
    int more = 1, after = -1, round = 0;
    bool link_back = false;
    connect_rails(p, buf);
    unsigned long long tx_before = 0;
    for (; more && round < MAX_ROUNDS; round++) {
        mrail_pml_request_t *r, *f;
        if (p->rank == 0) {
            fill(buf, (uint32_t)round, 1, MSG);
            isend(p, buf, MSG, 1, 71, false, &r);
            wait_free(p, r);
            mrail_pml_stats_t st;
            mrail_pml_stats(p->pml, &st);
            if (after < 0 && st.rails_restored > 0) {
                after = 0;
                tx_before = tx_of(p, p->fail_if);
            } else if (after >= 0) {
                after++;
            }
            more = after < AFTER;
            isend(p, &more, sizeof(more), 1, 72, false, &f);
            wait_free(p, f);
            continue;
        }
        memset(buf, 0, MSG);
        irecv(p, buf, MSG, 0, 71, &r);
        if (round == 0) {
            mrail_pml_status_t st;
            for (int spin = 0; spin < 50 && !mrail_pml_test(p->pml, r, &st); spin++) {
                usleep(1000);
            }
            cut(p, p->fail_if);
        }
        mrail_pml_status_t st = wait_free(p, r);
        if (st.error != MRAIL_SUCCESS || first_bad(buf, (uint32_t)round, 1, MSG, MSG) != MSG) {
            die(p, "message %d around the rail's cut and return is wrong (error %d)", round,
                st.error);
        }
        /* Back up only once this side saw the rail fail: under load the
         * first message may be through before the cut, and a cut undone
         * at once is a blip TCP never notices. */
        mrail_pml_stats_t mine;
        mrail_pml_stats(p->pml, &mine);
        if (!link_back && mine.rails_failed > 0) {
            char cmd[128];
            snprintf(cmd, sizeof(cmd), "ip link set %s up", p->fail_if);
            if (system(cmd) != 0) {
                die(p, "could not run: %s", cmd);
            }
            link_back = true;
        }
        irecv(p, &more, sizeof(more), 0, 72, &f);
        wait_free(p, f);
    }
    if (p->rank == 0) {
        mrail_pml_stats_t st;
        mrail_pml_stats(p->pml, &st);
        printf("rank=0 failback rounds=%d restored=%llu rail_bytes_after=%llu\n", round,
               (unsigned long long)st.rails_restored, tx_of(p, p->fail_if) - tx_before);
    }
    free(buf);
    barrier(p);
}

/* Rank 1 receives three striped messages from rank 0: into one buffer,
 * into pieces of 64 KiB, and into 8000-byte pieces with gaps between them
 * (more pieces per fragment than a btl can place). Every byte is checked,
 * the gaps must stay untouched, and rank 1 prints how many fragments a btl
 * read straight into the buffer for each, for the test to judge. */
static void check_placed(probe_t *p)
{
    enum { MSG = 8 << 20, COARSE = 64 << 10, FINE = 8000, GAP = 100 };
    if (p->size < 2 || p->rank > 1) {
        barrier(p);
        return;
    }
    size_t fine_pieces = (MSG + FINE - 1) / FINE;
    unsigned char *buf = malloc(MSG), *spread = malloc(fine_pieces * (FINE + GAP));
    struct iovec *iov = malloc(fine_pieces * sizeof(*iov));
    const char *names[] = {"contiguous", "coarse", "fine"};
    uint64_t placed[3] = {0};
    for (int k = 0; k < 3; k++) {
        mrail_pml_request_t *r;
        if (p->rank == 0) {
            fill(buf, 0, 1, MSG);
            isend(p, buf, MSG, 1, 41, false, &r);
            wait_free(p, r);
            continue;
        }
        mrail_pml_stats_t before, after;
        mrail_pml_stats(p->pml, &before);
        size_t piece = k == 1 ? COARSE : FINE, gap = k == 2 ? GAP : 0;
        int niov = 0;
        memset(spread, 0xA5, fine_pieces * (FINE + GAP));
        for (size_t at = 0; at < MSG; at += piece) {
            size_t n = MSG - at < piece ? MSG - at : piece;
            iov[niov++] = (struct iovec){spread + (at / piece) * (piece + gap), n};
        }
        int rc = k == 0 ? mrail_pml_irecv(p->pml, buf, MSG, 0, 41, 0, &r)
                        : mrail_pml_irecvv(p->pml, iov, niov, 0, 41, 0, &r);
        if (rc != MRAIL_SUCCESS) {
            die(p, "receive %s failed: %d", names[k], rc);
        }
        wait_free(p, r);
        mrail_pml_stats(p->pml, &after);
        placed[k] = after.frags_placed - before.frags_placed;
        for (int i = 0; k > 0 && i < niov; i++) {
            memcpy(buf + (size_t)i * piece, iov[i].iov_base, iov[i].iov_len);
            for (size_t g = 0; g < gap && i + 1 < niov; g++) {
                if (((unsigned char *)iov[i].iov_base)[iov[i].iov_len + g] != 0xA5) {
                    die(p, "receive %s wrote into the gap after piece %d", names[k], i);
                }
            }
        }
        size_t bad = first_bad(buf, 0, 1, MSG, MSG);
        if (bad != MSG) {
            die(p, "receive %s: byte %zu is wrong", names[k], bad);
        }
    }
    if (p->rank == 1) {
        printf("rank=1 placed contiguous=%llu coarse=%llu fine=%llu\n",
               (unsigned long long)placed[0], (unsigned long long)placed[1],
               (unsigned long long)placed[2]);
    }
    free(iov);
    free(spread);
    free(buf);
    barrier(p);
}

/* Connections this rank's tcp modules have made or accepted. */
static unsigned tcp_connections(const probe_t *p)
{
    return btl_tcp_connections(mrail_pml_rails(p->pml));
}

/* tcp connects lazily: after a ring exchange (both ways, eager and
 * rendezvous) a rank holds connections to its neighbours only, and only to
 * those sm does not reach; after rank 0 sends to everyone, rank 0 holds one
 * per rank on other hosts. The counts are printed for the test to judge. */
static void check_lazy(probe_t *p)
{
    enum { BIG = 1 << 20, SMALL = 100 };
    unsigned char *sbuf = malloc(BIG), *rbuf = malloc(BIG);
    uint32_t next = (p->rank + 1) % p->size, prev = (p->rank + p->size - 1) % p->size;
    size_t sizes[] = {SMALL, BIG};
    for (int k = 0; k < 2 && p->size > 1; k++) {
        mrail_pml_request_t *r[4];
        unsigned char *rb2 = malloc(sizes[k]), *sb2 = malloc(sizes[k]);
        fill(sbuf, p->rank, next, sizes[k]);
        fill(sb2, p->rank, prev, sizes[k]);
        irecv(p, rbuf, sizes[k], (int)prev, 5, &r[0]);
        irecv(p, rb2, sizes[k], (int)next, 6, &r[1]);
        isend(p, sbuf, sizes[k], next, 5, false, &r[2]);
        isend(p, sb2, sizes[k], prev, 6, false, &r[3]);
        for (int i = 0; i < 4; i++) {
            wait_free(p, r[i]);
        }
        if (first_bad(rbuf, prev, p->rank, sizes[k], sizes[k]) != sizes[k] ||
            first_bad(rb2, next, p->rank, sizes[k], sizes[k]) != sizes[k]) {
            die(p, "ring exchange of %zu bytes corrupt", sizes[k]);
        }
        free(rb2);
        free(sb2);
    }
    barrier(p);
    printf("rank=%u ring tcp_connections=%u\n", p->rank, tcp_connections(p));
    if (p->rank == 0) {
        for (uint32_t d = 1; d < p->size; d++) {
            mrail_pml_request_t *r;
            fill(sbuf, 0, d, SMALL);
            isend(p, sbuf, SMALL, d, 8, false, &r);
            wait_free(p, r);
        }
    } else {
        mrail_pml_request_t *r;
        irecv(p, rbuf, SMALL, 0, 8, &r);
        wait_free(p, r);
        if (first_bad(rbuf, 0, p->rank, SMALL, SMALL) != SMALL) {
            die(p, "fan-out message corrupt");
        }
    }
    barrier(p);
    printf("rank=%u fanout tcp_connections=%u\n", p->rank, tcp_connections(p));
    free(sbuf);
    free(rbuf);
}

int main(int argc, char **argv)
{
    probe_t p = {.max = 64u << 20, .fail_rank = 1};
    const char *checks = "exchange,order,truncate,outstanding,probe,cancel,anysource";
    bool stats = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc) {
            p.max = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--checks") && i + 1 < argc) {
            checks = argv[++i];
        } else if (!strcmp(argv[i], "--fail-if") && i + 1 < argc) {
            p.fail_if = argv[++i];
        } else if (!strcmp(argv[i], "--fail-rank") && i + 1 < argc) {
            p.fail_rank = (uint32_t)strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--fail-at-start")) {
            p.fail_at_start = true;
        } else if (!strcmp(argv[i], "--stats")) {
            stats = true;
        } else if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
            i++; /* lets a test find its own processes with pgrep -f */
        } else {
            fprintf(stderr, "pml_probe: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    mrail_reason_t why;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    if (mrail_rte_init(&p.rte, &why) != MRAIL_SUCCESS ||
        mrail_mca_open(NULL, &mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "pml_probe: %s\n", why.text);
        return 1;
    }
    p.rank = mrail_rte_facts(p.rte)->rank;
    p.size = mrail_rte_facts(p.rte)->size;
    if (mrail_frameworks_open(mca, &fws) != MRAIL_SUCCESS ||
        mrail_frameworks_select(fws) != MRAIL_SUCCESS ||
        mrail_pml_open(p.rte, fws, &p.pml, &why) != MRAIL_SUCCESS) {
        for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
            fprintf(stderr, "pml_probe: %s\n", mrail_mca_diag_text(mca, i, NULL));
        }
        fprintf(stderr, "pml_probe: %s\n", why.text);
        return 1;
    }
    static const struct {
        const char *name;
        void (*fn)(probe_t *);
    } all[] = {{"exchange", check_exchange},
               {"order", check_order},
               {"contexts", check_contexts},
               {"truncate", check_truncate},
               {"outstanding", check_outstanding},
               {"probe", check_probe_and_cancel},
               {"anysource", check_anysource},
               {"stripe", check_stripe},
               {"strangers", check_strangers},
               {"crowd", check_crowd},
               {"late_hello", check_late_hello},
               {"failover", check_failover},
               {"lazy", check_lazy},
               {"unreachable", check_unreachable},
               {"failback", check_failback},
               {"placed", check_placed},
               {"bidir", check_bidir}};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        if (strstr(checks, all[k].name) != NULL) {
            all[k].fn(&p);
            printf("rank=%u check=%s ok\n", p.rank, all[k].name);
            fflush(stdout);
        }
    }
    if (stats) {
        mrail_pml_stats_t st;
        mrail_pml_stats(p.pml, &st);
        printf("rank=%u stats eager=%llu rendezvous=%llu rget=%llu resent=%llu dup_dropped=%llu "
               "rails_failed=%llu frags_waited=%llu max_inflight=%llu ctl_resent=%llu "
               "ctl_dup_dropped=%llu rails_stalled=%llu frags_placed=%llu frags_stolen=%llu\n",
               p.rank, (unsigned long long)st.eager, (unsigned long long)st.rendezvous,
               (unsigned long long)st.rget, (unsigned long long)st.resent,
               (unsigned long long)st.dup_dropped, (unsigned long long)st.rails_failed,
               (unsigned long long)st.frags_waited, (unsigned long long)st.max_inflight,
               (unsigned long long)st.ctl_resent, (unsigned long long)st.ctl_dup_dropped,
               (unsigned long long)st.rails_stalled, (unsigned long long)st.frags_placed,
               (unsigned long long)st.frags_stolen);
    }
    mrail_pml_close(p.pml);
    mrail_frameworks_close(fws);
    mrail_mca_close(mca);
    mrail_rte_finalize(p.rte);
    return 0;
}
