/* Gather, scatter and allgather algorithms (and their v forms). Tree
 * algorithms move packed bytes: inner nodes hold their subtree's blocks
 * without knowing the root's datatype. */
#include <string.h>

#include "coll_tuned.h"

static size_t type_size(MPI_Datatype t)
{
    return mpi_type_size(t);
}

static bool tree_wanted(coll_kind_t kind, int p, size_t block_bytes)
{
    const char *a = coll_tuned_forced(kind);
    return a != NULL ? coll_is(a, "binomial") : p >= 8 && block_bytes < 16384;
}

void coll_tuned_gather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                       MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root)
{
    int me = coll_rank(comm), p = coll_size(comm);
    bool in_place = sbuf == MPI_IN_PLACE;
    size_t blk = in_place ? rcount * type_size(rtype) : scount * type_size(stype);
    MPI_Aint rext = me == root ? coll_extent(rtype) : 0;
    if (!tree_wanted(COLL_GATHER, p, blk) || p == 1) {
        if (me == root) {
            for (int r = 0; r < p; r++) {
                void *at = mrail_coll_at(rbuf, (size_t)r * rcount, rext);
                if (r != me) {
                    mrail_coll_recv(s, at, rcount, rtype, r);
                } else if (!in_place) {
                    mrail_coll_copy(s, sbuf, scount, stype, at, rcount, rtype);
                }
            }
        } else {
            mrail_coll_send(s, sbuf, scount, stype, root);
        }
        mrail_coll_round(s);
        return;
    }
    /* Binomial tree over virtual ranks; node v collects blocks v .. v+n-1. */
    int v = (me - root + p) % p;
    char *tmp = mrail_coll_tmp(s, (size_t)p * blk, MPI_BYTE);
    if (tmp == NULL) {
        return;
    }
    if (in_place) {
        mrail_coll_copy(s, mrail_coll_at(rbuf, (size_t)me * rcount, rext), rcount, rtype, tmp, blk,
                        MPI_BYTE);
    } else {
        mrail_coll_copy(s, sbuf, scount, stype, tmp, blk, MPI_BYTE);
    }
    for (int mask = 1; mask < p; mask <<= 1) {
        if (v & mask) {
            int n = mask < p - v ? mask : p - v;
            mrail_coll_send(s, tmp, (size_t)n * blk, MPI_BYTE, (v - mask + root) % p);
            mrail_coll_round(s);
            return;
        }
        if (v + mask < p) {
            int n = mask < p - (v + mask) ? mask : p - (v + mask);
            mrail_coll_recv(s, tmp + (size_t)mask * blk, (size_t)n * blk, MPI_BYTE,
                            (v + mask + root) % p);
            mrail_coll_round(s);
        }
    }
    for (int i = 0; i < p; i++) { /* virtual i is rank (i + root) mod p */
        int r = (i + root) % p;
        if (!(in_place && r == me)) {
            mrail_coll_copy(s, tmp + (size_t)i * blk, blk, MPI_BYTE,
                            mrail_coll_at(rbuf, (size_t)r * rcount, rext), rcount, rtype);
        }
    }
}

void coll_tuned_gatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                        MPI_Datatype rtype, int root)
{
    int me = coll_rank(comm), p = coll_size(comm);
    if (me == root) {
        MPI_Aint rext = coll_extent(rtype);
        for (int r = 0; r < p; r++) {
            void *at = mrail_coll_at(rbuf, (size_t)displs[r], rext);
            if (r != me) {
                mrail_coll_recv(s, at, (size_t)rcounts[r], rtype, r);
            } else if (sbuf != MPI_IN_PLACE) {
                mrail_coll_copy(s, sbuf, scount, stype, at, (size_t)rcounts[r], rtype);
            }
        }
    } else {
        mrail_coll_send(s, sbuf, scount, stype, root);
    }
    mrail_coll_round(s);
}

void coll_tuned_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                        MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype, int root)
{
    int me = coll_rank(comm), p = coll_size(comm);
    bool in_place = rbuf == MPI_IN_PLACE;
    size_t blk = me == root ? scount * type_size(stype) : rcount * type_size(rtype);
    MPI_Aint sext = me == root ? coll_extent(stype) : 0;
    if (!tree_wanted(COLL_SCATTER, p, blk) || p == 1) {
        if (me == root) {
            for (int r = 0; r < p; r++) {
                const void *at = mrail_coll_at(sbuf, (size_t)r * scount, sext);
                if (r != me) {
                    mrail_coll_send(s, at, scount, stype, r);
                } else if (!in_place) {
                    mrail_coll_copy(s, at, scount, stype, rbuf, rcount, rtype);
                }
            }
        } else {
            mrail_coll_recv(s, rbuf, rcount, rtype, root);
        }
        mrail_coll_round(s);
        return;
    }
    /* Binomial tree, the gather's mirror: node v receives blocks v .. v+n-1
     * and passes the upper halves down. */
    int v = (me - root + p) % p;
    char *tmp = mrail_coll_tmp(s, (size_t)p * blk, MPI_BYTE);
    if (tmp == NULL) {
        return;
    }
    int mask = 1;
    if (v == 0) {
        for (int i = 0; i < p; i++) {
            mrail_coll_copy(s, mrail_coll_at(sbuf, (size_t)((i + root) % p) * scount, sext), scount,
                            stype, tmp + (size_t)i * blk, blk, MPI_BYTE);
        }
        while (mask < p) {
            mask <<= 1;
        }
    } else {
        while (!(v & mask)) {
            mask <<= 1;
        }
        int n = mask < p - v ? mask : p - v;
        mrail_coll_recv(s, tmp, (size_t)n * blk, MPI_BYTE, (v - mask + root) % p);
        mrail_coll_round(s);
    }
    for (mask >>= 1; mask > 0; mask >>= 1) {
        if (v + mask < p) {
            int n = mask < p - (v + mask) ? mask : p - (v + mask);
            mrail_coll_send(s, tmp + (size_t)mask * blk, (size_t)n * blk, MPI_BYTE,
                            (v + mask + root) % p);
        }
    }
    mrail_coll_round(s);
    if (!in_place) {
        mrail_coll_copy(s, tmp, blk, MPI_BYTE, rbuf, rcount, rtype);
    }
}

void coll_tuned_scatterv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, const int *scounts,
                         const int *displs, MPI_Datatype stype, void *rbuf, size_t rcount,
                         MPI_Datatype rtype, int root)
{
    int me = coll_rank(comm), p = coll_size(comm);
    if (me == root) {
        MPI_Aint sext = coll_extent(stype);
        for (int r = 0; r < p; r++) {
            const void *at = mrail_coll_at(sbuf, (size_t)displs[r], sext);
            if (r != me) {
                mrail_coll_send(s, at, (size_t)scounts[r], stype, r);
            } else if (rbuf != MPI_IN_PLACE) {
                mrail_coll_copy(s, at, (size_t)scounts[r], stype, rbuf, rcount, rtype);
            }
        }
    } else {
        mrail_coll_recv(s, rbuf, rcount, rtype, root);
    }
    mrail_coll_round(s);
}

static bool power_of_two(int p)
{
    return (p & (p - 1)) == 0;
}

void coll_tuned_allgather(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                          MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype)
{
    int me = coll_rank(comm), p = coll_size(comm);
    MPI_Aint ext = coll_extent(rtype);
    if (sbuf != MPI_IN_PLACE) {
        mrail_coll_copy(s, sbuf, scount, stype, mrail_coll_at(rbuf, (size_t)me * rcount, ext),
                        rcount, rtype);
    }
    if (p == 1) {
        return;
    }
    size_t total = (size_t)p * rcount * type_size(rtype);
    const char *a = coll_tuned_forced(COLL_ALLGATHER);
    if (a == NULL) {
        a = total >= 65536 ? "ring" : power_of_two(p) ? "recursive_doubling" : "bruck";
    }
    if (coll_is(a, "recursive_doubling") && !power_of_two(p)) {
        a = "bruck";
    }
    if (coll_is(a, "linear")) {
        /* Everything to rank 0, then a binomial broadcast of the lot. */
        if (me == 0) {
            for (int r = 1; r < p; r++) {
                mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)r * rcount, ext), rcount, rtype, r);
            }
        } else {
            mrail_coll_send(s, mrail_coll_at(rbuf, (size_t)me * rcount, ext), rcount, rtype, 0);
        }
        mrail_coll_round(s);
        int mask = 1;
        while (mask < p && !(me & mask)) {
            mask <<= 1;
        }
        if (me != 0) {
            mrail_coll_recv(s, rbuf, (size_t)p * rcount, rtype, me - mask);
            mrail_coll_round(s);
        }
        for (mask >>= 1; mask > 0; mask >>= 1) {
            if (me + mask < p) {
                mrail_coll_send(s, rbuf, (size_t)p * rcount, rtype, me + mask);
            }
        }
        mrail_coll_round(s);
    } else if (coll_is(a, "recursive_doubling")) {
        for (int mask = 1; mask < p; mask <<= 1) {
            int dst = me ^ mask;
            size_t mine = (size_t)(me & ~(mask - 1)), theirs = (size_t)(dst & ~(mask - 1));
            mrail_coll_send(s, mrail_coll_at(rbuf, mine * rcount, ext), (size_t)mask * rcount,
                            rtype, dst);
            mrail_coll_recv(s, mrail_coll_at(rbuf, theirs * rcount, ext), (size_t)mask * rcount,
                            rtype, dst);
            mrail_coll_round(s);
        }
    } else if (coll_is(a, "bruck")) {
        /* tmp[i] = block of rank (me + i) mod p; doubling shifts, then rotate. */
        void *tmp = mrail_coll_tmp(s, (size_t)p * rcount, rtype);
        if (tmp == NULL) {
            return;
        }
        mrail_coll_copy(s, mrail_coll_at(rbuf, (size_t)me * rcount, ext), rcount, rtype, tmp,
                        rcount, rtype);
        for (int k = 1; k < p; k <<= 1) {
            int n = k < p - k ? k : p - k;
            mrail_coll_send(s, tmp, (size_t)n * rcount, rtype, (me - k + p) % p);
            mrail_coll_recv(s, mrail_coll_at(tmp, (size_t)k * rcount, ext), (size_t)n * rcount,
                            rtype, (me + k) % p);
            mrail_coll_round(s);
        }
        for (int i = 1; i < p; i++) {
            mrail_coll_copy(s, mrail_coll_at(tmp, (size_t)i * rcount, ext), rcount, rtype,
                            mrail_coll_at(rbuf, (size_t)((me + i) % p) * rcount, ext), rcount,
                            rtype);
        }
    } else { /* ring */
        int right = (me + 1) % p, left = (me - 1 + p) % p;
        for (int k = 0; k < p - 1; k++) {
            size_t sb = (size_t)((me - k + p) % p), rb = (size_t)((me - k - 1 + p) % p);
            mrail_coll_send(s, mrail_coll_at(rbuf, sb * rcount, ext), rcount, rtype, right);
            mrail_coll_recv(s, mrail_coll_at(rbuf, rb * rcount, ext), rcount, rtype, left);
            mrail_coll_round(s);
        }
    }
}

void coll_tuned_allgatherv(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                           MPI_Datatype stype, void *rbuf, const int *rcounts, const int *displs,
                           MPI_Datatype rtype)
{
    int me = coll_rank(comm), p = coll_size(comm);
    MPI_Aint ext = coll_extent(rtype);
    if (sbuf != MPI_IN_PLACE) {
        mrail_coll_copy(s, sbuf, scount, stype, mrail_coll_at(rbuf, (size_t)displs[me], ext),
                        (size_t)rcounts[me], rtype);
    }
    /* Ring: block me - k moves right at step k. */
    int right = (me + 1) % p, left = (me - 1 + p) % p;
    for (int k = 0; k < p - 1; k++) {
        int sb = (me - k + p) % p, rb = (me - k - 1 + p) % p;
        mrail_coll_send(s, mrail_coll_at(rbuf, (size_t)displs[sb], ext), (size_t)rcounts[sb], rtype,
                        right);
        mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)displs[rb], ext), (size_t)rcounts[rb], rtype,
                        left);
        mrail_coll_round(s);
    }
}
