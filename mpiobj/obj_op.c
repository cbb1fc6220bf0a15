/* The reduction kernels: the predefined operations on every predefined type they
 * apply to (MPI_CHAR included, as the other MPIs allow), user functions,
 * and their application to derived types. MPI's order: inout = in op inout. */
#include <complex.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mpiobj.h"

typedef struct mpi_op {
    bool valid, commute;
    MPI_User_function *fn; /* NULL: predefined */
} mpi_op_t;

static mpi_op_t *ops; /* by handle; MPI_MAX .. MPI_NO_OP are predefined */
static int nops;

static const char *const op_names[] = {"MPI_OP_NULL", "MPI_MAX",     "MPI_MIN",  "MPI_SUM",
                                       "MPI_PROD",    "MPI_LAND",    "MPI_BAND", "MPI_LOR",
                                       "MPI_BOR",     "MPI_LXOR",    "MPI_BXOR", "MPI_MAXLOC",
                                       "MPI_MINLOC",  "MPI_REPLACE", "MPI_NO_OP"};

const char *mpi_op_name(MPI_Op op)
{
    return op >= 0 && op <= MPI_NO_OP ? op_names[op] : "a user-defined operation";
}

int mpi_ops_init(void)
{
    nops = MPI_FIRST_USER_OP;
    ops = calloc((size_t)nops, sizeof(*ops));
    if (ops == NULL) {
        return MPI_ERR_NO_MEM;
    }
    for (int o = MPI_MAX; o <= MPI_NO_OP; o++) {
        ops[o] = (mpi_op_t){.valid = true, .commute = true};
    }
    return MPI_SUCCESS;
}

void mpi_ops_fini(void)
{
    free(ops);
    ops = NULL;
    nops = 0;
}

bool mpi_op_valid(MPI_Op op)
{
    return op > 0 && op < nops && ops[op].valid;
}

bool mpi_op_commutes(MPI_Op op)
{
    return mpi_op_valid(op) && ops[op].commute;
}

/* ---- predefined ops on predefined types ---- */

#define LOOP(T, expr)                                                                              \
    do {                                                                                           \
        const T *a = in;                                                                           \
        T *b = inout;                                                                              \
        for (size_t i = 0; i < n; i++) {                                                           \
            b[i] = (T)(expr);                                                                      \
        }                                                                                          \
    } while (0)

/* Returns false when op does not apply to T's kind. */
#define ARITH(T)                                                                                   \
    static bool arith_##T(MPI_Op op, const void *in, void *inout, size_t n)                        \
    {                                                                                              \
        switch (op) {                                                                              \
        case MPI_MAX: LOOP(T, a[i] > b[i] ? a[i] : b[i]); return true;                             \
        case MPI_MIN: LOOP(T, a[i] < b[i] ? a[i] : b[i]); return true;                             \
        case MPI_SUM: LOOP(T, b[i] + a[i]); return true;                                           \
        case MPI_PROD: LOOP(T, b[i] * a[i]); return true;                                          \
        case MPI_LAND: LOOP(T, (b[i] != 0) && (a[i] != 0)); return true;                           \
        case MPI_LOR: LOOP(T, (b[i] != 0) || (a[i] != 0)); return true;                            \
        case MPI_LXOR: LOOP(T, (b[i] != 0) != (a[i] != 0)); return true;                           \
        default: return false;                                                                     \
        }                                                                                          \
    }
#define INTEGER(T)                                                                                 \
    ARITH(T)                                                                                       \
    static bool int_##T(MPI_Op op, const void *in, void *inout, size_t n)                          \
    {                                                                                              \
        switch (op) {                                                                              \
        case MPI_BAND: LOOP(T, b[i] & a[i]); return true;                                          \
        case MPI_BOR: LOOP(T, b[i] | a[i]); return true;                                           \
        case MPI_BXOR: LOOP(T, b[i] ^ a[i]); return true;                                          \
        default: return arith_##T(op, in, inout, n);                                               \
        }                                                                                          \
    }
#define FLOATING(T)                                                                                \
    static bool float_##T(MPI_Op op, const void *in, void *inout, size_t n)                        \
    {                                                                                              \
        switch (op) {                                                                              \
        case MPI_MAX: LOOP(T, a[i] > b[i] ? a[i] : b[i]); return true;                             \
        case MPI_MIN: LOOP(T, a[i] < b[i] ? a[i] : b[i]); return true;                             \
        case MPI_SUM: LOOP(T, b[i] + a[i]); return true;                                           \
        case MPI_PROD: LOOP(T, b[i] * a[i]); return true;                                          \
        default: return false;                                                                     \
        }                                                                                          \
    }
#define COMPLEX(T, name)                                                                           \
    static bool complex_##name(MPI_Op op, const void *in, void *inout, size_t n)                   \
    {                                                                                              \
        switch (op) {                                                                              \
        case MPI_SUM: LOOP(T, b[i] + a[i]); return true;                                           \
        case MPI_PROD: LOOP(T, b[i] * a[i]); return true;                                          \
        default: return false;                                                                     \
        }                                                                                          \
    }
/* MAXLOC/MINLOC: the extreme value; on a tie, the smaller index. */
#define PAIR_LOC(VT, name)                                                                         \
    static bool loc_##name(MPI_Op op, const void *in, void *inout, size_t n)                       \
    {                                                                                              \
        typedef struct {                                                                           \
            VT v;                                                                                  \
            int i;                                                                                 \
        } pair_t;                                                                                  \
        const pair_t *a = in;                                                                      \
        pair_t *b = inout;                                                                         \
        if (op != MPI_MAXLOC && op != MPI_MINLOC) {                                                \
            return false;                                                                          \
        }                                                                                          \
        for (size_t k = 0; k < n; k++) {                                                           \
            bool better = op == MPI_MAXLOC ? a[k].v > b[k].v : a[k].v < b[k].v;                    \
            if (better || (a[k].v == b[k].v && a[k].i < b[k].i)) {                                 \
                b[k] = a[k];                                                                       \
            }                                                                                      \
        }                                                                                          \
        return true;                                                                               \
    }

typedef signed char schar;
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned long ulong;
typedef long long llong;
typedef unsigned long long ullong;
typedef long double ldouble;
typedef float _Complex fcomplex;
typedef double _Complex dcomplex;
typedef long double _Complex ldcomplex;

INTEGER(char)
INTEGER(schar)
INTEGER(uchar)
INTEGER(short)
INTEGER(ushort)
INTEGER(int)
INTEGER(unsigned)
INTEGER(long)
INTEGER(ulong)
INTEGER(llong)
INTEGER(ullong)
INTEGER(wchar_t)
INTEGER(int8_t)
INTEGER(int16_t)
INTEGER(int32_t)
INTEGER(int64_t)
INTEGER(uint8_t)
INTEGER(uint16_t)
INTEGER(uint32_t)
INTEGER(uint64_t)
FLOATING(float)
FLOATING(double)
FLOATING(ldouble)
COMPLEX(fcomplex, float)
COMPLEX(dcomplex, double)
COMPLEX(ldcomplex, ldouble)
PAIR_LOC(float, float)
PAIR_LOC(double, double)
PAIR_LOC(long, long)
PAIR_LOC(int, int)
PAIR_LOC(short, short)
PAIR_LOC(ldouble, ldouble)

static bool bool_op(MPI_Op op, const void *in, void *inout, size_t n)
{
    switch (op) {
    case MPI_LAND: LOOP(bool, b[i] && a[i]); return true;
    case MPI_LOR: LOOP(bool, b[i] || a[i]); return true;
    case MPI_LXOR: LOOP(bool, b[i] != a[i]); return true;
    default: return false;
    }
}

static bool byte_op(MPI_Op op, const void *in, void *inout, size_t n)
{
    switch (op) {
    case MPI_BAND: LOOP(uchar, b[i] & a[i]); return true;
    case MPI_BOR: LOOP(uchar, b[i] | a[i]); return true;
    case MPI_BXOR: LOOP(uchar, b[i] ^ a[i]); return true;
    default: return false;
    }
}

/* n elements of predefined type; false when op does not apply to it. */
static bool apply_predefined(MPI_Op op, MPI_Datatype type, const void *in, void *inout, size_t n)
{
    if (op == MPI_NO_OP) {
        return true;
    }
    if (op == MPI_REPLACE) {
        memmove(inout, in, n * mpi_type_size(type));
        return true;
    }
    switch (type) {
    case MPI_CHAR: return int_char(op, in, inout, n);
    case MPI_SIGNED_CHAR: return int_schar(op, in, inout, n);
    case MPI_UNSIGNED_CHAR: return int_uchar(op, in, inout, n);
    case MPI_BYTE: return byte_op(op, in, inout, n);
    case MPI_SHORT: return int_short(op, in, inout, n);
    case MPI_UNSIGNED_SHORT: return int_ushort(op, in, inout, n);
    case MPI_INT: return int_int(op, in, inout, n);
    case MPI_UNSIGNED: return int_unsigned(op, in, inout, n);
    case MPI_LONG: return int_long(op, in, inout, n);
    case MPI_UNSIGNED_LONG: return int_ulong(op, in, inout, n);
    case MPI_LONG_LONG_INT: return int_llong(op, in, inout, n);
    case MPI_UNSIGNED_LONG_LONG: return int_ullong(op, in, inout, n);
    case MPI_WCHAR: return int_wchar_t(op, in, inout, n);
    case MPI_INT8_T: return int_int8_t(op, in, inout, n);
    case MPI_INT16_T: return int_int16_t(op, in, inout, n);
    case MPI_INT32_T: return int_int32_t(op, in, inout, n);
    case MPI_INT64_T: return int_int64_t(op, in, inout, n);
    case MPI_UINT8_T: return int_uint8_t(op, in, inout, n);
    case MPI_UINT16_T: return int_uint16_t(op, in, inout, n);
    case MPI_UINT32_T: return int_uint32_t(op, in, inout, n);
    case MPI_UINT64_T: return int_uint64_t(op, in, inout, n);
    case MPI_AINT: return int_long(op, in, inout, n);
    case MPI_OFFSET:
    case MPI_COUNT: return int_llong(op, in, inout, n);
    case MPI_FLOAT: return float_float(op, in, inout, n);
    case MPI_DOUBLE: return float_double(op, in, inout, n);
    case MPI_LONG_DOUBLE: return float_ldouble(op, in, inout, n);
    case MPI_C_BOOL: return bool_op(op, in, inout, n);
    case MPI_C_COMPLEX:
    case MPI_C_FLOAT_COMPLEX: return complex_float(op, in, inout, n);
    case MPI_C_DOUBLE_COMPLEX: return complex_double(op, in, inout, n);
    case MPI_C_LONG_DOUBLE_COMPLEX: return complex_ldouble(op, in, inout, n);
    case MPI_FLOAT_INT: return loc_float(op, in, inout, n);
    case MPI_DOUBLE_INT: return loc_double(op, in, inout, n);
    case MPI_LONG_INT: return loc_long(op, in, inout, n);
    case MPI_2INT: return loc_int(op, in, inout, n);
    case MPI_SHORT_INT: return loc_short(op, in, inout, n);
    case MPI_LONG_DOUBLE_INT: return loc_ldouble(op, in, inout, n);
    default: return false;
    }
}

void mpi_op_apply(MPI_Op op, const void *in, void *inout, size_t count, MPI_Datatype type)
{
    if (count == 0) {
        return;
    }
    const mpi_type_t *t = mpi_type(type);
    if (ops[op].fn != NULL) {
        /* User functions see the user's layout and type; chunks keep len an int. */
        for (size_t done = 0; done < count;) {
            size_t chunk = count - done < (size_t)INT_MAX ? count - done : (size_t)INT_MAX;
            int len = (int)chunk;
            MPI_Datatype dt = type;
            ops[op].fn((char *)(uintptr_t)in + (MPI_Aint)done * t->extent,
                       (char *)inout + (MPI_Aint)done * t->extent, &len, &dt);
            done += chunk;
        }
        return;
    }
    size_t esize = mpi_type_size(t->base);
    if (mpi_type_contiguous(t)) { /* one run of count * base_count elements */
        apply_predefined(op, t->base, in, inout, count * t->size / esize);
        return;
    }
    if (mpi_type_is_pair(t->base)) {
        /* Pair elements keep their own blocks (1 or 2 each, never merged). */
        size_t per = mpi_type(t->base)->nblocks;
        for (size_t i = 0; i < count; i++) {
            MPI_Aint at = (MPI_Aint)i * t->extent;
            for (size_t b = 0; b + per <= t->nblocks; b += per) {
                MPI_Aint d = at + t->blocks[b].disp;
                apply_predefined(op, t->base, (const char *)in + d, (char *)inout + d, 1);
            }
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        MPI_Aint at = (MPI_Aint)i * t->extent;
        for (size_t b = 0; b < t->nblocks; b++) {
            MPI_Aint d = at + t->blocks[b].disp;
            apply_predefined(op, t->base, (const char *)in + d, (char *)inout + d,
                             t->blocks[b].len / esize);
        }
    }
}

bool mpi_op_is_user(MPI_Op op)
{
    return mpi_op_valid(op) && ops[op].fn != NULL;
}

bool mpi_op_fits(MPI_Op op, const mpi_type_t *t)
{
    if (mpi_op_is_user(op) || t->size == 0 || op == MPI_REPLACE || op == MPI_NO_OP) {
        return true; /* user functions take any type */
    }
    char probe_in[64] = {0}, probe_out[64] = {0};
    return t->base != MPI_DATATYPE_NULL && mpi_type_size(t->base) <= sizeof(probe_in) &&
           apply_predefined(op, t->base, probe_in, probe_out, 1);
}

int mpi_op_new(MPI_User_function *user_fn, bool commute, MPI_Op *out)
{
    int h = MPI_FIRST_USER_OP;
    while (h < nops && ops[h].valid) {
        h++;
    }
    if (h == nops) {
        mpi_op_t *grown = realloc(ops, (size_t)(2 * nops) * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        memset(grown + nops, 0, (size_t)nops * sizeof(*grown));
        ops = grown;
        nops *= 2;
    }
    ops[h] = (mpi_op_t){.valid = true, .commute = commute, .fn = user_fn};
    *out = h;
    return 0;
}

void mpi_op_delete(MPI_Op op)
{
    ops[op].valid = false;
}
