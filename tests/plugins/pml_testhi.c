/* A second pml with a higher default priority than pml/stripe, and a real
 * one: messages from a rank to itself (a one-rank job), matched in order.
 * At close it prints how often each call reached it, so a test can tell
 * that the selected pml is the one that ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/pml.h"

struct mrail_pml_request {
    struct mrail_pml_request *next;
    bool is_send, complete, cancelled;
    void *data; /* send: a copy of the message; recv: the buffer */
    size_t len;
    int32_t peer, tag;
    uint32_t ctx;
    mrail_pml_status_t status;
};

enum { C_ISEND, C_IRECV, C_TEST, C_WAIT, C_IPROBE, C_PROGRESS, C_COUNT };
static const char *const call_names[C_COUNT] = {"isend", "irecv",  "test",
                                                "wait",  "iprobe", "progress"};

typedef struct testhi {
    mrail_pml_t base;
    uint32_t rank;
    mrail_pml_request_t *unexpected, *posted; /* FIFO lists */
    unsigned long calls[C_COUNT];
} testhi_t;

static bool matches(const mrail_pml_request_t *recv, const mrail_pml_request_t *send)
{
    return recv->ctx == send->ctx && (recv->tag == MRAIL_PML_ANY_TAG || recv->tag == send->tag);
}

static void deliver(mrail_pml_request_t *recv, mrail_pml_request_t *send, uint32_t rank)
{
    size_t n = send->len < recv->len ? send->len : recv->len;
    memcpy(recv->data, send->data, n);
    recv->status = (mrail_pml_status_t){.source = (int32_t)rank,
                                        .tag = send->tag,
                                        .count = n,
                                        .error = send->len > recv->len ? MRAIL_ERR_TRUNCATE : 0};
    recv->complete = true;
}

/* Unlinks and returns the first element of *list that pred accepts. */
static mrail_pml_request_t *take(mrail_pml_request_t **list, const mrail_pml_request_t *key,
                                 bool key_is_recv)
{
    for (mrail_pml_request_t **at = list; *at != NULL; at = &(*at)->next) {
        if (key_is_recv ? matches(key, *at) : matches(*at, key)) {
            mrail_pml_request_t *found = *at;
            *at = found->next;
            found->next = NULL;
            return found;
        }
    }
    return NULL;
}

static void append(mrail_pml_request_t **list, mrail_pml_request_t *req)
{
    while (*list != NULL) {
        list = &(*list)->next;
    }
    *list = req;
}

static int th_isend(mrail_pml_t *base, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx, bool synchronous, mrail_pml_request_t **out)
{
    (void)synchronous; /* the copy is taken now: complete at once */
    testhi_t *t = (testhi_t *)base;
    t->calls[C_ISEND]++;
    if (dst != t->rank) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_pml_request_t *s = calloc(1, sizeof(*s)), *copy = calloc(1, sizeof(*copy));
    void *data = malloc(len ? len : 1);
    if (s == NULL || copy == NULL || data == NULL) {
        free(s), free(copy), free(data);
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    memcpy(data, buf, len);
    *copy =
        (mrail_pml_request_t){.is_send = true, .data = data, .len = len, .tag = tag, .ctx = ctx};
    *s = (mrail_pml_request_t){.is_send = true, .complete = true};
    mrail_pml_request_t *r = take(&t->posted, copy, false);
    if (r != NULL) {
        deliver(r, copy, t->rank);
        free(copy->data);
        free(copy);
    } else {
        append(&t->unexpected, copy);
    }
    *out = s;
    return MRAIL_SUCCESS;
}

static int th_irecv(mrail_pml_t *base, void *buf, size_t len, int32_t src, int32_t tag,
                    uint32_t ctx, mrail_pml_request_t **out)
{
    testhi_t *t = (testhi_t *)base;
    t->calls[C_IRECV]++;
    mrail_pml_request_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    *r = (mrail_pml_request_t){.data = buf, .len = len, .peer = src, .tag = tag, .ctx = ctx};
    mrail_pml_request_t *s = take(&t->unexpected, r, true);
    if (s != NULL) {
        deliver(r, s, t->rank);
        free(s->data);
        free(s);
    } else {
        append(&t->posted, r);
    }
    *out = r;
    return MRAIL_SUCCESS;
}

static int th_isendv(mrail_pml_t *base, const struct iovec *iov, int niov, uint32_t dst,
                     int32_t tag, uint32_t ctx, bool synchronous, mrail_pml_request_t **req)
{
    (void)base, (void)iov, (void)niov, (void)dst, (void)tag, (void)ctx, (void)synchronous;
    (void)req;
    return MRAIL_ERR_NOT_SUPPORTED;
}

static int th_irecvv(mrail_pml_t *base, const struct iovec *iov, int niov, int32_t src, int32_t tag,
                     uint32_t ctx, mrail_pml_request_t **req)
{
    (void)base, (void)iov, (void)niov, (void)src, (void)tag, (void)ctx, (void)req;
    return MRAIL_ERR_NOT_SUPPORTED;
}

static bool th_test(mrail_pml_t *base, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    ((testhi_t *)base)->calls[C_TEST]++;
    if (req->complete && status != NULL) {
        *status = req->status;
        status->cancelled = req->cancelled;
    }
    return req->complete;
}

static void th_wait(mrail_pml_t *base, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    ((testhi_t *)base)->calls[C_WAIT]++;
    if (req->complete && status != NULL) { /* one rank: what is not complete never will be */
        *status = req->status;
        status->cancelled = req->cancelled;
    }
}

static void th_request_free(mrail_pml_t *base, mrail_pml_request_t *req)
{
    (void)base;
    free(req);
}

static bool th_cancel(mrail_pml_t *base, mrail_pml_request_t *req)
{
    testhi_t *t = (testhi_t *)base;
    for (mrail_pml_request_t **at = &t->posted; *at != NULL; at = &(*at)->next) {
        if (*at == req) {
            *at = req->next;
            req->complete = req->cancelled = true;
            return true;
        }
    }
    return false;
}

static bool th_iprobe(mrail_pml_t *base, int32_t src, int32_t tag, uint32_t ctx,
                      mrail_pml_status_t *status)
{
    testhi_t *t = (testhi_t *)base;
    t->calls[C_IPROBE]++;
    mrail_pml_request_t key = {.peer = src, .tag = tag, .ctx = ctx};
    for (mrail_pml_request_t *s = t->unexpected; s != NULL; s = s->next) {
        if (matches(&key, s)) {
            *status =
                (mrail_pml_status_t){.source = (int32_t)t->rank, .tag = s->tag, .count = s->len};
            return true;
        }
    }
    return false;
}

static int th_progress(mrail_pml_t *base)
{
    ((testhi_t *)base)->calls[C_PROGRESS]++;
    return 0;
}

static unsigned th_spin_limit(const mrail_pml_t *base)
{
    (void)base;
    return 1;
}

static int th_failed(const mrail_pml_t *base)
{
    (void)base;
    return 0;
}

static void th_close(mrail_pml_t *base)
{
    testhi_t *t = (testhi_t *)base;
    fprintf(stderr, "pml testhi:");
    for (int c = 0; c < C_COUNT; c++) {
        fprintf(stderr, " %s=%lu", call_names[c], t->calls[c]);
    }
    fprintf(stderr, "\n");
    for (mrail_pml_request_t *s = t->unexpected, *next; s != NULL; s = next) {
        next = s->next;
        free(s->data);
        free(s);
    }
    free(t);
}

static const mrail_pml_ops_t testhi_ops = {
    .close = th_close,
    .isend = th_isend,
    .irecv = th_irecv,
    .isendv = th_isendv,
    .irecvv = th_irecvv,
    .test = th_test,
    .wait = th_wait,
    .request_free = th_request_free,
    .cancel = th_cancel,
    .iprobe = th_iprobe,
    .progress = th_progress,
    .spin_limit = th_spin_limit,
    .failed = th_failed,
};

static int testhi_open(mrail_pml_component_t *self, mrail_rte_t *rte, mrail_frameworks_t *fws,
                       mrail_pml_t **pml, mrail_reason_t *why)
{
    (void)self, (void)fws;
    const mrail_rte_facts_t *facts = mrail_rte_facts(rte);
    if (facts->size != 1) {
        return mrail_reason_set(why, MRAIL_ERR_NOT_SUPPORTED,
                                "pml testhi carries messages of one-rank jobs only (size %u)",
                                facts->size);
    }
    testhi_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    t->base.ops = &testhi_ops;
    t->rank = facts->rank;
    *pml = &t->base;
    return MRAIL_SUCCESS;
}

static int testhi_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

mrail_pml_component_t mrail_pml_testhi_component = {
    .ranked = {.base = {.abi_version = MRAIL_COMPONENT_ABI_VERSION,
                        .framework = "pml",
                        .name = "testhi",
                        .version = "0.0.1",
                        .description = "test pml: one-rank jobs, counts its calls"},
               .default_priority = 50,
               .query = testhi_query},
    .open = testhi_open,
};
