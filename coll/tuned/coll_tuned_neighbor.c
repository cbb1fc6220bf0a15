/* Neighbourhood collectives: one round, every block posted at once. */
#include "coll_tuned.h"

void coll_tuned_neighbor_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm,
                                   const mrail_coll_neighbors_t *nb, const void *sbuf,
                                   const int *scounts, const MPI_Aint *sdispls,
                                   const MPI_Datatype *stypes, void *rbuf, const int *rcounts,
                                   const MPI_Aint *rdispls, const MPI_Datatype *rtypes)
{
    /* A cartesian process's neighbours come in pairs, negative then
     * positive, per dimension. What goes the negative way travels on
     * channel 1, so that with a single peer both ways (a periodic
     * dimension of one or two) what it sent down lands in the block of
     * its positive side, as MPI says, not by arrival order. */
    bool cart = mrail_obj.comms[comm].topo == MPI_CART;
    for (int i = 0; i < nb->indegree; i++) {
        if (nb->sources[i] != MPI_PROC_NULL) {
            unsigned how = cart && i % 2 == 1 ? MRAIL_COLL_CHANNEL1 : 0;
            mrail_coll_recvx(s, (char *)rbuf + rdispls[i], (size_t)rcounts[i], rtypes[i],
                             nb->sources[i], how);
        }
    }
    for (int i = 0; i < nb->outdegree; i++) {
        if (nb->destinations[i] != MPI_PROC_NULL) {
            unsigned how = cart && i % 2 == 0 ? MRAIL_COLL_CHANNEL1 : 0;
            mrail_coll_sendx(s, (const char *)sbuf + sdispls[i], (size_t)scounts[i], stypes[i],
                             nb->destinations[i], how);
        }
    }
    mrail_coll_round(s);
}
