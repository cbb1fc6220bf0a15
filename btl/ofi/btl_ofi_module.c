/* btl/ofi data path: endpoint set-up, wire-up through the modex, sends,
 * posted receives, progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_ofi.h"

#define CQ_BATCH 16

static btl_ofi_module_t *ofi_of(mrail_btl_module_t *m)
{
    return (btl_ofi_module_t *)m;
}

static int fi_failed(mrail_reason_t *why, int ret, const char *what, const btl_ofi_module_t *m)
{
    return mrail_reason_set(why, MRAIL_ERR_IO, "%s on %s failed: %s", what, m->base.device,
                            fi_strerror(-ret));
}

/* ---- wire-up ---------------------------------------------------------- */

static int ofi_wire_up(mrail_btl_module_t *module, mrail_reason_t *why)
{
    btl_ofi_module_t *m = ofi_of(module);
    btl_ofi_modex_entry_t e;
    memset(&e, 0, sizeof(e));
    snprintf(e.prov, sizeof(e.prov), "%s", m->info->fabric_attr->prov_name);
    snprintf(e.fabric, sizeof(e.fabric), "%s", m->info->fabric_attr->name);
    e.node_id = mrail_rte_facts(module->rte)->node_id;
    e.addr_len = (uint32_t)m->addr_len;
    memcpy(e.addr, m->addr, m->addr_len);
    return mrail_btl_modex_add(module, BTL_OFI_MODEX_KEY, &e, sizeof(e), why);
}

/* The peer's module of our provider and fabric (shm: on our node) gets an
 * endpoint: its address into the address vector. */
static int ofi_pair(mrail_btl_module_t *module, uint32_t rank, const void *entry,
                    mrail_btl_endpoint_t **out, mrail_reason_t *why)
{
    btl_ofi_module_t *m = ofi_of(module);
    btl_ofi_modex_entry_t e;
    memcpy(&e, entry, sizeof(e));
    if (strncmp(e.prov, m->info->fabric_attr->prov_name, sizeof(e.prov)) != 0 ||
        strncmp(e.fabric, m->info->fabric_attr->name, sizeof(e.fabric)) != 0 || e.addr_len == 0 ||
        e.addr_len > BTL_OFI_MAX_ADDR || rank >= m->size ||
        (m->node_local_only && e.node_id != mrail_rte_facts(module->rte)->node_id)) {
        return MRAIL_SUCCESS;
    }
    mrail_btl_endpoint_t *ep = &m->eps[rank];
    if (ep->module == NULL) {
        int ret = fi_av_insert(m->av, e.addr, 1, &ep->addr, 0, NULL);
        if (ret != 1) {
            return mrail_reason_set(why, MRAIL_ERR_IO,
                                    "%s: fi_av_insert of rank %u's address failed: %s",
                                    module->name, rank, fi_strerror(ret < 0 ? -ret : FI_EOTHER));
        }
        ep->module = m;
        ep->rank = rank;
    }
    *out = ep;
    return MRAIL_SUCCESS;
}

static int ofi_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                         mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    btl_ofi_module_t *m = ofi_of(module);
    if (m->eps == NULL) {
        const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
        m->my_rank = f->rank;
        m->size = f->size;
        m->eps = calloc(f->size, sizeof(*m->eps));
        if (m->eps == NULL) {
            return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        }
    }
    return mrail_btl_modex_pair(module, BTL_OFI_MODEX_KEY, sizeof(btl_ofi_modex_entry_t), ranks, n,
                                eps, ofi_pair, why);
}

static void ofi_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module;
    for (size_t k = 0; k < n; k++) {
        if (eps[k] != NULL) {
            eps[k]->failed = true;
        }
    }
}

/* ---- sends -------------------------------------------------------------- */

static btl_ofi_op_t *op_new(mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag, const void *hdr,
                            size_t hdr_len)
{
    btl_ofi_op_t *op = malloc(sizeof(*op) + hdr_len);
    if (op == NULL) {
        return NULL;
    }
    memset(op, 0, sizeof(*op));
    btl_ofi_op_live(ep->module, op);
    op->staged = -1;
    op->ctx.kind = BTL_OFI_SEND;
    op->ep = ep;
    op->wire = (btl_ofi_wire_t){.src = ep->module->my_rank,
                                .magic = BTL_OFI_MAGIC,
                                .tag = tag,
                                .hdr_len = (uint32_t)hdr_len};
    if (hdr_len > 0) {
        memcpy(op->hdr, hdr, hdr_len);
    }
    return op;
}

static void op_free(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    btl_ofi_op_dead(m, op);
    btl_ofi_local_release(m, op);
    free(op->bounce);
    free(op);
}

/* Lays out wire header, owner's header and payload as the provider takes
 * them: as they are when few enough pieces, else copied into one buffer. */
static int op_layout(btl_ofi_module_t *m, btl_ofi_op_t *op, const struct iovec *payload,
                     int npayload)
{
    size_t total = sizeof(op->wire) + op->wire.hdr_len;
    for (int i = 0; i < npayload; i++) {
        total += payload[i].iov_len;
    }
    size_t pieces = 2 + (size_t)npayload;
    if (pieces <= m->iov_limit && pieces <= BTL_OFI_MAX_IOV) {
        op->iov[0] = (struct iovec){&op->wire, sizeof(op->wire)};
        op->iov[1] = (struct iovec){op->hdr, op->wire.hdr_len};
        for (int i = 0; i < npayload; i++) {
            op->iov[2 + i] = payload[i];
        }
        op->niov = pieces;
        return MRAIL_SUCCESS;
    }
    op->bounce = malloc(total);
    if (op->bounce == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    char *p = op->bounce;
    memcpy(p, &op->wire, sizeof(op->wire));
    p += sizeof(op->wire);
    if (op->wire.hdr_len > 0) {
        memcpy(p, op->hdr, op->wire.hdr_len);
    }
    p += op->wire.hdr_len;
    for (int i = 0; i < npayload; i++) {
        if (payload[i].iov_len > 0) { /* an empty piece may have no address */
            memcpy(p, payload[i].iov_base, payload[i].iov_len);
        }
        p += payload[i].iov_len;
    }
    op->iov[0] = (struct iovec){op->bounce, total};
    op->niov = 1;
    return MRAIL_SUCCESS;
}

/* Hands op to the provider: 0, -FI_EAGAIN (try again after progress) or
 * another error. */
static ssize_t op_post(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (op->ctx.kind == BTL_OFI_RMA) {
        return btl_ofi_rma_issue(m, op);
    }
    if (m->mr_local) {
        ssize_t ret = btl_ofi_local_stage(m, op);
        if (ret != 0) {
            return ret;
        }
    }
    struct fi_msg msg = {.msg_iov = op->iov,
                         .desc = m->mr_local ? &op->desc : NULL,
                         .iov_count = op->niov,
                         .addr = op->ep->addr,
                         .context = &op->ctx.fi};
    /* Done only once the bytes have left this process: with manual
     * progress (tcp;ofi_rxm) a message the provider merely buffered moves
     * only while we call it, and a sender whose send is done may stop
     * calling (a barrier, a compute phase) while its peer waits. */
    return fi_sendmsg(m->ep, &msg, FI_COMPLETION | FI_TRANSMIT_COMPLETE);
}

static void pending_push(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    op->next = NULL;
    if (m->pending_tail != NULL) {
        m->pending_tail->next = op;
    } else {
        m->pending_head = op;
    }
    m->pending_tail = op;
}

static void op_fail(btl_ofi_module_t *m, btl_ofi_op_t *op, const char *what, int err)
{
    mrail_btl_endpoint_t *ep = op->ep;
    if (!ep->failed) {
        ep->failed = true;
        mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERR_IO, "%s to rank %u %s: %s",
                               m->base.name, ep->rank, what, fi_strerror(err));
    }
    if (op->done != NULL) {
        op->done(&m->base, ep, MRAIL_ERR_IO, op->cbdata);
    }
    op_free(m, op);
}

/* Posts what waits, in order; stops at the first the provider refuses. */
static int pending_flush(btl_ofi_module_t *m)
{
    int events = 0;
    while (m->pending_head != NULL) {
        btl_ofi_op_t *op = m->pending_head;
        ssize_t ret = op->ep->failed ? -FI_ECONNABORTED : op_post(m, op);
        if (ret == -FI_EAGAIN) {
            break;
        }
        m->pending_head = op->next;
        if (m->pending_head == NULL) {
            m->pending_tail = NULL;
        }
        events++;
        if (ret != 0) {
            op_fail(m, op, "could not be sent", (int)-ret);
        }
    }
    return events;
}

static int ofi_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                    const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    btl_ofi_module_t *m = ofi_of(module);
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (len > module->config.max_send_size || tag > MRAIL_BTL_TAG_MAX) {
        return MRAIL_ERR_BAD_PARAM;
    }
    btl_ofi_op_t *op = op_new(ep, tag, hdr, hdr_len);
    if (op == NULL || op_layout(m, op, payload, npayload) != MRAIL_SUCCESS) {
        if (op != NULL) {
            op_free(m, op);
        }
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    op->done = done;
    op->cbdata = cbdata;
    m->base.tx_bytes += len;
    m->sent++;
    /* Behind whatever waits already: messages to a peer keep their order. */
    ssize_t ret = m->pending_head != NULL ? -FI_EAGAIN : op_post(m, op);
    if (ret == -FI_EAGAIN) {
        pending_push(m, op);
        return MRAIL_INPROGRESS;
    }
    if (ret != 0) {
        op->done = NULL;
        op_fail(m, op, "could not be sent", (int)-ret);
        return MRAIL_ERR_IO;
    }
    return MRAIL_INPROGRESS;
}

/* ---- receives and progress ---------------------------------------------- */

/* Hands a buffer (or a multi-receive slab) to the provider. */
static ssize_t recv_submit(btl_ofi_module_t *m, btl_ofi_recv_t *r)
{
    void *desc = m->recv_mr != NULL ? fi_mr_desc(m->recv_mr) : NULL;
    if (!m->multi_recv) {
        return fi_recv(m->ep, r->buf, r->size, desc, FI_ADDR_UNSPEC, &r->ctx.fi);
    }
    struct iovec iov = {r->buf, r->size};
    struct fi_msg msg = {.msg_iov = &iov,
                         .desc = &desc,
                         .iov_count = 1,
                         .addr = FI_ADDR_UNSPEC,
                         .context = &r->ctx.fi};
    return fi_recvmsg(m->ep, &msg, FI_MULTI_RECV);
}

static void recv_post(btl_ofi_module_t *m, btl_ofi_recv_t *r)
{
    if (recv_submit(m, r) != 0) { /* the provider's queue is full: again from progress */
        r->next = m->repost;
        m->repost = r;
    }
}

static void deliver(btl_ofi_module_t *m, const char *buf, size_t len)
{
    btl_ofi_wire_t wire;
    if (len < sizeof(wire)) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received a message of %zu bytes, shorter than its header",
                               m->base.name, len);
        return;
    }
    memcpy(&wire, buf, sizeof(wire));
    if (wire.magic != BTL_OFI_MAGIC || wire.src >= m->size || m->eps[wire.src].module == NULL ||
        wire.hdr_len > len - sizeof(wire)) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received a message it cannot read (from rank %u, %zu bytes)",
                               m->base.name, wire.src, len);
        return;
    }
    char *hdr = (char *)buf + sizeof(wire);
    struct iovec segs[2] = {{hdr, wire.hdr_len},
                            {hdr + wire.hdr_len, len - sizeof(wire) - wire.hdr_len}};
    /* In a multi-receive slab a message lands wherever the last one
     * ended; the owner reads its header as a struct, so it gets an
     * aligned copy (the payload is bytes, read where it is). */
    if (((uintptr_t)hdr & 7u) != 0 && wire.hdr_len > 0) {
        memcpy(m->hdr_scratch, hdr, wire.hdr_len);
        segs[0].iov_base = m->hdr_scratch;
    }
    m->received++;
    mrail_btl_am_deliver(&m->base, &m->eps[wire.src], wire.src, wire.tag, segs, 2);
}

static void completed(btl_ofi_module_t *m, const struct fi_cq_data_entry *c)
{
    btl_ofi_ctx_t *ctx = c->op_context;
    if (ctx->kind == BTL_OFI_RECV) {
        btl_ofi_recv_t *r = (btl_ofi_recv_t *)ctx;
        if (!m->multi_recv) {
            deliver(m, r->buf, c->len);
            recv_post(m, r);
            return;
        }
        /* A slab takes messages until less than one fits; its last
         * completion says so, and it goes back to the provider. */
        if (c->len > 0) {
            deliver(m, c->buf, c->len);
        }
        if (c->flags & FI_MULTI_RECV) {
            recv_post(m, r);
        }
        return;
    }
    btl_ofi_op_t *op = (btl_ofi_op_t *)ctx;
    if (op->done != NULL) {
        op->done(&m->base, op->ep, MRAIL_SUCCESS, op->cbdata);
    }
    op_free(m, op);
}

/* A failed operation: the sender's goes to its owner and the peer is
 * reported, so that the PML moves its traffic to other rails. */
static void completed_with_error(btl_ofi_module_t *m)
{
    struct fi_cq_err_entry err = {0};
    if (fi_cq_readerr(m->cq, &err, 0) != 1) {
        return;
    }
    btl_ofi_ctx_t *ctx = err.op_context;
    if (ctx == NULL) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO, "%s: %s", m->base.name,
                               fi_strerror(err.err));
        return;
    }
    if (ctx->kind == BTL_OFI_RECV) {
        btl_ofi_recv_t *r = (btl_ofi_recv_t *)ctx;
        /* A slab is the provider's until it says it let go of it. */
        if (err.err != FI_ECANCELED && (!m->multi_recv || (err.flags & FI_MULTI_RECV))) {
            recv_post(m, r);
        }
        return;
    }
    op_fail(m, (btl_ofi_op_t *)ctx, ctx->kind == BTL_OFI_RMA ? "failed (put/get)" : "failed",
            err.err);
}

static int ofi_progress(mrail_btl_module_t *module)
{
    btl_ofi_module_t *m = ofi_of(module);
    int events = 0;
    for (;;) {
        struct fi_cq_data_entry c[CQ_BATCH];
        ssize_t n = fi_cq_read(m->cq, c, CQ_BATCH);
        if (n == -FI_EAVAIL) {
            completed_with_error(m);
            events++;
            continue;
        }
        if (n <= 0) {
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            completed(m, &c[i]);
        }
        events += (int)n;
        if (n < CQ_BATCH) {
            break;
        }
    }
    while (m->repost != NULL) {
        btl_ofi_recv_t *r = m->repost;
        m->repost = r->next;
        if (recv_submit(m, r) != 0) {
            r->next = m->repost;
            m->repost = r;
            break;
        }
    }
    return events + pending_flush(m);
}

/* ---- set-up and tear-down ------------------------------------------------ */

static void close_fid(struct fid *f)
{
    if (f != NULL) {
        fi_close(f);
    }
}

static void ofi_finalize(mrail_btl_module_t *module)
{
    btl_ofi_module_t *m = ofi_of(module);
    /* Once the endpoint is closed the provider holds none of them: every
     * operation left, waiting or posted, is freed, without its callback. */
    close_fid(m->ep ? &m->ep->fid : NULL);
    m->pending_head = m->pending_tail = NULL;
    while (m->live != NULL) {
        op_free(m, m->live);
    }
    btl_ofi_local_close(m);
    close_fid(m->av ? &m->av->fid : NULL);
    close_fid(m->cq ? &m->cq->fid : NULL);
    close_fid(m->domain ? &m->domain->fid : NULL);
    close_fid(m->fabric ? &m->fabric->fid : NULL);
    if (m->info != NULL) {
        fi_freeinfo(m->info);
    }
    free(m->recvs);
    free(m->recv_mem);
    free(m->hdr_scratch);
    free(m->eps);
    free(m);
}

/* One buffer per message, or BTL_OFI_SLABS multi-receive slabs sharing
 * the same memory; registered first when the provider wants descriptors. */
static int post_receives(btl_ofi_module_t *m, mrail_reason_t *why)
{
    size_t bytes = (size_t)btl_ofi_config.recv_buffers * m->buf_size;
    m->nrecv = m->multi_recv ? BTL_OFI_SLABS : btl_ofi_config.recv_buffers;
    m->recvs = calloc(m->nrecv, sizeof(*m->recvs));
    m->recv_mem = malloc(bytes);
    m->hdr_scratch = malloc(m->buf_size);
    if (m->recvs == NULL || m->recv_mem == NULL || m->hdr_scratch == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory for %u buffers",
                                btl_ofi_config.recv_buffers);
    }
    if (m->mr_local) {
        int rc = btl_ofi_local_open(m, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    size_t each = bytes / m->nrecv;
    for (unsigned i = 0; i < m->nrecv; i++) {
        btl_ofi_recv_t *r = &m->recvs[i];
        r->ctx.kind = BTL_OFI_RECV;
        r->buf = m->recv_mem + (size_t)i * each;
        r->size = each;
        ssize_t ret = recv_submit(m, r);
        if (ret != 0) {
            return fi_failed(why, (int)ret,
                             m->multi_recv ? "fi_recvmsg (FI_MULTI_RECV)" : "fi_recv", m);
        }
    }
    return MRAIL_SUCCESS;
}

int btl_ofi_module_open(btl_ofi_module_t *m, struct fi_info *info, mrail_reason_t *why)
{
    m->base.finalize = ofi_finalize; /* from here on it closes whatever is open */
    m->info = fi_dupinfo(info);
    if (m->info == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "fi_dupinfo failed");
    }
    int ret = fi_fabric(m->info->fabric_attr, &m->fabric, NULL);
    if (ret != 0) {
        return fi_failed(why, ret, "fi_fabric", m);
    }
    if ((ret = fi_domain(m->fabric, m->info, &m->domain, NULL)) != 0) {
        return fi_failed(why, ret, "fi_domain", m);
    }
    struct fi_cq_attr cq_attr = {.format = FI_CQ_FORMAT_DATA, .wait_obj = FI_WAIT_NONE};
    if ((ret = fi_cq_open(m->domain, &cq_attr, &m->cq, NULL)) != 0) {
        return fi_failed(why, ret, "fi_cq_open", m);
    }
    struct fi_av_attr av_attr = {.type = FI_AV_TABLE};
    if ((ret = fi_av_open(m->domain, &av_attr, &m->av, NULL)) != 0) {
        return fi_failed(why, ret, "fi_av_open", m);
    }
    if ((ret = fi_endpoint(m->domain, m->info, &m->ep, NULL)) != 0) {
        return fi_failed(why, ret, "fi_endpoint", m);
    }
    if ((ret = fi_ep_bind(m->ep, &m->av->fid, 0)) != 0 ||
        (ret = fi_ep_bind(m->ep, &m->cq->fid, FI_TRANSMIT | FI_RECV)) != 0) {
        return fi_failed(why, ret, "fi_ep_bind", m);
    }
    /* Slabs of at least 4 messages (recv_buffers >= 16), released when
     * less than the largest one fits. */
    m->buf_size = sizeof(btl_ofi_wire_t) + m->base.config.max_send_size;
    m->multi_recv = btl_ofi_config.multi_recv && (m->info->caps & FI_MULTI_RECV) &&
                    btl_ofi_config.recv_buffers >= 4 * BTL_OFI_SLABS;
    m->mr_local = (m->info->domain_attr->mr_mode & FI_MR_LOCAL) || btl_ofi_config.register_local;
    if ((ret = fi_enable(m->ep)) != 0) {
        return fi_failed(why, ret, "fi_enable", m);
    }
    /* After fi_enable: shm's receive context exists only from then on. */
    if (m->multi_recv) {
        size_t min = m->buf_size;
        if (fi_setopt(&m->ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &min, sizeof(min)) !=
            0) {
            m->multi_recv = false;
        }
    }
    m->addr_len = sizeof(m->addr);
    if ((ret = fi_getname(&m->ep->fid, m->addr, &m->addr_len)) != 0) {
        return fi_failed(why, ret, "fi_getname", m);
    }
    m->iov_limit = m->info->tx_attr->iov_limit > 0 ? m->info->tx_attr->iov_limit : 1;
    if (m->info->ep_attr->max_msg_size > 0 && m->buf_size > m->info->ep_attr->max_msg_size) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "btl_ofi_max_send_size %zu is more than %s takes in one message "
                                "(%zu bytes with the btl's header)",
                                m->base.config.max_send_size, m->base.device,
                                m->info->ep_attr->max_msg_size);
    }
    m->node_local_only = strcmp(m->info->fabric_attr->prov_name, "shm") == 0;
    int rc = post_receives(m, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    mrail_btl_module_t *b = &m->base;
    /* No sendi: fi_inject leaves the bytes with the provider, which sends
     * them only while it is progressed (see op_post). */
    b->flags = MRAIL_BTL_FLAG_SEND;
    b->wire_up = ofi_wire_up;
    b->add_peers = ofi_add_peers;
    b->del_peers = ofi_del_peers;
    b->send = ofi_send;
    b->progress = ofi_progress;
    btl_ofi_rma_init(m);
    snprintf(b->note, sizeof(b->note),
             "libfabric %s, fabric %s: messages of up to %zu bytes into %s%s%s",
             m->info->fabric_attr->prov_name, m->info->fabric_attr->name, b->config.max_send_size,
             m->multi_recv ? "4 multi-receive slabs" : "one posted buffer each",
             m->mr_local ? ", local descriptors (registered buffers)" : "",
             (b->flags & MRAIL_BTL_FLAG_PUT) ? ", put/get with fi_write/fi_read" : "");
    return MRAIL_SUCCESS;
}
