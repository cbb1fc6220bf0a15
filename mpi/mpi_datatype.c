/* Datatypes: the predefined ones and derived ones built from them. Every
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

#include "mpi_internal.h"

/* The profiling interface: MPI_ names are weak aliases of the PMPI_
 * definitions, so a tool may define MPI_X and call PMPI_X. */
#pragma weak MPI_Type_contiguous = PMPI_Type_contiguous
#pragma weak MPI_Type_vector = PMPI_Type_vector
#pragma weak MPI_Type_create_hvector = PMPI_Type_create_hvector
#pragma weak MPI_Type_indexed = PMPI_Type_indexed
#pragma weak MPI_Type_create_hindexed = PMPI_Type_create_hindexed
#pragma weak MPI_Type_create_indexed_block = PMPI_Type_create_indexed_block
#pragma weak MPI_Type_create_hindexed_block = PMPI_Type_create_hindexed_block
#pragma weak MPI_Type_create_struct = PMPI_Type_create_struct
#pragma weak MPI_Type_create_resized = PMPI_Type_create_resized
#pragma weak MPI_Type_dup = PMPI_Type_dup
#pragma weak MPI_Type_commit = PMPI_Type_commit
#pragma weak MPI_Type_free = PMPI_Type_free
#pragma weak MPI_Type_size = PMPI_Type_size
#pragma weak MPI_Type_size_x = PMPI_Type_size_x
#pragma weak MPI_Type_get_extent = PMPI_Type_get_extent
#pragma weak MPI_Type_get_true_extent = PMPI_Type_get_true_extent
#pragma weak MPI_Type_get_name = PMPI_Type_get_name
#pragma weak MPI_Type_set_name = PMPI_Type_set_name
#pragma weak MPI_Type_get_envelope = PMPI_Type_get_envelope
#pragma weak MPI_Type_get_contents = PMPI_Type_get_contents
#pragma weak MPI_Get_address = PMPI_Get_address
#pragma weak MPI_Aint_add = PMPI_Aint_add
#pragma weak MPI_Aint_diff = PMPI_Aint_diff
#pragma weak MPI_Pack_size = PMPI_Pack_size
#pragma weak MPI_Pack = PMPI_Pack
#pragma weak MPI_Unpack = PMPI_Unpack

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
    case MPI_LONG_DOUBLE_INT:
        first = 10, second = offsetof(struct long_double_int, i); /* x87: 10 data bytes */
        break;
    default: break;
    }
    out->blocks[0] = (mpi_block_t){0, first};
    out->nblocks = 1;
    out->size = first;
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

static void type_release(mpi_type_t *t)
{
    if (t == NULL || t->predefined || --t->refs > 0) {
        return;
    }
    free(t->blocks);
    free(t->ints);
    free(t->aints);
    free(t->types);
    free(t);
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
    type_release((mpi_type_t *)t);
}

void mpi_types_fini(void)
{
    for (int h = MPI_FIRST_DERIVED_TYPE; h < ntable; h++) {
        if (table[h] != NULL) {
            table[h]->refs = 1;
            type_release(table[h]);
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

/* ---- building derived types ---- */

typedef struct builder {
    mpi_type_t *t;
    size_t cap;
    bool first;
    MPI_Aint lb, ub;
    bool failed;
    bool explicit_bounds; /* a component was resized: no struct padding */
    bool no_merge;        /* pair elements keep their blocks, for MAXLOC/MINLOC */
} builder_t;

static void add_block(builder_t *b, MPI_Aint disp, size_t len)
{
    mpi_type_t *t = b->t;
    if (len == 0) {
        return;
    }
    if (t->nblocks > 0 && !b->no_merge) {
        mpi_block_t *last = &t->blocks[t->nblocks - 1];
        if (last->disp + (MPI_Aint)last->len == disp) {
            last->len += len;
            t->size += len;
            return;
        }
    }
    if (t->nblocks == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        mpi_block_t *grown = realloc(t->blocks, cap * sizeof(*grown));
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        t->blocks = grown;
        b->cap = cap;
    }
    t->blocks[t->nblocks++] = (mpi_block_t){disp, len};
    t->size += len;
}

/* count copies of old, the first at disp, the next ones stride bytes apart. */
static void add_copies(builder_t *b, const mpi_type_t *old, MPI_Aint disp, size_t count,
                       MPI_Aint stride)
{
    b->no_merge = b->no_merge || mpi_type_is_pair(old->base);
    for (size_t i = 0; i < count && !b->failed; i++) {
        MPI_Aint at = disp + (MPI_Aint)i * stride;
        for (size_t k = 0; k < old->nblocks; k++) {
            add_block(b, at + old->blocks[k].disp, old->blocks[k].len);
        }
        MPI_Aint lb = at + old->lb, ub = at + old->lb + old->extent;
        if (b->first || lb < b->lb) {
            b->lb = lb;
        }
        if (b->first || ub > b->ub) {
            b->ub = ub;
        }
        b->first = false;
    }
    if (old->align > b->t->align) {
        b->t->align = old->align;
    }
    b->explicit_bounds = b->explicit_bounds || old->explicit_bounds;
    /* Homogeneous only while every component has the same base type. */
    if (count > 0 && old->size > 0) {
        if (old->base == MPI_DATATYPE_NULL) {
            b->t->mixed = true;
        } else if (b->t->base_count == 0) {
            b->t->base = old->base;
        } else if (b->t->base != old->base) {
            b->t->mixed = true;
        }
        b->t->base_count += count * old->base_count;
    }
}

static mpi_type_t *builder_start(builder_t *b, int combiner)
{
    *b = (builder_t){.first = true};
    b->t = calloc(1, sizeof(mpi_type_t));
    if (b->t != NULL) {
        b->t->refs = 1; /* the handle's */
        b->t->combiner = combiner;
        b->t->align = 1;
    }
    return b->t;
}

/* Records the constructor's arguments (MPI_Type_get_envelope/contents). */
static bool record(mpi_type_t *t, int ni, const int *ints, int na, const MPI_Aint *aints, int nt,
                   const MPI_Datatype *types)
{
    t->ni = ni, t->na = na, t->nt = nt;
    t->ints = ni ? malloc((size_t)ni * sizeof(int)) : NULL;
    t->aints = na ? malloc((size_t)na * sizeof(MPI_Aint)) : NULL;
    t->types = nt ? malloc((size_t)nt * sizeof(MPI_Datatype)) : NULL;
    if ((ni && !t->ints) || (na && !t->aints) || (nt && !t->types)) {
        return false;
    }
    if (ni) {
        memcpy(t->ints, ints, (size_t)ni * sizeof(int));
    }
    if (na) {
        memcpy(t->aints, aints, (size_t)na * sizeof(MPI_Aint));
    }
    if (nt) {
        memcpy(t->types, types, (size_t)nt * sizeof(MPI_Datatype));
    }
    return true;
}

static int builder_finish(builder_t *b, bool pad, const char *fn, MPI_Datatype *out)
{
    mpi_type_t *t = b->t;
    if (b->failed) {
        type_release(t);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "no memory for the datatype");
    }
    t->lb = b->first ? 0 : b->lb;
    MPI_Aint ub = b->first ? 0 : b->ub;
    /* Like C structs (and the other MPIs): the extent of a struct type is
     * padded to its strictest alignment, unless bounds were set explicitly. */
    if (pad && !b->explicit_bounds && t->align > 1) {
        MPI_Aint a = (MPI_Aint)t->align, span = ub - t->lb;
        ub = t->lb + (span + a - 1) / a * a;
    }
    t->extent = ub - t->lb;
    t->explicit_bounds = b->explicit_bounds;
    if (t->nblocks > 0) {
        MPI_Aint lo = t->blocks[0].disp, hi = lo;
        for (size_t i = 0; i < t->nblocks; i++) {
            MPI_Aint s = t->blocks[i].disp, e = s + (MPI_Aint)t->blocks[i].len;
            lo = s < lo ? s : lo;
            hi = e > hi ? e : hi;
        }
        t->true_lb = lo;
        t->true_extent = hi - lo;
    }
    if (t->mixed) {
        t->base = MPI_DATATYPE_NULL;
    }
    int h = MPI_FIRST_DERIVED_TYPE;
    while (h < ntable && table[h] != NULL) {
        h++;
    }
    if (grow_table(h + 1) != 0) {
        type_release(t);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "no memory for the datatype");
    }
    table[h] = t;
    *out = h;
    return MPI_SUCCESS;
}

int mpi_check_type(MPI_Datatype type, const char *fn)
{
    if (mpi_type(type) == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "invalid datatype handle %d%s", type,
                         type == MPI_DATATYPE_NULL ? " (MPI_DATATYPE_NULL)" : "");
    }
    return MPI_SUCCESS;
}

static int check_count(int count, const char *what, const char *fn)
{
    if (count < 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative %s %d", what, count);
    }
    return MPI_SUCCESS;
}

int PMPI_Type_contiguous(int count, MPI_Datatype old, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_contiguous";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : check_count(count, "count", fn);
    rc = rc ? rc : mpi_check_type(old, fn);
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, MPI_COMBINER_CONTIGUOUS) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    const mpi_type_t *o = mpi_type(old);
    add_copies(&b, o, 0, (size_t)count, o->extent);
    b.failed = b.failed || !record(b.t, 1, &count, 0, NULL, 1, &old);
    return builder_finish(&b, false, fn, newtype);
}

static int vector(int count, int blocklen, MPI_Aint stride_bytes, MPI_Datatype old, int combiner,
                  const int *ints, int ni, const MPI_Aint *aints, int na, const char *fn,
                  MPI_Datatype *newtype)
{
    int rc = mpi_check_init(fn);
    rc = rc ? rc : check_count(count, "count", fn);
    rc = rc ? rc : check_count(blocklen, "blocklength", fn);
    rc = rc ? rc : mpi_check_type(old, fn);
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, combiner) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    const mpi_type_t *o = mpi_type(old);
    for (int i = 0; i < count; i++) {
        add_copies(&b, o, (MPI_Aint)i * stride_bytes, (size_t)blocklen, o->extent);
    }
    b.failed = b.failed || !record(b.t, ni, ints, na, aints, 1, &old);
    return builder_finish(&b, false, fn, newtype);
}

int PMPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype old,
                     MPI_Datatype *newtype)
{
    const mpi_type_t *o = mpi_type(old);
    int ints[3] = {count, blocklength, stride};
    return vector(count, blocklength, o ? (MPI_Aint)stride * o->extent : 0, old,
                  MPI_COMBINER_VECTOR, ints, 3, NULL, 0, "MPI_Type_vector", newtype);
}

int PMPI_Type_create_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype old,
                             MPI_Datatype *newtype)
{
    int ints[2] = {count, blocklength};
    return vector(count, blocklength, stride, old, MPI_COMBINER_HVECTOR, ints, 2, &stride, 1,
                  "MPI_Type_create_hvector", newtype);
}

/* Blocks of blocklens[i] (or blocklen for all) old types at displacement i. */
static int indexed(int count, const int *blocklens, int blocklen, const void *disps,
                   bool disp_bytes, MPI_Datatype old, int combiner, const char *fn,
                   MPI_Datatype *newtype)
{
    int rc = mpi_check_init(fn);
    rc = rc ? rc : check_count(count, "count", fn);
    rc = rc ? rc : mpi_check_type(old, fn);
    for (int i = 0; rc == MPI_SUCCESS && blocklens && i < count; i++) {
        rc = check_count(blocklens[i], "blocklength", fn);
    }
    rc = rc ? rc : check_count(blocklen, "blocklength", fn);
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, combiner) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    const mpi_type_t *o = mpi_type(old);
    for (int i = 0; i < count; i++) {
        MPI_Aint d = disp_bytes ? ((const MPI_Aint *)disps)[i]
                                : (MPI_Aint)((const int *)disps)[i] * o->extent;
        add_copies(&b, o, d, (size_t)(blocklens ? blocklens[i] : blocklen), o->extent);
    }
    /* Envelope: count, blocklengths (or the one), int displacements. */
    int ni = 1 + (blocklens ? count : 1) + (disp_bytes ? 0 : count);
    int *ints = malloc((size_t)ni * sizeof(int));
    if (ints != NULL) {
        int k = 0;
        ints[k++] = count;
        for (int i = 0; blocklens && i < count; i++) {
            ints[k++] = blocklens[i];
        }
        if (!blocklens) {
            ints[k++] = blocklen;
        }
        for (int i = 0; !disp_bytes && i < count; i++) {
            ints[k++] = ((const int *)disps)[i];
        }
    }
    b.failed = b.failed || ints == NULL ||
               !record(b.t, ni, ints, disp_bytes ? count : 0, disp_bytes ? disps : NULL, 1, &old);
    free(ints);
    return builder_finish(&b, false, fn, newtype);
}

int PMPI_Type_indexed(int count, const int blocklens[], const int displs[], MPI_Datatype old,
                      MPI_Datatype *newtype)
{
    return indexed(count, blocklens, 0, displs, false, old, MPI_COMBINER_INDEXED,
                   "MPI_Type_indexed", newtype);
}

int PMPI_Type_create_hindexed(int count, const int blocklens[], const MPI_Aint displs[],
                              MPI_Datatype old, MPI_Datatype *newtype)
{
    return indexed(count, blocklens, 0, displs, true, old, MPI_COMBINER_HINDEXED,
                   "MPI_Type_create_hindexed", newtype);
}

int PMPI_Type_create_indexed_block(int count, int blocklen, const int displs[], MPI_Datatype old,
                                   MPI_Datatype *newtype)
{
    return indexed(count, NULL, blocklen, displs, false, old, MPI_COMBINER_INDEXED_BLOCK,
                   "MPI_Type_create_indexed_block", newtype);
}

int PMPI_Type_create_hindexed_block(int count, int blocklen, const MPI_Aint displs[],
                                    MPI_Datatype old, MPI_Datatype *newtype)
{
    return indexed(count, NULL, blocklen, displs, true, old, MPI_COMBINER_HINDEXED_BLOCK,
                   "MPI_Type_create_hindexed_block", newtype);
}

int PMPI_Type_create_struct(int count, const int blocklens[], const MPI_Aint displs[],
                            const MPI_Datatype types[], MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_struct";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : check_count(count, "count", fn);
    for (int i = 0; rc == MPI_SUCCESS && i < count; i++) {
        rc = check_count(blocklens[i], "blocklength", fn);
        rc = rc ? rc : mpi_check_type(types[i], fn);
    }
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, MPI_COMBINER_STRUCT) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; i < count; i++) {
        const mpi_type_t *o = mpi_type(types[i]);
        add_copies(&b, o, displs[i], (size_t)blocklens[i], o->extent);
    }
    int *ints = malloc((size_t)(count + 1) * sizeof(int));
    if (ints != NULL) {
        ints[0] = count;
        memcpy(ints + 1, blocklens, (size_t)count * sizeof(int));
    }
    b.failed =
        b.failed || ints == NULL || !record(b.t, count + 1, ints, count, displs, count, types);
    free(ints);
    return builder_finish(&b, true, fn, newtype);
}

int PMPI_Type_create_resized(MPI_Datatype old, MPI_Aint lb, MPI_Aint extent, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_resized";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_type(old, fn);
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, MPI_COMBINER_RESIZED) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    const mpi_type_t *o = mpi_type(old);
    add_copies(&b, o, 0, 1, o->extent);
    b.lb = lb;
    b.ub = lb + extent;
    b.first = false;
    b.explicit_bounds = true;
    MPI_Aint a[2] = {lb, extent};
    b.failed = b.failed || !record(b.t, 0, NULL, 2, a, 1, &old);
    return builder_finish(&b, false, fn, newtype);
}

int PMPI_Type_dup(MPI_Datatype old, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_dup";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_type(old, fn);
    builder_t b;
    if (rc != MPI_SUCCESS || builder_start(&b, MPI_COMBINER_DUP) == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    const mpi_type_t *o = mpi_type(old);
    add_copies(&b, o, 0, 1, o->extent);
    b.lb = o->lb;
    b.ub = o->lb + o->extent;
    b.explicit_bounds = true; /* keep the old bounds exactly */
    b.failed = b.failed || !record(b.t, 0, NULL, 0, NULL, 1, &old);
    rc = builder_finish(&b, false, fn, newtype);
    if (rc == MPI_SUCCESS) {
        table[*newtype]->explicit_bounds = o->explicit_bounds;
        table[*newtype]->committed = o->committed;
    }
    return rc;
}

int PMPI_Type_commit(MPI_Datatype *type)
{
    int rc = mpi_check_init("MPI_Type_commit");
    rc = rc ? rc : mpi_check_type(*type, "MPI_Type_commit");
    if (rc == MPI_SUCCESS) {
        table[*type]->committed = true;
    }
    return rc;
}

int PMPI_Type_free(MPI_Datatype *type)
{
    const char *fn = "MPI_Type_free";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_type(*type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (table[*type]->predefined) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "%s is predefined and cannot be freed",
                         table[*type]->name);
    }
    /* Operations in flight hold their own reference. */
    type_release(table[*type]);
    table[*type] = NULL;
    *type = MPI_DATATYPE_NULL;
    return MPI_SUCCESS;
}

int PMPI_Type_size(MPI_Datatype type, int *size)
{
    int rc = mpi_check_type(type, "MPI_Type_size");
    if (rc == MPI_SUCCESS) {
        *size = (int)mpi_type(type)->size;
    }
    return rc;
}

int PMPI_Type_size_x(MPI_Datatype type, MPI_Count *size)
{
    int rc = mpi_check_type(type, "MPI_Type_size_x");
    if (rc == MPI_SUCCESS) {
        *size = (MPI_Count)mpi_type(type)->size;
    }
    return rc;
}

int PMPI_Type_get_extent(MPI_Datatype type, MPI_Aint *lb, MPI_Aint *extent)
{
    int rc = mpi_check_type(type, "MPI_Type_get_extent");
    if (rc == MPI_SUCCESS) {
        *lb = mpi_type(type)->lb;
        *extent = mpi_type(type)->extent;
    }
    return rc;
}

int PMPI_Type_get_true_extent(MPI_Datatype type, MPI_Aint *true_lb, MPI_Aint *true_extent)
{
    int rc = mpi_check_type(type, "MPI_Type_get_true_extent");
    if (rc == MPI_SUCCESS) {
        *true_lb = mpi_type(type)->true_lb;
        *true_extent = mpi_type(type)->true_extent;
    }
    return rc;
}

int PMPI_Type_get_name(MPI_Datatype type, char *name, int *resultlen)
{
    int rc = mpi_check_type(type, "MPI_Type_get_name");
    if (rc == MPI_SUCCESS) {
        snprintf(name, MPI_MAX_OBJECT_NAME, "%s", mpi_type(type)->name);
        *resultlen = (int)strlen(name);
    }
    return rc;
}

int PMPI_Type_set_name(MPI_Datatype type, const char *name)
{
    int rc = mpi_check_type(type, "MPI_Type_set_name");
    if (rc == MPI_SUCCESS) {
        snprintf(table[type]->name, MPI_MAX_OBJECT_NAME, "%s", name);
    }
    return rc;
}

int PMPI_Type_get_envelope(MPI_Datatype type, int *num_integers, int *num_addresses,
                           int *num_datatypes, int *combiner)
{
    int rc = mpi_check_type(type, "MPI_Type_get_envelope");
    if (rc == MPI_SUCCESS) {
        const mpi_type_t *t = mpi_type(type);
        *num_integers = t->ni;
        *num_addresses = t->na;
        *num_datatypes = t->nt;
        *combiner = t->combiner;
    }
    return rc;
}

int PMPI_Type_get_contents(MPI_Datatype type, int max_integers, int max_addresses,
                           int max_datatypes, int integers[], MPI_Aint addresses[],
                           MPI_Datatype datatypes[])
{
    const char *fn = "MPI_Type_get_contents";
    int rc = mpi_check_type(type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_type_t *t = mpi_type(type);
    if (t->predefined) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "%s is predefined: it has no contents",
                         t->name);
    }
    if (max_integers < t->ni || max_addresses < t->na || max_datatypes < t->nt) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "arrays too small: need %d integers, %d addresses, %d datatypes", t->ni,
                         t->na, t->nt);
    }
    if (t->ni > 0) { /* the arrays may be NULL when nothing goes there */
        memcpy(integers, t->ints, (size_t)t->ni * sizeof(int));
    }
    if (t->na > 0) {
        memcpy(addresses, t->aints, (size_t)t->na * sizeof(MPI_Aint));
    }
    if (t->nt > 0) {
        memcpy(datatypes, t->types, (size_t)t->nt * sizeof(MPI_Datatype));
    }
    return MPI_SUCCESS;
}

int PMPI_Get_address(const void *location, MPI_Aint *address)
{
    *address = (MPI_Aint)(uintptr_t)location;
    return MPI_SUCCESS;
}

MPI_Aint PMPI_Aint_add(MPI_Aint base, MPI_Aint disp)
{
    return base + disp;
}

MPI_Aint PMPI_Aint_diff(MPI_Aint addr1, MPI_Aint addr2)
{
    return addr1 - addr2;
}

/* MPI_Pack's format is the packed data itself (one machine). */
int PMPI_Pack_size(int incount, MPI_Datatype type, MPI_Comm comm, int *size)
{
    int rc = mpi_check_comm(comm, "MPI_Pack_size");
    rc = rc ? rc : mpi_check_type(type, "MPI_Pack_size");
    rc = rc ? rc : check_count(incount, "count", "MPI_Pack_size");
    if (rc == MPI_SUCCESS) {
        *size = incount * (int)mpi_type(type)->size;
    }
    return rc;
}

int PMPI_Pack(const void *inbuf, int incount, MPI_Datatype type, void *outbuf, int outsize,
              int *position, MPI_Comm comm)
{
    const char *fn = "MPI_Pack";
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : mpi_check_buffer(comm, inbuf, incount, type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    size_t need = (size_t)incount * mpi_type(type)->size;
    if (*position < 0 || (size_t)*position + need > (size_t)outsize) {
        return mpi_error(comm, MPI_ERR_TRUNCATE, fn,
                         "%zu bytes at position %d do not fit an output buffer of %d", need,
                         *position, outsize);
    }
    mpi_type_pack(mpi_type(type), (size_t)incount, inbuf, (char *)outbuf + *position);
    *position += (int)need;
    return MPI_SUCCESS;
}

int PMPI_Unpack(const void *inbuf, int insize, int *position, void *outbuf, int outcount,
                MPI_Datatype type, MPI_Comm comm)
{
    const char *fn = "MPI_Unpack";
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : mpi_check_buffer(comm, outbuf, outcount, type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    size_t need = (size_t)outcount * mpi_type(type)->size;
    if (*position < 0 || (size_t)*position + need > (size_t)insize) {
        return mpi_error(comm, MPI_ERR_TRUNCATE, fn,
                         "%zu bytes at position %d are more than the %d-byte input holds", need,
                         *position, insize);
    }
    mpi_type_unpack(mpi_type(type), (size_t)outcount, (const char *)inbuf + *position, need,
                    outbuf);
    *position += (int)need;
    return MPI_SUCCESS;
}
