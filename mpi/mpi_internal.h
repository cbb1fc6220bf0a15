/* The MPI layer's state: requests, buffered sends, start-up; the handle
 * tables it shares with the collectives are in mpiobj/mpiobj.h. */
#ifndef MRAIL_MPI_INTERNAL_H
#define MRAIL_MPI_INTERNAL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mpi.h"
#include "mpiobj.h"
#include "mrail/pml.h"

#define MPI_TAG_MAX 0x3fffffff /* what MPI_TAG_UB reports */

/* The profiling interface: MPI_X is a weak alias of PMPI_X, so that a tool
 * may define MPI_X and call PMPI_X. An alias attribute, not #pragma weak:
 * clang gives a pragma's alias the hidden visibility the library is
 * compiled with, and a clang-built libmrail then exported no MPI_ name. */
#define MRAIL_MPI_ALIAS(name)                                                                      \
    extern __typeof(P##name) name __attribute__((weak, alias("P" #name), visibility("default")))

typedef enum {
    MPI_REQ_UNUSED,
    MPI_REQ_SEND,
    MPI_REQ_RECV,
    MPI_REQ_COLL,
    MPI_REQ_GREQ, /* generalized request (mpi_grequest.c) */
    MPI_REQ_RMA   /* a request-based one-sided operation (mpi_win_rma.c) */
} mpi_req_kind_t;

typedef struct mpi_req {
    mpi_req_kind_t kind;
    bool persistent;
    bool active;              /* started and not yet completed by a wait or test */
    bool detached;            /* MPI_Request_free on an active request: completes on its own */
    mrail_pml_request_t *pml; /* NULL: completed already (MPI_PROC_NULL) */
    /* the call's arguments, kept for persistent requests and status */
    void *buf;
    int count;
    MPI_Datatype type;
    int peer, tag;
    MPI_Comm comm;
    bool synchronous;
    void *bsend_copy; /* MPI_Bsend: the copy in the attached buffer's budget */
    size_t bsend_bytes;
    void *packed;                 /* a non-contiguous type's bytes, or its pieces' iovec */
    bool pieces;                  /* packed is the iovec: sent/received in place */
    const mpi_type_t *held_type;  /* kept alive while packed is in use */
    bool buffered;                /* MPI_Bsend_init: each start is a buffered send */
    mrail_pml_message_t *pml_msg; /* MPI_Imrecv: the message a matched probe took */
    const mpi_type_t
        *kept_type; /* persistent: the type, from init to free (the user may free it) */
    struct mrail_coll_sched *coll; /* MPI_REQ_COLL */
    struct mpi_idup *idup;         /* MPI_Comm_idup: the copy made when coll ends */
    struct mpi_greq *greq;         /* MPI_REQ_GREQ: the program's functions */
    struct mrail_osc_req *rma;     /* MPI_REQ_RMA: the operation, of window rma_win */
    struct mrail_osc_win *rma_win;
} mpi_req_t;

/* Generalized requests (mpi_grequest.c). done: MPI_Grequest_complete was
 * called; query fills st from the query function; finish also runs the
 * free function (a wait or test completing it); release frees what is
 * left (MPI_Request_free); cancel calls the cancel function. Each returns
 * the program's error code. */
bool mpi_greq_done(const mpi_req_t *req);
int mpi_greq_query(mpi_req_t *req, MPI_Status *st);
int mpi_greq_finish(mpi_req_t *req, MPI_Status *st);
void mpi_greq_release(mpi_req_t *req);
void mpi_greq_cancel(mpi_req_t *req);

typedef struct mpi_state {
    bool initialized, finalized;
    int thread_level;
    mrail_rte_t *rte;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    mpi_req_t *reqs; /* handle h is reqs[h - 1] */
    int nreqs;
    int *free_slots; /* handles of unused slots, a stack */
    int nfree;
    void *bsend_buffer; /* MPI_Buffer_attach */
    size_t bsend_size, bsend_used;
    int bsend_pending;             /* Bsend requests not complete yet */
    struct mpi_idup *idup_pending; /* the MPI_Comm_idup whose context is not agreed yet */
} mpi_state_t;

extern mpi_state_t mrail_mpi;

/* Reports an error through comm's handler: prints and aborts for
 * MPI_ERRORS_ARE_FATAL, else returns errclass. fn is the MPI call. */
int mpi_error(MPI_Comm comm, int errclass, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same for window win, whose handler is eh (mpi_win.c keeps it). */
int mpi_win_error(MPI_Win win, MPI_Errhandler eh, int errclass, const char *fn, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
bool mpi_errhandler_valid(MPI_Errhandler eh);
/* A user error handler's handle (communicators' and windows' share the
 * table: the two function types differ only in the handle's type). */
int mpi_errhandler_new(MPI_Comm_errhandler_function *function, MPI_Errhandler *errhandler,
                       const char *fn);

/* Argument checks shared by the calls; each returns MPI_SUCCESS or the
 * error already reported. */
int mpi_check_init(const char *fn);
int mpi_check_comm(MPI_Comm comm, const char *fn);
int mpi_check_buffer(MPI_Comm comm, const void *buf, int count, MPI_Datatype type, const char *fn);
int mpi_check_dest(MPI_Comm comm, int rank, const char *fn);
int mpi_check_source(MPI_Comm comm, int rank, const char *fn);
int mpi_check_send_tag(MPI_Comm comm, int tag, const char *fn);
int mpi_check_recv_tag(MPI_Comm comm, int tag, const char *fn);

/* Collectives (mpi_coll.c). The checks every collective makes first: a
 * communicator (an intracommunicator unless inter_ok), whose coll table
 * is then filled. */
int mpi_coll_check(MPI_Comm comm, bool inter_ok, const char *fn);
/* Runs s to its end (request NULL) or starts it as *request; s NULL is
 * out of memory. */
int mpi_coll_finish(struct mrail_coll_sched *s, MPI_Comm comm, MPI_Request *request,
                    const char *fn);
/* A barrier over comm whose failure is returned, not handed to comm's
 * error handler (MPI_Finalize's). */
int mpi_coll_barrier_quiet(MPI_Comm comm);

/* Communicators (mpi_comm.c, mpi_comm_create.c). */
/* Agrees with every member of comm on a fresh pair of PML contexts (p2p, collectives). */
int mpi_ctx_agree(MPI_Comm comm, uint32_t *ctx);
/* The same in steps: the agreement's schedule appended to s (this
 * process proposes its next context), then, once s has run, the agreed
 * context taken. */
void mpi_ctx_vote(struct mrail_coll_sched *s, MPI_Comm comm, unsigned long *mine,
                  unsigned long *agreed);
int mpi_ctx_take(unsigned long agreed, uint32_t *ctx); /* MPI_ERR_INTERN when none are left */
/* The copy of intracommunicator comm on context ctx (MPI_Comm_dup after
 * the agreement): errhandler, topology and attributes. */
int mpi_comm_dup_finish(MPI_Comm comm, uint32_t ctx, MPI_Comm *newcomm);
/* Completes the MPI_Comm_idup in flight, if any: every other context
 * agreement waits for it, so that no two take the same context
 * (mpi_comm_idup.c). */
void mpi_idup_settle(void);
/* The request of an MPI_Comm_idup has ended (or is freed): makes the copy
 * if not made yet, frees d; returns the error of the whole. */
int mpi_idup_done(struct mpi_idup *d);
/* Groups (mpi_group.c). */
int mpi_check_group(MPI_Group group, const char *fn);
/* A started receive request for count of type: of the message msg a
 * matched probe took, or with peer MPI_PROC_NULL, of none (mpi_p2p.c). */
int mpi_recv_prepare(void *buf, int count, MPI_Datatype type, int peer, MPI_Comm comm,
                     const char *fn, mrail_pml_message_t *msg, MPI_Request *request);
/* What a probe asks the pml for: source and tag (pml wildcards), context. */
typedef struct mpi_probe_match {
    int32_t source, tag;
    uint32_t ctx;
} mpi_probe_match_t;
/* The checks and set-up every probe shares; *proc_null (status filled as
 * MPI says) when source is MPI_PROC_NULL, which a probe answers at once.
 * Otherwise finished background requests are reaped and *match says what
 * to probe for (mpi_p2p.c). */
int mpi_probe_check(int source, int tag, MPI_Comm comm, MPI_Status *status, bool *proc_null,
                    mpi_probe_match_t *match, const char *fn);
/* Frees the matched-probe message table (mpi_mprobe.c). */
void mpi_messages_fini(void);
/* A buffered send of count of type (t: its object when the handle may be
 * freed, else NULL), detached: it finishes on its own (mpi_p2p.c). */
int mpi_bsend(const void *buf, int count, MPI_Datatype type, const mpi_type_t *t, int dest, int tag,
              MPI_Comm comm, bool checked, const char *fn);
/* The largest error code in use (MPI_LASTUSEDCODE); frees the user's
 * handlers and codes at MPI_Finalize (mpi_errors.c). */
int mpi_last_used_code(void);
void mpi_errors_fini(void);
/* Fills MPI_INFO_ENV (mpi_info.c), at MPI_Init. */
void mpi_info_env_fill(int world_size, int thread_level);
/* Attributes (mpi_attr.c): copies on dup, deletes on free. */
int mpi_attrs_copy(MPI_Comm from, MPI_Comm to);
void mpi_attrs_delete_all(MPI_Comm comm);
void mpi_keyvals_fini(void);
/* Puts (keyval, value) first on an attribute list; MPI_ERR_NO_MEM. */
int mpi_attr_prepend(mpi_attr_t **list, int keyval, void *value);
/* Datatype attributes (mpi_type_attr.c): copied by MPI_Type_dup, deleted
 * by MPI_Type_free. */
void mpi_type_keyvals_fini(void);
int mpi_type_attrs_copy(MPI_Datatype from, MPI_Datatype to);
void mpi_type_attrs_delete_all(MPI_Datatype type);
int mpi_attr_get(MPI_Comm comm, int keyval, void *value, int *flag);

/* Datatypes and operations (mpi_datatype.c, mpi_op.c). */
int mpi_check_type(MPI_Datatype type, const char *fn);
/* Gives a type built from others the combiner and arguments of the call
 * that made it (MPI_Type_get_envelope/contents); MPI_ERR_NO_MEM. */
int mpi_type_relabel(MPI_Datatype type, int combiner, int ni, const int *ints, int na,
                     const MPI_Aint *aints, int nt, const MPI_Datatype *types);
/* Is op valid, and does it apply to type? Reports through comm if not. */
int mpi_op_check(MPI_Comm comm, MPI_Op op, MPI_Datatype type, const char *fn);

/* Requests (mpi_request.c). Free slots are a stack of handles: taking one
 * is O(1), whatever the number of requests in flight (MPI programs post
 * thousands). Inline: every nonblocking call takes one and every
 * completion gives one back. */
int mpi_req_grow(void); /* doubles the table; MPI_ERR_NO_MEM */

/* A free slot is all zeros (MPI_REQ_UNUSED): whoever frees one clears
 * it, so that taking one writes only what the request sets. */
static inline int mpi_req_new(mpi_req_t **req_out, MPI_Request *handle)
{
    if (mrail_mpi.nfree == 0 && mpi_req_grow() != MPI_SUCCESS) {
        return MPI_ERR_NO_MEM;
    }
    *handle = mrail_mpi.free_slots[--mrail_mpi.nfree];
    *req_out = &mrail_mpi.reqs[*handle - 1];
#ifndef NDEBUG /* the debug and sanitizer builds hold every release to that */
    static const mpi_req_t zero;
    if (memcmp(*req_out, &zero, sizeof(zero)) != 0) {
        abort();
    }
#endif
    return MPI_SUCCESS;
}

static inline void mpi_req_free_slot(mpi_req_t *req)
{
    mrail_mpi.free_slots[mrail_mpi.nfree++] = (int)(req - mrail_mpi.reqs) + 1;
}

/* Returns a slot, cleared (every scan of the table skips it). */
static inline void mpi_req_drop(mpi_req_t *req)
{
    *req = (mpi_req_t){0};
    mpi_req_free_slot(req);
}

/* mpi_req_drop of a finished, nonpersistent send or receive whose packing
 * is gone and that was no buffered send's: only these fields can be set. */
static inline void mpi_req_drop_sendrecv(mpi_req_t *req)
{
    req->kind = MPI_REQ_UNUSED;
    req->active = false;
    req->synchronous = false;
    req->pml = NULL;
    req->buf = NULL;
    req->count = 0;
    req->type = 0;
    req->peer = req->tag = 0;
    req->comm = 0;
    mpi_req_free_slot(req);
}

/* The handle every nonblocking send that completed at its start (the pml's
 * sendi) returns: one slot, taken at MPI_Init, active and done for ever, as
 * Open MPI returns ompi_request_empty. Such a send then costs no slot, and
 * its wait only sets the handle to MPI_REQUEST_NULL; the status is empty,
 * as a send's may be (only MPI_Test_cancelled, false, is defined). */
#define MPI_REQ_SENT 1
/* Takes the MPI_REQ_SENT slot (MPI_Init). */
int mpi_req_sent_init(void);

static inline mpi_req_t *mpi_req_get(MPI_Request handle)
{
    if (handle <= 0 || handle > mrail_mpi.nreqs ||
        mrail_mpi.reqs[handle - 1].kind == MPI_REQ_UNUSED) {
        return NULL;
    }
    return &mrail_mpi.reqs[handle - 1];
}
/* Starts the PML operation of an (inactive) request. */
int mpi_req_start(mpi_req_t *req, const char *fn);
/* The pml call of a start, on bytes of contiguous data (the buffer, its
 * packed copy or a buffered send's copy); a send of the buffer itself may
 * complete inline (sendi). req->active is set. */
int mpi_req_start_contig(mpi_req_t *req, void *data, size_t bytes, const char *fn);
/* Converts a PML status into comm's terms. */
void mpi_status_from_pml(MPI_Comm comm, const mrail_pml_status_t *in, MPI_Status *out);
void mpi_status_empty(MPI_Status *out);
/* A finished operation's MPI error (err, with the PML's cause) through
 * comm's handler; MPI_SUCCESS when err is. */
int mpi_report_outcome(MPI_Comm comm, int err, int cause, const char *fn);
/* Completes what finished in the background (detached requests, bsends). */
void mpi_reap_background(void);

#endif
