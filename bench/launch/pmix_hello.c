/* The trivial PMIx program whose launch time bench/launch/launch_time.sh
 * measures: connect, one fence (what MPI_Init's modex costs at least),
 * disconnect. Plain PMIx, so any PMIx launcher can start it. */
#include <pmix.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1) { /* its launcher's options are the only ones */
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fprintf(help ? stdout : stderr,
                "%s%s%susage: mrun -n N pmix_hello\nPMIx_Init, one fence, PMIx_Finalize: "
                "what bench/launch/launch_time.sh times.\n",
                help ? "" : "pmix_hello: unknown argument ", help ? "" : argv[1], help ? "" : "\n");
        return help ? 0 : 2;
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
