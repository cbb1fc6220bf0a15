/* Shared window memory (MPI_Win_allocate_shared): one POSIX shared-memory
 * segment for the whole communicator, made by its rank 0 and mapped by
 * every process, its name removed as soon as all have it open. */
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

/* Rank 0 makes the segment and tells the others its name, or its error. */
static int make_segment(MPI_Comm comm, mrail_osc_shm_t *shm, int rank, char name[64],
                        mrail_reason_t *why)
{
    static unsigned serial;
    int32_t err[2] = {0, 0}; /* MPI error, errno */
    int fd = -1;
    if (rank == 0) {
        snprintf(name, 64, "/mrail-win-%ld-%u", (long)getpid(), serial++);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)shm->map_len) != 0) {
            err[0] = MPI_ERR_NO_MEM;
            err[1] = errno;
            if (fd >= 0) {
                close(fd);
                shm_unlink(name);
            }
        }
    }
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[comm].coll->bcast(s, comm, err, 2, MPI_INT32_T, 0);
    mrail_obj.comms[comm].coll->bcast(s, comm, name, 64, MPI_CHAR, 0);
    int rc = mrail_coll_run(s);
    if (rc == MPI_SUCCESS && err[0] != 0) {
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                         "cannot make a %zu-byte shared segment in /dev/shm: %s", shm->map_len,
                         strerror(err[1]));
        return err[0];
    }
    if (rc != MPI_SUCCESS) {
        if (fd >= 0) {
            close(fd);
            shm_unlink(name);
        }
        return rc;
    }
    if (fd < 0) {
        fd = shm_open(name, O_RDWR, 0);
    }
    int mapped = MPI_SUCCESS;
    if (fd < 0) {
        mapped = MPI_ERR_NO_MEM;
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "cannot open shared segment %s: %s", name,
                         strerror(errno));
    } else {
        shm->map = mmap(NULL, shm->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (shm->map == MAP_FAILED) {
            shm->map = NULL;
            mapped = MPI_ERR_NO_MEM;
            mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                             "cannot map the %zu-byte shared segment: %s", shm->map_len,
                             strerror(errno));
        }
        close(fd);
    }
    /* Every process has it open (or failed to): the name can go. */
    int32_t worst = mapped;
    s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[comm].coll->allreduce(s, comm, &mapped, &worst, 1, MPI_INT32_T, MPI_MAX);
    rc = mrail_coll_run(s);
    if (rank == 0) {
        shm_unlink(name);
    }
    if (rc == MPI_SUCCESS && worst != MPI_SUCCESS && mapped == MPI_SUCCESS) {
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                         "another process could not map the shared segment");
    }
    return rc != MPI_SUCCESS ? rc : worst;
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
    char name[64] = "";
    if (rc == MPI_SUCCESS) {
        rc = make_segment(comm, shm, c->rank, name, why);
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
