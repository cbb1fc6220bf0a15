/* coll/inter: the collectives of intercommunicators (MPI-3.1 5.2.2), as
 * Open MPI's coll/inter does them: data crosses between the two groups
 * directly (rooted and all-to-all operations) or through each group's
 * rank 0 (barrier, reductions), and moves inside a group through its
 * rank 0. Linear throughout: intercommunicator collectives are rare and
 * their groups small; correctness and MPI's rank order for
 * non-commutative operations come first. */
#ifndef COLL_INTER_H
#define COLL_INTER_H

#include "coll_base.h"

void coll_inter_barrier(mrail_coll_sched_t *s, MPI_Comm comm);
void coll_inter_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count,
                      MPI_Datatype type, int root);
void coll_inter_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op, int root);
void coll_inter_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                          size_t count, MPI_Datatype type, MPI_Op op);
void coll_inter_reduce_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                               const int *rcounts, MPI_Datatype type, MPI_Op op);
void coll_inter_gather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                       MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root);
void coll_inter_gatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                        MPI_Datatype rtype, int root);
void coll_inter_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype,
                        int root);
void coll_inter_scatterv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                         const int *displs, MPI_Datatype stype, void *rbuf, size_t rcount,
                         MPI_Datatype rtype, int root);
void coll_inter_allgather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                          MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
void coll_inter_allgatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                           MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                           MPI_Datatype rtype);
void coll_inter_alltoall(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                         MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype);
void coll_inter_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf,
                          const int *scounts, const MPI_Aint *sdispls, const MPI_Datatype *stypes,
                          void *rbuf, const int *rcounts, const MPI_Aint *rdispls,
                          const MPI_Datatype *rtypes);

#endif
