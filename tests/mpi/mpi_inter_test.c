/* Collectives on intercommunicators (MPI-3.1 5.2.2): every one, blocking
 * and nonblocking, between two groups of unequal size (world ranks
 * 0..a-1 and a..size-1, a = (size+1)/3), with MPI_ROOT and MPI_PROC_NULL
 * at the root's group. Every expected value is computed here from the
 * world ranks, not by another collective. Needs 2 ranks or more; prints
 * "rank R: N checks passed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

/* This process's side of the intercommunicator. */
static struct {
    MPI_Comm inter;
    int in_a;         /* in the group of world ranks 0..a-1 */
    int a, lrank;     /* the first group's size, this rank in its group */
    int lsize, rsize; /* this group's size, the other's */
} g;

/* The world rank of rank r of the remote group, and of the local one. */
static int remote_world(int r)
{
    return g.in_a ? g.a + r : r;
}
static int local_world(int r)
{
    return g.in_a ? r : g.a + r;
}

/* A value only rank w's element i can have. */
static int val(int w, int i)
{
    return w * 1000 + i + 1;
}

/* The root's group passes MPI_ROOT at the root and MPI_PROC_NULL at the
 * rest; the other group names the root's rank in it. */
static int root_arg(int root_in_a, int root_local)
{
    if (g.in_a == root_in_a) {
        return g.lrank == root_local ? MPI_ROOT : MPI_PROC_NULL;
    }
    return root_local;
}

static void test_barrier_bcast(void)
{
    CHECK(MPI_Barrier(g.inter) == MPI_SUCCESS, "barrier");
    for (int dir = 0; dir < 2; dir++) { /* from the first group's last rank, then the other's */
        int root_in_a = dir == 0, root_local = root_in_a ? g.a - 1 : 0;
        int root_world = root_in_a ? root_local : g.a + root_local;
        int root = root_arg(root_in_a, root_local), buf[5];
        for (int i = 0; i < 5; i++) {
            buf[i] = root == MPI_ROOT ? val(rank, i) : -1;
        }
        MPI_Bcast(buf, 5, MPI_INT, root, g.inter);
        for (int i = 0; i < 5; i++) {
            int want = root == MPI_ROOT        ? val(rank, i)
                       : root == MPI_PROC_NULL ? -1
                                               : val(root_world, i);
            CHECK(buf[i] == want, "bcast dir %d [%d] = %d, want %d", dir, i, buf[i], want);
        }
    }
}

/* An affine map x -> m x + c; a op b is "a, then b": associative, not commutative. */
static void affine_then(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    unsigned *a = in, *b = inout;
    for (int k = 0; k < *len; k++, a += 2, b += 2) {
        unsigned m = a[0] * b[0], c = b[0] * a[1] + b[1];
        b[0] = m, b[1] = c;
    }
}

static void affine_of(int w, unsigned out[2])
{
    out[0] = 3u + 2u * (unsigned)w, out[1] = 7u * (unsigned)w + 1u;
}

static void test_reductions(void)
{
    /* Reduce: the sum of the first group's data at the other group's rank 0, and back. */
    for (int dir = 0; dir < 2; dir++) {
        int root_in_a = dir == 1, root = root_arg(root_in_a, 0);
        int sbuf[4], rbuf[4] = {-1, -1, -1, -1};
        for (int i = 0; i < 4; i++) {
            sbuf[i] = val(rank, i);
        }
        MPI_Reduce(sbuf, rbuf, 4, MPI_INT, MPI_SUM, root, g.inter);
        for (int i = 0; i < 4; i++) {
            int want = -1;
            if (root == MPI_ROOT) {
                want = 0;
                for (int r = 0; r < g.rsize; r++) {
                    want += val(remote_world(r), i);
                }
            }
            CHECK(rbuf[i] == want, "reduce dir %d [%d] = %d, want %d", dir, i, rbuf[i], want);
        }
    }
    /* Allreduce, a sum and a non-commutative operation: each group gets the other's. */
    int s3[3], r3[3];
    for (int i = 0; i < 3; i++) {
        s3[i] = val(rank, i);
    }
    MPI_Allreduce(s3, r3, 3, MPI_INT, MPI_SUM, g.inter);
    for (int i = 0; i < 3; i++) {
        int want = 0;
        for (int r = 0; r < g.rsize; r++) {
            want += val(remote_world(r), i);
        }
        CHECK(r3[i] == want, "allreduce [%d] = %d, want %d", i, r3[i], want);
    }
    MPI_Datatype pair;
    MPI_Op then;
    MPI_Type_contiguous(2, MPI_UNSIGNED, &pair);
    MPI_Type_commit(&pair);
    MPI_Op_create(affine_then, 0, &then);
    unsigned mine[2], got[2], want[2];
    affine_of(rank, mine);
    affine_of(remote_world(0), want);
    for (int r = 1; r < g.rsize; r++) { /* in rank order of the other group */
        unsigned next[2];
        affine_of(remote_world(r), next);
        int one = 1;
        affine_then(want, next, &one, NULL);
        memcpy(want, next, sizeof(want));
    }
    MPI_Allreduce(mine, got, 1, pair, then, g.inter);
    CHECK(got[0] == want[0] && got[1] == want[1], "non-commutative allreduce (%u,%u) want (%u,%u)",
          got[0], got[1], want[0], want[1]);
    MPI_Op_free(&then);
    MPI_Type_free(&pair);

    /* Reduce_scatter(_block): both groups reduce vectors of T = 2 a b
     * elements; the other group's sum is cut among this one's ranks. */
    int b = size - g.a, total = 2 * g.a * b;
    int *in = malloc((size_t)total * sizeof(int)), *out = malloc((size_t)total * sizeof(int));
    int *counts = malloc((size_t)g.lsize * sizeof(int));
    for (int i = 0; i < total; i++) {
        in[i] = val(rank, i);
    }
    for (int form = 0; form < 2; form++) {
        int at = 0;
        for (int r = 0; r < g.lsize; r++) { /* block: equal; v: rank 0 takes the rest */
            counts[r] = form == 0 ? total / g.lsize : r == 0 ? total - (g.lsize - 1) : 1;
            at += r < g.lrank ? counts[r] : 0;
        }
        for (int i = 0; i < total; i++) {
            out[i] = -7;
        }
        if (form == 0) {
            MPI_Reduce_scatter_block(in, out, counts[0], MPI_INT, MPI_SUM, g.inter);
        } else {
            MPI_Reduce_scatter(in, out, counts, MPI_INT, MPI_SUM, g.inter);
        }
        for (int i = 0; i < total; i++) {
            int want_i = -7;
            if (i < counts[g.lrank]) {
                want_i = 0;
                for (int r = 0; r < g.rsize; r++) {
                    want_i += val(remote_world(r), at + i);
                }
            }
            CHECK(out[i] == want_i, "reduce_scatter form %d [%d] = %d, want %d", form, i, out[i],
                  want_i);
        }
    }
    free(in), free(out), free(counts);
}

/* Elements per message from world rank s to world rank d in the v-forms. */
static int vcount(int s, int d)
{
    return (s + 2 * d) % 3 + 1;
}

static void test_rooted(void)
{
    int rs = g.rsize, big = 3 * size + 3;
    int *rbuf = malloc((size_t)big * 3 * sizeof(int)),
        *sbuf = malloc((size_t)big * 3 * sizeof(int));
    int *counts = malloc((size_t)rs * sizeof(int)), *displs = malloc((size_t)rs * sizeof(int));
    /* Gather at the second group's rank 0, then gatherv at the first's last rank. */
    for (int form = 0; form < 2; form++) {
        int root_in_a = form == 1, root_local = root_in_a ? g.a - 1 : 0;
        int root_world = root_in_a ? root_local : g.a;
        int root = root_arg(root_in_a, root_local);
        for (int i = 0; i < big * 3; i++) {
            rbuf[i] = -1;
        }
        int mine = form == 0 ? 3 : vcount(rank, root_world);
        for (int i = 0; i < mine; i++) {
            sbuf[i] = val(rank, i);
        }
        int at = 0;
        for (int r = 0; r < rs; r++) {
            counts[r] = form == 0 ? 3 : vcount(remote_world(r), root_world);
            displs[r] = at + (form == 1); /* v: a gap of one before each block */
            at = displs[r] + counts[r];
        }
        if (form == 0) {
            MPI_Gather(sbuf, 3, MPI_INT, rbuf, 3, MPI_INT, root, g.inter);
        } else {
            MPI_Gatherv(sbuf, mine, MPI_INT, rbuf, counts, displs, MPI_INT, root, g.inter);
        }
        if (root == MPI_ROOT) {
            for (int r = 0; r < rs; r++) {
                for (int i = 0; i < counts[r]; i++) {
                    int got = rbuf[displs[r] + i], want = val(remote_world(r), i);
                    CHECK(got == want, "gather form %d from %d [%d] = %d, want %d", form, r, i, got,
                          want);
                }
            }
            if (form == 1) {
                CHECK(rbuf[0] == -1, "gatherv wrote the gap");
            }
        } else {
            CHECK(rbuf[0] == -1, "gather form %d wrote a non-root's buffer", form);
        }
    }
    /* Scatter from the first group's rank 0, then scatterv from the second's last. */
    for (int form = 0; form < 2; form++) {
        int root_in_a = form == 0, root_local = root_in_a ? 0 : size - g.a - 1;
        int root_world = root_in_a ? 0 : size - 1;
        int root = root_arg(root_in_a, root_local), at = 0;
        for (int r = 0; r < rs; r++) {
            counts[r] = form == 0 ? 2 : vcount(root_world, remote_world(r));
            displs[r] = at + form;
            at = displs[r] + counts[r];
            for (int i = 0; root == MPI_ROOT && i < counts[r]; i++) {
                sbuf[displs[r] + i] = val(remote_world(r), i) + 5 * rank;
            }
        }
        int want_n = form == 0 ? 2 : vcount(root_world, rank);
        for (int i = 0; i < 4; i++) {
            rbuf[i] = -1;
        }
        if (form == 0) {
            MPI_Scatter(sbuf, 2, MPI_INT, rbuf, 2, MPI_INT, root, g.inter);
        } else {
            MPI_Scatterv(sbuf, counts, displs, MPI_INT, rbuf, want_n, MPI_INT, root, g.inter);
        }
        for (int i = 0; i < 4; i++) {
            int want = root < 0 || i >= want_n ? -1 : val(rank, i) + 5 * root_world;
            CHECK(rbuf[i] == want, "scatter form %d [%d] = %d, want %d", form, i, rbuf[i], want);
        }
    }
    free(rbuf), free(sbuf), free(counts), free(displs);
}

static void test_all_to_all(void)
{
    int rs = g.rsize;
    int *sbuf = malloc((size_t)(4 * rs + 4) * sizeof(int)),
        *rbuf = malloc((size_t)(4 * rs + 4) * sizeof(int));
    int *sc = malloc((size_t)rs * sizeof(int)), *sd = malloc((size_t)rs * sizeof(int));
    int *rc = malloc((size_t)rs * sizeof(int)), *rd = malloc((size_t)rs * sizeof(int));
    /* Allgather and allgatherv: each group gets the other's blocks. */
    for (int form = 0; form < 2; form++) {
        int mine = form == 0 ? 2 : vcount(rank, 0), at = 0;
        for (int i = 0; i < mine; i++) {
            sbuf[i] = val(rank, i);
        }
        for (int r = 0; r < rs; r++) {
            rc[r] = form == 0 ? 2 : vcount(remote_world(r), 0);
            rd[r] = at;
            at += rc[r];
        }
        memset(rbuf, 0xff, (size_t)(4 * rs + 4) * sizeof(int));
        if (form == 0) {
            MPI_Allgather(sbuf, 2, MPI_INT, rbuf, 2, MPI_INT, g.inter);
        } else {
            MPI_Allgatherv(sbuf, mine, MPI_INT, rbuf, rc, rd, MPI_INT, g.inter);
        }
        for (int r = 0; r < rs; r++) {
            for (int i = 0; i < rc[r]; i++) {
                CHECK(rbuf[rd[r] + i] == val(remote_world(r), i), "allgather form %d from %d [%d]",
                      form, r, i);
            }
        }
    }
    /* Alltoall, alltoallv and alltoallw: block for remote rank r carries (me, r). */
    for (int form = 0; form < 3; form++) {
        int sat = 0, rat = 0;
        for (int r = 0; r < rs; r++) {
            sc[r] = form == 0 ? 2 : vcount(rank, remote_world(r));
            rc[r] = form == 0 ? 2 : vcount(remote_world(r), rank);
            sd[r] = sat, rd[r] = rat;
            sat += sc[r], rat += rc[r];
            for (int i = 0; i < sc[r]; i++) {
                sbuf[sd[r] + i] = val(rank, i) * 7 + remote_world(r);
            }
        }
        memset(rbuf, 0xff, (size_t)(4 * rs + 4) * sizeof(int));
        MPI_Request req;
        if (form == 0) {
            MPI_Ialltoall(sbuf, 2, MPI_INT, rbuf, 2, MPI_INT, g.inter, &req);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
        } else if (form == 1) {
            MPI_Alltoallv(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, MPI_INT, g.inter);
        } else {
            MPI_Datatype *types = malloc((size_t)rs * sizeof(MPI_Datatype));
            for (int r = 0; r < rs; r++) {
                types[r] = MPI_INT;
                sd[r] *= (int)sizeof(int), rd[r] *= (int)sizeof(int);
            }
            MPI_Alltoallw(sbuf, sc, sd, types, rbuf, rc, rd, types, g.inter);
            for (int r = 0; r < rs; r++) {
                sd[r] /= (int)sizeof(int), rd[r] /= (int)sizeof(int);
            }
            free(types);
        }
        for (int r = 0; r < rs; r++) {
            for (int i = 0; i < rc[r]; i++) {
                int want = val(remote_world(r), i) * 7 + rank;
                CHECK(rbuf[rd[r] + i] == want, "alltoall form %d from %d [%d] = %d, want %d", form,
                      r, i, rbuf[rd[r] + i], want);
            }
        }
    }
    free(sbuf), free(rbuf), free(sc), free(sd), free(rc), free(rd);
}

/* Several nonblocking collectives in flight on the intercommunicator at once. */
static void test_nonblocking(void)
{
    MPI_Request reqs[4];
    int one = val(rank, 0), sum = 0, bc = -1, gathered[64], root_in_a = g.a > 1;
    int root = root_arg(root_in_a, 0);
    MPI_Iallreduce(&one, &sum, 1, MPI_INT, MPI_SUM, g.inter, &reqs[0]);
    if (root == MPI_ROOT) {
        bc = 4242;
    }
    MPI_Ibcast(&bc, 1, MPI_INT, root, g.inter, &reqs[1]);
    MPI_Iallgather(&one, 1, MPI_INT, gathered, 1, MPI_INT, g.inter, &reqs[2]);
    MPI_Ibarrier(g.inter, &reqs[3]);
    MPI_Waitall(4, reqs, MPI_STATUSES_IGNORE);
    int want = 0;
    for (int r = 0; r < g.rsize; r++) {
        want += val(remote_world(r), 0);
        CHECK(gathered[r] == val(remote_world(r), 0), "iallgather [%d]", r);
    }
    CHECK(sum == want, "iallreduce %d want %d", sum, want);
    CHECK(bc == (root == MPI_PROC_NULL ? -1 : 4242), "ibcast %d", bc);
}

static void test_misuse(void)
{
    MPI_Comm_set_errhandler(g.inter, MPI_ERRORS_RETURN);
    int x = 1, y = 0;
    CHECK(MPI_Scan(&x, &y, 1, MPI_INT, MPI_SUM, g.inter) == MPI_ERR_COMM, "scan on inter");
    CHECK(MPI_Exscan(&x, &y, 1, MPI_INT, MPI_SUM, g.inter) == MPI_ERR_COMM, "exscan on inter");
    CHECK(MPI_Allreduce(MPI_IN_PLACE, &y, 1, MPI_INT, MPI_SUM, g.inter) == MPI_ERR_BUFFER,
          "in place on inter");
    CHECK(MPI_Bcast(&x, 1, MPI_INT, g.rsize, g.inter) == MPI_ERR_ROOT,
          "root past the remote group");
    CHECK(MPI_Bcast(&x, 1, MPI_INT, -7, g.inter) == MPI_ERR_ROOT, "root -7");
    int nb = 0;
    CHECK(MPI_Neighbor_allgather(&x, 1, MPI_INT, &nb, 1, MPI_INT, g.inter) == MPI_ERR_TOPOLOGY,
          "neighbourhood on inter");
    MPI_Comm_set_errhandler(g.inter, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size >= 2) {
        MPI_Comm local;
        g.a = (size + 1) / 3;
        g.in_a = rank < g.a;
        MPI_Comm_split(MPI_COMM_WORLD, g.in_a, rank, &local);
        MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, g.in_a ? g.a : 0, 99, &g.inter);
        MPI_Comm_rank(g.inter, &g.lrank);
        MPI_Comm_size(g.inter, &g.lsize);
        MPI_Comm_remote_size(g.inter, &g.rsize);
        CHECK(local_world(g.lrank) == rank, "local rank %d", g.lrank);
        test_barrier_bcast();
        test_reductions();
        test_rooted();
        test_all_to_all();
        test_nonblocking();
        test_misuse();
        MPI_Comm dup;
        MPI_Comm_dup(g.inter, &dup); /* collectives on a copy keep to it */
        MPI_Comm_free(&g.inter);
        g.inter = dup;
        test_reductions();
        MPI_Comm_free(&g.inter);
        MPI_Comm_free(&local);
    }
    checks_passed();
    MPI_Finalize();
    return 0;
}
