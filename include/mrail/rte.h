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

/* Doorbells, for a crowded node (more ranks than CPUs). There a rank that
 * polls or yields while it waits keeps the CPU from the peer it waits for,
 * and beside a process that never yields (a memory-bound neighbour) a
 * yield gives that process the CPU for the rest of its time slice:
 * milliseconds per wait. A rank that sleeps instead is woken at once by
 * the peer's store, and the scheduler runs a woken sleeper ahead of a
 * process that has not slept. The bells live in shared memory that a btl
 * maps on every local rank (btl/sm's segments) and are told to the
 * runtime here; a rank with no bell of its own yields as before. */
typedef struct mrail_rte_bell {
    uint32_t seq;      /* rings so far: the word its owner sleeps on */
    uint32_t sleepers; /* the owner's threads asleep on it, or about to be */
} mrail_rte_bell_t;

/* Where local rank local_index's bell is mapped here (NULL: gone; the
 * mapping is about to be dropped). Only on a crowded node; elsewhere it
 * does nothing. */
void mrail_rte_bell_attach(mrail_rte_t *rte, uint32_t local_index, mrail_rte_bell_t *bell);
/* The bell of local rank local_index, NULL when none is known (or the node
 * is not crowded): a caller that rings often keeps it. */
mrail_rte_bell_t *mrail_rte_bell_of(const mrail_rte_t *rte, uint32_t local_index);
/* Wakes the bell's owner; mrail_rte_bell_ring calls it when the owner
 * sleeps, and is what stores call. */
void mrail_rte_bell_wake(mrail_rte_bell_t *bell);
/* A ringer's look at how many sleep on a bell, after the stores its owner
 * may be waiting for: a full fence, then a load of each count.
 * ThreadSanitizer does not model fences (GCC refuses them under it); there
 * each look is a read-modify-write of the count, which the sleeper's own
 * read-modify-write of it then reads from or follows: the same guarantee. */
static inline void mrail_rte_bell_fence(void)
{
#ifndef __SANITIZE_THREAD__
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* our stores before the counts */
#endif
}
static inline uint32_t mrail_rte_bell_sleepers(mrail_rte_bell_t *bell)
{
#ifdef __SANITIZE_THREAD__
    return __atomic_fetch_add(&bell->sleepers, 0, __ATOMIC_ACQ_REL);
#else
    return __atomic_load_n(&bell->sleepers, __ATOMIC_RELAXED);
#endif
}
/* After the stores the bell's owner may be waiting for: wakes it if it
 * sleeps. A full fence and one load when it does not. */
static inline void mrail_rte_bell_ring(mrail_rte_bell_t *bell)
{
    mrail_rte_bell_fence();
    if (mrail_rte_bell_sleepers(bell) != 0) {
        mrail_rte_bell_wake(bell);
    }
}
/* The same for n bells at once (NULL entries skipped): one fence. */
static inline void mrail_rte_bells_ring(mrail_rte_bell_t *const *bells, size_t n)
{
    mrail_rte_bell_fence();
    for (size_t i = 0; i < n; i++) {
        if (bells[i] != NULL && mrail_rte_bell_sleepers(bells[i]) != 0) {
            mrail_rte_bell_wake(bells[i]);
        }
    }
}
/* Sleeps on bell until it is rung or timeout_us pass, unless ready(arg),
 * asked once this thread counts as asleep, says there is work: what a
 * ringer stored before that look is seen by ready, what it stores after
 * wakes the sleeper. false when the time ran out, true otherwise. */
bool mrail_rte_bell_sleep(mrail_rte_bell_t *bell, bool (*ready)(void *arg), void *arg,
                          unsigned timeout_us);
/* mrail_rte_bell_sleep on this rank's own bell; false (without sleeping)
 * when it has none. */
bool mrail_rte_doze(mrail_rte_t *rte, bool (*ready)(void *arg), void *arg, unsigned timeout_us);

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
