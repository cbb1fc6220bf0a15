#ifndef MRAIL_RTE_INTERNAL_H
#define MRAIL_RTE_INTERNAL_H

#include "mrail/rte.h"

/* Fails with why naming the launcher when envp shows a multi-rank launch
 * that PMIx could not reach (srun --mpi=pmi2, hydra, an mpirun that is not
 * PMIx): such a launch would otherwise quietly run N singletons. */
int rte_check_not_foreign_launch(char *const *envp, mrail_reason_t *why);

#endif
