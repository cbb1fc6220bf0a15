/* MPI_Type_create_f90_real/complex/integer (MPI-3.1 17.1.9): the C type
 * that holds the decimal precision p and exponent range r asked for (as
 * Fortran's SELECTED_REAL_KIND / SELECTED_INT_KIND would choose), as a
 * type of its own whose envelope names the call and its arguments. The
 * same arguments give the same handle, which may not be freed. */
#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Type_create_f90_real);
MRAIL_MPI_ALIAS(MPI_Type_create_f90_complex);
MRAIL_MPI_ALIAS(MPI_Type_create_f90_integer);

#define F90_CACHE 64

/* The registry of types made so far. */
static struct {
    struct {
        int combiner, p, r;
        MPI_Datatype type;
    } made[F90_CACHE];
    int n;
} cache;

static int f90_type(int combiner, int p, int r, MPI_Datatype base, const char *fn,
                    MPI_Datatype *out)
{
    for (int i = 0; i < cache.n; i++) {
        if (cache.made[i].combiner == combiner && cache.made[i].p == p && cache.made[i].r == r &&
            mpi_type(cache.made[i].type) != NULL) {
            *out = cache.made[i].type;
            return MPI_SUCCESS;
        }
    }
    if (cache.n == F90_CACHE) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_INTERN, fn,
                         "more than %d different f90 types asked for", F90_CACHE);
    }
    MPI_Datatype t;
    int rc = PMPI_Type_dup(base, &t);
    rc = rc ? rc : PMPI_Type_commit(&t);
    int ints[2] = {p, r};
    bool integer = combiner == MPI_COMBINER_F90_INTEGER;
    rc = rc ? rc
            : mpi_type_relabel(t, combiner, integer ? 1 : 2, integer ? &ints[1] : ints, 0, NULL, 0,
                               NULL);
    if (rc != MPI_SUCCESS) {
        return rc == MPI_ERR_NO_MEM ? mpi_error(MPI_COMM_WORLD, rc, fn, "out of memory") : rc;
    }
    cache.made[cache.n].combiner = combiner, cache.made[cache.n].p = p;
    cache.made[cache.n].r = r, cache.made[cache.n++].type = t;
    *out = t;
    return MPI_SUCCESS;
}

/* 0: float, 1: double, 2: long double (x87: 18 digits, 10^4931); -1: none. */
static int real_kind(int p, int r)
{
    if (p == MPI_UNDEFINED && r == MPI_UNDEFINED) {
        return -1;
    }
    static const int digits[3] = {6, 15, 18}, range[3] = {37, 307, 4931};
    for (int k = 0; k < 3; k++) {
        if ((p == MPI_UNDEFINED || (p >= 0 && p <= digits[k])) &&
            (r == MPI_UNDEFINED || (r >= 0 && r <= range[k]))) {
            return k;
        }
    }
    return -1;
}

static int no_kind(int p, int r, const char *fn)
{
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                     "no C type has precision p = %d and range r = %d (largest: long double, "
                     "p 18, r 4931; MPI_UNDEFINED for either, not both)",
                     p, r);
}

int PMPI_Type_create_f90_real(int p, int r, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_f90_real";
    static const MPI_Datatype c[3] = {MPI_FLOAT, MPI_DOUBLE, MPI_LONG_DOUBLE};
    int rc = mpi_check_init(fn), k = real_kind(p, r);
    rc = rc ? rc : k < 0 ? no_kind(p, r, fn) : MPI_SUCCESS;
    return rc ? rc : f90_type(MPI_COMBINER_F90_REAL, p, r, c[k], fn, newtype);
}

int PMPI_Type_create_f90_complex(int p, int r, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_f90_complex";
    static const MPI_Datatype c[3] = {MPI_C_FLOAT_COMPLEX, MPI_C_DOUBLE_COMPLEX,
                                      MPI_C_LONG_DOUBLE_COMPLEX};
    int rc = mpi_check_init(fn), k = real_kind(p, r);
    rc = rc ? rc : k < 0 ? no_kind(p, r, fn) : MPI_SUCCESS;
    return rc ? rc : f90_type(MPI_COMBINER_F90_COMPLEX, p, r, c[k], fn, newtype);
}

int PMPI_Type_create_f90_integer(int r, MPI_Datatype *newtype)
{
    const char *fn = "MPI_Type_create_f90_integer";
    static const int range[4] = {2, 4, 9, 18};
    static const MPI_Datatype c[4] = {MPI_INT8_T, MPI_INT16_T, MPI_INT32_T, MPI_INT64_T};
    int rc = mpi_check_init(fn), k = 0;
    while (k < 4 && !(r >= 0 && r <= range[k])) {
        k++;
    }
    if (rc == MPI_SUCCESS && k == 4) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                       "no C integer type has range r = %d (valid: 0..18 decimal digits)", r);
    }
    return rc ? rc : f90_type(MPI_COMBINER_F90_INTEGER, MPI_UNDEFINED, r, c[k], fn, newtype);
}
