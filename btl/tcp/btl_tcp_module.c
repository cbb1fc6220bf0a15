/* btl/tcp module: wire-up, pairing, sends, epoll progress. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "btl_tcp.h"

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

double btl_tcp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
        btl_tcp_size_buffers(m, m->listen_fd); /* accepted connections inherit them */
    }
    int bound = m->listen_fd >= 0 ? bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) : -1;
    if (bound != 0 && m->listen_fd >= 0 && errno == EADDRNOTAVAIL) {
        /* The address went away since the query (an interface taken down or
         * removed): publish the module as unusable (port 0) and go on. */
        if (m->cfg.verbose > 0) {
            fprintf(stderr, "mrail btl_tcp: %s: %s is gone, not used\n", module->name,
                    inet_ntoa(m->dev.addr));
        }
        close(m->listen_fd);
        m->listen_fd = -1;
        sa.sin_port = 0;
    } else if (bound != 0 || listen(m->listen_fd, 128) != 0 ||
               getsockname(m->listen_fd, (struct sockaddr *)&sa, &salen) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: cannot listen on %s: %s", module->name,
                                inet_ntoa(m->dev.addr), strerror(errno));
    }
    m->port = sa.sin_port;
    m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BTL_TCP_EV(m, BTL_TCP_EV_LISTEN)};
    if (m->epoll_fd < 0 ||
        (m->listen_fd >= 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) != 0)) {
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
                secret = (uint64_t)btl_tcp_now() ^ ((uint64_t)getpid() << 32);
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

/* Endpoints for the ranks this module pairs with; no connection is made
 * here: the first send to a peer makes it (btl_tcp_endpoint.c), so a rank
 * holds connections only to the peers it talks to. */
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
    side_buf_t me = {0};
    int rc = n > 0 ? load_side(m, m->my_rank, &me, why) : MRAIL_SUCCESS;
    for (size_t k = 0; k < n; k++) {
        uint32_t r = ranks[k];
        eps[k] = NULL;
        char skip[600];
        if (rc != MRAIL_SUCCESS || r == m->my_rank || r >= m->size) {
            continue;
        }
        mrail_btl_endpoint_t *ep = &m->eps[r];
        if (!pair_entry(m, &me.side, r, &ep->peer, skip, sizeof(skip))) {
            if (m->cfg.verbose > 0) {
                fprintf(stderr, "mrail btl_tcp: rank %u %s: no rail to rank %u: %s\n", m->my_rank,
                        module->name, r, skip);
            }
            continue;
        }
        if (m->cfg.verbose > 0) {
            char mine[INET_ADDRSTRLEN], theirs[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &m->dev.addr, mine, sizeof(mine));
            inet_ntop(AF_INET, &ep->peer.addr, theirs, sizeof(theirs));
            fprintf(stderr, "mrail btl_tcp: rank %u %s (%s) pairs with rank %u at %s\n", m->my_rank,
                    module->name, mine, r, theirs);
        }
        ep->rank = r;
        ep->state = BTL_TCP_EP_IDLE;
        eps[k] = ep;
    }
    free(me.routes);
    return rc;
}

static void tcp_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module, (void)eps, (void)n; /* endpoints live until finalize */
}

static void tcp_reset(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep)
{
    btl_tcp_ep_reset(tcp_of(module), ep);
}

/* The kernel knows: unacknowledged segments, and since when nothing came back. */
/* Bytes of frames the socket has not taken yet. */
static size_t queued_bytes(const mrail_btl_endpoint_t *ep)
{
    size_t n = 0;
    for (const btl_tcp_out_t *o = ep->out_head; o != NULL; o = o->next) {
        for (int i = o->cur; i < o->niov; i++) {
            n += o->iov[i].iov_len;
        }
    }
    return n;
}

static int tcp_health(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_health_t *out)
{
    (void)module;
    out->backlog = queued_bytes(ep);
    if (ep->state == BTL_TCP_EP_CONNECTING) {
        /* The kernel answers a SYN whatever the peer process is doing: a
         * connect that has not finished is a path that does not answer.
         * But a SYN or its answer lost by chance costs a retry 1 s later,
         * so on a lossy rail the path counts as silent only once the
         * kernel has retried twice (about 3 s in). */
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        bool retried = ep->fd >= 0 && getsockopt(ep->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
                       ti.tcpi_retransmits >= BTL_TCP_SYN_RETRIES_SILENT;
        out->outstanding = ep->out_head != NULL;
        out->silent_ms = retried ? (unsigned)((btl_tcp_now() - ep->connect_started) * 1e3) : 0;
        return MRAIL_SUCCESS;
    }
    int in_socket = 0; /* unsent and unacknowledged bytes in the kernel */
    if (ep->fd >= 0 && ioctl(ep->fd, SIOCOUTQ, &in_socket) == 0 && in_socket > 0) {
        out->backlog += (size_t)in_socket;
    }
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if ((ep->state != BTL_TCP_EP_CONNECTED && ep->state != BTL_TCP_EP_HELLO_SENT) ||
        getsockopt(ep->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
        return MRAIL_ERR_NOT_SUPPORTED;
    }
    out->outstanding = ti.tcpi_unacked > 0 || ep->out_head != NULL;
    /* Silent only once the kernel had to time out a retransmission since
     * the last ACK: a connection idle for a while that just sent again has
     * not heard back for long, but it has not been ignored yet. */
    bool timed_out = ti.tcpi_retransmits > 0 || ti.tcpi_backoff > 0;
    out->silent_ms = timed_out ? ti.tcpi_last_ack_recv : 0;
    return MRAIL_SUCCESS;
}

/* A send to an endpoint that is not connected yet waits in its queue; the
 * first one starts the connection. */
static bool not_connected(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->state == BTL_TCP_EP_IDLE) {
        btl_tcp_ep_connect(m, ep);
    }
    return ep->state != BTL_TCP_EP_CONNECTED;
}

static int tcp_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                    const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (ep->state == BTL_TCP_EP_FAILED) {
        return MRAIL_ERROR;
    }
    btl_tcp_out_t *o = btl_tcp_frag_new(tag, hdr, hdr_len, payload, npayload);
    if (o == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    if (o->frame.len > module->config.max_send_size) {
        btl_tcp_frag_free(o);
        return MRAIL_ERR_BAD_PARAM;
    }
    o->done = done;
    o->cbdata = cbdata;
    if (not_connected(m, ep)) {
        btl_tcp_ep_enqueue(ep, o);
        return MRAIL_INPROGRESS;
    }
    int err = 0;
    if (ep->out_head == NULL && btl_tcp_frag_write(ep, o, &err)) {
        btl_tcp_frag_free(o);
        return MRAIL_SUCCESS;
    }
    /* The rest waits for room; the caller's buffers are kept by reference. */
    btl_tcp_ep_enqueue(ep, o);
    if (err != 0) {
        btl_tcp_ep_fail(m, ep, "failed while sending", err);
        return MRAIL_INPROGRESS; /* done() already ran with the error */
    }
    btl_tcp_ep_want_write(m, ep, true);
    return MRAIL_INPROGRESS;
}

/* Whether the socket takes len more bytes at once, by the kernel's own
 * measure (queued memory against the send buffer, with room for its
 * per-packet overhead). A sendi the socket takes only in part would leave
 * the rest with us, sent only while we are progressed, after the caller
 * was told the message is gone: a peer could then wait for it forever
 * while this rank sits in a barrier that does not progress. */
static bool socket_takes(const mrail_btl_endpoint_t *ep, size_t len)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t size = sizeof(mem);
    if (getsockopt(ep->fd, SOL_SOCKET, SO_MEMINFO, mem, &size) != 0 ||
        size < sizeof(uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1)) {
        return true; /* the kernel does not say: try, as before */
    }
    uint32_t queued = mem[SK_MEMINFO_WMEM_QUEUED], limit = mem[SK_MEMINFO_SNDBUF];
    return queued < limit && len + len / 2 + 4096 <= limit - queued;
}

static int tcp_sendi(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                     const void *hdr, size_t hdr_len, const void *payload, size_t len)
{
    btl_tcp_module_t *m = tcp_of(module);
    if (ep->state == BTL_TCP_EP_FAILED) {
        return MRAIL_ERROR;
    }
    if (not_connected(m, ep) || ep->out_head != NULL ||
        !socket_takes(ep, sizeof(btl_tcp_frame_t) + hdr_len + len)) {
        return MRAIL_ERR_AGAIN;
    }
    struct iovec iov = {(void *)(uintptr_t)payload, len};
    btl_tcp_out_t *o = btl_tcp_frag_new(tag, hdr, hdr_len, &iov, 1);
    if (o == NULL) {
        return MRAIL_ERR_AGAIN;
    }
    int err = 0;
    size_t total = sizeof(o->frame) + hdr_len + len;
    if (btl_tcp_frag_write(ep, o, &err)) {
        btl_tcp_frag_free(o);
        return MRAIL_SUCCESS;
    }
    size_t left = 0;
    for (int i = o->cur; i < o->niov; i++) {
        left += o->iov[i].iov_len;
    }
    if (left == total && err == 0) {
        btl_tcp_frag_free(o); /* nothing went: the caller may try later */
        return MRAIL_ERR_AGAIN;
    }
    /* Part went although the kernel said it had room (not seen): keep the
     * rest, as the caller reuses its buffers at once. */
    o->owned = malloc(left);
    size_t at = 0;
    for (int i = o->cur; o->owned && i < o->niov; i++) {
        memcpy(o->owned + at, o->iov[i].iov_base, o->iov[i].iov_len);
        at += o->iov[i].iov_len;
    }
    o->iov[0] = (struct iovec){o->owned, left};
    o->niov = 1;
    o->cur = 0;
    btl_tcp_ep_enqueue(ep, o);
    if (err != 0 || o->owned == NULL) {
        btl_tcp_ep_fail(m, ep, "failed while sending", err);
    } else {
        btl_tcp_ep_want_write(m, ep, true);
    }
    return MRAIL_SUCCESS;
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
        uint64_t kind = evs[i].data.u64 & 3;
        if (kind == BTL_TCP_EV_LISTEN) {
            btl_tcp_accept_all(m);
        } else if (kind == BTL_TCP_EV_PENDING) {
            btl_tcp_pending_read(m, BTL_TCP_EV_PTR(evs[i].data.u64));
        } else {
            mrail_btl_endpoint_t *ep = BTL_TCP_EV_PTR(evs[i].data.u64);
            if (ep->state != BTL_TCP_EP_CONNECTED) {
                btl_tcp_ep_handshake_event(m, ep, evs[i].events);
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                events += btl_tcp_ep_flush(m, ep);
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                events += btl_tcp_ep_receive(m, ep);
            }
        }
    }
    if (m->connecting != NULL) {
        btl_tcp_ep_check_connecting(m);
    }
    if (m->pending != NULL) {
        btl_tcp_pending_expire(m);
    }
    btl_tcp_pending_free_closed(m);
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
            btl_tcp_frag_free(o);
        }
        if (ep->fd >= 0) {
            close(ep->fd);
        }
        free(ep->body);
    }
    while (m->pending != NULL) {
        btl_tcp_pending_close(m, m->pending);
    }
    btl_tcp_pending_free_closed(m);
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
                                .rcvbuf = cfg->rcvbuf,
                                .hello_timeout = cfg->hello_timeout,
                                .max_pending = cfg->max_pending};
    char how[160];
    b->config.bandwidth =
        btl_tcp_bandwidth_of(cfg, b->config.bandwidth, dev, &b->bandwidth_source, how, sizeof(how));
    if (links > 1) { /* the links share the interface */
        b->config.bandwidth = b->config.bandwidth / links > 0 ? b->config.bandwidth / links : 1;
        size_t used = strlen(how);
        snprintf(how + used, sizeof(how) - used, ", shared by %u links", links);
    }
    b->flags = MRAIL_BTL_FLAG_SEND | MRAIL_BTL_FLAG_SENDI;
    b->wire_up = tcp_wire_up;
    b->add_peers = tcp_add_peers;
    b->del_peers = tcp_del_peers;
    b->reset = tcp_reset;
    b->health = tcp_health;
    b->send = tcp_send;
    b->sendi = tcp_sendi;
    b->progress = tcp_progress;
    b->finalize = tcp_finalize;
    snprintf(b->note, sizeof(b->note), "%s (%s), %u MB/s: %s", dev->name, inet_ntoa(dev->addr),
             b->config.bandwidth, how);
}

unsigned btl_tcp_bandwidth_of(const btl_tcp_config_t *cfg, unsigned component_mbs,
                              const mrail_netdev_t *dev, mrail_btl_bw_source_t *source, char *how,
                              size_t len)
{
    *source = MRAIL_BTL_BW_PARAM;
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
        *source = MRAIL_BTL_BW_DEVICE;
        snprintf(how, len, "link speed %d Mbit/s from the device", dev->speed_mbps);
        return dev->speed_mbps / 8 > 0 ? (unsigned)dev->speed_mbps / 8 : 1;
    }
    *source = MRAIL_BTL_BW_GUESS;
    snprintf(how, len,
             "a guess: %s reports no link speed; set btl_tcp_bandwidth_%s (measured rates "
             "replace it once traffic flows)",
             dev->name, dev->name);
    return BTL_TCP_GUESS_MBS;
}
