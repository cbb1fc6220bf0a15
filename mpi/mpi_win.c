/* Windows: creation in every flavour, free, shared-memory queries,
 * dynamic attachment, and what MPI lets a program ask of a window (group,
 * name, info, error handler). The work is the osc framework's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_win.h"

MRAIL_MPI_ALIAS(MPI_Win_create);
MRAIL_MPI_ALIAS(MPI_Win_allocate);
MRAIL_MPI_ALIAS(MPI_Win_allocate_shared);
MRAIL_MPI_ALIAS(MPI_Win_shared_query);
MRAIL_MPI_ALIAS(MPI_Win_create_dynamic);
MRAIL_MPI_ALIAS(MPI_Win_attach);
MRAIL_MPI_ALIAS(MPI_Win_detach);
MRAIL_MPI_ALIAS(MPI_Win_free);
MRAIL_MPI_ALIAS(MPI_Win_get_group);
MRAIL_MPI_ALIAS(MPI_Win_set_name);
MRAIL_MPI_ALIAS(MPI_Win_get_name);
MRAIL_MPI_ALIAS(MPI_Win_set_info);
MRAIL_MPI_ALIAS(MPI_Win_get_info);
MRAIL_MPI_ALIAS(MPI_Win_create_errhandler);
MRAIL_MPI_ALIAS(MPI_Win_set_errhandler);
MRAIL_MPI_ALIAS(MPI_Win_get_errhandler);
MRAIL_MPI_ALIAS(MPI_Win_call_errhandler);

/* The registry of windows: handle h is wins[h - 1]. */
static struct {
    mpi_win_t *wins;
    int n;
} reg;

mpi_win_t *mpi_win_get(MPI_Win win, const char *fn)
{
    if (mpi_check_init(fn) != MPI_SUCCESS) {
        return NULL;
    }
    if (win < 1 || win > reg.n || !reg.wins[win - 1].valid) {
        mpi_error(MPI_COMM_WORLD, MPI_ERR_WIN, fn, "invalid window handle %d%s", win,
                  win == MPI_WIN_NULL ? " (MPI_WIN_NULL)" : "");
        return NULL;
    }
    return &reg.wins[win - 1];
}

void mpi_wins_fini(void)
{
    free(reg.wins);
    reg.wins = NULL;
    reg.n = 0;
}

static int new_handle(MPI_Win *out)
{
    int h = 0;
    while (h < reg.n && reg.wins[h].valid) {
        h++;
    }
    if (h == reg.n) {
        int n = reg.n ? 2 * reg.n : 8;
        mpi_win_t *grown = realloc(reg.wins, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return MPI_ERR_NO_MEM;
        }
        memset(grown + reg.n, 0, (size_t)(n - reg.n) * sizeof(*grown));
        reg.wins = grown;
        reg.n = n;
    }
    *out = h + 1;
    return MPI_SUCCESS;
}

/* The checks every creation makes; the copy of comm the window will use. */
static int private_comm(MPI_Comm comm, MPI_Info info, const char *fn, MPI_Comm *out)
{
    int rc = mpi_coll_check(comm, false, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (info != MPI_INFO_NULL && !mpi_info_valid(info)) {
        return mpi_error(comm, MPI_ERR_INFO, fn, "invalid info handle %d", info);
    }
    uint32_t ctx;
    rc = mpi_ctx_agree(comm, &ctx);
    if (rc != MPI_SUCCESS) {
        return mpi_error(comm, rc, fn, "no communication context is left for the window");
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *out = mpi_comm_new(ctx, c->size, c->rank, c->world);
    if (*out == MPI_COMM_NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    rc = mpi_coll_check(*out, false, fn);
    if (rc != MPI_SUCCESS) {
        mpi_comm_release(*out);
    }
    return rc;
}

static void release(mpi_win_t *w)
{
    if (w->comm != MPI_COMM_NULL) {
        mpi_comm_release(w->comm);
    }
    if (w->info != MPI_INFO_NULL) {
        mpi_info_delete_all(w->info);
    }
    mrail_osc_shm_free(w->shm);
    free(w->allocated);
    free(w->locked);
    free(w->in_access);
    free(w->shared_units);
    *w = (mpi_win_t){0};
}

/* Builds a window of flavor over base/bytes (allocated or shared memory
 * made here when asked); *win its handle. */
static int win_new(MPI_Comm comm, int flavor, void *base, MPI_Aint bytes, int disp_unit,
                   MPI_Info info, const char *fn, void **baseptr, MPI_Win *win)
{
    *win = MPI_WIN_NULL;
    int rc = mpi_check_comm(comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (bytes < 0) {
        return mpi_error(comm, MPI_ERR_SIZE, fn, "negative window size %ld", (long)bytes);
    }
    if (disp_unit <= 0) {
        return mpi_error(comm, MPI_ERR_DISP, fn, "disp_unit %d (it must be positive)", disp_unit);
    }
    MPI_Comm mine;
    rc = private_comm(comm, info, fn, &mine);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    MPI_Win h;
    if (new_handle(&h) != MPI_SUCCESS) {
        mpi_comm_release(mine);
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    mpi_win_t *w = &reg.wins[h - 1];
    const mpi_comm_t *c = &mrail_obj.comms[mine];
    *w = (mpi_win_t){.comm = mine,
                     .size = c->size,
                     .rank = c->rank,
                     .bytes = bytes,
                     .disp_unit = disp_unit,
                     .flavor = flavor,
                     .model = MPI_WIN_UNIFIED,
                     .errhandler = MPI_ERRORS_ARE_FATAL,
                     .info = MPI_INFO_NULL};
    w->locked = calloc((size_t)c->size, sizeof(int));
    w->in_access = calloc((size_t)c->size, sizeof(bool));
    mrail_reason_t why = {""};
    rc = w->locked && w->in_access ? MPI_SUCCESS : MPI_ERR_NO_MEM;
    /* Memory mrail allocates for ranks that share a node is one shared
     * segment: puts and gets between them are then copies (osc/am). */
    bool shared =
        flavor == MPI_WIN_FLAVOR_SHARED ||
        (flavor == MPI_WIN_FLAVOR_ALLOCATE && c->size > 1 && mrail_osc_comm_on_one_node(mine));
    if (rc == MPI_SUCCESS && shared) {
        rc = mrail_osc_shm_create(mine, (size_t)bytes, &w->shm, &base, &why);
    } else if (rc == MPI_SUCCESS && flavor == MPI_WIN_FLAVOR_ALLOCATE) {
        /* Cache-line aligned, as any type a program keeps there needs. */
        rc = posix_memalign(&w->allocated, 64, bytes ? (size_t)bytes : 1) == 0 ? MPI_SUCCESS
                                                                               : MPI_ERR_NO_MEM;
        base = rc == MPI_SUCCESS ? w->allocated : NULL;
    }
    if (rc == MPI_SUCCESS && flavor == MPI_WIN_FLAVOR_SHARED) {
        w->shared_units = malloc((size_t)c->size * sizeof(int));
        if (rc == MPI_SUCCESS) {
            rc = w->shared_units == NULL
                     ? MPI_ERR_NO_MEM
                     : PMPI_Allgather(&disp_unit, 1, MPI_INT, w->shared_units, 1, MPI_INT, mine);
        }
    }
    if (rc == MPI_SUCCESS && info != MPI_INFO_NULL) {
        rc = PMPI_Info_dup(info, &w->info);
    }
    w->base = base;
    if (rc == MPI_SUCCESS) {
        mrail_osc_win_args_t args = {mine, flavor, base, bytes, disp_unit, w->shm};
        if (mrail_osc_win_create(mrail_mpi.fws, &args, &w->osc, &why) != MRAIL_SUCCESS) {
            rc = MPI_ERR_INTERN;
        }
    }
    if (rc != MPI_SUCCESS) {
        release(w);
        return mpi_error(comm, rc, fn, "%s",
                         why.text[0]            ? why.text
                         : rc == MPI_ERR_NO_MEM ? "out of memory for the window"
                                                : "the window could not be made");
    }
    w->valid = true;
    if (baseptr != NULL) {
        *(void **)baseptr = base;
    }
    *win = h;
    return MPI_SUCCESS;
}

int PMPI_Win_create(void *base, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                    MPI_Win *win)
{
    return win_new(comm, MPI_WIN_FLAVOR_CREATE, base, size, disp_unit, info, "MPI_Win_create", NULL,
                   win);
}

int PMPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr,
                      MPI_Win *win)
{
    return win_new(comm, MPI_WIN_FLAVOR_ALLOCATE, NULL, size, disp_unit, info, "MPI_Win_allocate",
                   baseptr, win);
}

int PMPI_Win_allocate_shared(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                             void *baseptr, MPI_Win *win)
{
    return win_new(comm, MPI_WIN_FLAVOR_SHARED, NULL, size, disp_unit, info,
                   "MPI_Win_allocate_shared", baseptr, win);
}

int PMPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
    return win_new(comm, MPI_WIN_FLAVOR_DYNAMIC, MPI_BOTTOM, 0, 1, info, "MPI_Win_create_dynamic",
                   NULL, win);
}

int PMPI_Win_shared_query(MPI_Win win, int rank, MPI_Aint *size, int *disp_unit, void *baseptr)
{
    const char *fn = "MPI_Win_shared_query";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (w->flavor != MPI_WIN_FLAVOR_SHARED) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_FLAVOR, fn,
                            "the window was not made by MPI_Win_allocate_shared");
    }
    if (rank != MPI_PROC_NULL && (rank < 0 || rank >= w->size)) {
        return mpi_win_fail(w, win, MPI_ERR_RANK, fn, "rank %d (valid: 0..%d, or MPI_PROC_NULL)",
                            rank, w->size - 1);
    }
    /* MPI_PROC_NULL: the first rank with memory. */
    size_t bytes = 0;
    void *p = NULL;
    int k = rank == MPI_PROC_NULL ? 0 : rank;
    for (; k < w->size; k++) {
        p = mrail_osc_shm_part(w->shm, k, &bytes);
        if (rank != MPI_PROC_NULL || bytes > 0) {
            break;
        }
    }
    *size = (MPI_Aint)bytes;
    *disp_unit = w->shared_units[k < w->size ? k : 0];
    *(void **)baseptr = p;
    return MPI_SUCCESS;
}

int PMPI_Win_attach(MPI_Win win, void *base, MPI_Aint size)
{
    const char *fn = "MPI_Win_attach";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_FLAVOR, fn,
                            "only a window from MPI_Win_create_dynamic takes memory");
    }
    if (size < 0) {
        return mpi_win_fail(w, win, MPI_ERR_SIZE, fn, "negative size %ld", (long)size);
    }
    int rc = OSC_CALL(w, attach, base, size);
    return rc == MPI_SUCCESS
               ? rc
               : mpi_win_fail(w, win, rc, fn, "%p (%ld bytes) overlaps memory attached already",
                              base, (long)size);
}

int PMPI_Win_detach(MPI_Win win, const void *base)
{
    const char *fn = "MPI_Win_detach";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC) {
        return mpi_win_fail(w, win, MPI_ERR_RMA_FLAVOR, fn,
                            "only a window from MPI_Win_create_dynamic has attached memory");
    }
    int rc = OSC_CALL(w, detach, base);
    return rc == MPI_SUCCESS
               ? rc
               : mpi_win_fail(w, win, rc, fn, "%p is not the start of attached memory", base);
}

int PMPI_Win_free(MPI_Win *win)
{
    const char *fn = "MPI_Win_free";
    mpi_win_t *w = mpi_win_get(*win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (w->started || w->posted || w->lock_all || w->nlocks > 0) {
        return mpi_win_fail(w, *win, MPI_ERR_RMA_SYNC, fn,
                            "an epoch is still open (%s): close it first",
                            w->started    ? "MPI_Win_start"
                            : w->posted   ? "MPI_Win_post"
                            : w->lock_all ? "MPI_Win_lock_all"
                                          : "MPI_Win_lock");
    }
    int rc = mrail_osc_win_free(w->osc);
    w->osc = NULL;
    mpi_win_attrs_delete_all(*win, w);
    MPI_Errhandler eh = w->errhandler;
    release(w);
    MPI_Win h = *win;
    *win = MPI_WIN_NULL;
    return rc == MPI_SUCCESS
               ? rc
               : mpi_win_error(h, eh, rc, fn, "completing the window's operations failed");
}

int PMPI_Win_get_group(MPI_Win win, MPI_Group *group)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_get_group");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    const mpi_comm_t *c = &mrail_obj.comms[w->comm];
    *group = mpi_group_new(c->size, c->world);
    return *group == MPI_GROUP_NULL
               ? mpi_win_fail(w, win, MPI_ERR_NO_MEM, "MPI_Win_get_group", "out of memory")
               : MPI_SUCCESS;
}

int PMPI_Win_set_name(MPI_Win win, const char *win_name)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_set_name");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    snprintf(w->name, sizeof(w->name), "%s", win_name);
    return MPI_SUCCESS;
}

int PMPI_Win_get_name(MPI_Win win, char *win_name, int *resultlen)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_get_name");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    snprintf(win_name, MPI_MAX_OBJECT_NAME, "%s", w->name);
    *resultlen = (int)strlen(win_name);
    return MPI_SUCCESS;
}

int PMPI_Win_set_info(MPI_Win win, MPI_Info info)
{
    const char *fn = "MPI_Win_set_info";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (info != MPI_INFO_NULL && !mpi_info_valid(info)) {
        return mpi_win_fail(w, win, MPI_ERR_INFO, fn, "invalid info handle %d", info);
    }
    MPI_Info copy = MPI_INFO_NULL;
    if (info != MPI_INFO_NULL && PMPI_Info_dup(info, &copy) != MPI_SUCCESS) {
        return mpi_win_fail(w, win, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    if (w->info != MPI_INFO_NULL) {
        mpi_info_delete_all(w->info);
    }
    w->info = copy;
    return MPI_SUCCESS;
}

/* The hints given, and the ones mrail always follows: accumulates are
 * ordered as MPI's default says, and any operation may be used. */
int PMPI_Win_get_info(MPI_Win win, MPI_Info *info_used)
{
    const char *fn = "MPI_Win_get_info";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc =
        w->info != MPI_INFO_NULL ? PMPI_Info_dup(w->info, info_used) : PMPI_Info_create(info_used);
    if (rc == MPI_SUCCESS && mpi_info_get(*info_used, "accumulate_ordering") == NULL) {
        rc = mpi_info_set(*info_used, "accumulate_ordering", "rar,raw,war,waw");
    }
    if (rc == MPI_SUCCESS && mpi_info_get(*info_used, "accumulate_ops") == NULL) {
        rc = mpi_info_set(*info_used, "accumulate_ops", "same_op_no_op");
    }
    return rc == MPI_SUCCESS ? rc : mpi_win_fail(w, win, MPI_ERR_NO_MEM, fn, "out of memory");
}

int PMPI_Win_create_errhandler(MPI_Win_errhandler_function *win_errhandler_fn,
                               MPI_Errhandler *errhandler)
{
    int rc = mpi_check_init("MPI_Win_create_errhandler");
    return rc ? rc
              : mpi_errhandler_new((MPI_Comm_errhandler_function *)(void *)win_errhandler_fn,
                                   errhandler, "MPI_Win_create_errhandler");
}

int PMPI_Win_set_errhandler(MPI_Win win, MPI_Errhandler errhandler)
{
    const char *fn = "MPI_Win_set_errhandler";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    if (!mpi_errhandler_valid(errhandler)) {
        return mpi_win_fail(w, win, MPI_ERR_ARG, fn,
                            "invalid error handler %d (valid: MPI_ERRORS_ARE_FATAL, "
                            "MPI_ERRORS_RETURN, or one from MPI_Win_create_errhandler)",
                            errhandler);
    }
    w->errhandler = errhandler;
    return MPI_SUCCESS;
}

int PMPI_Win_get_errhandler(MPI_Win win, MPI_Errhandler *errhandler)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_get_errhandler");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    *errhandler = w->errhandler;
    return MPI_SUCCESS;
}

int PMPI_Win_call_errhandler(MPI_Win win, int errorcode)
{
    mpi_win_t *w = mpi_win_get(win, "MPI_Win_call_errhandler");
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    char text[MPI_MAX_ERROR_STRING];
    int len;
    PMPI_Error_string(errorcode, text, &len);
    mpi_win_fail(w, win, errorcode, "MPI_Win_call_errhandler", "%s", text);
    return MPI_SUCCESS;
}
