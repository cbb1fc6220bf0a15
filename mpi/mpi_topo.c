/* Process topologies: cartesian grids, and distributed graphs given by
 * their adjacency (no reordering). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* The profiling interface: MPI_ names are weak aliases of the PMPI_
 * definitions, so a tool may define MPI_X and call PMPI_X. */
#pragma weak MPI_Dims_create = PMPI_Dims_create
#pragma weak MPI_Cart_create = PMPI_Cart_create
#pragma weak MPI_Cart_coords = PMPI_Cart_coords
#pragma weak MPI_Cart_rank = PMPI_Cart_rank
#pragma weak MPI_Cart_shift = PMPI_Cart_shift
#pragma weak MPI_Cart_get = PMPI_Cart_get
#pragma weak MPI_Cartdim_get = PMPI_Cartdim_get
#pragma weak MPI_Topo_test = PMPI_Topo_test
#pragma weak MPI_Dist_graph_create_adjacent = PMPI_Dist_graph_create_adjacent
#pragma weak MPI_Dist_graph_neighbors = PMPI_Dist_graph_neighbors

int PMPI_Dims_create(int nnodes, int ndims, int dims[])
{
    const char *fn = "MPI_Dims_create";
    if (nnodes <= 0 || ndims < 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "nnodes %d, ndims %d (need > 0, >= 0)",
                         nnodes, ndims);
    }
    int fixed = 1, free_dims = 0;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] < 0) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_DIMS, fn, "dims[%d] = %d is negative", i,
                             dims[i]);
        }
        if (dims[i] > 0) {
            fixed *= dims[i];
        } else {
            free_dims++;
        }
    }
    if (nnodes % fixed != 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_DIMS, fn,
                         "%d nodes cannot be divided by the fixed dimensions' product %d", nnodes,
                         fixed);
    }
    int left = nnodes / fixed;
    if (free_dims == 0) {
        return left == 1 ? MPI_SUCCESS
                         : mpi_error(MPI_COMM_WORLD, MPI_ERR_DIMS, fn,
                                     "the dimensions multiply to %d, not %d", fixed, nnodes);
    }
    /* Prime factors, largest first, each to the currently smallest free
     * dimension: as balanced as possible, in non-increasing order. */
    int *f = calloc((size_t)free_dims, sizeof(int));
    if (f == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; i < free_dims; i++) {
        f[i] = 1;
    }
    int primes[64], np = 0;
    for (int p = 2; left > 1 && np < 64;) {
        if (left % p == 0) {
            primes[np++] = p;
            left /= p;
        } else {
            p = p * p > left ? left : p + 1;
        }
    }
    for (int k = np - 1; k >= 0; k--) {
        int smallest = 0;
        for (int i = 1; i < free_dims; i++) {
            smallest = f[i] < f[smallest] ? i : smallest;
        }
        f[smallest] *= primes[k];
    }
    for (int a = 0; a < free_dims; a++) { /* non-increasing */
        for (int b = a + 1; b < free_dims; b++) {
            if (f[b] > f[a]) {
                int t = f[a];
                f[a] = f[b];
                f[b] = t;
            }
        }
    }
    for (int i = 0, k = 0; i < ndims; i++) {
        if (dims[i] == 0) {
            dims[i] = f[k++];
        }
    }
    free(f);
    return MPI_SUCCESS;
}

int PMPI_Cart_create(MPI_Comm comm_old, int ndims, const int dims[], const int periods[],
                     int reorder, MPI_Comm *comm_cart)
{
    (void)reorder; /* ranks stay: the mapping gains nothing on our rails */
    const char *fn = "MPI_Cart_create";
    int rc = mpi_check_comm(comm_old, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int n = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] <= 0) {
            return mpi_error(comm_old, MPI_ERR_DIMS, fn, "dims[%d] = %d (must be > 0)", i, dims[i]);
        }
        n *= dims[i];
    }
    if (ndims < 0 || n > mrail_obj.comms[comm_old].size) {
        return mpi_error(comm_old, MPI_ERR_TOPOLOGY, fn,
                         "a %d-process grid does not fit a communicator of %d", n,
                         mrail_obj.comms[comm_old].size);
    }
    int me = mrail_obj.comms[comm_old].rank;
    rc = PMPI_Comm_split(comm_old, me < n ? 0 : MPI_UNDEFINED, me, comm_cart);
    if (rc != MPI_SUCCESS || *comm_cart == MPI_COMM_NULL) {
        return rc;
    }
    mpi_comm_t *c = &mrail_obj.comms[*comm_cart];
    c->topo = MPI_CART;
    c->ndims = ndims;
    c->dims = malloc((size_t)(ndims ? ndims : 1) * sizeof(int));
    c->periods = malloc((size_t)(ndims ? ndims : 1) * sizeof(int));
    if (c->dims == NULL || c->periods == NULL) {
        return mpi_error(comm_old, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; i < ndims; i++) {
        c->dims[i] = dims[i];
        c->periods[i] = periods[i] != 0;
    }
    return MPI_SUCCESS;
}

static int check_cart(MPI_Comm comm, const char *fn)
{
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS && mrail_obj.comms[comm].topo != MPI_CART) {
        rc = mpi_error(comm, MPI_ERR_TOPOLOGY, fn, "communicator %d has no cartesian topology",
                       comm);
    }
    return rc;
}

int PMPI_Cart_coords(MPI_Comm comm, int rank, int maxdims, int coords[])
{
    int rc = check_cart(comm, "MPI_Cart_coords");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (rank < 0 || rank >= c->size) {
        return mpi_error(comm, MPI_ERR_RANK, "MPI_Cart_coords", "rank %d (valid: 0..%d)", rank,
                         c->size - 1);
    }
    for (int i = c->ndims - 1; i >= 0; i--) { /* row-major: the last dimension varies fastest */
        if (i < maxdims) {
            coords[i] = rank % c->dims[i];
        }
        rank /= c->dims[i];
    }
    return MPI_SUCCESS;
}

int PMPI_Cart_rank(MPI_Comm comm, const int coords[], int *rank)
{
    int rc = check_cart(comm, "MPI_Cart_rank");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int r = 0;
    for (int i = 0; i < c->ndims; i++) {
        int x = coords[i];
        if (c->periods[i]) {
            x = ((x % c->dims[i]) + c->dims[i]) % c->dims[i];
        } else if (x < 0 || x >= c->dims[i]) {
            return mpi_error(comm, MPI_ERR_ARG, "MPI_Cart_rank",
                             "coordinate %d of dimension %d is outside 0..%d", x, i,
                             c->dims[i] - 1);
        }
        r = r * c->dims[i] + x;
    }
    *rank = r;
    return MPI_SUCCESS;
}

int PMPI_Cart_shift(MPI_Comm comm, int direction, int disp, int *rank_source, int *rank_dest)
{
    int rc = check_cart(comm, "MPI_Cart_shift");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (direction < 0 || direction >= c->ndims) {
        return mpi_error(comm, MPI_ERR_DIMS, "MPI_Cart_shift", "direction %d (valid: 0..%d)",
                         direction, c->ndims - 1);
    }
    int coords[64];
    PMPI_Cart_coords(comm, c->rank, 64, coords);
    int results[2];
    for (int k = 0; k < 2; k++) {
        int save = coords[direction], x = save + (k == 0 ? -disp : disp);
        if (!c->periods[direction] && (x < 0 || x >= c->dims[direction])) {
            results[k] = MPI_PROC_NULL;
            continue;
        }
        coords[direction] = x;
        PMPI_Cart_rank(comm, coords, &results[k]);
        coords[direction] = save;
    }
    *rank_source = results[0];
    *rank_dest = results[1];
    return MPI_SUCCESS;
}

int PMPI_Cart_get(MPI_Comm comm, int maxdims, int dims[], int periods[], int coords[])
{
    int rc = check_cart(comm, "MPI_Cart_get");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    for (int i = 0; i < c->ndims && i < maxdims; i++) {
        dims[i] = c->dims[i];
        periods[i] = c->periods[i];
    }
    return PMPI_Cart_coords(comm, c->rank, maxdims, coords);
}

int PMPI_Cartdim_get(MPI_Comm comm, int *ndims)
{
    int rc = check_cart(comm, "MPI_Cartdim_get");
    if (rc == MPI_SUCCESS) {
        *ndims = mrail_obj.comms[comm].ndims;
    }
    return rc;
}

int PMPI_Topo_test(MPI_Comm comm, int *status)
{
    int rc = mpi_check_comm(comm, "MPI_Topo_test");
    if (rc == MPI_SUCCESS) {
        *status = mrail_obj.comms[comm].topo;
    }
    return rc;
}

int PMPI_Dist_graph_create_adjacent(MPI_Comm comm_old, int indegree, const int sources[],
                                    const int sourceweights[], int outdegree,
                                    const int destinations[], const int destweights[],
                                    MPI_Info info, int reorder, MPI_Comm *comm_dist_graph)
{
    (void)sourceweights, (void)destweights, (void)info, (void)reorder;
    const char *fn = "MPI_Dist_graph_create_adjacent";
    int rc = mpi_check_comm(comm_old, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int size = mrail_obj.comms[comm_old].size;
    for (int i = 0; i < indegree; i++) {
        rc = rc ? rc : (sources[i] < 0 || sources[i] >= size ? MPI_ERR_RANK : MPI_SUCCESS);
    }
    for (int i = 0; i < outdegree; i++) {
        rc =
            rc ? rc : (destinations[i] < 0 || destinations[i] >= size ? MPI_ERR_RANK : MPI_SUCCESS);
    }
    if (rc != MPI_SUCCESS || indegree < 0 || outdegree < 0) {
        return mpi_error(comm_old, rc ? rc : MPI_ERR_ARG, fn,
                         "degrees must be >= 0 and neighbours ranks of the communicator (0..%d)",
                         size - 1);
    }
    rc = PMPI_Comm_dup(comm_old, comm_dist_graph);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_comm_t *c = &mrail_obj.comms[*comm_dist_graph];
    free(c->dims), free(c->periods), free(c->sources), free(c->destinations);
    c->dims = c->periods = NULL;
    c->topo = MPI_DIST_GRAPH;
    c->indegree = indegree, c->outdegree = outdegree;
    c->sources = malloc((size_t)(indegree + 1) * sizeof(int));
    c->destinations = malloc((size_t)(outdegree + 1) * sizeof(int));
    if (c->sources == NULL || c->destinations == NULL) {
        return mpi_error(comm_old, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; i < indegree; i++) { /* the arrays may be NULL for degree 0 */
        c->sources[i] = sources[i];
    }
    for (int i = 0; i < outdegree; i++) {
        c->destinations[i] = destinations[i];
    }
    return MPI_SUCCESS;
}

int PMPI_Dist_graph_neighbors(MPI_Comm comm, int maxindegree, int sources[], int sourceweights[],
                              int maxoutdegree, int destinations[], int destweights[])
{
    (void)sourceweights, (void)destweights; /* MPI_UNWEIGHTED: nothing to fill */
    int rc = mpi_check_comm(comm, "MPI_Dist_graph_neighbors");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (c->topo != MPI_DIST_GRAPH) {
        return mpi_error(comm, MPI_ERR_TOPOLOGY, "MPI_Dist_graph_neighbors",
                         "communicator %d has no distributed graph topology", comm);
    }
    for (int i = 0; i < c->indegree && i < maxindegree; i++) {
        sources[i] = c->sources[i];
    }
    for (int i = 0; i < c->outdegree && i < maxoutdegree; i++) {
        destinations[i] = c->destinations[i];
    }
    return MPI_SUCCESS;
}
