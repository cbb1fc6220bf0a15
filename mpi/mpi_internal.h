/* The MPI layer's state: one process-wide registry of handles (the MPI
 * standard makes it process-global), the PML underneath. */
#ifndef MRAIL_MPI_INTERNAL_H
#define MRAIL_MPI_INTERNAL_H

#include <stdbool.h>

#include "mpi.h"
#include "mrail/pml.h"

#define MPI_TAG_MAX 0x3fffffff /* what MPI_TAG_UB reports */

typedef struct mpi_attr {
    int keyval;
    void *value;
    struct mpi_attr *next;
} mpi_attr_t;

typedef struct mpi_comm {
    bool valid;
    uint32_t ctx;      /* PML context of point-to-point */
    uint32_t coll_ctx; /* of collectives: user messages never match them */
    uint32_t coll_seq; /* collectives started on it: the next one's tag */
    int size, rank;
    uint32_t *world; /* comm rank -> job rank (an intercommunicator's local group) */
    bool inter;
    int remote_size;
    uint32_t *remote_world; /* intercommunicator: remote rank -> job rank */
    MPI_Comm local;         /* intercommunicator: a private intracommunicator of the local group */
    MPI_Errhandler errhandler;
    char name[MPI_MAX_OBJECT_NAME];
    mpi_attr_t *attrs;
    int topo;  /* MPI_CART, MPI_DIST_GRAPH or MPI_UNDEFINED */
    int ndims; /* cartesian */
    int *dims, *periods;
    int indegree, outdegree; /* distributed graph */
    int *sources, *destinations;
} mpi_comm_t;

struct mpi_type;
typedef struct mpi_type mpi_type_t;

typedef enum { MPI_REQ_UNUSED, MPI_REQ_SEND, MPI_REQ_RECV, MPI_REQ_COLL } mpi_req_kind_t;

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
    void *packed;                     /* a non-contiguous type's bytes, or its pieces' iovec */
    bool pieces;                      /* packed is the iovec: sent/received in place */
    const struct mpi_type *held_type; /* kept alive while packed is in use */
    struct coll_sched *coll;          /* MPI_REQ_COLL */
} mpi_req_t;

typedef struct mpi_state {
    bool initialized, finalized;
    int thread_level;
    mrail_rte_t *rte;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    mrail_pml_t *pml;
    mpi_comm_t *comms; /* by handle: NULL, WORLD, SELF, then created ones */
    int ncomms;
    uint32_t next_ctx; /* lowest PML context this process has not used */
    mpi_req_t *reqs;   /* handle h is reqs[h - 1] */
    int nreqs;
    int *free_slots; /* handles of unused slots, a stack */
    int nfree;
    void *bsend_buffer; /* MPI_Buffer_attach */
    size_t bsend_size, bsend_used;
    int bsend_pending; /* Bsend requests not complete yet */
} mpi_state_t;

extern mpi_state_t mrail_mpi;

/* Reports an error through comm's handler: prints and aborts for
 * MPI_ERRORS_ARE_FATAL, else returns errclass. fn is the MPI call. */
int mpi_error(MPI_Comm comm, int errclass, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Argument checks shared by the calls; each returns MPI_SUCCESS or the
 * error already reported. */
int mpi_check_init(const char *fn);
int mpi_check_comm(MPI_Comm comm, const char *fn);
int mpi_check_buffer(MPI_Comm comm, const void *buf, int count, MPI_Datatype type, const char *fn);
int mpi_check_dest(MPI_Comm comm, int rank, const char *fn);
int mpi_check_source(MPI_Comm comm, int rank, const char *fn);
int mpi_check_send_tag(MPI_Comm comm, int tag, const char *fn);
int mpi_check_recv_tag(MPI_Comm comm, int tag, const char *fn);

/* Communicators (mpi_comm.c, mpi_comm_create.c). */
/* The job rank of comm's rank r as a peer (the remote group of an intercommunicator). */
static inline uint32_t mpi_peer_world(const mpi_comm_t *c, int r)
{
    return c->inter ? c->remote_world[r] : c->world[r];
}
/* Size of the group peers are named in (remote group of an intercommunicator). */
static inline int mpi_peer_size(const mpi_comm_t *c)
{
    return c->inter ? c->remote_size : c->size;
}
/* A new communicator handle with the given groups; MPI_COMM_NULL when out of memory. */
MPI_Comm mpi_comm_new(uint32_t ctx, int size, int rank, const uint32_t *world);
/* Fills handle h (WORLD and SELF at start-up). */
int mpi_comm_init_at(MPI_Comm h, uint32_t ctx, int size, int rank, const uint32_t *world);
void mpi_comm_release(MPI_Comm comm);
int mpi_comms_init(void);
void mpi_comms_fini(void);
/* Agrees with every member of comm on a fresh pair of PML contexts (p2p, collectives). */
int mpi_ctx_agree(MPI_Comm comm, uint32_t *ctx);
/* Groups (mpi_group.c). */
MPI_Group mpi_group_new(int size, const uint32_t *world);
int mpi_check_group(MPI_Group group, const char *fn);
const uint32_t *mpi_group_world(MPI_Group group, int *size);
void mpi_groups_fini(void);
int mpi_world_compare(const uint32_t *a, int na, const uint32_t *b, int nb);
/* Attributes (mpi_attr.c): copies on dup, deletes on free. */
int mpi_attrs_copy(MPI_Comm from, MPI_Comm to);
void mpi_attrs_delete_all(MPI_Comm comm);
void mpi_keyvals_fini(void);
int mpi_attr_get(MPI_Comm comm, int keyval, void *value, int *flag);

/* Datatypes (mpi_datatype.c). One instance of a type is its byte blocks,
 * in typemap order; count instances lie extent bytes apart. */
#define MPI_FIRST_DERIVED_TYPE 64

typedef struct mpi_block {
    MPI_Aint disp;
    size_t len;
} mpi_block_t;

struct mpi_type {
    int refs; /* the handle's and those of operations in flight */
    bool predefined, committed;
    bool explicit_bounds; /* resized somewhere inside: a struct does not pad it */
    bool mixed;           /* more than one base type */
    size_t size;          /* data bytes of one instance */
    size_t align;         /* strictest alignment inside */
    MPI_Aint lb, extent, true_lb, true_extent;
    mpi_block_t *blocks;
    size_t nblocks;
    MPI_Datatype base;        /* homogeneous: the predefined type of every element; else NULL */
    size_t base_count;        /* elements of base in one instance */
    int combiner, ni, na, nt; /* MPI_Type_get_envelope/contents */
    int *ints;
    MPI_Aint *aints;
    MPI_Datatype *types;
    char name[MPI_MAX_OBJECT_NAME];
};

int mpi_types_init(void);
void mpi_types_fini(void);
/* NULL for an invalid handle. */
const mpi_type_t *mpi_type(MPI_Datatype type);
size_t mpi_type_size(MPI_Datatype type); /* 0 for an invalid handle too */
const char *mpi_type_name(MPI_Datatype type);
int mpi_check_type(MPI_Datatype type, const char *fn);
bool mpi_type_is_pair(MPI_Datatype type); /* MPI_FLOAT_INT .. MPI_LONG_DOUBLE_INT */
/* One block at displacement 0 as long as the extent: count instances are
 * count * size contiguous bytes. */
bool mpi_type_contiguous(const mpi_type_t *t);
/* Operations in flight keep the type alive past MPI_Type_free. */
const mpi_type_t *mpi_type_hold(const mpi_type_t *t);
void mpi_type_drop(const mpi_type_t *t);
void mpi_type_pack(const mpi_type_t *t, size_t count, const void *src, void *dst);
/* Unpacks the first bytes of count packed instances (a short message). */
void mpi_type_unpack(const mpi_type_t *t, size_t count, const void *src, size_t bytes, void *dst);

/* Reduction operations (mpi_op.c). */
int mpi_ops_init(void);
void mpi_ops_fini(void);
bool mpi_op_valid(MPI_Op op);
bool mpi_op_commutes(MPI_Op op);
const char *mpi_op_name(MPI_Op op);
/* Is op valid, and does it apply to type? Reports through comm if not. */
int mpi_op_check(MPI_Comm comm, MPI_Op op, MPI_Datatype type, const char *fn);
/* inout = in op inout, count elements of type in the user's layout. */
void mpi_op_apply(MPI_Op op, const void *in, void *inout, size_t count, MPI_Datatype type);

/* Requests (mpi_request.c). */
int mpi_req_new(mpi_req_t **req_out, MPI_Request *handle);
/* Returns a slot that will not be used (an error after mpi_req_new). */
void mpi_req_drop(mpi_req_t *req);
mpi_req_t *mpi_req_get(MPI_Request handle);
/* Starts the PML operation of an (inactive) request. */
int mpi_req_start(mpi_req_t *req, const char *fn);
/* Converts a PML status into comm's terms. */
void mpi_status_from_pml(MPI_Comm comm, const mrail_pml_status_t *in, MPI_Status *out);
void mpi_status_empty(MPI_Status *out);
/* Completes what finished in the background (detached requests, bsends). */
void mpi_reap_background(void);

#endif
