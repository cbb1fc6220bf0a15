/* coll/sm: barrier, bcast, reduce and allreduce of small messages through
 * one shared segment per communicator whose ranks are all on this node,
 * as Open MPI's coll/sm and MPICH's release/gather do: no message, no
 * matching, no request; a rank waits on the cache lines of the ranks it
 * needs. Larger messages, non-contiguous reductions and communicators
 * that span nodes go to the operations below it (coll/tuned).
 *
 * The segment: one line per rank, written only by that rank, then two
 * generations of one slot per rank. Operations through the segment are
 * numbered 1, 2, ... on every rank alike (every rank makes the same
 * choice, from the communicator and the byte count) and run in that order
 * on each rank; operation k uses generation k % 2. A rank that joins k
 * writes its slot (when it has data), then publishes arrived = k; it
 * reads what it needs once the ranks it waits for have arrived, then
 * publishes done = k. A slot is written again at k + 2 only once every
 * rank is done with k. A barrier gathers at rank 0, which releases the
 * others: rank 0 leaves first, so on a crowded node the root of a bcast
 * that follows (rank 0, as a rule) is already running when the others
 * look for its data (the flat barrier, where everyone waits for
 * everyone, made the bcast after it 4-5 times slower there). */
#ifndef COLL_SM_H
#define COLL_SM_H

#include <stdint.h>

#include "coll_base.h"

#define COLL_SM_LINE 64

typedef struct coll_sm_line {
    _Alignas(COLL_SM_LINE) uint64_t arrived; /* the last operation this rank joined */
    uint64_t done;    /* the last one whose shared data it has finished with */
    uint64_t release; /* rank 0's: the last barrier every rank has reached */
} coll_sm_line_t;

/* A communicator's state (mpi_comm_t.coll_state). */
typedef struct coll_sm_comm {
    mrail_coll_fns_t below; /* what it hands on */
    void *map;
    size_t map_len;
    coll_sm_line_t *lines; /* n, in the segment */
    char *slots;           /* 2 generations x n slots of max bytes */
    size_t max;
    int n, rank;
    uint64_t built;    /* operations through the segment built here */
    uint64_t finished; /* of those, finished here (in order) */
    bool ready;        /* the segment is mapped everywhere */
    /* On a crowded node, the other ranks' bells (NULL for this rank),
     * rung after each line this rank publishes: one of them may sleep
     * waiting for it. NULL elsewhere. */
    mrail_rte_bell_t **bells;
} coll_sm_comm_t;

/* Bytes per slot: coll_sm_max_bytes. */
size_t coll_sm_max_bytes(void);
/* Counts one call for coll_sm_report: through the segment or handed on. */
void coll_sm_count(bool through);

/* The builders: through the segment when it applies, else below. */
void coll_sm_barrier(mrail_coll_sched_t *s, MPI_Comm comm);
void coll_sm_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count, MPI_Datatype type,
                   int root);
void coll_sm_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                    size_t count, MPI_Datatype type, MPI_Op op, int root);
void coll_sm_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op);

#endif
