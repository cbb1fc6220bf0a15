/* Neighbourhood collectives (MPI-3.1 7.6), all ten, on cartesian, graph
 * and distributed-graph communicators. The neighbours and every expected
 * block are computed here from the ranks (not from MPI's topology calls):
 * a cartesian block comes from the neighbour's block for the opposite
 * side (so a periodic dimension of one or two, where both neighbours are
 * one process, is checked for direction, not arrival order); a graph
 * block is the one the source sent on its matching edge. Neighbours
 * MPI_PROC_NULL leave their block alone. Prints "rank R: N checks passed". */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"

#define MAXN 64 /* neighbours of one rank */

typedef enum { CART_RING, CART_GRID, GRAPH_RING, DIST_ADJ, DIST_GIVEN } shape_t;

static const char *const shape_names[] = {"1-d periodic cart", "2-d cart", "graph ring",
                                          "adjacent dist graph", "dist graph"};

/* The grid of CART_GRID: 2 x n/2 (or 1 x n), periodic in dimension 0 only. */
static void grid_dims(int *d0, int *d1)
{
    *d0 = size % 2 == 0 ? 2 : 1;
    *d1 = size / *d0;
}

/* Rank p's destinations in MPI's order; returns how many. */
static int dests_of(shape_t shape, int p, int *out)
{
    int n = 0;
    switch (shape) {
    case CART_RING: out[n++] = (p - 1 + size) % size, out[n++] = (p + 1) % size; break;
    case CART_GRID: {
        int d0, d1;
        grid_dims(&d0, &d1);
        int c0 = p / d1, c1 = p % d1;
        out[n++] = ((c0 - 1 + d0) % d0) * d1 + c1;
        out[n++] = ((c0 + 1) % d0) * d1 + c1;
        out[n++] = c1 > 0 ? p - 1 : MPI_PROC_NULL;
        out[n++] = c1 < d1 - 1 ? p + 1 : MPI_PROC_NULL;
        break;
    }
    case GRAPH_RING: out[n++] = (p + 1) % size, out[n++] = (p - 1 + size) % size; break;
    case DIST_ADJ:
    case DIST_GIVEN: /* even ranks reach the next two, odd ranks the next one */
        out[n++] = (p + 1) % size;
        if (p % 2 == 0) {
            out[n++] = (p + 2) % size;
        }
        break;
    }
    return n;
}

/* Rank q's sources: a cartesian or graph communicator's are its
 * destinations; a distributed graph's are the ranks that reach it, in
 * rank order (each as often as it does). */
static int sources_of(shape_t shape, int q, int *in)
{
    if (shape != DIST_ADJ && shape != DIST_GIVEN) {
        return dests_of(shape, q, in);
    }
    int n = 0, d[MAXN];
    for (int p = 0; p < size; p++) {
        int k = dests_of(shape, p, d);
        for (int j = 0; j < k; j++) {
            if (d[j] == q) {
                in[n++] = p;
            }
        }
    }
    return n;
}

static MPI_Comm make(shape_t shape)
{
    MPI_Comm c = MPI_COMM_NULL;
    int out[MAXN], in[MAXN];
    int nout = dests_of(shape, rank, out), nin = sources_of(shape, rank, in);
    if (shape == CART_RING) {
        int dims[1] = {size}, periods[1] = {1};
        MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &c);
    } else if (shape == CART_GRID) {
        int dims[2], periods[2] = {1, 0};
        grid_dims(&dims[0], &dims[1]);
        MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &c);
    } else if (shape == GRAPH_RING) {
        int *index = malloc((size_t)size * sizeof(int)),
            *edges = malloc((size_t)size * 2 * sizeof(int));
        for (int p = 0; p < size; p++) {
            index[p] = 2 * (p + 1);
            dests_of(shape, p, &edges[2 * p]);
        }
        MPI_Graph_create(MPI_COMM_WORLD, size, index, edges, 0, &c);
        free(index), free(edges);
    } else if (shape == DIST_ADJ) {
        int w_in[MAXN], w_out[MAXN];
        for (int i = 0; i < nin; i++) {
            w_in[i] = 10 * in[i] + rank;
        }
        for (int i = 0; i < nout; i++) {
            w_out[i] = 10 * rank + out[i];
        }
        MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, nin, in, w_in, nout, out, w_out,
                                       MPI_INFO_NULL, 0, &c);
        int indeg, outdeg, weighted, s[MAXN], sw[MAXN], d[MAXN], dw[MAXN];
        MPI_Dist_graph_neighbors_count(c, &indeg, &outdeg, &weighted);
        CHECK(indeg == nin && outdeg == nout && weighted, "dist graph counts %d %d %d", indeg,
              outdeg, weighted);
        MPI_Dist_graph_neighbors(c, MAXN, s, sw, MAXN, d, dw);
        for (int i = 0; i < nin; i++) {
            CHECK(s[i] == in[i] && sw[i] == w_in[i], "dist graph source %d", i);
        }
        for (int i = 0; i < nout; i++) {
            CHECK(d[i] == out[i] && dw[i] == w_out[i], "dist graph destination %d", i);
        }
    } else {
        /* Rank r gives the edges of source (r + 1) % size, unweighted. */
        int src = (rank + 1) % size, d[MAXN], deg = dests_of(shape, src, d);
        MPI_Dist_graph_create(MPI_COMM_WORLD, 1, &src, &deg, d, MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
                              &c);
        int indeg, outdeg, weighted, s[MAXN], dd[MAXN];
        MPI_Dist_graph_neighbors_count(c, &indeg, &outdeg, &weighted);
        CHECK(indeg == nin && outdeg == nout && !weighted, "given dist graph counts %d %d %d",
              indeg, outdeg, weighted);
        MPI_Dist_graph_neighbors(c, MAXN, s, MPI_UNWEIGHTED, MAXN, dd, MPI_UNWEIGHTED);
        /* The order is mrail's (by the rank that gave the edge); as sets they are these. */
        for (int i = 0; i < nin; i++) {
            int a = 0, b = 0;
            for (int j = 0; j < nin; j++) {
                a += s[j] == in[i], b += in[j] == in[i];
            }
            CHECK(a == b, "given dist graph: source %d seen %d times, want %d", in[i], a, b);
        }
        for (int i = 0; i < nout; i++) {
            int a = 0, b = 0;
            for (int j = 0; j < nout; j++) {
                a += dd[j] == out[i], b += out[j] == out[i];
            }
            CHECK(a == b, "given dist graph: destination %d seen %d times, want %d", out[i], a, b);
        }
    }
    int status;
    MPI_Topo_test(c, &status);
    CHECK(status == (shape <= CART_GRID    ? MPI_CART
                     : shape == GRAPH_RING ? MPI_GRAPH
                                           : MPI_DIST_GRAPH),
          "topology %d", status);
    return c;
}

/* This rank's neighbours: computed, except for a distributed graph made
 * by MPI_Dist_graph_create, whose order is the library's (its sets were
 * checked in make). */
static void lists(shape_t shape, MPI_Comm c, int *in, int *nin, int *out, int *nout)
{
    *nout = dests_of(shape, rank, out);
    *nin = sources_of(shape, rank, in);
    if (shape == DIST_GIVEN) {
        MPI_Dist_graph_neighbors(c, MAXN, in, MPI_UNWEIGHTED, MAXN, out, MPI_UNWEIGHTED);
    }
}

/* How often x occurs in list[0..k-1]. */
static int occurrences(const int *list, int k, int x)
{
    int n = 0;
    for (int i = 0; i < k; i++) {
        n += list[i] == x;
    }
    return n;
}

/* A block's name (a, b, c): on a cartesian communicator (sender, its
 * side, 0); on a graph (sender, receiver, which of the sender's edges to
 * that receiver: MPI pairs them in order). */
typedef struct {
    int a, b, c;
} block_t;

static block_t sent_on(shape_t shape, const int *out, int j)
{
    if (shape <= CART_GRID) {
        return (block_t){rank, j, 0};
    }
    return (block_t){rank, out[j], occurrences(out, j, out[j])};
}

static block_t received_on(shape_t shape, const int *in, int k)
{
    if (shape <= CART_GRID) {
        return (block_t){in[k], k ^ 1, 0}; /* the negative neighbour sent it the positive way */
    }
    return (block_t){in[k], rank, occurrences(in, k, in[k])};
}

static int elem(block_t b, int i)
{
    return b.a * 100000 + b.b * 1000 + b.c * 100 + i + 1;
}

/* Elements of a block in the v and w forms. */
static int vcount(block_t b)
{
    return (b.a + b.b + b.c) % 3 + 1;
}

static void check_allgather(shape_t shape, MPI_Comm c, int form)
{
    int out[MAXN], in[MAXN], nin, nout;
    lists(shape, c, in, &nin, out, &nout);
    int sbuf[4], rbuf[4 * MAXN + 4], counts[MAXN], displs[MAXN], at = 0;
    int mine = form == 0 ? 3 : rank % 3 + 1;
    for (int i = 0; i < mine; i++) {
        sbuf[i] = elem((block_t){rank, 0, 0}, i);
    }
    for (int k = 0; k < nin; k++) {
        counts[k] = form == 0 ? 3 : in[k] == MPI_PROC_NULL ? 2 : in[k] % 3 + 1;
        displs[k] = at + form; /* v: a gap before each block */
        at = displs[k] + counts[k];
    }
    for (int i = 0; i < 4 * MAXN + 4; i++) {
        rbuf[i] = -1;
    }
    MPI_Request req;
    if (form == 0) {
        MPI_Neighbor_allgather(sbuf, 3, MPI_INT, rbuf, 3, MPI_INT, c);
    } else {
        MPI_Ineighbor_allgatherv(sbuf, mine, MPI_INT, rbuf, counts, displs, MPI_INT, c, &req);
        MPI_Wait(&req, MPI_STATUS_IGNORE);
    }
    for (int k = 0; k < nin; k++) {
        for (int i = 0; i < counts[k]; i++) {
            int want = in[k] == MPI_PROC_NULL ? -1 : elem((block_t){in[k], 0, 0}, i);
            int got = rbuf[displs[k] + i];
            CHECK(got == want, "%s allgather form %d block %d [%d] = %d, want %d",
                  shape_names[shape], form, k, i, got, want);
        }
        if (form == 1) {
            CHECK(rbuf[displs[k] - 1] == -1, "%s allgatherv wrote the gap before %d",
                  shape_names[shape], k);
        }
    }
}

/* Alltoall (form 0, and 1 nonblocking), alltoallv (2, 3), alltoallw (4, 5). */
static void check_alltoall(shape_t shape, MPI_Comm c, int form)
{
    int out[MAXN], in[MAXN], nin, nout;
    lists(shape, c, in, &nin, out, &nout);
    int sbuf[4 * MAXN], rbuf[4 * MAXN + 4];
    int sc[MAXN], sd[MAXN], rc[MAXN], rd[MAXN];
    MPI_Aint sdw[MAXN], rdw[MAXN];
    MPI_Datatype types[MAXN];
    bool v = form >= 2;
    int at = 0;
    for (int j = 0; j < MAXN; j++) {
        types[j] = MPI_INT;
    }
    for (int j = 0; j < nout; j++) {
        block_t b = sent_on(shape, out, j);
        sc[j] = v ? vcount(b) : 2;
        sd[j] = at, sdw[j] = (MPI_Aint)at * (MPI_Aint)sizeof(int);
        at += sc[j];
        for (int i = 0; i < sc[j]; i++) {
            sbuf[sd[j] + i] = elem(b, i);
        }
    }
    at = 0;
    for (int k = 0; k < nin; k++) {
        rc[k] = !v ? 2 : in[k] == MPI_PROC_NULL ? 1 : vcount(received_on(shape, in, k));
        rd[k] = at + 1, rdw[k] = (MPI_Aint)(at + 1) * (MPI_Aint)sizeof(int);
        at = rd[k] + rc[k];
    }
    for (int i = 0; i < 4 * MAXN + 4; i++) {
        rbuf[i] = -1;
    }
    MPI_Request req = MPI_REQUEST_NULL;
    switch (form) {
    case 0: MPI_Neighbor_alltoall(sbuf, 2, MPI_INT, rbuf + 1, 2, MPI_INT, c); break;
    case 1: MPI_Ineighbor_alltoall(sbuf, 2, MPI_INT, rbuf + 1, 2, MPI_INT, c, &req); break;
    case 2: MPI_Neighbor_alltoallv(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, MPI_INT, c); break;
    case 3: MPI_Ineighbor_alltoallv(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, MPI_INT, c, &req); break;
    case 4: MPI_Neighbor_alltoallw(sbuf, sc, sdw, types, rbuf, rc, rdw, types, c); break;
    default: MPI_Ineighbor_alltoallw(sbuf, sc, sdw, types, rbuf, rc, rdw, types, c, &req); break;
    }
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    for (int k = 0; k < nin; k++) {
        int base = v ? rd[k] : 1 + 2 * k;
        block_t b = received_on(shape, in, k);
        for (int i = 0; i < rc[k]; i++) {
            int want = in[k] == MPI_PROC_NULL ? -1 : elem(b, i), got = rbuf[base + i];
            CHECK(got == want, "%s alltoall form %d block %d (from %d) [%d] = %d, want %d",
                  shape_names[shape], form, k, in[k], i, got, want);
        }
    }
}

static void check_misuse(MPI_Comm c)
{
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int x = 1, y[2 * MAXN];
    CHECK(MPI_Neighbor_allgather(&x, 1, MPI_INT, y, 1, MPI_INT, MPI_COMM_WORLD) == MPI_ERR_TOPOLOGY,
          "neighbourhood collective without a topology");
    CHECK(MPI_Neighbor_alltoall(MPI_IN_PLACE, 1, MPI_INT, y, 1, MPI_INT, c) == MPI_ERR_BUFFER,
          "MPI_IN_PLACE");
    CHECK(MPI_Neighbor_allgather(&x, -1, MPI_INT, y, 1, MPI_INT, c) == MPI_ERR_COUNT,
          "negative count");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(c, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (shape_t shape = CART_RING; shape <= DIST_GIVEN; shape++) {
        MPI_Comm c = make(shape), dup;
        for (int form = 0; form < 2; form++) {
            check_allgather(shape, c, form);
        }
        for (int form = 0; form < 6; form++) {
            check_alltoall(shape, c, form);
        }
        MPI_Comm_dup(c, &dup); /* a copy keeps the topology */
        check_alltoall(shape, dup, 2);
        if (shape == GRAPH_RING) {
            check_misuse(dup);
        }
        MPI_Comm_free(&dup);
        MPI_Comm_free(&c);
    }
    checks_passed();
    MPI_Finalize();
    return 0;
}
