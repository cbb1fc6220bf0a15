/* All-to-all algorithms. */
#include <string.h>

#include "coll_tuned.h"

static size_t type_size(MPI_Datatype t)
{
    return mpi_type_size(t);
}

/* Bruck: log p rounds of packed blocks, for small blocks on many ranks.
 * tmp[i] holds what goes to (or, at the end, came from) rank me +/- i. */
static void alltoall_bruck(mrail_coll_sched_t *s, int me, int p, const void *sbuf, size_t scount,
                           MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype)
{
    size_t blk = scount * type_size(stype);
    MPI_Aint sext = coll_extent(stype), rext = coll_extent(rtype);
    char *tmp = mrail_coll_tmp(s, (size_t)p * blk, MPI_BYTE);
    char *out = mrail_coll_tmp(s, (size_t)p * blk, MPI_BYTE);
    char *in = mrail_coll_tmp(s, (size_t)p * blk, MPI_BYTE);
    if (tmp == NULL || out == NULL || in == NULL) {
        return;
    }
    for (int i = 0; i < p; i++) {
        mrail_coll_copy(s, mrail_coll_at(sbuf, (size_t)((me + i) % p) * scount, sext), scount,
                        stype, tmp + (size_t)i * blk, blk, MPI_BYTE);
    }
    for (int k = 1; k < p; k <<= 1) {
        size_t n = 0;
        for (int i = 0; i < p; i++) {
            if (i & k) {
                mrail_coll_copy(s, tmp + (size_t)i * blk, blk, MPI_BYTE, out + n * blk, blk,
                                MPI_BYTE);
                n++;
            }
        }
        mrail_coll_send(s, out, n * blk, MPI_BYTE, (me + k) % p);
        mrail_coll_recv(s, in, n * blk, MPI_BYTE, (me - k + p) % p);
        mrail_coll_round(s);
        n = 0;
        for (int i = 0; i < p; i++) {
            if (i & k) {
                mrail_coll_copy(s, in + n * blk, blk, MPI_BYTE, tmp + (size_t)i * blk, blk,
                                MPI_BYTE);
                n++;
            }
        }
    }
    for (int i = 0; i < p; i++) {
        mrail_coll_copy(s, tmp + (size_t)i * blk, blk, MPI_BYTE,
                        mrail_coll_at(rbuf, (size_t)((me - i + p) % p) * rcount, rext), rcount,
                        rtype);
    }
}

void coll_tuned_alltoall(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, size_t scount,
                         MPI_Datatype stype, void *rbuf, size_t rcount, MPI_Datatype rtype)
{
    int me = coll_rank(comm), p = coll_size(comm);
    MPI_Aint rext = coll_extent(rtype);
    if (sbuf == MPI_IN_PLACE) { /* send from a copy of rbuf */
        void *copy = mrail_coll_tmp(s, (size_t)p * rcount, rtype);
        if (copy == NULL) {
            return;
        }
        mrail_coll_copy(s, rbuf, (size_t)p * rcount, rtype, copy, (size_t)p * rcount, rtype);
        sbuf = copy, scount = rcount, stype = rtype;
    }
    MPI_Aint sext = coll_extent(stype);
    const char *a = coll_tuned_forced(COLL_ALLTOALL);
    size_t blk = scount * type_size(stype);
    if (a == NULL) {
        a = p >= 8 && blk < 256 ? "bruck" : p <= 4 ? "linear" : "pairwise";
    }
    if (coll_is(a, "bruck") && p > 1) {
        alltoall_bruck(s, me, p, sbuf, scount, stype, rbuf, rcount, rtype);
        return;
    }
    mrail_coll_copy(s, mrail_coll_at(sbuf, (size_t)me * scount, sext), scount, stype,
                    mrail_coll_at(rbuf, (size_t)me * rcount, rext), rcount, rtype);
    if (coll_is(a, "pairwise")) {
        for (int k = 1; k < p; k++) {
            int dst = (me + k) % p, src = (me - k + p) % p;
            mrail_coll_send(s, mrail_coll_at(sbuf, (size_t)dst * scount, sext), scount, stype, dst);
            mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)src * rcount, rext), rcount, rtype, src);
            mrail_coll_round(s);
        }
        return;
    }
    for (int k = 1; k < p; k++) { /* linear: everything at once, nearest peers first */
        int dst = (me + k) % p, src = (me - k + p) % p;
        mrail_coll_recv(s, mrail_coll_at(rbuf, (size_t)src * rcount, rext), rcount, rtype, src);
        mrail_coll_send(s, mrail_coll_at(sbuf, (size_t)dst * scount, sext), scount, stype, dst);
    }
    mrail_coll_round(s);
}

void coll_tuned_alltoallw(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf,
                          const int *scounts, const MPI_Aint *sdispls, const MPI_Datatype *stypes,
                          void *rbuf, const int *rcounts, const MPI_Aint *rdispls,
                          const MPI_Datatype *rtypes)
{
    int me = coll_rank(comm), p = coll_size(comm);
    if (sbuf == MPI_IN_PLACE) { /* send from a copy of what rbuf holds */
        MPI_Aint end = 0;
        for (int r = 0; r < p; r++) {
            MPI_Aint lb = mpi_type(rtypes[r])->lb, ext = mpi_type(rtypes[r])->extent;
            MPI_Aint e = rdispls[r] + lb + (MPI_Aint)rcounts[r] * ext;
            end = e > end ? e : end;
        }
        char *copy = mrail_coll_tmp(s, (size_t)end, MPI_BYTE);
        if (copy == NULL) {
            return;
        }
        mrail_coll_copy(s, rbuf, (size_t)end, MPI_BYTE, copy, (size_t)end, MPI_BYTE);
        sbuf = copy, scounts = rcounts, sdispls = rdispls, stypes = rtypes;
    }
    mrail_coll_copy(s, (const char *)sbuf + sdispls[me], (size_t)scounts[me], stypes[me],
                    (char *)rbuf + rdispls[me], (size_t)rcounts[me], rtypes[me]);
    for (int k = 1; k < p; k++) {
        int dst = (me + k) % p, src = (me - k + p) % p;
        mrail_coll_recv(s, (char *)rbuf + rdispls[src], (size_t)rcounts[src], rtypes[src], src);
        mrail_coll_send(s, (const char *)sbuf + sdispls[dst], (size_t)scounts[dst], stypes[dst],
                        dst);
    }
    mrail_coll_round(s);
}
