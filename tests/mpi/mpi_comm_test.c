/* An ordinary MPI program exercising communicators, groups, attributes,
 * intercommunicators, topologies and derived datatypes (also through
 * point-to-point and collectives). Prints "rank R: N checks passed". */
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

static void type_shape(MPI_Datatype t, int size_e, long lb_e, long extent_e, const char *what)
{
    int sz;
    MPI_Aint lb, ext;
    MPI_Type_size(t, &sz);
    MPI_Type_get_extent(t, &lb, &ext);
    CHECK(sz == size_e && lb == lb_e && ext == extent_e, "%s: size %d lb %ld extent %ld", what, sz,
          (long)lb, (long)ext);
}

struct particle {
    double x[3];
    char tag;
    int id;
};

/* Basic elements in bytes of data of one struct rec after another, one
 * by one (MPI_UNDEFINED when the data ends inside an element). */
static int elements_by_hand(int bytes)
{
    static const int sizes[] = {4, 4, 4, 8, 8,
                                1, 1, 1, 1, 1}; /* int a[3]; double b[2]; char c[5] */
    int n = 0;
    for (int i = 0; bytes > 0; i = (i + 1) % 10) {
        if (bytes < sizes[i]) {
            return MPI_UNDEFINED;
        }
        bytes -= sizes[i];
        n++;
    }
    return n;
}

/* Element counts of received data cut short, and the pair types' sizes. */
static void test_elements(void)
{
    struct ldi {
        long double v;
        int i;
    };
    int bl2[2] = {1, 1}, s_pair, s_built;
    MPI_Aint d2[2] = {offsetof(struct ldi, v), offsetof(struct ldi, i)};
    MPI_Datatype t2[2] = {MPI_LONG_DOUBLE, MPI_INT}, built;
    MPI_Type_create_struct(2, bl2, d2, t2, &built);
    MPI_Type_size(MPI_LONG_DOUBLE_INT, &s_pair);
    MPI_Type_size(built, &s_built);
    CHECK(s_pair == s_built && s_built == (int)(sizeof(long double) + sizeof(int)),
          "MPI_LONG_DOUBLE_INT size %d, a struct of long double and int %d", s_pair, s_built);
    MPI_Type_free(&built);

    struct rec {
        int a[3];
        double b[2];
        char c[5];
    };
    int bl[3] = {3, 2, 5};
    MPI_Aint dis[3] = {offsetof(struct rec, a), offsetof(struct rec, b), offsetof(struct rec, c)};
    MPI_Datatype tys[3] = {MPI_INT, MPI_DOUBLE, MPI_CHAR}, rec_t;
    MPI_Type_create_struct(3, bl, dis, tys, &rec_t);
    MPI_Type_commit(&rec_t);
    unsigned char bytes[4 * 33];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (unsigned char)i;
    }
    struct rec got[4];
    const int cuts[] = {33, 2 * 33, 33 + 12 + 8, 2 * 33 + 12 + 16 + 3, 12 + 2, 0, 4 * 33, 33 + 6};
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        MPI_Status st;
        MPI_Sendrecv(bytes, cuts[k], MPI_BYTE, rank, 7, got, 4, rec_t, rank, 7, MPI_COMM_WORLD,
                     &st);
        int n, count, want = elements_by_hand(cuts[k]);
        MPI_Get_elements(&st, rec_t, &n);
        MPI_Get_count(&st, rec_t, &count);
        CHECK(n == want, "%d bytes of struct rec: %d elements, by hand %d", cuts[k], n, want);
        CHECK(count == (cuts[k] % 33 ? MPI_UNDEFINED : cuts[k] / 33), "%d bytes: count %d", cuts[k],
              count);
    }
    /* A status made by hand (generalized requests, tools) says the same. */
    MPI_Status made;
    MPI_Count nx;
    int n, count;
    for (int e = 0; e <= 25; e++) {
        MPI_Status_set_elements(&made, rec_t, e);
        MPI_Get_elements(&made, rec_t, &n);
        MPI_Get_elements_x(&made, rec_t, &nx);
        MPI_Get_count(&made, rec_t, &count);
        CHECK(n == e && nx == e && count == (e % 10 ? MPI_UNDEFINED : e / 10),
              "status set to %d elements: %d, %lld, count %d", e, n, (long long)nx, count);
    }
    MPI_Status_set_cancelled(&made, 1);
    MPI_Test_cancelled(&made, &n);
    CHECK(n == 1, "MPI_Status_set_cancelled");
    MPI_Count lbx, extx;
    MPI_Aint lb, ext;
    MPI_Type_get_extent_x(rec_t, &lbx, &extx);
    MPI_Type_get_extent(rec_t, &lb, &ext);
    CHECK(lbx == lb && extx == ext && ext == (MPI_Aint)sizeof(struct rec), "extent_x %lld",
          (long long)extx);
    MPI_Type_free(&rec_t);
    MPI_Datatype m1, m2, m3;
    MPI_Type_match_size(MPI_TYPECLASS_REAL, 8, &m1);
    MPI_Type_match_size(MPI_TYPECLASS_INTEGER, 4, &m2);
    MPI_Type_match_size(MPI_TYPECLASS_COMPLEX, 8, &m3);
    CHECK(m1 == MPI_DOUBLE && m2 == MPI_INT32_T && m3 == MPI_C_FLOAT_COMPLEX,
          "MPI_Type_match_size");

    /* A pair is two elements: 20 bytes of MPI_DOUBLE_INT (12 each) are a
     * pair and a double; 2 MPI_2INT are 4 ints. */
    struct {
        double v;
        int i;
    } di[2];
    MPI_Status st;
    MPI_Sendrecv(bytes, 20, MPI_BYTE, rank, 8, di, 2, MPI_DOUBLE_INT, rank, 8, MPI_COMM_WORLD, &st);
    MPI_Get_elements(&st, MPI_DOUBLE_INT, &n);
    CHECK(n == 3, "20 bytes of MPI_DOUBLE_INT: %d elements, not 3", n);
    int two[4], ints[4] = {1, 2, 3, 4};
    MPI_Sendrecv(ints, 2, MPI_2INT, rank, 9, two, 2, MPI_2INT, rank, 9, MPI_COMM_WORLD, &st);
    MPI_Get_elements(&st, MPI_2INT, &n);
    CHECK(n == 4 && two[3] == 4, "2 MPI_2INT: %d elements, not 4", n);
    /* An empty message may name MPI_DATATYPE_NULL. */
    MPI_Sendrecv(NULL, 0, MPI_DATATYPE_NULL, rank, 10, NULL, 0, MPI_DATATYPE_NULL, rank, 10,
                 MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &n);
    CHECK(n == 0 && st.MPI_SOURCE == rank, "empty message of MPI_DATATYPE_NULL: count %d", n);
}

static void test_datatypes(void)
{
    test_elements();
    MPI_Datatype c, v, hv, ix, hix, ib, st, rs, dp;
    MPI_Type_contiguous(3, MPI_INT, &c);
    type_shape(c, 12, 0, 12, "contiguous");
    MPI_Type_vector(3, 2, 4, MPI_INT, &v); /* xx..xx..xx */
    type_shape(v, 24, 0, 40, "vector");
    MPI_Type_create_hvector(2, 1, 16, MPI_DOUBLE, &hv);
    type_shape(hv, 16, 0, 24, "hvector");
    int bl[3] = {1, 2, 1}, dis[3] = {4, 0, 7};
    MPI_Type_indexed(3, bl, dis, MPI_INT, &ix);
    type_shape(ix, 16, 0, 32, "indexed (unordered)");
    MPI_Aint hdis[2] = {8, 0};
    int hbl[2] = {1, 1};
    MPI_Type_create_hindexed(2, hbl, hdis, MPI_INT, &hix);
    type_shape(hix, 8, 0, 12, "hindexed");
    int ibd[2] = {3, 1};
    MPI_Type_create_indexed_block(2, 2, ibd, MPI_SHORT, &ib);
    type_shape(ib, 8, 2, 8, "indexed_block");
    int sbl[3] = {3, 1, 1};
    MPI_Aint sdis[3] = {offsetof(struct particle, x), offsetof(struct particle, tag),
                        offsetof(struct particle, id)};
    MPI_Datatype sty[3] = {MPI_DOUBLE, MPI_CHAR, MPI_INT};
    MPI_Type_create_struct(3, sbl, sdis, sty, &st);
    type_shape(st, 29, 0, (long)sizeof(struct particle), "struct padded like C");
    MPI_Type_create_resized(MPI_INT, -4, 16, &rs);
    type_shape(rs, 4, -4, 16, "resized");
    MPI_Type_dup(v, &dp);
    type_shape(dp, 24, 0, 40, "dup");
    MPI_Aint tlb, text;
    MPI_Type_get_true_extent(ib, &tlb, &text);
    CHECK(tlb == 2 && text == 8, "indexed_block true extent %ld %ld", (long)tlb, (long)text);
    int ni, na, nt, comb;
    MPI_Type_get_envelope(v, &ni, &na, &nt, &comb);
    CHECK(comb == MPI_COMBINER_VECTOR && ni == 3 && na == 0 && nt == 1, "vector envelope");
    int ints[3];
    MPI_Datatype types[1];
    MPI_Type_get_contents(v, 3, 0, 1, ints, NULL, types);
    CHECK(ints[0] == 3 && ints[1] == 2 && ints[2] == 4 && types[0] == MPI_INT, "vector contents");
    MPI_Type_get_envelope(MPI_INT, &ni, &na, &nt, &comb);
    CHECK(comb == MPI_COMBINER_NAMED, "named");
    MPI_Type_set_name(st, "particle");
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_Type_get_name(st, name, &len);
    CHECK(!strcmp(name, "particle") && len == 8, "type name %s", name);
    MPI_Datatype all[] = {c, v, hv, ix, hix, ib, st, rs, dp};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        MPI_Type_commit(&all[i]);
    }

    /* Point-to-point: a vector into a contiguous buffer and back, and an
     * array of padded structs, with the neighbour (or oneself). */
    int to = (rank + 1) % size, from = (rank - 1 + size) % size;
    int src[10], dst[6], back[10];
    for (int i = 0; i < 10; i++) {
        src[i] = rank * 100 + i;
    }
    MPI_Sendrecv(src, 1, v, to, 1, dst, 6, MPI_INT, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    int want[6] = {0, 1, 4, 5, 8, 9};
    for (int i = 0; i < 6; i++) {
        CHECK(dst[i] == from * 100 + want[i], "vector -> ints [%d] = %d", i, dst[i]);
    }
    memset(back, -1, sizeof(back));
    MPI_Status stt;
    MPI_Sendrecv(dst, 6, MPI_INT, from, 2, back, 1, v, to, 2, MPI_COMM_WORLD, &stt);
    for (int i = 0; i < 10; i++) {
        int gap = i % 4 >= 2;
        CHECK(back[i] == (gap ? -1 : rank * 100 + i), "ints -> vector [%d] = %d", i, back[i]);
    }
    int cnt;
    MPI_Get_count(&stt, v, &cnt);
    CHECK(cnt == 1, "get_count of one vector: %d", cnt);
    MPI_Get_count(&stt, MPI_INT, &cnt);
    CHECK(cnt == 6, "get_count in ints: %d", cnt);
    struct particle ps[4], pr[4];
    memset(pr, 0, sizeof(pr));
    for (int i = 0; i < 4; i++) {
        ps[i] = (struct particle){{rank + i, 2.5, -1}, (char)('a' + i), rank * 10 + i};
    }
    MPI_Request rq[2];
    MPI_Irecv(pr, 4, st, from, 3, MPI_COMM_WORLD, &rq[0]);
    MPI_Isend(ps, 4, st, to, 3, MPI_COMM_WORLD, &rq[1]);
    MPI_Datatype gone = st;
    MPI_Type_free(&gone); /* in flight: the operations keep it */
    MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
    for (int i = 0; i < 4; i++) {
        CHECK(pr[i].x[0] == from + i && pr[i].x[1] == 2.5 && pr[i].tag == 'a' + i &&
                  pr[i].id == from * 10 + i,
              "struct [%d]", i);
    }
    /* Blocks of 1 KiB and more go as they lie in memory (no packing): a
     * small (eager) and a large (striped rendezvous) vector, into a
     * contiguous buffer, and back into a vector whose gaps must stay. */
    for (int big = 0; big < 2; big++) {
        int nblk = big ? 64 : 2, blen = big ? 256 : 128, stride = 2 * blen;
        MPI_Datatype cv;
        MPI_Type_vector(nblk, blen, stride, MPI_DOUBLE, &cv);
        MPI_Type_commit(&cv);
        size_t span = (size_t)nblk * (size_t)stride, data = (size_t)nblk * (size_t)blen;
        double *vsrc = malloc(span * sizeof(double)), *flat = malloc(data * sizeof(double));
        double *vdst = malloc(span * sizeof(double));
        for (size_t i = 0; i < span; i++) {
            vsrc[i] = rank * 1e6 + (double)i;
            vdst[i] = -1;
        }
        MPI_Sendrecv(vsrc, 1, cv, to, 7, flat, (int)data, MPI_DOUBLE, from, 7, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        for (size_t k = 0; k < data; k++) {
            size_t i = k / (size_t)blen * (size_t)stride + k % (size_t)blen;
            CHECK(flat[k] == from * 1e6 + (double)i, "pieces -> flat (%zu blocks) [%zu]",
                  (size_t)nblk, k);
        }
        MPI_Sendrecv(flat, (int)data, MPI_DOUBLE, from, 8, vdst, 1, cv, to, 8, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        for (size_t i = 0; i < span; i++) {
            bool gap = i % (size_t)stride >= (size_t)blen;
            CHECK(vdst[i] == (gap ? -1 : rank * 1e6 + (double)i), "flat -> pieces [%zu] = %g", i,
                  vdst[i]);
        }
        MPI_Type_free(&cv);
        free(vsrc), free(flat), free(vdst);
    }

    /* Pack / unpack. */
    char packed[256];
    int pos = 0, psize;
    MPI_Pack_size(1, v, MPI_COMM_WORLD, &psize);
    CHECK(psize == 24, "pack size %d", psize);
    MPI_Pack(src, 1, v, packed, sizeof(packed), &pos, MPI_COMM_WORLD);
    MPI_Pack(&rank, 1, MPI_INT, packed, sizeof(packed), &pos, MPI_COMM_WORLD);
    CHECK(pos == 28, "pack position %d", pos);
    int out[10] = {0}, r2 = -1;
    pos = 0;
    MPI_Unpack(packed, 28, &pos, out, 1, v, MPI_COMM_WORLD);
    MPI_Unpack(packed, 28, &pos, &r2, 1, MPI_INT, MPI_COMM_WORLD);
    CHECK(out[4] == src[4] && out[9] == src[9] && out[2] == 0 && r2 == rank, "unpack");
    /* A collective on a derived type: sum of a vector's elements. */
    int vs[10], vr[10] = {0};
    for (int i = 0; i < 10; i++) {
        vs[i] = i + rank;
    }
    MPI_Allreduce(vs, vr, 1, v, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < 10; i++) {
        int e = i % 4 >= 2 ? 0 : size * i + size * (size - 1) / 2;
        CHECK(vr[i] == e, "allreduce on a vector type [%d] = %d vs %d", i, vr[i], e);
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i] != st) {
            MPI_Type_free(&all[i]);
        }
    }
}

static int copies, deletes;
static int copy_fn(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag)
{
    (void)c, (void)k, (void)extra;
    copies++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}
static int delete_fn(MPI_Comm c, int k, void *val, void *extra)
{
    (void)c, (void)k, (void)val, (void)extra;
    deletes++;
    return MPI_SUCCESS;
}

/* The world ranks of group g in its order, against want[0..n). */
static void group_is(MPI_Group g, MPI_Group world, const int *want, int n, const char *what)
{
    int gs;
    MPI_Group_size(g, &gs);
    CHECK(gs == n, "%s: %d members, not %d", what, gs, n);
    int *in = malloc(((size_t)n + 1) * sizeof(int)), *out = malloc(((size_t)n + 1) * sizeof(int));
    for (int i = 0; i < n; i++) {
        in[i] = i;
    }
    MPI_Group_translate_ranks(g, n, in, world, out);
    for (int i = 0; i < n; i++) {
        CHECK(out[i] == want[i], "%s: member %d is world rank %d, not %d", what, i, out[i],
              want[i]);
    }
    free(in), free(out);
    if (g != MPI_GROUP_EMPTY) {
        MPI_Group_free(&g);
    }
}

/* Union, intersection, difference and range exclusion, the expected
 * members listed by plain loops over world ranks. */
static void test_group_sets(void)
{
    MPI_Group world, even, low, g;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    int half = (size + 1) / 2, r_even[1][3] = {{0, size - 1, 2}}, r_low[1][3] = {{half - 1, 0, -1}};
    MPI_Group_range_incl(world, 1, r_even, &even); /* 0, 2, 4, ... */
    MPI_Group_range_incl(world, 1, r_low, &low);   /* half-1, ..., 1, 0 */
    int *want = malloc(2 * (size_t)size * sizeof(int)), n = 0;
    for (int r = 0; r < size; r += 2) { /* union: even, then low's odd ones */
        want[n++] = r;
    }
    for (int r = half - 1; r >= 0; r--) {
        if (r % 2) {
            want[n++] = r;
        }
    }
    MPI_Group_union(even, low, &g);
    group_is(g, world, want, n, "union");
    n = 0;
    for (int r = 0; r < size; r += 2) {
        if (r < half) {
            want[n++] = r;
        }
    }
    MPI_Group_intersection(even, low, &g);
    group_is(g, world, want, n, "intersection");
    n = 0;
    for (int r = 0; r < size; r += 2) {
        if (r >= half) {
            want[n++] = r;
        }
    }
    MPI_Group_difference(even, low, &g);
    group_is(g, world, want, n, "difference");
    n = 0;
    for (int r = half - 1; r >= 0; r--) {
        if (r % 2) {
            want[n++] = r;
        }
    }
    MPI_Group_difference(low, even, &g);
    group_is(g, world, want, n, "difference, the other way");
    n = 0;
    for (int r = 0; r < size; r++) {
        if (r % 3) {
            want[n++] = r;
        }
    }
    int r_third[1][3] = {{0, size - 1, 3}};
    MPI_Group_range_excl(world, 1, r_third, &g);
    group_is(g, world, want, n, "range_excl");
    MPI_Group_union(world, world, &g);
    for (int r = 0; r < size; r++) {
        want[r] = r;
    }
    group_is(g, world, want, size, "union with itself");
    MPI_Group_intersection(even, MPI_GROUP_EMPTY, &g);
    group_is(g, world, want, 0, "intersection with the empty group");
    free(want);
    MPI_Group_free(&even), MPI_Group_free(&low), MPI_Group_free(&world);
}

/* Info objects: keys in the order first set, values replaced, copies
 * independent, the errors MPI names; MPI_INFO_ENV describes this start. */
static void test_info(void)
{
    MPI_Info info, copy;
    MPI_Info_create(&info);
    MPI_Info_set(info, "wdir", "/tmp");
    MPI_Info_set(info, "mpi_assert_no_any_tag", "true");
    MPI_Info_set(info, "wdir", "/var/tmp"); /* replaced, keeps its place */
    int nkeys, flag, len;
    char key[MPI_MAX_INFO_KEY + 1], value[MPI_MAX_INFO_VAL + 1];
    MPI_Info_get_nkeys(info, &nkeys);
    MPI_Info_get_nthkey(info, 0, key);
    CHECK(nkeys == 2 && strcmp(key, "wdir") == 0, "%d keys, the first %s", nkeys, key);
    MPI_Info_get(info, "wdir", MPI_MAX_INFO_VAL, value, &flag);
    CHECK(flag && strcmp(value, "/var/tmp") == 0, "wdir = %s", value);
    MPI_Info_get(info, "wdir", 4, value, &flag);
    CHECK(flag && strcmp(value, "/var") == 0, "a value cut at valuelen: %s", value);
    MPI_Info_get_valuelen(info, "mpi_assert_no_any_tag", &len, &flag);
    CHECK(flag && len == 4, "valuelen %d", len);
    MPI_Info_get(info, "nothing", MPI_MAX_INFO_VAL, value, &flag);
    CHECK(!flag, "a missing key was found");
    MPI_Info_dup(info, &copy);
    MPI_Info_delete(info, "wdir");
    MPI_Info_get_nkeys(info, &nkeys);
    MPI_Info_get(copy, "wdir", MPI_MAX_INFO_VAL, value, &flag);
    CHECK(nkeys == 1 && flag && strcmp(value, "/var/tmp") == 0, "dup shares its keys");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int cls, rc = MPI_Info_delete(info, "wdir");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_INFO_NOKEY, "deleting a missing key: class %d", cls);
    char long_key[MPI_MAX_INFO_KEY + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    rc = MPI_Info_set(info, long_key, "v");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_INFO_KEY, "a key of %d characters: class %d", MPI_MAX_INFO_KEY + 1, cls);
    rc = MPI_Info_get_nthkey(info, 5, key);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_ARG, "key 5 of 1: class %d", cls);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm dup;
    MPI_Comm_dup_with_info(MPI_COMM_WORLD, copy, &dup);
    MPI_Comm_set_info(dup, info);
    MPI_Info used;
    MPI_Comm_get_info(dup, &used);
    MPI_Info_get_nkeys(used, &nkeys);
    CHECK(nkeys == 0, "hints in use: %d, mrail acts on none", nkeys);
    int sum = 0;
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, dup);
    CHECK(sum == size * (size - 1) / 2, "allreduce on a communicator duplicated with info");
    MPI_Comm_free(&dup);
    MPI_Info_free(&used), MPI_Info_free(&copy), MPI_Info_free(&info);
    CHECK(info == MPI_INFO_NULL, "MPI_Info_free leaves MPI_INFO_NULL");
    MPI_Info_get(MPI_INFO_ENV, "maxprocs", MPI_MAX_INFO_VAL, value, &flag);
    CHECK(flag && atoi(value) == size, "MPI_INFO_ENV maxprocs %s, size %d", flag ? value : "-",
          size);
    MPI_Info_get(MPI_INFO_ENV, "command", MPI_MAX_INFO_VAL, value, &flag);
    CHECK(flag && strstr(value, "mpi_comm_test") != NULL, "MPI_INFO_ENV command %s",
          flag ? value : "-");
}

static void test_communicators(void)
{
    test_group_sets();
    test_info();
    MPI_Comm dup, half, rev, shared;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    int r, s, res;
    MPI_Comm_rank(dup, &r);
    MPI_Comm_size(dup, &s);
    CHECK(r == rank && s == size, "dup rank/size");
    MPI_Comm_compare(MPI_COMM_WORLD, dup, &res);
    CHECK(res == MPI_CONGRUENT, "dup congruent: %d", res);
    MPI_Comm_compare(dup, dup, &res);
    CHECK(res == MPI_IDENT, "ident");
    /* A message on dup is invisible on WORLD. */
    int x = 42, flag = 1;
    MPI_Request q;
    MPI_Isend(&x, 1, MPI_INT, rank, 5, dup, &q);
    MPI_Iprobe(rank, 5, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    CHECK(!flag, "a dup's message matched on WORLD");
    int y = 0;
    MPI_Recv(&y, 1, MPI_INT, rank, 5, dup, MPI_STATUS_IGNORE);
    MPI_Wait(&q, MPI_STATUS_IGNORE);
    CHECK(y == 42, "dup self message");

    /* Split by parity, keys reversed. */
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, size - rank, &half);
    MPI_Comm_rank(half, &r);
    MPI_Comm_size(half, &s);
    int members = (size + 1 - rank % 2) / 2;
    CHECK(s == members, "split size %d vs %d", s, members);
    int highest_same = (size - 1) - ((size - 1 - rank % 2) % 2);
    CHECK(r == (highest_same - rank) / 2, "split rank %d", r);
    int one = 1, sum = 0;
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, half);
    CHECK(sum == members, "allreduce on split: %d", sum);
    MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &rev);
    MPI_Comm_compare(MPI_COMM_WORLD, rev, &res);
    CHECK(res == (size == 1 ? MPI_CONGRUENT : MPI_SIMILAR), "reversed: similar, %d", res);
    MPI_Comm_compare(MPI_COMM_WORLD, half, &res);
    CHECK(res == (size == 1 ? MPI_CONGRUENT : MPI_UNEQUAL), "half: unequal, %d", res);
    MPI_Comm none;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? MPI_UNDEFINED : 1, 0, &none);
    CHECK((rank == 0) == (none == MPI_COMM_NULL), "undefined color gives MPI_COMM_NULL");
    if (none != MPI_COMM_NULL) {
        MPI_Comm_free(&none);
    }
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &shared);
    MPI_Comm_size(shared, &s);
    CHECK(s == size, "one node: shared comm of %d", s);

    /* Groups. */
    MPI_Group wg, g1, g2, g3;
    MPI_Comm_group(MPI_COMM_WORLD, &wg);
    int zero = 0;
    MPI_Group_excl(wg, 1, &zero, &g1);
    MPI_Group_size(g1, &s);
    CHECK(s == size - 1, "excl size");
    MPI_Group_rank(g1, &r);
    CHECK(r == (rank == 0 ? MPI_UNDEFINED : rank - 1), "excl rank %d", r);
    int range[1][3] = {{size - 1, 0, -1}};
    MPI_Group_range_incl(wg, 1, range, &g2);
    int tr[2] = {0, size - 1}, out[2];
    MPI_Group_translate_ranks(g2, 2, tr, wg, out);
    CHECK(out[0] == size - 1 && out[1] == 0, "translate %d %d", out[0], out[1]);
    MPI_Group_compare(wg, g2, &res);
    CHECK(res == (size == 1 ? MPI_IDENT : MPI_SIMILAR), "group similar %d", res);
    int incl[1] = {size - 1};
    MPI_Group_incl(wg, 1, incl, &g3);
    MPI_Group_size(g3, &s);
    CHECK(s == 1, "incl");
    MPI_Group_size(MPI_GROUP_EMPTY, &s);
    CHECK(s == 0, "empty group");

    /* Create from a group (all call), and create_group (only members call). */
    MPI_Comm created;
    MPI_Comm_create(MPI_COMM_WORLD, g1, &created);
    CHECK((rank == 0) == (created == MPI_COMM_NULL), "create membership");
    if (created != MPI_COMM_NULL) {
        int v = rank == 1 ? 77 : 0;
        MPI_Bcast(&v, 1, MPI_INT, 0, created);
        CHECK(v == 77, "bcast on created");
        MPI_Comm_free(&created);
    }
    if (rank == size - 1) {
        MPI_Comm solo;
        MPI_Comm_create_group(MPI_COMM_WORLD, g3, 9, &solo);
        MPI_Comm_size(solo, &s);
        CHECK(s == 1, "create_group of one");
        MPI_Comm_free(&solo);
    }
    MPI_Group_free(&g1), MPI_Group_free(&g2), MPI_Group_free(&g3), MPI_Group_free(&wg);
    CHECK(wg == MPI_GROUP_NULL, "group free");

    /* Names and attributes. */
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_Comm_get_name(MPI_COMM_WORLD, name, &len);
    CHECK(!strcmp(name, "MPI_COMM_WORLD"), "world name %s", name);
    MPI_Comm_set_name(dup, "mine");
    MPI_Comm_get_name(dup, name, &len);
    CHECK(!strcmp(name, "mine") && len == 4, "set name");
    int key;
    static int value = 5;
    MPI_Comm_create_keyval(copy_fn, delete_fn, &key, NULL);
    MPI_Comm_set_attr(dup, key, &value);
    MPI_Comm dup2;
    MPI_Comm_dup(dup, &dup2);
    CHECK(copies == 1, "copy callback on dup: %d", copies);
    int *got = NULL;
    MPI_Comm_get_attr(dup2, key, &got, &flag);
    CHECK(flag && got == &value, "attribute copied");
    MPI_Comm_free(&dup2);
    CHECK(deletes == 1, "delete callback on free: %d", deletes);
    MPI_Comm_delete_attr(dup, key);
    MPI_Comm_get_attr(dup, key, &got, &flag);
    CHECK(!flag && deletes == 2, "attribute deleted");
    MPI_Comm_free_keyval(&key);
    int *ub;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
    CHECK(flag && *ub >= 32767, "tag ub");

    /* Errors come back with MPI_ERRORS_RETURN, named classes. */
    MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
    int v = 0;
    CHECK(MPI_Bcast(&v, 1, MPI_INT, size, dup) == MPI_ERR_ROOT, "bad root");
    double d = 1;
    CHECK(MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPI_DOUBLE, MPI_BAND, dup) == MPI_ERR_OP,
          "BAND on double");
    MPI_Datatype unc;
    MPI_Type_contiguous(2, MPI_INT, &unc);
    int two[2];
    CHECK(MPI_Bcast(two, 1, unc, 0, dup) == MPI_ERR_TYPE, "uncommitted type");
    MPI_Type_free(&unc);
    CHECK(MPI_Comm_free(&shared) == MPI_SUCCESS && shared == MPI_COMM_NULL, "free");
    MPI_Comm_free(&half), MPI_Comm_free(&rev), MPI_Comm_free(&dup);
}

static void test_intercomm(void)
{
    if (size < 2) {
        return;
    }
    MPI_Comm local, inter, merged;
    int low = rank < size / 2;
    MPI_Comm_split(MPI_COMM_WORLD, low, rank, &local);
    MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, low ? size / 2 : 0, 17, &inter);
    int flag, rsize, lrank;
    MPI_Comm_test_inter(inter, &flag);
    MPI_Comm_remote_size(inter, &rsize);
    MPI_Comm_rank(local, &lrank);
    CHECK(flag && rsize == (low ? size - size / 2 : size / 2), "intercomm remote size %d", rsize);
    /* Each low rank sends to remote rank (lrank mod remote size); the high
     * side receives from any source and checks the value. */
    if (low) {
        int msg = 1000 + rank;
        MPI_Send(&msg, 1, MPI_INT, lrank % rsize, 3, inter);
    } else {
        int expect = 0;
        for (int q = 0; q < size / 2; q++) {
            expect += q % (size - size / 2) == lrank;
        }
        for (int k = 0; k < expect; k++) {
            int msg;
            MPI_Status st;
            MPI_Recv(&msg, 1, MPI_INT, MPI_ANY_SOURCE, 3, inter, &st);
            CHECK(msg == 1000 + st.MPI_SOURCE, "intercomm message %d from remote %d", msg,
                  st.MPI_SOURCE);
        }
    }
    MPI_Intercomm_merge(inter, !low, &merged);
    int mr, ms;
    MPI_Comm_rank(merged, &mr);
    MPI_Comm_size(merged, &ms);
    CHECK(ms == size && mr == rank, "merged rank %d size %d", mr, ms);
    int one = rank, sum = 0;
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, merged);
    CHECK(sum == size * (size - 1) / 2, "allreduce on merged");
    MPI_Comm_free(&merged), MPI_Comm_free(&inter), MPI_Comm_free(&local);
}

/* MPI_Comm_idup: several in flight, one overtaken by a blocking dup, and
 * one that must not block its caller (rank 0 sends to rank 1 after
 * starting it; rank 1 receives before starting its own). */
static void test_idup(void)
{
    MPI_Comm half, copies[3], extra;
    MPI_Request reqs[3];
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, size - rank, &half);
    int key, val = 77, *got, flag;
    MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &key, NULL);
    MPI_Comm_set_attr(half, key, &val);
    MPI_Comm_idup(MPI_COMM_WORLD, &copies[0], &reqs[0]);
    MPI_Comm_idup(half, &copies[1], &reqs[1]);
    MPI_Comm_dup(MPI_COMM_WORLD, &extra); /* a blocking agreement while one is in flight */
    MPI_Comm_idup(extra, &copies[2], &reqs[2]);
    MPI_Waitall(3, reqs, MPI_STATUSES_IGNORE);
    int hs, hr;
    MPI_Comm_size(half, &hs), MPI_Comm_rank(half, &hr);
    for (int i = 0; i < 3; i++) {
        int cs, cr, want_s = i == 1 ? hs : size, want_r = i == 1 ? hr : rank, result;
        CHECK(copies[i] != MPI_COMM_NULL, "idup %d made nothing", i);
        MPI_Comm_size(copies[i], &cs), MPI_Comm_rank(copies[i], &cr);
        CHECK(cs == want_s && cr == want_r, "idup %d: rank %d of %d", i, cr, cs);
        MPI_Comm_compare(copies[i], i == 1 ? half : MPI_COMM_WORLD, &result);
        CHECK(result == MPI_CONGRUENT, "idup %d compares %d", i, result);
        /* Each copy is its own context: the same tag on all three never crosses. */
        int sum = 0, mine = 1 + i;
        MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, copies[i]);
        CHECK(sum == (1 + i) * want_s, "allreduce on idup %d: %d", i, sum);
    }
    MPI_Comm_get_attr(copies[1], key, &got, &flag);
    CHECK(flag && *got == 77, "idup copied the attribute");
    if (size >= 2 && rank < 2) {
        MPI_Comm c;
        MPI_Request r;
        int msg = 5150;
        if (rank == 0) {
            MPI_Comm_idup(MPI_COMM_WORLD, &c, &r);
            MPI_Send(&msg, 1, MPI_INT, 1, 61, MPI_COMM_WORLD);
        } else {
            MPI_Recv(&msg, 1, MPI_INT, 0, 61, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            CHECK(msg == 5150, "message before idup");
            MPI_Comm_idup(MPI_COMM_WORLD, &c, &r);
        }
        MPI_Wait(&r, MPI_STATUS_IGNORE);
        MPI_Comm_free(&c);
    } else {
        MPI_Comm c;
        MPI_Request r;
        MPI_Comm_idup(MPI_COMM_WORLD, &c, &r);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
        MPI_Comm_free(&c);
    }
    for (int i = 0; i < 3; i++) {
        MPI_Comm_free(&copies[i]);
    }
    MPI_Comm_free_keyval(&key);
    MPI_Comm_free(&extra), MPI_Comm_free(&half);
    /* MPI-1's attribute names are the same calls. */
    int old_key, *old_val, old_flag, forty = 40;
    MPI_Keyval_create(MPI_DUP_FN, MPI_NULL_DELETE_FN, &old_key, NULL);
    MPI_Attr_put(MPI_COMM_WORLD, old_key, &forty);
    MPI_Attr_get(MPI_COMM_WORLD, old_key, &old_val, &old_flag);
    CHECK(old_flag && *old_val == 40, "MPI_Attr_get");
    MPI_Attr_delete(MPI_COMM_WORLD, old_key);
    MPI_Attr_get(MPI_COMM_WORLD, old_key, &old_val, &old_flag);
    CHECK(!old_flag, "MPI_Attr_delete");
    MPI_Keyval_free(&old_key);
}

/* The smallest spread (largest minus smallest factor) of any split of n
 * into k non-increasing factors of at most cap, by trying every one. */
static void brute_spread(int n, int k, int cap, int top, int *best)
{
    if (k == 1) {
        int spread = (top ? top : n) - n;
        if (n <= cap && (*best < 0 || spread < *best)) {
            *best = spread;
        }
        return;
    }
    for (int f = 1; f <= cap && f <= n; f++) {
        if (n % f == 0) {
            brute_spread(n / f, k - 1, f, top ? top : f, best);
        }
    }
}

/* MPI_Dims_create against every split (rank 0 alone: it is local). */
static void test_dims_create(void)
{
    int d2[2] = {0, 0}, d3[3] = {0, 0, 0};
    MPI_Dims_create(72, 2, d2);
    CHECK(d2[0] == 9 && d2[1] == 8, "72 in 2d: %d x %d, not 9 x 8", d2[0], d2[1]);
    MPI_Dims_create(16, 3, d3);
    CHECK(d3[0] == 4 && d3[1] == 2 && d3[2] == 2, "16 in 3d: %d x %d x %d", d3[0], d3[1], d3[2]);
    if (rank != 0) {
        return;
    }
    int bad = 0;
    for (int n = 1; n <= 600; n++) {
        for (int k = 1; k <= 4; k++) {
            for (int fix = 0; fix < 2; fix++) {
                int dims[4] = {0, 0, 0, 0}, free_n = n, nfree = k;
                if (fix && k > 1) { /* dimension 1 fixed at 3 (n a multiple of 3) */
                    if (n % 3 != 0) {
                        continue;
                    }
                    dims[1] = 3, free_n = n / 3, nfree = k - 1;
                }
                if (MPI_Dims_create(n, k, dims) != MPI_SUCCESS) {
                    bad++;
                    continue;
                }
                int prod = 1, lo = -1, hi = -1, prev = -1, ordered = 1;
                for (int i = 0; i < k; i++) {
                    prod *= dims[i];
                    if (fix && k > 1 && i == 1) {
                        ordered = ordered && dims[1] == 3;
                        continue;
                    }
                    ordered = ordered && (prev < 0 || dims[i] <= prev);
                    prev = dims[i];
                    hi = hi < 0 || dims[i] > hi ? dims[i] : hi;
                    lo = lo < 0 || dims[i] < lo ? dims[i] : lo;
                }
                int best = -1;
                brute_spread(free_n, nfree, free_n, 0, &best);
                if (prod != n || !ordered || hi - lo != best) {
                    if (bad++ < 5) {
                        fprintf(stderr, "%d in %dd (fixed: %d): %d %d %d %d, spread %d, best %d\n",
                                n, k, fix, dims[0], dims[1], dims[2], dims[3], hi - lo, best);
                    }
                }
            }
        }
    }
    CHECK(bad == 0, "%d MPI_Dims_create results are not the most balanced split", bad);
}

/* A ring as a graph (each node's neighbours: the one before, the one
 * after), and the rows of a grid as sub-grids. */
static void test_graph_and_cart_sub(void)
{
    int *index = malloc((size_t)size * sizeof(int)),
        *edges = malloc(2 * (size_t)size * sizeof(int));
    for (int i = 0; i < size; i++) {
        index[i] = 2 * (i + 1);
        edges[2 * i] = (i + size - 1) % size;
        edges[2 * i + 1] = (i + 1) % size;
    }
    MPI_Comm graph;
    MPI_Graph_create(MPI_COMM_WORLD, size, index, edges, 0, &graph);
    int status, nnodes, nedges, count, nb[2], gi[64], ge[128];
    MPI_Topo_test(graph, &status);
    MPI_Graphdims_get(graph, &nnodes, &nedges);
    CHECK(status == MPI_GRAPH && nnodes == size && nedges == 2 * size,
          "graph %d: %d nodes %d edges", status, nnodes, nedges);
    MPI_Graph_neighbors_count(graph, rank, &count);
    MPI_Graph_neighbors(graph, rank, 2, nb);
    CHECK(count == 2 && nb[0] == (rank + size - 1) % size && nb[1] == (rank + 1) % size,
          "graph neighbours %d: %d %d", count, nb[0], nb[1]);
    if (size <= 64) {
        MPI_Graph_get(graph, 64, 128, gi, ge);
        for (int i = 0; i < size; i++) {
            CHECK(gi[i] == index[i] && ge[2 * i] == edges[2 * i] &&
                      ge[2 * i + 1] == edges[2 * i + 1],
                  "MPI_Graph_get at node %d", i);
        }
    }
    int got = -1;
    MPI_Sendrecv(&rank, 1, MPI_INT, nb[1], 5, &got, 1, MPI_INT, nb[0], 5, graph, MPI_STATUS_IGNORE);
    CHECK(got == nb[0], "graph neighbour sent %d", got);
    MPI_Comm_free(&graph);
    int newrank;
    MPI_Graph_map(MPI_COMM_WORLD, size, index, edges, &newrank);
    CHECK(newrank == rank, "MPI_Graph_map %d", newrank);
    if (size > 1) { /* a ring of one node fewer: the last rank is left out */
        int m = size - 1;
        for (int i = 0; i < m; i++) {
            edges[2 * i] = (i + m - 1) % m;
            edges[2 * i + 1] = (i + 1) % m;
        }
        MPI_Graph_create(MPI_COMM_WORLD, m, index, edges, 0, &graph);
        CHECK((graph == MPI_COMM_NULL) == (rank == size - 1), "graph of %d nodes", size - 1);
        if (graph != MPI_COMM_NULL) {
            MPI_Comm_free(&graph);
        }
    }
    free(index), free(edges);

    int dims[2] = {0, 0}, periods[2] = {0, 1}, coords[2];
    MPI_Dims_create(size, 2, dims);
    MPI_Comm cart, row;
    MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
    MPI_Cart_map(MPI_COMM_WORLD, 2, dims, periods, &newrank);
    CHECK(newrank == rank, "MPI_Cart_map %d", newrank);
    MPI_Cart_coords(cart, rank, 2, coords);
    int remain[2] = {0, 1};
    MPI_Cart_sub(cart, remain, &row);
    int row_rank, row_size, ndims, sum = 0, want = 0;
    MPI_Comm_rank(row, &row_rank);
    MPI_Comm_size(row, &row_size);
    MPI_Cartdim_get(row, &ndims);
    CHECK(row_size == dims[1] && row_rank == coords[1] && ndims == 1, "row %d of %d, %d dims",
          row_rank, row_size, ndims);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, row);
    for (int j = 0; j < dims[1]; j++) { /* the world ranks of this row */
        want += coords[0] * dims[1] + j;
    }
    CHECK(sum == want, "row sum %d, by hand %d", sum, want);
    int sd, sp, sc;
    MPI_Cart_get(row, 1, &sd, &sp, &sc);
    CHECK(sd == dims[1] && sp == 1 && sc == coords[1], "sub-grid: dims %d periods %d coords %d", sd,
          sp, sc);
    MPI_Comm_free(&row), MPI_Comm_free(&cart);
}

static void test_topologies(void)
{
    test_dims_create();
    test_graph_and_cart_sub();
    int dims[2] = {0, 0};
    MPI_Dims_create(size, 2, dims);
    CHECK(dims[0] * dims[1] == size && dims[0] >= dims[1], "dims %d x %d", dims[0], dims[1]);
    int d3[3] = {0, 2, 0};
    if (size % 2 == 0) {
        MPI_Dims_create(size, 3, d3);
        CHECK(d3[1] == 2 && d3[0] * d3[1] * d3[2] == size, "dims with a fixed one");
    }
    int periods[2] = {1, 0};
    MPI_Comm cart;
    MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
    int coords[2], r, status;
    MPI_Topo_test(cart, &status);
    CHECK(status == MPI_CART, "topo test");
    MPI_Cart_coords(cart, rank, 2, coords);
    CHECK(coords[0] == rank / dims[1] && coords[1] == rank % dims[1], "coords");
    MPI_Cart_rank(cart, coords, &r);
    CHECK(r == rank, "cart rank");
    int src, dst;
    MPI_Cart_shift(cart, 0, 1, &src, &dst);
    CHECK(dst == ((coords[0] + 1) % dims[0]) * dims[1] + coords[1], "periodic shift");
    MPI_Cart_shift(cart, 1, 1, &src, &dst);
    CHECK(dst == (coords[1] + 1 < dims[1] ? rank + 1 : MPI_PROC_NULL), "open shift");
    int gd[2], gp[2], gc[2];
    MPI_Cart_get(cart, 2, gd, gp, gc);
    CHECK(gd[0] == dims[0] && gp[0] == 1 && gp[1] == 0 && gc[1] == coords[1], "cart get");
    /* Neighbours exchange along the periodic dimension. */
    MPI_Cart_shift(cart, 0, 1, &src, &dst);
    int got = -1;
    MPI_Sendrecv(&rank, 1, MPI_INT, dst, 0, &got, 1, MPI_INT, src, 0, cart, MPI_STATUS_IGNORE);
    CHECK(got == src, "cart neighbour %d vs %d", got, src);
    MPI_Comm_free(&cart);
    MPI_Comm ring;
    int next = (rank + 1) % size, prev = (rank - 1 + size) % size;
    MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &prev, NULL, 1, &next, NULL, MPI_INFO_NULL, 0,
                                   &ring);
    int ins[1], outs[1];
    MPI_Dist_graph_neighbors(ring, 1, ins, NULL, 1, outs, NULL);
    CHECK(ins[0] == prev && outs[0] == next, "dist graph neighbours");
    MPI_Comm_free(&ring);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    test_datatypes();
    test_communicators();
    test_intercomm();
    test_idup();
    test_topologies();
    checks_passed();
    MPI_Finalize();
    return 0;
}
