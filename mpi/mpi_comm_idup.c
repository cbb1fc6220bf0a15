/* MPI_Comm_idup: the context agreement runs as a nonblocking collective
 * on the parent, and the copy is made when it ends. One is in flight at a
 * time per process: every other agreement (another idup, any blocking
 * construction) first completes it, since each proposes this process's
 * next free context and two must never take the same one. */
#include <sched.h>
#include <stdlib.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Comm_idup);

typedef struct mpi_idup {
    MPI_Comm from;
    MPI_Comm *out;
    unsigned long mine, agreed; /* the schedule's proposal and result */
    mrail_coll_sched_t *s;      /* the request's schedule */
    bool settled;
    int err;
} mpi_idup_t;

static void settle(mpi_idup_t *d)
{
    if (d->settled) {
        return;
    }
    unsigned idle = 0;
    while (!mrail_coll_test(d->s)) {
        if (++idle >= mrail_pml_spin_limit(mrail_obj.pml)) { /* let the peers run */
            sched_yield();
            idle = 0;
        }
    }
    d->err = mrail_coll_error(d->s);
    uint32_t ctx;
    if (d->err == MPI_SUCCESS && (d->err = mpi_ctx_take(d->agreed, &ctx)) == MPI_SUCCESS) {
        d->err = mpi_comm_dup_finish(d->from, ctx, d->out);
    }
    d->settled = true;
    if (mrail_mpi.idup_pending == d) {
        mrail_mpi.idup_pending = NULL;
    }
}

void mpi_idup_settle(void)
{
    if (mrail_mpi.idup_pending != NULL) {
        settle(mrail_mpi.idup_pending);
    }
}

int mpi_idup_done(mpi_idup_t *d)
{
    settle(d);
    int err = d->err;
    free(d);
    return err;
}

int PMPI_Comm_idup(MPI_Comm comm, MPI_Comm *newcomm, MPI_Request *request)
{
    const char *fn = "MPI_Comm_idup";
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS && (newcomm == NULL || request == NULL)) {
        rc = mpi_error(comm, MPI_ERR_ARG, fn, "NULL %s", newcomm == NULL ? "newcomm" : "request");
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (mrail_obj.comms[comm].inter) {
        /* Both groups agree through their leaders: done at once, as
         * MPI_Comm_dup; the request is complete when returned. */
        rc = PMPI_Comm_dup(comm, newcomm);
        return rc ? rc : mpi_coll_finish(mrail_coll_sched_new(comm), comm, request, fn);
    }
    mpi_idup_settle();
    mpi_idup_t *d = calloc(1, sizeof(*d));
    mrail_coll_sched_t *s = d != NULL ? mrail_coll_sched_new(comm) : NULL;
    if (s == NULL) {
        free(d);
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    *d = (mpi_idup_t){.from = comm, .out = newcomm, .s = s};
    mpi_ctx_vote(s, comm, &d->mine, &d->agreed);
    *newcomm = MPI_COMM_NULL; /* until the request completes */
    rc = mpi_coll_finish(s, comm, request, fn);
    if (rc != MPI_SUCCESS) {
        free(d);
        return rc;
    }
    mpi_req_get(*request)->idup = d;
    mrail_mpi.idup_pending = d;
    return MPI_SUCCESS;
}
