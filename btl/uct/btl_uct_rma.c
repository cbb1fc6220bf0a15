/* btl/uct get and put: zero-copy through the module's own interface when
 * it offers them, or through a companion transport of the same device
 * type that has no active messages (cma beside posix or sysv). Memory is
 * registered with uct_md_mem_reg; the packed remote key travels in the
 * PML's handle. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_uct.h"

enum { RMA_NEW, RMA_MOVING, RMA_PUT_MOVED, RMA_FLUSHING };

static btl_uct_module_t *uct_of(mrail_btl_module_t *m)
{
    return (btl_uct_module_t *)m;
}

bool btl_uct_rma_capable(const uct_iface_attr_t *attr)
{
    uint64_t need =
        UCT_IFACE_FLAG_GET_ZCOPY | UCT_IFACE_FLAG_PUT_ZCOPY | UCT_IFACE_FLAG_CONNECT_TO_IFACE;
    return (attr->cap.flags & need) == need;
}

/* ---- registration ---------------------------------------------------- */

static int uct_mem_register(mrail_btl_module_t *module, void *base, size_t len, void *handle)
{
    btl_uct_rma_t *r = &uct_of(module)->rma;
    uct_mem_h memh;
    if (uct_md_mem_reg(r->md, base, len, UCT_MD_MEM_ACCESS_RMA, &memh) != UCS_OK) {
        return MRAIL_ERR_IO;
    }
    btl_uct_reg_t *reg = handle;
    if (uct_md_mkey_pack(r->md, memh, reg->rkey) != UCS_OK) {
        uct_md_mem_dereg(r->md, memh);
        return MRAIL_ERR_IO;
    }
    uint64_t h = (uint64_t)(uintptr_t)memh;
    memcpy(&reg->memh, &h, sizeof(h));
    return MRAIL_SUCCESS;
}

static void uct_mem_deregister(mrail_btl_module_t *module, void *handle)
{
    btl_uct_rma_t *r = &uct_of(module)->rma;
    uint64_t h;
    memcpy(&h, handle, sizeof(h));
    uct_md_mem_dereg(r->md, (uct_mem_h)(uintptr_t)h);
}

/* ---- operations ------------------------------------------------------ */

static void rma_free(btl_uct_module_t *m, btl_uct_rma_op_t *op)
{
    uct_rkey_release(m->rma.comp, &op->rkey);
    if (op->local_memh != UCT_MEM_HANDLE_NULL) {
        uct_md_mem_dereg(m->rma.md, op->local_memh);
    }
    free(op);
}

static void rma_finish(btl_uct_rma_op_t *op, int status)
{
    btl_uct_module_t *m = op->module;
    if (m->closing) { /* cancelled at finalize: its owner is gone */
        rma_free(m, op);
        return;
    }
    if (status != MRAIL_SUCCESS && !op->ep->failed) {
        op->ep->failed = true;
        mrail_btl_report_error(&m->base, op->ep->rank, MRAIL_ERR_IO,
                               "%s: %s of %zu bytes from rank %u failed", m->base.name,
                               op->is_get ? "get" : "put", op->len, op->ep->rank);
    }
    mrail_btl_done_fn_t done = op->done;
    void *cbdata = op->cbdata;
    mrail_btl_endpoint_t *ep = op->ep;
    rma_free(m, op);
    if (done != NULL) {
        done(&m->base, ep, status, cbdata);
    }
}

static void rma_push(btl_uct_module_t *m, btl_uct_rma_op_t *op)
{
    op->next = NULL;
    if (m->rma_tail != NULL) {
        m->rma_tail->next = op;
    } else {
        m->rma_head = op;
    }
    m->rma_tail = op;
}

/* UCT finished the transfer or the flush behind a put. A put whose bytes
 * have left still has to reach the peer's memory before done() may say so:
 * its flush is issued from progress, not from inside UCT's callback. */
static void rma_completed(uct_completion_t *comp)
{
    btl_uct_rma_op_t *op = (btl_uct_rma_op_t *)comp;
    if (comp->status != UCS_OK) {
        rma_finish(op, MRAIL_ERR_IO);
    } else if (!op->is_get && op->state == RMA_MOVING) {
        op->state = RMA_PUT_MOVED;
        rma_push(op->module, op);
    } else {
        rma_finish(op, MRAIL_SUCCESS);
    }
}

/* One step of op: UCS_OK (done), UCS_INPROGRESS (rma_completed follows),
 * UCS_ERR_NO_RESOURCE (try again later) or an error. */
static ucs_status_t rma_step(btl_uct_rma_op_t *op)
{
    uct_ep_h ep = op->ep->rma_ep;
    op->comp = (uct_completion_t){.func = rma_completed, .count = 1, .status = UCS_OK};
    if (op->state == RMA_PUT_MOVED || op->state == RMA_FLUSHING) {
        op->state = RMA_FLUSHING;
        return uct_ep_flush(ep, 0, &op->comp);
    }
    uct_iov_t iov = {
        .buffer = op->local, .length = op->len, .memh = op->local_memh, .stride = 0, .count = 1};
    op->state = RMA_MOVING;
    ucs_status_t st =
        op->is_get ? uct_ep_get_zcopy(ep, &iov, 1, op->remote_addr, op->rkey.rkey, &op->comp)
                   : uct_ep_put_zcopy(ep, &iov, 1, op->remote_addr, op->rkey.rkey, &op->comp);
    if (st == UCS_ERR_NO_RESOURCE) {
        op->state = RMA_NEW;
    } else if (st == UCS_OK && !op->is_get) {
        op->state = RMA_FLUSHING;
        op->comp = (uct_completion_t){.func = rma_completed, .count = 1, .status = UCS_OK};
        st = uct_ep_flush(ep, 0, &op->comp);
        if (st == UCS_ERR_NO_RESOURCE) {
            op->state = RMA_PUT_MOVED;
        }
    }
    return st;
}

int btl_uct_rma_flush(btl_uct_module_t *m)
{
    int events = 0;
    while (m->rma_head != NULL) {
        btl_uct_rma_op_t *op = m->rma_head;
        ucs_status_t st = op->ep->failed ? UCS_ERR_ENDPOINT_TIMEOUT : rma_step(op);
        if (st == UCS_ERR_NO_RESOURCE) {
            break;
        }
        m->rma_head = op->next;
        if (m->rma_head == NULL) {
            m->rma_tail = NULL;
        }
        events++;
        if (st == UCS_OK) {
            rma_finish(op, MRAIL_SUCCESS);
        } else if (st != UCS_INPROGRESS) {
            rma_finish(op, MRAIL_ERR_IO);
        }
    }
    return events;
}

static int rma(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local, uint64_t remote,
               const void *remote_handle, size_t len, bool is_get, mrail_btl_done_fn_t done,
               void *cbdata)
{
    btl_uct_module_t *m = uct_of(module);
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (ep->rma_ep == NULL) {
        return MRAIL_ERR_NOT_SUPPORTED; /* the peer has no interface of ours for it */
    }
    if (len > module->put_limit) {
        return MRAIL_ERR_BAD_PARAM;
    }
    btl_uct_rma_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    const btl_uct_reg_t *reg = remote_handle;
    if (uct_rkey_unpack(m->rma.comp, reg->rkey, &op->rkey) != UCS_OK) {
        free(op);
        return MRAIL_ERR_IO;
    }
    op->local_memh = UCT_MEM_HANDLE_NULL;
    if ((m->rma.md_attr.cap.flags & UCT_MD_FLAG_NEED_MEMH) &&
        uct_md_mem_reg(m->rma.md, local, len,
                       UCT_MD_MEM_ACCESS_LOCAL_READ | UCT_MD_MEM_ACCESS_LOCAL_WRITE,
                       &op->local_memh) != UCS_OK) {
        op->local_memh = UCT_MEM_HANDLE_NULL;
        rma_free(m, op);
        return MRAIL_ERR_IO;
    }
    op->module = m;
    op->ep = ep;
    op->done = done;
    op->cbdata = cbdata;
    op->is_get = is_get;
    op->local = local;
    op->len = len;
    op->remote_addr = remote;
    op->state = RMA_NEW;
    if (!is_get) {
        module->tx_bytes += len;
    }
    ucs_status_t st = m->rma_head != NULL ? UCS_ERR_NO_RESOURCE : rma_step(op);
    if (st == UCS_OK) {
        op->done = NULL;
        rma_finish(op, MRAIL_SUCCESS);
        return MRAIL_SUCCESS;
    }
    if (st == UCS_ERR_NO_RESOURCE) {
        rma_push(m, op);
        return MRAIL_INPROGRESS;
    }
    if (st == UCS_INPROGRESS) {
        return MRAIL_INPROGRESS;
    }
    op->done = NULL;
    rma_free(m, op);
    return MRAIL_ERR_IO;
}

static int uct_put(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, const void *local,
                   uint64_t remote_addr, const void *remote_handle, size_t len,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    return rma(module, ep, (void *)local, remote_addr, remote_handle, len, false, done, cbdata);
}

static int uct_get(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local,
                   uint64_t remote_addr, const void *remote_handle, size_t len,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    return rma(module, ep, local, remote_addr, remote_handle, len, true, done, cbdata);
}

/* ---- set-up ------------------------------------------------------------ */

static int open_companion(btl_uct_module_t *m, const btl_uct_companion_t *c, mrail_reason_t *why)
{
    btl_uct_rma_t *r = &m->rma;
    uct_md_config_t *config;
    ucs_status_t st = uct_md_config_read(c->comp, NULL, NULL, &config);
    if (st == UCS_OK) {
        st = uct_md_open(c->comp, c->md_name, config, &r->md);
        uct_config_release(config);
    }
    if (st == UCS_OK) {
        st = uct_md_query(r->md, &r->md_attr);
    }
    if (st != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "opening memory domain %s: %s", c->md_name,
                                ucs_status_string(st));
    }
    int rc = btl_uct_iface_open(r->md, m->worker, c->tl, c->dev, &r->iface, &r->attr, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    if (r->attr.device_addr_len > BTL_UCT_MAX_ADDR || r->attr.iface_addr_len > BTL_UCT_MAX_ADDR) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s/%s has addresses longer than %d bytes",
                                c->tl, c->dev, BTL_UCT_MAX_ADDR);
    }
    if ((st = uct_iface_get_device_address(r->iface, (uct_device_addr_t *)r->dev_addr)) != UCS_OK ||
        (st = uct_iface_get_address(r->iface, (uct_iface_addr_t *)r->iface_addr)) != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s/%s: getting its address: %s", c->tl, c->dev,
                                ucs_status_string(st));
    }
    uct_iface_progress_enable(r->iface, UCT_PROGRESS_SEND | UCT_PROGRESS_RECV);
    r->comp = c->comp;
    snprintf(r->tl, sizeof(r->tl), "%s", c->tl);
    return MRAIL_SUCCESS;
}

static void close_companion(btl_uct_rma_t *r)
{
    if (r->own) {
        return;
    }
    if (r->iface != NULL) {
        uct_iface_close(r->iface);
        r->iface = NULL;
    }
    if (r->md != NULL) {
        uct_md_close(r->md);
        r->md = NULL;
    }
}

int btl_uct_rma_open(btl_uct_module_t *m, const btl_uct_companion_t *c, mrail_reason_t *why)
{
    btl_uct_rma_t *r = &m->rma;
    memset(r, 0, sizeof(*r));
    if (c == NULL) {
        r->own = true;
        r->comp = m->comp;
        r->md = m->md;
        r->md_attr = m->md_attr;
        r->iface = m->iface;
        r->attr = m->attr;
        snprintf(r->tl, sizeof(r->tl), "%s", m->tl);
    } else {
        int rc = open_companion(m, c, why);
        if (rc != MRAIL_SUCCESS) {
            close_companion(r);
            return rc;
        }
    }
    if (!btl_uct_rma_capable(&r->attr) || !(r->md_attr.cap.flags & UCT_MD_FLAG_REG)) {
        close_companion(r);
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s cannot move get/put of registered memory", r->tl);
    }
    size_t limit = r->attr.cap.get.max_zcopy < r->attr.cap.put.max_zcopy
                       ? r->attr.cap.get.max_zcopy
                       : r->attr.cap.put.max_zcopy;
    mrail_btl_module_t *b = &m->base;
    b->put_limit = limit < ((size_t)1 << 30) ? limit : ((size_t)1 << 30);
    b->reg_size = sizeof(btl_uct_reg_t) + r->md_attr.rkey_packed_size;
    b->mem_register = uct_mem_register;
    b->mem_deregister = uct_mem_deregister;
    b->put = uct_put;
    b->get = uct_get;
    b->flags |= MRAIL_BTL_FLAG_PUT | MRAIL_BTL_FLAG_GET;
    m->has_rma = true;
    return MRAIL_SUCCESS;
}

void btl_uct_rma_publish(const btl_uct_module_t *m, btl_uct_modex_entry_t *e)
{
    if (!m->has_rma || m->rma.own) {
        return;
    }
    const btl_uct_rma_t *r = &m->rma;
    snprintf(e->rma_tl, sizeof(e->rma_tl), "%s", r->tl);
    e->rma_dev_addr_len = (uint32_t)r->attr.device_addr_len;
    e->rma_iface_addr_len = (uint32_t)r->attr.iface_addr_len;
    memcpy(e->rma_dev_addr, r->dev_addr, e->rma_dev_addr_len);
    memcpy(e->rma_iface_addr, r->iface_addr, e->rma_iface_addr_len);
}

int btl_uct_rma_connect(btl_uct_module_t *m, mrail_btl_endpoint_t *ep,
                        const btl_uct_modex_entry_t *e, mrail_reason_t *why)
{
    if (!m->has_rma || ep->rma_ep != NULL) {
        return MRAIL_SUCCESS;
    }
    if (m->rma.own) {
        ep->rma_ep = ep->ep;
        return MRAIL_SUCCESS;
    }
    const btl_uct_rma_t *r = &m->rma;
    if (strncmp(e->rma_tl, r->tl, sizeof(e->rma_tl)) != 0 ||
        e->rma_dev_addr_len != r->attr.device_addr_len ||
        e->rma_iface_addr_len != r->attr.iface_addr_len ||
        !uct_iface_is_reachable(r->iface, (const uct_device_addr_t *)e->rma_dev_addr,
                                (const uct_iface_addr_t *)e->rma_iface_addr)) {
        return MRAIL_SUCCESS; /* messages only: gets fall back to the PML's fragments */
    }
    uct_ep_params_t params = {.field_mask = UCT_EP_PARAM_FIELD_IFACE | UCT_EP_PARAM_FIELD_DEV_ADDR |
                                            UCT_EP_PARAM_FIELD_IFACE_ADDR,
                              .iface = r->iface,
                              .dev_addr = (const uct_device_addr_t *)e->rma_dev_addr,
                              .iface_addr = (const uct_iface_addr_t *)e->rma_iface_addr};
    ucs_status_t st = uct_ep_create(&params, &ep->rma_ep);
    if (st != UCS_OK) {
        ep->rma_ep = NULL;
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: uct_ep_create (%s) to rank %u: %s",
                                m->base.name, r->tl, ep->rank, ucs_status_string(st));
    }
    return MRAIL_SUCCESS;
}

void btl_uct_rma_close(btl_uct_module_t *m)
{
    while (m->rma_head != NULL) {
        btl_uct_rma_op_t *op = m->rma_head;
        m->rma_head = op->next;
        rma_free(m, op);
    }
    m->rma_tail = NULL;
    if (!m->has_rma) {
        return;
    }
    for (uint32_t r = 0; m->eps != NULL && r < m->size; r++) {
        if (m->eps[r].rma_ep != NULL && m->eps[r].rma_ep != m->eps[r].ep) {
            uct_ep_destroy(m->eps[r].rma_ep);
        }
        m->eps[r].rma_ep = NULL;
    }
    close_companion(&m->rma);
}
