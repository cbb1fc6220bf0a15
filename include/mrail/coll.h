/* The coll framework: collective algorithms for the MPI layer.
 *
 * Every available component may take operations on a communicator: at the
 * communicator's first collective the base asks each component, lowest
 * priority first, which operations it takes there (comm_query fills those
 * entries of a table), so the highest-priority component that takes an
 * operation runs it. A component such as a shared-memory barrier can thus
 * take one operation and leave the rest to coll/tuned.
 *
 * An operation is a builder that appends the collective to a schedule:
 * rounds of sends and receives posted together, and local steps
 * (reductions, copies), each round starting when the previous one is done.
 * Blocking collectives run the schedule to its end, nonblocking ones
 * return it as a request; every algorithm is written once. Messages travel
 * in the communicator's collective context with a tag from its collective
 * sequence, so concurrent nonblocking collectives never take each other's
 * messages. Peers are ranks of the communicator; buffers are in the
 * user's layout (count elements of type, extent apart). */
#ifndef MRAIL_COLL_H
#define MRAIL_COLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"
#include "mrail/component.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

extern const mrail_framework_ops_t mrail_coll_framework_ops;

/* ---- schedules (coll/base) ---- */
typedef struct mrail_coll_sched mrail_coll_sched_t;

/* A new, empty schedule on comm (takes the comm's next collective tag). */
mrail_coll_sched_t *mrail_coll_sched_new(MPI_Comm comm);
/* The same, with an explicit tag (communicator construction). */
mrail_coll_sched_t *mrail_coll_sched_new_tagged(MPI_Comm comm, int tag);
void mrail_coll_send(mrail_coll_sched_t *s, const void *buf, size_t count, MPI_Datatype type,
                     int peer);
void mrail_coll_recv(mrail_coll_sched_t *s, void *buf, size_t count, MPI_Datatype type, int peer);
/* How a transfer finds its peer (flags of the x forms):
 * MRAIL_COLL_LOCAL: on an intercommunicator, peer is a rank of the local
 * group (the others name the remote group);
 * MRAIL_COLL_CHANNEL1: a second stream between the same two ranks in one
 * collective; it matches only the same channel at the peer (a periodic
 * cartesian dimension of size 1 or 2 has one peer in both directions). */
#define MRAIL_COLL_LOCAL 1u
#define MRAIL_COLL_CHANNEL1 2u
void mrail_coll_sendx(mrail_coll_sched_t *s, const void *buf, size_t count, MPI_Datatype type,
                      int peer, unsigned how);
void mrail_coll_recvx(mrail_coll_sched_t *s, void *buf, size_t count, MPI_Datatype type, int peer,
                      unsigned how);
/* inout = in op inout. */
void mrail_coll_op(mrail_coll_sched_t *s, const void *in, void *inout, size_t count,
                   MPI_Datatype type, MPI_Op op);
/* Copies scount stype elements into dst as dtype elements (same bytes). */
void mrail_coll_copy(mrail_coll_sched_t *s, const void *src, size_t scount, MPI_Datatype stype,
                     void *dst, size_t dcount, MPI_Datatype dtype);
/* A step of the component's own: fn(arg) runs when its round starts and
 * again at every advance of the schedule until it returns true; the steps
 * after its round wait for it. It must not block (a nonblocking
 * collective runs it from MPI_Test); arg lives as long as the caller
 * makes it (mrail_coll_tmp: as long as the schedule). */
void mrail_coll_call(mrail_coll_sched_t *s, bool (*fn)(void *arg), void *arg);
/* The steps that follow wait for every transfer before them. */
void mrail_coll_round(mrail_coll_sched_t *s);
/* A buffer for count elements of type, freed with the schedule; addressed
 * like a user buffer (element i at i * extent). NULL when out of memory
 * (the schedule then fails to start). */
void *mrail_coll_tmp(mrail_coll_sched_t *s, size_t count, MPI_Datatype type);
/* Starts it; MPI_SUCCESS or MPI_ERR_NO_MEM / MPI_ERR_INTERN. */
int mrail_coll_start(mrail_coll_sched_t *s);
/* Advances it; true once every step is done. */
bool mrail_coll_test(mrail_coll_sched_t *s);
/* The same for mrail_pml_idle (sched is s): also true when a poll moved
 * anything, so that a waiter only sleeps when nothing did. */
bool mrail_coll_ready(void *sched);
/* Advances every started, unfinished schedule (MPI's progress rule: each
 * MPI call that waits moves every collective in flight); returns how many
 * are still unfinished. mrail_coll_active only counts them. */
size_t mrail_coll_progress_all(void);
size_t mrail_coll_active(void);
/* Runs it to its end; returns its MPI error and frees it. */
int mrail_coll_run(mrail_coll_sched_t *s);
/* The MPI error of a finished schedule (MPI_SUCCESS, MPI_ERR_TRUNCATE...). */
int mrail_coll_error(const mrail_coll_sched_t *s);
void mrail_coll_free(mrail_coll_sched_t *s);
/* This process's rank in comm, and comm's size. */
int mrail_coll_comm_rank(MPI_Comm comm);
int mrail_coll_comm_size(MPI_Comm comm);
/* Byte address of element i of buf. */
static inline void *mrail_coll_at(const void *buf, size_t i, MPI_Aint extent)
{
    return (char *)(uintptr_t)buf + (MPI_Aint)i * extent;
}

/* A process's neighbours in a topology communicator, as MPI orders them
 * (MPI_PROC_NULL where a cartesian dimension ends). */
typedef struct mrail_coll_neighbors {
    int indegree, outdegree;
    const int *sources, *destinations;
} mrail_coll_neighbors_t;

/* ---- a communicator's operations ----
 * Each builder appends its collective to s. The MPI layer has checked the
 * arguments; the in-place forms are as noted. */
typedef struct mrail_coll_fns {
    void (*barrier)(mrail_coll_sched_t *s, MPI_Comm comm);
    void (*bcast)(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count, MPI_Datatype type,
                  int root);
    /* sbuf may equal rbuf (in place at the root). */
    void (*reduce)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf, size_t count,
                   MPI_Datatype type, MPI_Op op, int root);
    /* sbuf may equal rbuf (in place). */
    void (*allreduce)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                      size_t count, MPI_Datatype type, MPI_Op op);
    /* sbuf == MPI_IN_PLACE at the root: its block is in rbuf already. */
    void (*gather)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                   MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root);
    void (*gatherv)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                    MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                    MPI_Datatype rtype, int root);
    /* rbuf == MPI_IN_PLACE at the root: its block stays in sbuf. */
    void (*scatter)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                    MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root);
    void (*scatterv)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                     const int *displs, MPI_Datatype stype, void *rbuf, size_t rcount,
                     MPI_Datatype rtype, int root);
    /* sbuf == MPI_IN_PLACE: this rank's block is in rbuf already. */
    void (*allgather)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                      MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
    void (*allgatherv)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                       MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                       MPI_Datatype rtype);
    /* sbuf == MPI_IN_PLACE: the data to send is in rbuf. */
    void (*alltoall)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                     MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
    /* One type per peer and byte displacements (alltoallv passes its one
     * type everywhere and displacements scaled by its extent). */
    void (*alltoallw)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                      const MPI_Aint *sdispls, const MPI_Datatype *stypes, void *rbuf,
                      const int *rcounts, const MPI_Aint *rdispls, const MPI_Datatype *rtypes);
    /* sbuf may equal rbuf (in place: rbuf holds the whole input). */
    void (*reduce_scatter)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                           const int *rcounts, MPI_Datatype type, MPI_Op op);
    /* sbuf may equal rbuf (in place). */
    void (*scan)(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf, size_t count,
                 MPI_Datatype type, MPI_Op op, bool exclusive);
    /* Every neighbourhood collective: block i of sbuf (scounts[i] stypes[i]
     * at byte sdispls[i]) to destination i, block i of rbuf from source i
     * (allgather passes the same block for every destination). */
    void (*neighbor_alltoallw)(mrail_coll_sched_t *s, MPI_Comm comm,
                               const mrail_coll_neighbors_t *nb, const void *sbuf,
                               const int *scounts, const MPI_Aint *sdispls,
                               const MPI_Datatype *stypes, void *rbuf, const int *rcounts,
                               const MPI_Aint *rdispls, const MPI_Datatype *rtypes);
    /* Optional: runs once per communicator, on every rank, just before its
     * first blocking collective (a point every rank reaches in the same
     * order, and where waiting for the others cannot deadlock a correct
     * program); it may run blocking collectives of the operations below
     * it. One per table: the highest-priority component's. */
    void (*setup)(MPI_Comm comm);
} mrail_coll_fns_t;

/* Maps one shared segment of len bytes (zeros) on every rank of comm, which
 * must all be on this node: collective and blocking, run with fns's
 * bcast and allreduce. For the moment it has a name in /dev/shm, the name
 * is /mrail.<job>.<what>.<pid>.<n>, under the job's prefix, which mrun
 * sweeps when a job ends: a rank 0 killed inside this call leaves nothing
 * behind, and no later job can find its name taken. Every rank returns
 * the same result: MPI_SUCCESS with *map set, or an MPI error with *map
 * NULL and why saying what failed. */
int mrail_coll_shm_map(MPI_Comm comm, const mrail_coll_fns_t *fns, const char *what, size_t len,
                       void **map, mrail_reason_t *why);

/* On an intercommunicator (MPI-3.1 5.2.2): root is MPI_ROOT at the root,
 * MPI_PROC_NULL at the rest of its group, and the root's rank in the
 * remote group at the other group; counts and displacements of the
 * v-forms are indexed by remote rank; a reduction's result at one group
 * is the other group's data; scan and the neighbourhood collectives are
 * not defined there (left NULL). */

typedef struct mrail_coll_component {
    mrail_ranked_component_t ranked; /* first: the framework ranks it by priority */
    /* Sets in fns the operations it takes on comm and leaves the others
     * as they are; taking none is declining the communicator. below holds
     * what the lower-priority components took (NULL entries where none
     * did): a component that takes an operation only for some sizes keeps
     * it and hands the rest on. */
    void (*comm_query)(struct mrail_coll_component *self, MPI_Comm comm,
                       const mrail_coll_fns_t *below, mrail_coll_fns_t *fns);
} mrail_coll_component_t;

/* The operations comm uses, from every selected component by priority
 * (see above); NULL with why (naming the operation no component took)
 * when one is left without a builder. The caller frees the table. */
mrail_coll_fns_t *mrail_coll_comm_select(mrail_frameworks_t *fws, MPI_Comm comm,
                                         mrail_reason_t *why);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
