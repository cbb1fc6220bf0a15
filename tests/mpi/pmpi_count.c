/* A profiling tool as mpiP or Darshan would be one: it defines MPI_ names,
 * counts, and forwards to PMPI_. Built by the test with mrail's mpicc as a
 * shared library and linked ahead of libmrail. */
#include <mpi.h>
#include <stdio.h>

static int sends, allreduces;

int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag, MPI_Comm comm)
{
    sends++;
    return PMPI_Send(buf, count, datatype, dest, tag, comm);
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm)
{
    allreduces++;
    return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

int MPI_Finalize(void)
{
    int rank;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("pmpi_count rank=%d send=%d allreduce=%d\n", rank, sends, allreduces);
    fflush(stdout);
    return PMPI_Finalize();
}
