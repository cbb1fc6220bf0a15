/* Which coll component runs each operation: MPI_Barrier and MPI_Ibarrier
 * (3 + 1 per rank) and MPI_Allreduce. Rank 0 enters every barrier late and
 * looks, just before, for a message the others send right after it: one
 * that already arrived means a rank left the barrier before rank 0 entered
 * it. Prints "rank=R ok" when every check holds. */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, bad = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 0; i < 4; i++) {
        if (rank == 0) {
            nanosleep(&(struct timespec){0, 200 * 1000 * 1000},
                      NULL); /* gives a barrier that does not wait the chance to show it */
            int early = 0;
            MPI_Iprobe(MPI_ANY_SOURCE, 50 + i, MPI_COMM_WORLD, &early, MPI_STATUS_IGNORE);
            if (early) {
                fprintf(stderr, "barrier %d: a rank left it before rank 0 entered\n", i);
                bad++;
            }
        }
        if (i < 3) {
            MPI_Barrier(MPI_COMM_WORLD);
        } else {
            MPI_Request req;
            MPI_Ibarrier(MPI_COMM_WORLD, &req);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
        }
        if (rank != 0) {
            MPI_Send(&i, 1, MPI_INT, 0, 50 + i, MPI_COMM_WORLD);
        } else {
            for (int r = 1; r < size; r++) {
                int got = -1;
                MPI_Recv(&got, 1, MPI_INT, r, 50 + i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                bad += got != i;
            }
        }
    }
    long mine = 1000 + rank, sum = 0;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    bad += sum != 1000L * size + (long)size * (size - 1) / 2;
    printf("rank=%d %s\n", rank, bad ? "wrong" : "ok");
    MPI_Finalize();
    return bad != 0;
}
