/* mrail runtime: job facts and the modex, over the PMIx client.
 *
 * PMIx is the only wire-up: the same binary runs under mrun, Slurm
 * (srun --mpi=pmix) and Open MPI's mpirun. Started without a launcher it is
 * a job of size 1. */
#ifndef MRAIL_RTE_H
#define MRAIL_RTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mrail/mrail.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_rte_facts {
    uint32_t rank;
    uint32_t size;
    uint32_t local_rank; /* among the ranks of this node */
    uint32_t local_size;
    uint32_t node_id;
    uint32_t appnum;       /* which program of an MPMD job (mrun -n 1 ./a : -n 2 ./b) */
    uint32_t *local_peers; /* ranks on this node, local_size of them, ascending */
    char hostname[256];
    char job[256];       /* PMIx namespace */
    bool singleton;      /* started without a launcher */
    bool oversubscribed; /* more ranks on this node than CPUs: a waiting rank yields */
} mrail_rte_facts_t;

typedef struct mrail_rte mrail_rte_t;

/* Connects to the launcher. Without one, a job of size 1; but when the
 * environment shows a multi-rank launch that is not PMIx (srun --mpi=pmi2,
 * hydra), fails with why saying how to launch instead. */
int mrail_rte_init(mrail_rte_t **rte_out, mrail_reason_t *why);
const mrail_rte_facts_t *mrail_rte_facts(const mrail_rte_t *rte);

/* Publishes blob under key for every rank to read after the next fence. */
int mrail_rte_modex_put(mrail_rte_t *rte, const char *key, const void *blob, size_t len,
                        mrail_reason_t *why);
/* Commits what was put and waits until every rank has, collecting the data. */
int mrail_rte_modex_fence(mrail_rte_t *rte, mrail_reason_t *why);
/* Reads rank's blob for key into a malloc()ed *blob (caller frees). */
int mrail_rte_modex_get(mrail_rte_t *rte, uint32_t rank, const char *key, void **blob, size_t *len,
                        mrail_reason_t *why);
/* Waits until every rank has called it; no data. */
int mrail_rte_barrier(mrail_rte_t *rte, mrail_reason_t *why);
/* The same, calling progress(ctx) while it waits: a rank whose sends still
 * sit in a btl's queue must keep moving them, or a peer that waits for
 * them never reaches the barrier (MPI_Finalize after eager sends). */
int mrail_rte_barrier_progress(mrail_rte_t *rte, int (*progress)(void *ctx), void *ctx,
                               mrail_reason_t *why);
/* Asks the launcher to end the whole job with status; does not return. */
void mrail_rte_abort(mrail_rte_t *rte, int status, const char *msg) __attribute__((noreturn));
/* Tells the launcher this rank is done; frees rte. */
int mrail_rte_finalize(mrail_rte_t *rte);

/* The name of a shared-memory file of job: /mrail.<job>.<rest>, every '/'
 * after the first made '_'. Every segment mrail puts in /dev/shm is named
 * so: the launcher sweeps the job's prefix when the job ends, and no other
 * job can take the name. 0, or ENAMETOOLONG (never a cut name, which
 * another could share). */
int mrail_rte_shm_name(char *name, size_t size, const char *job, const char *rest);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
