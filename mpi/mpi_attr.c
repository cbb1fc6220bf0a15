/* Communicator attributes: user keyvals with copy and delete callbacks. */
#include <stdio.h>
#include <stdlib.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Comm_create_keyval);
MRAIL_MPI_ALIAS(MPI_Comm_free_keyval);
MRAIL_MPI_ALIAS(MPI_Comm_set_attr);
MRAIL_MPI_ALIAS(MPI_Comm_delete_attr);
MRAIL_MPI_ALIAS(MPI_Keyval_create);
MRAIL_MPI_ALIAS(MPI_Keyval_free);
MRAIL_MPI_ALIAS(MPI_Attr_put);
MRAIL_MPI_ALIAS(MPI_Attr_get);
MRAIL_MPI_ALIAS(MPI_Attr_delete);

typedef struct keyval {
    bool valid;
    MPI_Comm_copy_attr_function *copy;
    MPI_Comm_delete_attr_function *del;
    void *extra;
} keyval_t;

#define FIRST_USER_KEYVAL 16 /* below: MPI_TAG_UB and the other predefined ones */
static keyval_t *keyvals;
static int nkeyvals;

void mpi_keyvals_fini(void)
{
    free(keyvals);
    keyvals = NULL;
    nkeyvals = 0;
}

static keyval_t *keyval(int k)
{
    return k >= FIRST_USER_KEYVAL && k < nkeyvals && keyvals[k].valid ? &keyvals[k] : NULL;
}

int PMPI_Comm_create_keyval(MPI_Comm_copy_attr_function *copy_fn,
                            MPI_Comm_delete_attr_function *delete_fn, int *comm_keyval,
                            void *extra_state)
{
    int rc = mpi_check_init("MPI_Comm_create_keyval");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int k = FIRST_USER_KEYVAL;
    while (k < nkeyvals && keyvals[k].valid) {
        k++;
    }
    if (k >= nkeyvals) {
        int n = nkeyvals ? 2 * nkeyvals : 64;
        keyval_t *grown = realloc(keyvals, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, "MPI_Comm_create_keyval",
                             "out of memory");
        }
        for (int i = nkeyvals; i < n; i++) {
            grown[i] = (keyval_t){0};
        }
        keyvals = grown;
        nkeyvals = n;
    }
    keyvals[k] = (keyval_t){true, copy_fn, delete_fn, extra_state};
    *comm_keyval = k;
    return MPI_SUCCESS;
}

int PMPI_Comm_free_keyval(int *comm_keyval)
{
    if (keyval(*comm_keyval) == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_KEYVAL, "MPI_Comm_free_keyval",
                         "invalid keyval %d", *comm_keyval);
    }
    /* Attributes still set keep working until deleted (MPI allows it). */
    keyvals[*comm_keyval].valid = false;
    *comm_keyval = MPI_KEYVAL_INVALID;
    return MPI_SUCCESS;
}

int mpi_attr_prepend(mpi_attr_t **list, int keyval, void *value)
{
    mpi_attr_t *a = malloc(sizeof(*a));
    if (a == NULL) {
        return MPI_ERR_NO_MEM;
    }
    *a = (mpi_attr_t){keyval, value, *list};
    *list = a;
    return MPI_SUCCESS;
}

static mpi_attr_t **find(MPI_Comm comm, int k)
{
    mpi_attr_t **a = &mrail_obj.comms[comm].attrs;
    while (*a != NULL && (*a)->keyval != k) {
        a = &(*a)->next;
    }
    return a;
}

static int delete_one(MPI_Comm comm, mpi_attr_t **slot)
{
    mpi_attr_t *a = *slot;
    int k = a->keyval;
    int rc = MPI_SUCCESS;
    if (k < nkeyvals && keyvals[k].del != MPI_COMM_NULL_DELETE_FN) {
        rc = keyvals[k].del(comm, k, a->value, keyvals[k].extra);
    }
    if (rc == MPI_SUCCESS) {
        *slot = a->next;
        free(a);
    }
    return rc;
}

int PMPI_Comm_set_attr(MPI_Comm comm, int comm_keyval, void *attribute_val)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_set_attr");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (keyval(comm_keyval) == NULL) {
        return mpi_error(comm, MPI_ERR_KEYVAL, "MPI_Comm_set_attr", "invalid keyval %d",
                         comm_keyval);
    }
    mpi_attr_t **slot = find(comm, comm_keyval);
    if (*slot != NULL && (rc = delete_one(comm, slot)) != MPI_SUCCESS) {
        return mpi_error(comm, rc, "MPI_Comm_set_attr", "the delete callback failed");
    }
    rc = mpi_attr_prepend(&mrail_obj.comms[comm].attrs, comm_keyval, attribute_val);
    return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, "MPI_Comm_set_attr", "out of memory");
}

int mpi_attr_get(MPI_Comm comm, int k, void *value, int *flag)
{
    if (k < FIRST_USER_KEYVAL || k >= nkeyvals) {
        return mpi_error(comm, MPI_ERR_KEYVAL, "MPI_Comm_get_attr", "invalid keyval %d", k);
    }
    mpi_attr_t *a = *find(comm, k);
    *flag = a != NULL;
    if (a != NULL) {
        *(void **)value = a->value;
    }
    return MPI_SUCCESS;
}

int PMPI_Comm_delete_attr(MPI_Comm comm, int comm_keyval)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_delete_attr");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_attr_t **slot = find(comm, comm_keyval);
    if (*slot == NULL) {
        return mpi_error(comm, MPI_ERR_KEYVAL, "MPI_Comm_delete_attr",
                         "keyval %d has no value on this communicator", comm_keyval);
    }
    rc = delete_one(comm, slot);
    return rc == MPI_SUCCESS ? rc
                             : mpi_error(comm, rc, "MPI_Comm_delete_attr", "the callback failed");
}

int mpi_attrs_copy(MPI_Comm from, MPI_Comm to)
{
    for (mpi_attr_t *a = mrail_obj.comms[from].attrs; a != NULL; a = a->next) {
        int k = a->keyval, flag = 0;
        void *out = NULL;
        if (k >= nkeyvals || keyvals[k].copy == MPI_COMM_NULL_COPY_FN) {
            continue;
        }
        if (keyvals[k].copy == MPI_COMM_DUP_FN) {
            out = a->value;
            flag = 1;
        } else {
            int rc = keyvals[k].copy(from, k, keyvals[k].extra, a->value, &out, &flag);
            if (rc != MPI_SUCCESS) {
                return rc;
            }
        }
        if (flag && mpi_attr_prepend(&mrail_obj.comms[to].attrs, k, out) != MPI_SUCCESS) {
            return MPI_ERR_NO_MEM;
        }
    }
    return MPI_SUCCESS;
}

void mpi_attrs_delete_all(MPI_Comm comm)
{
    while (mrail_obj.comms[comm].attrs != NULL) {
        mpi_attr_t **slot = &mrail_obj.comms[comm].attrs;
        if (delete_one(comm, slot) != MPI_SUCCESS) { /* drop it anyway: the comm goes */
            mpi_attr_t *a = *slot;
            *slot = a->next;
            free(a);
        }
    }
}

/* MPI-1's names, deprecated but still in MPI-3.1: the same calls. */
int PMPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn, int *keyval,
                       void *extra_state)
{
    return PMPI_Comm_create_keyval(copy_fn, delete_fn, keyval, extra_state);
}

int PMPI_Keyval_free(int *keyval)
{
    return PMPI_Comm_free_keyval(keyval);
}

int PMPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val)
{
    return PMPI_Comm_set_attr(comm, keyval, attribute_val);
}

int PMPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
    return PMPI_Comm_get_attr(comm, keyval, attribute_val, flag);
}

int PMPI_Attr_delete(MPI_Comm comm, int keyval)
{
    return PMPI_Comm_delete_attr(comm, keyval);
}
