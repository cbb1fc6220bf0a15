/* Intercommunicator barrier, broadcast and reductions: through each
 * group's rank 0. */
#include "coll_inter.h"

static int local_rank(MPI_Comm comm)
{
    return mrail_obj.comms[comm].rank;
}

static int local_size(MPI_Comm comm)
{
    return mrail_obj.comms[comm].size;
}

static MPI_Aint extent(MPI_Datatype type)
{
    return mpi_type(type)->extent;
}

/* Sends buf from local rank 0 to the rest of the local group (rank 0's
 * data must be ready: a round before this). */
static void local_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count,
                        MPI_Datatype type)
{
    if (local_rank(comm) != 0) {
        mrail_coll_recvx(s, buf, count, type, 0, MRAIL_COLL_LOCAL);
        return;
    }
    for (int r = 1; r < local_size(comm); r++) {
        mrail_coll_sendx(s, buf, count, type, r, MRAIL_COLL_LOCAL);
    }
}

/* The local group's sbufs reduced in rank order at local rank 0: returns
 * where the result is there (NULL elsewhere, or out of memory: the
 * schedule then fails to start). The result is ready after the ops, in
 * the same round. */
static const void *local_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf,
                                size_t count, MPI_Datatype type, MPI_Op op)
{
    int me = local_rank(comm), n = local_size(comm);
    if (me != 0) {
        mrail_coll_sendx(s, sbuf, count, type, 0, MRAIL_COLL_LOCAL);
        return NULL;
    }
    if (n == 1) {
        return sbuf;
    }
    void *in = mrail_coll_tmp(s, count * (size_t)(n - 1), type); /* ranks 1..n-1 */
    if (in == NULL) {
        return NULL;
    }
    MPI_Aint ext = extent(type);
    for (int r = 1; r < n; r++) {
        mrail_coll_recvx(s, mrail_coll_at(in, (size_t)(r - 1) * count, ext), count, type, r,
                         MRAIL_COLL_LOCAL);
    }
    mrail_coll_round(s);
    /* x0 op (x1 op (... op x(n-1))): the op's in is the lower rank. */
    void *acc = mrail_coll_at(in, (size_t)(n - 2) * count, ext);
    for (int r = n - 2; r >= 1; r--) {
        mrail_coll_op(s, mrail_coll_at(in, (size_t)(r - 1) * count, ext), acc, count, type, op);
    }
    mrail_coll_op(s, sbuf, acc, count, type, op);
    return acc;
}

void coll_inter_barrier(mrail_coll_sched_t *s, MPI_Comm comm)
{
    int me = local_rank(comm), n = local_size(comm);
    if (me != 0) {
        mrail_coll_sendx(s, NULL, 0, MPI_BYTE, 0, MRAIL_COLL_LOCAL);
        mrail_coll_recvx(s, NULL, 0, MPI_BYTE, 0, MRAIL_COLL_LOCAL);
        mrail_coll_round(s);
        return;
    }
    for (int r = 1; r < n; r++) {
        mrail_coll_recvx(s, NULL, 0, MPI_BYTE, r, MRAIL_COLL_LOCAL);
    }
    mrail_coll_round(s);
    /* Every local rank has arrived; the other rank 0 says the same of its group. */
    mrail_coll_send(s, NULL, 0, MPI_BYTE, 0);
    mrail_coll_recv(s, NULL, 0, MPI_BYTE, 0);
    mrail_coll_round(s);
    for (int r = 1; r < n; r++) {
        mrail_coll_sendx(s, NULL, 0, MPI_BYTE, r, MRAIL_COLL_LOCAL);
    }
    mrail_coll_round(s);
}

void coll_inter_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count,
                      MPI_Datatype type, int root)
{
    if (root == MPI_PROC_NULL) {
        return;
    }
    if (root == MPI_ROOT) {
        mrail_coll_send(s, buf, count, type, 0);
    } else {
        if (local_rank(comm) == 0) {
            mrail_coll_recv(s, buf, count, type, root);
            mrail_coll_round(s);
        }
        local_bcast(s, comm, buf, count, type);
    }
    mrail_coll_round(s);
}

void coll_inter_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op, int root)
{
    if (root == MPI_PROC_NULL) {
        return;
    }
    if (root == MPI_ROOT) {
        mrail_coll_recv(s, rbuf, count, type, 0);
    } else {
        const void *acc = local_reduce(s, comm, sbuf, count, type, op);
        if (local_rank(comm) == 0 && acc != NULL) {
            mrail_coll_send(s, acc, count, type, root);
        }
    }
    mrail_coll_round(s);
}

void coll_inter_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                          size_t count, MPI_Datatype type, MPI_Op op)
{
    const void *acc = local_reduce(s, comm, sbuf, count, type, op);
    if (local_rank(comm) == 0) {
        if (acc == NULL) {
            return;
        }
        /* This group's result is the other group's data. */
        mrail_coll_send(s, acc, count, type, 0);
        mrail_coll_recv(s, rbuf, count, type, 0);
        mrail_coll_round(s);
    }
    local_bcast(s, comm, rbuf, count, type);
    mrail_coll_round(s);
}

void coll_inter_reduce_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                               const int *rcounts, MPI_Datatype type, MPI_Op op)
{
    int me = local_rank(comm), n = local_size(comm);
    size_t total = 0;
    for (int r = 0; r < n; r++) {
        total += (size_t)rcounts[r];
    }
    const void *acc = local_reduce(s, comm, sbuf, total, type, op);
    if (me != 0) {
        mrail_coll_recvx(s, rbuf, (size_t)rcounts[me], type, 0, MRAIL_COLL_LOCAL);
        mrail_coll_round(s);
        return;
    }
    void *other = mrail_coll_tmp(s, total, type);
    if (acc == NULL || other == NULL) {
        return;
    }
    mrail_coll_send(s, acc, total, type, 0);
    mrail_coll_recv(s, other, total, type, 0);
    mrail_coll_round(s);
    MPI_Aint ext = extent(type);
    size_t at = (size_t)rcounts[0];
    for (int r = 1; r < n; r++) {
        mrail_coll_sendx(s, mrail_coll_at(other, at, ext), (size_t)rcounts[r], type, r,
                         MRAIL_COLL_LOCAL);
        at += (size_t)rcounts[r];
    }
    mrail_coll_copy(s, other, (size_t)rcounts[0], type, rbuf, (size_t)rcounts[0], type);
    mrail_coll_round(s);
}
