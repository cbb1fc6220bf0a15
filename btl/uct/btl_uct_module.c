/* btl/uct data path: interface set-up, wire-up through the modex
 * (connect-to-interface transports), active messages bcopy / zcopy by
 * size, progress. Get and put are in btl_uct_rma.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucs/async/async_fwd.h>

#include "btl_uct.h"

static btl_uct_module_t *uct_of(mrail_btl_module_t *m)
{
    return (btl_uct_module_t *)m;
}

static int ucs_failed(mrail_reason_t *why, ucs_status_t st, const char *what,
                      const btl_uct_module_t *m)
{
    return mrail_reason_set(why, MRAIL_ERR_IO, "%s on %s/%s failed: %s", what, m->tl, m->dev,
                            ucs_status_string(st));
}

/* ---- wire-up ---------------------------------------------------------- */

static int uct_wire_up(mrail_btl_module_t *module, mrail_reason_t *why)
{
    btl_uct_module_t *m = uct_of(module);
    if (m->ep_modex) {
        const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
        m->my_rank = f->rank;
        m->size = f->size;
        m->eps = calloc(f->size, sizeof(*m->eps));
        if (m->eps == NULL) {
            return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        }
        int rc = btl_uct_conn_publish(m, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    btl_uct_modex_entry_t e;
    memset(&e, 0, sizeof(e));
    snprintf(e.tl, sizeof(e.tl), "%s", m->tl);
    snprintf(e.dev, sizeof(e.dev), "%s", m->dev);
    e.dev_addr_len = (uint32_t)m->attr.device_addr_len;
    e.iface_addr_len = (uint32_t)m->attr.iface_addr_len;
    memcpy(e.dev_addr, m->dev_addr, e.dev_addr_len);
    memcpy(e.iface_addr, m->iface_addr, e.iface_addr_len);
    btl_uct_rma_publish(m, &e);
    return mrail_btl_modex_add(module, BTL_UCT_MODEX_KEY, &e, sizeof(e), why);
}

/* The peer's interface of our transport and device name that UCT can
 * reach gets an endpoint connected to it. */
static int uct_pair(mrail_btl_module_t *module, uint32_t rank, const void *entry,
                    mrail_btl_endpoint_t **out, mrail_reason_t *why)
{
    btl_uct_module_t *m = uct_of(module);
    btl_uct_modex_entry_t e;
    memcpy(&e, entry, sizeof(e));
    if (strncmp(e.tl, m->tl, sizeof(e.tl)) != 0 || strncmp(e.dev, m->dev, sizeof(e.dev)) != 0 ||
        e.dev_addr_len != m->attr.device_addr_len || e.iface_addr_len != m->attr.iface_addr_len ||
        rank >= m->size ||
        !uct_iface_is_reachable(m->iface, (const uct_device_addr_t *)e.dev_addr,
                                (const uct_iface_addr_t *)e.iface_addr)) {
        return MRAIL_SUCCESS;
    }
    mrail_btl_endpoint_t *ep = &m->eps[rank];
    if (ep->module == NULL && m->ep_modex) {
        ep->module = m;
        ep->rank = rank;
        int rc = btl_uct_conn_modex_connect(m, ep, &e, why);
        if (rc != MRAIL_SUCCESS) {
            ep->module = NULL;
            return rc;
        }
    } else if (ep->module == NULL && m->ep_mode) {
        btl_uct_conn_remember(ep, &e); /* its endpoint comes with the first message */
        ep->module = m;
        ep->rank = rank;
    } else if (ep->module == NULL) {
        uct_ep_params_t params = {.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                                                UCT_EP_PARAM_FIELD_DEV_ADDR |
                                                UCT_EP_PARAM_FIELD_IFACE_ADDR,
                                  .iface = m->iface,
                                  .dev_addr = (const uct_device_addr_t *)e.dev_addr,
                                  .iface_addr = (const uct_iface_addr_t *)e.iface_addr};
        ucs_status_t st = uct_ep_create(&params, &ep->ep);
        if (st != UCS_OK) {
            return mrail_reason_set(why, MRAIL_ERR_IO, "%s: uct_ep_create to rank %u: %s",
                                    module->name, rank, ucs_status_string(st));
        }
        ep->module = m;
        ep->rank = rank;
    }
    int rc = btl_uct_rma_connect(m, ep, &e, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    *out = ep;
    return MRAIL_SUCCESS;
}

static int uct_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                         mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    btl_uct_module_t *m = uct_of(module);
    if (m->eps == NULL) {
        const mrail_rte_facts_t *f = mrail_rte_facts(module->rte);
        m->my_rank = f->rank;
        m->size = f->size;
        m->eps = calloc(f->size, sizeof(*m->eps));
        if (m->eps == NULL) {
            return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        }
    }
    return mrail_btl_modex_pair(module, BTL_UCT_MODEX_KEY, sizeof(btl_uct_modex_entry_t), ranks, n,
                                eps, uct_pair, why);
}

static void uct_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module;
    for (size_t k = 0; k < n; k++) {
        if (eps[k] != NULL) {
            eps[k]->failed = true;
        }
    }
}

/* ---- sends -------------------------------------------------------------- */

typedef struct pack_args {
    const btl_uct_wire_t *wire;
    const void *hdr;
    const struct iovec *payload;
    int npayload;
} pack_args_t;

static size_t pack_message(void *dest, void *arg)
{
    const pack_args_t *a = arg;
    char *p = dest;
    memcpy(p, a->wire, sizeof(*a->wire));
    p += sizeof(*a->wire);
    if (a->wire->hdr_len > 0) {
        memcpy(p, a->hdr, a->wire->hdr_len);
    }
    p += a->wire->hdr_len;
    for (int i = 0; i < a->npayload; i++) {
        if (a->payload[i].iov_len > 0) { /* an empty piece may have no address */
            memcpy(p, a->payload[i].iov_base, a->payload[i].iov_len);
        }
        p += a->payload[i].iov_len;
    }
    return (size_t)(p - (char *)dest);
}

static void op_free(btl_uct_op_t *op)
{
    free(op->bounce);
    free(op);
}

static void op_finish(btl_uct_op_t *op, int status)
{
    if (op->module->closing) { /* cancelled by uct_ep_destroy: its owner is gone */
        op_free(op);
        return;
    }
    if (status != MRAIL_SUCCESS && !op->ep->failed) {
        op->ep->failed = true;
        mrail_btl_report_error(&op->module->base, op->ep->rank, MRAIL_ERR_IO,
                               "%s to rank %u failed", op->module->base.name, op->ep->rank);
    }
    if (op->done != NULL) {
        op->done(&op->module->base, op->ep, status, op->cbdata);
    }
    op_free(op);
}

static void zcopy_done(uct_completion_t *comp)
{
    btl_uct_op_t *op = (btl_uct_op_t *)comp;
    op_finish(op, comp->status == UCS_OK ? MRAIL_SUCCESS : MRAIL_ERR_IO);
}

/* A bcopy send is done once nothing of it is left in UCT: a transport
 * may keep bytes the socket did not take (tcp) and send them only while it
 * is progressed, and a sender whose send is done may stop calling (a
 * barrier, a compute phase) while its peer waits for them. */
static ucs_status_t settle(btl_uct_op_t *op)
{
    op->comp = (uct_completion_t){.func = zcopy_done, .count = 1, .status = UCS_OK};
    return uct_ep_flush(op->ep->ep, UCT_FLUSH_FLAG_LOCAL, &op->comp);
}

/* Tries op once: UCS_OK (done, buffers free), UCS_INPROGRESS (zcopy_done
 * follows), UCS_ERR_NO_RESOURCE (try again later) or an error. */
static ucs_status_t op_try(btl_uct_module_t *m, btl_uct_op_t *op)
{
    if (!btl_uct_conn_ready(m, op->ep)) {
        return op->ep->failed ? UCS_ERR_ENDPOINT_TIMEOUT : UCS_ERR_NO_RESOURCE;
    }
    uct_ep_h ep = op->ep->ep;
    if (op->sent) {
        return settle(op);
    }
    if (op->len <= m->max_short) {
        /* The wire header is UCT's 64-bit short header; the rest is gathered. */
        _Static_assert(sizeof(btl_uct_wire_t) == sizeof(uint64_t), "wire header = short header");
        pack_args_t a = {&op->wire, op->hdr + sizeof(op->wire), op->payload, op->npayload};
        char all[sizeof(btl_uct_wire_t) + BTL_UCT_SHORT_MAX];
        size_t n = pack_message(all, &a) - sizeof(op->wire);
        uint64_t header;
        memcpy(&header, &op->wire, sizeof(header));
        ucs_status_t st =
            uct_ep_am_short(ep, BTL_UCT_AM_ID, header, all + sizeof(op->wire), (unsigned)n);
        if (st != UCS_OK) {
            return st;
        }
        op->sent = true;
        return settle(op);
    }
    if (op->len <= m->max_bcopy) {
        pack_args_t a = {&op->wire, op->hdr + sizeof(op->wire), op->payload, op->npayload};
        ssize_t n = uct_ep_am_bcopy(ep, BTL_UCT_AM_ID, pack_message, &a, 0);
        if (n < 0) {
            return (ucs_status_t)n;
        }
        op->sent = true;
        return settle(op);
    }
    uct_iov_t iov[BTL_UCT_MAX_IOV];
    for (int i = 0; i < op->npayload; i++) {
        iov[i] = (uct_iov_t){.buffer = op->payload[i].iov_base,
                             .length = op->payload[i].iov_len,
                             .memh = UCT_MEM_HANDLE_NULL,
                             .stride = 0,
                             .count = 1};
    }
    op->comp = (uct_completion_t){.func = zcopy_done, .count = 1, .status = UCS_OK};
    return uct_ep_am_zcopy(ep, BTL_UCT_AM_ID, op->hdr,
                           (unsigned)(sizeof(op->wire) + op->wire.hdr_len), iov,
                           (size_t)op->npayload, 0, &op->comp);
}

static void pending_push(btl_uct_module_t *m, btl_uct_op_t *op)
{
    op->next = NULL;
    if (m->pending_tail != NULL) {
        m->pending_tail->next = op;
    } else {
        m->pending_head = op;
    }
    m->pending_tail = op;
}

static int pending_flush(btl_uct_module_t *m)
{
    int events = 0;
    while (m->pending_head != NULL) {
        btl_uct_op_t *op = m->pending_head;
        ucs_status_t st = op->ep->failed ? UCS_ERR_ENDPOINT_TIMEOUT : op_try(m, op);
        if (st == UCS_ERR_NO_RESOURCE) {
            break;
        }
        m->pending_head = op->next;
        if (m->pending_head == NULL) {
            m->pending_tail = NULL;
        }
        events++;
        if (st == UCS_OK) {
            op_finish(op, MRAIL_SUCCESS);
        } else if (st != UCS_INPROGRESS) {
            op_finish(op, MRAIL_ERR_IO);
        }
    }
    return events;
}

static int uct_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                    const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    btl_uct_module_t *m = uct_of(module);
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    bool zcopy = len + sizeof(btl_uct_wire_t) > m->max_bcopy;
    if (len > module->config.max_send_size || tag > MRAIL_BTL_TAG_MAX || hdr_len > UINT16_MAX ||
        (zcopy && (!m->zcopy || sizeof(btl_uct_wire_t) + hdr_len > m->attr.cap.am.max_hdr))) {
        return MRAIL_ERR_BAD_PARAM;
    }
    /* More pieces than a zcopy send takes (or than we keep) are copied
     * into one; bcopy packs them anyway. */
    size_t max_pieces =
        m->attr.cap.am.max_iov < BTL_UCT_MAX_IOV ? m->attr.cap.am.max_iov : BTL_UCT_MAX_IOV;
    bool gather = (size_t)npayload > (zcopy ? max_pieces : BTL_UCT_MAX_IOV);
    btl_uct_op_t *op = calloc(1, sizeof(*op) + sizeof(btl_uct_wire_t) + hdr_len);
    if (op == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    op->module = m;
    op->ep = ep;
    op->done = done;
    op->cbdata = cbdata;
    op->wire = (btl_uct_wire_t){.src = m->my_rank,
                                .hdr_len = (uint16_t)hdr_len,
                                .tag = tag,
                                .magic = (uint8_t)BTL_UCT_MAGIC};
    memcpy(op->hdr, &op->wire, sizeof(op->wire));
    if (hdr_len > 0) {
        memcpy(op->hdr + sizeof(op->wire), hdr, hdr_len);
    }
    if (gather) {
        size_t plen = len - hdr_len;
        op->bounce = malloc(plen ? plen : 1);
        if (op->bounce == NULL) {
            free(op);
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        char *p = op->bounce;
        for (int i = 0; i < npayload; i++) {
            if (payload[i].iov_len > 0) { /* an empty piece may have no address */
                memcpy(p, payload[i].iov_base, payload[i].iov_len);
            }
            p += payload[i].iov_len;
        }
        op->payload[0] = (struct iovec){op->bounce, plen};
        op->npayload = 1;
    } else {
        if (npayload > 0) {
            memcpy(op->payload, payload, (size_t)npayload * sizeof(*payload));
        }
        op->npayload = npayload;
    }
    op->len = sizeof(op->wire) + len;
    module->tx_bytes += len;
    /* Behind whatever waits already: messages to a peer keep their order. */
    ucs_status_t st = m->pending_head != NULL ? UCS_ERR_NO_RESOURCE : op_try(m, op);
    if (st == UCS_OK) {
        op_free(op);
        return MRAIL_SUCCESS;
    }
    if (st == UCS_INPROGRESS) {
        return MRAIL_INPROGRESS;
    }
    if (st == UCS_ERR_NO_RESOURCE) {
        pending_push(m, op);
        return MRAIL_INPROGRESS;
    }
    op->done = NULL;
    op_finish(op, MRAIL_ERR_IO);
    return MRAIL_ERR_IO;
}

/* ---- receives and progress ---------------------------------------------- */

static ucs_status_t am_arrived(void *arg, void *data, size_t length, unsigned flags)
{
    (void)flags;
    btl_uct_module_t *m = arg;
    btl_uct_wire_t wire;
    if (length < sizeof(wire)) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received %zu bytes, less than its header", m->base.name, length);
        return UCS_OK;
    }
    memcpy(&wire, data, sizeof(wire));
    if (wire.magic != (uint8_t)BTL_UCT_MAGIC || wire.src >= m->size ||
        m->eps[wire.src].module == NULL || wire.hdr_len > length - sizeof(wire)) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received a message it cannot read (from rank %u, %zu bytes)",
                               m->base.name, wire.src, length);
        return UCS_OK;
    }
    char *hdr = (char *)data + sizeof(wire);
    struct iovec segs[2] = {{hdr, wire.hdr_len},
                            {hdr + wire.hdr_len, length - sizeof(wire) - wire.hdr_len}};
    mrail_btl_am_deliver(&m->base, &m->eps[wire.src], wire.src, wire.tag, segs, 2);
    return UCS_OK;
}

static int uct_progress(mrail_btl_module_t *module)
{
    btl_uct_module_t *m = uct_of(module);
    if (m->progressing) { /* called from one of our own callbacks */
        return 0;
    }
    m->progressing = true;
    int events = (int)uct_worker_progress(m->worker);
    if (m->ep_mode) {
        events += btl_uct_conn_progress(m);
    }
    /* Connections and other events of the interface's own sockets are
     * handled by polling the async context (no UCX thread); now and then,
     * as it costs a system call. */
    if (++m->async_polls >= BTL_UCT_ASYNC_EVERY || events == 0) {
        m->async_polls = 0;
        ucs_async_poll(m->async);
    }
    events += pending_flush(m);
    events += btl_uct_rma_flush(m);
    m->progressing = false;
    return events;
}

/* ---- set-up and tear-down ------------------------------------------------ */

static void uct_finalize(mrail_btl_module_t *module)
{
    btl_uct_module_t *m = uct_of(module);
    m->closing = true;
    while (m->pending_head != NULL) {
        btl_uct_op_t *op = m->pending_head;
        m->pending_head = op->next;
        op_free(op);
    }
    btl_uct_rma_close(m);
    btl_uct_conn_close(m);
    for (uint32_t r = 0; m->eps != NULL && r < m->size; r++) {
        if (m->eps[r].ep != NULL) {
            uct_ep_destroy(m->eps[r].ep);
        }
    }
    free(m->eps);
    if (m->iface != NULL) {
        uct_iface_close(m->iface);
    }
    if (m->worker != NULL) {
        uct_worker_destroy(m->worker);
    }
    if (m->async != NULL) {
        ucs_async_context_destroy(m->async);
    }
    if (m->md != NULL) {
        uct_md_close(m->md);
    }
    free(m);
}

int btl_uct_iface_open(uct_md_h md, uct_worker_h worker, const char *tl, const char *dev,
                       uct_iface_h *iface, uct_iface_attr_t *attr, mrail_reason_t *why)
{
    uct_iface_config_t *config;
    ucs_status_t st = uct_md_iface_config_read(md, tl, NULL, NULL, &config);
    if (st != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "uct_md_iface_config_read on %s/%s failed: %s",
                                tl, dev, ucs_status_string(st));
    }
    uct_iface_params_t params = {
        .field_mask = UCT_IFACE_PARAM_FIELD_OPEN_MODE | UCT_IFACE_PARAM_FIELD_DEVICE |
                      UCT_IFACE_PARAM_FIELD_STATS_ROOT | UCT_IFACE_PARAM_FIELD_RX_HEADROOM,
        .open_mode = UCT_IFACE_OPEN_MODE_DEVICE,
        .mode.device = {.tl_name = tl, .dev_name = dev},
        .stats_root = NULL,
        .rx_headroom = 0};
    st = uct_iface_open(md, worker, &params, config, iface);
    uct_config_release(config);
    if (st != UCS_OK) {
        *iface = NULL;
        return mrail_reason_set(why, MRAIL_ERR_IO, "uct_iface_open on %s/%s failed: %s", tl, dev,
                                ucs_status_string(st));
    }
    if ((st = uct_iface_query(*iface, attr)) != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "uct_iface_query on %s/%s failed: %s", tl, dev,
                                ucs_status_string(st));
    }
    return MRAIL_SUCCESS;
}

int btl_uct_module_open(btl_uct_module_t *m, uct_component_h comp, uct_md_h md, const char *tl,
                        const char *dev, uct_device_type_t dev_type, mrail_reason_t *why)
{
    m->base.finalize = uct_finalize; /* from here on it closes whatever is open */
    m->comp = comp;
    m->dev_type = dev_type;
    m->md = md;
    snprintf(m->tl, sizeof(m->tl), "%s", tl);
    snprintf(m->dev, sizeof(m->dev), "%s", dev);
    ucs_status_t st = uct_md_query(md, &m->md_attr);
    if (st != UCS_OK) {
        return ucs_failed(why, st, "uct_md_query", m);
    }
    /* Polled from progress: no thread of UCX's own in the rank. */
    if ((st = ucs_async_context_create(UCS_ASYNC_MODE_POLL, &m->async)) != UCS_OK) {
        return ucs_failed(why, st, "ucs_async_context_create", m);
    }
    if ((st = uct_worker_create(m->async, UCS_THREAD_MODE_SINGLE, &m->worker)) != UCS_OK) {
        return ucs_failed(why, st, "uct_worker_create", m);
    }
    int rc = btl_uct_iface_open(m->md, m->worker, m->tl, m->dev, &m->iface, &m->attr, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    uint64_t caps = m->attr.cap.flags;
    bool to_iface = (caps & UCT_IFACE_FLAG_CONNECT_TO_IFACE) != 0;
    bool to_ep = (caps & UCT_IFACE_FLAG_CONNECT_TO_EP) != 0;
    int mode = btl_uct_config.connect;
    if (mode == BTL_UCT_CONNECT_AUTO) {
        mode = to_iface ? BTL_UCT_CONNECT_IFACE : BTL_UCT_CONNECT_MODEX;
    }
    if (mode == BTL_UCT_CONNECT_IFACE && !to_iface) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s/%s connects endpoint to endpoint only (btl_uct_connect=iface)",
                                tl, dev);
    }
    if ((mode == BTL_UCT_CONNECT_EP || mode == BTL_UCT_CONNECT_MODEX) && !to_ep) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s/%s cannot connect endpoint to endpoint (btl_uct_connect=%s); "
                                "it connects to interfaces (btl_uct_connect=auto or iface)",
                                tl, dev, mode == BTL_UCT_CONNECT_EP ? "ep" : "modex");
    }
    if (mode == BTL_UCT_CONNECT_EP && !to_iface) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s/%s connects endpoint to endpoint only, and btl_uct_connect=ep "
                                "sends endpoint addresses over the same interface's "
                                "connect-to-interface path, which it has not (btl_uct_connect="
                                "modex or auto publishes them in the modex)",
                                tl, dev);
    }
    if (mode == BTL_UCT_CONNECT_MODEX && m->attr.ep_addr_len > BTL_UCT_MAX_ADDR) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s/%s has endpoint addresses longer than %d bytes", tl, dev,
                                BTL_UCT_MAX_ADDR);
    }
    m->ep_mode = mode == BTL_UCT_CONNECT_EP || mode == BTL_UCT_CONNECT_MODEX;
    m->ep_modex = mode == BTL_UCT_CONNECT_MODEX;
    if (!(caps & UCT_IFACE_FLAG_AM_BCOPY)) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s/%s has no bcopy active messages", tl,
                                dev);
    }
    if (m->attr.device_addr_len > BTL_UCT_MAX_ADDR || m->attr.iface_addr_len > BTL_UCT_MAX_ADDR) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s/%s has addresses longer than %d bytes",
                                tl, dev, BTL_UCT_MAX_ADDR);
    }
    if ((st = uct_iface_get_device_address(m->iface, (uct_device_addr_t *)m->dev_addr)) != UCS_OK ||
        (st = uct_iface_get_address(m->iface, (uct_iface_addr_t *)m->iface_addr)) != UCS_OK) {
        return ucs_failed(why, st, "getting the interface's address", m);
    }
    if ((st = uct_iface_set_am_handler(m->iface, BTL_UCT_AM_ID, am_arrived, m, 0)) != UCS_OK) {
        return ucs_failed(why, st, "uct_iface_set_am_handler", m);
    }
    if (mode == BTL_UCT_CONNECT_EP && (rc = btl_uct_conn_open(m, why)) != MRAIL_SUCCESS) {
        return rc;
    }
    uct_iface_progress_enable(m->iface, UCT_PROGRESS_SEND | UCT_PROGRESS_RECV);
    m->max_bcopy = m->attr.cap.am.max_bcopy;
    /* UCT's short limit counts its 8-byte header, which carries our wire header. */
    m->max_short = (caps & UCT_IFACE_FLAG_AM_SHORT) ? m->attr.cap.am.max_short : 0;
    m->max_short = m->max_short < BTL_UCT_SHORT_MAX ? m->max_short : BTL_UCT_SHORT_MAX;
    /* zcopy only where no registration is needed for the payload. */
    m->zcopy = (caps & UCT_IFACE_FLAG_AM_ZCOPY) &&
               !(m->md_attr.cap.flags & UCT_MD_FLAG_NEED_MEMH) &&
               m->attr.cap.am.max_zcopy > m->max_bcopy && m->attr.cap.am.max_iov >= 1;
    /* UCT counts the header in a message's length, as we count it in max_send_size. */
    size_t limit = (m->zcopy ? m->attr.cap.am.max_zcopy : m->max_bcopy) - sizeof(btl_uct_wire_t);
    mrail_btl_module_t *b = &m->base;
    if (b->config.max_send_size > limit) {
        b->config.max_send_size = limit;
    }
    if (b->config.eager_limit > b->config.max_send_size) {
        b->config.eager_limit = b->config.max_send_size;
    }
    if (b->config.bandwidth == 0) {
        double bw = m->attr.bandwidth.dedicated + m->attr.bandwidth.shared;
        b->config.bandwidth = bw >= 1e6 ? (unsigned)(bw / 1e6) : 1250;
        b->bandwidth_source = bw >= 1e6 ? MRAIL_BTL_BW_DEVICE : MRAIL_BTL_BW_GUESS;
    }
    /* No sendi: am_short may leave bytes in UCT as bcopy may (see settle),
     * and an immediate send cannot wait for them to leave. */
    b->flags = MRAIL_BTL_FLAG_SEND;
    b->wire_up = uct_wire_up;
    b->add_peers = uct_add_peers;
    b->del_peers = uct_del_peers;
    b->send = uct_send;
    b->progress = uct_progress;
    if (btl_uct_rma_capable(&m->attr)) {
        mrail_reason_t no_rma;
        (void)btl_uct_rma_open(m, NULL, &no_rma); /* without it: messages only */
    }
    btl_uct_module_note(m);
    return MRAIL_SUCCESS;
}

void btl_uct_module_note(btl_uct_module_t *m)
{
    mrail_btl_module_t *b = &m->base;
    /* Very long transport and device names would cut it short: it is
     * for people, and still says what it can. */
    int n = snprintf(
        b->note, sizeof(b->note),
        "UCT %s on %s, connected %s: active messages short <= %zu, bcopy <= %zu bytes%s, "
        "sends up to %zu bytes; %s%s",
        m->tl, m->dev,
        m->ep_modex  ? "endpoint to endpoint (addresses in the modex)"
        : m->ep_mode ? "endpoint to endpoint (addresses in a first message)"
                     : "to interfaces",
        m->max_short, m->max_bcopy, m->zcopy ? ", zcopy above" : "", b->config.max_send_size,
        m->has_rma ? "get/put zero-copy by " : "no get/put", m->has_rma ? m->rma.tl : "");
    if (n < 0) {
        b->note[0] = '\0';
    }
}
