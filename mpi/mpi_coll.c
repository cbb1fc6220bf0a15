/* MPI collectives: argument checks, MPI_IN_PLACE, then a schedule from
 * the communicator's coll table (filled by the coll components at its
 * first collective), run to its end (blocking) or returned as a request. */
#include <stdlib.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Barrier);
MRAIL_MPI_ALIAS(MPI_Ibarrier);
MRAIL_MPI_ALIAS(MPI_Bcast);
MRAIL_MPI_ALIAS(MPI_Ibcast);
MRAIL_MPI_ALIAS(MPI_Reduce);
MRAIL_MPI_ALIAS(MPI_Ireduce);
MRAIL_MPI_ALIAS(MPI_Allreduce);
MRAIL_MPI_ALIAS(MPI_Iallreduce);
MRAIL_MPI_ALIAS(MPI_Gather);
MRAIL_MPI_ALIAS(MPI_Igather);
MRAIL_MPI_ALIAS(MPI_Gatherv);
MRAIL_MPI_ALIAS(MPI_Igatherv);
MRAIL_MPI_ALIAS(MPI_Scatter);
MRAIL_MPI_ALIAS(MPI_Iscatter);
MRAIL_MPI_ALIAS(MPI_Scatterv);
MRAIL_MPI_ALIAS(MPI_Iscatterv);
MRAIL_MPI_ALIAS(MPI_Allgather);
MRAIL_MPI_ALIAS(MPI_Iallgather);
MRAIL_MPI_ALIAS(MPI_Allgatherv);
MRAIL_MPI_ALIAS(MPI_Iallgatherv);
MRAIL_MPI_ALIAS(MPI_Alltoall);
MRAIL_MPI_ALIAS(MPI_Ialltoall);
MRAIL_MPI_ALIAS(MPI_Alltoallv);
MRAIL_MPI_ALIAS(MPI_Ialltoallv);
MRAIL_MPI_ALIAS(MPI_Alltoallw);
MRAIL_MPI_ALIAS(MPI_Ialltoallw);
MRAIL_MPI_ALIAS(MPI_Reduce_scatter);
MRAIL_MPI_ALIAS(MPI_Ireduce_scatter);
MRAIL_MPI_ALIAS(MPI_Reduce_scatter_block);
MRAIL_MPI_ALIAS(MPI_Ireduce_scatter_block);
MRAIL_MPI_ALIAS(MPI_Scan);
MRAIL_MPI_ALIAS(MPI_Iscan);
MRAIL_MPI_ALIAS(MPI_Exscan);
MRAIL_MPI_ALIAS(MPI_Iexscan);

int mpi_coll_check(MPI_Comm comm, bool inter_ok, const char *fn)
{
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS && !inter_ok && mrail_obj.comms[comm].inter) {
        rc = mpi_error(comm, MPI_ERR_COMM, fn,
                       "not defined on an intercommunicator (MPI-3.1 5.2.2; merge it with "
                       "MPI_Intercomm_merge first)");
    }
    mpi_comm_t *c = rc == MPI_SUCCESS ? &mrail_obj.comms[comm] : NULL;
    if (c != NULL && c->coll == NULL) {
        mrail_reason_t why = {""};
        c->coll = mrail_coll_comm_select(mrail_mpi.fws, comm, &why);
        if (c->coll == NULL) {
            rc = mpi_error(comm, MPI_ERR_INTERN, fn, "%s", why.text);
        }
    }
    return rc;
}

/* The communicator's collective operations (check_coll filled them). */
static inline const mrail_coll_fns_t *ops(MPI_Comm comm)
{
    return mrail_obj.comms[comm].coll;
}

/* A new schedule on comm. Before the communicator's first blocking
 * collective, its components may set up (collectively) first: every rank
 * reaches that call in the same order, and a blocking collective may
 * wait for the others, so doing it there cannot deadlock a correct
 * program; nonblocking ones only find what is already set up. */
static mrail_coll_sched_t *sched_for(MPI_Comm comm, const MPI_Request *request)
{
    mpi_comm_t *c = &mrail_obj.comms[comm];
    if (request == NULL && !c->coll_set_up) {
        c->coll_set_up = true;
        if (c->coll->setup != NULL) {
            c->coll->setup(comm);
        }
    }
    return mrail_coll_sched_new(comm);
}

static MPI_Aint extent_of(MPI_Datatype type)
{
    return mpi_type(type)->extent;
}

static bool is_inter(MPI_Comm comm)
{
    return mrail_obj.comms[comm].inter;
}

/* Whether this rank is the root, and whether it takes no part (the rest
 * of the root's group on an intercommunicator: MPI_PROC_NULL). */
static int check_root(MPI_Comm comm, int root, bool *is_root, bool *idle, const char *fn)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *is_root = *idle = false;
    if (c->inter) {
        if (root == MPI_ROOT || root == MPI_PROC_NULL) {
            *is_root = root == MPI_ROOT;
            *idle = root == MPI_PROC_NULL;
            return MPI_SUCCESS;
        }
        if (root < 0 || root >= c->remote_size) {
            return mpi_error(comm, MPI_ERR_ROOT, fn,
                             "invalid root %d (valid on an intercommunicator: MPI_ROOT, "
                             "MPI_PROC_NULL or a remote rank 0..%d)",
                             root, c->remote_size - 1);
        }
        return MPI_SUCCESS;
    }
    if (root < 0 || root >= c->size) {
        return mpi_error(comm, MPI_ERR_ROOT, fn, "invalid root %d (valid: 0..%d)", root,
                         c->size - 1);
    }
    *is_root = c->rank == root;
    return MPI_SUCCESS;
}

/* counts has one entry per peer: per rank of the remote group on an
 * intercommunicator (local_group: per rank of this one). */
static int check_counts_of(MPI_Comm comm, const int *counts, bool local_group, const char *what,
                           const char *fn)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int size = local_group ? c->size : mpi_peer_size(c);
    if (counts == NULL) {
        return mpi_error(comm, MPI_ERR_ARG, fn, "NULL %s array", what);
    }
    for (int i = 0; i < size; i++) {
        if (counts[i] < 0) {
            return mpi_error(comm, MPI_ERR_COUNT, fn, "%s[%d] = %d is negative", what, i,
                             counts[i]);
        }
    }
    return MPI_SUCCESS;
}

static int check_counts(MPI_Comm comm, const int *counts, const char *what, const char *fn)
{
    return check_counts_of(comm, counts, false, what, fn);
}

/* A buffer check that lets MPI_IN_PLACE through where the caller allows it
 * (never on an intercommunicator). */
static int check_buf(MPI_Comm comm, const void *buf, int count, MPI_Datatype type, bool in_place_ok,
                     const char *fn)
{
    if (buf == MPI_IN_PLACE) {
        return in_place_ok && !is_inter(comm)
                   ? MPI_SUCCESS
                   : mpi_error(comm, MPI_ERR_BUFFER, fn,
                               "MPI_IN_PLACE is not allowed for this buffer here%s",
                               is_inter(comm) ? " (an intercommunicator)" : "");
    }
    return mpi_check_buffer(comm, buf, count, type, fn);
}

int mpi_coll_finish(mrail_coll_sched_t *s, MPI_Comm comm, MPI_Request *request, const char *fn)
{
    if (s == NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "no memory for the collective");
    }
    if (request == NULL) {
        int rc = mrail_coll_run(s);
        return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, fn, "the collective failed");
    }
    mpi_req_t *req;
    if (mpi_req_new(&req, request) != MPI_SUCCESS) {
        mrail_coll_free(s);
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
    }
    req->kind = MPI_REQ_COLL;
    req->comm = comm;
    req->coll = s;
    req->active = true;
    int rc = mrail_coll_start(s);
    if (rc != MPI_SUCCESS) {
        mrail_coll_free(s);
        mpi_req_drop(req);
        *request = MPI_REQUEST_NULL;
        return mpi_error(comm, rc, fn, "the collective could not start");
    }
    return MPI_SUCCESS;
}

static int barrier(MPI_Comm comm, MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->barrier(s, comm);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int mpi_coll_barrier_quiet(MPI_Comm comm)
{
    int rc = mpi_coll_check(comm, false, "MPI_Finalize");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    ops(comm)->barrier(s, comm);
    return mrail_coll_run(s);
}

int PMPI_Barrier(MPI_Comm comm)
{
    return barrier(comm, NULL, "MPI_Barrier");
}

int PMPI_Ibarrier(MPI_Comm comm, MPI_Request *request)
{
    return barrier(comm, request, "MPI_Ibarrier");
}

static int bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm,
                 MPI_Request *request, const char *fn)
{
    bool is_root = false, idle = false;
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_root(comm, root, &is_root, &idle, fn);
    rc = rc ? rc : (idle ? MPI_SUCCESS : mpi_check_buffer(comm, buf, count, type, fn));
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->bcast(s, comm, buf, (size_t)count, type, root);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Bcast(void *buffer, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
    return bcast(buffer, count, type, root, comm, NULL, "MPI_Bcast");
}

int PMPI_Ibcast(void *buffer, int count, MPI_Datatype type, int root, MPI_Comm comm,
                MPI_Request *request)
{
    return bcast(buffer, count, type, root, comm, request, "MPI_Ibcast");
}

static int reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op, int root,
                  MPI_Comm comm, MPI_Request *request, const char *fn)
{
    bool is_root = false, idle = false;
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_root(comm, root, &is_root, &idle, fn);
    bool sends =
        !idle && !(is_inter(comm) && is_root); /* an intercommunicator's root only receives */
    rc = rc ? rc : (sends ? check_buf(comm, sbuf, count, type, is_root, fn) : MPI_SUCCESS);
    rc = rc ? rc : (is_root ? mpi_check_buffer(comm, rbuf, count, type, fn) : MPI_SUCCESS);
    rc = rc ? rc : (idle ? MPI_SUCCESS : mpi_op_check(comm, op, type, fn));
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->reduce(s, comm, sbuf == MPI_IN_PLACE ? rbuf : sbuf, rbuf, (size_t)count, type,
                          op, root);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                int root, MPI_Comm comm)
{
    return reduce(sendbuf, recvbuf, count, type, op, root, comm, NULL, "MPI_Reduce");
}

int PMPI_Ireduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                 int root, MPI_Comm comm, MPI_Request *request)
{
    return reduce(sendbuf, recvbuf, count, type, op, root, comm, request, "MPI_Ireduce");
}

static int allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                     MPI_Comm comm, MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_buf(comm, sbuf, count, type, true, fn);
    rc = rc ? rc : mpi_check_buffer(comm, rbuf, count, type, fn);
    rc = rc ? rc : mpi_op_check(comm, op, type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->allreduce(s, comm, sbuf == MPI_IN_PLACE ? rbuf : sbuf, rbuf, (size_t)count, type,
                             op);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                   MPI_Comm comm)
{
    return allreduce(sendbuf, recvbuf, count, type, op, comm, NULL, "MPI_Allreduce");
}

int PMPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                    MPI_Comm comm, MPI_Request *request)
{
    return allreduce(sendbuf, recvbuf, count, type, op, comm, request, "MPI_Iallreduce");
}

static int gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                  MPI_Datatype rtype, const int *rcounts, const int *displs, int root,
                  MPI_Comm comm, MPI_Request *request, const char *fn)
{
    bool is_root = false, idle = false;
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_root(comm, root, &is_root, &idle, fn);
    bool sends =
        !idle && !(is_inter(comm) && is_root); /* an intercommunicator's root only receives */
    rc = rc ? rc : (sends ? check_buf(comm, sbuf, scount, stype, is_root, fn) : MPI_SUCCESS);
    if (rc == MPI_SUCCESS && is_root) {
        if (rcounts != NULL || displs != NULL) {
            rc = check_counts(comm, rcounts, "recvcounts", fn);
            rc = rc ? rc : (displs ? MPI_SUCCESS : check_counts(comm, displs, "displs", fn));
            rc = rc ? rc : mpi_check_buffer(comm, rbuf, 0, rtype, fn);
        } else {
            rc = mpi_check_buffer(comm, rbuf, rcount, rtype, fn);
        }
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL && displs != NULL) {
        ops(comm)->gatherv(s, comm, sbuf, (size_t)scount, stype, rbuf, rcounts, displs, rtype,
                           root);
    } else if (s != NULL) {
        ops(comm)->gather(s, comm, sbuf, (size_t)scount, stype, rbuf, (size_t)rcount, rtype, root);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
    return gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, NULL, NULL, root,
                  comm, NULL, "MPI_Gather");
}

int PMPI_Igather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
                 MPI_Request *request)
{
    return gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, NULL, NULL, root,
                  comm, request, "MPI_Igather");
}

int PMPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
                 MPI_Comm comm)
{
    return gather(sendbuf, sendcount, sendtype, recvbuf, 0, recvtype, recvcounts, displs, root,
                  comm, NULL, "MPI_Gatherv");
}

int PMPI_Igatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
                  MPI_Comm comm, MPI_Request *request)
{
    return gather(sendbuf, sendcount, sendtype, recvbuf, 0, recvtype, recvcounts, displs, root,
                  comm, request, "MPI_Igatherv");
}

static int scatter(const void *sbuf, int scount, const int *scounts, const int *displs,
                   MPI_Datatype stype, void *rbuf, int rcount, MPI_Datatype rtype, int root,
                   MPI_Comm comm, MPI_Request *request, const char *fn)
{
    bool is_root = false, idle = false;
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_root(comm, root, &is_root, &idle, fn);
    bool receives =
        !idle && !(is_inter(comm) && is_root); /* an intercommunicator's root only sends */
    rc = rc ? rc : (receives ? check_buf(comm, rbuf, rcount, rtype, is_root, fn) : MPI_SUCCESS);
    if (rc == MPI_SUCCESS && is_root) {
        if (displs != NULL) {
            rc = check_counts(comm, scounts, "sendcounts", fn);
            rc = rc ? rc : mpi_check_buffer(comm, sbuf, 0, stype, fn);
        } else {
            rc = mpi_check_buffer(comm, sbuf, scount, stype, fn);
        }
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL && displs != NULL) {
        ops(comm)->scatterv(s, comm, sbuf, scounts, displs, stype, rbuf, (size_t)rcount, rtype,
                            root);
    } else if (s != NULL) {
        ops(comm)->scatter(s, comm, sbuf, (size_t)scount, stype, rbuf, (size_t)rcount, rtype, root);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
    return scatter(sendbuf, sendcount, NULL, NULL, sendtype, recvbuf, recvcount, recvtype, root,
                   comm, NULL, "MPI_Scatter");
}

int PMPI_Iscatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
                  MPI_Request *request)
{
    return scatter(sendbuf, sendcount, NULL, NULL, sendtype, recvbuf, recvcount, recvtype, root,
                   comm, request, "MPI_Iscatter");
}

int PMPI_Scatterv(const void *sendbuf, const int sendcounts[], const int displs[],
                  MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                  int root, MPI_Comm comm)
{
    return scatter(sendbuf, 0, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root,
                   comm, NULL, "MPI_Scatterv");
}

int PMPI_Iscatterv(const void *sendbuf, const int sendcounts[], const int displs[],
                   MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                   int root, MPI_Comm comm, MPI_Request *request)
{
    return scatter(sendbuf, 0, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root,
                   comm, request, "MPI_Iscatterv");
}

static int allgather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                     const int *rcounts, const int *displs, MPI_Datatype rtype, MPI_Comm comm,
                     MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_buf(comm, sbuf, scount, stype, true, fn);
    if (rc == MPI_SUCCESS && displs != NULL) {
        rc = check_counts(comm, rcounts, "recvcounts", fn);
        rc = rc ? rc : mpi_check_buffer(comm, rbuf, 0, rtype, fn);
    } else if (rc == MPI_SUCCESS) {
        rc = mpi_check_buffer(comm, rbuf, rcount, rtype, fn);
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL && displs != NULL) {
        ops(comm)->allgatherv(s, comm, sbuf, (size_t)scount, stype, rbuf, rcounts, displs, rtype);
    } else if (s != NULL) {
        ops(comm)->allgather(s, comm, sbuf, (size_t)scount, stype, rbuf, (size_t)rcount, rtype);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                   int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    return allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, NULL, NULL, recvtype, comm,
                     NULL, "MPI_Allgather");
}

int PMPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                    int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    return allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, NULL, NULL, recvtype, comm,
                     request, "MPI_Iallgather");
}

int PMPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                    const int recvcounts[], const int displs[], MPI_Datatype recvtype,
                    MPI_Comm comm)
{
    return allgather(sendbuf, sendcount, sendtype, recvbuf, 0, recvcounts, displs, recvtype, comm,
                     NULL, "MPI_Allgatherv");
}

int PMPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                     const int recvcounts[], const int displs[], MPI_Datatype recvtype,
                     MPI_Comm comm, MPI_Request *request)
{
    return allgather(sendbuf, sendcount, sendtype, recvbuf, 0, recvcounts, displs, recvtype, comm,
                     request, "MPI_Iallgatherv");
}

static int alltoall(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                    MPI_Datatype rtype, MPI_Comm comm, MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    rc = rc ? rc : check_buf(comm, sbuf, scount, stype, true, fn);
    rc = rc ? rc : mpi_check_buffer(comm, rbuf, rcount, rtype, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->alltoall(s, comm, sbuf, (size_t)scount, stype, rbuf, (size_t)rcount, rtype);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    return alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, NULL,
                    "MPI_Alltoall");
}

int PMPI_Ialltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                   int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    return alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request,
                    "MPI_Ialltoall");
}

/* alltoallv and alltoallw both become alltoallw (byte displacements). */
static int alltoallw(const void *sbuf, const int *scounts, const int *sdispls,
                     const MPI_Datatype *stypes, MPI_Datatype stype, void *rbuf, const int *rcounts,
                     const int *rdispls, const MPI_Datatype *rtypes, MPI_Datatype rtype,
                     MPI_Comm comm, MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int p = mpi_peer_size(&mrail_obj.comms[comm]);
    bool in_place = sbuf == MPI_IN_PLACE;
    rc = in_place ? check_buf(comm, sbuf, 0, MPI_BYTE, true, fn)
                  : check_counts(comm, scounts, "sendcounts", fn);
    rc = rc ? rc : check_counts(comm, rcounts, "recvcounts", fn);
    MPI_Datatype *st = malloc((size_t)p * sizeof(MPI_Datatype));
    MPI_Datatype *rt = malloc((size_t)p * sizeof(MPI_Datatype));
    MPI_Aint *sd = malloc((size_t)p * sizeof(MPI_Aint)), *rd = malloc((size_t)p * sizeof(MPI_Aint));
    if (st == NULL || rt == NULL || sd == NULL || rd == NULL) {
        rc = rc ? rc : mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int r = 0; rc == MPI_SUCCESS && r < p; r++) {
        rt[r] = rtypes ? rtypes[r] : rtype;
        rc = mpi_check_buffer(comm, rbuf, rcounts[r], rt[r], fn);
        rd[r] = rtypes ? (MPI_Aint)rdispls[r] : (MPI_Aint)rdispls[r] * extent_of(rt[r]);
        if (rc == MPI_SUCCESS && !in_place) {
            st[r] = stypes ? stypes[r] : stype;
            rc = mpi_check_buffer(comm, sbuf, scounts[r], st[r], fn);
            sd[r] = stypes ? (MPI_Aint)sdispls[r] : (MPI_Aint)sdispls[r] * extent_of(st[r]);
        }
    }
    mrail_coll_sched_t *s = rc == MPI_SUCCESS ? sched_for(comm, request) : NULL;
    if (s != NULL) {
        ops(comm)->alltoallw(s, comm, sbuf, scounts, sd, st, rbuf, rcounts, rd, rt);
    }
    free(st), free(rt), free(sd), free(rd); /* the schedule holds what it needs */
    return rc != MPI_SUCCESS ? rc : mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
    return alltoallw(sendbuf, sendcounts, sdispls, NULL, sendtype, recvbuf, recvcounts, rdispls,
                     NULL, recvtype, comm, NULL, "MPI_Alltoallv");
}

int PMPI_Ialltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                    MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                    const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    return alltoallw(sendbuf, sendcounts, sdispls, NULL, sendtype, recvbuf, recvcounts, rdispls,
                     NULL, recvtype, comm, request, "MPI_Ialltoallv");
}

int PMPI_Alltoallw(const void *sendbuf, const int sendcounts[], const int sdispls[],
                   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
                   const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm)
{
    return alltoallw(sendbuf, sendcounts, sdispls, sendtypes, MPI_DATATYPE_NULL, recvbuf,
                     recvcounts, rdispls, recvtypes, MPI_DATATYPE_NULL, comm, NULL,
                     "MPI_Alltoallw");
}

int PMPI_Ialltoallw(const void *sendbuf, const int sendcounts[], const int sdispls[],
                    const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
                    const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
                    MPI_Request *request)
{
    return alltoallw(sendbuf, sendcounts, sdispls, sendtypes, MPI_DATATYPE_NULL, recvbuf,
                     recvcounts, rdispls, recvtypes, MPI_DATATYPE_NULL, comm, request,
                     "MPI_Ialltoallw");
}

static int reduce_scatter(const void *sbuf, void *rbuf, const int *rcounts, int block,
                          MPI_Datatype type, MPI_Op op, MPI_Comm comm, MPI_Request *request,
                          const char *fn)
{
    int rc = mpi_coll_check(comm, true, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int p = mrail_obj.comms[comm].size, me = mrail_obj.comms[comm].rank;
    int *counts = calloc((size_t)p, sizeof(int));
    if (counts == NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int r = 0; r < p; r++) {
        counts[r] = rcounts ? rcounts[r] : block;
    }
    long total = 0;
    rc = check_counts_of(comm, counts, true, rcounts ? "recvcounts" : "recvcount", fn);
    for (int r = 0; r < p; r++) {
        total += counts[r];
    }
    rc = rc ? rc : check_buf(comm, sbuf, (int)total, type, true, fn);
    rc =
        rc ? rc
           : mpi_check_buffer(comm, rbuf, sbuf == MPI_IN_PLACE ? (int)total : counts[me], type, fn);
    rc = rc ? rc : mpi_op_check(comm, op, type, fn);
    mrail_coll_sched_t *s = rc == MPI_SUCCESS ? sched_for(comm, request) : NULL;
    if (s != NULL) {
        ops(comm)->reduce_scatter(s, comm, sbuf == MPI_IN_PLACE ? rbuf : sbuf, rbuf, counts, type,
                                  op);
    }
    free(counts);
    return rc != MPI_SUCCESS ? rc : mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
                        MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    return reduce_scatter(sendbuf, recvbuf, recvcounts, 0, type, op, comm, NULL,
                          "MPI_Reduce_scatter");
}

int PMPI_Ireduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
                         MPI_Datatype type, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
    return reduce_scatter(sendbuf, recvbuf, recvcounts, 0, type, op, comm, request,
                          "MPI_Ireduce_scatter");
}

int PMPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype type,
                              MPI_Op op, MPI_Comm comm)
{
    return reduce_scatter(sendbuf, recvbuf, NULL, recvcount, type, op, comm, NULL,
                          "MPI_Reduce_scatter_block");
}

int PMPI_Ireduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype type,
                               MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
    return reduce_scatter(sendbuf, recvbuf, NULL, recvcount, type, op, comm, request,
                          "MPI_Ireduce_scatter_block");
}

static int scan(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                MPI_Comm comm, bool exclusive, MPI_Request *request, const char *fn)
{
    int rc = mpi_coll_check(comm, false, fn);
    rc = rc ? rc : check_buf(comm, sbuf, count, type, true, fn);
    rc = rc ? rc : mpi_check_buffer(comm, rbuf, count, type, fn);
    rc = rc ? rc : mpi_op_check(comm, op, type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_coll_sched_t *s = sched_for(comm, request);
    if (s != NULL) {
        ops(comm)->scan(s, comm, sbuf == MPI_IN_PLACE ? rbuf : sbuf, rbuf, (size_t)count, type, op,
                        exclusive);
    }
    return mpi_coll_finish(s, comm, request, fn);
}

int PMPI_Scan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
              MPI_Comm comm)
{
    return scan(sendbuf, recvbuf, count, type, op, comm, false, NULL, "MPI_Scan");
}

int PMPI_Iscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
               MPI_Comm comm, MPI_Request *request)
{
    return scan(sendbuf, recvbuf, count, type, op, comm, false, request, "MPI_Iscan");
}

int PMPI_Exscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                MPI_Comm comm)
{
    return scan(sendbuf, recvbuf, count, type, op, comm, true, NULL, "MPI_Exscan");
}

int PMPI_Iexscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                 MPI_Comm comm, MPI_Request *request)
{
    return scan(sendbuf, recvbuf, count, type, op, comm, true, request, "MPI_Iexscan");
}
