/* btl/tcp connections: made lazily, on the first send to a peer; the state
 * machine is at mrail_btl_endpoint in btl_tcp.h.
 *
 * Either rank of a pair may connect first, so both may at once: the lower
 * rank's connection wins. A connector proves it belongs to the job with its
 * hello (job hash, rank, rank 0's secret); the acceptor answers one ack
 * byte, or closes the connection (a stranger, a duplicate, or the loser of
 * a race). Nothing but the hello and the ack crosses a connection before
 * both sides call it CONNECTED, so a connection dropped in a race loses no
 * frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btl_tcp.h"

void btl_tcp_size_buffers(const btl_tcp_module_t *m, int fd)
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
        /* An idle connection has nothing unacknowledged: keepalive probes
         * after a second of silence give user_timeout something to time, so
         * a side that only waits learns of a dead rail too. */
        int idle = 1, intvl = 1, cnt = (int)(ut / 1000) + 1;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
}

static void connecting_remove(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    for (mrail_btl_endpoint_t **l = &m->connecting; *l; l = &(*l)->next_connecting) {
        if (*l == ep) {
            *l = ep->next_connecting;
            break;
        }
    }
    ep->next_connecting = NULL;
}

static void close_fd(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->fd >= 0) {
        epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
        close(ep->fd);
        ep->fd = -1;
    }
}

void btl_tcp_ep_fail(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, const char *what, int err)
{
    if (ep->state == BTL_TCP_EP_FAILED) {
        return;
    }
    if (ep->state != BTL_TCP_EP_CONNECTED) {
        connecting_remove(m, ep);
    }
    ep->state = BTL_TCP_EP_FAILED;
    close_fd(m, ep);
    while (ep->out_head != NULL) {
        btl_tcp_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_ERROR, o->cbdata);
        }
        btl_tcp_frag_free(o);
    }
    ep->out_tail = NULL;
    mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERROR, "%s: connection to rank %u %s%s%s",
                           m->base.name, ep->rank, what, err ? ": " : "", err ? strerror(err) : "");
}

void btl_tcp_ep_reset(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->state != BTL_TCP_EP_IDLE && ep->state != BTL_TCP_EP_FAILED) {
        btl_tcp_ep_fail(m, ep, "was dropped by its owner", 0);
    }
    if (ep->state == BTL_TCP_EP_FAILED) {
        ep->state = BTL_TCP_EP_IDLE;
        btl_tcp_ep_rx_reset(ep); /* a frame cut short died with the old connection */
    }
}

/* The connection on ep->fd is the pair's: queued frames may go. */
static void ready(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    connecting_remove(m, ep);
    tune(m, ep->fd);
    ep->state = BTL_TCP_EP_CONNECTED;
    m->connections++;
    epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BTL_TCP_EV(ep, BTL_TCP_EV_EP)};
    epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
    if (ep->out_head != NULL) {
        btl_tcp_ep_flush(m, ep);
    }
}

static void connecting_add(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->next_connecting == NULL && m->connecting != ep) {
        ep->next_connecting = m->connecting;
        m->connecting = ep;
    }
}

void btl_tcp_ep_connect(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    ep->state = BTL_TCP_EP_CONNECTING;
    ep->connect_started = btl_tcp_now();
    ep->deadline = ep->connect_started + m->timeout;
    ep->conn_err = 0;
    connecting_add(m, ep);
    ep->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ep->fd < 0) {
        ep->conn_err = errno;
        return;
    }
    btl_tcp_size_buffers(m, ep->fd);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = ep->peer.port, .sin_addr.s_addr = ep->peer.addr};
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = m->dev.addr};
    /* Bound to our interface, so the traffic takes this rail. */
    if (bind(ep->fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
        (connect(ep->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)) {
        ep->conn_err = errno;
        close(ep->fd);
        ep->fd = -1;
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = BTL_TCP_EV(ep, BTL_TCP_EV_EP)};
    epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
}

/* The acceptor closed our connection before its ack: it gave up on our
 * hello (we were away from MPI longer than its btl_tcp_hello_timeout) or
 * it restarted. Connect again while btl_tcp_connect_timeout allows;
 * false when it does not. */
static bool reconnect(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (btl_tcp_now() >= ep->deadline) {
        return false;
    }
    double started = ep->connect_started, deadline = ep->deadline;
    btl_tcp_ep_connect(m, ep);
    ep->connect_started = started, ep->deadline = deadline;
    m->reconnects++;
    return true;
}

/* Our connect finished: send the hello, then wait for the ack. */
static void send_hello(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    int err = 0;
    socklen_t len = sizeof(err);
    btl_tcp_hello_t h = {BTL_TCP_MAGIC, m->my_rank, m->job, m->secret};
    if (getsockopt(ep->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    /* An empty socket takes 24 bytes whole. */
    if (err == 0 && send(ep->fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
        err = errno ? errno : EIO;
    }
    if (err == EPIPE || err == ECONNRESET) { /* the acceptor closed it already */
        close_fd(m, ep);
        if (reconnect(m, ep)) {
            return;
        }
    }
    if (err != 0) {
        ep->conn_err = err;
        close_fd(m, ep);
        return;
    }
    /* The peer's host took the connection, so the peer process lives: its
     * ack waits for its next progress, however long it computes, and from
     * now on keepalive and user_timeout watch the path, not the deadline. */
    ep->state = BTL_TCP_EP_HELLO_SENT;
    tune(m, ep->fd);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BTL_TCP_EV(ep, BTL_TCP_EV_EP)};
    epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, ep->fd, &ev);
}

static void read_ack(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    char ack = 0;
    ssize_t n = recv(ep->fd, &ack, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n == 1 && ack == 1) {
        ready(m, ep);
        return;
    }
    int err = n < 0 ? errno : ECONNREFUSED;
    close_fd(m, ep);
    if (ep->rank < m->my_rank) {
        /* It refused ours because it is connecting to us: wait for that one. */
        ep->state = BTL_TCP_EP_WAITING;
        m->races++;
        return;
    }
    if (!reconnect(m, ep)) {
        ep->conn_err = err;
    }
}

void btl_tcp_ep_handshake_event(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, uint32_t events)
{
    (void)events;
    if (ep->state == BTL_TCP_EP_CONNECTING) {
        send_hello(m, ep);
    } else if (ep->state == BTL_TCP_EP_HELLO_SENT) {
        read_ack(m, ep);
    }
}

void btl_tcp_ep_check_connecting(btl_tcp_module_t *m)
{
    double now = btl_tcp_now();
    for (mrail_btl_endpoint_t *ep = m->connecting, *next; ep != NULL; ep = next) {
        next = ep->next_connecting;
        if (ep->conn_err != 0) {
            char what[96];
            snprintf(what, sizeof(what), "could not be made to %s:%u",
                     inet_ntoa((struct in_addr){ep->peer.addr}), ntohs(ep->peer.port));
            btl_tcp_ep_fail(m, ep, what, ep->conn_err);
        } else if (now > ep->deadline && ep->state == BTL_TCP_EP_CONNECTING) {
            char what[128];
            snprintf(what, sizeof(what), "was not made within btl_tcp_connect_timeout=%u s",
                     m->timeout);
            btl_tcp_ep_fail(m, ep, what, 0);
        }
    }
}

void btl_tcp_pending_close(btl_tcp_module_t *m, btl_tcp_pending_t *p)
{
    if (p->fd >= 0) {
        epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
        close(p->fd);
        p->fd = -1;
    }
    for (btl_tcp_pending_t **l = &m->pending; *l; l = &(*l)->next) {
        if (*l == p) {
            *l = p->next;
            m->npending--;
            break;
        }
    }
    /* Freed after the progress pass: an event for it may still wait in
     * the batch epoll returned (a connection closed to make room for a
     * newer one, or by its deadline). */
    p->next = m->closed;
    m->closed = p;
}

void btl_tcp_pending_free_closed(btl_tcp_module_t *m)
{
    while (m->closed != NULL) {
        btl_tcp_pending_t *p = m->closed;
        m->closed = p->next;
        free(p);
    }
}

/* Closes p as a stranger: counted, and said at verbose level. */
static void refuse(btl_tcp_module_t *m, btl_tcp_pending_t *p, const char *why)
{
    m->strangers++;
    if (m->cfg.verbose > 0) {
        fprintf(stderr,
                "mrail btl_tcp: rank %u %s refused a connection (%zu of %zu hello bytes: %s)\n",
                m->my_rank, m->base.name, p->got, sizeof(p->hello), why);
    }
    btl_tcp_pending_close(m, p);
}

void btl_tcp_pending_expire(btl_tcp_module_t *m)
{
    double now = btl_tcp_now();
    for (btl_tcp_pending_t *p = m->pending, *next; p != NULL; p = next) {
        next = p->next;
        if (now > p->deadline) {
            refuse(m, p, "no complete hello within btl_tcp_hello_timeout");
        }
    }
}

void btl_tcp_accept_all(btl_tcp_module_t *m)
{
    int fd;
    while ((fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        btl_tcp_pending_t *p = calloc(1, sizeof(*p));
        if (p == NULL) {
            close(fd);
            continue;
        }
        unsigned cap = m->cfg.max_pending > 0 ? m->cfg.max_pending : 1;
        if (m->npending >= cap) { /* the oldest is last: newest first on the list */
            btl_tcp_pending_t *oldest = m->pending;
            while (oldest->next != NULL) {
                oldest = oldest->next;
            }
            refuse(m, oldest, "btl_tcp_max_pending connections were already waiting");
        }
        p->fd = fd;
        p->deadline = m->cfg.hello_timeout > 0 ? btl_tcp_now() + m->cfg.hello_timeout * 1e-3
                                               : HUGE_VAL; /* 0: no deadline */
        p->next = m->pending;
        m->pending = p;
        m->npending++;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BTL_TCP_EV(p, BTL_TCP_EV_PENDING)};
        epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    }
}

/* A proven connection becomes the endpoint's; one of ours under way is
 * dropped (the peer refuses it, or has, and nothing was sent on it). */
static void adopt(btl_tcp_module_t *m, btl_tcp_pending_t *p, mrail_btl_endpoint_t *ep)
{
    char ack = 1;
    if (ep->state == BTL_TCP_EP_FAILED) {
        btl_tcp_ep_reset(m, ep);
    }
    if (ep->state == BTL_TCP_EP_CONNECTING || ep->state == BTL_TCP_EP_HELLO_SENT) {
        m->races++;
    }
    close_fd(m, ep);
    ep->fd = p->fd;
    p->fd = -1;
    btl_tcp_pending_close(m, p);
    if (send(ep->fd, &ack, 1, MSG_NOSIGNAL) != 1) {
        connecting_add(m, ep);
        ep->state = BTL_TCP_EP_CONNECTING;
        ep->conn_err = errno ? errno : EIO;
        close_fd(m, ep);
        return;
    }
    ready(m, ep);
}

/* Whom a complete, valid hello from a paired rank may connect. */
static bool may_adopt(const btl_tcp_module_t *m, const mrail_btl_endpoint_t *ep)
{
    switch (ep->state) {
    case BTL_TCP_EP_IDLE:
    case BTL_TCP_EP_WAITING:
    case BTL_TCP_EP_FAILED: return true; /* the peer rebuilds a rail we saw fail */
    case BTL_TCP_EP_CONNECTING:
    case BTL_TCP_EP_HELLO_SENT: return ep->rank < m->my_rank; /* the lower rank's wins */
    default: return false;
    }
}

void btl_tcp_pending_read(btl_tcp_module_t *m, btl_tcp_pending_t *p)
{
    if (p->fd < 0) { /* closed earlier in this progress pass */
        return;
    }
    for (;;) {
        ssize_t n =
            recv(p->fd, (char *)&p->hello + p->got, sizeof(p->hello) - p->got, MSG_DONTWAIT);
        if (n > 0) {
            p->got += (size_t)n;
            if (p->got < sizeof(p->hello)) {
                continue;
            }
            const btl_tcp_hello_t *h = &p->hello;
            bool member = h->magic == BTL_TCP_MAGIC && h->job == m->job && h->secret == m->secret &&
                          h->rank < m->size && m->eps != NULL;
            mrail_btl_endpoint_t *ep = member ? &m->eps[h->rank] : NULL;
            if (ep != NULL && ep->rank == h->rank && may_adopt(m, ep)) {
                adopt(m, p, ep);
                return;
            }
            if (ep != NULL && ep->rank == h->rank &&
                (ep->state == BTL_TCP_EP_CONNECTING || ep->state == BTL_TCP_EP_HELLO_SENT)) {
                btl_tcp_pending_close(m, p); /* we are the lower rank: ours wins */
                return;
            }
            break;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        break; /* closed early, or an error: a stranger or a truncated hello */
    }
    refuse(m, p,
           p->got == sizeof(p->hello) ? "not a job member we expect" : "closed before its end");
}
