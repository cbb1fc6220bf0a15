/* Communicator basics: the handle table, context agreement, the argument
 * checks every call shares, and the predefined attributes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_base.h"
#include "mpi_internal.h"

/* The profiling interface: MPI_ names are weak aliases of the PMPI_
 * definitions, so a tool may define MPI_X and call PMPI_X. */
#pragma weak MPI_Comm_rank = PMPI_Comm_rank
#pragma weak MPI_Comm_size = PMPI_Comm_size
#pragma weak MPI_Comm_get_attr = PMPI_Comm_get_attr

int mpi_comms_init(void)
{
    mrail_mpi.ncomms = 16;
    mrail_mpi.comms = calloc((size_t)mrail_mpi.ncomms, sizeof(mpi_comm_t));
    return mrail_mpi.comms ? MPI_SUCCESS : MPI_ERR_NO_MEM;
}

static void comm_clear(mpi_comm_t *c)
{
    free(c->world);
    free(c->remote_world);
    free(c->dims);
    free(c->periods);
    free(c->sources);
    free(c->destinations);
    *c = (mpi_comm_t){0};
}

void mpi_comms_fini(void)
{
    for (int h = 0; h < mrail_mpi.ncomms; h++) {
        comm_clear(&mrail_mpi.comms[h]);
    }
    free(mrail_mpi.comms);
    mrail_mpi.comms = NULL;
    mrail_mpi.ncomms = 0;
}

int mpi_comm_init_at(MPI_Comm h, uint32_t ctx, int size, int rank, const uint32_t *world)
{
    mpi_comm_t *c = &mrail_mpi.comms[h];
    *c = (mpi_comm_t){.valid = true,
                      .ctx = ctx,
                      .coll_ctx = ctx + 1,
                      .size = size,
                      .rank = rank,
                      .errhandler = MPI_ERRORS_ARE_FATAL,
                      .topo = MPI_UNDEFINED,
                      .local = MPI_COMM_NULL};
    c->world = malloc((size_t)(size ? size : 1) * sizeof(uint32_t));
    if (c->world == NULL) {
        c->valid = false;
        return MPI_ERR_NO_MEM;
    }
    memcpy(c->world, world, (size_t)size * sizeof(uint32_t));
    if (ctx + 2 > mrail_mpi.next_ctx) {
        mrail_mpi.next_ctx = ctx + 2;
    }
    return MPI_SUCCESS;
}

MPI_Comm mpi_comm_new(uint32_t ctx, int size, int rank, const uint32_t *world)
{
    int h = MPI_COMM_SELF + 1;
    while (h < mrail_mpi.ncomms && mrail_mpi.comms[h].valid) {
        h++;
    }
    if (h == mrail_mpi.ncomms) {
        int n = 2 * mrail_mpi.ncomms;
        mpi_comm_t *grown = realloc(mrail_mpi.comms, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return MPI_COMM_NULL;
        }
        memset(grown + mrail_mpi.ncomms, 0, (size_t)(n - mrail_mpi.ncomms) * sizeof(*grown));
        mrail_mpi.comms = grown;
        mrail_mpi.ncomms = n;
    }
    return mpi_comm_init_at(h, ctx, size, rank, world) == MPI_SUCCESS ? h : MPI_COMM_NULL;
}

void mpi_comm_release(MPI_Comm comm)
{
    mpi_comm_t *c = &mrail_mpi.comms[comm];
    if (c->local != MPI_COMM_NULL) {
        mpi_comm_release(c->local);
    }
    comm_clear(c);
}

/* Every member proposes the lowest context it has not used; the largest
 * proposal is unused by all of them. */
int mpi_ctx_agree(MPI_Comm comm, uint32_t *ctx)
{
    unsigned long mine = mrail_mpi.next_ctx, agreed = mine;
    const mpi_comm_t *c = &mrail_mpi.comms[comm];
    if (c->size > 1) {
        coll_sched_t *s = coll_sched_new(comm);
        if (s == NULL) {
            return MPI_ERR_NO_MEM;
        }
        /* Gather to 0, reduce, broadcast: small and only at construction. */
        if (c->rank == 0) {
            unsigned long *all = coll_tmp(s, (size_t)c->size, MPI_UNSIGNED_LONG);
            for (int r = 1; all && r < c->size; r++) {
                coll_recv(s, &all[r], 1, MPI_UNSIGNED_LONG, r);
            }
            coll_round(s);
            for (int r = 1; all && r < c->size; r++) {
                coll_op(s, &all[r], &agreed, 1, MPI_UNSIGNED_LONG, MPI_MAX);
            }
            for (int r = 1; r < c->size; r++) {
                coll_send(s, &agreed, 1, MPI_UNSIGNED_LONG, r);
            }
        } else {
            coll_send(s, &mine, 1, MPI_UNSIGNED_LONG, 0);
            coll_recv(s, &agreed, 1, MPI_UNSIGNED_LONG, 0);
        }
        int rc = coll_run(s);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    *ctx = (uint32_t)agreed;
    mrail_mpi.next_ctx = (uint32_t)agreed + 2;
    return MPI_SUCCESS;
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
    if (comm <= MPI_COMM_NULL || comm >= mrail_mpi.ncomms || !mrail_mpi.comms[comm].valid) {
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
    int size = mpi_peer_size(&mrail_mpi.comms[comm]);
    if (rank == MPI_PROC_NULL || (rank >= 0 && rank < size)) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_RANK, fn,
                     "invalid destination rank %d (valid: 0..%d or MPI_PROC_NULL)", rank, size - 1);
}

int mpi_check_source(MPI_Comm comm, int rank, const char *fn)
{
    int size = mpi_peer_size(&mrail_mpi.comms[comm]);
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
        *rank = mrail_mpi.comms[comm].rank;
    }
    return rc;
}

int PMPI_Comm_size(MPI_Comm comm, int *size)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_size");
    if (rc == MPI_SUCCESS) {
        *size = mrail_mpi.comms[comm].size;
    }
    return rc;
}

int PMPI_Comm_get_attr(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
    /* Values live as long as the program: MPI hands out pointers to them. */
    static int tag_ub = MPI_TAG_MAX, universe, appnum = 0, wtime_global = 0, host = MPI_PROC_NULL;
    static int io = MPI_ANY_SOURCE;
    int rc = mpi_check_comm(comm, "MPI_Comm_get_attr");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    universe = mrail_mpi.comms[MPI_COMM_WORLD].size;
    int *value = NULL;
    switch (keyval) {
    case MPI_TAG_UB: value = &tag_ub; break;
    case MPI_UNIVERSE_SIZE: value = &universe; break;
    case MPI_APPNUM: value = &appnum; break;
    case MPI_WTIME_IS_GLOBAL: value = &wtime_global; break;
    case MPI_HOST: value = &host; break;
    case MPI_IO: value = &io; break;
    default: return mpi_attr_get(comm, keyval, attribute_val, flag);
    }
    *(int **)attribute_val = value;
    *flag = 1;
    return MPI_SUCCESS;
}
