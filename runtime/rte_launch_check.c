/* Telling a real singleton from a launch mrail cannot talk to. */
#include <stdlib.h>
#include <string.h>

#include "rte_internal.h"

static const char *env_get(char *const *envp, const char *name)
{
    size_t len = strlen(name);
    for (char *const *e = envp; *e; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') {
            return *e + len + 1;
        }
    }
    return NULL;
}

static bool env_above_one(char *const *envp, const char *name)
{
    const char *v = env_get(envp, name);
    return v != NULL && strtol(v, NULL, 10) > 1;
}

int rte_check_not_foreign_launch(char *const *envp, mrail_reason_t *why)
{
    const char *seen = NULL;
    /* SLURM_NTASKS alone is also set in a batch script, where running one
     * process is legitimate; inside a job step srun sets SLURM_STEP_ID. */
    if (env_above_one(envp, "SLURM_STEP_NUM_TASKS") ||
        (env_above_one(envp, "SLURM_NTASKS") && env_get(envp, "SLURM_STEP_ID"))) {
        seen = "Slurm started several tasks without PMIx (srun --mpi=pmi2 or none?)";
    } else if (env_above_one(envp, "PMI_SIZE") || env_get(envp, "PMI_FD")) {
        seen = "a PMI-1/PMI-2 launcher (MPICH's hydra mpiexec?) started this process";
    } else if (env_above_one(envp, "OMPI_COMM_WORLD_SIZE")) {
        seen = "Open MPI's mpirun started several ranks but its PMIx server was not reachable";
    }
    if (seen == NULL) {
        return MRAIL_SUCCESS;
    }
    return mrail_reason_set(why, MRAIL_ERR_NOT_SUPPORTED,
                            "%s; mrail wires up through PMIx only and would run as unconnected "
                            "single processes. Launch with mrun -n N, srun --mpi=pmix, or Open "
                            "MPI's mpirun",
                            seen);
}
