/* coll/tuned: collective algorithms chosen by message and communicator
 * size, each one selectable by an MCA parameter (coll_tuned_<op>_algorithm),
 * as in Open MPI's tuned component. Every builder appends its collective
 * to a schedule (include/mrail/coll.h) of the communicator: blocking and
 * nonblocking calls share them. Buffers are in the user's layout; the MPI
 * layer has checked the arguments and resolved MPI_IN_PLACE as each
 * builder says. A forced algorithm that cannot apply (a non-commutative
 * operation for ring or Rabenseifner, recursive doubling on a
 * non-power-of-two allgather) falls back to one that can: the result is
 * always MPI's. */
#ifndef COLL_TUNED_H
#define COLL_TUNED_H

#include <string.h>

#include "coll_base.h"

typedef enum {
    COLL_BARRIER,
    COLL_BCAST,
    COLL_REDUCE,
    COLL_ALLREDUCE,
    COLL_GATHER,
    COLL_SCATTER,
    COLL_ALLGATHER,
    COLL_ALLTOALL,
    COLL_REDUCE_SCATTER,
    COLL_SCAN,
    COLL_KINDS
} coll_kind_t;

/* The forced algorithm of kind (its name), or NULL for automatic choice. */
const char *coll_tuned_forced(coll_kind_t kind);
size_t coll_tuned_segment_size(void); /* pipelined bcast, bytes */

void coll_tuned_barrier(mrail_coll_sched_t *s, MPI_Comm comm);
void coll_tuned_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count,
                      MPI_Datatype type, int root);
/* sbuf may equal rbuf (in place at the root). */
void coll_tuned_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op, int root);
/* sbuf may equal rbuf (in place). */
void coll_tuned_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                          size_t count, MPI_Datatype type, MPI_Op op);
/* sbuf == MPI_IN_PLACE at the root: its block is in rbuf already. */
void coll_tuned_gather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                       MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root);
void coll_tuned_gatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                        MPI_Datatype rtype, int root);
/* rbuf == MPI_IN_PLACE at the root: its block stays in sbuf. */
void coll_tuned_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype,
                        int root);
void coll_tuned_scatterv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                         const int *displs, MPI_Datatype stype, void *rbuf, size_t rcount,
                         MPI_Datatype rtype, int root);
/* sbuf == MPI_IN_PLACE: this rank's block is in rbuf already. */
void coll_tuned_allgather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                          MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
void coll_tuned_allgatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                           MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                           MPI_Datatype rtype);
/* sbuf == MPI_IN_PLACE: the data to send is in rbuf. */
void coll_tuned_alltoall(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                         MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
/* One type per peer and byte displacements: alltoallw; alltoallv passes
 * its one type everywhere and displacements scaled by its extent. */
void coll_tuned_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf,
                          const int *scounts, const MPI_Aint *sdispls, const MPI_Datatype *stypes,
                          void *rbuf, const int *rcounts, const MPI_Aint *rdispls,
                          const MPI_Datatype *rtypes);
/* sbuf may equal rbuf (in place: rbuf holds the whole input). */
void coll_tuned_reduce_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                               const int *rcounts, MPI_Datatype type, MPI_Op op);
/* sbuf may equal rbuf (in place). */
void coll_tuned_scan(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                     size_t count, MPI_Datatype type, MPI_Op op, bool exclusive);
void coll_tuned_neighbor_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm,
                                   const mrail_coll_neighbors_t *nb, const void *sbuf,
                                   const int *scounts, const MPI_Aint *sdispls,
                                   const MPI_Datatype *stypes, void *rbuf, const int *rcounts,
                                   const MPI_Aint *rdispls, const MPI_Datatype *rtypes);

/* Helpers shared by the algorithm files. */
static inline MPI_Aint coll_extent(MPI_Datatype type)
{
    return mpi_type(type)->extent;
}
static inline int coll_rank(MPI_Comm comm)
{
    return mrail_obj.comms[comm].rank;
}
static inline int coll_size(MPI_Comm comm)
{
    return mrail_obj.comms[comm].size;
}
/* Splits count elements into n blocks as evenly as possible: counts in
 * the returned array, offsets in *off (both freed with the schedule);
 * NULL when out of memory. */
static inline size_t *coll_blocks(mrail_coll_sched_t *s, size_t count, int n, size_t **off)
{
    size_t *cnt = mrail_coll_tmp(s, 2 * (size_t)n, MPI_UNSIGNED_LONG); /* size_t's twin */
    if (cnt == NULL) {
        return NULL;
    }
    *off = cnt + n;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        cnt[i] = count / (size_t)n + ((size_t)i < count % (size_t)n ? 1 : 0);
        (*off)[i] = at;
        at += cnt[i];
    }
    return cnt;
}
static inline bool coll_is(const char *forced, const char *name)
{
    return forced != NULL && strcmp(forced, name) == 0;
}

#endif
