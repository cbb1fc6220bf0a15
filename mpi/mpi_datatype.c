/* The datatype calls: derived types built from others (flattened by the
 * engine in mpiobj/obj_datatype.c), their attributes, MPI_Pack. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Type_contiguous);
MRAIL_MPI_ALIAS(MPI_Type_vector);
MRAIL_MPI_ALIAS(MPI_Type_create_hvector);
MRAIL_MPI_ALIAS(MPI_Type_indexed);
MRAIL_MPI_ALIAS(MPI_Type_create_hindexed);
MRAIL_MPI_ALIAS(MPI_Type_create_indexed_block);
MRAIL_MPI_ALIAS(MPI_Type_create_hindexed_block);
MRAIL_MPI_ALIAS(MPI_Type_create_struct);
MRAIL_MPI_ALIAS(MPI_Type_create_resized);
MRAIL_MPI_ALIAS(MPI_Type_dup);
MRAIL_MPI_ALIAS(MPI_Type_commit);
MRAIL_MPI_ALIAS(MPI_Type_free);
MRAIL_MPI_ALIAS(MPI_Type_size);
MRAIL_MPI_ALIAS(MPI_Type_size_x);
MRAIL_MPI_ALIAS(MPI_Type_get_extent);
MRAIL_MPI_ALIAS(MPI_Type_get_true_extent);
MRAIL_MPI_ALIAS(MPI_Type_get_extent_x);
MRAIL_MPI_ALIAS(MPI_Type_get_true_extent_x);
MRAIL_MPI_ALIAS(MPI_Type_match_size);
MRAIL_MPI_ALIAS(MPI_Type_get_name);
MRAIL_MPI_ALIAS(MPI_Type_set_name);
MRAIL_MPI_ALIAS(MPI_Type_get_envelope);
MRAIL_MPI_ALIAS(MPI_Type_get_contents);
MRAIL_MPI_ALIAS(MPI_Get_address);
MRAIL_MPI_ALIAS(MPI_Aint_add);
MRAIL_MPI_ALIAS(MPI_Aint_diff);
MRAIL_MPI_ALIAS(MPI_Pack_size);
MRAIL_MPI_ALIAS(MPI_Pack);
MRAIL_MPI_ALIAS(MPI_Unpack);

/* ---- building derived types ---- */

/* A type is kept as its list of contiguous blocks: this bounds the list
 * (256 MiB of it), so that nested constructors with large counts fail
 * with an error rather than exhaust memory. */
#define MPI_TYPE_BLOCKS_MAX (1 << 24)

typedef struct builder {
    mpi_type_t *t;
    size_t cap, runs_cap;
    bool first;
    MPI_Aint lb, ub;
    bool failed;
    bool too_many_blocks; /* failed: over MPI_TYPE_BLOCKS_MAX */
    bool overflow;        /* failed: an address or the extent does not fit MPI_Aint */
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
    if (t->nblocks == MPI_TYPE_BLOCKS_MAX) {
        b->failed = b->too_many_blocks = true;
        return;
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

/* Appends count elements of size bytes to the type's element runs. */
static void add_run(builder_t *b, size_t size, size_t count)
{
    mpi_type_t *t = b->t;
    if (t->runs_lost) {
        return;
    }
    if (t->nruns > 0 && t->runs[t->nruns - 1].size == size) {
        t->runs[t->nruns - 1].count += count;
        return;
    }
    if (t->nruns == MPI_ELEM_RUNS_MAX) {
        free(t->runs);
        t->runs = NULL;
        t->nruns = 0;
        t->runs_lost = true;
        return;
    }
    if (t->nruns == b->runs_cap) {
        size_t cap = b->runs_cap ? 2 * b->runs_cap : 4;
        mpi_elem_run_t *grown = realloc(t->runs, cap * sizeof(*grown));
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        t->runs = grown;
        b->runs_cap = cap;
    }
    t->runs[t->nruns++] = (mpi_elem_run_t){size, count};
}

/* count copies of old's elements, in order. */
static void add_runs(builder_t *b, const mpi_type_t *old, size_t count)
{
    if (count == 0 || old->elements == 0) {
        return;
    }
    b->t->elements += count * old->elements;
    if (old->runs_lost) {
        free(b->t->runs);
        b->t->runs = NULL;
        b->t->nruns = 0;
        b->t->runs_lost = true;
        return;
    }
    if (old->nruns == 1) {
        add_run(b, old->runs[0].size, count * old->runs[0].count);
        return;
    }
    /* Each copy adds a run at least: this stops at MPI_ELEM_RUNS_MAX. */
    for (size_t i = 0; i < count && !b->t->runs_lost && !b->failed; i++) {
        for (size_t k = 0; k < old->nruns; k++) {
            add_run(b, old->runs[k].size, old->runs[k].count);
        }
    }
}

/* a * n + c, false (and b failed) when it does not fit an MPI_Aint: types
 * nested with large strides or extents reach that with few bytes of data. */
static bool aint_madd(builder_t *b, MPI_Aint a, MPI_Aint n, MPI_Aint c, MPI_Aint *out)
{
    MPI_Aint p;
    if (__builtin_mul_overflow(a, n, &p) || __builtin_add_overflow(p, c, out)) {
        b->failed = b->overflow = true;
        return false;
    }
    return true;
}

/* count copies of old, the first at disp, the next ones stride bytes apart. */
static void add_copies(builder_t *b, const mpi_type_t *old, MPI_Aint disp, size_t count,
                       MPI_Aint stride)
{
    b->no_merge = b->no_merge || mpi_type_is_pair(old->base);
    add_runs(b, old, count);
    for (size_t i = 0; i < count && !b->failed; i++) {
        MPI_Aint at, d, lb, ub;
        if (!aint_madd(b, (MPI_Aint)i, stride, disp, &at) || !aint_madd(b, 1, at, old->lb, &lb) ||
            !aint_madd(b, 1, lb, old->extent, &ub)) {
            return;
        }
        for (size_t k = 0; k < old->nblocks; k++) {
            if (!aint_madd(b, 1, at, old->blocks[k].disp, &d)) {
                return;
            }
            add_block(b, d, old->blocks[k].len);
        }
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
        if ((t->parts = malloc((size_t)nt * sizeof(*t->parts))) == NULL) {
            return false;
        }
        for (int i = 0; i < nt; i++) {
            t->parts[i] = mpi_type_hold(mpi_type(types[i]));
        }
    }
    return true;
}

int mpi_type_relabel(MPI_Datatype type, int combiner, int ni, const int *ints, int na,
                     const MPI_Aint *aints, int nt, const MPI_Datatype *types)
{
    mpi_type_t *t = mpi_type_mut(type);
    mpi_type_parts_drop(t);
    free(t->ints), free(t->aints), free(t->types);
    t->combiner = combiner;
    return record(t, ni, ints, na, aints, nt, types) ? MPI_SUCCESS : MPI_ERR_NO_MEM;
}

static int builder_finish(builder_t *b, bool pad, const char *fn, MPI_Datatype *out)
{
    mpi_type_t *t = b->t;
    /* The extent, and the span of the data, padded to an alignment: half
     * the range of MPI_Aint at most, so that neither overflows. */
    MPI_Aint span, lo = 0, hi = 0;
    for (size_t i = 0; i < t->nblocks && !b->failed; i++) {
        MPI_Aint s = t->blocks[i].disp, e = s + (MPI_Aint)t->blocks[i].len;
        lo = i == 0 || s < lo ? s : lo;
        hi = i == 0 || e > hi ? e : hi;
    }
    if (!b->failed && ((!b->first && (__builtin_sub_overflow(b->ub, b->lb, &span) ||
                                      span > PTRDIFF_MAX / 2 || span < -(PTRDIFF_MAX / 2))) ||
                       __builtin_sub_overflow(hi, lo, &span) || span > PTRDIFF_MAX / 2)) {
        b->failed = b->overflow = true;
    }
    if (b->failed) {
        mpi_type_release(t);
        if (b->overflow) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                             "an address in the datatype, or its extent, does not fit an MPI_Aint");
        }
        if (b->too_many_blocks) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn,
                             "the datatype has more than %d separate blocks of data, the most "
                             "mrail keeps for one type",
                             MPI_TYPE_BLOCKS_MAX);
        }
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
        t->true_lb = lo;
        t->true_extent = hi - lo;
    }
    if (t->mixed) {
        t->base = MPI_DATATYPE_NULL;
    }
    if (mpi_type_store(t, out) != 0) {
        mpi_type_release(t);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "no memory for the datatype");
    }
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
    MPI_Aint at;
    for (int i = 0; i < count && aint_madd(&b, (MPI_Aint)i, stride_bytes, 0, &at); i++) {
        add_copies(&b, o, at, (size_t)blocklen, o->extent);
    }
    b.failed = b.failed || !record(b.t, ni, ints, na, aints, 1, &old);
    return builder_finish(&b, false, fn, newtype);
}

int PMPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype old,
                     MPI_Datatype *newtype)
{
    const mpi_type_t *o = mpi_type(old);
    int ints[3] = {count, blocklength, stride};
    MPI_Aint stride_bytes = 0;
    if (o != NULL && __builtin_mul_overflow((MPI_Aint)stride, o->extent, &stride_bytes)) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Type_vector",
                         "stride %d times the extent %ld of the old type does not fit an MPI_Aint",
                         stride, (long)o->extent);
    }
    return vector(count, blocklength, stride_bytes, old, MPI_COMBINER_VECTOR, ints, 3, NULL, 0,
                  "MPI_Type_vector", newtype);
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
    for (int i = 0; i < count && !b.failed; i++) {
        MPI_Aint d = disp_bytes ? ((const MPI_Aint *)disps)[i] : 0;
        if (disp_bytes || aint_madd(&b, (MPI_Aint)((const int *)disps)[i], o->extent, 0, &d)) {
            add_copies(&b, o, d, (size_t)(blocklens ? blocklens[i] : blocklen), o->extent);
        }
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
    aint_madd(&b, 1, lb, extent, &b.ub);
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
        mpi_type_mut(*newtype)->explicit_bounds = o->explicit_bounds;
        mpi_type_mut(*newtype)->committed = o->committed;
        rc = mpi_type_attrs_copy(old, *newtype);
        rc = rc == MPI_SUCCESS ? rc
                               : mpi_error(MPI_COMM_WORLD, rc, fn, "copying an attribute failed");
    }
    return rc;
}

int PMPI_Type_commit(MPI_Datatype *type)
{
    int rc = mpi_check_init("MPI_Type_commit");
    rc = rc ? rc : mpi_check_type(*type, "MPI_Type_commit");
    if (rc == MPI_SUCCESS) {
        mpi_type_mut(*type)->committed = true;
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
    if (mpi_type_mut(*type)->predefined) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "%s is predefined and cannot be freed",
                         mpi_type_mut(*type)->name);
    }
    int combiner = mpi_type(*type)->combiner;
    if (combiner == MPI_COMBINER_F90_REAL || combiner == MPI_COMBINER_F90_COMPLEX ||
        combiner == MPI_COMBINER_F90_INTEGER) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn,
                         "datatype %d came from MPI_Type_create_f90_*: it cannot be freed", *type);
    }
    mpi_type_attrs_delete_all(*type);
    /* Operations in flight hold their own reference. */
    mpi_type_forget(*type);
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

int PMPI_Type_get_extent_x(MPI_Datatype type, MPI_Count *lb, MPI_Count *extent)
{
    int rc = mpi_check_type(type, "MPI_Type_get_extent_x");
    if (rc == MPI_SUCCESS) {
        *lb = mpi_type(type)->lb;
        *extent = mpi_type(type)->extent;
    }
    return rc;
}

int PMPI_Type_get_true_extent_x(MPI_Datatype type, MPI_Count *true_lb, MPI_Count *true_extent)
{
    int rc = mpi_check_type(type, "MPI_Type_get_true_extent_x");
    if (rc == MPI_SUCCESS) {
        *true_lb = mpi_type(type)->true_lb;
        *true_extent = mpi_type(type)->true_extent;
    }
    return rc;
}

/* The predefined type of a class and size. mrail has no Fortran types, so
 * the answers are the C types of that size (as a C program needs). */
int PMPI_Type_match_size(int typeclass, int size, MPI_Datatype *type)
{
    static const struct {
        int typeclass, size;
        MPI_Datatype type;
    } match[] = {
        {MPI_TYPECLASS_REAL, sizeof(float), MPI_FLOAT},
        {MPI_TYPECLASS_REAL, sizeof(double), MPI_DOUBLE},
        {MPI_TYPECLASS_REAL, sizeof(long double), MPI_LONG_DOUBLE},
        {MPI_TYPECLASS_INTEGER, 1, MPI_INT8_T},
        {MPI_TYPECLASS_INTEGER, 2, MPI_INT16_T},
        {MPI_TYPECLASS_INTEGER, 4, MPI_INT32_T},
        {MPI_TYPECLASS_INTEGER, 8, MPI_INT64_T},
        {MPI_TYPECLASS_COMPLEX, 2 * sizeof(float), MPI_C_FLOAT_COMPLEX},
        {MPI_TYPECLASS_COMPLEX, 2 * sizeof(double), MPI_C_DOUBLE_COMPLEX},
        {MPI_TYPECLASS_COMPLEX, 2 * sizeof(long double), MPI_C_LONG_DOUBLE_COMPLEX},
    };
    const char *fn = "MPI_Type_match_size";
    if (typeclass != MPI_TYPECLASS_REAL && typeclass != MPI_TYPECLASS_INTEGER &&
        typeclass != MPI_TYPECLASS_COMPLEX) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "type class %d (valid: MPI_TYPECLASS_REAL, _INTEGER, _COMPLEX)",
                         typeclass);
    }
    for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++) {
        if (match[i].typeclass == typeclass && match[i].size == size) {
            *type = match[i].type;
            return MPI_SUCCESS;
        }
    }
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                     "no %s type of %d bytes (real: 4, 8, 16; integer: 1, 2, 4, 8; complex: 8, "
                     "16, 32)",
                     typeclass == MPI_TYPECLASS_REAL      ? "real"
                     : typeclass == MPI_TYPECLASS_INTEGER ? "integer"
                                                          : "complex",
                     size);
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
        snprintf(mpi_type_mut(type)->name, MPI_MAX_OBJECT_NAME, "%s", name);
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
    /* A predefined part by its handle; a derived one as a new handle the
     * caller frees (MPI-3.1 4.1.13), to a copy of the part this type holds:
     * the handle it was built from may be freed, or reused by now. */
    for (int i = 0; i < t->nt; i++) {
        mpi_type_t *copy = NULL;
        if (t->parts[i]->predefined) {
            datatypes[i] = t->types[i];
        } else if ((copy = mpi_type_copy(t->parts[i])) == NULL ||
                   mpi_type_store(copy, &datatypes[i]) != 0) {
            mpi_type_release(copy);
            while (i-- > 0) {
                if (!t->parts[i]->predefined) {
                    mpi_type_forget(datatypes[i]);
                }
            }
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
        }
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
