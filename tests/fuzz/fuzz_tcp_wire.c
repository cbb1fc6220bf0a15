/* libFuzzer harness: what btl/tcp reads from a connection.
 *
 * The input is the byte stream a peer sends: the 24-byte hello of an
 * accepted connection, then frames ([btl_tcp_frame_t][header][payload]).
 * It goes through a socketpair into btl/tcp's own code: the pending
 * connection's hello check (btl_tcp_pending_read), then, once a hello is
 * adopted, the receive state machine (btl_tcp_ep_receive) with a payload
 * placement callback on one tag, until the stream ends. The first input
 * byte sets the state the hello's endpoint is in (so that adopting, a
 * connect race and a failed rail being rebuilt are all reached). Checked
 * besides the sanitizers: every delivered frame's segments hold exactly a
 * header and payload no longer than a frame may be, and a placed payload
 * lies inside the buffer it was placed in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btl_tcp.h"

#define JOB 0x1122334455667788ull
#define SECRET 0x99aabbccddeeff00ull
#define NRANKS 4
#define MY_RANK 1
#define TAG_PLACED 2

static char place_buf[1 << 16];
static uint64_t place_live = 1;

static void fail_check(const char *what)
{
    fprintf(stderr, "fuzz_tcp_wire: %s\n", what);
    abort();
}

static void on_frame(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, uint32_t peer,
                     mrail_btl_tag_t tag, const struct iovec *segs, int nsegs, void *ctx)
{
    (void)m, (void)ep, (void)ctx;
    size_t total = 0;
    for (int i = 0; i < nsegs; i++) {
        total += segs[i].iov_len;
        const char *at = segs[i].iov_base, *end = place_buf + sizeof(place_buf);
        if (tag == TAG_PLACED && i > 0 && at >= place_buf && at < end &&
            segs[i].iov_len > (size_t)(end - at)) {
            fail_check("a placed payload runs past its place");
        }
    }
    if (peer >= NRANKS || nsegs < 1 || segs[0].iov_len > UINT16_MAX ||
        total > MRAIL_BTL_SEND_SIZE_LIMIT) {
        fail_check("a frame was delivered with impossible segments");
    }
}

/* The header's first two bytes say where in place_buf the payload goes. */
static void on_place(mrail_btl_module_t *m, uint32_t peer, mrail_btl_tag_t tag, const void *hdr,
                     size_t hdr_len, size_t payload_len, mrail_btl_place_t *out, void *ctx)
{
    (void)m, (void)peer, (void)tag, (void)ctx;
    uint16_t at;
    if (hdr_len < sizeof(at)) {
        return;
    }
    memcpy(&at, hdr, sizeof(at));
    if (payload_len > sizeof(place_buf) - at) { /* at < 64 KiB, the size of place_buf */
        return;
    }
    out->iov[0] = (struct iovec){place_buf + at, payload_len / 2};
    out->iov[1] = (struct iovec){place_buf + at + payload_len / 2, payload_len - payload_len / 2};
    out->niov = 2;
    out->live = &place_live;
    out->live_value = place_live;
}

static void on_error(mrail_btl_module_t *m, uint32_t peer, int status, const char *what, void *ctx)
{
    (void)m, (void)peer, (void)status, (void)what, (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static const btl_tcp_ep_state_t states[] = {BTL_TCP_EP_IDLE, BTL_TCP_EP_WAITING,
                                                BTL_TCP_EP_FAILED};
    mrail_btl_am_table_t am = {.on_error = on_error};
    mrail_btl_am_register(&am, 1, on_frame, NULL);
    mrail_btl_am_register(&am, TAG_PLACED, on_frame, NULL);
    mrail_btl_am_register_place(&am, TAG_PLACED, on_place);
    btl_tcp_module_t *m = calloc(1, sizeof(*m));
    mrail_btl_endpoint_t *eps = calloc(NRANKS, sizeof(*eps));
    btl_tcp_pending_t *p = calloc(1, sizeof(*p));
    int sv[2];
    if (m == NULL || eps == NULL || p == NULL ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        fail_check("out of resources");
    }
    snprintf(m->base.name, sizeof(m->base.name), "tcp:fuzz");
    m->base.am = &am;
    m->base.config.max_send_size = 128 * 1024;
    m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    m->listen_fd = -1;
    m->my_rank = MY_RANK;
    m->size = NRANKS;
    m->job = JOB;
    m->secret = SECRET;
    m->eps = eps;
    for (uint32_t r = 0; r < NRANKS; r++) {
        eps[r] =
            (mrail_btl_endpoint_t){.module = m, .rank = r == MY_RANK ? UINT32_MAX : r, .fd = -1};
    }
    eps[0].state = states[data[0] % 3];
    p->fd = sv[0];
    m->pending = p;
    m->npending = 1;

    /* The peer's side: everything at once, then end of stream. */
    size_t off = 1;
    while (off < size) {
        ssize_t n = write(sv[1], data + off, size - off);
        if (n <= 0) {
            break; /* inputs are kept below the socket buffer */
        }
        off += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);

    btl_tcp_pending_read(m, p);
    for (uint32_t r = 0; r < NRANKS; r++) {
        while (eps[r].state == BTL_TCP_EP_CONNECTED) {
            btl_tcp_ep_receive(m, &eps[r]);
        }
    }
    btl_tcp_pending_free_closed(m);
    if (m->pending != NULL) { /* a truncated hello: still waiting for the rest */
        btl_tcp_pending_close(m, m->pending);
        btl_tcp_pending_free_closed(m);
    }
    for (uint32_t r = 0; r < NRANKS; r++) {
        if (eps[r].fd >= 0) {
            close(eps[r].fd);
        }
        free(eps[r].body);
    }
    close(sv[1]);
    close(m->epoll_fd);
    free(eps);
    free(m);
    return 0;
}
