/* The MPI object layer: the tables behind MPI's handles (communicators,
 * groups, datatypes, reduction operations), the datatype engine and the
 * reduction kernels. Below the collectives and the MPI calls, above the
 * pml: it names no MPI call and reports no error itself (callers do, in
 * their own terms). Handles are process-global, as MPI makes them. */
#ifndef MRAIL_MPIOBJ_H
#define MRAIL_MPIOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"
#include "mrail/pml.h"

typedef struct mpi_attr {
    int keyval;
    void *value;
    struct mpi_attr *next;
} mpi_attr_t;

/* A communicator's collective functions, chosen by the coll framework
 * (include/mrail/coll.h); this layer only owns the memory. */
struct mrail_coll_fns;

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
    int nnodes; /* graph: the whole graph, as MPI_Graph_create took it */
    int *index, *edges;
    int indegree, outdegree; /* distributed graph, and a graph node's neighbours */
    int *sources, *destinations;
    int *sourceweights, *destweights;     /* distributed graph: NULL when unweighted */
    struct mrail_coll_fns *coll;          /* freed with the communicator */
    bool coll_set_up;                     /* coll->setup has run (first blocking collective) */
    void *coll_state;                     /* a coll component's own (coll/sm: its segment) */
    void (*coll_state_free)(void *state); /* called with it when the communicator goes */
    /* Every rank on this node, and the node has more ranks than CPUs: a
     * message wakes a rank that may not be running (collectives choose
     * fewer rounds). Every rank of the communicator computes the same. */
    bool crowded;
} mpi_comm_t;

/* The tables this layer shares with those above it. */
typedef struct mpi_objs {
    mrail_pml_t *pml;  /* what every message goes through */
    mpi_comm_t *comms; /* by handle: NULL, WORLD, SELF, then created ones */
    int ncomms;
    uint32_t next_ctx; /* lowest PML context this process has not used */
    /* This node: its ranks (ascending) and whether they outnumber its CPUs. */
    const uint32_t *local_peers;
    uint32_t local_size;
    bool node_oversubscribed;
    const char *job;  /* the PMIx namespace: names this job's files in /dev/shm */
    mrail_rte_t *rte; /* the runtime: this node's doorbells */
} mpi_objs_t;

extern mpi_objs_t mrail_obj;

/* ---- communicators (obj_comm.c) ---- */
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
/* Is job rank rank on this node? */
bool mpi_world_on_this_node(uint32_t rank);
/* Its index among this node's ranks (local_peers), or -1 when elsewhere. */
int mpi_world_local_index(uint32_t rank);
/* A new communicator handle with the given groups; MPI_COMM_NULL when out of memory. */
MPI_Comm mpi_comm_new(uint32_t ctx, int size, int rank, const uint32_t *world);
/* Fills handle h (WORLD and SELF at start-up). */
int mpi_comm_init_at(MPI_Comm h, uint32_t ctx, int size, int rank, const uint32_t *world);
void mpi_comm_release(MPI_Comm comm);
int mpi_comms_init(void);
void mpi_comms_fini(void);

/* ---- info objects (obj_info.c): -1, NULL or false when the handle is
 * not a live info or memory ran out ---- */
MPI_Info mpi_info_new(void); /* MPI_INFO_NULL when out of memory */
bool mpi_info_valid(MPI_Info info);
int mpi_info_set(MPI_Info info, const char *key, const char *value);
const char *mpi_info_get(MPI_Info info, const char *key); /* NULL: no such key */
bool mpi_info_remove(MPI_Info info, const char *key);
int mpi_info_nkeys(MPI_Info info);
const char *mpi_info_nthkey(MPI_Info info, int n); /* in the order keys were first set */
void mpi_info_delete_all(MPI_Info info);           /* and the handle, unless MPI_INFO_ENV */
void mpi_infos_fini(void);

/* ---- groups (obj_group.c) ---- */
MPI_Group mpi_group_new(int size, const uint32_t *world);
bool mpi_group_valid(MPI_Group group);
void mpi_group_delete(MPI_Group group);
const uint32_t *mpi_group_world(MPI_Group group, int *size);
void mpi_groups_fini(void);
/* MPI_IDENT (same order), MPI_SIMILAR (same members) or MPI_UNEQUAL. */
int mpi_world_compare(const uint32_t *a, int na, const uint32_t *b, int nb);

/* ---- datatypes (obj_datatype.c). One instance of a type is its byte
 * blocks, in typemap order; count instances lie extent bytes apart. ---- */
#define MPI_FIRST_DERIVED_TYPE 64

typedef struct mpi_block {
    MPI_Aint disp;
    size_t len;
} mpi_block_t;

/* A run of basic elements of one size, in the order the type's data is
 * packed (its type map's order): what MPI_Get_elements counts. */
typedef struct mpi_elem_run {
    size_t size;
    size_t count;
} mpi_elem_run_t;
/* Types whose element sequence needs more runs keep only the count; a
 * partial instance of one is MPI_UNDEFINED elements. */
#define MPI_ELEM_RUNS_MAX 256

typedef struct mpi_type {
    int refs; /* the handle's and those of operations in flight */
    bool predefined, committed;
    bool explicit_bounds; /* resized somewhere inside: a struct does not pad it */
    bool mixed;           /* more than one base type */
    size_t size;          /* data bytes of one instance */
    size_t align;         /* strictest alignment inside */
    MPI_Aint lb, extent, true_lb, true_extent;
    mpi_block_t *blocks;
    size_t nblocks;
    mpi_elem_run_t *runs; /* NULL when over MPI_ELEM_RUNS_MAX (runs_lost) */
    size_t nruns;
    size_t elements; /* basic elements of one instance */
    bool runs_lost;
    MPI_Datatype base;        /* homogeneous: the predefined type of every element; else NULL */
    size_t base_count;        /* elements of base in one instance */
    int combiner, ni, na, nt; /* MPI_Type_get_envelope/contents */
    int *ints;
    MPI_Aint *aints;
    MPI_Datatype *types;
    const struct mpi_type **parts; /* the nt types it was built from, held: the handles may go */
    char name[MPI_MAX_OBJECT_NAME];
    mpi_attr_t *attrs; /* type keyvals' values (the MPI layer runs their callbacks) */
} mpi_type_t;

int mpi_types_init(void);
void mpi_types_fini(void);
/* NULL for an invalid handle. */
const mpi_type_t *mpi_type(MPI_Datatype type);
mpi_type_t *mpi_type_mut(MPI_Datatype type);
size_t mpi_type_size(MPI_Datatype type); /* 0 for an invalid handle too */
const char *mpi_type_name(MPI_Datatype type);
bool mpi_type_is_pair(MPI_Datatype type); /* MPI_FLOAT_INT .. MPI_LONG_DOUBLE_INT */
/* Basic elements in bytes of data of type t (count instances and a part of
 * one): -1 when the bytes end inside an element, or the part cannot be
 * known (runs_lost). */
long long mpi_type_elements(const mpi_type_t *t, size_t bytes);
/* The data bytes of the first count basic elements of type t, instances
 * one after another; -1 when that ends inside an instance whose runs were
 * lost. */
long long mpi_type_element_bytes(const mpi_type_t *t, size_t count);
/* One block at displacement 0 as long as the extent: count instances are
 * count * size contiguous bytes. */
bool mpi_type_contiguous(const mpi_type_t *t);
/* Gives a finished derived type a handle; -1 when out of memory. */
int mpi_type_store(mpi_type_t *t, MPI_Datatype *out);
/* Drops a reference; the last one frees the type. */
void mpi_type_release(mpi_type_t *t);
/* Drops the handle's reference and frees the handle (MPI_Type_free). */
void mpi_type_forget(MPI_Datatype type);
/* Operations in flight keep the type alive past MPI_Type_free. */
const mpi_type_t *mpi_type_hold(const mpi_type_t *t);
void mpi_type_drop(const mpi_type_t *t);
/* A new type equal to t, without t's attributes (MPI_Type_get_contents
 * hands out such copies of the types a type was built from); NULL when
 * out of memory. */
mpi_type_t *mpi_type_copy(const mpi_type_t *t);
/* Lets go of the types t was built from (before its contents change). */
void mpi_type_parts_drop(mpi_type_t *t);
void mpi_type_pack(const mpi_type_t *t, size_t count, const void *src, void *dst);
/* Unpacks the first bytes of count packed instances (a short message). */
void mpi_type_unpack(const mpi_type_t *t, size_t count, const void *src, size_t bytes, void *dst);

/* ---- reduction operations (obj_op.c) ---- */
#define MPI_FIRST_USER_OP 32
int mpi_ops_init(void);
void mpi_ops_fini(void);
bool mpi_op_valid(MPI_Op op);
bool mpi_op_commutes(MPI_Op op);
bool mpi_op_is_user(MPI_Op op);
const char *mpi_op_name(MPI_Op op);
/* Does op apply to t's elements? (User operations take every type.) */
bool mpi_op_fits(MPI_Op op, const mpi_type_t *t);
/* A user operation's handle; -1 when out of memory. */
int mpi_op_new(MPI_User_function *fn, bool commute, MPI_Op *out);
void mpi_op_delete(MPI_Op op);
/* inout = in op inout, count elements of type in the user's layout. */
void mpi_op_apply(MPI_Op op, const void *in, void *inout, size_t count, MPI_Datatype type);

#endif
