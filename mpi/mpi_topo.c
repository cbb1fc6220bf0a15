/* Process topologies: cartesian grids, and distributed graphs given by
 * their adjacency (no reordering). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Dims_create);
MRAIL_MPI_ALIAS(MPI_Cart_create);
MRAIL_MPI_ALIAS(MPI_Cart_coords);
MRAIL_MPI_ALIAS(MPI_Cart_rank);
MRAIL_MPI_ALIAS(MPI_Cart_shift);
MRAIL_MPI_ALIAS(MPI_Cart_get);
MRAIL_MPI_ALIAS(MPI_Cartdim_get);
MRAIL_MPI_ALIAS(MPI_Topo_test);
MRAIL_MPI_ALIAS(MPI_Dist_graph_create_adjacent);
MRAIL_MPI_ALIAS(MPI_Dist_graph_neighbors);
MRAIL_MPI_ALIAS(MPI_Dist_graph_neighbors_count);

/* A search for the most balanced split of a number into k factors. */
typedef struct dims_split {
    int k;
    const int *divs; /* the number's divisors, largest first */
    int ndivs;
    int *cur;        /* the factors chosen so far, non-increasing */
    int *best;       /* the best complete split found */
    int spread;      /* its largest minus its smallest; -1: none yet */
    long long sumsq; /* its factors' squares, summed: among equal spreads, the smaller */
} dims_split_t;

/* Is r^k at most n? */
static bool power_fits(int r, int k, int n)
{
    long long p = 1;
    for (int i = 0; i < k; i++) {
        p *= r;
        if (p > n) {
            return false;
        }
    }
    return true;
}

/* The largest r >= 1 with r^k <= n (n >= 1). */
static int iroot(int n, int k)
{
    int lo = 1, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (power_fits(mid, k, n)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

/* Chooses cur[depth..k-1], non-increasing and at most cap, whose product
 * is n. The factor at depth is the largest of those left, so it is at
 * least the (k - depth)-th root of n; a split whose spread so far already
 * exceeds the best one's is abandoned. Between splits of equal spread the
 * one whose middle factors are closer (smaller sum of squares) wins: 20 in
 * four dimensions is 5 x 2 x 2 x 1, not 5 x 4 x 1 x 1, as MPICH has it. */
static void dims_search(dims_split_t *s, int n, int cap, int depth)
{
    int left = s->k - depth;
    if (left == 1) {
        if (n > cap) {
            return;
        }
        s->cur[depth] = n;
        long long sumsq = 0;
        for (int i = 0; i < s->k; i++) {
            sumsq += (long long)s->cur[i] * s->cur[i];
        }
        int spread = s->cur[0] - n;
        if (s->spread < 0 || spread < s->spread || (spread == s->spread && sumsq < s->sumsq)) {
            s->spread = spread;
            s->sumsq = sumsq;
            memcpy(s->best, s->cur, (size_t)s->k * sizeof(int));
        }
        return;
    }
    for (int i = 0; i < s->ndivs && s->spread != 0; i++) {
        int d = s->divs[i];
        if (d > cap || n % d != 0) {
            continue;
        }
        long long power = 1; /* d^left < n: below the root, as is every later d */
        for (int j = 0; j < left && power < n; j++) {
            power *= d;
        }
        if (power < n) {
            break;
        }
        /* The rest's smallest factor is at most the (left - 1)-th root of
         * what remains: a spread that must exceed the best one is pruned. */
        int top = depth > 0 ? s->cur[0] : d;
        if (s->spread >= 0 && top - iroot(n / d, left - 1) > s->spread) {
            continue;
        }
        s->cur[depth] = d;
        dims_search(s, n / d, d, depth + 1);
    }
}

/* No int has more than 1600 divisors (2,095,133,040 has that many). */
#define DIMS_MAX_DIVISORS 1600

/* n's divisors, largest first, into divs (DIMS_MAX_DIVISORS). */
static int divisors_of(int n, int *divs)
{
    int lo = 0, count = 0, small[DIMS_MAX_DIVISORS / 2 + 1];
    for (int i = 1; (long long)i * i <= n; i++) {
        if (n % i == 0) {
            small[lo++] = i;
        }
    }
    for (int i = 0; i < lo; i++) { /* the large ones, largest first */
        divs[count++] = n / small[i];
    }
    for (int i = lo - 1; i >= 0; i--) {
        if (small[i] != n / small[i]) {
            divs[count++] = small[i];
        }
    }
    return count;
}

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
    /* The most balanced split: the smallest spread between the largest
     * and the smallest free dimension (MPI: "as close to each other as
     * possible"), found by search; a greedy share of prime factors gives
     * 72 in two dimensions as 12 x 6 instead of 9 x 8. */
    int *f = malloc(2 * (size_t)free_dims * sizeof(int));
    int *divs = malloc(DIMS_MAX_DIVISORS * sizeof(int));
    if (f == NULL || divs == NULL) {
        free(f);
        free(divs);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    dims_split_t split = {.k = free_dims,
                          .divs = divs,
                          .ndivs = divisors_of(left, divs),
                          .cur = f + free_dims,
                          .best = f,
                          .spread = -1};
    dims_search(&split, left, left, 0);
    free(divs);
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

int mrail_mpi_unweighted[1], mrail_mpi_weights_empty[1]; /* MPI_UNWEIGHTED, MPI_WEIGHTS_EMPTY */

/* Weights as given: NULL for MPI_UNWEIGHTED or MPI_WEIGHTS_EMPTY. */
static bool weights_copy(int **to, const int *w, int n)
{
    *to = NULL;
    if (w == MPI_UNWEIGHTED || w == MPI_WEIGHTS_EMPTY || w == NULL) {
        return true;
    }
    if ((*to = malloc((size_t)(n + 1) * sizeof(int))) != NULL) {
        memcpy(*to, w, (size_t)n * sizeof(int));
    }
    return *to != NULL;
}

int PMPI_Dist_graph_create_adjacent(MPI_Comm comm_old, int indegree, const int sources[],
                                    const int sourceweights[], int outdegree,
                                    const int destinations[], const int destweights[],
                                    MPI_Info info, int reorder, MPI_Comm *comm_dist_graph)
{
    (void)info, (void)reorder;
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
    free(c->index), free(c->edges), free(c->sourceweights), free(c->destweights);
    c->dims = c->periods = c->index = c->edges = NULL;
    c->ndims = c->nnodes = 0;
    c->topo = MPI_DIST_GRAPH;
    c->indegree = indegree, c->outdegree = outdegree;
    c->sources = malloc((size_t)(indegree + 1) * sizeof(int));
    c->destinations = malloc((size_t)(outdegree + 1) * sizeof(int));
    bool ok = weights_copy(&c->sourceweights, sourceweights, indegree) &&
              weights_copy(&c->destweights, destweights, outdegree);
    if (c->sources == NULL || c->destinations == NULL || !ok) {
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
    int rc = mpi_check_comm(comm, "MPI_Dist_graph_neighbors");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (c->topo != MPI_DIST_GRAPH) {
        return mpi_error(comm, MPI_ERR_TOPOLOGY, "MPI_Dist_graph_neighbors",
                         "communicator %d has no distributed graph topology", comm);
    }
    bool sw = c->sourceweights && sourceweights != MPI_UNWEIGHTED && sourceweights != NULL;
    bool dw = c->destweights && destweights != MPI_UNWEIGHTED && destweights != NULL;
    for (int i = 0; i < c->indegree && i < maxindegree; i++) {
        sources[i] = c->sources[i];
        if (sw) {
            sourceweights[i] = c->sourceweights[i];
        }
    }
    for (int i = 0; i < c->outdegree && i < maxoutdegree; i++) {
        destinations[i] = c->destinations[i];
        if (dw) {
            destweights[i] = c->destweights[i];
        }
    }
    return MPI_SUCCESS;
}

int PMPI_Dist_graph_neighbors_count(MPI_Comm comm, int *indegree, int *outdegree, int *weighted)
{
    int rc = mpi_check_comm(comm, "MPI_Dist_graph_neighbors_count");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (c->topo != MPI_DIST_GRAPH) {
        return mpi_error(comm, MPI_ERR_TOPOLOGY, "MPI_Dist_graph_neighbors_count",
                         "communicator %d has no distributed graph topology", comm);
    }
    *indegree = c->indegree, *outdegree = c->outdegree;
    *weighted = c->sourceweights != NULL || c->destweights != NULL;
    return MPI_SUCCESS;
}
