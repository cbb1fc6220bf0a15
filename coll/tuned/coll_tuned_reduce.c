/* Reduction algorithms: reduce, allreduce, reduce-scatter, scan. Every
 * combination keeps MPI's rank order (a0 op a1 op ...), so that
 * non-commutative operations come out right; algorithms that cannot keep
 * it (ring, Rabenseifner) are used for commutative operations only. */
#include <string.h>

#include "coll_tuned.h"

/* acc = acc op other, where acc covers lower ranks than other. Returns the
 * buffer that now holds the result (other's, to save a copy). */
static void *combine_low_high(mrail_coll_sched_t *s, void *acc, void *other, size_t count,
                              MPI_Datatype type, MPI_Op op)
{
    mrail_coll_op(s, acc, other, count, type, op); /* other = acc op other */
    return other;
}

/* Ordered binomial reduction of acc (this rank's contribution, a scratch
 * buffer) to virtual rank 0 over ranks v = (me - base) mod p: a node
 * combines its own range with its children's, lower ranks first. Returns
 * the buffer holding the subtree's result (on virtual rank 0: the total). */
static void *binomial_up(mrail_coll_sched_t *s, int me, int p, int base, void *acc, void *spare,
                         size_t count, MPI_Datatype type, MPI_Op op)
{
    int v = (me - base + p) % p;
    for (int mask = 1; mask < p; mask <<= 1) {
        if (v & mask) {
            mrail_coll_send(s, acc, count, type, (v - mask + base) % p);
            mrail_coll_round(s);
            return acc;
        }
        if (v + mask < p) {
            mrail_coll_recv(s, spare, count, type, (v + mask + base) % p);
            mrail_coll_round(s);
            void *result = combine_low_high(s, acc, spare, count, type, op);
            spare = acc;
            acc = result;
        }
    }
    return acc;
}

void coll_tuned_reduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                       size_t count, MPI_Datatype type, MPI_Op op, int root)
{
    int me = coll_rank(comm), p = coll_size(comm);
    if (p == 1) {
        mrail_coll_copy(s, sbuf, count, type, rbuf, count, type);
        return;
    }
    const char *a = coll_tuned_forced(COLL_REDUCE);
    if (coll_is(a, "linear")) {
        /* The root takes every contribution, then folds them right to left. */
        if (me != root) {
            mrail_coll_send(s, sbuf, count, type, root);
            mrail_coll_round(s);
            return;
        }
        void *acc = mrail_coll_tmp(s, count, type);
        void **in = mrail_coll_tmp(s, (size_t)p, MPI_AINT);
        if (acc == NULL || in == NULL) {
            return;
        }
        for (int r = 0; r < p; r++) {
            in[r] = r == me ? (void *)(uintptr_t)sbuf : mrail_coll_tmp(s, count, type);
            if (in[r] == NULL) {
                return;
            }
            if (r != me) {
                mrail_coll_recv(s, in[r], count, type, r);
            }
        }
        mrail_coll_round(s);
        mrail_coll_copy(s, in[p - 1], count, type, acc, count, type);
        for (int r = p - 2; r >= 0; r--) {
            mrail_coll_op(s, in[r], acc, count, type, op); /* acc = a_r op acc */
        }
        mrail_coll_copy(s, acc, count, type, rbuf, count, type);
        return;
    }
    /* Binomial; a non-commutative operation keeps rank order by reducing
     * to rank 0, which then hands the result to the root. */
    bool commute = mpi_op_commutes(op);
    int base = commute ? root : 0;
    void *acc = mrail_coll_tmp(s, count, type), *spare = mrail_coll_tmp(s, count, type);
    if (acc == NULL || spare == NULL) {
        return;
    }
    mrail_coll_copy(s, sbuf, count, type, acc, count, type);
    void *result = binomial_up(s, me, p, base, acc, spare, count, type, op);
    if (me == base && base == root) {
        mrail_coll_copy(s, result, count, type, rbuf, count, type);
    } else if (me == base) {
        mrail_coll_send(s, result, count, type, root);
        mrail_coll_round(s);
    } else if (me == root) {
        mrail_coll_recv(s, rbuf, count, type, base);
        mrail_coll_round(s);
    }
}

/* Non-power-of-two sizes: the first 2*rem ranks fold pairwise (the even
 * one hands its data to the odd one, which combines lower rank first) so
 * that p2 = 2^k ranks remain; returns this rank's place among them, or -1. */
static int fold_in(mrail_coll_sched_t *s, int me, int p, void *rbuf, void *tmp, size_t count,
                   MPI_Datatype type, MPI_Op op, int *p2_out, int *rem_out)
{
    int p2 = 1;
    while (p2 * 2 <= p) {
        p2 *= 2;
    }
    int rem = p - p2;
    *p2_out = p2, *rem_out = rem;
    if (me >= 2 * rem) {
        return me - rem;
    }
    if (me % 2 == 0) {
        mrail_coll_send(s, rbuf, count, type, me + 1);
        mrail_coll_round(s);
        return -1;
    }
    mrail_coll_recv(s, tmp, count, type, me - 1);
    mrail_coll_round(s);
    mrail_coll_op(s, tmp, rbuf, count, type, op);
    return me / 2;
}

/* The folded-out even ranks get the result back. */
static void fold_out(mrail_coll_sched_t *s, int me, int rem, void *rbuf, size_t count,
                     MPI_Datatype type)
{
    if (me < 2 * rem) {
        if (me % 2 == 1) {
            mrail_coll_send(s, rbuf, count, type, me - 1);
        } else {
            mrail_coll_recv(s, rbuf, count, type, me + 1);
        }
        mrail_coll_round(s);
    }
}

/* Recursive doubling over the largest power of two; the first 2*rem ranks
 * fold pairwise first (the even one hands its data to the odd one) and get
 * the result back at the end. Rank order is kept at every step. */
static void allreduce_rd(mrail_coll_sched_t *s, int me, int p, void *rbuf, size_t count,
                         MPI_Datatype type, MPI_Op op)
{
    int p2, rem;
    void *tmp = mrail_coll_tmp(s, count, type);
    if (tmp == NULL) {
        return;
    }
    int newrank = fold_in(s, me, p, rbuf, tmp, count, type, op, &p2, &rem);
    if (newrank >= 0) {
        for (int mask = 1; mask < p2; mask <<= 1) {
            int nd = newrank ^ mask, dst = nd < rem ? nd * 2 + 1 : nd + rem;
            mrail_coll_send(s, rbuf, count, type, dst);
            mrail_coll_recv(s, tmp, count, type, dst);
            mrail_coll_round(s);
            if (nd < newrank) {
                mrail_coll_op(s, tmp, rbuf, count, type, op);
            } else {
                mrail_coll_op(s, rbuf, tmp, count, type, op);
                mrail_coll_copy(s, tmp, count, type, rbuf, count, type);
            }
        }
    }
    fold_out(s, me, rem, rbuf, count, type);
}

/* Rabenseifner: fold to a power of two, reduce-scatter by recursive
 * halving, allgather by recursive doubling (commutative operations). */
static void allreduce_rabenseifner(mrail_coll_sched_t *s, int me, int p, void *rbuf, size_t count,
                                   MPI_Datatype type, MPI_Op op)
{
    MPI_Aint ext = coll_extent(type);
    int p2, rem;
    void *tmp = mrail_coll_tmp(s, count, type);
    if (tmp == NULL) {
        return;
    }
    int newrank = fold_in(s, me, p, rbuf, tmp, count, type, op, &p2, &rem);
    if (newrank >= 0) {
        size_t *off, *cnt = coll_blocks(s, count, p2, &off);
        if (cnt == NULL) {
            return;
        }
        int lo = 0, hi = p2;
        for (int mask = p2 >> 1; mask > 0; mask >>= 1) {
            int nd = newrank ^ mask, dst = nd < rem ? nd * 2 + 1 : nd + rem, mid = (lo + hi) / 2;
            int klo = newrank & mask ? mid : lo, khi = newrank & mask ? hi : mid;
            int slo = newrank & mask ? lo : mid, shi = newrank & mask ? mid : hi;
            size_t kn = off[khi - 1] + cnt[khi - 1] - off[klo];
            size_t sn = off[shi - 1] + cnt[shi - 1] - off[slo];
            mrail_coll_send(s, mrail_coll_at(rbuf, off[slo], ext), sn, type, dst);
            mrail_coll_recv(s, mrail_coll_at(tmp, off[klo], ext), kn, type, dst);
            mrail_coll_round(s);
            mrail_coll_op(s, mrail_coll_at(tmp, off[klo], ext), mrail_coll_at(rbuf, off[klo], ext),
                          kn, type, op);
            lo = klo, hi = khi;
        }
        for (int mask = 1; mask < p2; mask <<= 1) {
            int nd = newrank ^ mask, dst = nd < rem ? nd * 2 + 1 : nd + rem;
            int plo = newrank & mask ? lo - mask : hi, phi = plo + mask;
            size_t mn = off[hi - 1] + cnt[hi - 1] - off[lo];
            size_t pn = off[phi - 1] + cnt[phi - 1] - off[plo];
            mrail_coll_send(s, mrail_coll_at(rbuf, off[lo], ext), mn, type, dst);
            mrail_coll_recv(s, mrail_coll_at(rbuf, off[plo], ext), pn, type, dst);
            mrail_coll_round(s);
            lo = lo < plo ? lo : plo;
            hi = hi > phi ? hi : phi;
        }
    }
    fold_out(s, me, rem, rbuf, count, type);
}

/* Ring reduce-scatter whose rank r ends with block (r + shift) reduced;
 * blocks given by cnt/off. */
static void ring_reduce_scatter(mrail_coll_sched_t *s, int me, int p, void *buf, void *tmp,
                                const size_t *cnt, const size_t *off, MPI_Datatype type, MPI_Op op,
                                int shift)
{
    MPI_Aint ext = coll_extent(type);
    int right = (me + 1) % p, left = (me - 1 + p) % p;
    for (int k = 0; k < p - 1; k++) {
        int sb = ((me - k - 1 + shift) % p + p) % p, rb = ((me - k - 2 + shift) % p + p) % p;
        mrail_coll_send(s, mrail_coll_at(buf, off[sb], ext), cnt[sb], type, right);
        mrail_coll_recv(s, mrail_coll_at(tmp, off[rb], ext), cnt[rb], type, left);
        mrail_coll_round(s);
        mrail_coll_op(s, mrail_coll_at(tmp, off[rb], ext), mrail_coll_at(buf, off[rb], ext),
                      cnt[rb], type, op);
    }
}

static void allreduce_ring(mrail_coll_sched_t *s, int me, int p, void *rbuf, size_t count,
                           MPI_Datatype type, MPI_Op op)
{
    MPI_Aint ext = coll_extent(type);
    size_t *off, *cnt = coll_blocks(s, count, p, &off);
    void *tmp = mrail_coll_tmp(s, count, type);
    if (tmp == NULL || cnt == NULL) {
        return;
    }
    ring_reduce_scatter(s, me, p, rbuf, tmp, cnt, off, type, op, 0); /* rank r has block r */
    int right = (me + 1) % p, left = (me - 1 + p) % p;
    for (int k = 0; k < p - 1; k++) {
        int sb = (me - k + p) % p, rb = (me - k - 1 + p) % p;
        mrail_coll_send(s, mrail_coll_at(rbuf, off[sb], ext), cnt[sb], type, right);
        mrail_coll_recv(s, mrail_coll_at(rbuf, off[rb], ext), cnt[rb], type, left);
        mrail_coll_round(s);
    }
}

void coll_tuned_allreduce(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                          size_t count, MPI_Datatype type, MPI_Op op)
{
    int me = coll_rank(comm), p = coll_size(comm), size;
    mrail_coll_copy(s, sbuf, count, type, rbuf, count, type);
    if (p == 1) {
        return;
    }
    size = (int)mpi_type_size(type);
    size_t bytes = count * (size_t)size;
    bool commute = mpi_op_commutes(op);
    const char *a = coll_tuned_forced(COLL_ALLREDUCE);
    if (a == NULL) {
        a = bytes < 8192 || !commute ? "recursive_doubling"
            : bytes < (1u << 20)     ? "rabenseifner"
                                     : "ring";
    }
    if (!commute && (coll_is(a, "rabenseifner") || coll_is(a, "ring"))) {
        a = "recursive_doubling"; /* they combine out of rank order */
    }
    if (coll_is(a, "reduce_bcast")) {
        void *acc = mrail_coll_tmp(s, count, type), *spare = mrail_coll_tmp(s, count, type);
        if (acc == NULL || spare == NULL) {
            return;
        }
        mrail_coll_copy(s, rbuf, count, type, acc, count, type);
        void *result = binomial_up(s, me, p, 0, acc, spare, count, type, op);
        if (me == 0) {
            mrail_coll_copy(s, result, count, type, rbuf, count, type);
        }
        mrail_coll_round(s);
        /* Binomial broadcast from 0, whatever bcast's own setting. */
        int mask = 1;
        while (mask < p && !(me & mask)) {
            mask <<= 1;
        }
        if (me != 0) {
            mrail_coll_recv(s, rbuf, count, type, me - mask);
            mrail_coll_round(s);
        }
        for (mask >>= 1; mask > 0; mask >>= 1) {
            if (me + mask < p) {
                mrail_coll_send(s, rbuf, count, type, me + mask);
            }
        }
        mrail_coll_round(s);
    } else if (coll_is(a, "rabenseifner")) {
        allreduce_rabenseifner(s, me, p, rbuf, count, type, op);
    } else if (coll_is(a, "ring")) {
        allreduce_ring(s, me, p, rbuf, count, type, op);
    } else {
        allreduce_rd(s, me, p, rbuf, count, type, op);
    }
}

void coll_tuned_reduce_scatter(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                               const int *rcounts, MPI_Datatype type, MPI_Op op)
{
    int me = coll_rank(comm), p = coll_size(comm);
    MPI_Aint ext = coll_extent(type);
    size_t *off, *cnt = coll_blocks(s, 0, p, &off), total = 0;
    if (cnt == NULL) {
        return;
    }
    for (int i = 0; i < p; i++) {
        cnt[i] = (size_t)rcounts[i];
        off[i] = total;
        total += cnt[i];
    }
    void *all = mrail_coll_tmp(s, total, type);
    if (all == NULL) {
        return;
    }
    mrail_coll_copy(s, sbuf, total, type, all, total, type);
    const char *a = coll_tuned_forced(COLL_REDUCE_SCATTER);
    bool ring = p > 1 && mpi_op_commutes(op) && (a == NULL || coll_is(a, "ring"));
    if (ring) {
        void *tmp = mrail_coll_tmp(s, total, type);
        if (tmp == NULL) {
            return;
        }
        ring_reduce_scatter(s, me, p, all, tmp, cnt, off, type, op, 0); /* rank r: block r */
        mrail_coll_copy(s, mrail_coll_at(all, off[me], ext), cnt[me], type, rbuf, cnt[me], type);
        return;
    }
    /* Reduce everything to rank 0 (rank order kept), then scatter the blocks. */
    void *spare = mrail_coll_tmp(s, total, type);
    if (spare == NULL) {
        return;
    }
    void *result = p > 1 ? binomial_up(s, me, p, 0, all, spare, total, type, op) : all;
    if (me == 0) {
        for (int r = 1; r < p; r++) {
            mrail_coll_send(s, mrail_coll_at(result, off[r], ext), cnt[r], type, r);
        }
        mrail_coll_copy(s, mrail_coll_at(result, off[0], ext), cnt[0], type, rbuf, cnt[0], type);
    } else {
        mrail_coll_recv(s, rbuf, cnt[me], type, 0);
    }
    mrail_coll_round(s);
}

void coll_tuned_scan(mrail_coll_sched_t *s, MPI_Comm comm, const void *sbuf, void *rbuf,
                     size_t count, MPI_Datatype type, MPI_Op op, bool exclusive)
{
    int me = coll_rank(comm), p = coll_size(comm);
    void *mine = mrail_coll_tmp(s, count, type);
    if (mine == NULL) {
        return;
    }
    mrail_coll_copy(s, sbuf, count, type, mine, count, type); /* sbuf may be rbuf */
    const char *a = coll_tuned_forced(COLL_SCAN);
    if (a == NULL) {
        a = p >= 8 ? "recursive_doubling" : "linear";
    }
    if (coll_is(a, "linear")) {
        /* A chain: rank r gets a0..a(r-1) from r-1 and passes a0..ar on. */
        void *partial = mrail_coll_tmp(s, count, type);
        if (partial == NULL) {
            return;
        }
        if (me > 0) {
            mrail_coll_recv(s, partial, count, type, me - 1);
            mrail_coll_round(s);
        }
        if (exclusive && me > 0) {
            mrail_coll_copy(s, partial, count, type, rbuf, count, type);
        }
        if (me > 0) {
            mrail_coll_op(s, partial, mine, count, type, op); /* mine = a0..ar */
        }
        if (!exclusive) {
            mrail_coll_copy(s, mine, count, type, rbuf, count, type);
        }
        if (me < p - 1) {
            mrail_coll_send(s, mine, count, type, me + 1);
            mrail_coll_round(s);
        }
        return;
    }
    /* Recursive doubling: partial covers a growing block of ranks around
     * me; lower partners' partials are prepended to the result. */
    void *partial = mine, *tmp = mrail_coll_tmp(s, count, type),
         *spare = mrail_coll_tmp(s, count, type);
    if (tmp == NULL || spare == NULL) {
        return;
    }
    if (!exclusive) {
        mrail_coll_copy(s, mine, count, type, rbuf, count, type);
    }
    bool have = !exclusive;
    for (int mask = 1; mask < p; mask <<= 1) {
        int dst = me ^ mask;
        if (dst >= p) {
            continue;
        }
        mrail_coll_send(s, partial, count, type, dst);
        mrail_coll_recv(s, tmp, count, type, dst);
        mrail_coll_round(s);
        if (dst < me) {
            if (have) {
                mrail_coll_op(s, tmp, rbuf, count, type, op); /* rbuf = lower op rbuf */
            } else {
                mrail_coll_copy(s, tmp, count, type, rbuf, count, type);
                have = true;
            }
            mrail_coll_op(s, tmp, partial, count, type, op); /* partial = lower op partial */
        } else {
            mrail_coll_op(s, partial, tmp, count, type, op); /* tmp = partial op higher */
            mrail_coll_copy(s, tmp, count, type, partial, count, type);
        }
        mrail_coll_round(s);
    }
    (void)spare;
}
