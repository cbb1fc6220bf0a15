/* btl/verbs data path for one HCA port.
 *
 * - Connections: one reliable-connected QP per peer, made on the first
 *   operation through librdmacm (resolve address, resolve route, connect
 *   with a hello carrying our rank and the job's secret). Both sides may
 *   start at once: the lower rank's connection wins, as in btl/tcp. The
 *   connection manager's events are read, non-blocking, from progress.
 * - Messages: copied into registered send buffers (wire header, owner's
 *   header, payload) and posted as sends; received into the buffers of a
 *   shared receive queue, delivered, reposted. rnr_retry 7: a sender
 *   whose peer is out of buffers waits instead of failing.
 * - get/put: RDMA read and write between buffers registered through the
 *   registration cache, which memory release invalidates.
 * - Ordering: operations to a peer wait in one FIFO while the QP is not
 *   connected or its send queue or the send buffers are full. */
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_verbs.h"
#include "mrail/mem_release.h"
#include "mrail/rte.h"

#define RECV_TAG 1u /* low bit of a receive's wr_id; operations are aligned pointers */
#define CQ_BATCH 16
#define RDMA_DEPTH 4 /* RDMA reads a QP has outstanding at once, both ways */
#define CM_TIMEOUT_MS 2000

typedef struct btl_verbs_module btl_verbs_module_t;

enum { OP_SEND, OP_GET, OP_PUT };
enum { EP_IDLE, EP_RESOLVING, EP_CONNECTING, EP_WAITING, EP_CONNECTED, EP_FAILED };

typedef struct verbs_op {
    int kind;
    mrail_btl_endpoint_t *ep;
    mrail_btl_done_fn_t done;
    void *cbdata;
    struct verbs_op *next;
    /* send: the message, gathered when it is posted */
    uint8_t tag;
    size_t hdr_len, len;
    char *copy; /* hdr then payload, kept until a send buffer is free */
    /* get/put */
    void *local;
    uint64_t remote_addr;
    uint32_t rkey;
    btl_verbs_reg_t *reg;
    int send_buf; /* the send buffer it holds, -1 none */
} verbs_op_t;

struct mrail_btl_endpoint {
    btl_verbs_module_t *module;
    uint32_t rank;
    int state;
    btl_verbs_entry_t peer;
    struct rdma_cm_id *id;
    struct ibv_qp *qp;
    unsigned posted; /* send work requests not completed yet */
    verbs_op_t *head, *tail;
    bool queued; /* on the module's list of endpoints with waiting operations */
    struct mrail_btl_endpoint *next_waiting;
};

/* The handle the PML carries: our cache entry (for put), the key and the
 * registered base the peer addresses. */
typedef struct verbs_handle {
    uint64_t reg;
    uint32_t rkey;
    uint32_t pad;
} verbs_handle_t;

struct btl_verbs_module {
    mrail_btl_module_t base;
    struct ibv_context *ctx;
    unsigned port;
    btl_verbs_entry_t self;
    struct ibv_pd *pd;
    struct ibv_cq *cq;
    struct ibv_srq *srq;
    size_t buf_size;
    char *recv_mem, *send_mem;
    struct ibv_mr *recv_mr, *send_mr;
    int *free_send; /* stack of free send buffer indices */
    unsigned nfree_send;
    struct rdma_event_channel *channel;
    struct rdma_cm_id *listen_id;
    btl_verbs_rcache_t rcache;
    bool subscribed;
    mrail_btl_endpoint_t *eps; /* by rank */
    mrail_btl_endpoint_t *waiting;
    uint32_t my_rank, size;
    size_t max_rdma;
};

static btl_verbs_module_t *verbs_of(mrail_btl_module_t *m)
{
    return (btl_verbs_module_t *)m;
}

size_t btl_verbs_module_size(void)
{
    return sizeof(btl_verbs_module_t);
}

/* ---- failures ---------------------------------------------------------- */

static void op_done(btl_verbs_module_t *m, verbs_op_t *op, int status)
{
    if (op->send_buf >= 0) {
        m->free_send[m->nfree_send++] = op->send_buf;
    }
    if (op->reg != NULL) {
        btl_verbs_rcache_put(&m->rcache, op->reg);
    }
    free(op->copy);
    mrail_btl_done_fn_t done = op->done;
    void *cbdata = op->cbdata;
    mrail_btl_endpoint_t *ep = op->ep;
    free(op);
    if (done != NULL) {
        done(&m->base, ep, status, cbdata);
    }
}

static void ep_fail(btl_verbs_module_t *m, mrail_btl_endpoint_t *ep, const char *what, int err)
{
    if (ep->state == EP_FAILED) {
        return;
    }
    ep->state = EP_FAILED;
    mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERR_IO, "%s: %s (rank %u): %s", m->base.name,
                           what, ep->rank, strerror(err));
    while (ep->head != NULL) {
        verbs_op_t *op = ep->head;
        ep->head = op->next;
        op_done(m, op, MRAIL_ERR_IO);
    }
    ep->tail = NULL;
}

/* ---- connections ------------------------------------------------------- */

static struct ibv_qp_init_attr qp_attr(btl_verbs_module_t *m)
{
    struct ibv_qp_init_attr a;
    memset(&a, 0, sizeof(a));
    a.send_cq = m->cq;
    a.recv_cq = m->cq;
    a.srq = m->srq;
    a.qp_type = IBV_QPT_RC;
    a.cap.max_send_wr = btl_verbs_config.qp_depth;
    a.cap.max_send_sge = 1;
    return a;
}

static struct rdma_conn_param conn_param(const uint8_t *hello, size_t len)
{
    struct rdma_conn_param p;
    memset(&p, 0, sizeof(p));
    p.private_data = hello;
    p.private_data_len = (uint8_t)len;
    p.responder_resources = RDMA_DEPTH;
    p.initiator_depth = RDMA_DEPTH;
    p.retry_count = 7;
    p.rnr_retry_count = 7; /* a peer out of receive buffers makes us wait, not fail */
    return p;
}

static void connect_start(btl_verbs_module_t *m, mrail_btl_endpoint_t *ep)
{
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    memcpy(&src.sin_addr, m->self.ip, 4);
    memcpy(&dst.sin_addr, ep->peer.ip, 4);
    dst.sin_port = htons(ep->peer.cm_port);
    if (rdma_create_id(m->channel, &ep->id, ep, RDMA_PS_TCP) != 0) {
        ep->id = NULL;
        ep_fail(m, ep, "rdma_create_id", errno);
        return;
    }
    if (rdma_resolve_addr(ep->id, (struct sockaddr *)&src, (struct sockaddr *)&dst,
                          CM_TIMEOUT_MS) != 0) {
        ep_fail(m, ep, "rdma_resolve_addr", errno);
        return;
    }
    ep->state = EP_RESOLVING;
}

static void drop_id(mrail_btl_endpoint_t *ep)
{
    if (ep->qp != NULL && ep->id != NULL) {
        rdma_destroy_qp(ep->id);
    }
    ep->qp = NULL;
    if (ep->id != NULL) {
        rdma_destroy_id(ep->id);
    }
    ep->id = NULL;
}

/* A connection request from a peer. The lower rank's own attempt wins
 * when both started: the higher one drops its attempt and accepts. An id
 * is destroyed only after its event is acknowledged (librdmacm waits for
 * that): a refused request's id is returned for the caller to destroy. */
static struct rdma_cm_id *on_request(btl_verbs_module_t *m, struct rdma_cm_event *ev)
{
    btl_verbs_hello_t h;
    if (m->eps == NULL ||
        btl_verbs_hello_check(ev->param.conn.private_data, ev->param.conn.private_data_len,
                              btl_verbs_config.secret, m->size, &h) != MRAIL_SUCCESS ||
        m->eps[h.rank].module == NULL) {
        rdma_reject(ev->id, NULL, 0); /* not of this job, or a peer we do not pair with */
        return ev->id;
    }
    mrail_btl_endpoint_t *ep = &m->eps[h.rank];
    bool mine_wins = ep->state != EP_IDLE && ep->state != EP_FAILED && ep->state != EP_WAITING &&
                     m->my_rank < h.rank;
    if (ep->state == EP_CONNECTED || mine_wins) {
        rdma_reject(ev->id, NULL, 0);
        return ev->id;
    }
    drop_id(ep); /* our own attempt, if any (its events are acknowledged): theirs wins */
    struct ibv_qp_init_attr a = qp_attr(m);
    if (rdma_create_qp(ev->id, m->pd, &a) != 0) {
        int err = errno;
        rdma_reject(ev->id, NULL, 0);
        ep_fail(m, ep, "rdma_create_qp", err);
        return ev->id;
    }
    ev->id->context = ep;
    ep->id = ev->id;
    ep->qp = ev->id->qp;
    btl_verbs_hello_t me = {.rank = m->my_rank, .secret = btl_verbs_config.secret};
    uint8_t hello[BTL_VERBS_HELLO_WIRE];
    btl_verbs_hello_pack(&me, hello);
    struct rdma_conn_param p = conn_param(hello, sizeof(hello));
    if (rdma_accept(ev->id, &p) != 0) {
        ep_fail(m, ep, "rdma_accept", errno);
        return NULL;
    }
    ep->state = EP_CONNECTING;
    return NULL;
}

static void schedule(btl_verbs_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (!ep->queued && ep->head != NULL) {
        ep->queued = true;
        ep->next_waiting = m->waiting;
        m->waiting = ep;
    }
}

/* Handles one event; returns an id to destroy once it is acknowledged. */
static struct rdma_cm_id *on_event(btl_verbs_module_t *m, struct rdma_cm_event *ev)
{
    if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
        return on_request(m, ev);
    }
    mrail_btl_endpoint_t *ep = ev->id->context;
    if (ep == NULL || ev->id != ep->id) {
        return NULL; /* an attempt we dropped */
    }
    struct rdma_cm_id *gone = NULL;
    switch (ev->event) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
        if (rdma_resolve_route(ep->id, CM_TIMEOUT_MS) != 0) {
            ep_fail(m, ep, "rdma_resolve_route", errno);
        }
        break;
    case RDMA_CM_EVENT_ROUTE_RESOLVED: {
        struct ibv_qp_init_attr a = qp_attr(m);
        if (rdma_create_qp(ep->id, m->pd, &a) != 0) {
            ep_fail(m, ep, "rdma_create_qp", errno);
            break;
        }
        ep->qp = ep->id->qp;
        btl_verbs_hello_t me = {.rank = m->my_rank, .secret = btl_verbs_config.secret};
        uint8_t hello[BTL_VERBS_HELLO_WIRE];
        btl_verbs_hello_pack(&me, hello);
        struct rdma_conn_param p = conn_param(hello, sizeof(hello));
        if (rdma_connect(ep->id, &p) != 0) {
            ep_fail(m, ep, "rdma_connect", errno);
            break;
        }
        ep->state = EP_CONNECTING;
        break;
    }
    case RDMA_CM_EVENT_ESTABLISHED:
        ep->state = EP_CONNECTED;
        schedule(m, ep);
        break;
    case RDMA_CM_EVENT_REJECTED:
        /* The higher rank's attempt loses to ours... or the lower rank's
         * wins over ours: then its request arrives (or has) and we wait. */
        if (m->my_rank > ep->rank) {
            ep->state = EP_WAITING;
            if (ep->qp != NULL) {
                rdma_destroy_qp(ep->id);
            }
            gone = ep->id;
            ep->id = NULL;
            ep->qp = NULL;
        } else {
            ep_fail(m, ep, "connection rejected", ECONNREFUSED);
        }
        break;
    case RDMA_CM_EVENT_ADDR_ERROR:
    case RDMA_CM_EVENT_ROUTE_ERROR:
    case RDMA_CM_EVENT_CONNECT_ERROR:
    case RDMA_CM_EVENT_UNREACHABLE:
        ep_fail(m, ep, rdma_event_str(ev->event), ev->status < 0 ? -ev->status : EHOSTUNREACH);
        break;
    case RDMA_CM_EVENT_DISCONNECTED:
        if (ep->head == NULL && ep->posted == 0) {
            ep->state = EP_FAILED; /* the peer finished: nothing was lost */
            break;
        }
        ep_fail(m, ep, rdma_event_str(ev->event), ECONNRESET);
        break;
    case RDMA_CM_EVENT_DEVICE_REMOVAL: ep_fail(m, ep, rdma_event_str(ev->event), ECONNRESET); break;
    default: break;
    }
    return gone;
}

static int cm_progress(btl_verbs_module_t *m)
{
    int events = 0;
    struct rdma_cm_event *ev;
    while (rdma_get_cm_event(m->channel, &ev) == 0) {
        /* A request's private data lives in the event: handled before ack. */
        struct rdma_cm_id *gone = on_event(m, ev);
        rdma_ack_cm_event(ev);
        if (gone != NULL) {
            rdma_destroy_id(gone);
        }
        events++;
    }
    return events;
}

/* ---- posting ---------------------------------------------------------- */

/* Posts op on its connected QP; false while a resource is full. */
static bool post(btl_verbs_module_t *m, verbs_op_t *op)
{
    mrail_btl_endpoint_t *ep = op->ep;
    if (ep->posted >= btl_verbs_config.qp_depth) {
        return false;
    }
    struct ibv_sge sge;
    struct ibv_send_wr wr, *bad;
    memset(&wr, 0, sizeof(wr));
    wr.wr_id = (uint64_t)(uintptr_t)op;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.send_flags = IBV_SEND_SIGNALED;
    if (op->kind == OP_SEND) {
        if (m->nfree_send == 0) {
            return false;
        }
        op->send_buf = m->free_send[--m->nfree_send];
        uint8_t *buf = (uint8_t *)m->send_mem + (size_t)op->send_buf * m->buf_size;
        btl_verbs_msg_t h = {.src = m->my_rank, .hdr_len = (uint16_t)op->hdr_len, .tag = op->tag};
        btl_verbs_msg_pack(&h, buf);
        memcpy(buf + BTL_VERBS_MSG_WIRE, op->copy, op->len);
        free(op->copy);
        op->copy = NULL;
        sge = (struct ibv_sge){(uintptr_t)buf, (uint32_t)(BTL_VERBS_MSG_WIRE + op->len),
                               m->send_mr->lkey};
        wr.opcode = IBV_WR_SEND;
    } else {
        sge = (struct ibv_sge){(uintptr_t)op->local, (uint32_t)op->len,
                               ((struct ibv_mr *)op->reg->handle)->lkey};
        wr.opcode = op->kind == OP_GET ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE;
        wr.wr.rdma.remote_addr = op->remote_addr;
        wr.wr.rdma.rkey = op->rkey;
    }
    int err = ibv_post_send(ep->qp, &wr, &bad);
    if (err != 0) {
        ep_fail(m, ep, "ibv_post_send", err);
        return true; /* failed, not waiting */
    }
    ep->posted++;
    return true;
}

/* Runs an endpoint's FIFO as far as resources go; connects it first. */
static void pump(btl_verbs_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->state == EP_IDLE) {
        connect_start(m, ep);
    }
    while (ep->state == EP_CONNECTED && ep->head != NULL) {
        verbs_op_t *op = ep->head;
        ep->head = op->next;
        if (ep->head == NULL) {
            ep->tail = NULL;
        }
        if (!post(m, op)) {
            op->next = ep->head; /* back in front: order is kept */
            ep->head = op;
            if (ep->tail == NULL) {
                ep->tail = op;
            }
            break;
        }
    }
}

static int enqueue(btl_verbs_module_t *m, verbs_op_t *op)
{
    mrail_btl_endpoint_t *ep = op->ep;
    if (ep->state == EP_FAILED) {
        op->done = NULL;
        op_done(m, op, MRAIL_ERR_IO);
        return MRAIL_ERROR;
    }
    op->next = NULL;
    if (ep->tail != NULL) {
        ep->tail->next = op;
    } else {
        ep->head = op;
    }
    ep->tail = op;
    pump(m, ep);
    schedule(m, ep);
    return MRAIL_INPROGRESS;
}

static verbs_op_t *op_new(int kind, mrail_btl_endpoint_t *ep, mrail_btl_done_fn_t done,
                          void *cbdata)
{
    verbs_op_t *op = calloc(1, sizeof(*op));
    if (op != NULL) {
        op->kind = kind;
        op->ep = ep;
        op->done = done;
        op->cbdata = cbdata;
        op->send_buf = -1;
    }
    return op;
}

static int verbs_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                      const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                      mrail_btl_done_fn_t done, void *cbdata)
{
    btl_verbs_module_t *m = verbs_of(module);
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    if (len > module->config.max_send_size || tag > MRAIL_BTL_TAG_MAX || hdr_len > UINT16_MAX) {
        return MRAIL_ERR_BAD_PARAM;
    }
    verbs_op_t *op = op_new(OP_SEND, ep, done, cbdata);
    char *copy = malloc(len ? len : 1);
    if (op == NULL || copy == NULL) {
        free(op);
        free(copy);
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    /* Copied at once, as a send may wait behind a connection or a full
     * queue; done() still waits for the HCA's completion, so that the
     * PML's window counts what is in flight. */
    memcpy(copy, hdr, hdr_len);
    size_t at = hdr_len;
    for (int i = 0; i < npayload; i++) {
        if (payload[i].iov_len > 0) {
            memcpy(copy + at, payload[i].iov_base, payload[i].iov_len);
        }
        at += payload[i].iov_len;
    }
    op->copy = copy;
    op->tag = tag;
    op->hdr_len = hdr_len;
    op->len = len;
    module->tx_bytes += len;
    return enqueue(m, op);
}

static int rdma_op(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, int kind, void *local,
                   uint64_t remote_addr, const void *remote_handle, size_t len,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    btl_verbs_module_t *m = verbs_of(module);
    if (len > m->max_rdma) {
        return MRAIL_ERR_BAD_PARAM;
    }
    verbs_handle_t h;
    memcpy(&h, remote_handle, sizeof(h));
    verbs_op_t *op = op_new(kind, ep, done, cbdata);
    if (op == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    op->reg = btl_verbs_rcache_get(&m->rcache, local, len);
    if (op->reg == NULL) {
        free(op);
        return MRAIL_ERR_IO; /* the PML falls back to its fragments */
    }
    op->local = local;
    op->len = len;
    op->remote_addr = remote_addr;
    op->rkey = h.rkey;
    if (kind == OP_PUT) {
        module->tx_bytes += len;
    }
    return enqueue(m, op);
}

static int verbs_get(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local,
                     uint64_t remote_addr, const void *remote_handle, size_t len,
                     mrail_btl_done_fn_t done, void *cbdata)
{
    return rdma_op(module, ep, OP_GET, local, remote_addr, remote_handle, len, done, cbdata);
}

static int verbs_put(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, const void *local,
                     uint64_t remote_addr, const void *remote_handle, size_t len,
                     mrail_btl_done_fn_t done, void *cbdata)
{
    return rdma_op(module, ep, OP_PUT, (void *)local, remote_addr, remote_handle, len, done,
                   cbdata);
}

/* ---- registration ------------------------------------------------------ */

static void *reg_mr(void *ctx, void *base, size_t len)
{
    btl_verbs_module_t *m = ctx;
    return ibv_reg_mr(m->pd, base, len,
                      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
}

static void dereg_mr(void *ctx, void *handle)
{
    (void)ctx;
    ibv_dereg_mr(handle);
}

static void on_release(void *ctx, const void *addr, size_t len)
{
    btl_verbs_module_t *m = ctx;
    btl_verbs_rcache_invalidate(&m->rcache, addr, len);
}

static int verbs_mem_register(mrail_btl_module_t *module, void *base, size_t len, void *handle)
{
    btl_verbs_module_t *m = verbs_of(module);
    btl_verbs_reg_t *r = btl_verbs_rcache_get(&m->rcache, base, len);
    if (r == NULL) {
        return MRAIL_ERR_IO;
    }
    verbs_handle_t h = {.reg = (uint64_t)(uintptr_t)r, .rkey = ((struct ibv_mr *)r->handle)->rkey};
    memcpy(handle, &h, sizeof(h));
    return MRAIL_SUCCESS;
}

static void verbs_mem_deregister(mrail_btl_module_t *module, void *handle)
{
    verbs_handle_t h;
    memcpy(&h, handle, sizeof(h));
    btl_verbs_rcache_put(&verbs_of(module)->rcache, (btl_verbs_reg_t *)(uintptr_t)h.reg);
}

/* ---- completions and progress ------------------------------------------ */

static void post_recv(btl_verbs_module_t *m, unsigned index)
{
    struct ibv_sge sge = {(uintptr_t)(m->recv_mem + (size_t)index * m->buf_size),
                          (uint32_t)m->buf_size, m->recv_mr->lkey};
    struct ibv_recv_wr wr = {.wr_id = ((uint64_t)index << 1) | RECV_TAG,
                             .sg_list = &sge,
                             .num_sge = 1},
                       *bad;
    if (ibv_post_srq_recv(m->srq, &wr, &bad) != 0) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s: a receive buffer could not be posted again", m->base.name);
    }
}

static void on_recv(btl_verbs_module_t *m, const struct ibv_wc *wc)
{
    unsigned index = (unsigned)(wc->wr_id >> 1);
    uint8_t *buf = (uint8_t *)m->recv_mem + (size_t)index * m->buf_size;
    btl_verbs_msg_t h;
    if (wc->status != IBV_WC_SUCCESS) {
        if (wc->status != IBV_WC_WR_FLUSH_ERR) {
            mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO, "%s: receive failed: %s",
                                   m->base.name, ibv_wc_status_str(wc->status));
        }
        return; /* flushed at close: not posted again */
    }
    /* The message must come on the QP of the rank it names. */
    if (btl_verbs_msg_check(buf, wc->byte_len, &h) != MRAIL_SUCCESS || h.src >= m->size ||
        m->eps[h.src].qp == NULL || m->eps[h.src].qp->qp_num != wc->qp_num) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received %u bytes it cannot read", m->base.name, wc->byte_len);
    } else {
        char *hdr = (char *)buf + BTL_VERBS_MSG_WIRE;
        struct iovec segs[2] = {{hdr, h.hdr_len},
                                {hdr + h.hdr_len, wc->byte_len - BTL_VERBS_MSG_WIRE - h.hdr_len}};
        mrail_btl_am_deliver(&m->base, &m->eps[h.src], h.src, h.tag, segs, 2);
    }
    post_recv(m, index);
}

static int verbs_progress(mrail_btl_module_t *module)
{
    btl_verbs_module_t *m = verbs_of(module);
    int events = cm_progress(m);
    struct ibv_wc wc[CQ_BATCH];
    int n;
    while ((n = ibv_poll_cq(m->cq, CQ_BATCH, wc)) > 0) {
        for (int i = 0; i < n; i++) {
            if (wc[i].wr_id & RECV_TAG) {
                on_recv(m, &wc[i]);
                continue;
            }
            verbs_op_t *op = (verbs_op_t *)(uintptr_t)wc[i].wr_id;
            mrail_btl_endpoint_t *ep = op->ep;
            ep->posted--;
            if (wc[i].status != IBV_WC_SUCCESS) {
                op_done(m, op, MRAIL_ERR_IO);
                ep_fail(m, ep, ibv_wc_status_str(wc[i].status), EIO);
            } else {
                op_done(m, op, MRAIL_SUCCESS);
            }
            schedule(m, ep);
        }
        events += n;
    }
    /* Endpoints whose operations wait for a connection or a resource. */
    mrail_btl_endpoint_t *list = m->waiting;
    m->waiting = NULL;
    while (list != NULL) {
        mrail_btl_endpoint_t *ep = list;
        list = ep->next_waiting;
        ep->queued = false;
        pump(m, ep);
        if (ep->state != EP_FAILED) {
            schedule(m, ep);
        }
    }
    return events;
}

/* ---- wire-up ------------------------------------------------------------- */

static int verbs_wire_up(mrail_btl_module_t *module, mrail_reason_t *why)
{
    btl_verbs_module_t *m = verbs_of(module);
    const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
    m->my_rank = f->rank;
    m->size = f->size;
    uint8_t entry[BTL_VERBS_ENTRY_WIRE];
    btl_verbs_entry_pack(&m->self, entry);
    int rc = mrail_btl_modex_add(module, BTL_VERBS_MODEX_KEY, entry, sizeof(entry), why);
    if (rc == MRAIL_SUCCESS && f->rank == 0) {
        /* Every module of rank 0 publishes the same draw (the component's). */
        rc = mrail_rte_modex_put(module->rte, BTL_VERBS_SECRET_KEY, &btl_verbs_config.secret,
                                 sizeof(btl_verbs_config.secret), why);
    }
    return rc;
}

static int verbs_pair(mrail_btl_module_t *module, uint32_t rank, const void *blob,
                      mrail_btl_endpoint_t **out, mrail_reason_t *why)
{
    (void)why;
    btl_verbs_module_t *m = verbs_of(module);
    btl_verbs_entry_t peer;
    if (btl_verbs_entry_unpack(blob, &peer) != MRAIL_SUCCESS ||
        !btl_verbs_entry_reaches(&m->self, &peer) || rank >= m->size) {
        return MRAIL_SUCCESS;
    }
    mrail_btl_endpoint_t *ep = &m->eps[rank];
    if (ep->module == NULL) {
        ep->module = m;
        ep->rank = rank;
        ep->peer = peer;
        ep->state = EP_IDLE;
    }
    *out = ep;
    return MRAIL_SUCCESS;
}

static int verbs_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                           mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    btl_verbs_module_t *m = verbs_of(module);
    if (m->eps == NULL) {
        void *blob;
        size_t len;
        int rc = mrail_rte_modex_get(module->rte, 0, BTL_VERBS_SECRET_KEY, &blob, &len, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
        if (len == sizeof(btl_verbs_config.secret)) {
            memcpy(&btl_verbs_config.secret, blob, len);
        }
        free(blob);
        m->eps = calloc(m->size, sizeof(*m->eps));
        if (m->eps == NULL) {
            return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        }
    }
    return mrail_btl_modex_pair(module, BTL_VERBS_MODEX_KEY, BTL_VERBS_ENTRY_WIRE, ranks, n, eps,
                                verbs_pair, why);
}

static void verbs_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    btl_verbs_module_t *m = verbs_of(module);
    for (size_t k = 0; k < n; k++) {
        if (eps[k] != NULL && eps[k]->state != EP_FAILED) {
            eps[k]->state = EP_FAILED;
            while (eps[k]->head != NULL) {
                verbs_op_t *op = eps[k]->head;
                eps[k]->head = op->next;
                op_done(m, op, MRAIL_ERR_IO);
            }
            eps[k]->tail = NULL;
        }
    }
}

/* ---- set-up and tear-down ------------------------------------------------ */

static void verbs_finalize(mrail_btl_module_t *module)
{
    btl_verbs_module_t *m = verbs_of(module);
    for (uint32_t r = 0; m->eps != NULL && r < m->size; r++) {
        mrail_btl_endpoint_t *ep = &m->eps[r];
        while (ep->head != NULL) {
            verbs_op_t *op = ep->head;
            ep->head = op->next;
            op->done = NULL; /* the owner is gone */
            op_done(m, op, MRAIL_ERR_IO);
        }
        if (ep->id != NULL && ep->state == EP_CONNECTED) {
            rdma_disconnect(ep->id);
        }
        drop_id(ep);
    }
    free(m->eps);
    if (m->listen_id != NULL) {
        rdma_destroy_id(m->listen_id);
    }
    if (m->channel != NULL) {
        rdma_destroy_event_channel(m->channel);
    }
    if (m->subscribed) {
        mrail_mem_release_unsubscribe(on_release, m);
    }
    if (m->pd != NULL) {
        btl_verbs_rcache_fini(&m->rcache);
    }
    if (m->srq != NULL) {
        ibv_destroy_srq(m->srq);
    }
    if (m->cq != NULL) {
        ibv_destroy_cq(m->cq);
    }
    if (m->recv_mr != NULL) {
        ibv_dereg_mr(m->recv_mr);
    }
    if (m->send_mr != NULL) {
        ibv_dereg_mr(m->send_mr);
    }
    if (m->pd != NULL) {
        ibv_dealloc_pd(m->pd);
    }
    free(m->recv_mem);
    free(m->send_mem);
    free(m->free_send);
    free(m);
}

static int fail(btl_verbs_module_t *m, mrail_reason_t *why, const char *what)
{
    return mrail_reason_set(why, MRAIL_ERR_IO, "%s: %s failed: %s", m->base.name, what,
                            strerror(errno));
}

static int open_queues(btl_verbs_module_t *m, mrail_reason_t *why)
{
    const btl_verbs_config_t *c = &btl_verbs_config;
    if ((m->pd = ibv_alloc_pd(m->ctx)) == NULL) {
        return fail(m, why, "ibv_alloc_pd");
    }
    int cqe = (int)(c->recv_buffers + c->send_buffers + c->qp_depth);
    if ((m->cq = ibv_create_cq(m->ctx, cqe, NULL, NULL, 0)) == NULL) {
        return fail(m, why, "ibv_create_cq");
    }
    struct ibv_srq_init_attr sa;
    memset(&sa, 0, sizeof(sa));
    sa.attr.max_wr = c->recv_buffers;
    sa.attr.max_sge = 1;
    if ((m->srq = ibv_create_srq(m->pd, &sa)) == NULL) {
        return fail(m, why, "ibv_create_srq");
    }
    m->buf_size = BTL_VERBS_MSG_WIRE + m->base.config.max_send_size;
    m->recv_mem = aligned_alloc(4096, ((m->buf_size * c->recv_buffers) + 4095) & ~(size_t)4095);
    m->send_mem = aligned_alloc(4096, ((m->buf_size * c->send_buffers) + 4095) & ~(size_t)4095);
    m->free_send = calloc(c->send_buffers, sizeof(int));
    if (m->recv_mem == NULL || m->send_mem == NULL || m->free_send == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    m->recv_mr =
        ibv_reg_mr(m->pd, m->recv_mem, m->buf_size * c->recv_buffers, IBV_ACCESS_LOCAL_WRITE);
    m->send_mr = ibv_reg_mr(m->pd, m->send_mem, m->buf_size * c->send_buffers, 0);
    if (m->recv_mr == NULL || m->send_mr == NULL) {
        return fail(m, why, "ibv_reg_mr of the message buffers");
    }
    for (unsigned i = 0; i < c->send_buffers; i++) {
        m->free_send[m->nfree_send++] = (int)i;
    }
    for (unsigned i = 0; i < c->recv_buffers; i++) {
        post_recv(m, i);
    }
    return MRAIL_SUCCESS;
}

static int open_listener(btl_verbs_module_t *m, mrail_reason_t *why)
{
    if ((m->channel = rdma_create_event_channel()) == NULL) {
        return fail(m, why, "rdma_create_event_channel");
    }
    int flags = fcntl(m->channel->fd, F_GETFL);
    if (flags < 0 || fcntl(m->channel->fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return fail(m, why, "making the connection manager's channel non-blocking");
    }
    if (rdma_create_id(m->channel, &m->listen_id, NULL, RDMA_PS_TCP) != 0) {
        m->listen_id = NULL;
        return fail(m, why, "rdma_create_id");
    }
    struct sockaddr_in sa = {.sin_family = AF_INET};
    memcpy(&sa.sin_addr, m->self.ip, 4);
    if (rdma_bind_addr(m->listen_id, (struct sockaddr *)&sa) != 0) {
        return fail(m, why, "rdma_bind_addr");
    }
    if (rdma_listen(m->listen_id, 128) != 0) {
        return fail(m, why, "rdma_listen");
    }
    m->self.cm_port = ntohs(rdma_get_src_port(m->listen_id));
    return MRAIL_SUCCESS;
}

int btl_verbs_module_open(mrail_btl_module_t *module, struct ibv_context *ctx, unsigned port,
                          const struct ibv_port_attr *attr, const uint8_t ip[4],
                          const uint8_t gid[16], mrail_reason_t *why)
{
    btl_verbs_module_t *m = verbs_of(module);
    module->finalize = verbs_finalize; /* from here on it closes whatever is open */
    m->ctx = ctx;
    m->port = port;
    snprintf(m->self.dev, sizeof(m->self.dev), "%s", ibv_get_device_name(ctx->device));
    m->self.port = (uint8_t)port;
    m->self.link =
        attr->link_layer == IBV_LINK_LAYER_ETHERNET ? BTL_VERBS_LINK_ETH : BTL_VERBS_LINK_IB;
    memcpy(m->self.ip, ip, 4);
    memcpy(m->self.gid, gid, 16);
    if (m->self.link == BTL_VERBS_LINK_IB) {
        for (int i = 0; i < 8; i++) {
            m->self.subnet = (m->self.subnet << 8) | gid[i];
        }
    }
    m->max_rdma = attr->max_msg_sz < (1u << 30) ? attr->max_msg_sz : (1u << 30);
    int rc = open_queues(m, why);
    if (rc == MRAIL_SUCCESS) {
        rc = open_listener(m, why);
    }
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    btl_verbs_rcache_init(&m->rcache, btl_verbs_config.rcache_size, reg_mr, dereg_mr, m);
    if (btl_verbs_config.rcache_size > 0) {
        m->subscribed = mrail_mem_release_subscribe(on_release, m) == MRAIL_SUCCESS;
        if (!m->subscribed) {
            m->rcache.max = 0; /* nobody tells us of releases: register per operation */
        }
    }
    mrail_btl_module_t *b = module;
    b->flags = MRAIL_BTL_FLAG_SEND | MRAIL_BTL_FLAG_PUT | MRAIL_BTL_FLAG_GET;
    b->put_limit = m->max_rdma;
    b->reg_size = sizeof(verbs_handle_t);
    b->wire_up = verbs_wire_up;
    b->add_peers = verbs_add_peers;
    b->del_peers = verbs_del_peers;
    b->send = verbs_send;
    b->mem_register = verbs_mem_register;
    b->mem_deregister = verbs_mem_deregister;
    b->put = verbs_put;
    b->get = verbs_get;
    b->progress = verbs_progress;
    char g[40];
    btl_verbs_gid_format(gid, g);
    snprintf(b->note, sizeof(b->note),
             "%s port %u (%s, GID %s, %u.%u.%u.%u): RC QPs through librdmacm, %u receive "
             "buffers of %zu bytes in a shared queue, RDMA read/write, registration cache of %u",
             m->self.dev, port, m->self.link == BTL_VERBS_LINK_ETH ? "RoCE" : "InfiniBand", g,
             ip[0], ip[1], ip[2], ip[3], btl_verbs_config.recv_buffers, m->buf_size,
             btl_verbs_config.rcache_size);
    return MRAIL_SUCCESS;
}
