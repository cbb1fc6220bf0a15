/* osc/am: synchronisation. Fence sums the counts of operations sent with
 * an allreduce; post/start/complete/wait, lock/unlock and flush are
 * requests to the targets, answered or counted as described in osc_am.h. */
#include <stdlib.h>

#include "osc_am.h"

static int run(mrail_coll_sched_t *s)
{
    return s == NULL ? MPI_ERR_NO_MEM : mrail_coll_run(s);
}

/* The range errors this process saw as a target since the last sync. */
static int take_range_error(osc_am_win_t *w)
{
    int rc = w->range_error;
    w->range_error = MPI_SUCCESS;
    return rc;
}

int osc_am_quiesce(osc_am_win_t *w)
{
    MPI_Comm comm = w->base.comm;
    osc_am_wait_local(w, -1);
    uint64_t *need = malloc((size_t)w->size * sizeof(*need));
    mrail_coll_sched_t *s = need ? mrail_coll_sched_new(comm) : NULL;
    if (s == NULL) {
        free(need);
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[comm].coll->allreduce(s, comm, w->sent, need, (size_t)w->size, MPI_UINT64_T,
                                          MPI_SUM);
    int rc = run(s);
    unsigned idle = 0;
    while (rc == MPI_SUCCESS && w->done_total < need[w->rank]) {
        osc_am_spin(&idle);
    }
    free(need);
    return rc;
}

static int barrier(osc_am_win_t *w)
{
    mrail_coll_sched_t *s = mrail_coll_sched_new(w->base.comm);
    if (s != NULL) {
        mrail_obj.comms[w->base.comm].coll->barrier(s, w->base.comm);
    }
    return run(s);
}

int osc_am_fence(mrail_osc_win_t *base, int assert)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    int rc = MPI_SUCCESS;
    if (!(assert &MPI_MODE_NOPRECEDE)) {
        rc = osc_am_quiesce(w);
    }
    /* No operation of the next epoch may reach a target before its
     * stores, and those of this epoch, are done. */
    if (rc == MPI_SUCCESS) {
        rc = barrier(w);
    }
    return rc != MPI_SUCCESS ? rc : take_range_error(w);
}

int osc_am_post(mrail_osc_win_t *base, const int *ranks, int n, int assert)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    for (int i = 0; i < n; i++) {
        w->exposure[i] = ranks[i];
    }
    w->nexposure = n;
    int rc = MPI_SUCCESS;
    for (int i = 0; i < n && rc == MPI_SUCCESS && !(assert &MPI_MODE_NOCHECK); i++) {
        am_hdr_t h = {.kind = AM_POST, .origin = w->rank};
        rc = osc_am_request(w, ranks[i], &h, NULL, 0);
    }
    return rc;
}

int osc_am_start(mrail_osc_win_t *base, const int *ranks, int n, int assert)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    for (int i = 0; i < n; i++) {
        w->access[i] = ranks[i];
    }
    w->naccess = n;
    if (assert & MPI_MODE_NOCHECK) {
        return MPI_SUCCESS;
    }
    unsigned idle = 0;
    for (int i = 0; i < n; i++) {
        while (w->posts_seen[ranks[i]] <= w->posts_used[ranks[i]]) {
            osc_am_spin(&idle);
        }
        w->posts_used[ranks[i]]++;
    }
    return MPI_SUCCESS;
}

int osc_am_complete(mrail_osc_win_t *base)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    osc_am_wait_local(w, -1);
    int rc = MPI_SUCCESS;
    for (int i = 0; i < w->naccess && rc == MPI_SUCCESS; i++) {
        int r = w->access[i];
        am_hdr_t h = {.kind = AM_COMPLETE, .origin = w->rank, .count = w->sent[r]};
        rc = osc_am_request(w, r, &h, NULL, 0);
    }
    w->naccess = 0;
    return rc;
}

static bool exposure_done(const osc_am_win_t *w)
{
    for (int i = 0; i < w->nexposure; i++) {
        int o = w->exposure[i];
        if (w->completes_seen[o] <= w->completes_used[o] || w->done[o] < w->complete_need[o]) {
            return false;
        }
    }
    return true;
}

int osc_am_wait(mrail_osc_win_t *base, int *flag)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    unsigned idle = 0;
    if (flag != NULL) {
        mrail_pml_progress(mrail_obj.pml);
        *flag = exposure_done(w);
        if (!*flag) {
            return MPI_SUCCESS;
        }
    }
    while (!exposure_done(w)) {
        osc_am_spin(&idle);
    }
    for (int i = 0; i < w->nexposure; i++) {
        w->completes_used[w->exposure[i]]++;
    }
    w->nexposure = 0;
    return take_range_error(w);
}

/* Sends a request that the target answers, whose answer is counted down
 * in *left (and its error kept in *err). */
static int ask(osc_am_win_t *w, int rank, am_hdr_t h, int *left, int32_t *err)
{
    h.origin = w->rank;
    h.tag = osc_am_next_tag(w);
    am_pend_t *p = osc_am_pend_add(w, PEND_ACK, rank, NULL);
    if (p == NULL ||
        mrail_pml_irecv(mrail_obj.pml, &p->reply, sizeof(p->reply), (int32_t)w->world[rank], h.tag,
                        w->ctx, &p->req) != MRAIL_SUCCESS) {
        if (p != NULL) { /* nothing was posted: take it off again */
            w->pend = p->next;
            free(p);
        }
        return MPI_ERR_NO_MEM;
    }
    p->ack_left = left;
    p->ack_err = err;
    ++*left;
    return osc_am_request(w, rank, &h, NULL, 0);
}

static int await(osc_am_win_t *w, int *left, const int32_t *err, int rc)
{
    unsigned idle = 0;
    osc_am_reap(w);
    while (*left > 0) {
        osc_am_spin(&idle);
        osc_am_reap(w);
    }
    return rc != MPI_SUCCESS ? rc : *err;
}

int osc_am_lock(mrail_osc_win_t *base, int lock_type, int rank, int assert)
{
    osc_am_win_t *w = (osc_am_win_t *)base;
    int lo = rank < 0 ? 0 : rank, hi = rank < 0 ? w->size : rank + 1;
    int left = 0, rc = MPI_SUCCESS;
    int32_t err = MPI_SUCCESS;
    for (int r = lo; r < hi; r++) {
        if (assert & MPI_MODE_NOCHECK) {
            w->locked[r] = -1; /* held without asking: unlock only flushes */
            continue;
        }
        am_hdr_t h = {.kind = AM_LOCK, .lock_type = (uint8_t)lock_type};
        if (rc == MPI_SUCCESS) {
            rc = ask(w, r, h, &left, &err);
        }
        w->locked[r] = lock_type;
    }
    return await(w, &left, &err, rc);
}

/* Flushes (kind AM_FLUSH) or unlocks rank (-1: every rank). */
static int finish_at(osc_am_win_t *w, int rank, am_kind_t kind)
{
    int lo = rank < 0 ? 0 : rank, hi = rank < 0 ? w->size : rank + 1;
    int left = 0, rc = MPI_SUCCESS;
    int32_t err = MPI_SUCCESS;
    osc_am_wait_local(w, rank);
    /* Copies into a shared segment are done already: they need only be
     * ordered before what follows. A target is asked only when requests
     * went to it since it last answered, or it holds a lock of ours. */
    mrail_osc_fence();
    for (int r = lo; r < hi && rc == MPI_SUCCESS; r++) {
        bool lock_held = kind == AM_UNLOCK && w->locked[r] > 0;
        if ((kind == AM_UNLOCK && w->locked[r] == 0) ||
            (!lock_held && w->sent[r] == w->answered[r])) {
            w->locked[r] = kind == AM_UNLOCK ? 0 : w->locked[r];
            continue;
        }
        w->answered[r] = w->sent[r];
        am_hdr_t h = {.kind = (uint8_t)kind, .count = w->sent[r]};
        if (kind == AM_UNLOCK) {
            h.lock_type = (uint8_t)(w->locked[r] > 0 ? w->locked[r] : 0);
            w->locked[r] = 0;
        }
        rc = ask(w, r, h, &left, &err);
    }
    return await(w, &left, &err, rc);
}

int osc_am_unlock(mrail_osc_win_t *base, int rank)
{
    return finish_at((osc_am_win_t *)base, rank, AM_UNLOCK);
}

int osc_am_flush(mrail_osc_win_t *base, int rank)
{
    return finish_at((osc_am_win_t *)base, rank, AM_FLUSH);
}

int osc_am_flush_local(mrail_osc_win_t *base, int rank)
{
    osc_am_wait_local((osc_am_win_t *)base, rank);
    return MPI_SUCCESS;
}
