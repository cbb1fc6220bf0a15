/* btl/tcp data path: wire-up, the handshake, framed sends, epoll progress. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "btl_tcp.h"

/* epoll data: what a ready fd is, in the pointer's low bits. */
enum { TAG_EP = 0, TAG_PENDING = 1, TAG_LISTEN = 2 };
#define TAGGED(p, t) ((uint64_t)(uintptr_t)(p) | (t))
#define UNTAG(v) ((void *)(uintptr_t)((v) & ~(uint64_t)3))

static btl_tcp_module_t *tcp_of(mrail_btl_module_t *m)
{
    return (btl_tcp_module_t *)m;
}

static uint64_t hash_job(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Buffer sizes must be set before connect/listen to shape the window. */
static void size_buffers(const btl_tcp_module_t *m, int fd)
{
    int snd = m->cfg.sndbuf > INT_MAX ? INT_MAX : (int)m->cfg.sndbuf;
    int rcv = m->cfg.rcvbuf > INT_MAX ? INT_MAX : (int)m->cfg.rcvbuf;
    if (snd > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
    }
    if (rcv > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    }
}

/* A rail that stops acknowledging for user_timeout ms fails (ETIMEDOUT),
 * so that the PML moves its traffic; the kernel alone would wait minutes. */
static void tune(const btl_tcp_module_t *m, int fd)
{
    int one = 1;
    unsigned ut = m->cfg.user_timeout;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (ut > 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
    }
}

static int key_put(btl_tcp_module_t *m, const char *key, const void *v, size_t len,
                   mrail_reason_t *why)
{
    return mrail_rte_modex_put(m->base.rte, key, v, len, why);
}

static int tcp_wire_up(mrail_btl_module_t *module, mrail_reason_t *why)
{
    btl_tcp_module_t *m = tcp_of(module);
    const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
    m->my_rank = f->rank;
    m->size = f->size;
    m->job = hash_job(f->job);
    m->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = m->dev.addr};
    socklen_t salen = sizeof(sa);
    if (m->listen_fd >= 0) {
        size_buffers(m, m->listen_fd); /* accepted connections inherit them */
    }
    if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(m->listen_fd, 128) != 0 ||
        getsockname(m->listen_fd, (struct sockaddr *)&sa, &salen) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: cannot listen on %s: %s", module->name,
                                inet_ntoa(m->dev.addr), strerror(errno));
    }
    m->port = sa.sin_port;
    m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAGGED(m, TAG_LISTEN)};
    if (m->epoll_fd < 0 || epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: epoll: %s", module->name, strerror(errno));
    }
    btl_tcp_modex_t entry = {.magic = BTL_TCP_MAGIC,
                             .addr = m->dev.addr.s_addr,
                             .netmask = m->dev.netmask.s_addr,
                             .port = m->port,
                             .ifindex = m->dev.ifindex};
    char key[64];
    snprintf(key, sizeof(key), "btl.tcp.%u", m->index);
    int rc = key_put(m, key, &entry, sizeof(entry), why);
    if (rc == MRAIL_SUCCESS && m->index == 0) {
        uint32_t count = btl_tcp_module_count();
        rc = key_put(m, "btl.tcp.count", &count, sizeof(count), why);
        mrail_route_t *routes = NULL;
        size_t nroutes = 0;
        if (rc == MRAIL_SUCCESS) {
            rc = mrail_routes_list(&routes, &nroutes, why);
        }
        if (rc == MRAIL_SUCCESS) {
            nroutes = nroutes < BTL_TCP_MAX_ROUTES ? nroutes : BTL_TCP_MAX_ROUTES;
            rc = key_put(m, "btl.tcp.routes", routes, nroutes * sizeof(*routes), why);
        }
        free(routes);
        if (rc == MRAIL_SUCCESS && m->my_rank == 0) {
            uint64_t secret = 0;
            if (getrandom(&secret, sizeof(secret), 0) != sizeof(secret)) {
                secret = (uint64_t)now_s() ^ ((uint64_t)getpid() << 32);
            }
            rc = key_put(m, "btl.tcp.secret", &secret, sizeof(secret), why);
        }
    }
    return rc;
}

static int get_blob(btl_tcp_module_t *m, uint32_t rank, const char *key, void *out, size_t len,
                    mrail_reason_t *why)
{
    void *blob;
    size_t got;
    int rc = mrail_rte_modex_get(m->base.rte, rank, key, &blob, &got, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    if (got != len) {
        free(blob);
        return mrail_reason_set(why, MRAIL_ERROR, "rank %u published a foreign %s", rank, key);
    }
    memcpy(out, blob, len);
    free(blob);
    return MRAIL_SUCCESS;
}

/* One rank's published modules and routes. */
typedef struct side_buf {
    btl_tcp_side_t side;
    btl_tcp_modex_t mods[BTL_TCP_MAX_IFS];
    void *routes; /* the modex blob */
} side_buf_t;

static int load_side(btl_tcp_module_t *m, uint32_t rank, side_buf_t *b, mrail_reason_t *why)
{
    *b = (side_buf_t){0};
    uint32_t count = 0;
    int rc = get_blob(m, rank, "btl.tcp.count", &count, sizeof(count), why);
    for (uint32_t k = 0; rc == MRAIL_SUCCESS && k < count && k < BTL_TCP_MAX_IFS; k++) {
        char key[64];
        snprintf(key, sizeof(key), "btl.tcp.%u", k);
        rc = get_blob(m, rank, key, &b->mods[k], sizeof(b->mods[k]), why);
        if (rc == MRAIL_SUCCESS && b->mods[k].magic != BTL_TCP_MAGIC) {
            rc = mrail_reason_set(why, MRAIL_ERROR, "rank %u published a foreign %s", rank, key);
        }
        b->side.nmods = k + 1;
    }
    size_t len = 0;
    if (rc == MRAIL_SUCCESS) {
        rc = mrail_rte_modex_get(m->base.rte, rank, "btl.tcp.routes", &b->routes, &len, why);
    }
    if (rc != MRAIL_SUCCESS) {
        free(b->routes);
        b->routes = NULL;
        return rc;
    }
    b->side.mods = b->mods;
    b->side.routes = b->routes;
    b->side.nroutes = (uint32_t)(len / sizeof(mrail_route_t));
    return MRAIL_SUCCESS;
}

/* The peer's module that this one pairs with (btl_tcp_pair); false, with
 * why, when there is none. */
static bool pair_entry(btl_tcp_module_t *m, const btl_tcp_side_t *me, uint32_t rank,
                       btl_tcp_modex_t *out, char *why, size_t len)
{
    side_buf_t peer;
    mrail_reason_t r;
    if (load_side(m, rank, &peer, &r) != MRAIL_SUCCESS) {
        snprintf(why, len, "%s", r.text);
        return false;
    }
    bool lower = m->my_rank < rank;
    const btl_tcp_side_t *lo = lower ? me : &peer.side, *hi = lower ? &peer.side : me;
    int lo_to_hi[BTL_TCP_MAX_IFS], hi_to_lo[BTL_TCP_MAX_IFS];
    btl_tcp_pair(lo, hi, lo_to_hi, hi_to_lo);
    int j = lower ? lo_to_hi[m->index] : hi_to_lo[m->index];
    if (j >= 0) {
        *out = peer.mods[j];
    } else {
        snprintf(why, len,
                 "none of rank %u's %u address(es) is routed through %s here with a route back "
                 "through the same interface there, or each such one pairs with another of our "
                 "interfaces",
                 rank, peer.side.nmods, m->dev.name);
    }
    free(peer.routes);
    return j >= 0;
}

static bool hello_valid(const btl_tcp_module_t *m, const btl_tcp_hello_t *h)
{
    return h->magic == BTL_TCP_MAGIC && h->job == m->job && h->secret == m->secret &&
           h->rank < m->size;
}

static void pending_close(btl_tcp_module_t *m, btl_tcp_pending_t *p)
{
    epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    for (btl_tcp_pending_t **l = &m->pending; *l; l = &(*l)->next) {
        if (*l == p) {
            *l = p->next;
            break;
        }
    }
    free(p);
}

/* Reads what a pending connection sent; returns the rank it proved, or -1
 * when it is not done (0 more bytes yet) or was refused and closed (-2). */
static int pending_read(btl_tcp_module_t *m, btl_tcp_pending_t *p, bool expecting)
{
    for (;;) {
        ssize_t n =
            recv(p->fd, (char *)&p->hello + p->got, sizeof(p->hello) - p->got, MSG_DONTWAIT);
        if (n > 0) {
            p->got += (size_t)n;
            if (p->got < sizeof(p->hello)) {
                continue;
            }
            uint32_t r = p->hello.rank;
            mrail_btl_endpoint_t *ep = r < m->size ? &m->eps[r] : NULL;
            /* Only a job member we expect, not yet connected, may stay. */
            if (expecting && hello_valid(m, &p->hello) && r < m->my_rank && ep->rank == r &&
                ep->fd < 0) {
                return (int)r;
            }
            break;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return -1;
        }
        break; /* closed early, or an error: a stranger or a truncated hello */
    }
    m->strangers++;
    if (m->cfg.verbose > 0) {
        fprintf(stderr,
                "mrail btl_tcp: rank %u %s refused a connection (%zu of %zu hello bytes%s)\n",
                m->my_rank, m->base.name, p->got, sizeof(p->hello),
                p->got == sizeof(p->hello) ? ", not a job member we expect" : "");
    }
    pending_close(m, p);
    return -2;
}

static void accept_all(btl_tcp_module_t *m)
{
    int fd;
    while ((fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        btl_tcp_pending_t *p = calloc(1, sizeof(*p));
        if (p == NULL) {
            close(fd);
            continue;
        }
        p->fd = fd;
        p->next = m->pending;
        m->pending = p;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAGGED(p, TAG_PENDING)};
        epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    }
}

/* A proven connection becomes the endpoint's. */
static void adopt(btl_tcp_module_t *m, btl_tcp_pending_t *p, uint32_t rank)
{
    mrail_btl_endpoint_t *ep = &m->eps[rank];
    epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
    ep->fd = p->fd;
    p->fd = -1;
    char ack = 1;
    if (send(ep->fd, &ack, 1, MSG_NOSIGNAL) != 1) {
        ep->failed = true;
    }
    for (btl_tcp_pending_t **l = &m->pending; *l; l = &(*l)->next) {
        if (*l == p) {
            *l = p->next;
            break;
        }
    }
    free(p);
}

static int connect_to(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, const btl_tcp_modex_t *e)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = e->port, .sin_addr.s_addr = e->addr};
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = m->dev.addr};
    btl_tcp_hello_t h = {BTL_TCP_MAGIC, m->my_rank, m->job, m->secret};
    char ack = 0;
    struct timeval tv = {.tv_sec = m->timeout};
    if (fd >= 0) {
        size_buffers(m, fd);
    }
    /* Bound to our interface, so the traffic takes this rail. */
    if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h) ||
        recv(fd, &ack, 1, MSG_WAITALL) != 1 || ack != 1) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        return err ? err : ECONNABORTED;
    }
    ep->fd = fd;
    return 0;
}

static int tcp_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                         mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (m->eps == NULL) {
        m->eps = calloc(m->size, sizeof(*m->eps));
        if (m->eps == NULL) {
            return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        }
        for (uint32_t r = 0; r < m->size; r++) {
            m->eps[r] = (mrail_btl_endpoint_t){.module = m, .rank = UINT32_MAX, .fd = -1};
        }
        int rc = get_blob(m, 0, "btl.tcp.secret", &m->secret, sizeof(m->secret), why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    /* Which peers this module pairs with (both sides compute the same);
     * the lower rank of each pair connects. */
    side_buf_t me;
    int rc = load_side(m, m->my_rank, &me, why);
    btl_tcp_modex_t *peer = rc == MRAIL_SUCCESS ? calloc(m->size, sizeof(*peer)) : NULL;
    if (peer == NULL) {
        free(me.routes);
        return rc != MRAIL_SUCCESS ? rc
                                   : mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                                                      "out of memory");
    }
    unsigned expect = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t r = ranks[k];
        char skip[600];
        if (r == m->my_rank || r >= m->size) {
            continue;
        }
        if (!pair_entry(m, &me.side, r, &peer[r], skip, sizeof(skip))) {
            if (m->cfg.verbose > 0) {
                fprintf(stderr, "mrail btl_tcp: rank %u %s: no rail to rank %u: %s\n", m->my_rank,
                        module->name, r, skip);
            }
            continue;
        }
        if (m->cfg.verbose > 0) {
            char mine[INET_ADDRSTRLEN], theirs[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &m->dev.addr, mine, sizeof(mine));
            inet_ntop(AF_INET, &peer[r].addr, theirs, sizeof(theirs));
            fprintf(stderr, "mrail btl_tcp: rank %u %s (%s) pairs with rank %u at %s\n",
                    m->my_rank, module->name, mine, r, theirs);
        }
        m->eps[r].rank = r;
        if (r < m->my_rank) {
            expect++;
        }
    }
    free(me.routes);
    /* Accept first in a loop that also connects: a peer connecting to us
     * may itself wait for our connection elsewhere. */
    double deadline = now_s() + m->timeout;
    for (uint32_t r = m->my_rank + 1; r < m->size; r++) {
        if (m->eps[r].rank != r) {
            continue;
        }
        btl_tcp_modex_t e = peer[r];
        int err;
        while ((err = connect_to(m, &m->eps[r], &e)) != 0 && now_s() < deadline &&
               (err == ECONNREFUSED || err == EAGAIN || err == ETIMEDOUT)) {
            usleep(10000);
        }
        if (err != 0) {
            free(peer);
            return mrail_reason_set(why, MRAIL_ERROR, "%s: cannot connect to rank %u at %s:%u: %s",
                                    module->name, r, inet_ntoa((struct in_addr){e.addr}),
                                    ntohs(e.port), strerror(err));
        }
    }
    while (expect > 0) {
        if (now_s() > deadline) {
            free(peer);
            return mrail_reason_set(why, MRAIL_ERROR,
                                    "%s: %u lower rank(s) did not connect within "
                                    "btl_tcp_connect_timeout=%u s",
                                    module->name, expect, m->timeout);
        }
        struct pollfd pfd = {m->listen_fd, POLLIN, 0};
        poll(&pfd, 1, 50);
        accept_all(m);
        for (btl_tcp_pending_t *p = m->pending, *next; p != NULL; p = next) {
            next = p->next;
            int r = pending_read(m, p, true);
            if (r >= 0) {
                adopt(m, p, (uint32_t)r);
                expect--;
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t r = ranks[k];
        mrail_btl_endpoint_t *ep = r < m->size ? &m->eps[r] : NULL;
        eps[k] = ep != NULL && ep->fd >= 0 ? ep : NULL;
        if (eps[k] != NULL) {
            fcntl(ep->fd, F_SETFL, fcntl(ep->fd, F_GETFL) | O_NONBLOCK);
            tune(m, ep->fd);
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAGGED(ep, TAG_EP)};
            epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
        }
    }
    free(peer);
    return MRAIL_SUCCESS;
}

static void tcp_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module, (void)eps, (void)n; /* endpoints live until finalize */
}

static void want_write(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                             .data.u64 = TAGGED(ep, TAG_EP)};
    epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, ep->fd, &ev);
}

static void fail_ep(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, const char *what, int err)
{
    if (ep->failed) {
        return;
    }
    ep->failed = true;
    epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
    while (ep->out_head != NULL) {
        btl_tcp_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_ERROR, o->cbdata);
        }
        free(o->owned);
        free(o);
    }
    ep->out_tail = NULL;
    mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERROR, "%s: connection to rank %u %s%s%s",
                           m->base.name, ep->rank, what, err ? ": " : "", err ? strerror(err) : "");
}

/* Writes what the socket takes of o; true when all of it went. */
static bool write_out(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o, int *err)
{
    for (;;) {
        while (o->cur < o->niov && o->iov[o->cur].iov_len == 0) {
            o->cur++; /* writev would return 0 for them, forever */
        }
        if (o->cur == o->niov) {
            break;
        }
        ssize_t n = writev(ep->fd, &o->iov[o->cur], o->niov - o->cur);
        if (n < 0) {
            *err = errno == EAGAIN || errno == EINTR ? 0 : errno;
            return false;
        }
        ep->module->base.tx_bytes += (uint64_t)n;
        while (n > 0 && o->cur < o->niov) {
            size_t take = (size_t)n < o->iov[o->cur].iov_len ? (size_t)n : o->iov[o->cur].iov_len;
            o->iov[o->cur].iov_base = (char *)o->iov[o->cur].iov_base + take;
            o->iov[o->cur].iov_len -= take;
            n -= (ssize_t)take;
            if (o->iov[o->cur].iov_len == 0) {
                o->cur++;
            }
        }
    }
    return true;
}

static int flush(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    int done = 0, err = 0;
    while (ep->out_head != NULL && write_out(ep, ep->out_head, &err)) {
        btl_tcp_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (ep->out_head == NULL) {
            ep->out_tail = NULL;
        }
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_SUCCESS, o->cbdata);
        }
        free(o->owned);
        free(o);
        done++;
    }
    if (err != 0) {
        fail_ep(m, ep, "failed while sending", err);
    } else {
        want_write(m, ep, ep->out_head != NULL);
    }
    return done;
}

static btl_tcp_out_t *frame_new(mrail_btl_tag_t tag, const void *hdr, size_t hdr_len,
                                const struct iovec *payload, int npayload)
{
    btl_tcp_out_t *o = calloc(1, sizeof(*o) + (size_t)(npayload + 2) * sizeof(struct iovec));
    if (o == NULL) {
        return NULL;
    }
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    o->frame = (btl_tcp_frame_t){.len = (uint32_t)len, .tag = tag, .hdr_len = (uint16_t)hdr_len};
    o->iov[0] = (struct iovec){&o->frame, sizeof(o->frame)};
    o->iov[1] = (struct iovec){(void *)(uintptr_t)hdr, hdr_len};
    if (npayload > 0) {
        memcpy(&o->iov[2], payload, (size_t)npayload * sizeof(struct iovec));
    }
    o->niov = npayload + 2;
    return o;
}

static void enqueue(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o)
{
    if (ep->out_tail != NULL) {
        ep->out_tail->next = o;
    } else {
        ep->out_head = o;
    }
    ep->out_tail = o;
}

static int tcp_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                    const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    btl_tcp_out_t *o = frame_new(tag, hdr, hdr_len, payload, npayload);
    if (o == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    if (o->frame.len > module->config.max_send_size) {
        free(o);
        return MRAIL_ERR_BAD_PARAM;
    }
    int err = 0;
    if (ep->out_head == NULL && write_out(ep, o, &err)) {
        free(o);
        return MRAIL_SUCCESS;
    }
    /* The rest waits for room; the caller's buffers are kept by reference. */
    o->done = done;
    o->cbdata = cbdata;
    enqueue(ep, o);
    if (err != 0) {
        fail_ep(m, ep, "failed while sending", err);
        return MRAIL_BTL_INPROGRESS; /* done() already ran with the error */
    }
    want_write(m, ep, true);
    return MRAIL_BTL_INPROGRESS;
}

static int tcp_sendi(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                     const void *hdr, size_t hdr_len, const void *payload, size_t len)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (ep->failed || ep->out_head != NULL) {
        return ep->failed ? MRAIL_ERROR : MRAIL_ERR_AGAIN;
    }
    struct iovec iov = {(void *)(uintptr_t)payload, len};
    btl_tcp_out_t *o = frame_new(tag, hdr, hdr_len, &iov, 1);
    if (o == NULL) {
        return MRAIL_ERR_AGAIN;
    }
    int err = 0;
    size_t total = sizeof(o->frame) + hdr_len + len;
    if (write_out(ep, o, &err)) {
        free(o);
        return MRAIL_SUCCESS;
    }
    size_t left = 0;
    for (int i = o->cur; i < o->niov; i++) {
        left += o->iov[i].iov_len;
    }
    if (left == total && err == 0) {
        free(o); /* nothing went: the caller may try later */
        return MRAIL_ERR_AGAIN;
    }
    /* Part went: keep the rest (the caller reuses its buffers at once). */
    o->owned = malloc(left);
    size_t at = 0;
    for (int i = o->cur; o->owned && i < o->niov; i++) {
        memcpy(o->owned + at, o->iov[i].iov_base, o->iov[i].iov_len);
        at += o->iov[i].iov_len;
    }
    o->iov[0] = (struct iovec){o->owned, left};
    o->niov = 1;
    o->cur = 0;
    enqueue(ep, o);
    if (err != 0 || o->owned == NULL) {
        fail_ep(m, ep, "failed while sending", err);
    } else {
        want_write(m, ep, true);
    }
    return MRAIL_SUCCESS;
}

/* Reads and delivers whole frames until the socket is empty. */
static int receive(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    int events = 0;
    while (!ep->failed) {
        ssize_t n;
        if (ep->frame_got < sizeof(ep->frame)) {
            n = recv(ep->fd, (char *)&ep->frame + ep->frame_got, sizeof(ep->frame) - ep->frame_got,
                     MSG_DONTWAIT);
            if (n > 0) {
                ep->frame_got += (size_t)n;
                continue;
            }
        } else if (ep->body_got < ep->frame.len) {
            if (ep->body_cap < ep->frame.len) {
                char *grown = realloc(ep->body, ep->frame.len);
                if (grown == NULL) {
                    fail_ep(m, ep, "has a frame too large to hold", ENOMEM);
                    break;
                }
                ep->body = grown;
                ep->body_cap = ep->frame.len;
            }
            n = recv(ep->fd, ep->body + ep->body_got, ep->frame.len - ep->body_got, MSG_DONTWAIT);
            if (n > 0) {
                ep->body_got += (size_t)n;
                continue;
            }
        } else {
            struct iovec segs[2] = {
                {ep->body, ep->frame.hdr_len},
                {ep->body + ep->frame.hdr_len, ep->frame.len - ep->frame.hdr_len}};
            btl_tcp_frame_t frame = ep->frame;
            ep->frame_got = ep->body_got = 0;
            mrail_btl_am_deliver(&m->base, ep, ep->rank, frame.tag, segs, 2);
            events++;
            continue;
        }
        if (n == 0) {
            fail_ep(m, ep, "was closed by the peer", 0);
        } else if (errno != EAGAIN && errno != EINTR) {
            fail_ep(m, ep, "failed while receiving", errno);
        }
        break;
    }
    return events;
}

static int tcp_progress(mrail_btl_module_t *module)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (m->epoll_fd < 0) {
        return 0;
    }
    struct epoll_event evs[32];
    int n = epoll_wait(m->epoll_fd, evs, 32, 0), events = 0;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64 & 3;
        if (tag == TAG_LISTEN) {
            accept_all(m); /* every job member is connected: these are strangers */
        } else if (tag == TAG_PENDING) {
            pending_read(m, UNTAG(evs[i].data.u64), false);
        } else {
            mrail_btl_endpoint_t *ep = UNTAG(evs[i].data.u64);
            if (evs[i].events & EPOLLOUT) {
                events += flush(m, ep);
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                events += receive(m, ep);
            }
        }
    }
    return events;
}

static void tcp_finalize(mrail_btl_module_t *module)
{
    btl_tcp_module_t *m = tcp_of(module);
    for (uint32_t r = 0; m->eps != NULL && r < m->size; r++) {
        mrail_btl_endpoint_t *ep = &m->eps[r];
        while (ep->out_head != NULL) {
            btl_tcp_out_t *o = ep->out_head;
            ep->out_head = o->next;
            free(o->owned);
            free(o);
        }
        if (ep->fd >= 0) {
            close(ep->fd);
        }
        free(ep->body);
    }
    while (m->pending != NULL) {
        pending_close(m, m->pending);
    }
    if (m->listen_fd >= 0) {
        close(m->listen_fd);
    }
    if (m->epoll_fd >= 0) {
        close(m->epoll_fd);
    }
    free(m->eps);
    free(m);
}

void btl_tcp_module_init(btl_tcp_module_t *m, unsigned index, const mrail_netdev_t *dev,
                         const btl_tcp_config_t *cfg, unsigned links)
{
    mrail_btl_module_t *b = &m->base;
    m->index = index;
    m->dev = *dev;
    m->listen_fd = m->epoll_fd = -1;
    m->timeout = cfg->connect_timeout;
    m->cfg = (btl_tcp_config_t){.connect_timeout = cfg->connect_timeout,
                                .verbose = cfg->verbose,
                                .user_timeout = cfg->user_timeout,
                                .sndbuf = cfg->sndbuf,
                                .rcvbuf = cfg->rcvbuf};
    char how[160];
    b->config.bandwidth = btl_tcp_bandwidth_of(cfg, b->config.bandwidth, dev, how, sizeof(how));
    if (links > 1) { /* the links share the interface */
        b->config.bandwidth = b->config.bandwidth / links > 0 ? b->config.bandwidth / links : 1;
        size_t used = strlen(how);
        snprintf(how + used, sizeof(how) - used, ", shared by %u links", links);
    }
    b->flags = MRAIL_BTL_FLAG_SEND | MRAIL_BTL_FLAG_SENDI;
    b->wire_up = tcp_wire_up;
    b->add_peers = tcp_add_peers;
    b->del_peers = tcp_del_peers;
    b->send = tcp_send;
    b->sendi = tcp_sendi;
    b->progress = tcp_progress;
    b->finalize = tcp_finalize;
    snprintf(b->note, sizeof(b->note), "%s (%s), %u MB/s: %s", dev->name, inet_ntoa(dev->addr),
             b->config.bandwidth, how);
}

unsigned btl_tcp_bandwidth_of(const btl_tcp_config_t *cfg, unsigned component_mbs,
                              const mrail_netdev_t *dev, char *how, size_t len)
{
    for (unsigned k = 0; k < cfg->nifs; k++) {
        if (cfg->if_bandwidth[k] > 0 && strcmp(cfg->if_names[k], dev->name) == 0) {
            snprintf(how, len, "set by btl_tcp_bandwidth_%s", dev->name);
            return cfg->if_bandwidth[k];
        }
    }
    if (component_mbs > 0) {
        snprintf(how, len, "set by btl_tcp_bandwidth");
        return component_mbs;
    }
    if (dev->speed_mbps > 0) {
        snprintf(how, len, "link speed %d Mbit/s from the device", dev->speed_mbps);
        return dev->speed_mbps / 8 > 0 ? (unsigned)dev->speed_mbps / 8 : 1;
    }
    snprintf(how, len,
             "a guess: %s reports no link speed; set btl_tcp_bandwidth_%s (measured rates "
             "replace it once traffic flows)",
             dev->name, dev->name);
    return BTL_TCP_GUESS_MBS;
}
