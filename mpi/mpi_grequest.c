/* Generalized requests (MPI-3.1 12.2): an operation the program runs
 * itself, completed with MPI_Grequest_complete, waited for and tested like
 * any request. Its query function fills the status when it completes,
 * its free function runs once it is both complete and freed (by a wait,
 * a test, or MPI_Request_free), its cancel function on MPI_Cancel. */
#include <stdlib.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Grequest_start);
MRAIL_MPI_ALIAS(MPI_Grequest_complete);

typedef struct mpi_greq {
    MPI_Grequest_query_function *query;
    MPI_Grequest_free_function *free_fn;
    MPI_Grequest_cancel_function *cancel;
    void *extra;
    bool complete; /* MPI_Grequest_complete was called */
    bool freed;    /* free_fn ran */
} mpi_greq_t;

int PMPI_Grequest_start(MPI_Grequest_query_function *query_fn, MPI_Grequest_free_function *free_fn,
                        MPI_Grequest_cancel_function *cancel_fn, void *extra_state,
                        MPI_Request *request)
{
    const char *fn = "MPI_Grequest_start";
    int rc = mpi_check_init(fn);
    if (rc == MPI_SUCCESS && (query_fn == NULL || free_fn == NULL || cancel_fn == NULL)) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                       "the query, free and cancel functions must all be given");
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_greq_t *g = calloc(1, sizeof(*g));
    mpi_req_t *req;
    if (g == NULL || mpi_req_new(&req, request) != MPI_SUCCESS) {
        free(g);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    *g = (mpi_greq_t){query_fn, free_fn, cancel_fn, extra_state, false, false};
    req->kind = MPI_REQ_GREQ;
    req->comm = MPI_COMM_WORLD;
    req->greq = g;
    req->active = true;
    return MPI_SUCCESS;
}

int PMPI_Grequest_complete(MPI_Request request)
{
    mpi_req_t *req = mpi_req_get(request);
    if (req == NULL || req->kind != MPI_REQ_GREQ || req->greq->complete) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Grequest_complete",
                         "request %d is not a generalized request still in progress", request);
    }
    req->greq->complete = true;
    if (req->detached) { /* MPI_Request_free'd already: its free function runs now */
        mpi_reap_background();
    }
    return MPI_SUCCESS;
}

bool mpi_greq_done(const mpi_req_t *req)
{
    return req->greq->complete;
}

int mpi_greq_query(mpi_req_t *req, MPI_Status *st)
{
    mpi_status_empty(st);
    int rc = req->greq->query(req->greq->extra, st);
    st->MPI_ERROR = rc;
    return rc;
}

int mpi_greq_finish(mpi_req_t *req, MPI_Status *st)
{
    int rc = mpi_greq_query(req, st);
    mpi_greq_t *g = req->greq;
    if (!g->freed) {
        g->freed = true;
        int frc = g->free_fn(g->extra);
        rc = rc != MPI_SUCCESS ? rc : frc;
    }
    st->MPI_ERROR = rc;
    return rc;
}

void mpi_greq_release(mpi_req_t *req)
{
    mpi_greq_t *g = req->greq;
    if (g != NULL && !g->freed) {
        g->freed = true;
        g->free_fn(g->extra); /* MPI_Request_free'd: no one hears its error */
    }
    free(g);
    req->greq = NULL;
}

void mpi_greq_cancel(mpi_req_t *req)
{
    req->greq->cancel(req->greq->extra, req->greq->complete);
}
