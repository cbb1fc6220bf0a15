/* Window attributes: the predefined ones (MPI_WIN_BASE .. MPI_WIN_MODEL)
 * and window keyvals with delete callbacks (a window is never copied, so
 * copy callbacks are kept but never run). Window keyvals are numbered
 * from WIN_KEYVAL_FIRST, clear of the predefined keys. */
#include <stdlib.h>

#include "mpi_win.h"

MRAIL_MPI_ALIAS(MPI_Win_create_keyval);
MRAIL_MPI_ALIAS(MPI_Win_free_keyval);
MRAIL_MPI_ALIAS(MPI_Win_set_attr);
MRAIL_MPI_ALIAS(MPI_Win_get_attr);
MRAIL_MPI_ALIAS(MPI_Win_delete_attr);

#define WIN_KEYVAL_FIRST 16

typedef struct win_keyval {
    bool used, valid; /* freed keyvals' numbers are not reused: values may still name them */
    MPI_Win_delete_attr_function *del;
    void *extra;
} win_keyval_t;

static struct {
    win_keyval_t *keys; /* keyval k is keys[k - WIN_KEYVAL_FIRST] */
    int n;
} reg;

void mpi_win_keyvals_fini(void)
{
    free(reg.keys);
    reg.keys = NULL;
    reg.n = 0;
}

static win_keyval_t *known(int k)
{
    int i = k - WIN_KEYVAL_FIRST;
    return i >= 0 && i < reg.n && reg.keys[i].used ? &reg.keys[i] : NULL;
}

int PMPI_Win_create_keyval(MPI_Win_copy_attr_function *win_copy_attr_fn,
                           MPI_Win_delete_attr_function *win_delete_attr_fn, int *win_keyval,
                           void *extra_state)
{
    const char *fn = "MPI_Win_create_keyval";
    int rc = mpi_check_init(fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    (void)win_copy_attr_fn;
    win_keyval_t *grown = realloc(reg.keys, (size_t)(reg.n + 1) * sizeof(*grown));
    if (grown == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    reg.keys = grown;
    reg.keys[reg.n] = (win_keyval_t){true, true, win_delete_attr_fn, extra_state};
    *win_keyval = WIN_KEYVAL_FIRST + reg.n++;
    return MPI_SUCCESS;
}

int PMPI_Win_free_keyval(int *win_keyval)
{
    win_keyval_t *kv = known(*win_keyval);
    if (kv == NULL || !kv->valid) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_KEYVAL, "MPI_Win_free_keyval",
                         "invalid window keyval %d", *win_keyval);
    }
    kv->valid = false;
    *win_keyval = MPI_KEYVAL_INVALID;
    return MPI_SUCCESS;
}

static mpi_attr_t **find(mpi_win_t *w, int k)
{
    mpi_attr_t **a = &w->attrs;
    while (*a != NULL && (*a)->keyval != k) {
        a = &(*a)->next;
    }
    return a;
}

static int delete_one(MPI_Win win, mpi_attr_t **slot)
{
    mpi_attr_t *a = *slot;
    win_keyval_t *kv = known(a->keyval);
    int rc = MPI_SUCCESS;
    if (kv != NULL && kv->del != MPI_WIN_NULL_DELETE_FN) {
        rc = kv->del(win, a->keyval, a->value, kv->extra);
    }
    if (rc == MPI_SUCCESS) {
        *slot = a->next;
        free(a);
    }
    return rc;
}

int PMPI_Win_set_attr(MPI_Win win, int win_keyval, void *attribute_val)
{
    const char *fn = "MPI_Win_set_attr";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    win_keyval_t *kv = known(win_keyval);
    if (kv == NULL || !kv->valid) {
        return mpi_win_fail(w, win, MPI_ERR_KEYVAL, fn,
                            "invalid window keyval %d (the predefined MPI_WIN_* keys cannot "
                            "be set)",
                            win_keyval);
    }
    mpi_attr_t **slot = find(w, win_keyval);
    int rc = *slot != NULL ? delete_one(win, slot) : MPI_SUCCESS;
    if (rc != MPI_SUCCESS) {
        return mpi_win_fail(w, win, rc, fn, "the delete callback of keyval %d failed", win_keyval);
    }
    rc = mpi_attr_prepend(&w->attrs, win_keyval, attribute_val);
    return rc == MPI_SUCCESS ? rc : mpi_win_fail(w, win, rc, fn, "out of memory");
}

int PMPI_Win_get_attr(MPI_Win win, int win_keyval, void *attribute_val, int *flag)
{
    const char *fn = "MPI_Win_get_attr";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    void *v = NULL;
    switch (win_keyval) {
    case MPI_WIN_BASE: v = w->base; break;
    case MPI_WIN_SIZE: v = &w->bytes; break;
    case MPI_WIN_DISP_UNIT: v = &w->disp_unit; break;
    case MPI_WIN_CREATE_FLAVOR: v = &w->flavor; break;
    case MPI_WIN_MODEL: v = &w->model; break;
    default: {
        if (known(win_keyval) == NULL) {
            return mpi_win_fail(w, win, MPI_ERR_KEYVAL, fn, "invalid window keyval %d", win_keyval);
        }
        mpi_attr_t *a = *find(w, win_keyval);
        *flag = a != NULL;
        if (a != NULL) {
            *(void **)attribute_val = a->value;
        }
        return MPI_SUCCESS;
    }
    }
    *flag = 1;
    *(void **)attribute_val = v;
    return MPI_SUCCESS;
}

int PMPI_Win_delete_attr(MPI_Win win, int win_keyval)
{
    const char *fn = "MPI_Win_delete_attr";
    mpi_win_t *w = mpi_win_get(win, fn);
    if (w == NULL) {
        return MPI_ERR_WIN;
    }
    mpi_attr_t **slot = find(w, win_keyval);
    if (*slot == NULL) {
        return mpi_win_fail(w, win, MPI_ERR_KEYVAL, fn,
                            "window keyval %d has no value on this window", win_keyval);
    }
    int rc = delete_one(win, slot);
    return rc == MPI_SUCCESS ? rc : mpi_win_fail(w, win, rc, fn, "the delete callback failed");
}

void mpi_win_attrs_delete_all(MPI_Win win, mpi_win_t *w)
{
    while (w->attrs != NULL) {
        if (delete_one(win, &w->attrs) != MPI_SUCCESS) { /* dropped anyway: the window goes */
            mpi_attr_t *a = w->attrs;
            w->attrs = a->next;
            free(a);
        }
    }
}
