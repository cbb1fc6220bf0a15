/* Making and unmaking communicators: dup, split, create, intercommunicators.
 * Each new communicator gets a pair of PML contexts (point-to-point and
 * collectives) that every member agreed is unused (mpi_ctx_agree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Comm_dup);
MRAIL_MPI_ALIAS(MPI_Comm_split);
MRAIL_MPI_ALIAS(MPI_Comm_split_type);
MRAIL_MPI_ALIAS(MPI_Comm_create);
MRAIL_MPI_ALIAS(MPI_Comm_create_group);
MRAIL_MPI_ALIAS(MPI_Comm_free);
MRAIL_MPI_ALIAS(MPI_Comm_compare);
MRAIL_MPI_ALIAS(MPI_Comm_get_name);
MRAIL_MPI_ALIAS(MPI_Comm_set_name);
MRAIL_MPI_ALIAS(MPI_Comm_test_inter);
MRAIL_MPI_ALIAS(MPI_Comm_remote_size);
MRAIL_MPI_ALIAS(MPI_Intercomm_create);
MRAIL_MPI_ALIAS(MPI_Intercomm_merge);

static uint32_t my_world_rank(void)
{
    return mrail_rte_facts(mrail_mpi.rte)->rank;
}

/* Every member's n ints, in rank order, through rank 0 (construction only). */
static int allgather_ints(MPI_Comm comm, int tag, const int *mine, int n, int *all)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    memcpy(&all[c->rank * n], mine, (size_t)n * sizeof(int));
    if (c->size == 1) {
        return MPI_SUCCESS;
    }
    mrail_coll_sched_t *s =
        tag < 0 ? mrail_coll_sched_new(comm) : mrail_coll_sched_new_tagged(comm, tag);
    if (s == NULL) {
        return MPI_ERR_NO_MEM;
    }
    if (c->rank == 0) {
        for (int r = 1; r < c->size; r++) {
            mrail_coll_recv(s, &all[r * n], (size_t)n, MPI_INT, r);
        }
        mrail_coll_round(s);
        for (int r = 1; r < c->size; r++) {
            mrail_coll_send(s, all, (size_t)(n * c->size), MPI_INT, r);
        }
    } else {
        mrail_coll_send(s, mine, (size_t)n, MPI_INT, 0);
        mrail_coll_recv(s, all, (size_t)(n * c->size), MPI_INT, 0);
    }
    return mrail_coll_run(s);
}

/* Context agreement among comm's members with an explicit tag (a
 * collective over a subset of the parent, MPI_Comm_create_group). */
static int ctx_agree_tagged(MPI_Comm comm, int tag, uint32_t *ctx)
{
    mpi_idup_settle(); /* its proposal was this process's next context */
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int mine = (int)mrail_obj.next_ctx;
    int *all = malloc((size_t)c->size * sizeof(int));
    if (all == NULL) {
        return MPI_ERR_NO_MEM;
    }
    int rc = allgather_ints(comm, tag, &mine, 1, all);
    int best = mine;
    for (int r = 0; r < c->size; r++) {
        best = all[r] > best ? all[r] : best;
    }
    free(all);
    *ctx = (uint32_t)best;
    mrail_obj.next_ctx = (uint32_t)best + 2;
    return rc;
}

static int no_mem(MPI_Comm comm, const char *fn)
{
    return mpi_error(comm, MPI_ERR_NO_MEM, fn, "out of memory");
}

/* A new intracommunicator of the given members (job ranks), or COMM_NULL
 * for a process that is not one of them. */
static int make_intra(uint32_t ctx, const uint32_t *world, int size, MPI_Comm *out)
{
    uint32_t me = my_world_rank();
    int rank = -1;
    for (int i = 0; i < size; i++) {
        rank = world[i] == me ? i : rank;
    }
    if (rank < 0) {
        *out = MPI_COMM_NULL;
        return MPI_SUCCESS;
    }
    *out = mpi_comm_new(ctx, size, rank, world);
    return *out == MPI_COMM_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

/* A copy of n ints (NULL stays NULL); false when out of memory. */
static bool copy_ints(int **to, const int *from, int n)
{
    *to = NULL;
    if (from == NULL) {
        return true;
    }
    if ((*to = malloc((size_t)(n + 1) * sizeof(int))) != NULL) {
        memcpy(*to, from, (size_t)n * sizeof(int));
    }
    return *to != NULL;
}

static int copy_topology(MPI_Comm from, MPI_Comm to)
{
    mpi_comm_t *a = &mrail_obj.comms[from], *b = &mrail_obj.comms[to];
    b->topo = a->topo;
    b->ndims = a->ndims, b->nnodes = a->nnodes;
    b->indegree = a->indegree, b->outdegree = a->outdegree;
    int nedges = a->nnodes > 0 && a->index != NULL ? a->index[a->nnodes - 1] : 0;
    bool ok =
        copy_ints(&b->dims, a->dims, a->ndims) && copy_ints(&b->periods, a->periods, a->ndims);
    ok = ok && copy_ints(&b->index, a->index, a->nnodes) && copy_ints(&b->edges, a->edges, nedges);
    ok = ok && copy_ints(&b->sources, a->sources, a->indegree) &&
         copy_ints(&b->destinations, a->destinations, a->outdegree);
    ok = ok && copy_ints(&b->sourceweights, a->sourceweights, a->indegree) &&
         copy_ints(&b->destweights, a->destweights, a->outdegree);
    return ok ? MPI_SUCCESS : MPI_ERR_NO_MEM;
}

static int dup_inter(MPI_Comm comm, MPI_Comm *newcomm);

int PMPI_Comm_dup(MPI_Comm comm, MPI_Comm *newcomm)
{
    const char *fn = "MPI_Comm_dup";
    int rc = mpi_check_comm(comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (mrail_obj.comms[comm].inter) {
        rc = dup_inter(comm, newcomm);
        return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, fn, "could not duplicate");
    }
    uint32_t ctx;
    rc = mpi_ctx_agree(comm, &ctx);
    if (rc != MPI_SUCCESS) {
        return mpi_error(comm, rc, fn, "could not agree on a context");
    }
    rc = mpi_comm_dup_finish(comm, ctx, newcomm);
    return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, fn, "could not copy the communicator");
}

int mpi_comm_dup_finish(MPI_Comm comm, uint32_t ctx, MPI_Comm *newcomm)
{
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *newcomm = mpi_comm_new(ctx, c->size, c->rank, c->world);
    if (*newcomm == MPI_COMM_NULL) {
        return MPI_ERR_NO_MEM;
    }
    mrail_obj.comms[*newcomm].errhandler = mrail_obj.comms[comm].errhandler;
    int rc = copy_topology(comm, *newcomm);
    return rc ? rc : mpi_attrs_copy(comm, *newcomm);
}

typedef struct {
    int color, key, rank;
    uint32_t world;
} member_t;

static int by_key(const void *a, const void *b)
{
    const member_t *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : x->rank - y->rank;
}

static int split(MPI_Comm comm, int color, int key, const char *fn, MPI_Comm *newcomm)
{
    int rc = mpi_check_comm(comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (color < 0 && color != MPI_UNDEFINED) {
        return mpi_error(comm, MPI_ERR_ARG, fn,
                         "negative color %d (colors are >= 0 or MPI_UNDEFINED)", color);
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int size = c->size;
    int mine[2] = {color, key};
    int *all = malloc((size_t)size * 2 * sizeof(int));
    member_t *m = malloc((size_t)size * sizeof(member_t));
    uint32_t *world = malloc((size_t)size * sizeof(uint32_t));
    uint32_t ctx = 0;
    if (all == NULL || m == NULL || world == NULL) {
        rc = MPI_ERR_NO_MEM;
    }
    rc = rc ? rc : allgather_ints(comm, -1, mine, 2, all);
    rc = rc ? rc : mpi_ctx_agree(comm, &ctx);
    int n = 0;
    for (int r = 0; rc == MPI_SUCCESS && r < size; r++) {
        if (all[2 * r] == color && color != MPI_UNDEFINED) {
            m[n++] = (member_t){color, all[2 * r + 1], r, mrail_obj.comms[comm].world[r]};
        }
    }
    qsort(m, (size_t)n, sizeof(*m), by_key);
    for (int i = 0; i < n; i++) {
        world[i] = m[i].world;
    }
    *newcomm = MPI_COMM_NULL;
    if (rc == MPI_SUCCESS && color != MPI_UNDEFINED) {
        rc = make_intra(ctx, world, n, newcomm);
    }
    free(all);
    free(m);
    free(world);
    return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, fn, "could not split the communicator");
}

int PMPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *newcomm)
{
    return split(comm, color, key, "MPI_Comm_split", newcomm);
}

int PMPI_Comm_split_type(MPI_Comm comm, int split_type, int key, MPI_Info info, MPI_Comm *newcomm)
{
    (void)info;
    const char *fn = "MPI_Comm_split_type";
    if (split_type != MPI_COMM_TYPE_SHARED && split_type != MPI_UNDEFINED) {
        int rc = mpi_check_comm(comm, fn);
        return rc ? rc
                  : mpi_error(comm, MPI_ERR_ARG, fn,
                              "split type %d is not supported (valid: MPI_COMM_TYPE_SHARED or "
                              "MPI_UNDEFINED)",
                              split_type);
    }
    /* One node = one shared-memory domain: the node's id is the color. */
    int color =
        split_type == MPI_UNDEFINED ? MPI_UNDEFINED : (int)mrail_rte_facts(mrail_mpi.rte)->node_id;
    return split(comm, color, key, fn, newcomm);
}

int PMPI_Comm_create(MPI_Comm comm, MPI_Group group, MPI_Comm *newcomm)
{
    const char *fn = "MPI_Comm_create";
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : mpi_check_group(group, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int n;
    const uint32_t *world = mpi_group_world(group, &n);
    uint32_t ctx;
    rc = mpi_ctx_agree(comm, &ctx);
    rc = rc ? rc : make_intra(ctx, world, n, newcomm);
    return rc == MPI_SUCCESS ? rc : mpi_error(comm, rc, fn, "could not create the communicator");
}

int PMPI_Comm_create_group(MPI_Comm comm, MPI_Group group, int tag, MPI_Comm *newcomm)
{
    const char *fn = "MPI_Comm_create_group";
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : mpi_check_group(group, fn);
    rc = rc ? rc : mpi_check_send_tag(comm, tag, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    int n;
    const uint32_t *world = mpi_group_world(group, &n);
    /* Only the group's members call: they agree among themselves, talking
     * in the parent's collective context with a tag of their own. */
    rc = make_intra(mrail_obj.comms[comm].ctx, world, n, newcomm);
    if (rc != MPI_SUCCESS || *newcomm == MPI_COMM_NULL) {
        return rc == MPI_SUCCESS ? rc : no_mem(comm, fn);
    }
    uint32_t ctx;
    rc = ctx_agree_tagged(*newcomm, tag, &ctx);
    if (rc != MPI_SUCCESS) {
        mpi_comm_release(*newcomm);
        *newcomm = MPI_COMM_NULL;
        return mpi_error(comm, rc, fn, "could not agree on a context");
    }
    mrail_obj.comms[*newcomm].ctx = ctx;
    mrail_obj.comms[*newcomm].coll_ctx = ctx + 1;
    return MPI_SUCCESS;
}

int PMPI_Comm_free(MPI_Comm *comm)
{
    const char *fn = "MPI_Comm_free";
    int rc = mpi_check_comm(*comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (*comm == MPI_COMM_WORLD || *comm == MPI_COMM_SELF) {
        return mpi_error(*comm, MPI_ERR_COMM, fn, "%s cannot be freed",
                         *comm == MPI_COMM_WORLD ? "MPI_COMM_WORLD" : "MPI_COMM_SELF");
    }
    mpi_attrs_delete_all(*comm);
    mpi_comm_release(*comm);
    *comm = MPI_COMM_NULL;
    return MPI_SUCCESS;
}

int PMPI_Comm_compare(MPI_Comm comm1, MPI_Comm comm2, int *result)
{
    int rc = mpi_check_comm(comm1, "MPI_Comm_compare");
    rc = rc ? rc : mpi_check_comm(comm2, "MPI_Comm_compare");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *a = &mrail_obj.comms[comm1], *b = &mrail_obj.comms[comm2];
    if (comm1 == comm2) {
        *result = MPI_IDENT;
        return MPI_SUCCESS;
    }
    int g = mpi_world_compare(a->world, a->size, b->world, b->size);
    if (a->inter != b->inter) {
        g = MPI_UNEQUAL;
    } else if (a->inter && g != MPI_UNEQUAL) {
        int r = mpi_world_compare(a->remote_world, a->remote_size, b->remote_world, b->remote_size);
        g = r == MPI_UNEQUAL ? MPI_UNEQUAL
                             : (g == MPI_IDENT && r == MPI_IDENT ? MPI_IDENT : MPI_SIMILAR);
    }
    *result = g == MPI_IDENT ? MPI_CONGRUENT : g;
    return MPI_SUCCESS;
}

int PMPI_Comm_get_name(MPI_Comm comm, char *name, int *resultlen)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_get_name");
    if (rc == MPI_SUCCESS) {
        const char *n = mrail_obj.comms[comm].name;
        if (n[0] == '\0') {
            n = comm == MPI_COMM_WORLD  ? "MPI_COMM_WORLD"
                : comm == MPI_COMM_SELF ? "MPI_COMM_SELF"
                                        : "";
        }
        snprintf(name, MPI_MAX_OBJECT_NAME, "%s", n);
        *resultlen = (int)strlen(name);
    }
    return rc;
}

int PMPI_Comm_set_name(MPI_Comm comm, const char *name)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_set_name");
    if (rc == MPI_SUCCESS) {
        snprintf(mrail_obj.comms[comm].name, MPI_MAX_OBJECT_NAME, "%s", name);
    }
    return rc;
}

int PMPI_Comm_test_inter(MPI_Comm comm, int *flag)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_test_inter");
    if (rc == MPI_SUCCESS) {
        *flag = mrail_obj.comms[comm].inter;
    }
    return rc;
}

int PMPI_Comm_remote_size(MPI_Comm comm, int *size)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_remote_size");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (!mrail_obj.comms[comm].inter) {
        return mpi_error(comm, MPI_ERR_COMM, "MPI_Comm_remote_size",
                         "communicator %d is not an intercommunicator", comm);
    }
    *size = mrail_obj.comms[comm].remote_size;
    return MPI_SUCCESS;
}

/* ---- intercommunicators ---- */

/* The local group's leader (local rank 0 of the private local comm)
 * exchanges n ints with the remote leader through the intercommunicator,
 * then broadcasts what came back to its group. */
static int leaders_exchange(MPI_Comm inter, int tag, const int *mine, int *theirs, int n)
{
    mpi_comm_t *c = &mrail_obj.comms[inter];
    MPI_Comm local = c->local;
    int rc = MPI_SUCCESS;
    if (mrail_obj.comms[local].rank == 0) {
        mrail_coll_sched_t *s = mrail_coll_sched_new_tagged(inter, tag);
        if (s == NULL) {
            return MPI_ERR_NO_MEM;
        }
        mrail_coll_send(s, mine, (size_t)n, MPI_INT, 0);
        mrail_coll_recv(s, theirs, (size_t)n, MPI_INT, 0);
        rc = mrail_coll_run(s);
    }
    const mpi_comm_t *l = &mrail_obj.comms[local];
    if (rc == MPI_SUCCESS && l->size > 1) {
        mrail_coll_sched_t *s = mrail_coll_sched_new(local);
        if (s == NULL) {
            return MPI_ERR_NO_MEM;
        }
        if (l->rank == 0) {
            for (int r = 1; r < l->size; r++) {
                mrail_coll_send(s, theirs, (size_t)n, MPI_INT, r);
            }
        } else {
            mrail_coll_recv(s, theirs, (size_t)n, MPI_INT, 0);
        }
        rc = mrail_coll_run(s);
    }
    return rc;
}

int PMPI_Intercomm_create(MPI_Comm local_comm, int local_leader, MPI_Comm peer_comm,
                          int remote_leader, int tag, MPI_Comm *newintercomm)
{
    const char *fn = "MPI_Intercomm_create";
    int rc = mpi_check_comm(local_comm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *lc = &mrail_obj.comms[local_comm];
    if (local_leader < 0 || local_leader >= lc->size) {
        return mpi_error(local_comm, MPI_ERR_RANK, fn, "local leader %d is not in 0..%d",
                         local_leader, lc->size - 1);
    }
    bool leader = lc->rank == local_leader;
    if (leader) {
        rc = mpi_check_comm(peer_comm, fn);
        rc = rc ? rc : mpi_check_dest(peer_comm, remote_leader, fn);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    uint32_t agreed;
    rc = mpi_ctx_agree(local_comm, &agreed);
    /* Leaders swap (context, size) and then their groups, through peer_comm. */
    int lsize = mrail_obj.comms[local_comm].size;
    int info[2] = {(int)agreed, lsize}, rinfo[2] = {0, 0};
    if (rc == MPI_SUCCESS && leader) {
        rc = PMPI_Sendrecv(info, 2, MPI_INT, remote_leader, tag, rinfo, 2, MPI_INT, remote_leader,
                           tag, peer_comm, MPI_STATUS_IGNORE);
    }
    /* Broadcast the remote info, then the remote group, from the leader. */
    uint32_t *remote = NULL;
    for (int phase = 0; rc == MPI_SUCCESS && phase < 2; phase++) {
        if (phase == 1) {
            remote = malloc((size_t)(rinfo[1] > 0 ? rinfo[1] : 1) * sizeof(uint32_t));
            if (remote == NULL) {
                rc = MPI_ERR_NO_MEM;
                break;
            }
            if (leader) {
                rc = PMPI_Sendrecv(mrail_obj.comms[local_comm].world, lsize, MPI_UINT32_T,
                                   remote_leader, tag, remote, rinfo[1], MPI_UINT32_T,
                                   remote_leader, tag, peer_comm, MPI_STATUS_IGNORE);
            }
        }
        mrail_coll_sched_t *s = mrail_coll_sched_new(local_comm);
        if (s == NULL) {
            rc = MPI_ERR_NO_MEM;
            break;
        }
        const mpi_comm_t *l = &mrail_obj.comms[local_comm];
        void *buf = phase == 0 ? (void *)rinfo : (void *)remote;
        int n = phase == 0 ? 2 : rinfo[1];
        MPI_Datatype t = phase == 0 ? MPI_INT : MPI_UINT32_T;
        if (rc == MPI_SUCCESS && leader) {
            for (int r = 0; r < l->size; r++) {
                if (r != l->rank) {
                    mrail_coll_send(s, buf, (size_t)n, t, r);
                }
            }
        } else if (rc == MPI_SUCCESS) {
            mrail_coll_recv(s, buf, (size_t)n, t, local_leader);
        }
        int rc2 = mrail_coll_run(s);
        rc = rc ? rc : rc2;
    }
    if (rc != MPI_SUCCESS) {
        free(remote);
        return mpi_error(local_comm, rc, fn, "could not exchange the groups");
    }
    /* Unused by everyone in both groups; the next pair is the private local comm's. */
    uint32_t ctx = agreed > (uint32_t)rinfo[0] ? agreed : (uint32_t)rinfo[0];
    const mpi_comm_t *l = &mrail_obj.comms[local_comm];
    MPI_Comm ic = mpi_comm_new(ctx, l->size, l->rank, l->world);
    MPI_Comm priv = ic == MPI_COMM_NULL ? MPI_COMM_NULL
                                        : mpi_comm_new(ctx + 2, mrail_obj.comms[local_comm].size,
                                                       mrail_obj.comms[local_comm].rank,
                                                       mrail_obj.comms[local_comm].world);
    if (priv == MPI_COMM_NULL) {
        free(remote);
        if (ic != MPI_COMM_NULL) {
            mpi_comm_release(ic);
        }
        return no_mem(local_comm, fn);
    }
    mpi_comm_t *c = &mrail_obj.comms[ic];
    c->inter = true;
    c->remote_size = rinfo[1];
    c->remote_world = remote;
    c->local = priv;
    mrail_obj.next_ctx = ctx + 4;
    *newintercomm = ic;
    return MPI_SUCCESS;
}

/* Both groups agree on fresh contexts: each locally, then the leaders. */
static int inter_ctx_agree(MPI_Comm inter, int tag, uint32_t *ctx, int *extra_mine,
                           int *extra_theirs, int nextra)
{
    uint32_t local;
    int rc = mpi_ctx_agree(mrail_obj.comms[inter].local, &local);
    int mine[4] = {(int)local, 0, 0, 0}, theirs[4] = {0, 0, 0, 0};
    memcpy(mine + 1, extra_mine, (size_t)nextra * sizeof(int));
    rc = rc ? rc : leaders_exchange(inter, tag, mine, theirs, 1 + nextra);
    memcpy(extra_theirs, theirs + 1, (size_t)nextra * sizeof(int));
    *ctx = local > (uint32_t)theirs[0] ? local : (uint32_t)theirs[0];
    mrail_obj.next_ctx = *ctx + 4;
    return rc;
}

static int dup_inter(MPI_Comm comm, MPI_Comm *newcomm)
{
    uint32_t ctx;
    int none = 0;
    int rc = inter_ctx_agree(comm, 1, &ctx, &none, &none, 0);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    MPI_Comm ic = mpi_comm_new(ctx, c->size, c->rank, c->world);
    MPI_Comm priv = ic == MPI_COMM_NULL
                        ? MPI_COMM_NULL
                        : mpi_comm_new(ctx + 2, mrail_obj.comms[comm].size,
                                       mrail_obj.comms[comm].rank, mrail_obj.comms[comm].world);
    uint32_t *remote = malloc((size_t)mrail_obj.comms[comm].remote_size * sizeof(uint32_t) + 1);
    if (priv == MPI_COMM_NULL || remote == NULL) {
        free(remote);
        return MPI_ERR_NO_MEM;
    }
    memcpy(remote, mrail_obj.comms[comm].remote_world,
           (size_t)mrail_obj.comms[comm].remote_size * sizeof(uint32_t));
    mpi_comm_t *n = &mrail_obj.comms[ic];
    n->inter = true;
    n->remote_size = mrail_obj.comms[comm].remote_size;
    n->remote_world = remote;
    n->local = priv;
    *newcomm = ic;
    return mpi_attrs_copy(comm, ic);
}

int PMPI_Intercomm_merge(MPI_Comm intercomm, int high, MPI_Comm *newintracomm)
{
    const char *fn = "MPI_Intercomm_merge";
    int rc = mpi_check_comm(intercomm, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (!mrail_obj.comms[intercomm].inter) {
        return mpi_error(intercomm, MPI_ERR_COMM, fn, "communicator %d is not an intercommunicator",
                         intercomm);
    }
    const mpi_comm_t *c = &mrail_obj.comms[intercomm];
    int mine[2] = {high ? 1 : 0, (int)c->world[0]}, theirs[2];
    uint32_t ctx;
    rc = inter_ctx_agree(intercomm, 2, &ctx, mine, theirs, 2);
    if (rc != MPI_SUCCESS) {
        return mpi_error(intercomm, rc, fn, "could not agree with the remote group");
    }
    c = &mrail_obj.comms[intercomm];
    /* Low group first; equal flags: the group whose first member has the lower job rank. */
    bool first = mine[0] != theirs[0] ? mine[0] < theirs[0] : mine[1] < theirs[1];
    int n = c->size + c->remote_size;
    uint32_t *world = malloc((size_t)n * sizeof(uint32_t));
    if (world == NULL) {
        return no_mem(intercomm, fn);
    }
    const uint32_t *a = first ? c->world : c->remote_world, *b = first ? c->remote_world : c->world;
    int na = first ? c->size : c->remote_size;
    memcpy(world, a, (size_t)na * sizeof(uint32_t));
    memcpy(world + na, b, (size_t)(n - na) * sizeof(uint32_t));
    rc = make_intra(ctx, world, n, newintracomm);
    free(world);
    mrail_obj.next_ctx = ctx + 4;
    return rc == MPI_SUCCESS ? rc : no_mem(intercomm, fn);
}
