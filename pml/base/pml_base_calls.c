/* The pml calls the MPI layer makes: each goes through the ops table of
 * the instance that the selected component opened (the MCA_PML_CALL way),
 * so --mca pml NAME or a component's higher priority decides what runs. */
#include <sched.h>
#include <string.h>

#include "mrail/pml.h"

int mrail_pml_open(mrail_rte_t *rte, mrail_frameworks_t *fws, mrail_pml_t **pml_out,
                   mrail_reason_t *why)
{
    mrail_framework_t *fw = mrail_frameworks_find(fws, "pml");
    if (fw == NULL || fw->selected == NULL || fw->selected->component == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_NOT_FOUND,
                                "no pml component was selected (see mrail_info pml)");
    }
    mrail_pml_component_t *c = (mrail_pml_component_t *)fw->selected->component;
    if (c->open == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_NOT_SUPPORTED, "pml %s cannot be opened",
                                c->ranked.base.name);
    }
    return c->open(c, rte, fws, pml_out, why);
}

void mrail_pml_close(mrail_pml_t *pml)
{
    if (pml != NULL) {
        pml->ops->close(pml);
    }
}

int mrail_pml_isend(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx, bool synchronous, mrail_pml_request_t **req)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->isend(pml, buf, len, dst, tag, ctx, synchronous, req);
    mrail_pml_unlock(pml);
    return rc;
}

int mrail_pml_sendi(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx)
{
    if (pml->lock == NULL && pml->ops->sendi != NULL) {
        /* No progress thread, no lock: a jump into the pml, with no
         * registers saved around a call (11 of a small send's instructions). */
        return pml->ops->sendi(pml, buf, len, dst, tag, ctx);
    }
    mrail_pml_lock(pml);
    int rc =
        pml->ops->sendi != NULL ? pml->ops->sendi(pml, buf, len, dst, tag, ctx) : MRAIL_ERR_AGAIN;
    mrail_pml_unlock(pml);
    return rc;
}

int mrail_pml_irecv_locked(mrail_pml_t *pml, void *buf, size_t len, int32_t src, int32_t tag,
                           uint32_t ctx, mrail_pml_request_t **req)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->irecv(pml, buf, len, src, tag, ctx, req);
    mrail_pml_unlock(pml);
    return rc;
}

int mrail_pml_isendv(mrail_pml_t *pml, const struct iovec *iov, int niov, uint32_t dst, int32_t tag,
                     uint32_t ctx, bool synchronous, mrail_pml_request_t **req)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->isendv(pml, iov, niov, dst, tag, ctx, synchronous, req);
    mrail_pml_unlock(pml);
    return rc;
}

int mrail_pml_irecvv(mrail_pml_t *pml, const struct iovec *iov, int niov, int32_t src, int32_t tag,
                     uint32_t ctx, mrail_pml_request_t **req)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->irecvv(pml, iov, niov, src, tag, ctx, req);
    mrail_pml_unlock(pml);
    return rc;
}

bool mrail_pml_test(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    mrail_pml_lock(pml);
    bool rc = pml->ops->test(pml, req, status);
    mrail_pml_unlock(pml);
    return rc;
}

bool mrail_pml_done(mrail_pml_t *pml, const mrail_pml_request_t *req)
{
    mrail_pml_lock(pml);
    bool rc = pml->ops->done != NULL ? pml->ops->done(pml, req)
                                     : pml->ops->test(pml, (mrail_pml_request_t *)req, NULL);
    mrail_pml_unlock(pml);
    return rc;
}

void mrail_pml_wait(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status)
{
    mrail_pml_lock(pml);
    pml->ops->wait(pml, req, status);
    mrail_pml_unlock(pml);
}

void mrail_pml_request_free(mrail_pml_t *pml, mrail_pml_request_t *req)
{
    mrail_pml_lock(pml);
    pml->ops->request_free(pml, req);
    mrail_pml_unlock(pml);
}

/* mrail_pml_finish of a pml without the op. */
static bool finish_in_steps(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                            mrail_pml_status_t *status)
{
    bool done = true;
    if (block) {
        pml->ops->wait(pml, req, status);
    } else {
        done = pml->ops->test(pml, req, status);
    }
    if (done) {
        pml->ops->request_free(pml, req);
    }
    return done;
}

bool mrail_pml_finish_general(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                              mrail_pml_status_t *status)
{
    mrail_pml_lock(pml);
    bool done = pml->ops->finish != NULL ? pml->ops->finish(pml, req, block, status)
                                         : finish_in_steps(pml, req, block, status);
    mrail_pml_unlock(pml);
    return done;
}

bool mrail_pml_cancel(mrail_pml_t *pml, mrail_pml_request_t *req)
{
    mrail_pml_lock(pml);
    bool rc = pml->ops->cancel(pml, req);
    mrail_pml_unlock(pml);
    return rc;
}

bool mrail_pml_iprobe(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                      mrail_pml_status_t *status)
{
    mrail_pml_lock(pml);
    bool rc = pml->ops->iprobe(pml, src, tag, ctx, status);
    mrail_pml_unlock(pml);
    return rc;
}

bool mrail_pml_improbe(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                       mrail_pml_status_t *status, mrail_pml_message_t **msg)
{
    mrail_pml_lock(pml);
    bool rc = pml->ops->improbe != NULL && pml->ops->improbe(pml, src, tag, ctx, status, msg);
    mrail_pml_unlock(pml);
    return rc;
}

int mrail_pml_imrecv(mrail_pml_t *pml, void *buf, size_t len, const struct iovec *iov, int niov,
                     mrail_pml_message_t *msg, mrail_pml_request_t **req)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->imrecv != NULL ? pml->ops->imrecv(pml, buf, len, iov, niov, msg, req)
                                      : MRAIL_ERR_NOT_SUPPORTED;
    mrail_pml_unlock(pml);
    return rc;
}

void mrail_pml_set_hook(mrail_pml_t *pml, int (*fn)(void *arg), void *arg)
{
    pml->hook = fn;
    pml->hook_arg = arg;
}

int mrail_pml_progress(mrail_pml_t *pml)
{
    mrail_pml_lock(pml);
    int rc = pml->ops->progress(pml);
    mrail_pml_unlock(pml);
    return rc;
}

unsigned mrail_pml_spin_limit(const mrail_pml_t *pml)
{
    return pml->ops->spin_limit(pml);
}

void mrail_pml_idle(mrail_pml_t *pml, unsigned *idle, bool (*ready)(void *arg), void *arg)
{
    if (pml->ops->idle != NULL) {
        pml->ops->idle(pml, idle, ready, arg);
    } else if (++*idle >= pml->ops->spin_limit(pml)) {
        sched_yield();
        *idle = 0;
    }
}

int mrail_pml_failed(const mrail_pml_t *pml)
{
    return pml->ops->failed(pml);
}

void mrail_pml_stats(const mrail_pml_t *pml, mrail_pml_stats_t *stats)
{
    if (pml->ops->stats != NULL) {
        pml->ops->stats(pml, stats);
    } else {
        memset(stats, 0, sizeof(*stats));
    }
}

const struct mrail_rails *mrail_pml_rails(const mrail_pml_t *pml)
{
    return pml->ops->rails != NULL ? pml->ops->rails(pml) : NULL;
}
