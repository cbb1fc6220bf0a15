/* Graph topologies (MPI_Graph_*), and the calls that map a topology onto
 * ranks or cut a grid into sub-grids (MPI_Cart_sub, MPI_Cart_map,
 * MPI_Graph_map). Ranks are never reordered: on mrail's rails every pair
 * of ranks is as near as any other, so the identity mapping is kept. */
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Graph_create);
MRAIL_MPI_ALIAS(MPI_Graphdims_get);
MRAIL_MPI_ALIAS(MPI_Graph_get);
MRAIL_MPI_ALIAS(MPI_Graph_neighbors_count);
MRAIL_MPI_ALIAS(MPI_Graph_neighbors);
MRAIL_MPI_ALIAS(MPI_Graph_map);
MRAIL_MPI_ALIAS(MPI_Cart_map);
MRAIL_MPI_ALIAS(MPI_Cart_sub);
MRAIL_MPI_ALIAS(MPI_Dist_graph_create);

/* Checks a graph of nnodes: index non-decreasing from >= 0, edges ranks. */
static int check_graph(MPI_Comm comm, int nnodes, const int index[], const int edges[],
                       const char *fn)
{
    int size = mrail_obj.comms[comm].size;
    if (nnodes < 0 || nnodes > size) {
        return mpi_error(comm, MPI_ERR_ARG, fn,
                         "nnodes %d: a graph has 0 to %d nodes (the communicator's size)", nnodes,
                         size);
    }
    for (int i = 0; i < nnodes; i++) {
        if (index[i] < (i ? index[i - 1] : 0)) {
            return mpi_error(comm, MPI_ERR_ARG, fn,
                             "index[%d] = %d is below the one before (%d): index counts edges "
                             "cumulatively",
                             i, index[i], i ? index[i - 1] : 0);
        }
    }
    for (int e = 0; nnodes > 0 && e < index[nnodes - 1]; e++) {
        if (edges[e] < 0 || edges[e] >= nnodes) {
            return mpi_error(comm, MPI_ERR_RANK, fn, "edges[%d] = %d is not a node (0..%d)", e,
                             edges[e], nnodes - 1);
        }
    }
    return MPI_SUCCESS;
}

int PMPI_Graph_create(MPI_Comm comm_old, int nnodes, const int index[], const int edges[],
                      int reorder, MPI_Comm *comm_graph)
{
    (void)reorder;
    const char *fn = "MPI_Graph_create";
    int rc = mpi_check_comm(comm_old, fn);
    rc = rc ? rc : check_graph(comm_old, nnodes, index, edges, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int me = mrail_obj.comms[comm_old].rank;
    rc = PMPI_Comm_split(comm_old, me < nnodes ? 0 : MPI_UNDEFINED, me, comm_graph);
    if (rc != MPI_SUCCESS || *comm_graph == MPI_COMM_NULL) {
        return rc;
    }
    mpi_comm_t *c = &mrail_obj.comms[*comm_graph];
    int nedges = nnodes ? index[nnodes - 1] : 0;
    int first = me ? index[me - 1] : 0, degree = index[me] - first;
    c->topo = MPI_GRAPH;
    c->nnodes = nnodes;
    c->index = malloc((size_t)(nnodes + 1) * sizeof(int));
    c->edges = malloc((size_t)(nedges + 1) * sizeof(int));
    /* Neighbourhood collectives see a graph node's neighbours both ways. */
    c->indegree = c->outdegree = degree;
    c->sources = malloc((size_t)(degree + 1) * sizeof(int));
    c->destinations = malloc((size_t)(degree + 1) * sizeof(int));
    if (!c->index || !c->edges || !c->sources || !c->destinations) {
        return mpi_error(comm_old, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    memcpy(c->index, index, (size_t)nnodes * sizeof(int));
    memcpy(c->edges, edges, (size_t)nedges * sizeof(int));
    memcpy(c->sources, edges + first, (size_t)degree * sizeof(int));
    memcpy(c->destinations, edges + first, (size_t)degree * sizeof(int));
    return MPI_SUCCESS;
}

static int check_graph_comm(MPI_Comm comm, const char *fn)
{
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS && mrail_obj.comms[comm].topo != MPI_GRAPH) {
        rc = mpi_error(comm, MPI_ERR_TOPOLOGY, fn, "communicator %d has no graph topology", comm);
    }
    return rc;
}

int PMPI_Graphdims_get(MPI_Comm comm, int *nnodes, int *nedges)
{
    int rc = check_graph_comm(comm, "MPI_Graphdims_get");
    if (rc == MPI_SUCCESS) {
        const mpi_comm_t *c = &mrail_obj.comms[comm];
        *nnodes = c->nnodes;
        *nedges = c->nnodes ? c->index[c->nnodes - 1] : 0;
    }
    return rc;
}

int PMPI_Graph_get(MPI_Comm comm, int maxindex, int maxedges, int index[], int edges[])
{
    int rc = check_graph_comm(comm, "MPI_Graph_get");
    if (rc == MPI_SUCCESS) {
        const mpi_comm_t *c = &mrail_obj.comms[comm];
        int nedges = c->nnodes ? c->index[c->nnodes - 1] : 0;
        for (int i = 0; i < c->nnodes && i < maxindex; i++) {
            index[i] = c->index[i];
        }
        for (int e = 0; e < nedges && e < maxedges; e++) {
            edges[e] = c->edges[e];
        }
    }
    return rc;
}

static int node_check(const mpi_comm_t *c, MPI_Comm comm, int rank, const char *fn)
{
    if (rank < 0 || rank >= c->nnodes) {
        return mpi_error(comm, MPI_ERR_RANK, fn, "rank %d is not a node of the graph (0..%d)", rank,
                         c->nnodes - 1);
    }
    return MPI_SUCCESS;
}

int PMPI_Graph_neighbors_count(MPI_Comm comm, int rank, int *nneighbors)
{
    const char *fn = "MPI_Graph_neighbors_count";
    int rc = check_graph_comm(comm, fn);
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    rc = rc ? rc : node_check(c, comm, rank, fn);
    if (rc == MPI_SUCCESS) {
        *nneighbors = c->index[rank] - (rank ? c->index[rank - 1] : 0);
    }
    return rc;
}

int PMPI_Graph_neighbors(MPI_Comm comm, int rank, int maxneighbors, int neighbors[])
{
    const char *fn = "MPI_Graph_neighbors";
    int rc = check_graph_comm(comm, fn);
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    rc = rc ? rc : node_check(c, comm, rank, fn);
    if (rc == MPI_SUCCESS) {
        int first = rank ? c->index[rank - 1] : 0;
        for (int i = 0; i < c->index[rank] - first && i < maxneighbors; i++) {
            neighbors[i] = c->edges[first + i];
        }
    }
    return rc;
}

int PMPI_Graph_map(MPI_Comm comm, int nnodes, const int index[], const int edges[], int *newrank)
{
    const char *fn = "MPI_Graph_map";
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : check_graph(comm, nnodes, index, edges, fn);
    if (rc == MPI_SUCCESS) {
        int me = mrail_obj.comms[comm].rank;
        *newrank = me < nnodes ? me : MPI_UNDEFINED;
    }
    return rc;
}

int PMPI_Cart_map(MPI_Comm comm, int ndims, const int dims[], const int periods[], int *newrank)
{
    (void)periods;
    const char *fn = "MPI_Cart_map";
    int rc = mpi_check_comm(comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    long long n = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] <= 0) {
            return mpi_error(comm, MPI_ERR_DIMS, fn, "dims[%d] = %d (must be > 0)", i, dims[i]);
        }
        n *= dims[i];
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (ndims < 0 || n > c->size) {
        return mpi_error(comm, MPI_ERR_DIMS, fn,
                         "a %lld-process grid does not fit a communicator of %d", n, c->size);
    }
    *newrank = c->rank < n ? c->rank : MPI_UNDEFINED;
    return MPI_SUCCESS;
}

/* The sub-grids that keep the dimensions remain_dims marks: ranks with the
 * same coordinates in the others share one, ordered as in the grid. */
int PMPI_Cart_sub(MPI_Comm comm, const int remain_dims[], MPI_Comm *newcomm)
{
    const char *fn = "MPI_Cart_sub";
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS && mrail_obj.comms[comm].topo != MPI_CART) {
        rc = mpi_error(comm, MPI_ERR_TOPOLOGY, fn, "communicator %d has no cartesian topology",
                       comm);
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int ndims = c->ndims, coords[64], color = 0, key = 0, kept = 0;
    if (ndims > 64) {
        return mpi_error(comm, MPI_ERR_DIMS, fn, "%d dimensions (mrail handles 64)", ndims);
    }
    PMPI_Cart_coords(comm, c->rank, ndims, coords);
    int sub_dims[64], sub_periods[64];
    for (int i = 0; i < ndims; i++) { /* row-major numbers of both coordinate parts */
        if (remain_dims[i]) {
            key = key * c->dims[i] + coords[i];
            sub_dims[kept] = c->dims[i];
            sub_periods[kept++] = c->periods[i];
        } else {
            color = color * c->dims[i] + coords[i];
        }
    }
    rc = PMPI_Comm_split(comm, color, key, newcomm);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_comm_t *s = &mrail_obj.comms[*newcomm];
    s->topo = MPI_CART;
    s->ndims = kept;
    s->dims = malloc((size_t)(kept + 1) * sizeof(int));
    s->periods = malloc((size_t)(kept + 1) * sizeof(int));
    if (s->dims == NULL || s->periods == NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    memcpy(s->dims, sub_dims, (size_t)kept * sizeof(int));
    memcpy(s->periods, sub_periods, (size_t)kept * sizeof(int));
    return MPI_SUCCESS;
}

/* Edges given anywhere: each (source, destination, weight) goes to both
 * ends, which list them in the order of the rank that gave them, then
 * its order; the result is MPI_Dist_graph_create_adjacent's. */
int PMPI_Dist_graph_create(MPI_Comm comm_old, int n, const int sources[], const int degrees[],
                           const int destinations[], const int weights[], MPI_Info info,
                           int reorder, MPI_Comm *comm_dist_graph)
{
    const char *fn = "MPI_Dist_graph_create";
    int rc = mpi_check_comm(comm_old, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int p = mrail_obj.comms[comm_old].size, me = mrail_obj.comms[comm_old].rank, nedges = 0;
    if (n < 0) {
        return mpi_error(comm_old, MPI_ERR_ARG, fn, "n = %d is negative", n);
    }
    for (int i = 0; i < n; i++) {
        if (degrees[i] < 0 || sources[i] < 0 || sources[i] >= p) {
            return mpi_error(comm_old, degrees[i] < 0 ? MPI_ERR_ARG : MPI_ERR_RANK, fn,
                             "source %d with degree %d (ranks 0..%d, degrees >= 0)", sources[i],
                             degrees[i], p - 1);
        }
        for (int k = 0; k < degrees[i]; k++, nedges++) {
            if (destinations[nedges] < 0 || destinations[nedges] >= p) {
                return mpi_error(comm_old, MPI_ERR_RANK, fn,
                                 "destination %d of source %d (valid: 0..%d)", destinations[nedges],
                                 sources[i], p - 1);
            }
        }
    }
    bool given = weights != MPI_UNWEIGHTED && weights != MPI_WEIGHTS_EMPTY && nedges > 0;
    int weighted = weights != MPI_UNWEIGHTED;
    int *scnt = calloc((size_t)p, sizeof(int)), *rcnt = calloc((size_t)p, sizeof(int));
    int *sdis = calloc((size_t)p, sizeof(int)), *rdis = calloc((size_t)p, sizeof(int));
    int *sbuf = malloc((size_t)(6 * nedges + 1) * sizeof(int)),
        *at = calloc((size_t)p, sizeof(int));
    if (!scnt || !rcnt || !sdis || !rdis || !sbuf || !at) {
        rc = MPI_ERR_NO_MEM;
    }
    for (int i = 0, e = 0; rc == MPI_SUCCESS && i < n; i++) {
        for (int k = 0; k < degrees[i]; k++, e++) {
            scnt[sources[i]] += 3;
            scnt[destinations[e]] += destinations[e] != sources[i] ? 3 : 0;
        }
    }
    for (int r = 1; rc == MPI_SUCCESS && r < p; r++) {
        sdis[r] = sdis[r - 1] + scnt[r - 1];
    }
    for (int i = 0, e = 0; rc == MPI_SUCCESS && i < n; i++) {
        for (int k = 0; k < degrees[i]; k++, e++) {
            int t[3] = {sources[i], destinations[e], given ? weights[e] : 1};
            for (int end = 0; end < (t[0] == t[1] ? 1 : 2); end++) {
                int *slot = &sbuf[sdis[t[end]] + at[t[end]]];
                slot[0] = t[0], slot[1] = t[1], slot[2] = t[2];
                at[t[end]] += 3;
            }
        }
    }
    int total = 0, *rbuf = NULL;
    int *lists = NULL; /* in, in weights, out, out weights */
    rc = rc ? rc : PMPI_Allreduce(MPI_IN_PLACE, &weighted, 1, MPI_INT, MPI_LOR, comm_old);
    rc = rc ? rc : PMPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm_old);
    for (int r = 0; rc == MPI_SUCCESS && r < p; r++) {
        rdis[r] = total;
        total += rcnt[r];
    }
    if (rc == MPI_SUCCESS &&
        ((rbuf = malloc((size_t)(total + 1) * sizeof(int))) == NULL ||
         (lists = malloc((size_t)(4 * total / 3 + 4) * sizeof(int))) == NULL)) {
        rc = MPI_ERR_NO_MEM;
    }
    rc = rc ? rc : PMPI_Alltoallv(sbuf, scnt, sdis, MPI_INT, rbuf, rcnt, rdis, MPI_INT, comm_old);
    int nin = 0, nout = 0, m = total / 3 + 1;
    int *in = lists, *inw = lists + m, *out = lists + 2 * m, *outw = lists + 3 * m;
    for (int t = 0; rc == MPI_SUCCESS && t < total; t += 3) {
        if (rbuf[t + 1] == me) {
            in[nin] = rbuf[t], inw[nin++] = rbuf[t + 2];
        }
        if (rbuf[t] == me) {
            out[nout] = rbuf[t + 1], outw[nout++] = rbuf[t + 2];
        }
    }
    if (rc == MPI_SUCCESS) {
        rc = PMPI_Dist_graph_create_adjacent(comm_old, nin, in, weighted ? inw : MPI_UNWEIGHTED,
                                             nout, out, weighted ? outw : MPI_UNWEIGHTED, info,
                                             reorder, comm_dist_graph);
    } else if (rc == MPI_ERR_NO_MEM) {
        rc = mpi_error(comm_old, rc, fn, "out of memory");
    }
    free(scnt), free(rcnt), free(sdis), free(rdis), free(sbuf), free(at), free(rbuf), free(lists);
    return rc;
}
