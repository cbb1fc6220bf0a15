/* Communicator basics, attributes, and the argument checks every call shares. */
#include <stdio.h>

#include "mpi_internal.h"

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
    if (comm <= MPI_COMM_NULL || comm > MPI_COMM_SELF || !mrail_mpi.comms[comm].valid) {
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
    if (mpi_type_size(type) == 0) {
        return mpi_error(comm, MPI_ERR_TYPE, fn, "invalid datatype handle %d", type);
    }
    if (buf == NULL && count > 0) {
        return mpi_error(comm, MPI_ERR_BUFFER, fn, "NULL buffer for %d elements of %s", count,
                         mpi_type_name(type));
    }
    return MPI_SUCCESS;
}

int mpi_check_dest(MPI_Comm comm, int rank, const char *fn)
{
    int size = mrail_mpi.comms[comm].size;
    if (rank == MPI_PROC_NULL || (rank >= 0 && rank < size)) {
        return MPI_SUCCESS;
    }
    return mpi_error(comm, MPI_ERR_RANK, fn,
                     "invalid destination rank %d (valid: 0..%d or MPI_PROC_NULL)", rank, size - 1);
}

int mpi_check_source(MPI_Comm comm, int rank, const char *fn)
{
    int size = mrail_mpi.comms[comm].size;
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

int MPI_Comm_rank(MPI_Comm comm, int *rank)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_rank");
    if (rc == MPI_SUCCESS) {
        *rank = mrail_mpi.comms[comm].rank;
    }
    return rc;
}

int MPI_Comm_size(MPI_Comm comm, int *size)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_size");
    if (rc == MPI_SUCCESS) {
        *size = mrail_mpi.comms[comm].size;
    }
    return rc;
}

int MPI_Comm_get_attr(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
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
    default:
        return mpi_error(comm, MPI_ERR_KEYVAL, "MPI_Comm_get_attr", "unknown keyval %d", keyval);
    }
    *(int **)attribute_val = value;
    *flag = 1;
    return MPI_SUCCESS;
}
