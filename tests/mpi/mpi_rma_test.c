#define _POSIX_C_SOURCE 200809L
/* One-sided communication at any number of ranks: every window flavour,
 * every synchronisation mode, every operation and request form, derived
 * datatypes on both sides, and the errors MPI names. Every expected value
 * is computed here from the ranks, never read back from mrail.
 * --wait-report: also a passive target that computes for a second
 * without MPI calls; prints how long its origin waited. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_check.h"

#define N 1000

static int right(void)
{
    return (rank + 1) % size;
}

static int left(void)
{
    return (rank + size - 1) % size;
}

/* The value rank r puts at index i. */
static int64_t pattern(int r, long i)
{
    return (int64_t)r * 1000003 + i * 7 + 1;
}

/* Fence: puts to the right, gets from the left, small and large (4 MiB:
 * what follows the request is striped like any message). */
static void fence_put_get(void)
{
    for (long n = N; n <= 512 * 1024; n *= 512) {
        int64_t *mem = calloc((size_t)n, sizeof(*mem));
        int64_t *src = malloc((size_t)n * sizeof(*src));
        int64_t *got = calloc((size_t)n, sizeof(*got));
        for (long i = 0; i < n; i++) {
            src[i] = pattern(rank, i);
        }
        MPI_Win win;
        CHECK(MPI_Win_create(mem, n * (MPI_Aint)sizeof(*mem), sizeof(*mem), MPI_INFO_NULL,
                             MPI_COMM_WORLD, &win) == MPI_SUCCESS,
              "Win_create");
        MPI_Win_fence(MPI_MODE_NOPRECEDE, win);
        MPI_Put(src, (int)n, MPI_INT64_T, right(), 0, (int)n, MPI_INT64_T, win);
        MPI_Win_fence(0, win);
        for (long i = 0; i < n; i++) {
            CHECK(mem[i] == pattern(left(), i), "put n=%ld: mem[%ld] = %lld, expected %lld", n, i,
                  (long long)mem[i], (long long)pattern(left(), i));
        }
        MPI_Get(got, (int)n, MPI_INT64_T, left(), 0, (int)n, MPI_INT64_T, win);
        MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
        /* left's memory holds what left's left put there */
        int ll = (left() + size - 1) % size;
        for (long i = 0; i < n; i++) {
            CHECK(got[i] == pattern(ll, i), "get n=%ld: got[%ld] = %lld, expected %lld", n, i,
                  (long long)got[i], (long long)pattern(ll, i));
        }
        MPI_Win_free(&win);
        CHECK(win == MPI_WIN_NULL, "Win_free sets MPI_WIN_NULL");
        free(mem);
        free(src);
        free(got);
    }
}

/* Derived types on both sides: a strided origin into an indexed target,
 * with more pieces than a request holds (they follow it). */
static void fence_derived(void)
{
    const int blocks = 6000;
    int *mem = calloc((size_t)blocks * 3, sizeof(int));
    int *src = malloc((size_t)blocks * 2 * sizeof(int));
    for (int i = 0; i < blocks * 2; i++) {
        src[i] = rank * 100000 + i;
    }
    MPI_Datatype vec, idx;
    MPI_Type_vector(blocks, 1, 2, MPI_INT, &vec); /* every other int of src */
    int *lens = malloc((size_t)blocks * sizeof(int)),
        *displs = malloc((size_t)blocks * sizeof(int));
    for (int b = 0; b < blocks; b++) {
        lens[b] = 1;
        displs[b] = 3 * (blocks - 1 - b); /* every third int of the window, backwards */
    }
    MPI_Type_indexed(blocks, lens, displs, MPI_INT, &idx);
    MPI_Type_commit(&vec);
    MPI_Type_commit(&idx);
    MPI_Win win;
    MPI_Win_create(mem, (MPI_Aint)blocks * 3 * sizeof(int), sizeof(int), MPI_INFO_NULL,
                   MPI_COMM_WORLD, &win);
    MPI_Win_fence(0, win);
    MPI_Put(src, 1, vec, right(), 0, 1, idx, win);
    MPI_Win_fence(0, win);
    for (int b = 0; b < blocks; b++) {
        int expect = left() * 100000 + 2 * b;
        CHECK(mem[3 * (blocks - 1 - b)] == expect, "derived put block %d: %d, expected %d", b,
              mem[3 * (blocks - 1 - b)], expect);
        CHECK(mem[3 * b + 1] == 0 && mem[3 * b + 2] == 0, "derived put wrote a gap at %d", b);
    }
    int *back = calloc((size_t)blocks * 2, sizeof(int));
    MPI_Get(back, 1, vec, right(), 0, 1, idx, win);
    MPI_Win_fence(0, win);
    for (int b = 0; b < blocks; b++) { /* right's window holds what we put */
        CHECK(back[2 * b] == rank * 100000 + 2 * b, "derived get block %d: %d", b, back[2 * b]);
        CHECK(back[2 * b + 1] == 0, "derived get wrote a gap at %d", b);
    }
    MPI_Win_free(&win);
    MPI_Type_free(&vec);
    MPI_Type_free(&idx);
    free(lens);
    free(displs);
    free(mem);
    free(src);
    free(back);
}

/* Accumulates from every rank into rank 0 with every kind of operation;
 * a large one is cut into requests. */
static void accumulate_ops(void)
{
    enum { M = 300000 }; /* ints: larger than a request */
    int *mem = NULL;
    MPI_Win win;
    MPI_Win_allocate((MPI_Aint)(M + 16) * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &mem, &win);
    for (int i = 0; i < M + 16; i++) {
        mem[i] = rank == 0 ? 1 : 0;
    }
    int *src = malloc(M * sizeof(int));
    for (int i = 0; i < M; i++) {
        src[i] = rank + i % 5;
    }
    MPI_Win_fence(0, win);
    MPI_Accumulate(src, M, MPI_INT, 0, 16, M, MPI_INT, MPI_SUM, win);
    int one = rank + 2;
    MPI_Accumulate(&one, 1, MPI_INT, 0, 0, 1, MPI_INT, MPI_MAX, win);
    MPI_Accumulate(&one, 1, MPI_INT, 0, 1, 1, MPI_INT, MPI_MIN, win);
    int factor = rank < 20 ? 2 : 1; /* the product stays an int at any size */
    MPI_Accumulate(&factor, 1, MPI_INT, 0, 2, 1, MPI_INT, MPI_PROD, win);
    int bit = 1 << (rank % 31);
    MPI_Accumulate(&bit, 1, MPI_INT, 0, 3, 1, MPI_INT, MPI_BOR, win);
    MPI_Accumulate(&bit, 1, MPI_INT, 0, 4, 1, MPI_INT, MPI_BXOR, win);
    int t = 1;
    MPI_Accumulate(&t, 1, MPI_INT, 0, 5, 1, MPI_INT, MPI_LAND, win);
    MPI_Accumulate(&t, 1, MPI_INT, 0, 6, 1, MPI_INT, MPI_LXOR, win);
    MPI_Win_fence(0, win);
    if (rank == 0) {
        for (int i = 0; i < M; i++) {
            long expect = 1; /* the initial value */
            for (int r = 0; r < size; r++) {
                expect += r + i % 5;
            }
            CHECK(mem[16 + i] == expect, "SUM [%d] = %d, expected %ld", i, mem[16 + i], expect);
        }
        long prod = 1;
        int bor = 1, bxor = 1;
        for (int r = 0; r < size; r++) {
            prod *= r < 20 ? 2 : 1;
            bor |= 1 << (r % 31);
            bxor ^= 1 << (r % 31);
        }
        CHECK(mem[0] == size + 1, "MAX %d, expected %d", mem[0], size + 1);
        CHECK(mem[1] == 1, "MIN %d, expected 1", mem[1]);
        CHECK(mem[2] == prod, "PROD %d, expected %ld", mem[2], prod);
        CHECK(mem[3] == bor, "BOR %#x, expected %#x", mem[3], bor);
        CHECK(mem[4] == bxor, "BXOR %#x, expected %#x", mem[4], bxor);
        CHECK(mem[5] == 1, "LAND %d", mem[5]);
        CHECK(mem[6] == ((size % 2) ^ 1), "LXOR %d, expected %d", mem[6], (size % 2) ^ 1);
    }
    /* MAXLOC on pairs, REPLACE, then what is there fetched with NO_OP. */
    MPI_Win_fence(0, win);
    struct {
        int v, loc;
    } pair = {100 - (rank - 1) * (rank - 1), rank}; /* largest at rank 1 (or 0 alone) */
    MPI_Accumulate(&pair, 1, MPI_2INT, 0, 8, 1, MPI_2INT, MPI_MAXLOC, win);
    int mine = 1000 + rank;
    if (rank == size - 1) {
        MPI_Accumulate(&mine, 1, MPI_INT, 0, 10, 1, MPI_INT, MPI_REPLACE, win);
    }
    MPI_Win_fence(0, win);
    int seen[3];
    MPI_Get_accumulate(NULL, 0, MPI_INT, seen, 3, MPI_INT, 0, 8, 3, MPI_INT, MPI_NO_OP, win);
    MPI_Win_fence(0, win);
    int best = size > 1 ? 1 : 0;
    CHECK(seen[0] == 100 - (best - 1) * (best - 1) && seen[1] == best,
          "MAXLOC (%d, %d), expected (%d, %d)", seen[0], seen[1], 100 - (best - 1) * (best - 1),
          best);
    CHECK(seen[2] == 1000 + size - 1, "REPLACE %d, expected %d", seen[2], 1000 + size - 1);
    MPI_Win_free(&win);
    free(src);
}

/* Atomicity: a shared counter every rank fetches-and-adds many times; the
 * values seen are each number below the total exactly once. Then
 * compare-and-swap: one rank wins the slot. */
static void atomics(void)
{
    enum { K = 200 };
    int64_t *mem;
    MPI_Win win;
    MPI_Win_allocate(2 * sizeof(int64_t), sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &mem,
                     &win);
    mem[0] = 0;
    mem[1] = -1;
    MPI_Barrier(MPI_COMM_WORLD);
    int64_t *seen = malloc(K * sizeof(int64_t)), inc = 1;
    MPI_Win_lock_all(0, win);
    for (int k = 0; k < K; k++) {
        MPI_Fetch_and_op(&inc, &seen[k], MPI_INT64_T, 0, 0, MPI_SUM, win);
        MPI_Win_flush(0, win);
    }
    int64_t me = rank, cmp = -1, old = -2;
    MPI_Compare_and_swap(&me, &cmp, &old, MPI_INT64_T, 0, 1, win);
    MPI_Win_unlock_all(win);
    int64_t *all = malloc((size_t)size * K * sizeof(int64_t));
    MPI_Allgather(seen, K, MPI_INT64_T, all, K, MPI_INT64_T, MPI_COMM_WORLD);
    char *hit = calloc((size_t)size * K, 1);
    for (long i = 0; i < (long)size * K; i++) {
        CHECK(all[i] >= 0 && all[i] < (int64_t)size * K && !hit[all[i]],
              "fetch_and_op value %lld twice or out of range", (long long)all[i]);
        hit[all[i]] = 1;
    }
    int64_t olds[64] = {0};
    MPI_Allgather(&old, 1, MPI_INT64_T, olds, 1, MPI_INT64_T, MPI_COMM_WORLD);
    int winners = 0, winner = -1;
    for (int r = 0; r < size; r++) {
        winners += olds[r] == -1;
        winner = olds[r] == -1 ? r : winner;
    }
    CHECK(winners == 1, "%d ranks won the compare-and-swap", winners);
    for (int r = 0; r < size; r++) {
        CHECK(olds[r] == -1 || olds[r] == winner, "rank %d saw %lld, the winner was %d", r,
              (long long)olds[r], winner);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        CHECK(mem[0] == (int64_t)size * K, "counter %lld, expected %d", (long long)mem[0],
              size * K);
        CHECK(mem[1] == winner, "slot %lld, expected the winner %d", (long long)mem[1], winner);
    }
    MPI_Win_free(&win);
    free(seen);
    free(all);
    free(hit);
}

/* Exclusive locks serialise a read-modify-write made of a get and a put. */
static void exclusive_lock(void)
{
    enum { ROUNDS = 20 };
    int *mem;
    MPI_Win win;
    MPI_Win_allocate(sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    *mem = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    for (int k = 0; k < ROUNDS; k++) {
        int v = -1;
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
        MPI_Get(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, win);
        MPI_Win_flush(0, win);
        v++;
        MPI_Put(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, win);
        MPI_Win_unlock(0, win);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int total = -1;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
    MPI_Get(&total, 1, MPI_INT, 0, 0, 1, MPI_INT, win);
    MPI_Win_unlock(0, win);
    CHECK(total == ROUNDS * size, "exclusive counter %d, expected %d", total, ROUNDS * size);
    MPI_Win_free(&win);
}

/* Post/start/complete/wait on a ring: each rank exposes its window to its
 * left neighbour and accesses its right one; MPI_Win_test ends one. */
static void pscw(void)
{
    int mem[4] = {0}, val[4];
    MPI_Win win;
    MPI_Win_create(mem, sizeof(mem), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Group world, from, to;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    int l = left(), r = right();
    MPI_Group_incl(world, 1, &l, &from);
    MPI_Group_incl(world, 1, &r, &to);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            val[i] = rank * 10 + i + round * 1000;
        }
        MPI_Win_post(from, 0, win);
        MPI_Win_start(to, 0, win);
        MPI_Put(val, 4, MPI_INT, r, 0, 4, MPI_INT, win);
        MPI_Win_complete(win);
        if (round == 2) {
            int flag = 0;
            while (!flag) {
                MPI_Win_test(win, &flag);
            }
        } else {
            MPI_Win_wait(win);
        }
        for (int i = 0; i < 4; i++) {
            CHECK(mem[i] == l * 10 + i + round * 1000, "pscw round %d: mem[%d] = %d", round, i,
                  mem[i]);
        }
    }
    MPI_Group_free(&from);
    MPI_Group_free(&to);
    MPI_Group_free(&world);
    MPI_Win_free(&win);
}

/* Shared memory: each rank's part seen by the others with loads. */
static void shared_window(void)
{
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nrank, nsize;
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    int64_t *mine;
    MPI_Win win;
    MPI_Aint bytes = (MPI_Aint)(nrank + 1) * 100 * sizeof(int64_t);
    CHECK(MPI_Win_allocate_shared(bytes, sizeof(int64_t), MPI_INFO_NULL, node, &mine, &win) ==
              MPI_SUCCESS,
          "Win_allocate_shared");
    MPI_Win_lock_all(0, win);
    for (int i = 0; i < (nrank + 1) * 100; i++) {
        mine[i] = pattern(nrank, i);
    }
    MPI_Win_sync(win);
    MPI_Barrier(node);
    MPI_Win_sync(win);
    for (int r = 0; r < nsize; r++) {
        MPI_Aint sz;
        int du;
        int64_t *theirs;
        MPI_Win_shared_query(win, r, &sz, &du, &theirs);
        CHECK(sz == (MPI_Aint)(r + 1) * 100 * (MPI_Aint)sizeof(int64_t) && du == 8,
              "shared_query %d: size %ld, disp unit %d", r, (long)sz, du);
        for (int i = 0; i < (r + 1) * 100; i++) {
            CHECK(theirs[i] == pattern(r, i), "shared load rank %d [%d]", r, i);
        }
    }
    /* And one-sided operations on it work as on any window. */
    int64_t got = 0;
    MPI_Get(&got, 1, MPI_INT64_T, (nrank + 1) % nsize, 5, 1, MPI_INT64_T, win);
    MPI_Win_unlock_all(win);
    CHECK(got == pattern((nrank + 1) % nsize, 5), "get on a shared window: %lld", (long long)got);
    MPI_Barrier(node);
    MPI_Win_free(&win);
    MPI_Comm_free(&node);
}

/* Byte i of what rank r puts from page offset o at displacement t. */
static unsigned char offset_byte(int r, long i, int o, int t)
{
    return (unsigned char)(r * 29 + (i % 253) * 5 + o * 3 + t + i / 253);
}

/* Puts and gets between a window from MPI_Win_allocate (page-aligned: one
 * shared segment on a node, where a put or get is a copy) and origin
 * buffers at any offset in their pages: memcpy crawls on some of these
 * pairs here and mrail copies them otherwise (mrail/copy.h). Every byte
 * is checked, and the bytes around the target's. */
static void allocated_window_any_offset(void)
{
    const long n = 200000, page = 4096, room = n + 2 * page;
    const int pairs[][2] = {{0, 0}, {1, 0}, {16, 0}, {31, 0}, {32, 0}, {0, 16}, {8, 24}, {40, 9}};
    unsigned char *mem, *src, *got;
    MPI_Win win;
    CHECK(MPI_Win_allocate(room, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win) == MPI_SUCCESS,
          "Win_allocate");
    CHECK(posix_memalign((void **)&src, (size_t)page, (size_t)room) == 0 &&
              posix_memalign((void **)&got, (size_t)page, (size_t)room) == 0,
          "posix_memalign");
    for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        int o = pairs[p][0], t = pairs[p][1];
        for (long i = 0; i < n; i++) {
            src[o + i] = offset_byte(rank, i, o, t);
        }
        memset(mem, 0x5a, (size_t)room);
        memset(got, 0x5a, (size_t)room);
        MPI_Win_fence(0, win);
        MPI_Put(src + o, (int)n, MPI_BYTE, right(), t, (int)n, MPI_BYTE, win);
        MPI_Win_fence(0, win);
        long bad = -1;
        for (long i = 0; i < room && bad < 0; i++) {
            bool in = i >= t && i < t + n;
            bad = mem[i] == (in ? offset_byte(left(), i - t, o, t) : 0x5a) ? -1 : i;
        }
        CHECK(bad < 0, "put from offset %d to displacement %d: window byte %ld is %u", o, t, bad,
              bad < 0 ? 0u : mem[bad]);
        MPI_Get(got + o, (int)n, MPI_BYTE, left(), t, (int)n, MPI_BYTE, win);
        MPI_Win_fence(0, win);
        /* left's window holds what left's left put there */
        int ll = (left() + size - 1) % size;
        for (long i = 0; i < room && bad < 0; i++) {
            bool in = i >= o && i < o + n;
            bad = got[i] == (in ? offset_byte(ll, i - o, o, t) : 0x5a) ? -1 : i;
        }
        CHECK(bad < 0, "get from displacement %d into offset %d: byte %ld is %u", t, o, bad,
              bad < 0 ? 0u : got[bad]);
    }
    MPI_Win_free(&win);
    free(src);
    free(got);
}

/* A dynamic window: memory attached after creation, addressed by address. */
static void dynamic_window(void)
{
    MPI_Win win;
    MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    int64_t *buf = calloc(64, sizeof(*buf));
    MPI_Win_attach(win, buf, 64 * sizeof(*buf));
    MPI_Aint mine, theirs;
    MPI_Get_address(buf, &mine);
    MPI_Sendrecv(&mine, 1, MPI_AINT, left(), 0, &theirs, 1, MPI_AINT, right(), 0, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    int64_t v[3] = {pattern(rank, 0), pattern(rank, 1), pattern(rank, 2)};
    MPI_Win_lock_all(0, win);
    MPI_Put(v, 3, MPI_INT64_T, right(), theirs + 8 * sizeof(int64_t), 3, MPI_INT64_T, win);
    MPI_Win_flush(right(), win);
    /* Outside the attached memory: dropped at the target, and said so. */
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    MPI_Put(v, 1, MPI_INT64_T, right(), theirs + 4096 * 1024, 1, MPI_INT64_T, win);
    int rc = MPI_Win_flush(right(), win);
    int cls;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_RANGE, "a put outside the attached memory gave %d", rc);
    MPI_Win_unlock_all(win);
    MPI_Barrier(MPI_COMM_WORLD);
    for (int i = 0; i < 3; i++) {
        CHECK(buf[8 + i] == pattern(left(), i), "dynamic put [%d] = %lld", i,
              (long long)buf[8 + i]);
    }
    rc = MPI_Win_fence(0, win); /* each target dropped one: its fence says so too */
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_RANGE, "the target's fence after a dropped put gave %d", rc);
    MPI_Win_detach(win, buf);
    MPI_Win_free(&win);
    free(buf);
}

/* Request forms, completed out of order. */
static void request_forms(void)
{
    enum { L = 100000 };
    int64_t *mem;
    MPI_Win win;
    MPI_Win_allocate(2 * L * sizeof(int64_t), sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &mem,
                     &win);
    for (long i = 0; i < 2 * L; i++) {
        mem[i] = pattern(rank, i);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int64_t *put = malloc(L * sizeof(int64_t)), *got = calloc(L, sizeof(int64_t));
    int64_t add = 5, before = -1;
    for (long i = 0; i < L; i++) {
        put[i] = -pattern(rank, i);
    }
    MPI_Request req[4];
    MPI_Win_lock_all(0, win);
    MPI_Rget(got, L, MPI_INT64_T, right(), 0, L, MPI_INT64_T, win, &req[0]);
    MPI_Rput(put, L, MPI_INT64_T, right(), L, L, MPI_INT64_T, win, &req[1]);
    MPI_Wait(&req[0], MPI_STATUS_IGNORE);
    MPI_Raccumulate(&add, 1, MPI_INT64_T, right(), 0, 1, MPI_INT64_T, MPI_SUM, win, &req[2]);
    MPI_Rget_accumulate(&add, 1, MPI_INT64_T, &before, 1, MPI_INT64_T, right(), 1, 1, MPI_INT64_T,
                        MPI_SUM, win, &req[3]);
    MPI_Waitall(3, &req[1], MPI_STATUSES_IGNORE);
    CHECK(before == pattern(right(), 1), "Rget_accumulate fetched %lld", (long long)before);
    MPI_Request pn;
    MPI_Rput(put, 1, MPI_INT64_T, MPI_PROC_NULL, 0, 1, MPI_INT64_T, win, &pn);
    int done = 0;
    MPI_Test(&pn, &done, MPI_STATUS_IGNORE);
    CHECK(done, "a request form on MPI_PROC_NULL is complete at once");
    MPI_Win_unlock_all(win);
    for (long i = 0; i < L; i++) {
        CHECK(got[i] == pattern(right(), i), "Rget [%ld]", i);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (long i = 0; i < L; i++) {
        CHECK(mem[L + i] == -pattern(left(), i), "Rput [%ld]", i);
    }
    CHECK(mem[0] == pattern(rank, 0) + 5 && mem[1] == pattern(rank, 1) + 5,
          "Raccumulate / Rget_accumulate left %lld %lld", (long long)mem[0], (long long)mem[1]);
    MPI_Win_free(&win);
    free(put);
    free(got);
}

static int deleted;

static int count_delete(MPI_Win win, int key, void *value, void *extra)
{
    (void)win, (void)key, (void)extra;
    deleted += value == &deleted;
    return MPI_SUCCESS;
}

/* What a program may ask of a window, and the errors MPI names. */
static void attributes_and_errors(void)
{
    int mem[8];
    MPI_Win win;
    MPI_Win_create(mem, sizeof(mem), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    void *base;
    MPI_Aint *sz;
    int *du, *flavor, *model, flag;
    MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag);
    CHECK(flag && base == mem, "MPI_WIN_BASE");
    MPI_Win_get_attr(win, MPI_WIN_SIZE, &sz, &flag);
    CHECK(flag && *sz == sizeof(mem), "MPI_WIN_SIZE %ld", (long)*sz);
    MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &du, &flag);
    CHECK(flag && *du == sizeof(int), "MPI_WIN_DISP_UNIT");
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_CREATE, "MPI_WIN_CREATE_FLAVOR");
    MPI_Win_get_attr(win, MPI_WIN_MODEL, &model, &flag);
    CHECK(flag && *model == MPI_WIN_UNIFIED, "MPI_WIN_MODEL");
    int key;
    MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, count_delete, &key, NULL);
    MPI_Win_set_attr(win, key, &deleted);
    int *back;
    MPI_Win_get_attr(win, key, &back, &flag);
    CHECK(flag && back == &deleted, "a window keyval's value");
    MPI_Win_set_name(win, "halo");
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_Win_get_name(win, name, &len);
    CHECK(strcmp(name, "halo") == 0 && len == 4, "window name '%s'", name);
    MPI_Group g, wg;
    int cmp;
    MPI_Win_get_group(win, &g);
    MPI_Comm_group(MPI_COMM_WORLD, &wg);
    MPI_Group_compare(g, wg, &cmp);
    CHECK(cmp == MPI_IDENT, "the window's group is the world's");
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    MPI_Info info;
    char v[MPI_MAX_INFO_VAL];
    MPI_Win_get_info(win, &info);
    MPI_Info_get(info, "accumulate_ordering", MPI_MAX_INFO_VAL, v, &flag);
    CHECK(flag && strcmp(v, "rar,raw,war,waw") == 0, "accumulate_ordering '%s'", v);
    MPI_Info_free(&info);

    MPI_Errhandler eh;
    MPI_Win_get_errhandler(win, &eh);
    CHECK(eh == MPI_ERRORS_ARE_FATAL, "a window's default handler is MPI_ERRORS_ARE_FATAL");
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    int cls, rc = MPI_Put(mem, 1, MPI_INT, right(), 0, 1, MPI_INT, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_SYNC, "a put outside any epoch gave %d", rc);
    MPI_Win_fence(0, win);
    rc = MPI_Put(mem, 1, MPI_INT, size, 0, 1, MPI_INT, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RANK, "target rank %d gave %d", size, rc);
    rc = MPI_Put(mem, 2, MPI_INT, right(), 7, 2, MPI_INT, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_RANGE, "a put past the window's end gave %d", rc);
    rc = MPI_Put(mem, 2, MPI_INT, right(), 0, 1, MPI_INT, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TYPE, "2 ints into 1 gave %d", rc);
    rc = MPI_Accumulate(mem, 1, MPI_FLOAT, right(), 0, 1, MPI_FLOAT, MPI_BAND, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_OP, "BAND on floats gave %d", rc);
    rc = MPI_Put(mem, 1, MPI_INT, MPI_PROC_NULL, 0, 1, MPI_INT, win);
    CHECK(rc == MPI_SUCCESS, "a put to MPI_PROC_NULL does nothing");
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    rc = MPI_Win_lock(99, 0, 0, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_LOCKTYPE, "lock type 99 gave %d", rc);
    rc = MPI_Win_unlock(0, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_SYNC, "unlock without lock gave %d", rc);
    rc = MPI_Win_complete(win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RMA_SYNC, "complete without start gave %d", rc);
    rc = MPI_Win_fence(MPI_MODE_NOCHECK, win);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_ASSERT, "fence with MPI_MODE_NOCHECK gave %d", rc);
    CHECK(deleted == 0, "deleted before the window was freed");
    MPI_Win_free(&win);
    CHECK(deleted == 1, "the keyval's delete callback ran %d times at MPI_Win_free", deleted);
    MPI_Win_free_keyval(&key);
    MPI_Win bad = 12345;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rc = MPI_Win_fence(0, bad);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_WIN, "an invalid window handle gave %d", rc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Rank 1 computes for a second without MPI calls; rank 0 locks it, gets
 * from it, puts a flag into it and unlocks. Rank 1 looks at the flag when
 * its computation ends: set only if its target side moved meanwhile
 * (the progress thread). Reports how long rank 0 waited. */
static void busy_target(void)
{
    int *mem;
    MPI_Win win;
    MPI_Win_allocate(2 * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    mem[0] = 4242 + rank;
    mem[1] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    /* Rank 0 starts once rank 1 has left MPI: a barrier lets its ranks out
     * at different times, and a target still inside one serves the lock. */
    if (rank == 1) {
        MPI_Send(NULL, 0, MPI_INT, 0, 77, MPI_COMM_WORLD);
        double until = now() + 1.0;
        volatile double x = 0;
        while (now() < until) {
            x += 1.0;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        printf("busy target: the flag was %s while it computed\n",
               ((volatile int *)mem)[1] == 1 ? "set" : "not set");
    } else if (rank == 0) {
        MPI_Recv(NULL, 0, MPI_INT, 1, 77, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double t0 = now();
        int v = 0, one = 1;
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1, 0, win);
        MPI_Get(&v, 1, MPI_INT, 1, 0, 1, MPI_INT, win);
        MPI_Put(&one, 1, MPI_INT, 1, 1, 1, MPI_INT, win);
        MPI_Win_unlock(1, win);
        CHECK(v == 4243, "get from a busy target: %d", v);
        printf("busy target: the origin waited %.3f s for lock, get, put and unlock\n", now() - t0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(rank != 1 || mem[1] == 1, "the flag arrived");
    MPI_Win_free(&win);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    fence_put_get();
    fence_derived();
    accumulate_ops();
    atomics();
    exclusive_lock();
    pscw();
    shared_window();
    allocated_window_any_offset();
    dynamic_window();
    request_forms();
    attributes_and_errors();
    if (argc > 1 && strcmp(argv[1], "--wait-report") == 0 && size >= 2) {
        busy_target();
    }
    checks_passed();
    MPI_Finalize();
    return 0;
}
