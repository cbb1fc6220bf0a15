/* Rank 0 sends many eager messages and goes straight into MPI_Finalize;
 * rank 1 starts receiving only a second later. An eager send completes
 * once its bytes are copied, so when rank 0 reaches MPI_Finalize most of
 * them still sit in its btl's queue: MPI_Finalize must keep them moving
 * (it once stood in a PMIx fence while rank 1 waited for them forever).
 * Every byte is checked; prints "rank=R drained" when all is well. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { COUNT = 4000, WORDS = 1024 }; /* 16 MB in 4 KiB messages */

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, bad = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    static int buf[WORDS];
    if (size >= 2 && rank == 0) {
        for (int i = 0; i < COUNT; i++) {
            for (int w = 0; w < WORDS; w++) {
                buf[w] = i * 7 + w;
            }
            MPI_Send(buf, WORDS, MPI_INT, 1, i % 5, MPI_COMM_WORLD);
        }
    } else if (size >= 2 && rank == 1) {
        sleep(1);
        for (int i = 0; i < COUNT; i++) {
            memset(buf, 0xff, sizeof(buf));
            MPI_Status st;
            MPI_Recv(buf, WORDS, MPI_INT, 0, i % 5, MPI_COMM_WORLD, &st);
            for (int w = 0; w < WORDS; w++) {
                bad += buf[w] != i * 7 + w;
            }
        }
    }
    printf("rank=%d %s\n", rank, bad ? "corrupt" : "drained");
    fflush(stdout);
    MPI_Finalize();
    return bad != 0;
}
