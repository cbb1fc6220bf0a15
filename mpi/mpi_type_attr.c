/* Datatype attributes: type keyvals with copy (at MPI_Type_dup) and
 * delete (at MPI_Type_free and MPI_Type_delete_attr) callbacks. Their
 * numbers are their own: a type keyval never names a communicator's. */
#include <stdlib.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Type_create_keyval);
MRAIL_MPI_ALIAS(MPI_Type_free_keyval);
MRAIL_MPI_ALIAS(MPI_Type_set_attr);
MRAIL_MPI_ALIAS(MPI_Type_get_attr);
MRAIL_MPI_ALIAS(MPI_Type_delete_attr);

typedef struct type_keyval {
    bool used;  /* the number is taken (freed keyvals' numbers are not reused: values may name them)
                 */
    bool valid; /* not freed */
    MPI_Type_copy_attr_function *copy;
    MPI_Type_delete_attr_function *del;
    void *extra;
} type_keyval_t;

/* The registry of type keyvals: keyval k is keys[k], from 1. */
static struct {
    type_keyval_t *keys;
    int n;
} reg;

void mpi_type_keyvals_fini(void)
{
    free(reg.keys);
    reg.keys = NULL;
    reg.n = 0;
}

/* A keyval that may still be named: freed ones keep their callbacks for
 * the values still set (MPI allows it), but cannot be set again. */
static type_keyval_t *known(int k)
{
    return k >= 1 && k < reg.n && reg.keys[k].used ? &reg.keys[k] : NULL;
}

static int bad_keyval(int k, const char *fn)
{
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_KEYVAL, fn, "invalid type keyval %d", k);
}

int PMPI_Type_create_keyval(MPI_Type_copy_attr_function *type_copy_attr_fn,
                            MPI_Type_delete_attr_function *type_delete_attr_fn, int *type_keyval,
                            void *extra_state)
{
    const char *fn = "MPI_Type_create_keyval";
    int rc = mpi_check_init(fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int k = 1;
    while (k < reg.n && reg.keys[k].used) {
        k++;
    }
    if (k >= reg.n) {
        int n = reg.n ? 2 * reg.n : 16;
        type_keyval_t *grown = realloc(reg.keys, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
        }
        for (int i = reg.n; i < n; i++) {
            grown[i] = (type_keyval_t){0};
        }
        reg.keys = grown;
        reg.n = n;
    }
    reg.keys[k] = (type_keyval_t){true, true, type_copy_attr_fn, type_delete_attr_fn, extra_state};
    *type_keyval = k;
    return MPI_SUCCESS;
}

int PMPI_Type_free_keyval(int *type_keyval)
{
    type_keyval_t *kv = known(*type_keyval);
    if (kv == NULL || !kv->valid) {
        return bad_keyval(*type_keyval, "MPI_Type_free_keyval");
    }
    kv->valid = false;
    *type_keyval = MPI_KEYVAL_INVALID;
    return MPI_SUCCESS;
}

static mpi_attr_t **find(MPI_Datatype type, int k)
{
    mpi_attr_t **a = &mpi_type_mut(type)->attrs;
    while (*a != NULL && (*a)->keyval != k) {
        a = &(*a)->next;
    }
    return a;
}

static int delete_one(MPI_Datatype type, mpi_attr_t **slot)
{
    mpi_attr_t *a = *slot;
    type_keyval_t *kv = known(a->keyval);
    int rc = MPI_SUCCESS;
    if (kv != NULL && kv->del != MPI_TYPE_NULL_DELETE_FN) {
        rc = kv->del(type, a->keyval, a->value, kv->extra);
    }
    if (rc == MPI_SUCCESS) {
        *slot = a->next;
        free(a);
    }
    return rc;
}

int PMPI_Type_set_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val)
{
    const char *fn = "MPI_Type_set_attr";
    int rc = mpi_check_type(datatype, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    type_keyval_t *kv = known(type_keyval);
    if (kv == NULL || !kv->valid) {
        return bad_keyval(type_keyval, fn);
    }
    mpi_attr_t **slot = find(datatype, type_keyval);
    if (*slot != NULL && (rc = delete_one(datatype, slot)) != MPI_SUCCESS) {
        return mpi_error(MPI_COMM_WORLD, rc, fn, "the delete callback of keyval %d failed",
                         type_keyval);
    }
    rc = mpi_attr_prepend(&mpi_type_mut(datatype)->attrs, type_keyval, attribute_val);
    return rc == MPI_SUCCESS ? rc : mpi_error(MPI_COMM_WORLD, rc, fn, "out of memory");
}

int PMPI_Type_get_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val, int *flag)
{
    const char *fn = "MPI_Type_get_attr";
    int rc = mpi_check_type(datatype, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (known(type_keyval) == NULL) {
        return bad_keyval(type_keyval, fn);
    }
    mpi_attr_t *a = *find(datatype, type_keyval);
    *flag = a != NULL;
    if (a != NULL) {
        *(void **)attribute_val = a->value;
    }
    return MPI_SUCCESS;
}

int PMPI_Type_delete_attr(MPI_Datatype datatype, int type_keyval)
{
    const char *fn = "MPI_Type_delete_attr";
    int rc = mpi_check_type(datatype, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_attr_t **slot = find(datatype, type_keyval);
    if (*slot == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_KEYVAL, fn,
                         "type keyval %d has no value on this datatype", type_keyval);
    }
    rc = delete_one(datatype, slot);
    return rc == MPI_SUCCESS ? rc : mpi_error(MPI_COMM_WORLD, rc, fn, "the delete callback failed");
}

int mpi_type_attrs_copy(MPI_Datatype from, MPI_Datatype to)
{
    for (mpi_attr_t *a = mpi_type_mut(from)->attrs; a != NULL; a = a->next) {
        type_keyval_t *kv = known(a->keyval);
        int flag = 0;
        void *out = NULL;
        if (kv == NULL || kv->copy == MPI_TYPE_NULL_COPY_FN) {
            continue;
        }
        if (kv->copy == MPI_TYPE_DUP_FN) {
            out = a->value, flag = 1;
        } else {
            int rc = kv->copy(from, a->keyval, kv->extra, a->value, &out, &flag);
            if (rc != MPI_SUCCESS) {
                return rc;
            }
        }
        if (flag && mpi_attr_prepend(&mpi_type_mut(to)->attrs, a->keyval, out) != MPI_SUCCESS) {
            return MPI_ERR_NO_MEM;
        }
    }
    return MPI_SUCCESS;
}

void mpi_type_attrs_delete_all(MPI_Datatype type)
{
    mpi_type_t *t = mpi_type_mut(type);
    while (t->attrs != NULL) {
        if (delete_one(type, &t->attrs) != MPI_SUCCESS) { /* dropped anyway: the type goes */
            mpi_attr_t *a = t->attrs;
            t->attrs = a->next;
            free(a);
        }
    }
}
