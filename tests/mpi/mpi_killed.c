/* A rank that dies by SIGKILL in the middle of MPI traffic (issue 16):
 * argv[1] says where: "send" (rank 1 dies while rank 0 sends it 64 MiB),
 * "recv" (rank 0 dies while rank 1 receives 64 MiB from it) or "coll"
 * (the last rank dies while every rank loops in 1 MiB allreduces). The
 * launcher must end the job, name the signal, and leave nothing behind;
 * the survivors never finish on their own. Other arguments are ignored
 * (the test's tag). */
#define _DEFAULT_SOURCE /* usleep */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *where = argc > 1 ? argv[1] : "send";
    int len = 64 << 20;
    char *buf = malloc((size_t)len);
    memset(buf, rank, (size_t)len);
    MPI_Request q;
    if (strcmp(where, "send") == 0 && rank <= 1) {
        if (rank == 0) {
            MPI_Send(buf, len, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
        } else {
            MPI_Irecv(buf, len, MPI_CHAR, 0, 1, MPI_COMM_WORLD, &q);
            usleep(2000);
            raise(SIGKILL);
        }
    } else if (strcmp(where, "recv") == 0 && rank <= 1) {
        if (rank == 1) {
            MPI_Recv(buf, len, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Isend(buf, len, MPI_CHAR, 1, 1, MPI_COMM_WORLD, &q);
            usleep(2000);
            raise(SIGKILL);
        }
    } else if (strcmp(where, "coll") == 0) {
        if (rank == size - 1) {
            MPI_Allreduce(MPI_IN_PLACE, buf, 1 << 20, MPI_CHAR, MPI_MAX, MPI_COMM_WORLD);
            raise(SIGKILL);
        }
    }
    for (;;) { /* the survivors wait for ever: only the launcher ends them */
        MPI_Allreduce(MPI_IN_PLACE, buf, 1 << 20, MPI_CHAR, MPI_MAX, MPI_COMM_WORLD);
    }
    MPI_Finalize();
    return 0;
}
