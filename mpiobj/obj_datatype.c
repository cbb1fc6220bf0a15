/* The datatype engine: the table of types by handle, the predefined ones,
 * packing and unpacking. Every
 * type is kept flattened: the byte blocks (displacement, length) of one
 * instance in typemap order, adjacent ones merged, so that packing is a
 * walk over a short array. A homogeneous type (every element of one
 * predefined type) also knows that type, for reductions. */
#include <complex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mpiobj.h"
#include "mrail/copy.h"

/* Pair types as C lays them out (value, then int). */
struct float_int {
    float v;
    int i;
};
struct double_int {
    double v;
    int i;
};
struct long_int {
    long v;
    int i;
};
struct short_int {
    short v;
    int i;
};
struct long_double_int {
    long double v;
    int i;
};

#define PAIR(T, name)                                                                              \
    {                                                                                              \
        sizeof(T), _Alignof(T), name                                                               \
    }
static const struct {
    size_t size, align;
    const char *name;
} predefined[MPI_FIRST_DERIVED_TYPE] = {
    [MPI_CHAR] = {sizeof(char), 1, "MPI_CHAR"},
    [MPI_SIGNED_CHAR] = {1, 1, "MPI_SIGNED_CHAR"},
    [MPI_UNSIGNED_CHAR] = {1, 1, "MPI_UNSIGNED_CHAR"},
    [MPI_BYTE] = {1, 1, "MPI_BYTE"},
    [MPI_SHORT] = {sizeof(short), _Alignof(short), "MPI_SHORT"},
    [MPI_UNSIGNED_SHORT] = {sizeof(short), _Alignof(short), "MPI_UNSIGNED_SHORT"},
    [MPI_INT] = {sizeof(int), _Alignof(int), "MPI_INT"},
    [MPI_UNSIGNED] = {sizeof(int), _Alignof(int), "MPI_UNSIGNED"},
    [MPI_LONG] = {sizeof(long), _Alignof(long), "MPI_LONG"},
    [MPI_UNSIGNED_LONG] = {sizeof(long), _Alignof(long), "MPI_UNSIGNED_LONG"},
    [MPI_LONG_LONG_INT] = {sizeof(long long), _Alignof(long long), "MPI_LONG_LONG_INT"},
    [MPI_UNSIGNED_LONG_LONG] = {sizeof(long long), _Alignof(long long), "MPI_UNSIGNED_LONG_LONG"},
    [MPI_FLOAT] = {sizeof(float), _Alignof(float), "MPI_FLOAT"},
    [MPI_DOUBLE] = {sizeof(double), _Alignof(double), "MPI_DOUBLE"},
    [MPI_LONG_DOUBLE] = {sizeof(long double), _Alignof(long double), "MPI_LONG_DOUBLE"},
    [MPI_WCHAR] = {sizeof(wchar_t), _Alignof(wchar_t), "MPI_WCHAR"},
    [MPI_C_BOOL] = {sizeof(bool), _Alignof(bool), "MPI_C_BOOL"},
    [MPI_INT8_T] = {1, 1, "MPI_INT8_T"},
    [MPI_INT16_T] = {2, 2, "MPI_INT16_T"},
    [MPI_INT32_T] = {4, 4, "MPI_INT32_T"},
    [MPI_INT64_T] = {8, _Alignof(int64_t), "MPI_INT64_T"},
    [MPI_UINT8_T] = {1, 1, "MPI_UINT8_T"},
    [MPI_UINT16_T] = {2, 2, "MPI_UINT16_T"},
    [MPI_UINT32_T] = {4, 4, "MPI_UINT32_T"},
    [MPI_UINT64_T] = {8, _Alignof(uint64_t), "MPI_UINT64_T"},
    [MPI_C_COMPLEX] = PAIR(float _Complex, "MPI_C_COMPLEX"),
    [MPI_C_FLOAT_COMPLEX] = PAIR(float _Complex, "MPI_C_FLOAT_COMPLEX"),
    [MPI_C_DOUBLE_COMPLEX] = PAIR(double _Complex, "MPI_C_DOUBLE_COMPLEX"),
    [MPI_C_LONG_DOUBLE_COMPLEX] = PAIR(long double _Complex, "MPI_C_LONG_DOUBLE_COMPLEX"),
    [MPI_AINT] = PAIR(MPI_Aint, "MPI_AINT"),
    [MPI_OFFSET] = PAIR(MPI_Offset, "MPI_OFFSET"),
    [MPI_COUNT] = PAIR(MPI_Count, "MPI_COUNT"),
    [MPI_FLOAT_INT] = PAIR(struct float_int, "MPI_FLOAT_INT"),
    [MPI_DOUBLE_INT] = PAIR(struct double_int, "MPI_DOUBLE_INT"),
    [MPI_LONG_INT] = PAIR(struct long_int, "MPI_LONG_INT"),
    [MPI_2INT] = {2 * sizeof(int), _Alignof(int), "MPI_2INT"},
    [MPI_SHORT_INT] = PAIR(struct short_int, "MPI_SHORT_INT"),
    [MPI_LONG_DOUBLE_INT] = PAIR(struct long_double_int, "MPI_LONG_DOUBLE_INT"),
    [MPI_PACKED] = {1, 1, "MPI_PACKED"},
    [MPIX_C_FLOAT16] = {2, 2, "MPIX_C_FLOAT16"},
};

/* The pair types' data has a gap (value, padding, int): two blocks. */
bool mpi_type_is_pair(MPI_Datatype t)
{
    return t >= MPI_FLOAT_INT && t <= MPI_LONG_DOUBLE_INT;
}

static void predefined_blocks(MPI_Datatype t, mpi_type_t *out)
{
    size_t size = predefined[t].size;
    size_t second = 0, first = size;
    switch (t) {
    case MPI_FLOAT_INT: first = sizeof(float), second = offsetof(struct float_int, i); break;
    case MPI_DOUBLE_INT: first = sizeof(double), second = offsetof(struct double_int, i); break;
    case MPI_LONG_INT: first = sizeof(long), second = offsetof(struct long_int, i); break;
    case MPI_SHORT_INT: first = sizeof(short), second = offsetof(struct short_int, i); break;
    case MPI_LONG_DOUBLE_INT: /* as MPI_LONG_DOUBLE, the padding of the x87 value included */
        first = sizeof(long double), second = offsetof(struct long_double_int, i);
        break;
    default: break;
    }
    out->blocks[0] = (mpi_block_t){0, first};
    out->nblocks = 1;
    out->size = first;
    /* A pair is two elements, a value and an int; MPI_2INT two ints. */
    out->runs[0] = (mpi_elem_run_t){t == MPI_2INT ? sizeof(int) : first, t == MPI_2INT ? 2 : 1};
    out->nruns = 1;
    if (second > 0) {
        out->runs[1] = (mpi_elem_run_t){sizeof(int), 1};
        out->nruns = 2;
    }
    out->elements = t == MPI_2INT || second > 0 ? 2 : 1;
    if (second == first) { /* value and int adjacent: one block */
        out->blocks[0].len += sizeof(int);
        out->size += sizeof(int);
    } else if (second > 0) {
        out->blocks[1] = (mpi_block_t){(MPI_Aint)second, sizeof(int)};
        out->nblocks = 2;
        out->size += sizeof(int);
    }
}

static mpi_type_t **table; /* by handle; predefined ones first */
static int ntable;
static mpi_block_t predefined_storage[MPI_FIRST_DERIVED_TYPE][2];
static mpi_elem_run_t predefined_runs[MPI_FIRST_DERIVED_TYPE][2];
static mpi_type_t predefined_types[MPI_FIRST_DERIVED_TYPE];

static int grow_table(int need)
{
    if (need <= ntable) {
        return 0;
    }
    int n = ntable ? 2 * ntable : 128;
    while (n < need) {
        n *= 2;
    }
    mpi_type_t **grown = realloc(table, (size_t)n * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    memset(grown + ntable, 0, (size_t)(n - ntable) * sizeof(*grown));
    table = grown;
    ntable = n;
    return 0;
}

int mpi_types_init(void)
{
    if (grow_table(MPI_FIRST_DERIVED_TYPE) != 0) {
        return MPI_ERR_NO_MEM;
    }
    for (int t = 1; t < MPI_FIRST_DERIVED_TYPE; t++) {
        if (predefined[t].size == 0) {
            continue;
        }
        mpi_type_t *p = &predefined_types[t];
        *p = (mpi_type_t){.predefined = true,
                          .committed = true,
                          .extent = (MPI_Aint)predefined[t].size,
                          .align = predefined[t].align,
                          .blocks = predefined_storage[t],
                          .runs = predefined_runs[t],
                          .base = (MPI_Datatype)t,
                          .base_count = 1,
                          .combiner = MPI_COMBINER_NAMED};
        predefined_blocks((MPI_Datatype)t, p);
        p->true_extent = p->blocks[p->nblocks - 1].disp + (MPI_Aint)p->blocks[p->nblocks - 1].len;
        snprintf(p->name, sizeof(p->name), "%s", predefined[t].name);
        table[t] = p;
    }
    return MPI_SUCCESS;
}

static void attrs_drop(mpi_type_t *t)
{
    while (t->attrs != NULL) {
        mpi_attr_t *a = t->attrs;
        t->attrs = a->next;
        free(a);
    }
}

void mpi_type_parts_drop(mpi_type_t *t)
{
    for (int i = 0; t->parts != NULL && i < t->nt; i++) {
        mpi_type_release((mpi_type_t *)t->parts[i]);
    }
    free(t->parts);
    t->parts = NULL;
}

/* A copy of n elements of size bytes; NULL (and *ok false) when out of memory. */
static void *copy_array(const void *src, size_t n, size_t size, bool *ok)
{
    if (src == NULL || n == 0) {
        return NULL;
    }
    void *dst = malloc(n * size);
    if (dst == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(dst, src, n * size);
    return dst;
}

mpi_type_t *mpi_type_copy(const mpi_type_t *t)
{
    mpi_type_t *c = malloc(sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    bool ok = true;
    *c = *t;
    c->refs = 1;
    c->attrs = NULL;
    c->blocks = copy_array(t->blocks, t->nblocks, sizeof(*t->blocks), &ok);
    c->runs = copy_array(t->runs, t->nruns, sizeof(*t->runs), &ok);
    c->ints = copy_array(t->ints, (size_t)t->ni, sizeof(*t->ints), &ok);
    c->aints = copy_array(t->aints, (size_t)t->na, sizeof(*t->aints), &ok);
    c->types = copy_array(t->types, (size_t)t->nt, sizeof(*t->types), &ok);
    c->parts = copy_array(t->parts, (size_t)t->nt, sizeof(*t->parts), &ok);
    for (int i = 0; c->parts != NULL && i < t->nt; i++) {
        mpi_type_hold(c->parts[i]);
    }
    if (!ok) {
        c->nt = c->parts != NULL ? c->nt : 0; /* holds were taken only with parts */
        c->predefined = false;
        mpi_type_release(c);
        return NULL;
    }
    return c;
}

void mpi_type_release(mpi_type_t *t)
{
    if (t == NULL || t->predefined || --t->refs > 0) {
        return;
    }
    attrs_drop(t);
    mpi_type_parts_drop(t);
    free(t->blocks);
    free(t->runs);
    free(t->ints);
    free(t->aints);
    free(t->types);
    free(t);
}

long long mpi_type_elements(const mpi_type_t *t, size_t bytes)
{
    if (t->size == 0) {
        return 0;
    }
    long long elements = (long long)(bytes / t->size * t->elements);
    size_t rest = bytes % t->size;
    if (rest > 0 && t->runs_lost) {
        return -1;
    }
    for (size_t i = 0; i < t->nruns && rest > 0; i++) {
        size_t n = rest / t->runs[i].size;
        n = n < t->runs[i].count ? n : t->runs[i].count;
        elements += (long long)n;
        rest -= n * t->runs[i].size;
        if (n < t->runs[i].count) {
            break;
        }
    }
    return rest == 0 ? elements : -1;
}

long long mpi_type_element_bytes(const mpi_type_t *t, size_t count)
{
    if (t->elements == 0) {
        return count == 0 ? 0 : -1;
    }
    long long bytes = (long long)(count / t->elements * t->size);
    size_t rest = count % t->elements;
    if (rest > 0 && t->runs_lost) {
        return -1;
    }
    for (size_t i = 0; i < t->nruns && rest > 0; i++) {
        size_t n = rest < t->runs[i].count ? rest : t->runs[i].count;
        bytes += (long long)(n * t->runs[i].size);
        rest -= n;
    }
    return bytes;
}

const mpi_type_t *mpi_type_hold(const mpi_type_t *t)
{
    if (t != NULL && !t->predefined) {
        ((mpi_type_t *)t)->refs++;
    }
    return t;
}

void mpi_type_drop(const mpi_type_t *t)
{
    mpi_type_release((mpi_type_t *)t);
}

void mpi_types_fini(void)
{
    for (int h = 1; h < MPI_FIRST_DERIVED_TYPE && h < ntable; h++) {
        if (table[h] != NULL) {
            attrs_drop(table[h]);
        }
    }
    /* First the types built from others let them go (a part whose handle
     * was freed goes with it), then every handle's type goes. */
    for (int h = MPI_FIRST_DERIVED_TYPE; h < ntable; h++) {
        if (table[h] != NULL) {
            mpi_type_parts_drop(table[h]);
        }
    }
    for (int h = MPI_FIRST_DERIVED_TYPE; h < ntable; h++) {
        if (table[h] != NULL) {
            table[h]->refs = 1;
            mpi_type_release(table[h]);
        }
    }
    free(table);
    table = NULL;
    ntable = 0;
}

const mpi_type_t *mpi_type(MPI_Datatype type)
{
    return type > 0 && type < ntable ? table[type] : NULL;
}

size_t mpi_type_size(MPI_Datatype type)
{
    const mpi_type_t *t = mpi_type(type);
    return t ? t->size : 0;
}

const char *mpi_type_name(MPI_Datatype type)
{
    const mpi_type_t *t = mpi_type(type);
    return t ? t->name : type == MPI_DATATYPE_NULL ? "MPI_DATATYPE_NULL" : "(invalid)";
}

bool mpi_type_contiguous(const mpi_type_t *t)
{
    return t->nblocks == 0 ||
           (t->nblocks == 1 && t->blocks[0].disp == 0 && (MPI_Aint)t->blocks[0].len == t->extent);
}

void mpi_type_pack(const mpi_type_t *t, size_t count, const void *src, void *dst)
{
    if (mpi_type_contiguous(t)) { /* one copy, not one per element */
        mrail_copy(dst, src, count * t->size);
        return;
    }
    char *out = dst;
    for (size_t i = 0; i < count; i++) {
        const char *base = (const char *)src + (MPI_Aint)i * t->extent;
        for (size_t b = 0; b < t->nblocks; b++) {
            memcpy(out, base + t->blocks[b].disp, t->blocks[b].len);
            out += t->blocks[b].len;
        }
    }
}

void mpi_type_unpack(const mpi_type_t *t, size_t count, const void *src, size_t bytes, void *dst)
{
    if (mpi_type_contiguous(t)) {
        mrail_copy(dst, src, count * t->size < bytes ? count * t->size : bytes);
        return;
    }
    const char *in = src;
    for (size_t i = 0; i < count && bytes > 0; i++) {
        char *base = (char *)dst + (MPI_Aint)i * t->extent;
        for (size_t b = 0; b < t->nblocks && bytes > 0; b++) {
            size_t n = t->blocks[b].len < bytes ? t->blocks[b].len : bytes;
            memcpy(base + t->blocks[b].disp, in, n);
            in += n;
            bytes -= n;
        }
    }
}

mpi_type_t *mpi_type_mut(MPI_Datatype type)
{
    return type > 0 && type < ntable ? table[type] : NULL;
}

int mpi_type_store(mpi_type_t *t, MPI_Datatype *out)
{
    int h = MPI_FIRST_DERIVED_TYPE;
    while (h < ntable && table[h] != NULL) {
        h++;
    }
    if (grow_table(h + 1) != 0) {
        return -1;
    }
    table[h] = t;
    *out = h;
    return 0;
}

void mpi_type_forget(MPI_Datatype type)
{
    mpi_type_release(table[type]);
    table[type] = NULL;
}
