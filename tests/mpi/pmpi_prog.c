/* An ordinary MPI program that knows nothing of profiling: 5 MPI_Send from
 * rank 0 to rank 1, 3 MPI_Allreduce, and calls whose implementations send
 * internally (MPI_Bcast, MPI_Sendrecv, MPI_Barrier), which a profiler must
 * not see as MPI_Send. Prints "ok" when every value is right. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, bad = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 0; i < 5 && size > 1; i++) {
        int v = 100 + i;
        if (rank == 0) {
            MPI_Send(&v, 1, MPI_INT, 1, i, MPI_COMM_WORLD);
        } else if (rank == 1) {
            int got = -1;
            MPI_Recv(&got, 1, MPI_INT, 0, i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            bad += got != v;
        }
    }
    for (int i = 0; i < 3; i++) {
        int mine = rank + i, sum = 0;
        MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        bad += sum != size * (size - 1) / 2 + size * i;
    }
    for (int i = 0; i < 2; i++) {
        int v = rank == 0 ? 7 + i : 0;
        MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
        bad += v != 7 + i;
    }
    int right = (rank + 1) % size, left = (rank + size - 1) % size, from = -1;
    MPI_Sendrecv(&rank, 1, MPI_INT, right, 9, &from, 1, MPI_INT, left, 9, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    bad += from != left;
    MPI_Barrier(MPI_COMM_WORLD);
    printf("rank=%d %s\n", rank, bad ? "wrong" : "ok");
    MPI_Finalize();
    return bad != 0;
}
