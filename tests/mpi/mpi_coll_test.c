/* An ordinary MPI program exercising every collective: each result is
 * checked exactly (integer operations, a non-commutative user operation)
 * or against a sequential reference (floating point), for several counts
 * (zero included), every root, MPI_IN_PLACE, derived types, and the
 * nonblocking forms overlapping each other. The algorithms are whatever
 * coll_tuned_*_algorithm say (the test suite forces each in turn). Prints
 * "rank R: N checks passed" at the end.
 *   mpi_coll_test [--small] */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

static const int counts[] = {0, 1, 5, 1000, 70001};
static int ncounts = 5; /* --small: up to 1000 elements (many oversubscribed ranks) */
#define NCOUNTS ncounts

/* Rank r's element i. */
static int val(int r, int i)
{
    return (r + 1) * 7 + i % 1013;
}

/* A non-commutative, associative operation: 2x2 integer matrices mod 2^16
 * multiplied (four ints per element). */
static void matmul(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const int *a = in;
    int *b = inout;
    for (int k = 0; k < *len; k++, a += 4, b += 4) {
        unsigned a0 = (unsigned)a[0], a1 = (unsigned)a[1], a2 = (unsigned)a[2], a3 = (unsigned)a[3];
        unsigned b0 = (unsigned)b[0], b1 = (unsigned)b[1], b2 = (unsigned)b[2], b3 = (unsigned)b[3];
        b[0] = (int)((a0 * b0 + a1 * b2) & 0xffff), b[1] = (int)((a0 * b1 + a1 * b3) & 0xffff);
        b[2] = (int)((a2 * b0 + a3 * b2) & 0xffff), b[3] = (int)((a2 * b1 + a3 * b3) & 0xffff);
    }
}

static void mat_of(int r, int i, int *m)
{
    m[0] = 1 + (r + i) % 5, m[1] = r + 2, m[2] = i % 3, m[3] = 1;
}

/* The product a_lo * ... * a_hi-1 of element i, in rank order. */
static void mat_range(int lo, int hi, int i, int *out)
{
    int acc[4] = {1, 0, 0, 1};
    for (int r = hi - 1; r >= lo; r--) { /* acc = a_r * acc */
        int m[4], one = 1;
        mat_of(r, i, m);
        matmul(m, acc, &one, NULL);
    }
    memcpy(out, acc, sizeof(acc));
}

static void test_barrier_bcast(void)
{
    MPI_Barrier(MPI_COMM_WORLD);
    for (int c = 0; c < NCOUNTS; c++) {
        int n = counts[c];
        int *b = malloc((size_t)(n + 1) * sizeof(int));
        for (int root = 0; root < size; root++) {
            for (int i = 0; i < n; i++) {
                b[i] = rank == root ? val(root, i) : -1;
            }
            MPI_Bcast(b, n, MPI_INT, root, MPI_COMM_WORLD);
            for (int i = 0; i < n; i++) {
                CHECK(b[i] == val(root, i), "bcast n=%d root=%d [%d] = %d", n, root, i, b[i]);
            }
        }
        free(b);
    }
    /* A vector type: every other double of 2n. */
    MPI_Datatype vec;
    MPI_Type_vector(100, 1, 2, MPI_DOUBLE, &vec);
    MPI_Type_commit(&vec);
    double d[200];
    for (int i = 0; i < 200; i++) {
        d[i] = rank == 0 ? i : -1.0;
    }
    MPI_Bcast(d, 1, vec, 0, MPI_COMM_WORLD);
    for (int i = 0; i < 200; i++) {
        CHECK(d[i] == (i % 2 == 0 || rank == 0 ? (double)i : -1.0), "vector bcast [%d] = %g", i,
              d[i]);
    }
    MPI_Type_free(&vec);
}

static void check_int_reduction(const int *got, int n, MPI_Op op, const char *what)
{
    for (int i = 0; i < n; i++) {
        long long e = op == MPI_PROD ? 1 : op == MPI_BAND ? -1 : 0;
        for (int r = 0; r < size; r++) {
            long long v = val(r, i);
            if (op == MPI_SUM) {
                e += v;
            } else if (op == MPI_MAX) {
                e = r == 0 || v > e ? v : e;
            } else if (op == MPI_MIN) {
                e = r == 0 || v < e ? v : e;
            } else if (op == MPI_BOR) {
                e |= v;
            } else if (op == MPI_BAND) {
                e &= v;
            } else if (op == MPI_BXOR) {
                e ^= v;
            }
        }
        CHECK(got[i] == (int)e, "%s [%d] = %d, expected %lld", what, i, got[i], e);
    }
}

static void test_reduce_allreduce(void)
{
    MPI_Op ops[] = {MPI_SUM, MPI_MAX, MPI_MIN, MPI_BOR, MPI_BAND, MPI_BXOR};
    for (int c = 0; c < NCOUNTS; c++) {
        int n = counts[c];
        int *s = malloc((size_t)(n + 1) * sizeof(int)), *r = malloc((size_t)(n + 1) * sizeof(int));
        for (int i = 0; i < n; i++) {
            s[i] = val(rank, i);
        }
        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
            int root = (int)o % size;
            memset(r, 0, (size_t)(n + 1) * sizeof(int));
            MPI_Reduce(s, r, n, MPI_INT, ops[o], root, MPI_COMM_WORLD);
            if (rank == root) {
                check_int_reduction(r, n, ops[o], "reduce");
            }
            MPI_Allreduce(s, r, n, MPI_INT, ops[o], MPI_COMM_WORLD);
            check_int_reduction(r, n, ops[o], "allreduce");
            memcpy(r, s, (size_t)n * sizeof(int)); /* in place */
            MPI_Allreduce(MPI_IN_PLACE, r, n, MPI_INT, ops[o], MPI_COMM_WORLD);
            check_int_reduction(r, n, ops[o], "allreduce in place");
            memcpy(r, s, (size_t)n * sizeof(int));
            MPI_Reduce(rank == root ? MPI_IN_PLACE : r, rank == root ? r : NULL, n, MPI_INT, ops[o],
                       root, MPI_COMM_WORLD);
            if (rank == root) {
                check_int_reduction(r, n, ops[o], "reduce in place");
            }
        }
        /* Floating point against a sequential sum in rank order. */
        double *ds = malloc((size_t)(n + 1) * sizeof(double)),
               *dr = malloc((size_t)(n + 1) * sizeof(double));
        for (int i = 0; i < n; i++) {
            ds[i] = 1.0 / (rank + 1 + i % 7);
        }
        MPI_Allreduce(ds, dr, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            double e = 0;
            for (int q = 0; q < size; q++) {
                e += 1.0 / (q + 1 + i % 7);
            }
            CHECK(fabs(dr[i] - e) <= 1e-12 * fabs(e), "double sum [%d] %.17g vs %.17g", i, dr[i],
                  e);
        }
        free(ds), free(dr);
        /* The non-commutative user operation, every algorithm keeps rank order. */
        MPI_Datatype mat;
        MPI_Type_contiguous(4, MPI_INT, &mat);
        MPI_Type_commit(&mat);
        MPI_Op mm;
        MPI_Op_create(matmul, 0, &mm);
        int *ms = malloc((size_t)(4 * n + 4) * sizeof(int)),
            *mr = malloc((size_t)(4 * n + 4) * sizeof(int));
        for (int i = 0; i < n; i++) {
            mat_of(rank, i, &ms[4 * i]);
        }
        for (int root = 0; root<size; root += size> 2 ? size - 1 : 1) {
            MPI_Reduce(ms, mr, n, mat, mm, root, MPI_COMM_WORLD);
            for (int i = 0; rank == root && i < n; i++) {
                int e[4];
                mat_range(0, size, i, e);
                CHECK(!memcmp(&mr[4 * i], e, sizeof(e)), "non-commutative reduce root %d [%d]",
                      root, i);
            }
        }
        MPI_Allreduce(ms, mr, n, mat, mm, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            int e[4];
            mat_range(0, size, i, e);
            CHECK(!memcmp(&mr[4 * i], e, sizeof(e)), "non-commutative allreduce n=%d [%d]", n, i);
        }
        MPI_Op_free(&mm);
        MPI_Type_free(&mat);
        free(ms), free(mr), free(s), free(r);
    }
    /* MPI_CHAR sums, logical ops, MAXLOC/MINLOC. */
    char cs[3] = {(char)(rank + 1), 2, 3}, cr[3];
    MPI_Allreduce(cs, cr, 3, MPI_CHAR, MPI_SUM, MPI_COMM_WORLD);
    CHECK(cr[0] == (char)(size * (size + 1) / 2) && cr[1] == (char)(2 * size), "char sum %d %d",
          cr[0], cr[1]);
    int l = rank == 0, lr;
    MPI_Allreduce(&l, &lr, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    CHECK(lr == 1, "lor");
    MPI_Allreduce(&l, &lr, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    CHECK(lr == (size == 1), "land");
    MPI_Allreduce(&l, &lr, 1, MPI_INT, MPI_LXOR, MPI_COMM_WORLD);
    CHECK(lr == 1, "lxor");
    struct {
        double v;
        int i;
    } dl = {(double)((rank * 5) % size), rank}, dlr;
    MPI_Allreduce(&dl, &dlr, 1, MPI_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD);
    int best = 0;
    for (int q = 0; q < size; q++) {
        best = (q * 5) % size > (best * 5) % size ? q : best;
    }
    CHECK(dlr.v == (double)((best * 5) % size) && dlr.i == best, "maxloc %g@%d", dlr.v, dlr.i);
    int il[2] = {rank % 2, rank}, ilr[2];
    MPI_Allreduce(il, ilr, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
    CHECK(ilr[0] == 0 && ilr[1] == 0, "minloc %d@%d (ties: lowest index)", ilr[0], ilr[1]);
    double a = rank + 1.5, ar;
    MPI_Reduce_local(&a, &a, 1, MPI_DOUBLE, MPI_SUM);
    CHECK(a == 2 * (rank + 1.5), "reduce_local");
    MPI_Allreduce(&a, &ar, 1, MPI_DOUBLE, MPI_PROD, MPI_COMM_WORLD);
    double e = 1;
    for (int q = 0; q < size; q++) {
        e *= 2 * (q + 1.5);
    }
    CHECK(fabs(ar - e) <= 1e-12 * e, "double prod %g vs %g", ar, e);
}

static void test_gather_scatter(void)
{
    for (int c = 0; c < 4; c++) {
        int n = counts[c];
        int *s = malloc((size_t)(n * size + 1) * sizeof(int));
        int *r = malloc((size_t)(n * size + 1) * sizeof(int));
        for (int root = 0; root < size; root++) {
            for (int i = 0; i < n; i++) {
                s[i] = val(rank, i);
            }
            memset(r, 0xff, (size_t)(n * size + 1) * sizeof(int));
            MPI_Gather(s, n, MPI_INT, r, n, MPI_INT, root, MPI_COMM_WORLD);
            for (int q = 0; rank == root && q < size; q++) {
                for (int i = 0; i < n; i++) {
                    CHECK(r[q * n + i] == val(q, i), "gather root %d from %d [%d]", root, q, i);
                }
            }
            /* in place at the root */
            if (rank == root) {
                for (int i = 0; i < n; i++) {
                    r[root * n + i] = val(root, i);
                }
            }
            MPI_Gather(rank == root ? MPI_IN_PLACE : s, n, MPI_INT, r, n, MPI_INT, root,
                       MPI_COMM_WORLD);
            for (int q = 0; rank == root && q < size; q++) {
                for (int i = 0; i < n; i++) {
                    CHECK(r[q * n + i] == val(q, i), "gather in place root %d [%d]", root, i);
                }
            }
            /* scatter: the root's blocks go out */
            for (int q = 0; rank == root && q < size; q++) {
                for (int i = 0; i < n; i++) {
                    r[q * n + i] = val(q + 100, i);
                }
            }
            memset(s, 0, (size_t)(n + 1) * sizeof(int));
            MPI_Scatter(r, n, MPI_INT, s, n, MPI_INT, root, MPI_COMM_WORLD);
            for (int i = 0; i < n; i++) {
                CHECK(s[i] == val(rank + 100, i), "scatter root %d [%d] = %d", root, i, s[i]);
            }
        }
        /* allgather, and in place */
        for (int i = 0; i < n; i++) {
            s[i] = val(rank, i);
        }
        MPI_Allgather(s, n, MPI_INT, r, n, MPI_INT, MPI_COMM_WORLD);
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                CHECK(r[q * n + i] == val(q, i), "allgather from %d [%d]", q, i);
            }
        }
        memset(r, 0, (size_t)(n * size + 1) * sizeof(int));
        memcpy(&r[rank * n], s, (size_t)n * sizeof(int));
        MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, n, MPI_INT, MPI_COMM_WORLD);
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                CHECK(r[q * n + i] == val(q, i), "allgather in place from %d [%d]", q, i);
            }
        }
        free(s), free(r);
    }
    /* v forms: rank q contributes q+1 ints, placed in reverse order of ranks */
    int *rc = malloc((size_t)size * sizeof(int)), *dis = malloc((size_t)size * sizeof(int));
    int total = 0;
    for (int q = size - 1; q >= 0; q--) {
        rc[q] = q + 1;
        dis[q] = total;
        total += q + 1;
    }
    int *mine = malloc((size_t)(rank + 1) * sizeof(int)),
        *all = malloc((size_t)total * sizeof(int));
    for (int i = 0; i <= rank; i++) {
        mine[i] = val(rank, i);
    }
    for (int root = 0; root < size; root++) {
        memset(all, 0, (size_t)total * sizeof(int));
        MPI_Gatherv(mine, rank + 1, MPI_INT, all, rc, dis, MPI_INT, root, MPI_COMM_WORLD);
        for (int q = 0; rank == root && q < size; q++) {
            for (int i = 0; i <= q; i++) {
                CHECK(all[dis[q] + i] == val(q, i), "gatherv from %d [%d]", q, i);
            }
        }
        memset(mine, 0, (size_t)(rank + 1) * sizeof(int));
        MPI_Scatterv(all, rc, dis, MPI_INT, mine, rank + 1, MPI_INT, root, MPI_COMM_WORLD);
        for (int i = 0; i <= rank; i++) { /* the root's gathered blocks come back */
            CHECK(mine[i] == val(rank, i), "scatterv root %d [%d] = %d", root, i, mine[i]);
        }
        for (int i = 0; i <= rank; i++) {
            mine[i] = val(rank, i);
        }
    }
    memset(all, 0, (size_t)total * sizeof(int));
    MPI_Allgatherv(mine, rank + 1, MPI_INT, all, rc, dis, MPI_INT, MPI_COMM_WORLD);
    for (int q = 0; q < size; q++) {
        for (int i = 0; i <= q; i++) {
            CHECK(all[dis[q] + i] == val(q, i), "allgatherv from %d [%d]", q, i);
        }
    }
    free(rc), free(dis), free(mine), free(all);
}

static void test_alltoall(void)
{
    for (int c = 0; c < 4; c++) {
        int n = counts[c];
        int *s = malloc((size_t)(n * size + 1) * sizeof(int));
        int *r = malloc((size_t)(n * size + 1) * sizeof(int));
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                s[q * n + i] = val(rank * size + q, i); /* from rank to q */
            }
        }
        MPI_Alltoall(s, n, MPI_INT, r, n, MPI_INT, MPI_COMM_WORLD);
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                CHECK(r[q * n + i] == val(q * size + rank, i), "alltoall n=%d from %d [%d]", n, q,
                      i);
            }
        }
        memcpy(r, s, (size_t)(n * size) * sizeof(int));
        MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, n, MPI_INT, MPI_COMM_WORLD);
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                CHECK(r[q * n + i] == val(q * size + rank, i), "alltoall in place from %d", q);
            }
        }
        free(s), free(r);
    }
    /* alltoallv: rank a sends a+b+1 ints to b; alltoallw with byte displacements. */
    int *sc = malloc((size_t)size * sizeof(int)), *sd = malloc((size_t)size * sizeof(int));
    int *rcn = malloc((size_t)size * sizeof(int)), *rd = malloc((size_t)size * sizeof(int));
    int st = 0, rt = 0;
    for (int q = 0; q < size; q++) {
        sc[q] = rank + q + 1, sd[q] = st, st += sc[q];
        rcn[q] = q + rank + 1, rd[q] = rt, rt += rcn[q];
    }
    int *s = malloc((size_t)st * sizeof(int)), *r = malloc((size_t)rt * sizeof(int));
    for (int q = 0; q < size; q++) {
        for (int i = 0; i < sc[q]; i++) {
            s[sd[q] + i] = val(rank * size + q, i);
        }
    }
    MPI_Alltoallv(s, sc, sd, MPI_INT, r, rcn, rd, MPI_INT, MPI_COMM_WORLD);
    for (int q = 0; q < size; q++) {
        for (int i = 0; i < rcn[q]; i++) {
            CHECK(r[rd[q] + i] == val(q * size + rank, i), "alltoallv from %d [%d]", q, i);
        }
    }
    MPI_Datatype *types = malloc((size_t)size * sizeof(MPI_Datatype));
    int *sdb = malloc((size_t)size * sizeof(int)), *rdb = malloc((size_t)size * sizeof(int));
    for (int q = 0; q < size; q++) {
        types[q] = MPI_INT, sdb[q] = sd[q] * (int)sizeof(int), rdb[q] = rd[q] * (int)sizeof(int);
    }
    memset(r, 0, (size_t)rt * sizeof(int));
    MPI_Alltoallw(s, sc, sdb, types, r, rcn, rdb, types, MPI_COMM_WORLD);
    for (int q = 0; q < size; q++) {
        for (int i = 0; i < rcn[q]; i++) {
            CHECK(r[rd[q] + i] == val(q * size + rank, i), "alltoallw from %d [%d]", q, i);
        }
    }
    free(types), free(sdb), free(rdb), free(sc), free(sd), free(rcn), free(rd), free(s), free(r);
}

static void test_reduce_scatter_scan(void)
{
    for (int c = 0; c < 4; c++) {
        int n = counts[c];
        int *s = malloc((size_t)(n * size + 1) * sizeof(int)),
            *r = malloc((size_t)(n * size + 1) * sizeof(int));
        int *rc = malloc((size_t)size * sizeof(int));
        for (int i = 0; i < n * size; i++) {
            s[i] = val(rank, i);
        }
        for (int q = 0; q < size; q++) {
            rc[q] = n;
        }
        MPI_Reduce_scatter_block(s, r, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        int *full = malloc((size_t)(n * size + 1) * sizeof(int));
        for (int i = 0; i < n; i++) {
            long long e = 0;
            for (int q = 0; q < size; q++) {
                e += val(q, rank * n + i);
            }
            CHECK(r[i] == (int)e, "reduce_scatter_block [%d] = %d vs %lld", i, r[i], e);
        }
        memcpy(full, s, (size_t)(n * size) * sizeof(int));
        MPI_Reduce_scatter(MPI_IN_PLACE, full, rc, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            long long e = 0;
            for (int q = 0; q < size; q++) {
                e += val(q, rank * n + i);
            }
            CHECK(full[i] == (int)e, "reduce_scatter in place [%d]", i);
        }
        /* scan, exscan: sums and the non-commutative product */
        MPI_Scan(s, r, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            long long e = 0;
            for (int q = 0; q <= rank; q++) {
                e += val(q, i);
            }
            CHECK(r[i] == (int)e, "scan [%d] = %d vs %lld", i, r[i], e);
        }
        MPI_Exscan(s, r, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; rank > 0 && i < n; i++) {
            long long e = 0;
            for (int q = 0; q < rank; q++) {
                e += val(q, i);
            }
            CHECK(r[i] == (int)e, "exscan [%d] = %d vs %lld", i, r[i], e);
        }
        memcpy(r, s, (size_t)n * sizeof(int));
        MPI_Scan(MPI_IN_PLACE, r, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            CHECK(r[i] == val(rank, i), "scan max in place [%d]", i); /* val grows with rank */
        }
        MPI_Datatype mat;
        MPI_Type_contiguous(4, MPI_INT, &mat);
        MPI_Type_commit(&mat);
        MPI_Op mm;
        MPI_Op_create(matmul, 0, &mm);
        int *ms = malloc((size_t)(4 * n + 4) * sizeof(int)),
            *mr = malloc((size_t)(4 * n + 4) * sizeof(int));
        for (int i = 0; i < n; i++) {
            mat_of(rank, i, &ms[4 * i]);
        }
        MPI_Scan(ms, mr, n, mat, mm, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            int e[4];
            mat_range(0, rank + 1, i, e);
            CHECK(!memcmp(&mr[4 * i], e, sizeof(e)), "non-commutative scan [%d]", i);
        }
        MPI_Exscan(ms, mr, n, mat, mm, MPI_COMM_WORLD);
        for (int i = 0; rank > 0 && i < n; i++) {
            int e[4];
            mat_range(0, rank, i, e);
            CHECK(!memcmp(&mr[4 * i], e, sizeof(e)), "non-commutative exscan [%d]", i);
        }
        int *mrs = malloc((size_t)(4 * n + 4) * sizeof(int));
        int *mfull = malloc((size_t)(4 * n * size + 4) * sizeof(int));
        for (int q = 0; q < size; q++) {
            for (int i = 0; i < n; i++) {
                mat_of(rank, q * n + i, &mfull[4 * (q * n + i)]);
            }
        }
        MPI_Reduce_scatter_block(mfull, mrs, n, mat, mm, MPI_COMM_WORLD);
        for (int i = 0; i < n; i++) {
            int e[4];
            mat_range(0, size, rank * n + i, e);
            CHECK(!memcmp(&mrs[4 * i], e, sizeof(e)), "non-commutative reduce_scatter [%d]", i);
        }
        MPI_Op_free(&mm);
        MPI_Type_free(&mat);
        free(ms), free(mr), free(mrs), free(mfull), free(s), free(r), free(rc), free(full);
    }
}

/* Several nonblocking collectives in flight at once, completed together. */
static void test_nonblocking(void)
{
    enum { N = 3000 };
    int *a = malloc(N * sizeof(int)), *b = malloc(N * sizeof(int)), *c = malloc(N * sizeof(int));
    int *g = malloc((size_t)(size * 4) * sizeof(int)), mine[4] = {rank, rank, rank, rank};
    int *x = malloc((size_t)size * sizeof(int)), *y = malloc((size_t)size * sizeof(int));
    for (int i = 0; i < N; i++) {
        a[i] = rank == size - 1 ? val(9, i) : 0;
        b[i] = val(rank, i);
    }
    for (int q = 0; q < size; q++) {
        x[q] = rank * 100 + q;
    }
    MPI_Request rq[8];
    int sum = rank + 1, total = 0, pre = 0;
    MPI_Ibcast(a, N, MPI_INT, size - 1, MPI_COMM_WORLD, &rq[0]);
    MPI_Iallreduce(b, c, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &rq[1]);
    MPI_Ibarrier(MPI_COMM_WORLD, &rq[2]);
    MPI_Iallgather(mine, 4, MPI_INT, g, 4, MPI_INT, MPI_COMM_WORLD, &rq[3]);
    MPI_Ialltoall(x, 1, MPI_INT, y, 1, MPI_INT, MPI_COMM_WORLD, &rq[4]);
    MPI_Ireduce(&sum, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD, &rq[5]);
    MPI_Iscan(&sum, &pre, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &rq[6]);
    int flag = 0;
    MPI_Testall(7, rq, &flag, MPI_STATUSES_IGNORE); /* may or may not be done */
    if (!flag) {
        MPI_Waitall(7, rq, MPI_STATUSES_IGNORE);
    }
    for (int i = 0; i < N; i++) {
        CHECK(a[i] == val(9, i), "ibcast [%d]", i);
        long long e = 0;
        for (int q = 0; q < size; q++) {
            e += val(q, i);
        }
        CHECK(c[i] == (int)e, "iallreduce [%d]", i);
    }
    for (int q = 0; q < size; q++) {
        CHECK(g[4 * q] == q && g[4 * q + 3] == q, "iallgather %d", q);
        CHECK(y[q] == q * 100 + rank, "ialltoall from %d: %d", q, y[q]);
    }
    CHECK(rank != 0 || total == size * (size + 1) / 2, "ireduce %d", total);
    CHECK(pre == (rank + 1) * (rank + 2) / 2, "iscan %d", pre);
    /* Waiting in reverse order of posting works too. */
    MPI_Ibarrier(MPI_COMM_WORLD, &rq[0]);
    MPI_Iallreduce(MPI_IN_PLACE, &sum, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &rq[1]);
    MPI_Wait(&rq[1], MPI_STATUS_IGNORE);
    MPI_Wait(&rq[0], MPI_STATUS_IGNORE);
    CHECK(sum == size && rq[0] == MPI_REQUEST_NULL, "iallreduce max %d", sum);
    /* MPI's progress rule: collectives in flight move while a rank waits for
     * something else. Odd ranks wait for theirs in reverse order, even ranks
     * in order, and rank 0 first waits for a message rank 1 sends only after
     * its own barrier completed. */
    enum { NB = 24 };
    MPI_Request many[NB];
    int vals[NB], outs[NB];
    for (int k = 0; k < NB; k++) {
        vals[k] = rank * NB + k;
        if (k % 3 == 0) {
            MPI_Iallreduce(&vals[k], &outs[k], 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &many[k]);
        } else if (k % 3 == 1) {
            outs[k] = rank == k % size ? vals[k] : -1;
            MPI_Ibcast(&outs[k], 1, MPI_INT, k % size, MPI_COMM_WORLD, &many[k]);
        } else {
            MPI_Iscan(&vals[k], &outs[k], 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &many[k]);
        }
    }
    for (int k = 0; k < NB; k++) {
        MPI_Wait(&many[rank % 2 ? NB - 1 - k : k], MPI_STATUS_IGNORE);
    }
    for (int k = 0; k < NB; k++) {
        int want = 0;
        for (int q = 0; q < (k % 3 == 2 ? rank + 1 : size); q++) { /* sum or prefix sum */
            want += q * NB + k;
        }
        if (k % 3 == 1) {
            want = (k % size) * NB + k;
        }
        CHECK(outs[k] == want, "collective %d of %d waited out of order: %d, not %d", k, NB,
              outs[k], want);
    }
    MPI_Request bar;
    MPI_Ibarrier(MPI_COMM_WORLD, &bar);
    if (size > 1 && rank == 0) {
        int from1 = -1;
        MPI_Recv(&from1, 1, MPI_INT, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(from1 == 1, "message after the barrier: %d", from1);
    }
    MPI_Wait(&bar, MPI_STATUS_IGNORE);
    if (size > 1 && rank == 1) {
        MPI_Send(&rank, 1, MPI_INT, 0, 99, MPI_COMM_WORLD);
    }
    free(a), free(b), free(c), free(g), free(x), free(y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc > 1 && strcmp(argv[1], "--small") == 0) {
        ncounts = 4;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    test_barrier_bcast();
    test_reduce_allreduce();
    test_gather_scatter();
    test_alltoall();
    test_reduce_scatter_scan();
    test_nonblocking();
    checks_passed();
    MPI_Finalize();
    return 0;
}
