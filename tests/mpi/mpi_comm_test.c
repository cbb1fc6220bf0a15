/* An ordinary MPI program exercising communicators, groups, attributes,
 * intercommunicators, topologies and derived datatypes (also through
 * point-to-point and collectives). Prints "rank R: N checks passed". */
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d (of %d): check failed at line %d: ", rank, size, __LINE__);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

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

static void test_datatypes(void)
{
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

static void test_communicators(void)
{
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

static void test_topologies(void)
{
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
    test_topologies();
    MPI_Barrier(MPI_COMM_WORLD);
    printf("rank %d: %d checks passed\n", rank, checks);
    MPI_Finalize();
    return 0;
}
