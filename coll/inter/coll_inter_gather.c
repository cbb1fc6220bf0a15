/* Intercommunicator gathers, scatters and all-to-alls: every message goes
 * straight to the rank of the other group that needs it. */
#include "coll_inter.h"

static int remote_size(MPI_Comm comm)
{
    return mrail_obj.comms[comm].remote_size;
}

static MPI_Aint extent(MPI_Datatype type)
{
    return mpi_type(type)->extent;
}

void coll_inter_gather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                       MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root)
{
    if (root == MPI_ROOT) {
        for (int r = 0; r < remote_size(comm); r++) {
            mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)r * rcount, extent(rtype)), rcount,
                            rtype, r);
        }
    } else if (root != MPI_PROC_NULL) {
        mrail_coll_send(s, sbuf, scount, stype, root);
    }
    mrail_coll_round(s);
}

void coll_inter_gatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                        MPI_Datatype rtype, int root)
{
    if (root == MPI_ROOT) {
        for (int r = 0; r < remote_size(comm); r++) {
            mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)displs[r], extent(rtype)),
                            (size_t)rcounts[r], rtype, r);
        }
    } else if (root != MPI_PROC_NULL) {
        mrail_coll_send(s, sbuf, scount, stype, root);
    }
    mrail_coll_round(s);
}

void coll_inter_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root)
{
    if (root == MPI_ROOT) {
        for (int r = 0; r < remote_size(comm); r++) {
            mrail_coll_send(s, mrail_coll_at(sbuf, (size_t)r * scount, extent(stype)), scount,
                            stype, r);
        }
    } else if (root != MPI_PROC_NULL) {
        mrail_coll_recv(s, rbuf, rcount, rtype, root);
    }
    mrail_coll_round(s);
}

void coll_inter_scatterv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                         const int *displs, MPI_Datatype stype, void *rbuf, size_t rcount,
                         MPI_Datatype rtype, int root)
{
    if (root == MPI_ROOT) {
        for (int r = 0; r < remote_size(comm); r++) {
            mrail_coll_send(s, mrail_coll_at(sbuf, (size_t)displs[r], extent(stype)),
                            (size_t)scounts[r], stype, r);
        }
    } else if (root != MPI_PROC_NULL) {
        mrail_coll_recv(s, rbuf, rcount, rtype, root);
    }
    mrail_coll_round(s);
}

void coll_inter_allgather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                          MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype)
{
    for (int r = 0; r < remote_size(comm); r++) {
        mrail_coll_send(s, sbuf, scount, stype, r);
        mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)r * rcount, extent(rtype)), rcount, rtype,
                        r);
    }
    mrail_coll_round(s);
}

void coll_inter_allgatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                           MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                           MPI_Datatype rtype)
{
    for (int r = 0; r < remote_size(comm); r++) {
        mrail_coll_send(s, sbuf, scount, stype, r);
        mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)displs[r], extent(rtype)),
                        (size_t)rcounts[r], rtype, r);
    }
    mrail_coll_round(s);
}

void coll_inter_alltoall(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                         MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype)
{
    for (int r = 0; r < remote_size(comm); r++) {
        mrail_coll_send(s, mrail_coll_at(sbuf, (size_t)r * scount, extent(stype)), scount, stype,
                        r);
        mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)r * rcount, extent(rtype)), rcount, rtype,
                        r);
    }
    mrail_coll_round(s);
}

void coll_inter_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf,
                          const int *scounts, const MPI_Aint *sdispls, const MPI_Datatype *stypes,
                          void *rbuf, const int *rcounts, const MPI_Aint *rdispls,
                          const MPI_Datatype *rtypes)
{
    for (int r = 0; r < remote_size(comm); r++) {
        mrail_coll_send(s, (const char *)sbuf + sdispls[r], (size_t)scounts[r], stypes[r], r);
        mrail_coll_recv(s, (char *)rbuf + rdispls[r], (size_t)rcounts[r], rtypes[r], r);
    }
    mrail_coll_round(s);
}
