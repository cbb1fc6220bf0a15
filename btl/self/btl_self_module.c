/* btl/self data path: messages to oneself, zero-copy. */
#include <stdlib.h>
#include <string.h>

#include "btl_self.h"

static btl_self_module_t *self_of(mrail_btl_module_t *m)
{
    return (btl_self_module_t *)m;
}

static int self_add_peers(mrail_btl_module_t *module, const uint32_t *ranks, size_t n,
                          mrail_btl_endpoint_t **eps, mrail_reason_t *why)
{
    (void)why;
    btl_self_module_t *m = self_of(module);
    m->ep.rank = mrail_rte_facts(module->rte)->rank;
    for (size_t i = 0; i < n; i++) {
        eps[i] = ranks[i] == m->ep.rank ? &m->ep : NULL;
    }
    return MRAIL_SUCCESS;
}

static void self_del_peers(mrail_btl_module_t *module, mrail_btl_endpoint_t **eps, size_t n)
{
    (void)module, (void)eps, (void)n; /* the one endpoint lives in the module */
}

static void enqueue(btl_self_module_t *m, btl_self_msg_t *msg)
{
    msg->next = NULL;
    if (m->tail != NULL) {
        m->tail->next = msg;
    } else {
        m->head = msg;
    }
    m->tail = msg;
}

/* Delivered from progress, not from send: a callback that sends again must
 * not recurse. */
static int self_send(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                     const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                     mrail_btl_done_fn_t done, void *cbdata)
{
    (void)ep;
    btl_self_msg_t *msg = malloc(sizeof(*msg) + (size_t)(npayload + 1) * sizeof(struct iovec));
    if (msg == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    msg->tag = tag;
    msg->done = done;
    msg->cbdata = cbdata;
    msg->nsegs = npayload + 1;
    msg->segs[0] = (struct iovec){(void *)(uintptr_t)hdr, hdr_len};
    if (npayload > 0) {
        memcpy(&msg->segs[1], payload, (size_t)npayload * sizeof(struct iovec));
    }
    enqueue(self_of(module), msg);
    return MRAIL_INPROGRESS;
}

static int self_sendi(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                      const void *hdr, size_t hdr_len, const void *payload, size_t len)
{
    (void)ep;
    /* The caller reuses its buffers at once: one small copy. */
    btl_self_msg_t *msg = malloc(sizeof(*msg) + 2 * sizeof(struct iovec) + hdr_len + len);
    if (msg == NULL) {
        return MRAIL_ERR_AGAIN;
    }
    char *copy = (char *)&msg->segs[2];
    memcpy(copy, hdr, hdr_len);
    if (len > 0) {
        memcpy(copy + hdr_len, payload, len);
    }
    msg->tag = tag;
    msg->done = NULL;
    msg->nsegs = 2;
    msg->segs[0] = (struct iovec){copy, hdr_len};
    msg->segs[1] = (struct iovec){copy + hdr_len, len};
    enqueue(self_of(module), msg);
    return MRAIL_SUCCESS;
}

static int self_put(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, const void *local,
                    uint64_t remote_addr, const void *remote_handle, size_t len,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    (void)ep, (void)done, (void)cbdata;
    if (remote_handle == NULL) {
        return btl_self_copy_checked((void *)(uintptr_t)remote_addr, local, len, true);
    }
    if (!btl_self_reg_covers(self_of(module), remote_handle, remote_addr, len)) {
        return MRAIL_ERR_BAD_PARAM;
    }
    memmove((void *)(uintptr_t)remote_addr, local, len);
    return MRAIL_SUCCESS;
}

static int self_get(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, void *local,
                    uint64_t remote_addr, const void *remote_handle, size_t len,
                    mrail_btl_done_fn_t done, void *cbdata)
{
    (void)ep, (void)done, (void)cbdata;
    if (remote_handle == NULL) {
        return btl_self_copy_checked(local, (const void *)(uintptr_t)remote_addr, len, false);
    }
    if (!btl_self_reg_covers(self_of(module), remote_handle, remote_addr, len)) {
        return MRAIL_ERR_BAD_PARAM;
    }
    memmove(local, (const void *)(uintptr_t)remote_addr, len);
    return MRAIL_SUCCESS;
}

static int self_progress(mrail_btl_module_t *module)
{
    btl_self_module_t *m = self_of(module);
    int events = 0;
    /* Only what was queued before this call: new sends wait for the next. */
    btl_self_msg_t *last = m->tail;
    while (m->head != NULL) {
        btl_self_msg_t *msg = m->head;
        m->head = msg->next;
        if (m->head == NULL) {
            m->tail = NULL;
        }
        mrail_btl_am_deliver(module, &m->ep, m->ep.rank, msg->tag, msg->segs, msg->nsegs);
        if (msg->done != NULL) {
            msg->done(module, &m->ep, MRAIL_SUCCESS, msg->cbdata);
        }
        events++;
        bool was_last = msg == last;
        free(msg);
        if (was_last) {
            break;
        }
    }
    return events;
}

static void self_finalize(mrail_btl_module_t *module)
{
    btl_self_module_t *m = self_of(module);
    while (m->head != NULL) {
        btl_self_msg_t *next = m->head->next;
        free(m->head);
        m->head = next;
    }
    free(m->regs);
    free(m);
}

void btl_self_module_init(btl_self_module_t *m)
{
    mrail_btl_module_t *b = &m->base;
    /* WAKES: what it delivers is this process's own, seen by its next poll. */
    b->flags = MRAIL_BTL_FLAG_SEND | MRAIL_BTL_FLAG_SENDI | MRAIL_BTL_FLAG_PUT |
               MRAIL_BTL_FLAG_GET | MRAIL_BTL_FLAG_WAKES;
    b->put_limit = SIZE_MAX;
    b->add_peers = self_add_peers;
    b->del_peers = self_del_peers;
    b->send = self_send;
    b->sendi = self_sendi;
    b->reg_size = BTL_SELF_REG_SIZE;
    b->mem_register = btl_self_mem_register;
    b->mem_deregister = btl_self_mem_deregister;
    b->put = self_put;
    b->get = self_get;
    b->progress = self_progress;
    b->finalize = self_finalize;
}
