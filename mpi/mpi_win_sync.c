/* Window synchronisation: fence, post/start/complete/wait/test, locks and
 * flushes. Each call checks that the epoch it opens or closes is in the
 * state MPI requires (MPI_ERR_RMA_SYNC names what is open) and hands the
 * work to the osc window. */
#include <stdlib.h>

#include "mpi_win.h"

MRAIL_MPI_ALIAS(MPI_Win_fence);
MRAIL_MPI_ALIAS(MPI_Win_post);
MRAIL_MPI_ALIAS(MPI_Win_start);
MRAIL_MPI_ALIAS(MPI_Win_complete);
MRAIL_MPI_ALIAS(MPI_Win_wait);
MRAIL_MPI_ALIAS(MPI_Win_test);
MRAIL_MPI_ALIAS(MPI_Win_lock);
MRAIL_MPI_ALIAS(MPI_Win_unlock);
MRAIL_MPI_ALIAS(MPI_Win_lock_all);
MRAIL_MPI_ALIAS(MPI_Win_unlock_all);
MRAIL_MPI_ALIAS(MPI_Win_flush);
MRAIL_MPI_ALIAS(MPI_Win_flush_all);
MRAIL_MPI_ALIAS(MPI_Win_flush_local);
MRAIL_MPI_ALIAS(MPI_Win_flush_local_all);
MRAIL_MPI_ALIAS(MPI_Win_sync);

#define ALL_MODES                                                                                  \
    (MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT | MPI_MODE_NOPRECEDE | MPI_MODE_NOSUCCEED)

static int check_assert(mpi_win_t *w, MPI_Win win, int assert, int allowed, const char *fn)
{
    if (assert & ~allowed) {
        return mpi_win_fail(w, win, MPI_ERR_ASSERT, fn,
                            "assert %#x has bits %s does not take (it takes %#x)", assert, fn,
                            allowed);
    }
    return MPI_SUCCESS;
}

/* The osc call's outcome through the window's handler. */
static int outcome(mpi_win_t *w, MPI_Win win, int rc, const char *fn)
{
    if (rc == MPI_SUCCESS) {
        return rc;
    }
    return mpi_win_fail(w, win, rc, fn, "%s",
                        rc == MPI_ERR_RMA_RANGE
                            ? "an operation on this process's window fell outside it and was "
                              "dropped"
                            : "the synchronisation failed");
}

int PMPI_Win_fence(int assert, MPI_Win win)
{
    const char *fn = "MPI_Win_fence";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = check_assert(w, win, assert, ALL_MODES & ~MPI_MODE_NOCHECK, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->started || w->posted || w->lock_all || w->nlocks > 0) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn,
                            "a general active target or passive target epoch is open");
    }
    rc = OSC_CALL(w, fence, assert);
    w->fence = !(assert &MPI_MODE_NOSUCCEED);
    return outcome(w, win, rc, fn);
}

/* A group's members as ranks of the window; NULL when one is not in it. */
static int *group_ranks(mpi_win_t *w, MPI_Win win, MPI_Group group, int *n, const char *fn, int *rc)
{
    *rc = mpi_check_group(group, fn);
    if (*rc != MPI_SUCCESS) {
        return NULL;
    }
    const uint32_t *world = mpi_group_world(group, n);
    const mpi_comm_t *c = &mrail_obj.comms[w->comm];
    int *ranks = malloc(((size_t)*n + 1) * sizeof(int));
    if (ranks == NULL) {
        *rc = mpi_win_fail(w, win, MPI_ERR_NO_MEM, fn, "out of memory");
        return NULL;
    }
    for (int i = 0; i < *n; i++) {
        ranks[i] = -1;
        for (int r = 0; r < c->size; r++) {
            if (c->world[r] == world[i]) {
                ranks[i] = r;
            }
        }
        if (ranks[i] < 0) {
            free(ranks);
            *rc = mpi_win_fail(w, win, MPI_ERR_GROUP, fn,
                               "member %d of the group (job rank %u) is not in the window", i,
                               world[i]);
            return NULL;
        }
    }
    return ranks;
}

int PMPI_Win_post(MPI_Group group, int assert, MPI_Win win)
{
    const char *fn = "MPI_Win_post";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = check_assert(w, win, assert, MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->posted) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn,
                            "an exposure epoch is open already (end it with MPI_Win_wait)");
    }
    int n;
    int *ranks = group_ranks(w, win, group, &n, fn, &rc);
    if (ranks == NULL) {
        return rc;
    }
    rc = OSC_CALL(w, post, ranks, n, assert);
    free(ranks);
    w->posted = rc == MPI_SUCCESS;
    return outcome(w, win, rc, fn);
}

int PMPI_Win_start(MPI_Group group, int assert, MPI_Win win)
{
    const char *fn = "MPI_Win_start";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = check_assert(w, win, assert, MPI_MODE_NOCHECK, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->started) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn,
                            "an access epoch is open already (end it with MPI_Win_complete)");
    }
    int n;
    int *ranks = group_ranks(w, win, group, &n, fn, &rc);
    if (ranks == NULL) {
        return rc;
    }
    rc = OSC_CALL(w, start, ranks, n, assert);
    for (int i = 0; i < n && rc == MPI_SUCCESS; i++) {
        w->in_access[ranks[i]] = true;
    }
    free(ranks);
    w->started = rc == MPI_SUCCESS;
    return outcome(w, win, rc, fn);
}

int PMPI_Win_complete(MPI_Win win)
{
    const char *fn = "MPI_Win_complete";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (!w->started) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "no MPI_Win_start epoch is open");
    }
    mrail_pml_lock(mrail_obj.pml);
    int rc = mpi_osc_unlock_rc(w->osc->ops->complete(w->osc));
    w->started = false;
    for (int r = 0; r < w->size; r++) {
        w->in_access[r] = false;
    }
    return outcome(w, win, rc, fn);
}

static int end_exposure(MPI_Win win, int *flag, const char *fn)
{
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (!w->posted) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "no MPI_Win_post epoch is open");
    }
    int rc = OSC_CALL(w, wait, flag);
    if (flag == NULL || *flag) {
        w->posted = false;
    }
    return outcome(w, win, rc, fn);
}

int PMPI_Win_wait(MPI_Win win)
{
    return end_exposure(win, NULL, "MPI_Win_wait");
}

int PMPI_Win_test(MPI_Win win, int *flag)
{
    return end_exposure(win, flag, "MPI_Win_test");
}

static int check_rank(mpi_win_t *w, MPI_Win win, int rank, const char *fn)
{
    return rank >= 0 && rank < w->size ? MPI_SUCCESS
                                       : mpi_win_fail(w, win, MPI_ERR_RANK, fn,
                                                      "rank %d (valid: 0..%d)", rank, w->size - 1);
}

int PMPI_Win_lock(int lock_type, int rank, int assert, MPI_Win win)
{
    const char *fn = "MPI_Win_lock";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (lock_type != MPI_LOCK_SHARED && lock_type != MPI_LOCK_EXCLUSIVE) {
        return mpi_win_fail(w, win, MPI_ERR_LOCKTYPE, fn,
                            "lock type %d (valid: MPI_LOCK_SHARED, MPI_LOCK_EXCLUSIVE)", lock_type);
    }
    int rc = check_rank(w, win, rank, fn);
    rc = rc ? rc : check_assert(w, win, assert, MPI_MODE_NOCHECK, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->locked[rank] != 0 || w->lock_all) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "rank %d is locked already", rank);
    }
    rc = OSC_CALL(w, lock, lock_type, rank, assert);
    if (rc == MPI_SUCCESS) {
        w->locked[rank] = lock_type;
        w->nlocks++;
    }
    return outcome(w, win, rc, fn);
}

int PMPI_Win_unlock(int rank, MPI_Win win)
{
    const char *fn = "MPI_Win_unlock";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = check_rank(w, win, rank, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->locked[rank] == 0) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "rank %d is not locked (by MPI_Win_lock)",
                            rank);
    }
    rc = OSC_CALL(w, unlock, rank);
    w->locked[rank] = 0;
    w->nlocks--;
    return outcome(w, win, rc, fn);
}

int PMPI_Win_lock_all(int assert, MPI_Win win)
{
    const char *fn = "MPI_Win_lock_all";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = check_assert(w, win, assert, MPI_MODE_NOCHECK, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (w->lock_all || w->nlocks > 0) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "%s",
                            w->lock_all ? "MPI_Win_lock_all was called already"
                                        : "ranks are locked by MPI_Win_lock");
    }
    rc = OSC_CALL(w, lock, MPI_LOCK_SHARED, -1, assert);
    w->lock_all = rc == MPI_SUCCESS;
    return outcome(w, win, rc, fn);
}

int PMPI_Win_unlock_all(MPI_Win win)
{
    const char *fn = "MPI_Win_unlock_all";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (!w->lock_all) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn, "MPI_Win_lock_all was not called");
    }
    int rc = OSC_CALL(w, unlock, -1);
    w->lock_all = false;
    return outcome(w, win, rc, fn);
}

/* Flushes rank (-1: all), or only locally. */
static int flush(MPI_Win win, int rank, bool local, const char *fn)
{
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = rank < 0 ? MPI_SUCCESS : check_rank(w, win, rank, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    bool open = w->lock_all || (rank < 0 ? w->nlocks > 0 : w->locked[rank] != 0);
    if (!open) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_SYNC, fn,
                            "no passive target epoch (MPI_Win_lock or MPI_Win_lock_all) is "
                            "open%s",
                            rank < 0 ? "" : " to that rank");
    }
    rc = local ? OSC_CALL(w, flush_local, rank) : OSC_CALL(w, flush, rank);
    return outcome(w, win, rc, fn);
}

int PMPI_Win_flush(int rank, MPI_Win win)
{
    return flush(win, rank, false, "MPI_Win_flush");
}

int PMPI_Win_flush_all(MPI_Win win)
{
    return flush(win, -1, false, "MPI_Win_flush_all");
}

int PMPI_Win_flush_local(int rank, MPI_Win win)
{
    return flush(win, rank, true, "MPI_Win_flush_local");
}

int PMPI_Win_flush_local_all(MPI_Win win)
{
    return flush(win, -1, true, "MPI_Win_flush_local_all");
}

/* The unified model: public and private copies are one memory; a full
 * barrier orders this process's loads and stores against the others'. */
int PMPI_Win_sync(MPI_Win win)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_sync");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    mrail_osc_fence();
    return MPI_SUCCESS;
}
