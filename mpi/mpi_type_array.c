/* The array datatypes of MPI-3.1 4.1.3-4.1.4: a sub-block of an
 * n-dimensional array (MPI_Type_create_subarray) and one process's part
 * of a block/cyclic-distributed array (MPI_Type_create_darray, HPF's
 * layout). Both are built from hvector/hindexed and resized types, one
 * dimension at a time from the fastest, and then carry their own
 * combiner and arguments for MPI_Type_get_envelope/contents. */
#include <stdlib.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Type_create_subarray);
MRAIL_MPI_ALIAS(MPI_Type_create_darray);

/* Replaces *cur (unless it is keep) by next. */
static void step(MPI_Datatype *cur, MPI_Datatype next, MPI_Datatype keep)
{
    if (*cur != keep) {
        PMPI_Type_free(cur);
    }
    *cur = next;
}

/* Dimension k from the fastest under order. */
static int dim_at(int k, int ndims, int order)
{
    return order == MPI_ORDER_C ? ndims - 1 - k : k;
}

static int check_order(int order, const char *fn)
{
    if (order != MPI_ORDER_C && order != MPI_ORDER_FORTRAN) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "order %d (valid: MPI_ORDER_C or MPI_ORDER_FORTRAN)", order);
    }
    return MPI_SUCCESS;
}

int PMPI_Type_create_subarray(int ndims, const int sizes[], const int subsizes[],
                              const int starts[], int order, MPI_Datatype oldtype,
                              MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_subarray";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_type(oldtype, fn);
    rc = rc ? rc : check_order(order, fn);
    if (rc == MPI_SUCCESS && ndims <= 0) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "ndims %d (must be > 0)", ndims);
    }
    for (int d = 0; rc == MPI_SUCCESS && d < ndims; d++) {
        if (sizes[d] < 1 || subsizes[d] < 1 || subsizes[d] > sizes[d] || starts[d] < 0 ||
            starts[d] > sizes[d] - subsizes[d]) {
            rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                           "dimension %d: size %d, subsize %d, start %d (need 1 <= subsize <= "
                           "size and 0 <= start <= size - subsize)",
                           d, sizes[d], subsizes[d], starts[d]);
        }
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    MPI_Datatype cur = oldtype, next;
    MPI_Aint stride = mpi_type(oldtype)->extent, disp = 0;
    for (int k = 0; rc == MPI_SUCCESS && k < ndims; k++) {
        int d = dim_at(k, ndims, order);
        rc = PMPI_Type_create_hvector(subsizes[d], 1, stride, cur, &next);
        if (rc == MPI_SUCCESS) {
            step(&cur, next, oldtype);
        }
        MPI_Aint offset;
        if (rc == MPI_SUCCESS && (__builtin_mul_overflow((MPI_Aint)starts[d], stride, &offset) ||
                                  __builtin_add_overflow(disp, offset, &disp) ||
                                  __builtin_mul_overflow(stride, (MPI_Aint)sizes[d], &stride))) {
            rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                           "the array's extent in bytes does not fit an MPI_Aint");
        }
    }
    /* The block at its start, in bounds that span the whole array. */
    int one = 1;
    rc = rc ? rc : PMPI_Type_create_hindexed(1, &one, &disp, cur, &next);
    if (rc == MPI_SUCCESS) {
        step(&cur, next, oldtype);
        rc = PMPI_Type_create_resized(cur, 0, stride, newtype);
    }
    step(&cur, MPI_DATATYPE_NULL, oldtype);
    int *ints = malloc((size_t)(3 * ndims + 2) * sizeof(int));
    if (rc == MPI_SUCCESS && ints != NULL) {
        ints[0] = ndims;
        for (int d = 0; d < ndims; d++) {
            ints[1 + d] = sizes[d];
            ints[1 + ndims + d] = subsizes[d];
            ints[1 + 2 * ndims + d] = starts[d];
        }
        ints[1 + 3 * ndims] = order;
        rc = mpi_type_relabel(*newtype, MPI_COMBINER_SUBARRAY, 3 * ndims + 2, ints, 0, NULL, 1,
                              &oldtype);
    }
    free(ints);
    if (rc == MPI_SUCCESS && ints == NULL) {
        PMPI_Type_free(newtype);
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    return rc;
}

/* The process at coord's elements of one dimension of gsize (in old's
 * elements), as a type whose bounds span the whole dimension. */
static int darray_dim(int gsize, int distrib, int darg, int psize, int coord, MPI_Datatype old,
                      MPI_Datatype *out, const char *fn)
{
    int blk = gsize, period = gsize, first = 0;
    if (distrib == MPI_DISTRIBUTE_BLOCK) {
        blk = darg == MPI_DISTRIBUTE_DFLT_DARG ? (gsize + psize - 1) / psize : darg;
        if ((long)blk * psize < gsize) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                             "a block of %d on %d processes does not cover %d elements", blk, psize,
                             gsize);
        }
        first = coord * blk;
        period = gsize; /* one block */
    } else if (distrib == MPI_DISTRIBUTE_CYCLIC) {
        blk = darg == MPI_DISTRIBUTE_DFLT_DARG ? 1 : darg;
        first = coord * blk;
        period = psize * blk;
    }
    int n = 0;
    for (long s = first; s < gsize; s += period) {
        n++;
    }
    int *lens = malloc((size_t)(n + 1) * sizeof(int));
    MPI_Aint *disps = malloc((size_t)(n + 1) * sizeof(MPI_Aint));
    MPI_Aint ext = mpi_type(old)->extent;
    int rc = lens && disps ? MPI_SUCCESS : MPI_ERR_NO_MEM, i = 0;
    MPI_Aint span = 0;
    if (rc == MPI_SUCCESS && __builtin_mul_overflow((MPI_Aint)gsize, ext, &span)) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                       "%d elements of extent %ld do not fit an MPI_Aint", gsize, (long)ext);
    }
    for (long s = first; rc == MPI_SUCCESS && s < gsize; s += period, i++) {
        lens[i] = (int)(gsize - s < blk ? gsize - s : blk);
        disps[i] = (MPI_Aint)s * ext; /* s < gsize: no overflow, as span did not */
    }
    MPI_Datatype part = MPI_DATATYPE_NULL;
    rc = rc ? rc : PMPI_Type_create_hindexed(n, lens, disps, old, &part);
    rc = rc ? rc : PMPI_Type_create_resized(part, 0, span, out);
    if (part != MPI_DATATYPE_NULL) {
        PMPI_Type_free(&part);
    }
    free(lens), free(disps);
    return rc;
}

static int check_darray(int size, int rank, int ndims, const int gsizes[], const int distribs[],
                        const int dargs[], const int psizes[], const char *fn)
{
    if (size <= 0 || rank < 0 || rank >= size || ndims <= 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "size %d, rank %d, ndims %d (need size > 0, 0 <= rank < size, ndims > 0)",
                         size, rank, ndims);
    }
    long grid = 1;
    for (int d = 0; d < ndims; d++) {
        bool known = distribs[d] == MPI_DISTRIBUTE_BLOCK || distribs[d] == MPI_DISTRIBUTE_CYCLIC ||
                     distribs[d] == MPI_DISTRIBUTE_NONE;
        if (gsizes[d] < 1 || psizes[d] < 1 || !known ||
            (dargs[d] < 1 && dargs[d] != MPI_DISTRIBUTE_DFLT_DARG)) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                             "dimension %d: gsize %d, distrib %d, darg %d, psize %d (need gsize, "
                             "psize >= 1; MPI_DISTRIBUTE_BLOCK, _CYCLIC or _NONE; darg >= 1 or "
                             "MPI_DISTRIBUTE_DFLT_DARG)",
                             d, gsizes[d], distribs[d], dargs[d], psizes[d]);
        }
        if (distribs[d] == MPI_DISTRIBUTE_NONE && psizes[d] != 1) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                             "dimension %d is not distributed (MPI_DISTRIBUTE_NONE) but psize is "
                             "%d (must be 1)",
                             d, psizes[d]);
        }
        grid *= psizes[d];
    }
    if (grid != size) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "the process grid has %ld processes, not size %d", grid, size);
    }
    return MPI_SUCCESS;
}

int PMPI_Type_create_darray(int size, int rank, int ndims, const int gsizes[], const int distribs[],
                            const int dargs[], const int psizes[], int order, MPI_Datatype oldtype,
                            MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_darray";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_type(oldtype, fn);
    rc = rc ? rc : check_order(order, fn);
    rc = rc ? rc : check_darray(size, rank, ndims, gsizes, distribs, dargs, psizes, fn);
    int *coords = rc == MPI_SUCCESS ? malloc((size_t)ndims * sizeof(int)) : NULL;
    if (rc != MPI_SUCCESS || coords == NULL) {
        return rc ? rc : mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    /* The process grid is row-major whatever the array's order. */
    for (int d = ndims - 1, r = rank; d >= 0; d--) {
        coords[d] = r % psizes[d];
        r /= psizes[d];
    }
    MPI_Datatype cur = oldtype, next;
    for (int k = 0; rc == MPI_SUCCESS && k < ndims; k++) {
        int d = dim_at(k, ndims, order);
        rc = darray_dim(gsizes[d], distribs[d], dargs[d], psizes[d], coords[d], cur, &next, fn);
        if (rc == MPI_SUCCESS) {
            step(&cur, next, oldtype);
        }
    }
    free(coords);
    if (rc == MPI_SUCCESS) {
        *newtype = cur;
        int ni = 4 * ndims + 4, *ints = malloc((size_t)ni * sizeof(int));
        if (ints == NULL) {
            PMPI_Type_free(newtype);
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
        }
        ints[0] = size, ints[1] = rank, ints[2] = ndims;
        for (int d = 0; d < ndims; d++) {
            ints[3 + d] = gsizes[d];
            ints[3 + ndims + d] = distribs[d];
            ints[3 + 2 * ndims + d] = dargs[d];
            ints[3 + 3 * ndims + d] = psizes[d];
        }
        ints[3 + 4 * ndims] = order;
        rc = mpi_type_relabel(*newtype, MPI_COMBINER_DARRAY, ni, ints, 0, NULL, 1, &oldtype);
        free(ints);
    } else {
        step(&cur, MPI_DATATYPE_NULL, oldtype);
    }
    return rc;
}
