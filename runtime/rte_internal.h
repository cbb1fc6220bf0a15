#ifndef MRAIL_RTE_INTERNAL_H
#define MRAIL_RTE_INTERNAL_H

#include <pmix.h>

#include "mrail/rte.h"

struct mrail_rte {
    pmix_proc_t me;
    mrail_rte_facts_t facts;
    mrail_rte_bell_t **bells; /* by local index, on a crowded node (rte_bell.c) */
};

/* Fails with why naming the launcher when envp shows a multi-rank launch
 * that PMIx could not reach (srun --mpi=pmi2, hydra, an mpirun that is not
 * PMIx): such a launch would otherwise quietly run N singletons. */
int rte_check_not_foreign_launch(char *const *envp, mrail_reason_t *why);

#endif
