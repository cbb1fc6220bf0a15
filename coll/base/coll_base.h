/* The collectives' schedule engine. A collective is a schedule: rounds of
 * sends and receives (posted together) and local steps (reductions,
 * copies), each round starting when the previous one completed. Blocking
 * collectives run a schedule to its end, nonblocking ones return it as an
 * MPI request that progress advances; every algorithm is written once.
 *
 * Messages of a collective travel in the communicator's collective context
 * (never matched by user point-to-point) with a tag from the communicator's
 * collective sequence number, so concurrent nonblocking collectives on one
 * communicator never take each other's messages. Peers are ranks of the
 * communicator. Buffers are in the user's layout (count elements of type,
 * extent apart); derived types are packed and unpacked per transfer. */
#ifndef MRAIL_COLL_BASE_H
#define MRAIL_COLL_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"

typedef struct coll_sched coll_sched_t;

/* A new, empty schedule on comm (takes the comm's next collective tag). */
coll_sched_t *coll_sched_new(MPI_Comm comm);
/* The same, with an explicit tag (communicator construction). */
coll_sched_t *coll_sched_new_tagged(MPI_Comm comm, int tag);
void coll_send(coll_sched_t *s, const void *buf, size_t count, MPI_Datatype type, int peer);
void coll_recv(coll_sched_t *s, void *buf, size_t count, MPI_Datatype type, int peer);
/* inout = in op inout. */
void coll_op(coll_sched_t *s, const void *in, void *inout, size_t count, MPI_Datatype type,
             MPI_Op op);
/* Copies scount stype elements into dst as dtype elements (same bytes). */
void coll_copy(coll_sched_t *s, const void *src, size_t scount, MPI_Datatype stype, void *dst,
               size_t dcount, MPI_Datatype dtype);
/* The steps that follow wait for every transfer before them. */
void coll_round(coll_sched_t *s);
/* A buffer for count elements of type, freed with the schedule; addressed
 * like a user buffer (element i at i * extent). NULL when out of memory
 * (the schedule then fails to start). */
void *coll_tmp(coll_sched_t *s, size_t count, MPI_Datatype type);
/* Starts it; MPI_SUCCESS or MPI_ERR_NO_MEM / MPI_ERR_INTERN. */
int coll_start(coll_sched_t *s);
/* Advances it; true once every step is done. */
bool coll_test(coll_sched_t *s);
/* Runs it to its end; returns its MPI error and frees it. */
int coll_run(coll_sched_t *s);
/* The MPI error of a finished schedule (MPI_SUCCESS, MPI_ERR_TRUNCATE...). */
int coll_error(const coll_sched_t *s);
void coll_free(coll_sched_t *s);

/* Byte address of element i of buf. */
static inline void *coll_at(const void *buf, size_t i, MPI_Aint extent)
{
    return (char *)(uintptr_t)buf + (MPI_Aint)i * extent;
}

#endif
