/* Barrier and broadcast algorithms. */
#include <string.h>

#include "coll_tuned.h"

void coll_tuned_barrier(mrail_coll_sched_t *s, MPI_Comm comm)
{
    int me = coll_rank(comm), p = coll_size(comm);
    const char *a = coll_tuned_forced(COLL_BARRIER);
    /* On a crowded node every round waits for ranks to be scheduled: two
     * rounds through rank 0 beat log p rounds (16 ranks on 2 CPUs: 100 us
     * against 210). */
    if (a == NULL && mrail_obj.comms[comm].crowded) {
        a = "linear";
    }
    if (coll_is(a, "linear")) {
        if (me != 0) {
            mrail_coll_send(s, NULL, 0, MPI_BYTE, 0);
            mrail_coll_recv(s, NULL, 0, MPI_BYTE, 0);
        } else {
            for (int r = 1; r < p; r++) {
                mrail_coll_recv(s, NULL, 0, MPI_BYTE, r);
            }
            mrail_coll_round(s);
            for (int r = 1; r < p; r++) {
                mrail_coll_send(s, NULL, 0, MPI_BYTE, r);
            }
        }
        mrail_coll_round(s);
        return;
    }
    /* Dissemination: in round k everyone signals me + 2^k and hears from me - 2^k. */
    for (int k = 1; k < p; k <<= 1) {
        mrail_coll_send(s, NULL, 0, MPI_BYTE, (me + k) % p);
        mrail_coll_recv(s, NULL, 0, MPI_BYTE, (me - k + p) % p);
        mrail_coll_round(s);
    }
}

static void bcast_linear(mrail_coll_sched_t *s, int me, int p, void *buf, size_t count,
                         MPI_Datatype type, int root)
{
    if (me == root) {
        for (int r = 0; r < p; r++) {
            if (r != root) {
                mrail_coll_send(s, buf, count, type, r);
            }
        }
    } else {
        mrail_coll_recv(s, buf, count, type, root);
    }
    mrail_coll_round(s);
}

/* Binomial tree over virtual ranks (root = 0): receive from the parent,
 * then send to the children, largest subtree first. */
static void bcast_binomial(mrail_coll_sched_t *s, int me, int p, void *buf, size_t count,
                           MPI_Datatype type, int root)
{
    int v = (me - root + p) % p, mask = 1;
    while (mask < p) {
        if (v & mask) {
            mrail_coll_recv(s, buf, count, type, (v - mask + root) % p);
            mrail_coll_round(s);
            break;
        }
        mask <<= 1;
    }
    for (mask >>= 1; mask > 0; mask >>= 1) {
        if (v + mask < p) {
            mrail_coll_send(s, buf, count, type, (v + mask + root) % p);
        }
    }
    mrail_coll_round(s);
}

/* The root scatters p blocks, then a ring allgather completes them
 * everywhere: every link carries about the message once. */
static void bcast_scatter_allgather(mrail_coll_sched_t *s, int me, int p, void *buf, size_t count,
                                    MPI_Datatype type, int root)
{
    MPI_Aint ext = coll_extent(type);
    size_t *off, *cnt = coll_blocks(s, count, p, &off);
    if (cnt == NULL) {
        return;
    }
    int v = (me - root + p) % p;
    /* Block i (virtual) belongs to virtual rank i. */
    if (v == 0) {
        for (int i = 1; i < p; i++) {
            mrail_coll_send(s, mrail_coll_at(buf, off[i], ext), cnt[i], type, (i + root) % p);
        }
    } else {
        mrail_coll_recv(s, mrail_coll_at(buf, off[v], ext), cnt[v], type, root);
    }
    mrail_coll_round(s);
    int right = (me + 1) % p, left = (me - 1 + p) % p;
    for (int k = 0; k < p - 1; k++) {
        int sb = (v - k + p) % p, rb = (v - k - 1 + p) % p;
        mrail_coll_send(s, mrail_coll_at(buf, off[sb], ext), cnt[sb], type, right);
        mrail_coll_recv(s, mrail_coll_at(buf, off[rb], ext), cnt[rb], type, left);
        mrail_coll_round(s);
    }
}

/* A chain root -> v1 -> v2 ...: segment k moves down while k+1 follows. */
static void bcast_pipeline(mrail_coll_sched_t *s, int me, int p, void *buf, size_t count,
                           MPI_Datatype type, int root)
{
    MPI_Aint ext = coll_extent(type);
    int size;
    size = (int)mpi_type_size(type);
    size_t seg = size > 0 ? coll_tuned_segment_size() / (size_t)size : count;
    seg = seg == 0 ? 1 : seg;
    size_t nseg = count == 0 ? 1 : (count + seg - 1) / seg;
    int v = (me - root + p) % p;
    int prev = (me - 1 + p) % p, next = (me + 1) % p;
    for (size_t k = 0; k <= nseg; k++) {
        if (k > 0 && v + 1 < p) { /* forward the segment that arrived */
            size_t at = (k - 1) * seg, n = count - at < seg ? count - at : seg;
            mrail_coll_send(s, mrail_coll_at(buf, at, ext), count == 0 ? 0 : n, type, next);
        }
        if (k < nseg && v > 0) {
            size_t at = k * seg, n = count - at < seg ? count - at : seg;
            mrail_coll_recv(s, mrail_coll_at(buf, at, ext), count == 0 ? 0 : n, type, prev);
        }
        mrail_coll_round(s);
    }
}

void coll_tuned_bcast(mrail_coll_sched_t *s, MPI_Comm comm, void *buf, size_t count,
                      MPI_Datatype type, int root)
{
    int me = coll_rank(comm), p = coll_size(comm), size;
    if (p == 1) {
        return;
    }
    size = (int)mpi_type_size(type);
    const char *a = coll_tuned_forced(COLL_BCAST);
    if (a == NULL) {
        /* A tree relays through ranks that, on a crowded node, may not be
         * running: the root sends small messages to everyone itself. */
        bool small = count * (size_t)size < 128 * 1024;
        a = !small ? "scatter_allgather" : mrail_obj.comms[comm].crowded ? "linear" : "binomial";
    }
    if (coll_is(a, "linear")) {
        bcast_linear(s, me, p, buf, count, type, root);
    } else if (coll_is(a, "scatter_allgather")) {
        bcast_scatter_allgather(s, me, p, buf, count, type, root);
    } else if (coll_is(a, "pipeline")) {
        bcast_pipeline(s, me, p, buf, count, type, root);
    } else {
        bcast_binomial(s, me, p, buf, count, type, root);
    }
}
