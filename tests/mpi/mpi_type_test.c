/* Array datatypes (subarray, darray), Fortran-90 kind types and datatype
 * attributes. Every layout is checked element by element against
 * positions computed here by loops over the array, not by MPI: MPI_Pack
 * of an array holding each element's index must give the indices the
 * loops select, in their order. Prints "rank R: N checks passed". */
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

#define MAXD 4

/* Packs one instance of t over an int array whose elements are their
 * indices; returns how many ints came out (into out). */
static int pack_indices(MPI_Datatype t, int total, int *out, int cap)
{
    int *arr = malloc((size_t)total * sizeof(int)), pos = 0, bytes;
    for (int i = 0; i < total; i++) {
        arr[i] = i;
    }
    MPI_Type_size(t, &bytes);
    CHECK(bytes / (int)sizeof(int) <= cap, "type of %d bytes", bytes);
    MPI_Pack(arr, 1, t, out, cap * (int)sizeof(int), &pos, MPI_COMM_WORLD);
    free(arr);
    return pos / (int)sizeof(int);
}

/* Linear index of multi-index idx in an array of sizes, in order. */
static int linear(int nd, const int *sizes, const int *idx, int order)
{
    int lin = 0;
    for (int k = 0; k < nd; k++) {
        int d = order == MPI_ORDER_C ? k : nd - 1 - k; /* slowest first */
        lin = lin * sizes[d] + idx[d];
    }
    return lin;
}

/* Steps idx through the array of sizes, fastest dimension first; false at the end. */
static bool next_index(int nd, const int *sizes, int *idx, int order)
{
    for (int k = 0; k < nd; k++) {
        int d = order == MPI_ORDER_C ? nd - 1 - k : k;
        if (++idx[d] < sizes[d]) {
            return true;
        }
        idx[d] = 0;
    }
    return false;
}

static void check_subarray(int nd, const int *sizes, const int *sub, const int *starts, int order)
{
    MPI_Datatype t;
    MPI_Type_create_subarray(nd, sizes, sub, starts, order, MPI_INT, &t);
    MPI_Type_commit(&t);
    int total = 1, want_n = 0, idx[MAXD] = {0};
    for (int d = 0; d < nd; d++) {
        total *= sizes[d];
    }
    int *want = malloc((size_t)total * sizeof(int)), *got = malloc((size_t)total * sizeof(int));
    do {
        bool in = true;
        for (int d = 0; d < nd; d++) {
            in = in && idx[d] >= starts[d] && idx[d] < starts[d] + sub[d];
        }
        if (in) {
            want[want_n++] = linear(nd, sizes, idx, order);
        }
    } while (next_index(nd, sizes, idx, order));
    int n = pack_indices(t, total, got, total);
    CHECK(n == want_n, "subarray packs %d ints, want %d", n, want_n);
    for (int i = 0; i < n; i++) {
        CHECK(got[i] == want[i], "subarray element %d is %d, want %d", i, got[i], want[i]);
    }
    MPI_Aint lb, extent;
    MPI_Type_get_extent(t, &lb, &extent);
    CHECK(lb == 0 && extent == (MPI_Aint)total * (MPI_Aint)sizeof(int), "subarray bounds %ld %ld",
          (long)lb, (long)extent);
    int ni, na, nt, comb, ints[4 * MAXD + 4];
    MPI_Aint aints[1];
    MPI_Datatype types[1];
    MPI_Type_get_envelope(t, &ni, &na, &nt, &comb);
    CHECK(comb == MPI_COMBINER_SUBARRAY && ni == 3 * nd + 2 && na == 0 && nt == 1,
          "subarray envelope %d %d %d %d", comb, ni, na, nt);
    MPI_Type_get_contents(t, ni, na, nt, ints, aints, types);
    CHECK(ints[0] == nd && ints[1] == sizes[0] && ints[1 + nd] == sub[0] &&
              ints[1 + 2 * nd] == starts[0] && ints[3 * nd + 1] == order && types[0] == MPI_INT,
          "subarray contents");
    /* Through a message: the receiver's array changes at the block only. */
    int peer_to = (rank + 1) % size, peer_from = (rank - 1 + size) % size;
    int *dst = malloc((size_t)total * sizeof(int)), *src = malloc((size_t)total * sizeof(int));
    for (int i = 0; i < total; i++) {
        src[i] = 1000 * rank + i, dst[i] = -1;
    }
    MPI_Sendrecv(src, 1, t, peer_to, 5, dst, 1, t, peer_from, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    char *mark = calloc((size_t)total, 1);
    for (int i = 0; i < want_n; i++) {
        mark[want[i]] = 1;
    }
    for (int i = 0; i < total; i++) {
        int w = mark[i] ? 1000 * peer_from + i : -1;
        CHECK(dst[i] == w, "received subarray [%d] = %d, want %d", i, dst[i], w);
    }
    free(mark), free(dst), free(src), free(want), free(got);
    MPI_Type_free(&t);
}

/* Who owns global index i of one dimension: the process coordinate, or
 * -1 for every coordinate (not distributed). */
static int owner(int i, int gsize, int distrib, int darg, int psize)
{
    if (distrib == MPI_DISTRIBUTE_NONE) {
        return -1;
    }
    if (distrib == MPI_DISTRIBUTE_BLOCK) {
        int blk = darg == MPI_DISTRIBUTE_DFLT_DARG ? (gsize + psize - 1) / psize : darg;
        return i / blk;
    }
    int blk = darg == MPI_DISTRIBUTE_DFLT_DARG ? 1 : darg;
    return (i / blk) % psize;
}

static void check_darray(int nd, const int *gsizes, const int *distribs, const int *dargs,
                         const int *psizes, int order)
{
    int procs = 1, total = 1, seen = 0;
    for (int d = 0; d < nd; d++) {
        procs *= psizes[d], total *= gsizes[d];
    }
    int *want = malloc((size_t)total * sizeof(int)), *got = malloc((size_t)total * sizeof(int));
    for (int r = 0; r < procs; r++) {
        int coords[MAXD], idx[MAXD] = {0}, want_n = 0;
        for (int d = nd - 1, x = r; d >= 0; d--) { /* the grid is row-major */
            coords[d] = x % psizes[d];
            x /= psizes[d];
        }
        do {
            bool mine = true;
            for (int d = 0; d < nd; d++) {
                int o = owner(idx[d], gsizes[d], distribs[d], dargs[d], psizes[d]);
                mine = mine && (o < 0 || o == coords[d]);
            }
            if (mine) {
                want[want_n++] = linear(nd, gsizes, idx, order);
            }
        } while (next_index(nd, gsizes, idx, order));
        MPI_Datatype t;
        MPI_Type_create_darray(procs, r, nd, gsizes, distribs, dargs, psizes, order, MPI_INT, &t);
        MPI_Type_commit(&t);
        int n = pack_indices(t, total, got, total);
        CHECK(n == want_n, "darray (rank %d of %d, order %d) packs %d ints, want %d", r, procs,
              order, n, want_n);
        for (int i = 0; i < n && i < want_n; i++) {
            CHECK(got[i] == want[i], "darray rank %d element %d is %d, want %d", r, i, got[i],
                  want[i]);
        }
        MPI_Aint lb, extent;
        MPI_Type_get_extent(t, &lb, &extent);
        CHECK(lb == 0 && extent == (MPI_Aint)total * (MPI_Aint)sizeof(int), "darray bounds");
        int ni, na, nt, comb;
        MPI_Type_get_envelope(t, &ni, &na, &nt, &comb);
        CHECK(comb == MPI_COMBINER_DARRAY && ni == 4 * nd + 4 && nt == 1, "darray envelope");
        MPI_Type_free(&t);
        seen += want_n;
    }
    bool none = false;
    for (int d = 0; d < nd; d++) {
        none = none || distribs[d] == MPI_DISTRIBUTE_NONE;
    }
    CHECK(none || seen == total, "the ranks' parts cover %d of %d elements", seen, total);
    free(want), free(got);
}

static void test_array_types(void)
{
    int sizes[3] = {4, 5, 6}, sub[3] = {2, 3, 2}, starts[3] = {1, 1, 3};
    check_subarray(3, sizes, sub, starts, MPI_ORDER_C);
    check_subarray(3, sizes, sub, starts, MPI_ORDER_FORTRAN);
    int s1[1] = {9}, u1[1] = {9}, t1[1] = {0};
    check_subarray(1, s1, u1, t1, MPI_ORDER_C);
    int s2[2] = {3, 7}, u2[2] = {1, 4}, t2[2] = {2, 3};
    check_subarray(2, s2, u2, t2, MPI_ORDER_FORTRAN);

    const int B = MPI_DISTRIBUTE_BLOCK, C = MPI_DISTRIBUTE_CYCLIC, N = MPI_DISTRIBUTE_NONE;
    const int D = MPI_DISTRIBUTE_DFLT_DARG;
    int g[2] = {7, 10};
    struct {
        int distribs[2], dargs[2];
    } kinds[] = {{{B, B}, {D, D}}, {{C, B}, {2, D}}, {{B, C}, {3, 3}}, {{C, C}, {D, 4}}};
    for (int procs = 1; procs <= 6; procs++) {
        for (int p0 = 1; p0 <= procs; p0++) {
            if (procs % p0 != 0) {
                continue;
            }
            int ps[2] = {p0, procs / p0};
            for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                for (int order = MPI_ORDER_C; order <= MPI_ORDER_FORTRAN; order++) {
                    bool fits = true; /* an explicit block must cover its dimension */
                    for (int d = 0; d < 2; d++) {
                        fits = fits && !(kinds[k].distribs[d] == B && kinds[k].dargs[d] != D &&
                                         kinds[k].dargs[d] * ps[d] < g[d]);
                    }
                    if (fits) {
                        check_darray(2, g, kinds[k].distribs, kinds[k].dargs, ps, order);
                    }
                }
            }
        }
    }
    int g3[3] = {5, 4, 6}, dist3[3] = {N, C, B}, darg3[3] = {D, 1, D}, ps3[3] = {1, 2, 3};
    check_darray(3, g3, dist3, darg3, ps3, MPI_ORDER_C);
    check_darray(3, g3, dist3, darg3, ps3, MPI_ORDER_FORTRAN);

    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Datatype bad;
    int small[2] = {2, 2}, bb[2] = {B, B}, bp[2] = {2, 1};
    CHECK(MPI_Type_create_darray(2, 0, 2, g, bb, small, bp, MPI_ORDER_C, MPI_INT, &bad) ==
              MPI_ERR_ARG,
          "a block of 2 on 2 processes cannot cover 7");
    CHECK(MPI_Type_create_darray(3, 0, 2, g, bb, small, bp, MPI_ORDER_C, MPI_INT, &bad) ==
              MPI_ERR_ARG,
          "grid of 2 for size 3");
    int over[3] = {2, 5, 2}; /* 1 + 5 > 5 */
    CHECK(MPI_Type_create_subarray(3, sizes, over, starts, MPI_ORDER_C, MPI_INT, &bad) ==
              MPI_ERR_ARG,
          "subarray past its array");
    CHECK(MPI_Type_create_subarray(3, sizes, sub, starts, 77, MPI_INT, &bad) == MPI_ERR_ARG,
          "order 77");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

static void test_f90(void)
{
    MPI_Datatype r4, r4b, r8, c16, i4, i8;
    MPI_Type_create_f90_real(6, 30, &r4);
    MPI_Type_create_f90_real(6, 30, &r4b);
    MPI_Type_create_f90_real(15, MPI_UNDEFINED, &r8);
    MPI_Type_create_f90_complex(10, MPI_UNDEFINED, &c16);
    MPI_Type_create_f90_integer(5, &i4);
    MPI_Type_create_f90_integer(18, &i8);
    int s[5];
    MPI_Type_size(r4, &s[0]), MPI_Type_size(r8, &s[1]), MPI_Type_size(c16, &s[2]);
    MPI_Type_size(i4, &s[3]), MPI_Type_size(i8, &s[4]);
    CHECK(s[0] == 4 && s[1] == 8 && s[2] == 16 && s[3] == 4 && s[4] == 8,
          "f90 sizes %d %d %d %d %d", s[0], s[1], s[2], s[3], s[4]);
    CHECK(r4 == r4b, "the same arguments give the same type");
    int ni, na, nt, comb, ints[2];
    MPI_Type_get_envelope(r4, &ni, &na, &nt, &comb);
    CHECK(comb == MPI_COMBINER_F90_REAL && ni == 2 && na == 0 && nt == 0, "f90 real envelope");
    MPI_Type_get_contents(r4, 2, 0, 0, ints, NULL, NULL);
    CHECK(ints[0] == 6 && ints[1] == 30, "f90 real contents %d %d", ints[0], ints[1]);
    MPI_Type_get_envelope(i8, &ni, &na, &nt, &comb);
    CHECK(comb == MPI_COMBINER_F90_INTEGER && ni == 1, "f90 integer envelope");
    /* They carry data like the C types they stand for. */
    double v[3] = {1.5, -2.25, 1e300}, w[3] = {0, 0, 0};
    MPI_Sendrecv(v, 3, r8, 0, 9, w, 3, r8, 0, 9, MPI_COMM_SELF, MPI_STATUS_IGNORE);
    CHECK(memcmp(v, w, sizeof(v)) == 0, "f90 real(15) carries doubles");
    long long big = 1LL << 40, sum = 0; /* times 16 ranks still fits */
    MPI_Allreduce(&big, &sum, 1, i8, MPI_SUM, MPI_COMM_WORLD);
    CHECK(sum == big * size, "f90 integer(18) reduces as a 64-bit integer");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Datatype bad;
    CHECK(MPI_Type_create_f90_real(30, 10, &bad) == MPI_ERR_ARG, "real p 30");
    CHECK(MPI_Type_create_f90_real(MPI_UNDEFINED, MPI_UNDEFINED, &bad) == MPI_ERR_ARG,
          "real p and r undefined");
    CHECK(MPI_Type_create_f90_integer(19, &bad) == MPI_ERR_ARG, "integer r 19");
    CHECK(MPI_Type_free(&r4) == MPI_ERR_TYPE, "an f90 type cannot be freed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

static int copies, deletes;

static int copy_plus_one(MPI_Datatype t, int k, void *extra, void *in, void *out, int *flag)
{
    (void)t, (void)k;
    CHECK(extra == &copies, "extra state");
    copies++;
    *(long *)out = (long)in + 1; /* the attribute is an integer carried in the pointer */
    *flag = 1;
    return MPI_SUCCESS;
}

static int count_delete(MPI_Datatype t, int k, void *val, void *extra)
{
    (void)t, (void)k, (void)val, (void)extra;
    deletes++;
    return MPI_SUCCESS;
}

static void test_type_attrs(void)
{
    int k1, k2, flag;
    void *val;
    MPI_Datatype t, d;
    MPI_Type_create_keyval(copy_plus_one, count_delete, &k1, &copies);
    MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &k2, NULL);
    MPI_Type_contiguous(3, MPI_INT, &t);
    MPI_Type_set_attr(t, k1, (void *)41L);
    MPI_Type_set_attr(t, k2, (void *)7L);
    MPI_Type_dup(t, &d);
    CHECK(copies == 1, "copy callback ran %d times", copies);
    MPI_Type_get_attr(d, k1, &val, &flag);
    CHECK(flag && (long)val == 42, "dup's attribute %ld", (long)val);
    MPI_Type_get_attr(d, k2, &val, &flag);
    CHECK(!flag, "MPI_TYPE_NULL_COPY_FN copies nothing");
    MPI_Type_get_attr(t, k2, &val, &flag);
    CHECK(flag && (long)val == 7, "original keeps its attribute");
    MPI_Type_set_attr(t, k1, (void *)5L); /* replacing deletes the old value */
    CHECK(deletes == 1, "replace ran delete (%d)", deletes);
    MPI_Type_delete_attr(t, k1);
    CHECK(deletes == 2, "delete_attr ran delete (%d)", deletes);
    MPI_Type_free(&d);
    CHECK(deletes == 3, "type free ran delete (%d)", deletes);
    MPI_Type_set_attr(MPI_INT, k2, (void *)9L); /* predefined types take attributes too */
    MPI_Type_get_attr(MPI_INT, k2, &val, &flag);
    CHECK(flag && (long)val == 9, "attribute on MPI_INT");
    MPI_Type_delete_attr(MPI_INT, k2);
    MPI_Type_free(&t);
    MPI_Type_free_keyval(&k1);
    CHECK(k1 == MPI_KEYVAL_INVALID, "freed keyval");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    CHECK(MPI_Type_set_attr(MPI_INT, 12345, NULL) == MPI_ERR_KEYVAL, "unknown keyval");
    CHECK(MPI_Type_delete_attr(MPI_INT, k2) == MPI_ERR_KEYVAL, "no value to delete");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Type_free_keyval(&k2);
}

/* Big-endian bytes of v (n bytes), computed by shifts, not by MPI. */
static void be(unsigned long long v, int n, unsigned char *out)
{
    for (int i = 0; i < n; i++) {
        out[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    }
}

static unsigned long long bits_of_double(double d)
{
    unsigned long long u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static void test_pack_external(void)
{
    struct rec {
        int a;
        double b;
        short c[3];
        double z[2]; /* a C double complex's real and imaginary parts */
    } in = {0x01020304, -1.5, {0x0a0b, 0x0c0d, -2}, {1.0, -2.0}}, out;
    MPI_Datatype rec, t[4] = {MPI_INT, MPI_DOUBLE, MPI_SHORT, MPI_C_DOUBLE_COMPLEX};
    int bl[4] = {1, 1, 3, 1};
    MPI_Aint disp[4] = {offsetof(struct rec, a), offsetof(struct rec, b), offsetof(struct rec, c),
                        offsetof(struct rec, z)};
    MPI_Type_create_struct(4, bl, disp, t, &rec);
    MPI_Type_commit(&rec);
    MPI_Aint ext_size, pos = 0;
    MPI_Pack_external_size("external32", 2, rec, &ext_size);
    CHECK(ext_size == 2 * (4 + 8 + 6 + 16), "external32 size %ld", (long)ext_size);
    unsigned char buf[128], want[64];
    struct rec two[2] = {in, in};
    two[1].a = 7;
    MPI_Pack_external("external32", two, 2, rec, buf, sizeof(buf), &pos);
    CHECK(pos == ext_size, "position %ld", (long)pos);
    be(0x01020304, 4, want);
    be(bits_of_double(-1.5), 8, want + 4);
    be(0x0a0b, 2, want + 12), be(0x0c0d, 2, want + 14), be(0xfffe, 2, want + 16);
    be(bits_of_double(1.0), 8, want + 18), be(bits_of_double(-2.0), 8, want + 26);
    CHECK(memcmp(buf, want, 34) == 0, "external32 bytes of the first record");
    be(7, 4, want);
    CHECK(memcmp(buf + 34, want, 4) == 0, "external32 bytes of the second record's int");
    MPI_Aint back = 0;
    struct rec got[2];
    memset(got, 0, sizeof(got));
    MPI_Unpack_external("external32", buf, pos, &back, got, 2, rec);
    CHECK(back == pos && got[0].a == in.a && got[0].b == in.b && got[0].c[2] == -2 &&
              got[0].z[1] == -2.0 && got[1].a == 7,
          "unpacked records");
    (void)out;
    /* A homogeneous type of pairs, and an f90 integer. */
    MPI_Datatype v, i9;
    MPI_Type_vector(2, 1, 2, MPI_DOUBLE_INT, &v);
    MPI_Type_commit(&v);
    struct {
        double d;
        int i;
    } pairs[3] = {{2.0, 1}, {0, 0}, {4.0, 0x11223344}};
    pos = 0;
    MPI_Pack_external("external32", pairs, 1, v, buf, sizeof(buf), &pos);
    be(bits_of_double(2.0), 8, want), be(1, 4, want + 8);
    be(bits_of_double(4.0), 8, want + 12), be(0x11223344, 4, want + 20);
    CHECK(pos == 24 && memcmp(buf, want, 24) == 0, "external32 of a vector of MPI_DOUBLE_INT");
    MPI_Type_create_f90_integer(9, &i9);
    int n = 0x0badf00d;
    pos = 0;
    MPI_Pack_external("external32", &n, 1, i9, buf, sizeof(buf), &pos);
    be(0x0badf00d, 4, want);
    CHECK(pos == 4 && memcmp(buf, want, 4) == 0, "external32 of an f90 integer");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    long double ld = 1;
    pos = 0;
    CHECK(MPI_Pack_external("external32", &ld, 1, MPI_LONG_DOUBLE, buf, sizeof(buf), &pos) ==
              MPI_ERR_TYPE,
          "long double has no external32 form here");
    CHECK(MPI_Pack_external("native", &n, 1, MPI_INT, buf, sizeof(buf), &pos) == MPI_ERR_ARG,
          "datarep native");
    pos = 126;
    CHECK(MPI_Pack_external("external32", &n, 1, MPI_INT, buf, sizeof(buf), &pos) ==
              MPI_ERR_TRUNCATE,
          "past the end of the output");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Type_free(&v);
    MPI_Type_free(&rec);
}

/* A struct type outlives the handles of its parts. */
static void test_parts_outlive_handles(void)
{
    MPI_Datatype inner, outer;
    MPI_Type_vector(2, 1, 3, MPI_INT, &inner);
    int bl[2] = {1, 1};
    MPI_Aint disp[2] = {0, 6 * sizeof(int)};
    MPI_Datatype types[2] = {inner, MPI_INT};
    MPI_Type_create_struct(2, bl, disp, types, &outer);
    MPI_Type_free(&inner);
    MPI_Type_commit(&outer);
    int src[7] = {1, 2, 3, 4, 5, 6, 7}, packed[3], pos = 0;
    MPI_Pack(src, 1, outer, packed, sizeof(packed), &pos, MPI_COMM_WORLD);
    CHECK(pos == 12 && packed[0] == 1 && packed[1] == 4 && packed[2] == 7, "packed %d %d %d",
          packed[0], packed[1], packed[2]);
    unsigned char ext[12], want[12];
    MPI_Aint epos = 0;
    MPI_Pack_external("external32", src, 1, outer, ext, sizeof(ext), &epos);
    be(1, 4, want), be(4, 4, want + 4), be(7, 4, want + 8);
    CHECK(epos == 12 && memcmp(ext, want, 12) == 0, "external32 through a freed part");
    MPI_Type_free(&outer);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    test_array_types();
    test_f90();
    test_type_attrs();
    test_pack_external();
    test_parts_outlive_handles();
    checks_passed();
    MPI_Finalize();
    return 0;
}
