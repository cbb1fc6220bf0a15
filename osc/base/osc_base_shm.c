/* Shared window memory (MPI_Win_allocate_shared): one POSIX shared-memory
 * segment for the whole communicator (mrail_coll_shm_map), each rank's
 * part aligned, then one lock line per rank. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "osc_base.h"

#define SHM_ALIGN 64

struct mrail_osc_shm {
    void *map;
    size_t map_len;
    size_t locks_at; /* where the locks' lines begin */
    int n;
    size_t *offset, *size; /* per rank */
};

static size_t align_up(size_t v)
{
    return (v + SHM_ALIGN - 1) / SHM_ALIGN * SHM_ALIGN;
}

static int exchange_sizes(MPI_Comm comm, mrail_osc_shm_t *shm, size_t size)
{
    uint64_t mine = size;
    uint64_t *all = calloc((size_t)shm->n, sizeof(*all));
    if (all == NULL) {
        return MPI_ERR_NO_MEM;
    }
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        free(all);
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[comm].coll->allgather(s, comm, &mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T);
    int rc = mrail_coll_run(s);
    size_t at = 0;
    for (int r = 0; r < shm->n && rc == MPI_SUCCESS; r++) {
        shm->offset[r] = at;
        shm->size[r] = (size_t)all[r];
        at = align_up(at + shm->size[r]);
    }
    /* Then one cache line per rank for the lock of its part (zeros: free). */
    shm->locks_at = at;
    shm->map_len = at + (size_t)shm->n * SHM_ALIGN;
    free(all);
    return rc;
}

bool mrail_osc_comm_on_one_node(MPI_Comm comm)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    for (int r = 0; r < c->size; r++) {
        if (!mpi_world_on_this_node(c->world[r])) {
            return false;
        }
    }
    return true;
}

int mrail_osc_shm_create(MPI_Comm comm, size_t size, mrail_osc_shm_t **out, void **mine,
                         mrail_reason_t *why)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    for (int r = 0; r < c->size; r++) {
        if (!mpi_world_on_this_node(c->world[r])) {
            mrail_reason_set(why, MRAIL_ERR_NOT_SUPPORTED,
                             "rank %d of the communicator is on another node: shared memory "
                             "windows need every rank on one node (MPI_Comm_split_type with "
                             "MPI_COMM_TYPE_SHARED makes such a communicator)",
                             r);
            return MPI_ERR_RMA_SHARED;
        }
    }
    mrail_osc_shm_t *shm = calloc(1, sizeof(*shm));
    if (shm != NULL) {
        shm->n = c->size;
        shm->offset = calloc((size_t)c->size, sizeof(size_t));
        shm->size = calloc((size_t)c->size, sizeof(size_t));
    }
    if (shm == NULL || shm->offset == NULL || shm->size == NULL) {
        mrail_osc_shm_free(shm);
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        return MPI_ERR_NO_MEM;
    }
    int rc = exchange_sizes(comm, shm, size);
    if (rc == MPI_SUCCESS) {
        rc = mrail_coll_shm_map(comm, c->coll, "win", shm->map_len, &shm->map, why);
    }
    if (rc != MPI_SUCCESS) {
        mrail_osc_shm_free(shm);
        return rc;
    }
    *out = shm;
    *mine = mrail_osc_shm_part(shm, c->rank, NULL);
    return MPI_SUCCESS;
}

void *mrail_osc_shm_part(const mrail_osc_shm_t *shm, int rank, size_t *size)
{
    if (size != NULL) {
        *size = shm->size[rank];
    }
    if (shm->map == NULL || shm->size[rank] == 0) {
        return NULL;
    }
    return (char *)shm->map + shm->offset[rank];
}

uint32_t *mrail_osc_shm_lock(const mrail_osc_shm_t *shm, int rank)
{
    return (uint32_t *)(void *)((char *)shm->map + shm->locks_at + (size_t)rank * SHM_ALIGN);
}

void mrail_osc_shm_free(mrail_osc_shm_t *shm)
{
    if (shm == NULL) {
        return;
    }
    if (shm->map != NULL) {
        munmap(shm->map, shm->map_len);
    }
    free(shm->offset);
    free(shm->size);
    free(shm);
}
