/* btl/ofi put/get: memory registration honouring the provider's mr_mode
 * (virtual or offset addresses, provider or requested keys, registrations
 * bound to the endpoint) and fi_write/fi_read; with FI_MR_LOCAL the local
 * buffer is registered for the operation (btl_ofi_local.c). */
#include <stdlib.h>
#include <string.h>

#include "btl_ofi.h"

static btl_ofi_module_t *ofi_of(mrail_btl_module_t *m)
{
    return (btl_ofi_module_t *)m;
}

static int ofi_mem_register(mrail_btl_module_t *module, void *base, size_t len, void *handle)
{
    btl_ofi_module_t *m = ofi_of(module);
    struct fid_mr *mr;
    if (btl_ofi_mr_reg(m, base, len, FI_REMOTE_READ | FI_REMOTE_WRITE | FI_READ | FI_WRITE, &mr) !=
        0) {
        return MRAIL_ERR_IO;
    }
    int mode = m->info->domain_attr->mr_mode;
    btl_ofi_reg_t reg = {.key = fi_mr_key(mr),
                         .base = (mode & FI_MR_VIRT_ADDR) ? 0 : (uint64_t)(uintptr_t)base,
                         .mr = mr};
    memcpy(handle, &reg, sizeof(reg));
    return MRAIL_SUCCESS;
}

static void ofi_mem_deregister(mrail_btl_module_t *module, void *handle)
{
    (void)module;
    btl_ofi_reg_t reg;
    memcpy(&reg, handle, sizeof(reg));
    if (reg.mr != NULL) {
        fi_close(&reg.mr->fid);
    }
}

int btl_ofi_rma_issue(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (m->mr_local) {
        int ret = btl_ofi_local_rma(m, op);
        if (ret != 0) {
            return ret;
        }
    }
    struct fi_rma_iov remote = {.addr = op->remote_addr, .len = op->iov[0].iov_len, .key = op->key};
    struct fi_msg_rma msg = {.msg_iov = op->iov,
                             .desc = m->mr_local ? &op->desc : NULL,
                             .iov_count = 1,
                             .addr = op->ep->addr,
                             .rma_iov = &remote,
                             .rma_iov_count = 1,
                             .context = &op->ctx.fi};
    if (op->is_get) {
        return (int)fi_readmsg(m->ep, &msg, FI_COMPLETION);
    }
    /* The owner tells the peer its data is there once the put is done:
     * done must mean delivered. */
    return (int)fi_writemsg(m->ep, &msg, FI_COMPLETION | FI_DELIVERY_COMPLETE);
}

static int rma(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local, uint64_t remote,
               const void *remote_handle, size_t len, bool is_get, mrail_btl_done_fn_t done,
               void *cbdata)
{
    btl_ofi_module_t *m = ofi_of(module);
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (len > module->put_limit) {
        return MRAIL_ERR_BAD_PARAM;
    }
    btl_ofi_reg_t reg;
    memcpy(&reg, remote_handle, sizeof(reg));
    btl_ofi_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    btl_ofi_op_live(m, op);
    op->ctx.kind = BTL_OFI_RMA;
    op->staged = -1;
    op->ep = ep;
    op->done = done;
    op->cbdata = cbdata;
    op->is_get = is_get;
    op->remote_addr = remote - reg.base;
    op->key = reg.key;
    op->iov[0] = (struct iovec){local, len};
    op->niov = 1;
    if (!is_get) {
        module->tx_bytes += len;
    }
    int ret = m->pending_head != NULL ? -FI_EAGAIN : btl_ofi_rma_issue(m, op);
    if (ret == -FI_EAGAIN) {
        op->next = NULL;
        if (m->pending_tail != NULL) {
            m->pending_tail->next = op;
        } else {
            m->pending_head = op;
        }
        m->pending_tail = op;
        return MRAIL_INPROGRESS;
    }
    if (ret != 0) {
        btl_ofi_op_dead(m, op);
        btl_ofi_local_release(m, op);
        free(op);
        return MRAIL_ERR_IO;
    }
    return MRAIL_INPROGRESS;
}

static int ofi_put(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, const void *local,
                   uint64_t remote_addr, const void *remote_handle, size_t len,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    return rma(module, ep, (void *)local, remote_addr, remote_handle, len, false, done, cbdata);
}

static int ofi_get(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local,
                   uint64_t remote_addr, const void *remote_handle, size_t len,
                   mrail_btl_done_fn_t done, void *cbdata)
{
    return rma(module, ep, local, remote_addr, remote_handle, len, true, done, cbdata);
}

void btl_ofi_rma_init(btl_ofi_module_t *m)
{
    const struct fi_info *info = m->info;
    if (!(info->caps & FI_RMA)) {
        return;
    }
    mrail_btl_module_t *b = &m->base;
    b->flags |= MRAIL_BTL_FLAG_PUT | MRAIL_BTL_FLAG_GET;
    b->put_limit = info->ep_attr->max_msg_size > 0 ? info->ep_attr->max_msg_size : (1u << 30);
    b->reg_size = sizeof(btl_ofi_reg_t);
    b->mem_register = ofi_mem_register;
    b->mem_deregister = ofi_mem_deregister;
    b->put = ofi_put;
    b->get = ofi_get;
}
