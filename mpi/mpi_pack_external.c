/* MPI_Pack_external / MPI_Unpack_external / MPI_Pack_external_size in
 * "external32" (MPI-3.1 13.5.2): the packed stream in big-endian byte
 * order, each basic element in its external32 size. On this platform
 * every size but long double's and wchar_t's is the native one, so the
 * conversion is a byte swap per element (per part of complex and pair
 * types), found by walking the type's construction down to its
 * predefined elements. long double (IEEE quad in external32) and wchar_t
 * (2 bytes there) are refused with MPI_ERR_TYPE. */
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Pack_external);
MRAIL_MPI_ALIAS(MPI_Unpack_external);
MRAIL_MPI_ALIAS(MPI_Pack_external_size);

/* The byte-swap units of predefined type h; 0 when it has no external32
 * form here. */
static int units(MPI_Datatype h, size_t sz[2])
{
    switch (h) {
    case MPI_LONG_DOUBLE:
    case MPI_C_LONG_DOUBLE_COMPLEX:
    case MPI_LONG_DOUBLE_INT:
    case MPI_WCHAR: return 0;
    case MPI_C_COMPLEX:
    case MPI_C_FLOAT_COMPLEX: sz[0] = sz[1] = 4; return 2;
    case MPI_C_DOUBLE_COMPLEX: sz[0] = sz[1] = 8; return 2;
    case MPI_FLOAT_INT:
    case MPI_2INT: sz[0] = sz[1] = 4; return 2;
    case MPI_DOUBLE_INT:
    case MPI_LONG_INT: sz[0] = 8, sz[1] = 4; return 2;
    case MPI_SHORT_INT: sz[0] = 2, sz[1] = 4; return 2;
    default: sz[0] = mpi_type_size(h); return 1;
    }
}

static void reverse(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char c = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = c;
    }
}

/* Swaps count packed instances of t at p (either way: the swap is its own
 * inverse); returns the bytes they take, or -1 (a type with no
 * external32 form; *bad names its predefined part). */
static long long swap(unsigned char *p, const mpi_type_t *t, size_t count, MPI_Datatype *bad)
{
    if (t->predefined) {
        size_t sz[2];
        int n = units(t->base, sz);
        if (n == 0) {
            *bad = t->base;
            return -1;
        }
        unsigned char *q = p;
        for (size_t i = 0; i < count; i++) {
            for (int k = 0; k < n; k++) {
                reverse(q, sz[k]);
                q += sz[k];
            }
        }
        return q - p;
    }
    if (t->base != MPI_DATATYPE_NULL && !t->mixed) { /* one predefined type throughout */
        const mpi_type_t *b = mpi_type(t->base);
        return swap(p, b, count * (t->size / b->size), bad);
    }
    if (t->parts == NULL || t->nt == 0) {
        return t->size == 0 ? 0 : -1;
    }
    if (t->combiner == MPI_COMBINER_STRUCT) { /* blocks of several types, in order */
        long long at = 0;
        for (size_t c = 0; c < count; c++) {
            for (int i = 0; i < t->nt; i++) {
                long long r = swap(p + at, t->parts[i], (size_t)t->ints[1 + i], bad);
                if (r < 0) {
                    return -1;
                }
                at += r;
            }
        }
        return at;
    }
    /* Every other constructor repeats one type: its instances, packed, one after another. */
    const mpi_type_t *old = t->parts[0];
    size_t per = old->size ? t->size / old->size : 0;
    return swap(p, old, count * per, bad);
}

static int check_rep(const char *datarep, const char *fn)
{
    if (datarep == NULL || strcmp(datarep, "external32") != 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "data representation \"%s\" (valid: \"external32\")",
                         datarep ? datarep : "(null)");
    }
    return MPI_SUCCESS;
}

static int no_form(MPI_Datatype bad, const char *fn)
{
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, fn,
                     "%s has no external32 form in mrail (long double is IEEE quad there, "
                     "wchar_t 2 bytes)",
                     mpi_type_name(bad));
}

int PMPI_Pack_external_size(const char datarep[], int incount, MPI_Datatype datatype,
                            MPI_Aint *size)
{
    const char *fn = "MPI_Pack_external_size";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : check_rep(datarep, fn);
    rc = rc ? rc : mpi_check_type(datatype, fn);
    if (rc == MPI_SUCCESS && incount < 0) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", incount);
    }
    if (rc == MPI_SUCCESS) {
        *size = (MPI_Aint)incount * (MPI_Aint)mpi_type(datatype)->size;
    }
    return rc;
}

int PMPI_Pack_external(const char datarep[], const void *inbuf, int incount, MPI_Datatype datatype,
                       void *outbuf, MPI_Aint outsize, MPI_Aint *position)
{
    const char *fn = "MPI_Pack_external";
    MPI_Aint bytes = 0;
    int rc = PMPI_Pack_external_size(datarep, incount, datatype, &bytes);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (*position < 0 || *position + bytes > outsize) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TRUNCATE, fn,
                         "%ld bytes at position %ld do not fit an output of %ld", (long)bytes,
                         (long)*position, (long)outsize);
    }
    unsigned char *out = (unsigned char *)outbuf + *position;
    const mpi_type_t *t = mpi_type(datatype);
    mpi_type_pack(t, (size_t)incount, inbuf, out);
    MPI_Datatype bad = MPI_DATATYPE_NULL;
    if (swap(out, t, (size_t)incount, &bad) < 0) {
        return no_form(bad, fn);
    }
    *position += bytes;
    return MPI_SUCCESS;
}

int PMPI_Unpack_external(const char datarep[], const void *inbuf, MPI_Aint insize,
                         MPI_Aint *position, void *outbuf, int outcount, MPI_Datatype datatype)
{
    const char *fn = "MPI_Unpack_external";
    MPI_Aint bytes = 0;
    int rc = PMPI_Pack_external_size(datarep, outcount, datatype, &bytes);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (*position < 0 || *position + bytes > insize) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TRUNCATE, fn,
                         "%ld bytes wanted at position %ld of an input of %ld", (long)bytes,
                         (long)*position, (long)insize);
    }
    unsigned char *tmp = malloc(bytes ? (size_t)bytes : 1);
    if (tmp == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    memcpy(tmp, (const unsigned char *)inbuf + *position, (size_t)bytes);
    const mpi_type_t *t = mpi_type(datatype);
    MPI_Datatype bad = MPI_DATATYPE_NULL;
    if (swap(tmp, t, (size_t)outcount, &bad) < 0) {
        free(tmp);
        return no_form(bad, fn);
    }
    mpi_type_unpack(t, (size_t)outcount, tmp, (size_t)bytes, outbuf);
    free(tmp);
    *position += bytes;
    return MPI_SUCCESS;
}
