/* The communicator table: handles, their groups and contexts. The MPI
 * layer creates and checks communicators, collectives read them. */
#include <stdlib.h>
#include <string.h>

#include "mpiobj.h"

mpi_objs_t mrail_obj;

int mpi_comms_init(void)
{
    mrail_obj.ncomms = 16;
    mrail_obj.comms = calloc((size_t)mrail_obj.ncomms, sizeof(mpi_comm_t));
    return mrail_obj.comms ? MPI_SUCCESS : MPI_ERR_NO_MEM;
}

static void comm_clear(mpi_comm_t *c)
{
    free(c->world);
    free(c->remote_world);
    free(c->dims);
    free(c->periods);
    free(c->sources);
    free(c->destinations);
    free(c->sourceweights);
    free(c->destweights);
    free(c->index);
    free(c->edges);
    free(c->coll);
    if (c->coll_state_free != NULL) {
        c->coll_state_free(c->coll_state);
    }
    *c = (mpi_comm_t){0};
}

void mpi_comms_fini(void)
{
    for (int h = 0; h < mrail_obj.ncomms; h++) {
        comm_clear(&mrail_obj.comms[h]);
    }
    free(mrail_obj.comms);
    mrail_obj.comms = NULL;
    mrail_obj.ncomms = 0;
}

int mpi_world_local_index(uint32_t rank)
{
    const uint32_t *p = mrail_obj.local_peers;
    size_t lo = 0, hi = mrail_obj.local_size;
    while (lo < hi) { /* local_peers is ascending */
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] == rank) {
            return (int)mid;
        }
        if (p[mid] < rank) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

bool mpi_world_on_this_node(uint32_t rank)
{
    return mpi_world_local_index(rank) >= 0;
}

static bool all_crowded(int size, const uint32_t *world)
{
    if (!mrail_obj.node_oversubscribed) {
        return false;
    }
    for (int r = 0; r < size; r++) {
        if (!mpi_world_on_this_node(world[r])) {
            return false;
        }
    }
    return true;
}

int mpi_comm_init_at(MPI_Comm h, uint32_t ctx, int size, int rank, const uint32_t *world)
{
    mpi_comm_t *c = &mrail_obj.comms[h];
    *c = (mpi_comm_t){.valid = true,
                      .ctx = ctx,
                      .coll_ctx = ctx + 1,
                      .size = size,
                      .rank = rank,
                      .errhandler = MPI_ERRORS_ARE_FATAL,
                      .topo = MPI_UNDEFINED,
                      .local = MPI_COMM_NULL};
    c->world = malloc((size_t)(size ? size : 1) * sizeof(uint32_t));
    if (c->world == NULL) {
        c->valid = false;
        return MPI_ERR_NO_MEM;
    }
    memcpy(c->world, world, (size_t)size * sizeof(uint32_t));
    c->crowded = all_crowded(size, world);
    if (ctx + 2 > mrail_obj.next_ctx) {
        mrail_obj.next_ctx = ctx + 2;
    }
    return MPI_SUCCESS;
}

MPI_Comm mpi_comm_new(uint32_t ctx, int size, int rank, const uint32_t *world)
{
    int h = MPI_COMM_SELF + 1;
    while (h < mrail_obj.ncomms && mrail_obj.comms[h].valid) {
        h++;
    }
    if (h == mrail_obj.ncomms) {
        int n = 2 * mrail_obj.ncomms;
        mpi_comm_t *grown = realloc(mrail_obj.comms, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return MPI_COMM_NULL;
        }
        memset(grown + mrail_obj.ncomms, 0, (size_t)(n - mrail_obj.ncomms) * sizeof(*grown));
        mrail_obj.comms = grown;
        mrail_obj.ncomms = n;
    }
    return mpi_comm_init_at(h, ctx, size, rank, world) == MPI_SUCCESS ? h : MPI_COMM_NULL;
}

void mpi_comm_release(MPI_Comm comm)
{
    mpi_comm_t *c = &mrail_obj.comms[comm];
    if (c->local != MPI_COMM_NULL) {
        mpi_comm_release(c->local);
    }
    comm_clear(c);
}
