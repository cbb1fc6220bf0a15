/* One-sided communication is not provided yet: every window call says so
 * through the error handler (MPI_ERR_UNSUPPORTED_OPERATION), never
 * pretending to succeed. */
#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Win_create);
MRAIL_MPI_ALIAS(MPI_Win_allocate);
MRAIL_MPI_ALIAS(MPI_Win_create_dynamic);
MRAIL_MPI_ALIAS(MPI_Win_attach);
MRAIL_MPI_ALIAS(MPI_Win_free);

static int unsupported(MPI_Comm comm, const char *fn)
{
    int rc = mpi_check_init(fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    return mpi_error(comm, MPI_ERR_UNSUPPORTED_OPERATION, fn,
                     "one-sided communication (MPI_Win) is not supported by mrail yet");
}

int PMPI_Win_create(void *base, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                    MPI_Win *win)
{
    (void)base, (void)size, (void)disp_unit, (void)info;
    *win = MPI_WIN_NULL;
    return unsupported(comm, "MPI_Win_create");
}

int PMPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr,
                      MPI_Win *win)
{
    (void)size, (void)disp_unit, (void)info, (void)baseptr;
    *win = MPI_WIN_NULL;
    return unsupported(comm, "MPI_Win_allocate");
}

int PMPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
    (void)info;
    *win = MPI_WIN_NULL;
    return unsupported(comm, "MPI_Win_create_dynamic");
}

int PMPI_Win_attach(MPI_Win win, void *base, MPI_Aint size)
{
    (void)win, (void)base, (void)size;
    return unsupported(MPI_COMM_WORLD, "MPI_Win_attach");
}

int PMPI_Win_free(MPI_Win *win)
{
    (void)win;
    return unsupported(MPI_COMM_WORLD, "MPI_Win_free");
}
