/* Neighbourhood collectives (MPI-3.1 7.6) on cartesian, graph and
 * distributed-graph communicators: every form becomes one alltoallw over
 * this process's neighbours, built by the communicator's coll table. */
#include <stdlib.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Neighbor_allgather);
MRAIL_MPI_ALIAS(MPI_Neighbor_allgatherv);
MRAIL_MPI_ALIAS(MPI_Neighbor_alltoall);
MRAIL_MPI_ALIAS(MPI_Neighbor_alltoallv);
MRAIL_MPI_ALIAS(MPI_Neighbor_alltoallw);
MRAIL_MPI_ALIAS(MPI_Ineighbor_allgather);
MRAIL_MPI_ALIAS(MPI_Ineighbor_allgatherv);
MRAIL_MPI_ALIAS(MPI_Ineighbor_alltoall);
MRAIL_MPI_ALIAS(MPI_Ineighbor_alltoallv);
MRAIL_MPI_ALIAS(MPI_Ineighbor_alltoallw);

/* One call's arguments, whichever form it is: per-neighbour arrays where
 * the form has them, else the single count and type. */
typedef struct nbr_args {
    const void *sbuf;
    int scount;
    const int *scounts, *sdispls;
    const MPI_Aint *sbytes; /* alltoallw's byte displacements */
    MPI_Datatype stype;
    const MPI_Datatype *stypes;
    bool same_block; /* allgather: one block to every destination */
    void *rbuf;
    int rcount;
    const int *rcounts, *rdispls;
    const MPI_Aint *rbytes;
    MPI_Datatype rtype;
    const MPI_Datatype *rtypes;
} nbr_args_t;

/* The neighbours in MPI's order into nb; a cartesian list (negative, then
 * positive, per dimension; the same list both ways) goes in *cart. */
static int neighbors_of(MPI_Comm comm, mrail_coll_neighbors_t *nb, int **cart, const char *fn)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *cart = NULL;
    if (c->topo == MPI_GRAPH || c->topo == MPI_DIST_GRAPH) {
        *nb = (mrail_coll_neighbors_t){c->indegree, c->outdegree, c->sources, c->destinations};
        return MPI_SUCCESS;
    }
    if (c->topo != MPI_CART) {
        return mpi_error(comm, MPI_ERR_TOPOLOGY, fn,
                         "communicator %d has no topology (neighbourhood collectives need one "
                         "from MPI_Cart_create, MPI_Graph_create or MPI_Dist_graph_create[_"
                         "adjacent])",
                         comm);
    }
    int n = 2 * c->ndims;
    if ((*cart = malloc((size_t)(n + 1) * sizeof(int))) == NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int d = 0; d < c->ndims; d++) {
        PMPI_Cart_shift(comm, d, 1, &(*cart)[2 * d], &(*cart)[2 * d + 1]);
    }
    *nb = (mrail_coll_neighbors_t){n, n, *cart, *cart};
    return MPI_SUCCESS;
}

static int check_side(MPI_Comm comm, const void *buf, int n, const int *counts, int count,
                      const MPI_Datatype *types, MPI_Datatype type, const char *what,
                      const char *fn)
{
    if (buf == MPI_IN_PLACE) {
        return mpi_error(comm, MPI_ERR_BUFFER, fn,
                         "MPI_IN_PLACE is not allowed in a neighbourhood collective");
    }
    for (int i = 0; i < n; i++) {
        int k = counts ? counts[i] : count;
        if (k < 0) {
            return mpi_error(comm, MPI_ERR_COUNT, fn, "%s count %d for neighbour %d is negative",
                             what, k, i);
        }
        int rc = mpi_check_buffer(comm, buf, k, types ? types[i] : type, fn);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    return MPI_SUCCESS;
}

static int neighbor(const nbr_args_t *a, MPI_Comm comm, MPI_Request *request, const char *fn)
{
    mrail_coll_neighbors_t nb;
    int *cart = NULL;
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : neighbors_of(comm, &nb, &cart, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int out = nb.outdegree, in = nb.indegree;
    rc = check_side(comm, a->sbuf, out, a->scounts, a->scount, a->stypes, a->stype, "send", fn);
    rc = rc ? rc
            : check_side(comm, a->rbuf, in, a->rcounts, a->rcount, a->rtypes, a->rtype, "receive",
                         fn);
    int *sc = malloc((size_t)(out + 1) * sizeof(int)),
        *rcn = malloc((size_t)(in + 1) * sizeof(int));
    MPI_Aint *sd = malloc((size_t)(out + 1) * sizeof(MPI_Aint));
    MPI_Aint *rd = malloc((size_t)(in + 1) * sizeof(MPI_Aint));
    MPI_Datatype *st = malloc((size_t)(out + 1) * sizeof(MPI_Datatype));
    MPI_Datatype *rt = malloc((size_t)(in + 1) * sizeof(MPI_Datatype));
    if (!sc || !rcn || !sd || !rd || !st || !rt) {
        rc = rc ? rc : mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; rc == MPI_SUCCESS && i < out; i++) {
        st[i] = a->stypes ? a->stypes[i] : a->stype;
        sc[i] = a->scounts ? a->scounts[i] : a->scount;
        MPI_Aint ext = mpi_type(st[i])->extent;
        sd[i] = a->sbytes       ? a->sbytes[i]
                : a->sdispls    ? (MPI_Aint)a->sdispls[i] * ext
                : a->same_block ? 0
                                : (MPI_Aint)i * a->scount * ext;
    }
    for (int i = 0; rc == MPI_SUCCESS && i < in; i++) {
        rt[i] = a->rtypes ? a->rtypes[i] : a->rtype;
        rcn[i] = a->rcounts ? a->rcounts[i] : a->rcount;
        MPI_Aint ext = mpi_type(rt[i])->extent;
        rd[i] = a->rbytes    ? a->rbytes[i]
                : a->rdispls ? (MPI_Aint)a->rdispls[i] * ext
                             : (MPI_Aint)i * a->rcount * ext;
    }
    mrail_coll_sched_t *s = rc == MPI_SUCCESS ? mrail_coll_sched_new(comm) : NULL;
    if (s != NULL) {
        mrail_obj.comms[comm].coll->neighbor_alltoallw(s, comm, &nb, a->sbuf, sc, sd, st, a->rbuf,
                                                       rcn, rd, rt);
    }
    free(cart), free(sc), free(rcn), free(sd), free(rd), free(st), free(rt);
    return rc != MPI_SUCCESS ? rc : mpi_coll_finish(s, comm, request, fn);
}

/* The arguments of the allgather forms (rcounts and displs NULL: plain). */
static nbr_args_t gather_args(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf,
                              int rcount, const int *rcounts, const int *displs, MPI_Datatype rtype)
{
    return (nbr_args_t){.sbuf = sbuf,
                        .scount = scount,
                        .stype = stype,
                        .same_block = true,
                        .rbuf = rbuf,
                        .rcount = rcount,
                        .rcounts = rcounts,
                        .rdispls = displs,
                        .rtype = rtype};
}

/* Of alltoall and alltoallv (the arrays NULL: plain). */
static nbr_args_t alltoall_args(const void *sbuf, int scount, const int *scounts,
                                const int *sdispls, MPI_Datatype stype, void *rbuf, int rcount,
                                const int *rcounts, const int *rdispls, MPI_Datatype rtype)
{
    return (nbr_args_t){.sbuf = sbuf,
                        .scount = scount,
                        .scounts = scounts,
                        .sdispls = sdispls,
                        .stype = stype,
                        .rbuf = rbuf,
                        .rcount = rcount,
                        .rcounts = rcounts,
                        .rdispls = rdispls,
                        .rtype = rtype};
}

/* Of alltoallw. */
static nbr_args_t alltoallw_args(const void *sbuf, const int *scounts, const MPI_Aint *sdispls,
                                 const MPI_Datatype *stypes, void *rbuf, const int *rcounts,
                                 const MPI_Aint *rdispls, const MPI_Datatype *rtypes)
{
    return (nbr_args_t){.sbuf = sbuf,
                        .scounts = scounts,
                        .sbytes = sdispls,
                        .stypes = stypes,
                        .rbuf = rbuf,
                        .rcounts = rcounts,
                        .rbytes = rdispls,
                        .rtypes = rtypes};
}

int PMPI_Neighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                            void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    nbr_args_t a =
        gather_args(sendbuf, sendcount, sendtype, recvbuf, recvcount, NULL, NULL, recvtype);
    return neighbor(&a, comm, NULL, "MPI_Neighbor_allgather");
}

int PMPI_Ineighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                             void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
                             MPI_Request *request)
{
    nbr_args_t a =
        gather_args(sendbuf, sendcount, sendtype, recvbuf, recvcount, NULL, NULL, recvtype);
    return neighbor(&a, comm, request, "MPI_Ineighbor_allgather");
}

int PMPI_Neighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                             void *recvbuf, const int recvcounts[], const int displs[],
                             MPI_Datatype recvtype, MPI_Comm comm)
{
    nbr_args_t a =
        gather_args(sendbuf, sendcount, sendtype, recvbuf, 0, recvcounts, displs, recvtype);
    return neighbor(&a, comm, NULL, "MPI_Neighbor_allgatherv");
}

int PMPI_Ineighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                              void *recvbuf, const int recvcounts[], const int displs[],
                              MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    nbr_args_t a =
        gather_args(sendbuf, sendcount, sendtype, recvbuf, 0, recvcounts, displs, recvtype);
    return neighbor(&a, comm, request, "MPI_Ineighbor_allgatherv");
}

int PMPI_Neighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                           int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    nbr_args_t a = alltoall_args(sendbuf, sendcount, NULL, NULL, sendtype, recvbuf, recvcount, NULL,
                                 NULL, recvtype);
    return neighbor(&a, comm, NULL, "MPI_Neighbor_alltoall");
}

int PMPI_Ineighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                            void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
                            MPI_Request *request)
{
    nbr_args_t a = alltoall_args(sendbuf, sendcount, NULL, NULL, sendtype, recvbuf, recvcount, NULL,
                                 NULL, recvtype);
    return neighbor(&a, comm, request, "MPI_Ineighbor_alltoall");
}

int PMPI_Neighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                            MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                            const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
    nbr_args_t a = alltoall_args(sendbuf, 0, sendcounts, sdispls, sendtype, recvbuf, 0, recvcounts,
                                 rdispls, recvtype);
    return neighbor(&a, comm, NULL, "MPI_Neighbor_alltoallv");
}

int PMPI_Ineighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                             MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                             const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
                             MPI_Request *request)
{
    nbr_args_t a = alltoall_args(sendbuf, 0, sendcounts, sdispls, sendtype, recvbuf, 0, recvcounts,
                                 rdispls, recvtype);
    return neighbor(&a, comm, request, "MPI_Ineighbor_alltoallv");
}

int PMPI_Neighbor_alltoallw(const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[],
                            const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
                            const MPI_Aint rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm)
{
    nbr_args_t a = alltoallw_args(sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts,
                                  rdispls, recvtypes);
    return neighbor(&a, comm, NULL, "MPI_Neighbor_alltoallw");
}

int PMPI_Ineighbor_alltoallw(const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[],
                             const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
                             const MPI_Aint rdispls[], const MPI_Datatype recvtypes[],
                             MPI_Comm comm, MPI_Request *request)
{
    nbr_args_t a = alltoallw_args(sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts,
                                  rdispls, recvtypes);
    return neighbor(&a, comm, request, "MPI_Ineighbor_alltoallw");
}
