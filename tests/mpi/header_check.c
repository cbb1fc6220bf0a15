/* mpi.h must compile without a warning as C99 and as C++ (this same file is
 * compiled both ways by tests/mpi/test_mpi.c). */
#include <mpi.h>

int main(int argc, char **argv)
{
    int rank = -1;
    MPI_Status st;
    MPI_Datatype types[] = {MPI_INT, MPI_DOUBLE, MPI_C_DOUBLE_COMPLEX, MPIX_C_FLOAT16};
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Sendrecv(&rank, 1, types[0], 0, 0, &st.MPI_TAG, 1, MPI_INT, 0, 0, MPI_COMM_SELF, &st);
    MPI_Finalize();
    return st.MPI_TAG == rank ? 0 : 1;
}
