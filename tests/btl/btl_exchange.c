/* Rank program for the BTL tests, launched through mrun: wires up the btl
 * modules the MCA selects, routes each peer through the module of highest
 * exclusivity that reaches it, and moves messages of every size class to
 * every rank (itself included) three ways: fragmented sends, get (receiver
 * pulls) and put (sender pushes); rget is get of memory the sender
 * registered first (btl/sm then shares the copy). Every byte is checked.
 *
 *   btl_exchange [--sizes a,b,...] [--paths send,get,rget,put] [--backpressure N]
 *                [--die RANK] [--tag T] [--undumpable]
 * Prints "rank=R ..." lines; exits non-zero on any mismatch or error. */
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mrail/rails.h"

enum { TAG_FRAG = 1, TAG_RTS_GET, TAG_RTS_PUT, TAG_CTS, TAG_FIN, TAG_BP };

#define REG_MAX 64

typedef struct wire_hdr {
    uint32_t src, kind;
    uint64_t total, offset, addr;
    uint32_t reg_len; /* rget: the sender's registration */
    unsigned char reg[REG_MAX];
} wire_hdr_t;

typedef struct peer_state {
    mrail_btl_module_t *module;
    mrail_btl_endpoint_t *ep;
    /* receive side, for the current phase */
    unsigned char *rbuf;
    uint64_t rtotal, rgot;
    bool rdone;
    /* send side, for the current phase */
    bool fin, cts;
    uint64_t cts_addr;
    int inflight; /* sends and rdma not completed yet */
} peer_state_t;

typedef struct exchange {
    mrail_rte_t *rte;
    uint32_t rank, size;
    peer_state_t *peers;
    mrail_rails_t rails;
    mrail_btl_am_table_t am;
    int errors;
    uint64_t bp_next; /* back-pressure: next sequence expected */
    uint64_t verified_msgs, verified_bytes;
} exchange_t;

/* Byte i of the message src -> dst of size bytes: 64-bit words that depend
 * on the pair, the size and the position, so that a lost, repeated or
 * misplaced piece shows; word-wise to keep 4 GiB runs cheap. */
static uint64_t pattern_word(uint32_t src, uint32_t dst, uint64_t size, uint64_t word)
{
    uint64_t seed = ((uint64_t)src << 48) ^ ((uint64_t)dst << 32) ^ size;
    return (seed + word) * 0x9E3779B97F4A7C15ull;
}

static unsigned char pattern(uint32_t src, uint32_t dst, uint64_t size, uint64_t i)
{
    return (unsigned char)(pattern_word(src, dst, size, i / 8) >> (8 * (i % 8)));
}

static void pattern_fill(unsigned char *buf, uint32_t src, uint32_t dst, uint64_t size)
{
    uint64_t words = size / 8;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t v = pattern_word(src, dst, size, w);
        memcpy(buf + 8 * w, &v, 8);
    }
    for (uint64_t i = 8 * words; i < size; i++) {
        buf[i] = pattern(src, dst, size, i);
    }
}

/* Index of the first wrong byte, or size when all are right. */
static uint64_t pattern_check(const unsigned char *buf, uint32_t src, uint32_t dst, uint64_t size)
{
    uint64_t words = size / 8;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t v = pattern_word(src, dst, size, w), got;
        memcpy(&got, buf + 8 * w, 8);
        if (got != v) {
            return 8 * w;
        }
    }
    for (uint64_t i = 8 * words; i < size; i++) {
        if (buf[i] != pattern(src, dst, size, i)) {
            return i;
        }
    }
    return size;
}

static void fail(exchange_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(exchange_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rank=%u error: ", x->rank);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    x->errors++;
}

static void progress_all(exchange_t *x)
{
    if (mrail_rails_progress(&x->rails) == 0) {
        sched_yield(); /* oversubscribed runs: let the peer we wait for run */
    }
}

static void on_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    peer_state_t *p = cbdata;
    p->inflight--;
    if (status != MRAIL_SUCCESS) {
        fprintf(stderr, "an operation failed with status %d\n", status);
        exit(3);
    }
}

static void ctl_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    free(cbdata);
    if (status != MRAIL_SUCCESS) {
        fprintf(stderr, "a control message failed with status %d\n", status);
        exit(3);
    }
}

/* Never waits: callbacks call it, and a callback must not block on its peer. */
static void send_ctl(exchange_t *x, uint32_t to, uint8_t tag, const wire_hdr_t *h)
{
    peer_state_t *p = &x->peers[to];
    wire_hdr_t *copy = malloc(sizeof(*copy));
    *copy = *h;
    int rc = p->module->send(p->module, p->ep, tag, copy, sizeof(*copy), NULL, 0, ctl_done, copy);
    if (rc == MRAIL_SUCCESS) {
        free(copy);
    } else if (rc != MRAIL_INPROGRESS) {
        free(copy);
        fail(x, "control message to rank %u failed", to);
    }
}

static void check_recv(exchange_t *x, peer_state_t *p, uint32_t src)
{
    uint64_t bad = pattern_check(p->rbuf, src, x->rank, p->rtotal);
    if (bad != p->rtotal) {
        fail(x, "message of %llu bytes from rank %u is wrong from byte %llu on",
             (unsigned long long)p->rtotal, src, (unsigned long long)bad);
    }
    p->rdone = true;
    x->verified_msgs++;
    x->verified_bytes += p->rtotal;
}

static void recv_alloc(peer_state_t *p, uint64_t total)
{
    if (p->rbuf == NULL) {
        p->rbuf = malloc(total ? total : 1);
        p->rtotal = total;
        p->rgot = 0;
    }
}

static void on_get_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata);

/* All tags land here; segs[0] is a wire_hdr_t. */
static void on_message(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t src,
                       mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)m, (void)ep;
    exchange_t *x = ctx;
    wire_hdr_t h;
    memcpy(&h, segs[0].iov_base, sizeof(h));
    peer_state_t *p = &x->peers[src];
    size_t payload = nsegs > 1 ? segs[1].iov_len : 0;
    for (int i = 2; i < nsegs; i++) {
        payload += segs[i].iov_len;
    }
    switch (tag) {
    case TAG_FRAG: {
        recv_alloc(p, h.total);
        size_t at = h.offset;
        for (int i = 1; i < nsegs; i++) {
            memcpy(p->rbuf + at, segs[i].iov_base, segs[i].iov_len);
            at += segs[i].iov_len;
        }
        p->rgot += payload;
        if (p->rgot == p->rtotal) {
            check_recv(x, p, src);
        }
        break;
    }
    case TAG_RTS_GET: {
        recv_alloc(p, h.total);
        int rc = p->module->get(p->module, p->ep, p->rbuf, h.addr, h.reg_len ? h.reg : NULL,
                                h.total, on_get_done, p);
        if (rc == MRAIL_SUCCESS) {
            on_get_done(p->module, p->ep, MRAIL_SUCCESS, p);
        } else if (rc != MRAIL_INPROGRESS) {
            fail(x, "get from rank %u failed", src);
        }
        break;
    }
    case TAG_RTS_PUT: {
        recv_alloc(p, h.total);
        wire_hdr_t cts = {.src = x->rank, .total = h.total, .addr = (uintptr_t)p->rbuf};
        send_ctl(x, src, TAG_CTS, &cts);
        break;
    }
    case TAG_CTS:
        p->cts = true;
        p->cts_addr = h.addr;
        break;
    case TAG_FIN:
        if (h.kind == TAG_RTS_PUT) {
            check_recv(x, p, src); /* the put landed before FIN was sent */
        } else {
            p->fin = true;
        }
        break;
    case TAG_BP: {
        unsigned char want = (unsigned char)h.offset;
        if (h.offset != x->bp_next++ || payload != h.total) {
            fail(x, "back-pressure message %llu out of order or cut", (unsigned long long)h.offset);
        }
        for (size_t i = 0; i < payload; i++) {
            if (((unsigned char *)segs[1].iov_base)[i] != (unsigned char)(want + i)) {
                fail(x, "back-pressure message %llu corrupt", (unsigned long long)h.offset);
                break;
            }
        }
        x->verified_msgs++;
        x->verified_bytes += payload;
        break;
    }
    }
}

static void on_get_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep;
    peer_state_t *p = cbdata;
    exchange_t *x = p->module->am->tag[TAG_FRAG].ctx;
    uint32_t src = (uint32_t)(p - x->peers);
    if (status != MRAIL_SUCCESS) {
        fail(x, "get from rank %u failed", src);
        return;
    }
    check_recv(x, p, src);
    wire_hdr_t fin = {.src = x->rank, .kind = TAG_RTS_GET};
    send_ctl(x, src, TAG_FIN, &fin);
}

static void on_error(mrail_btl_module_t *m, uint32_t peer, int status, const char *what, void *ctx)
{
    (void)m, (void)peer, (void)status;
    exchange_t *x = ctx;
    fail(x, "btl error: %s", what);
}

/* Sends size bytes to dst by path; returns once the data is at dst. */
static void send_one(exchange_t *x, uint32_t dst, const char *path, uint64_t size,
                     unsigned char *buf)
{
    peer_state_t *p = &x->peers[dst];
    pattern_fill(buf, x->rank, dst, size);
    p->fin = p->cts = false;
    wire_hdr_t h = {.src = x->rank, .total = size, .addr = (uintptr_t)buf};
    if (!strcmp(path, "send")) {
        size_t chunk = p->module->config.max_send_size - sizeof(h);
        uint64_t off = 0;
        do {
            h.offset = off;
            size_t n = size - off < chunk ? size - off : chunk;
            struct iovec iov = {buf + off, n};
            /* A header per send: the one in h is reused for the next chunk. */
            wire_hdr_t *hc = malloc(sizeof(*hc));
            *hc = h;
            p->inflight++;
            int rc =
                p->module->send(p->module, p->ep, TAG_FRAG, hc, sizeof(*hc), &iov, 1, on_done, p);
            if (rc == MRAIL_SUCCESS) {
                p->inflight--;
            } else if (rc != MRAIL_INPROGRESS) {
                fail(x, "send to rank %u failed", dst);
                return;
            }
            /* Free headers once the module is done with them. */
            while (p->inflight > 0) {
                progress_all(x);
            }
            free(hc);
            off += n;
        } while (off < size);
        return;
    }
    if (!strcmp(path, "get") || !strcmp(path, "rget")) {
        mrail_btl_module_t *m = p->module;
        bool reg = !strcmp(path, "rget") && m->reg_size > 0 && m->reg_size <= REG_MAX;
        if (reg && m->mem_register(m, buf, size, h.reg) != MRAIL_SUCCESS) {
            fail(x, "registering %llu bytes for rank %u failed", (unsigned long long)size, dst);
            return;
        }
        h.reg_len = reg ? (uint32_t)m->reg_size : 0;
        send_ctl(x, dst, TAG_RTS_GET, &h);
        while (!p->fin && x->errors == 0) {
            progress_all(x);
        }
        if (reg) {
            m->mem_deregister(m, h.reg);
        }
        return;
    }
    send_ctl(x, dst, TAG_RTS_PUT, &h);
    while (!p->cts && x->errors == 0) {
        progress_all(x);
    }
    p->inflight++;
    int rc = p->module->put(p->module, p->ep, buf, p->cts_addr, NULL, size, on_done, p);
    if (rc == MRAIL_SUCCESS) {
        p->inflight--;
    } else if (rc != MRAIL_INPROGRESS) {
        fail(x, "put to rank %u failed", dst);
    }
    while (p->inflight > 0) {
        progress_all(x);
    }
    wire_hdr_t fin = {.src = x->rank, .kind = TAG_RTS_PUT};
    send_ctl(x, dst, TAG_FIN, &fin);
}

/* Round d: send to rank + d, receive from rank - d. */
static void phase(exchange_t *x, const char *path, uint64_t size, int die_rank)
{
    unsigned char *buf = malloc(size ? size : 1);
    for (uint32_t d = 0; d < x->size && x->errors == 0; d++) {
        uint32_t dst = (x->rank + d) % x->size, src = (x->rank + x->size - d) % x->size;
        if ((int)x->rank == die_rank && d == 1) {
            raise(SIGKILL); /* mid-transfer: the others are sending to us */
        }
        send_one(x, dst, path, size, buf);
        peer_state_t *p = &x->peers[src];
        while (!p->rdone && x->errors == 0) {
            progress_all(x);
        }
    }
    free(buf);
    mrail_reason_t why;
    if (mrail_rte_barrier(x->rte, &why) != MRAIL_SUCCESS) {
        fail(x, "barrier: %s", why.text);
    }
    for (uint32_t r = 0; r < x->size; r++) {
        free(x->peers[r].rbuf);
        x->peers[r].rbuf = NULL;
        x->peers[r].rdone = false;
    }
    if (x->errors == 0) {
        printf("rank=%u phase=%s:%llu ok\n", x->rank, path, (unsigned long long)size);
        fflush(stdout);
    }
}

/* Rank 0 floods rank 1 with far more than a ring holds while rank 1 sleeps. */
static void backpressure(exchange_t *x, unsigned count)
{
    enum { BP_SIZE = 3000 };
    if (x->rank == 0 && x->size > 1) {
        peer_state_t *p = &x->peers[1];
        unsigned char *bufs = malloc((size_t)count * BP_SIZE);
        wire_hdr_t *hdrs = malloc((size_t)count * sizeof(*hdrs));
        for (unsigned k = 0; k < count; k++) {
            for (size_t i = 0; i < BP_SIZE; i++) {
                bufs[(size_t)k * BP_SIZE + i] = (unsigned char)((unsigned char)k + i);
            }
            hdrs[k] = (wire_hdr_t){.src = 0, .total = BP_SIZE, .offset = k};
            struct iovec iov = {bufs + (size_t)k * BP_SIZE, BP_SIZE};
            p->inflight++;
            /* Every other one through sendi, which may say "not now". */
            int rc = k % 2 ? p->module->sendi(p->module, p->ep, TAG_BP, &hdrs[k], sizeof(hdrs[k]),
                                              iov.iov_base, BP_SIZE)
                           : MRAIL_ERR_AGAIN;
            if (rc == MRAIL_ERR_AGAIN) {
                rc = p->module->send(p->module, p->ep, TAG_BP, &hdrs[k], sizeof(hdrs[k]), &iov, 1,
                                     on_done, p);
            }
            if (rc == MRAIL_SUCCESS) {
                p->inflight--;
            } else if (rc != MRAIL_INPROGRESS) {
                fail(x, "back-pressure send %u failed", k);
            }
        }
        while (p->inflight > 0) {
            progress_all(x);
        }
        free(bufs);
        free(hdrs);
    } else if (x->rank == 1) {
        usleep(300 * 1000);
        while (x->bp_next < count && x->errors == 0) {
            progress_all(x);
        }
    }
    mrail_reason_t why;
    mrail_rte_barrier(x->rte, &why);
    if (x->errors == 0) {
        printf("rank=%u phase=backpressure:%u ok\n", x->rank, count);
    }
}

/* Each peer goes through its first rail: the table keeps only the modules
 * of highest exclusivity (self for ourselves, sm on the node). */
static int wire_up(exchange_t *x, mrail_frameworks_t *fws)
{
    mrail_reason_t why;
    if (mrail_rails_connect(fws, x->rte, &x->am, &x->rails, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "rank=%u: %s\n", x->rank, why.text);
        return 1;
    }
    for (uint32_t r = 0; r < x->size; r++) {
        const mrail_peer_rails_t *pr = mrail_rail_table_peer(&x->rails.table, r);
        x->peers[r].module = pr->rails[0].module;
        x->peers[r].ep = pr->rails[0].ep;
        printf("rank=%u route peer=%u via=%s\n", x->rank, r, x->peers[r].module->name);
    }
    return 0;
}

static size_t split(const char *text, char **items, size_t max)
{
    size_t n = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
        items[n++] = strdup(t);
    }
    free(copy);
    return n;
}

int main(int argc, char **argv)
{
    const char *sizes_arg = "0,1,4095,4096,4097,65536,1048576", *paths_arg = "send,get,put";
    int die = -1;
    unsigned bp = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            sizes_arg = argv[++i];
        } else if (!strcmp(argv[i], "--paths") && i + 1 < argc) {
            paths_arg = argv[++i];
        } else if (!strcmp(argv[i], "--die") && i + 1 < argc) {
            die = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--backpressure") && i + 1 < argc) {
            bp = (unsigned)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
            i++;
        } else if (!strcmp(argv[i], "--undumpable")) {
            /* Without CAP_SYS_PTRACE, peers may no longer read our memory
             * with CMA: the kernel refuses, as under Yama ptrace_scope. */
            prctl(PR_SET_DUMPABLE, 0);
        } else {
            fprintf(stderr, "btl_exchange: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    exchange_t x = {0};
    mrail_reason_t why;
    if (mrail_rte_init(&x.rte, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "btl_exchange: %s\n", why.text);
        return 1;
    }
    x.rank = mrail_rte_facts(x.rte)->rank;
    x.size = mrail_rte_facts(x.rte)->size;
    x.peers = calloc(x.size, sizeof(*x.peers));
    for (int t = TAG_FRAG; t <= TAG_BP; t++) {
        mrail_btl_am_register(&x.am, (mrail_btl_tag_t)t, on_message, &x);
    }
    x.am.on_error = on_error;
    x.am.error_ctx = &x;

    mrail_mca_t *mca;
    mrail_frameworks_t *fws = NULL;
    if (mrail_mca_open(NULL, &mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "btl_exchange: %s\n", why.text);
        return 1;
    }
    if (mrail_frameworks_open(mca, &fws) != MRAIL_SUCCESS ||
        mrail_frameworks_select(fws) != MRAIL_SUCCESS) {
        for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
            fprintf(stderr, "btl_exchange: %s\n", mrail_mca_diag_text(mca, i, NULL));
        }
        return 1;
    }
    if (wire_up(&x, fws) != 0) {
        return 1;
    }
    printf("rank=%u job=%s\n", x.rank, mrail_rte_facts(x.rte)->job);
    for (size_t i = 0; i < x.rails.nmodules; i++) {
        printf("rank=%u module=%s note=%s\n", x.rank, x.rails.modules[i]->name,
               x.rails.modules[i]->note);
    }
    fflush(stdout);

    char *sizes[32], *paths[8];
    size_t nsizes = split(sizes_arg, sizes, 32), npaths = split(paths_arg, paths, 8);
    for (size_t pi = 0; pi < npaths && x.errors == 0; pi++) {
        for (size_t si = 0; si < nsizes && x.errors == 0; si++) {
            phase(&x, paths[pi], strtoull(sizes[si], NULL, 10), die);
        }
    }
    if (bp > 0 && x.errors == 0) {
        backpressure(&x, bp);
    }
    printf("rank=%u verified=%llu messages %llu bytes errors=%d\n", x.rank,
           (unsigned long long)x.verified_msgs, (unsigned long long)x.verified_bytes, x.errors);
    fflush(stdout);
    mrail_rails_disconnect(&x.rails);
    mrail_frameworks_close(fws); /* finalizes the modules */
    mrail_mca_close(mca);
    for (size_t i = 0; i < nsizes; i++) {
        free(sizes[i]);
    }
    for (size_t i = 0; i < npaths; i++) {
        free(paths[i]);
    }
    free(x.peers);
    mrail_rte_finalize(x.rte);
    return x.errors ? 1 : 0;
}
