/* Communicator basics: the handle table, context agreement, the argument
 * checks every call shares, and the predefined attributes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Comm_rank);
MRAIL_MPI_ALIAS(MPI_Comm_size);
MRAIL_MPI_ALIAS(MPI_Comm_get_attr);

/* Every member proposes the lowest context it has not used; the largest
 * proposal is unused by all of them. */
void mpi_ctx_vote(mrail_coll_sched_t *s, MPI_Comm comm, unsigned long *mine, unsigned long *agreed)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *mine = *agreed = mrail_obj.next_ctx;
    if (c->size == 1) {
        return;
    }
    /* Gather to 0, reduce, broadcast: small and only at construction. */
    if (c->rank == 0) {
        unsigned long *all = mrail_coll_tmp(s, (size_t)c->size, MPI_UNSIGNED_LONG);
        for (int r = 1; all && r < c->size; r++) {
            mrail_coll_recv(s, &all[r], 1, MPI_UNSIGNED_LONG, r);
        }
        mrail_coll_round(s);
        for (int r = 1; all && r < c->size; r++) {
            mrail_coll_op(s, &all[r], agreed, 1, MPI_UNSIGNED_LONG, MPI_MAX);
        }
        for (int r = 1; r < c->size; r++) {
            mrail_coll_send(s, agreed, 1, MPI_UNSIGNED_LONG, r);
        }
    } else {
        mrail_coll_send(s, mine, 1, MPI_UNSIGNED_LONG, 0);
        mrail_coll_recv(s, agreed, 1, MPI_UNSIGNED_LONG, 0);
    }
}

int mpi_ctx_take(unsigned long agreed, uint32_t *ctx)
{
    if (agreed + 2 > MRAIL_PML_CTX_MAX) {
        return MPI_ERR_INTERN; /* contexts are not reused: see docs/mpi.md */
    }
    mrail_obj.next_ctx = (uint32_t)agreed + 2;
    *ctx = (uint32_t)agreed;
    return MPI_SUCCESS;
}

int mpi_ctx_agree(MPI_Comm comm, uint32_t *ctx)
{
    mpi_idup_settle(); /* its proposal was this process's next context */
    unsigned long mine, agreed;
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    mpi_ctx_vote(s, comm, &mine, &agreed);
    int rc = mrail_coll_run(s);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    return mpi_ctx_take(agreed, ctx);
}

int mpi_check_init(const char *fn)
{
    if (mrail_mpi.initialized) {
        return MPI_SUCCESS;
    }
    fprintf(stderr, "mrail: %s: called %s\n", fn,
            mrail_mpi.finalized ? "after MPI_Finalize" : "before MPI_Init");
    return MPI_ERR_OTHER;
}

int mpi_check_comm(MPI_Comm comm, const char *fn)
{
    int rc = mpi_check_init(fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (comm <= MPI_COMM_NULL || comm >= mrail_obj.ncomms || !mrail_obj.comms[comm].valid) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_COMM, fn, "invalid communicator handle %d%s", comm,
                         comm == MPI_COMM_NULL ? " (MPI_COMM_NULL)" : "");
    }
    return MPI_SUCCESS;
}

int mpi_check_buffer(MPI_Comm comm, const void *buf, int count, MPI_Datatype type, const char *fn)
{
    if (count < 0) {
        return mpi_error(comm, MPI_ERR_COUNT, fn, "negative count %d", count);
    }
    const mpi_type_t *t = mpi_type(type);
    if (t == NULL) {
        return mpi_error(comm, MPI_ERR_TYPE, fn, "invalid datatype handle %d%s", type,
                         type == MPI_DATATYPE_NULL ? " (MPI_DATATYPE_NULL)" : "");
    }
    if (!t->committed) {
        return mpi_error(comm, MPI_ERR_TYPE, fn,
                         "datatype %d is not committed (call MPI_Type_commit first)", type);
    }
    if (buf == NULL && count > 0 && t->predefined) { /* MPI_BOTTOM needs absolute displacements */
        return mpi_error(comm, MPI_ERR_BUFFER, fn, "NULL buffer for %d elements of %s", count,
                         mpi_type_name(type));
    }
    return MPI_SUCCESS;
}

int mpi_check_dest(MPI_Comm comm, int rank, const char *fn)
{
    int size = mpi_peer_size(&mrail_obj.comms[comm]);
    if (rank == MPI_PROC_NULL || (rank >= 0 && rank < size)) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_RANK, fn,
                     "invalid destination rank %d (valid: 0..%d or MPI_PROC_NULL)", rank, size - 1);
}

int mpi_check_source(MPI_Comm comm, int rank, const char *fn)
{
    int size = mpi_peer_size(&mrail_obj.comms[comm]);
    if (rank == MPI_PROC_NULL || rank == MPI_ANY_SOURCE || (rank >= 0 && rank < size)) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_RANK, fn,
                     "invalid source rank %d (valid: 0..%d, MPI_ANY_SOURCE or MPI_PROC_NULL)", rank,
                     size - 1);
}

int mpi_check_send_tag(MPI_Comm comm, int tag, const char *fn)
{
    if (tag >= 0 && tag <= MPI_TAG_MAX) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_TAG, fn, "invalid tag %d (valid: 0..%d)", tag, MPI_TAG_MAX);
}

int mpi_check_recv_tag(MPI_Comm comm, int tag, const char *fn)
{
    if (tag == MPI_ANY_TAG || (tag >= 0 && tag <= MPI_TAG_MAX)) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_TAG, fn, "invalid tag %d (valid: 0..%d or MPI_ANY_TAG)", tag,
                     MPI_TAG_MAX);
}

int PMPI_Comm_rank(MPI_Comm comm, int *rank)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_rank");
    if (rc == MPI_SUCCESS) {
        *rank = mrail_obj.comms[comm].rank;
    }
    return rc;
}

int PMPI_Comm_size(MPI_Comm comm, int *size)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_size");
    if (rc == MPI_SUCCESS) {
        *size = mrail_obj.comms[comm].size;
    }
    return rc;
}

int PMPI_Comm_get_attr(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
    /* Values live as long as the program: MPI hands out pointers to them. */
    static int tag_ub = MPI_TAG_MAX, universe, appnum = 0, wtime_global = 0, host = MPI_PROC_NULL;
    static int io = MPI_ANY_SOURCE, lastused;
    int rc = mpi_check_comm(comm, "MPI_Comm_get_attr");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    universe = mrail_obj.comms[MPI_COMM_WORLD].size;
    appnum = (int)mrail_rte_facts(mrail_mpi.rte)->appnum;
    int *value = NULL;
    switch (keyval) {
    case MPI_TAG_UB: value = &tag_ub; break;
    case MPI_UNIVERSE_SIZE: value = &universe; break;
    case MPI_APPNUM: value = &appnum; break;
    case MPI_WTIME_IS_GLOBAL: value = &wtime_global; break;
    case MPI_HOST: value = &host; break;
    case MPI_IO: value = &io; break;
    case MPI_LASTUSEDCODE: value = (lastused = mpi_last_used_code(), &lastused); break;
    default: return mpi_attr_get(comm, keyval, attribute_val, flag);
    }
    *(int **)attribute_val = value;
    *flag = 1;
    return MPI_SUCCESS;
}
