/* btl/sm put/get: single-copy through Cross Memory Attach when the kernel
 * allows it, otherwise pipelined through the rings (the owner of the
 * memory copies it in, the other side copies it out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "btl_sm.h"
#include "mrail/copy.h"

/* A fallback get or put in flight, waiting for data or an acknowledgement. */
typedef struct btl_sm_op {
    struct btl_sm_op *next;
    uint64_t id;
    mrail_btl_endpoint_t *ep;
    char *local; /* get: where the data lands */
    size_t len, received;
    mrail_btl_done_fn_t done;
    void *cbdata;
} btl_sm_op_t;

static int cma_plain(pid_t pid, char *local, uint64_t remote, size_t len, bool write)
{
    size_t moved = 0;
    while (moved < len) {
        struct iovec l = {local + moved, len - moved};
        struct iovec r = {(void *)(uintptr_t)(remote + moved), len - moved};
        ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0)
                          : process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? errno : EIO;
        }
        moved += (size_t)n;
    }
    return 0;
}

/* The kernel copies for process_vm_readv/writev with `rep movsb` too, and
 * runs as slowly as memcpy for the pairs of mrail/copy.h (1.8 GB/s against
 * 8 here). Such a copy goes through a buffer placed at the remote address's
 * offset in its page, so that the kernel's copy is not aliased, and
 * mrail_copy makes the aliased one in user space. */
static int cma_bounced(btl_sm_module_t *m, pid_t pid, char *local, uint64_t remote, size_t len,
                       bool write)
{
    if (m->bounce == NULL) {
        m->bounce = aligned_alloc(4096, BTL_SM_BOUNCE_BYTES + 4096);
        if (m->bounce == NULL) {
            return cma_plain(pid, local, remote, len, write);
        }
    }
    /* Every piece starts at a multiple of BTL_SM_BOUNCE_BYTES, a multiple of
     * the page: remote + at keeps remote's offset in its page. */
    char *b = m->bounce + (remote & 4095u);
    for (size_t at = 0; at < len; at += BTL_SM_BOUNCE_BYTES) {
        size_t n = len - at < BTL_SM_BOUNCE_BYTES ? len - at : BTL_SM_BOUNCE_BYTES;
        if (write) {
            mrail_copy(b, local + at, n);
        }
        int err = cma_plain(pid, b, remote + at, n, write);
        if (err != 0) {
            return err;
        }
        if (!write) {
            mrail_copy(local + at, b, n);
        }
    }
    return 0;
}

int btl_sm_cma_copy(btl_sm_module_t *m, pid_t pid, void *local, uint64_t remote, size_t len,
                    bool write)
{
    const void *from = write ? local : (const void *)(uintptr_t)remote;
    const void *to = write ? (const void *)(uintptr_t)remote : local;
    if (mrail_copy_aliased(to, from, len)) {
        return cma_bounced(m, pid, local, remote, len, write);
    }
    return cma_plain(pid, local, remote, len, write);
}

/* Without CMA, get() is two copies through the rings, which the PML's own
 * striped rendezvous does as well: rdma get only when asked for. */
static void without_cma(btl_sm_module_t *m)
{
    m->use_cma = false;
    if (!m->cfg.min_rdma_given) {
        m->base.config.min_rdma_pipeline_size = 0;
    }
}

int btl_sm_rdma_select(btl_sm_module_t *m, const btl_sm_modex_t *peers, mrail_reason_t *why)
{
    if (m->cfg.single_copy == BTL_SM_COPY_NONE) {
        without_cma(m);
        snprintf(m->base.note, sizeof(m->base.note),
                 "copy-in/copy-out through the rings (btl_sm_single_copy_mechanism=none)");
        return MRAIL_SUCCESS;
    }
    /* Read each peer's segment magic through CMA: what the kernel refuses
     * here (Yama ptrace_scope, seccomp, containers) it refuses later too. */
    for (uint32_t i = 0; i < m->nlocal; i++) {
        uint64_t magic = 0;
        int err = btl_sm_cma_copy(m, peers[i].pid, &magic, peers[i].seg_addr, sizeof(magic), false);
        if (err == 0 && magic == BTL_SM_MAGIC) {
            continue;
        }
        const char *cause = err ? strerror(err) : "read the wrong bytes";
        if (m->cfg.single_copy == BTL_SM_COPY_CMA) {
            return mrail_reason_set(why, MRAIL_ERR_NOT_SUPPORTED,
                                    "btl_sm_single_copy_mechanism=cma, but process_vm_readv on "
                                    "rank %u (pid %d) failed: %s; check "
                                    "/proc/sys/kernel/yama/ptrace_scope, or use auto",
                                    m->eps[i].rank, (int)peers[i].pid, cause);
        }
        without_cma(m);
        snprintf(m->base.note, sizeof(m->base.note),
                 "copy-in/copy-out through the rings: the kernel refused CMA (process_vm_readv "
                 "on rank %u: %s)",
                 m->eps[i].rank, cause);
        return MRAIL_SUCCESS;
    }
    m->use_cma = true;
    m->base.flags |= MRAIL_BTL_FLAG_GET_SHARED;
    snprintf(m->base.note, sizeof(m->base.note),
             "single copy through CMA (process_vm_readv/writev), shared by both ranks");
    return MRAIL_SUCCESS;
}

static btl_sm_op_t *op_new(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, void *local, size_t len,
                           mrail_btl_done_fn_t done, void *cbdata)
{
    btl_sm_op_t *op = calloc(1, sizeof(*op));
    if (op != NULL) {
        *op = (btl_sm_op_t){m->ops, ++m->next_req, ep, local, len, 0, done, cbdata};
        m->ops = op;
    }
    return op;
}

static btl_sm_op_t *op_take(btl_sm_module_t *m, uint64_t id)
{
    for (btl_sm_op_t **p = &m->ops; *p != NULL; p = &(*p)->next) {
        if ((*p)->id == id) {
            btl_sm_op_t *op = *p;
            *p = op->next;
            return op;
        }
    }
    return NULL;
}

static btl_sm_op_t *op_find(btl_sm_module_t *m, uint64_t id)
{
    for (btl_sm_op_t *op = m->ops; op != NULL; op = op->next) {
        if (op->id == id) {
            return op;
        }
    }
    return NULL;
}

static int cma_result(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, int err, const char *what)
{
    if (err == 0) {
        return MRAIL_SUCCESS;
    }
    if (err == ESRCH) {
        ep->failed = true;
    }
    mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERROR, "%s: %s to rank %u failed: %s",
                           m->base.name, what, ep->rank, strerror(err));
    return MRAIL_ERROR;
}

/* A small control record (GETREQ, PUTACK), queued behind earlier traffic. */
static int queue_control(mrail_btl_endpoint_t *ep, uint8_t kind, const btl_sm_rdma_hdr_t *h)
{
    btl_sm_out_t *o = btl_sm_out_new(sizeof(*h));
    if (o == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    memcpy(o->inline_bytes, h, sizeof(*h));
    o->kind = BTL_SM_OUT_COPY;
    o->rec_kind = kind;
    o->hdr = o->inline_bytes;
    o->hdr_len = sizeof(*h);
    btl_sm_out_enqueue(ep, o);
    btl_sm_out_flush(ep->module, ep);
    return MRAIL_SUCCESS;
}

static int queue_stream(mrail_btl_endpoint_t *ep, uint8_t kind, const btl_sm_rdma_hdr_t *h,
                        const char *src)
{
    btl_sm_out_t *o = btl_sm_out_new(0);
    if (o == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    o->kind = BTL_SM_OUT_STREAM;
    o->rec_kind = kind;
    o->rdma = *h;
    o->src = src;
    btl_sm_out_enqueue(ep, o);
    btl_sm_out_flush(ep->module, ep);
    return MRAIL_SUCCESS;
}

int btl_sm_get(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata)
{
    (void)remote_handle;
    btl_sm_module_t *m = (btl_sm_module_t *)self;
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (len == 0) {
        return MRAIL_SUCCESS;
    }
    if (m->use_cma) {
        int rc = remote_handle == NULL ? MRAIL_ERR_NOT_FOUND
                                       : btl_sm_share_get(m, ep, local, remote_addr, remote_handle,
                                                          len, done, cbdata);
        if (rc != MRAIL_ERR_NOT_FOUND) {
            return rc;
        }
        return cma_result(m, ep, btl_sm_cma_copy(m, ep->pid, local, remote_addr, len, false),
                          "get");
    }
    btl_sm_op_t *op = op_new(m, ep, local, len, done, cbdata);
    btl_sm_rdma_hdr_t h = {.req = op ? op->id : 0, .addr = remote_addr, .len = len};
    if (op == NULL || queue_control(ep, BTL_SM_REC_GETREQ, &h) != MRAIL_SUCCESS) {
        free(op_take(m, h.req));
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    return MRAIL_INPROGRESS;
}

int btl_sm_put(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, const void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata)
{
    (void)remote_handle;
    btl_sm_module_t *m = (btl_sm_module_t *)self;
    if (ep->failed) {
        return MRAIL_ERROR;
    }
    if (len == 0) {
        return MRAIL_SUCCESS;
    }
    if (m->use_cma) {
        return cma_result(
            m, ep, btl_sm_cma_copy(m, ep->pid, (void *)(uintptr_t)local, remote_addr, len, true),
            "put");
    }
    btl_sm_op_t *op = op_new(m, ep, NULL, len, done, cbdata);
    btl_sm_rdma_hdr_t h = {.req = op ? op->id : 0, .addr = remote_addr, .len = len};
    if (op == NULL || queue_stream(ep, BTL_SM_REC_PUTDATA, &h, local) != MRAIL_SUCCESS) {
        free(op_take(m, h.req));
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    return MRAIL_INPROGRESS;
}

static void op_finish(btl_sm_module_t *m, btl_sm_op_t *op, int status)
{
    if (op->done != NULL) {
        op->done(&m->base, op->ep, status, op->cbdata);
    }
    free(op);
}

void btl_sm_rdma_incoming(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, const btl_sm_rec_t *rec)
{
    btl_sm_rdma_hdr_t h;
    memcpy(&h, rec + 1, sizeof(h));
    const char *data = (const char *)(rec + 1) + rec->hdr_len;
    size_t chunk = rec->len - rec->hdr_len;
    switch (rec->kind) {
    case BTL_SM_REC_GETREQ:
        /* The peer wants our memory at h.addr: stream it back. */
        queue_stream(ep, BTL_SM_REC_GETDATA, &h, (const char *)(uintptr_t)h.addr);
        break;
    case BTL_SM_REC_GETDATA: {
        btl_sm_op_t *op = op_find(m, h.req);
        if (op != NULL) {
            mrail_copy(op->local + h.offset, data, chunk);
            op->received += chunk;
            if (op->received == op->len) {
                op_finish(m, op_take(m, h.req), MRAIL_SUCCESS);
            }
        }
        break;
    }
    case BTL_SM_REC_PUTDATA:
        mrail_copy((char *)(uintptr_t)h.addr + h.offset, data, chunk);
        if (h.offset + chunk == h.len) {
            queue_control(ep, BTL_SM_REC_PUTACK, &h);
        }
        break;
    case BTL_SM_REC_PUTACK: {
        btl_sm_op_t *op = op_take(m, h.req);
        if (op != NULL) {
            op_finish(m, op, MRAIL_SUCCESS);
        }
        break;
    }
    default:
        mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERROR,
                               "%s: record of unknown kind %u from rank %u", m->base.name,
                               rec->kind, ep->rank);
    }
}

void btl_sm_rdma_fail_peer(btl_sm_module_t *m, mrail_btl_endpoint_t *ep)
{
    btl_sm_share_fail_peer(m, ep);
    for (btl_sm_op_t **p = &m->ops; *p != NULL;) {
        btl_sm_op_t *op = *p;
        if (ep == NULL || op->ep == ep) {
            *p = op->next;
            op_finish(m, op, MRAIL_ERROR);
        } else {
            p = &op->next;
        }
    }
}
