/* One POSIX shared-memory segment mapped by every rank of a communicator
 * on one node: rank 0 makes it, the others open it by name, and the name
 * is removed as soon as all have it open (or failed to), so nothing is
 * left in /dev/shm whatever happens next. A rank 0 killed before that
 * leaves the name under its job's prefix, which the launcher sweeps. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coll_base.h"
#include "mrail/rte.h"

/* Runs one collective built by fns on comm to its end. */
static int run_bcast(MPI_Comm comm, const mrail_coll_fns_t *fns, void *a, size_t an,
                     MPI_Datatype at, void *b, size_t bn, MPI_Datatype bt)
{
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    fns->bcast(s, comm, a, an, at, 0);
    fns->bcast(s, comm, b, bn, bt, 0);
    return mrail_coll_run(s);
}

/* The segment's name: /mrail.<job>.<what>.<pid>.<n>, or ENAMETOOLONG. */
static int seg_name(char *name, size_t size, const char *what, unsigned n)
{
    char rest[64];
    snprintf(rest, sizeof(rest), "%.16s.%ld.%u", what, (long)getpid(), n);
    return mrail_rte_shm_name(name, size, mrail_obj.job != NULL ? mrail_obj.job : "", rest);
}

/* Rank 0's part: the segment, or errno. */
static int make(const char *name, size_t len, int *fd)
{
    *fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (*fd >= 0 && ftruncate(*fd, (off_t)len) == 0) {
        return 0;
    }
    int err = errno;
    if (*fd >= 0) {
        close(*fd);
        shm_unlink(name);
        *fd = -1;
    }
    return err;
}

/* Every rank's part: opens (ranks above 0) and maps it; MPI error. */
static int map_it(const char *name, size_t len, int fd, void **map, mrail_reason_t *why)
{
    if (fd < 0) {
        fd = shm_open(name, O_RDWR, 0);
    }
    if (fd < 0) {
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "cannot open shared segment %s: %s", name,
                         strerror(errno));
        return MPI_ERR_NO_MEM;
    }
    *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (*map == MAP_FAILED) {
        *map = NULL;
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                         "cannot map the %zu-byte shared segment: %s", len, strerror(err));
        return MPI_ERR_NO_MEM;
    }
    return MPI_SUCCESS;
}

int mrail_coll_shm_map(MPI_Comm comm, const mrail_coll_fns_t *fns, const char *what, size_t len,
                       void **map, mrail_reason_t *why)
{
    static unsigned serial;
    int rank = mrail_coll_comm_rank(comm);
    int32_t err[2] = {0, 0}; /* MPI error, errno */
    char name[NAME_MAX] = "";
    int fd = -1;
    *map = NULL;
    if (rank == 0) {
        if ((err[1] = seg_name(name, sizeof(name), what, serial++)) == 0) {
            err[1] = make(name, len, &fd);
        }
        if (err[1] != 0) {
            err[0] = MPI_ERR_NO_MEM;
        }
    }
    int rc = run_bcast(comm, fns, err, 2, MPI_INT32_T, name, sizeof(name), MPI_CHAR);
    if (rc != MPI_SUCCESS || err[0] != 0) {
        if (fd >= 0) {
            close(fd);
            shm_unlink(name);
        }
        if (rc == MPI_SUCCESS) {
            mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                             "cannot make a %zu-byte shared segment in /dev/shm: %s", len,
                             strerror(err[1]));
        }
        return rc != MPI_SUCCESS ? rc : err[0];
    }
    int32_t mapped = map_it(name, len, fd, map, why), worst = mapped;
    mrail_coll_sched_t *s = mrail_coll_sched_new(comm);
    if (s == NULL) {
        rc = MPI_ERR_NO_MEM;
    } else {
        fns->allreduce(s, comm, &mapped, &worst, 1, MPI_INT32_T, MPI_MAX);
        rc = mrail_coll_run(s);
    }
    if (rank == 0) {
        shm_unlink(name);
    }
    rc = rc != MPI_SUCCESS ? rc : worst;
    if (rc != MPI_SUCCESS && *map != NULL) {
        munmap(*map, len);
        *map = NULL;
        if (mapped == MPI_SUCCESS) {
            mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE,
                             "another process could not map the shared segment");
        }
    }
    return rc;
}
