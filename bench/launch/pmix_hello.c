/* The trivial PMIx program whose launch time bench/launch/launch_time.sh
 * measures: connect, one fence (what MPI_Init's modex costs at least),
 * disconnect. Plain PMIx, so any PMIx launcher can start it. */
#define _POSIX_C_SOURCE 200809L /* bench_util.h's clock */
#include <pmix.h>
#include <stdio.h>

#include "../lib/bench_util.h"

#define PMIX_HELLO_USAGE                                                                           \
    "usage: mrun -n N pmix_hello\n"                                                                \
    "PMIx_Init, one fence, PMIx_Finalize: the job bench/launch/launch_time.sh times.\n"

int main(int argc, char **argv)
{
    if (argc > 1) { /* its launcher's options are the only ones */
        return bench_usage("pmix_hello", PMIX_HELLO_USAGE, argv[1]);
    }
    pmix_proc_t me;
    pmix_status_t rc = PMIx_Init(&me, NULL, 0);
    if (rc != PMIX_SUCCESS) {
        fprintf(stderr, "pmix_hello: PMIx_Init: %s\n", PMIx_Error_string(rc));
        return 1;
    }
    rc = PMIx_Fence(NULL, 0, NULL, 0);
    if (rc != PMIX_SUCCESS) {
        fprintf(stderr, "pmix_hello: PMIx_Fence: %s\n", PMIx_Error_string(rc));
    }
    PMIx_Finalize(NULL, 0);
    return rc == PMIX_SUCCESS ? 0 : 1;
}
