/* btl/ofi local descriptors (FI_MR_LOCAL), which providers over RDMA NICs
 * (efa, verbs;ofi_rxm) want for every buffer they are given: the receive
 * memory is registered once, sends are copied into a pool of registered
 * buffers (as btl/verbs does), and put/get's local buffer is registered
 * for the operation. btl_ofi_register_local takes this path with any
 * provider, which is how it is tested here. */
#include <stdlib.h>
#include <string.h>

#include "btl_ofi.h"

int btl_ofi_mr_reg(btl_ofi_module_t *m, void *base, size_t len, uint64_t access, struct fid_mr **mr)
{
    int mode = m->info->domain_attr->mr_mode;
    *mr = NULL;
    int ret = fi_mr_reg(m->domain, base, len, access, 0,
                        (mode & FI_MR_PROV_KEY) ? 0 : ++m->next_key, 0, mr, NULL);
    if (ret == 0 && (mode & FI_MR_ENDPOINT)) {
        ret = fi_mr_bind(*mr, &m->ep->fid, 0);
        if (ret == 0) {
            ret = fi_mr_enable(*mr);
        }
    }
    if (ret != 0 && *mr != NULL) {
        fi_close(&(*mr)->fid);
        *mr = NULL;
    }
    return ret;
}

int btl_ofi_local_open(btl_ofi_module_t *m, mrail_reason_t *why)
{
    size_t recv_bytes = (size_t)btl_ofi_config.recv_buffers * m->buf_size;
    int ret = btl_ofi_mr_reg(m, m->recv_mem, recv_bytes, FI_RECV, &m->recv_mr);
    if (ret != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO,
                                "%s: registering %zu bytes of receive buffers: %s", m->base.name,
                                recv_bytes, fi_strerror(-ret));
    }
    m->nsend = btl_ofi_config.recv_buffers;
    m->send_mem = malloc((size_t)m->nsend * m->buf_size);
    m->send_free = calloc(m->nsend, sizeof(int));
    if (m->send_mem == NULL || m->send_free == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory for %u send buffers",
                                m->nsend);
    }
    ret = btl_ofi_mr_reg(m, m->send_mem, (size_t)m->nsend * m->buf_size, FI_SEND, &m->send_mr);
    if (ret != 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: registering the send buffers: %s",
                                m->base.name, fi_strerror(-ret));
    }
    for (unsigned i = 0; i < m->nsend; i++) {
        m->send_free[m->nsend_free++] = (int)i;
    }
    return MRAIL_SUCCESS;
}

ssize_t btl_ofi_local_stage(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (op->staged >= 0) {
        return 0;
    }
    if (m->nsend_free == 0) {
        return -FI_EAGAIN; /* a send completes and gives one back */
    }
    op->staged = m->send_free[--m->nsend_free];
    char *buf = m->send_mem + (size_t)op->staged * m->buf_size, *p = buf;
    for (size_t i = 0; i < op->niov; i++) {
        if (op->iov[i].iov_len > 0) { /* an empty piece may have no address */
            memcpy(p, op->iov[i].iov_base, op->iov[i].iov_len);
        }
        p += op->iov[i].iov_len;
    }
    free(op->bounce);
    op->bounce = NULL;
    op->iov[0] = (struct iovec){buf, (size_t)(p - buf)};
    op->niov = 1;
    op->desc = fi_mr_desc(m->send_mr);
    return 0;
}

int btl_ofi_local_rma(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (op->local_mr != NULL) {
        return 0;
    }
    int ret = btl_ofi_mr_reg(m, op->iov[0].iov_base, op->iov[0].iov_len,
                             op->is_get ? FI_READ : FI_WRITE, &op->local_mr);
    if (ret == 0) {
        op->desc = fi_mr_desc(op->local_mr);
    }
    return ret;
}

void btl_ofi_local_release(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (op->staged >= 0) {
        m->send_free[m->nsend_free++] = op->staged;
        op->staged = -1;
    }
    if (op->local_mr != NULL) {
        fi_close(&op->local_mr->fid);
        op->local_mr = NULL;
    }
}

void btl_ofi_local_close(btl_ofi_module_t *m)
{
    if (m->recv_mr != NULL) {
        fi_close(&m->recv_mr->fid);
        m->recv_mr = NULL;
    }
    if (m->send_mr != NULL) {
        fi_close(&m->send_mr->fid);
        m->send_mr = NULL;
    }
    free(m->send_mem);
    free(m->send_free);
    m->send_mem = NULL;
    m->send_free = NULL;
}
