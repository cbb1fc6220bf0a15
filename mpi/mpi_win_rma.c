/* One-sided operations and their request forms: the checks MPI asks for
 * (target, types, operation, an epoch that allows the access), then the
 * osc window's operation. */
#include <stdlib.h>

#include "mpi_win.h"

MRAIL_MPI_ALIAS(MPI_Put);
MRAIL_MPI_ALIAS(MPI_Get);
MRAIL_MPI_ALIAS(MPI_Accumulate);
MRAIL_MPI_ALIAS(MPI_Get_accumulate);
MRAIL_MPI_ALIAS(MPI_Fetch_and_op);
MRAIL_MPI_ALIAS(MPI_Compare_and_swap);
MRAIL_MPI_ALIAS(MPI_Rput);
MRAIL_MPI_ALIAS(MPI_Rget);
MRAIL_MPI_ALIAS(MPI_Raccumulate);
MRAIL_MPI_ALIAS(MPI_Rget_accumulate);

/* What one call names: its window, and where the request form goes. */
typedef struct rma_call {
    MPI_Win win;
    mpi_win_t *w;
    const char *fn;
    MPI_Request *request; /* NULL: not a request form */
} rma_call_t;

#define FAIL(c, errclass, ...) mpi_win_fail((c)->w, (c)->win, errclass, (c)->fn, __VA_ARGS__)

/* MPI_SUCCESS, 1 for MPI_PROC_NULL (nothing to do), or the error. */
static int check_target(const rma_call_t *c, int rank, MPI_Aint disp)
{
    mpi_win_t *w = c->w;
    if (rank == MPI_PROC_NULL) {
        return 1;
    }
    if (rank < 0 || rank >= w->size) {
        return FAIL(c, MPI_ERR_RANK, "target rank %d (valid: 0..%d, or MPI_PROC_NULL)", rank,
                    w->size - 1);
    }
    if (disp < 0 && w->flavor != MPI_WIN_FLAVOR_DYNAMIC) {
        return FAIL(c, MPI_ERR_DISP, "negative target displacement %ld", (long)disp);
    }
    bool passive = w->lock_all || w->locked[rank] != 0;
    if (c->request != NULL && !passive) {
        return FAIL(c, MPI_ERR_RMA_SYNC,
                    "request-based operations need a passive target epoch (MPI_Win_lock or "
                    "MPI_Win_lock_all) on target %d",
                    rank);
    }
    if (!passive && !w->fence && !(w->started && w->in_access[rank])) {
        return FAIL(c, MPI_ERR_RMA_SYNC,
                    "no access epoch to target %d is open on the window (open one with "
                    "MPI_Win_fence, MPI_Win_start, MPI_Win_lock or MPI_Win_lock_all)",
                    rank);
    }
    return MPI_SUCCESS;
}

static const mpi_type_t *check_data(const rma_call_t *c, int count, MPI_Datatype type,
                                    const char *what, int *rc)
{
    const mpi_type_t *t = mpi_type(type);
    *rc = MPI_SUCCESS;
    if (count < 0) {
        *rc = FAIL(c, MPI_ERR_COUNT, "negative %s count %d", what, count);
    } else if (t == NULL) {
        *rc = FAIL(c, MPI_ERR_TYPE, "invalid %s datatype handle %d", what, type);
    } else if (!t->predefined && !t->committed) {
        *rc = FAIL(c, MPI_ERR_TYPE, "the %s datatype %d is not committed", what, type);
    }
    return *rc == MPI_SUCCESS ? t : NULL;
}

/* A request form's request, active until its operation is locally done
 * (at once without one: MPI_PROC_NULL). */
static int make_request(const rma_call_t *c, mrail_osc_req_t *oreq)
{
    mpi_req_t *req;
    if (mpi_req_new(&req, c->request) != MPI_SUCCESS) {
        if (oreq != NULL) {
            mpi_osc_req_free(c->w->osc, oreq); /* it still completes on its own */
        }
        return FAIL(c, MPI_ERR_NO_MEM, "out of memory");
    }
    req->kind = MPI_REQ_RMA;
    req->rma = oreq;
    req->rma_win = c->w->osc;
    req->comm = c->w->comm;
    req->active = true;
    return MPI_SUCCESS;
}

/* The end of every operation call: its error through the window's
 * handler, or its request. */
static int finish(const rma_call_t *c, int rc, mrail_osc_req_t *oreq)
{
    if (rc != MPI_SUCCESS) {
        if (oreq != NULL) {
            mpi_osc_req_free(c->w->osc, oreq);
        }
        return FAIL(c, rc, "%s",
                    rc == MPI_ERR_RMA_RANGE ? "the access falls outside the target's window"
                    : rc == MPI_ERR_TYPE    ? "an accumulate to a pair type (MPI_2INT...) takes "
                                              "that type itself as the target datatype"
                                            : "the operation could not be started");
    }
    return c->request != NULL ? make_request(c, oreq) : MPI_SUCCESS;
}

/* A request form on MPI_PROC_NULL: a request that is complete. */
static int null_request(const rma_call_t *c)
{
    return c->request == NULL ? MPI_SUCCESS : make_request(c, NULL);
}

static int check_sizes(const rma_call_t *c, size_t a, size_t b, const char *what)
{
    return a == b ? MPI_SUCCESS
                  : FAIL(c, MPI_ERR_TYPE,
                         "the origin carries %zu bytes and the %s %zu (type signatures must "
                         "match)",
                         a, what, b);
}

/* A put (get NULL) or a get (put NULL): the origin's buffer is one of them. */
static int transfer(rma_call_t *c, const void *put, void *get, int ocount, MPI_Datatype otype,
                    int rank, MPI_Aint disp, int tcount, MPI_Datatype ttype)
{
    if (c->w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc;
    const mpi_type_t *ot = check_data(c, ocount, otype, "origin", &rc);
    const mpi_type_t *tt = ot ? check_data(c, tcount, ttype, "target", &rc) : NULL;
    if (tt == NULL) {
        return rc;
    }
    if ((rc = check_target(c, rank, disp)) != MPI_SUCCESS) {
        return rc == 1 ? null_request(c) : rc;
    }
    if ((rc = check_sizes(c, (size_t)ocount * ot->size, (size_t)tcount * tt->size, "target")) !=
        MPI_SUCCESS) {
        return rc;
    }
    mrail_osc_target_t t = {rank, disp, tcount, ttype};
    mrail_osc_req_t *oreq = NULL, **r = c->request ? &oreq : NULL;
    rc = get == NULL ? OSC_CALL(c->w, put, put, ocount, otype, &t, r)
                     : OSC_CALL(c->w, get, get, ocount, otype, &t, r);
    return finish(c, rc, oreq);
}

/* Accumulates take MPI's predefined operations, MPI_REPLACE and
 * MPI_NO_OP, on types made of one predefined type. */
static int check_acc(const rma_call_t *c, MPI_Op op, const mpi_type_t *tt)
{
    if (op != MPI_REPLACE && op != MPI_NO_OP && (!mpi_op_valid(op) || mpi_op_is_user(op))) {
        return FAIL(c, MPI_ERR_OP,
                    "operation %d: accumulates take a predefined operation, MPI_REPLACE or "
                    "MPI_NO_OP",
                    op);
    }
    if (tt->base == MPI_DATATYPE_NULL) {
        return FAIL(c, MPI_ERR_TYPE,
                    "the target datatype %s mixes several basic types (accumulates need one)",
                    tt->name);
    }
    if (op != MPI_REPLACE && op != MPI_NO_OP && !mpi_op_fits(op, tt)) {
        return FAIL(c, MPI_ERR_OP, "%s does not apply to datatype %s", mpi_op_name(op),
                    mpi_type_name(tt->base));
    }
    return MPI_SUCCESS;
}

static int check_same_base(const rma_call_t *c, const mpi_type_t *a, int na, const mpi_type_t *tt,
                           int nt, const char *what)
{
    if (a->base != tt->base) {
        return FAIL(c, MPI_ERR_TYPE, "the %s's basic type is %s, the target's %s", what,
                    a->base == MPI_DATATYPE_NULL ? "mixed" : mpi_type_name(a->base),
                    mpi_type_name(tt->base));
    }
    size_t ea = (size_t)na * a->base_count, et = (size_t)nt * tt->base_count;
    return ea == et
               ? MPI_SUCCESS
               : FAIL(c, MPI_ERR_TYPE, "the %s has %zu elements and the target %zu", what, ea, et);
}

static int accumulate(rma_call_t *c, const void *obuf, int ocount, MPI_Datatype otype, void *rbuf,
                      int rcount, MPI_Datatype rtype, int rank, MPI_Aint disp, int tcount,
                      MPI_Datatype ttype, MPI_Op op)
{
    if (c->w == NULL) {
        return MPI_ERR_WIN;
    }
    int rc = MPI_SUCCESS;
    const mpi_type_t *tt = check_data(c, tcount, ttype, "target", &rc);
    const mpi_type_t *ot = NULL, *rt = NULL;
    if (tt != NULL && op != MPI_NO_OP) {
        ot = check_data(c, ocount, otype, "origin", &rc);
    }
    if (tt != NULL && rc == MPI_SUCCESS && rbuf != NULL) {
        rt = check_data(c, rcount, rtype, "result", &rc);
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if ((rc = check_target(c, rank, disp)) != MPI_SUCCESS) {
        return rc == 1 ? null_request(c) : rc;
    }
    rc = check_acc(c, op, tt);
    if (rc == MPI_SUCCESS && ot != NULL) {
        rc = check_same_base(c, ot, ocount, tt, tcount, "origin");
    }
    if (rc == MPI_SUCCESS && rt != NULL) {
        rc = check_same_base(c, rt, rcount, tt, tcount, "result");
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mrail_osc_target_t t = {rank, disp, tcount, ttype};
    mrail_osc_req_t *oreq = NULL;
    rc = OSC_CALL(c->w, accumulate, obuf, ocount, otype, rbuf, rcount, rtype, &t, op,
                  c->request ? &oreq : NULL);
    return finish(c, rc, oreq);
}

#define CALL(win, name, req) rma_call_t c = {win, mpi_win_get(win, name), name, req}

int PMPI_Put(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
             int target_rank, MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype,
             MPI_Win win)
{
    CALL(win, "MPI_Put", NULL);
    return transfer(&c, origin_addr, NULL, origin_count, origin_datatype, target_rank, target_disp,
                    target_count, target_datatype);
}

int PMPI_Rput(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
              int target_rank, MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype,
              MPI_Win win, MPI_Request *request)
{
    CALL(win, "MPI_Rput", request);
    return transfer(&c, origin_addr, NULL, origin_count, origin_datatype, target_rank, target_disp,
                    target_count, target_datatype);
}

int PMPI_Get(void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
             MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win)
{
    CALL(win, "MPI_Get", NULL);
    return transfer(&c, NULL, origin_addr, origin_count, origin_datatype, target_rank, target_disp,
                    target_count, target_datatype);
}

int PMPI_Rget(void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
              MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win,
              MPI_Request *request)
{
    CALL(win, "MPI_Rget", request);
    return transfer(&c, NULL, origin_addr, origin_count, origin_datatype, target_rank, target_disp,
                    target_count, target_datatype);
}

int PMPI_Accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                    int target_rank, MPI_Aint target_disp, int target_count,
                    MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    CALL(win, "MPI_Accumulate", NULL);
    return accumulate(&c, origin_addr, origin_count, origin_datatype, NULL, 0, MPI_DATATYPE_NULL,
                      target_rank, target_disp, target_count, target_datatype, op);
}

int PMPI_Raccumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                     int target_rank, MPI_Aint target_disp, int target_count,
                     MPI_Datatype target_datatype, MPI_Op op, MPI_Win win, MPI_Request *request)
{
    CALL(win, "MPI_Raccumulate", request);
    return accumulate(&c, origin_addr, origin_count, origin_datatype, NULL, 0, MPI_DATATYPE_NULL,
                      target_rank, target_disp, target_count, target_datatype, op);
}

int PMPI_Get_accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                        void *result_addr, int result_count, MPI_Datatype result_datatype,
                        int target_rank, MPI_Aint target_disp, int target_count,
                        MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    CALL(win, "MPI_Get_accumulate", NULL);
    return accumulate(&c, origin_addr, origin_count, origin_datatype, result_addr, result_count,
                      result_datatype, target_rank, target_disp, target_count, target_datatype, op);
}

int PMPI_Rget_accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                         void *result_addr, int result_count, MPI_Datatype result_datatype,
                         int target_rank, MPI_Aint target_disp, int target_count,
                         MPI_Datatype target_datatype, MPI_Op op, MPI_Win win, MPI_Request *request)
{
    CALL(win, "MPI_Rget_accumulate", request);
    return accumulate(&c, origin_addr, origin_count, origin_datatype, result_addr, result_count,
                      result_datatype, target_rank, target_disp, target_count, target_datatype, op);
}

int PMPI_Fetch_and_op(const void *origin_addr, void *result_addr, MPI_Datatype datatype,
                      int target_rank, MPI_Aint target_disp, MPI_Op op, MPI_Win win)
{
    CALL(win, "MPI_Fetch_and_op", NULL);
    if (c.w != NULL && (mpi_type(datatype) == NULL || !mpi_type(datatype)->predefined)) {
        return FAIL(&c, MPI_ERR_TYPE, "datatype %d: MPI_Fetch_and_op takes a predefined type",
                    datatype);
    }
    return accumulate(&c, origin_addr, 1, datatype, result_addr, 1, datatype, target_rank,
                      target_disp, 1, datatype, op);
}

/* Compare-and-swap compares bits: integers, logicals and bytes only. */
static bool swappable(MPI_Datatype t)
{
    switch (t) {
    case MPI_FLOAT:
    case MPI_DOUBLE:
    case MPI_LONG_DOUBLE:
    case MPI_C_COMPLEX:
    case MPI_C_FLOAT_COMPLEX:
    case MPI_C_DOUBLE_COMPLEX:
    case MPI_C_LONG_DOUBLE_COMPLEX:
    case MPIX_C_FLOAT16:
    case MPI_PACKED: return false;
    default: return mpi_type(t) != NULL && mpi_type(t)->predefined && !mpi_type_is_pair(t);
    }
}

int PMPI_Compare_and_swap(const void *origin_addr, const void *compare_addr, void *result_addr,
                          MPI_Datatype datatype, int target_rank, MPI_Aint target_disp, MPI_Win win)
{
    CALL(win, "MPI_Compare_and_swap", NULL);
    if (c.w == NULL) {
        return MPI_ERR_WIN;
    }
    if (!swappable(datatype)) {
        return FAIL(&c, MPI_ERR_TYPE,
                    "datatype %d: MPI_Compare_and_swap takes a predefined integer, logical or "
                    "byte type",
                    datatype);
    }
    int rc = check_target(&c, target_rank, target_disp);
    if (rc != MPI_SUCCESS) {
        return rc == 1 ? MPI_SUCCESS : rc;
    }
    rc = OSC_CALL(c.w, compare_and_swap, origin_addr, compare_addr, result_addr, datatype,
                  target_rank, target_disp);
    return finish(&c, rc, NULL);
}
