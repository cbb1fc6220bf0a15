/* An ordinary MPI program exercising mrail's point-to-point surface. Every
 * check prints nothing when it passes; a failure prints what and exits 1.
 * At the end each rank prints "rank R: N checks passed". Needs >= 2 ranks. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int rank, size, checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: check failed at line %d: ", rank, __LINE__);                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

static void fill(int *b, int n, int seed)
{
    for (int i = 0; i < n; i++) {
        b[i] = seed * 1000003 + i;
    }
}

static int bad_index(const int *b, int n, int seed)
{
    for (int i = 0; i < n; i++) {
        if (b[i] != seed * 1000003 + i) {
            return i;
        }
    }
    return -1;
}

static void environment(void)
{
    int flag = 0, version, sub, len, *tag_ub;
    MPI_Initialized(&flag);
    CHECK(flag, "MPI_Initialized is false after MPI_Init_thread");
    MPI_Get_version(&version, &sub);
    CHECK(version == 3 && sub == 1, "version %d.%d", version, sub);
    char name[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(name, &len);
    CHECK(len > 0 && (int)strlen(name) == len, "processor name");
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &flag);
    CHECK(flag && *tag_ub >= 32767, "MPI_TAG_UB %d", flag ? *tag_ub : -1);
    double t0 = MPI_Wtime(), tick = MPI_Wtick();
    CHECK(tick > 0 && tick < 1 && MPI_Wtime() >= t0, "Wtime/Wtick");
    char msg[MPI_MAX_ERROR_STRING];
    MPI_Error_string(MPI_ERR_TRUNCATE, msg, &len);
    CHECK(strstr(msg, "truncated") != NULL, "error string %s", msg);
    int cls;
    MPI_Error_class(MPI_ERR_RANK, &cls);
    CHECK(cls == MPI_ERR_RANK, "error class");
    int *mem;
    CHECK(MPI_Alloc_mem(1024, MPI_INFO_NULL, &mem) == MPI_SUCCESS, "Alloc_mem");
    mem[255] = 7;
    MPI_Free_mem(mem);
    int tsize;
    MPI_Type_size(MPI_DOUBLE_INT, &tsize);
    CHECK(tsize == 12, "MPI_DOUBLE_INT size %d (its data: a double and an int)", tsize);
    MPI_Aint lb, extent;
    MPI_Type_get_extent(MPI_DOUBLE_INT, &lb, &extent);
    CHECK(lb == 0 && extent == 16, "MPI_DOUBLE_INT lb %ld extent %ld", (long)lb, (long)extent);
    MPI_Type_size(MPIX_C_FLOAT16, &tsize);
    CHECK(tsize == 2, "MPIX_C_FLOAT16 size %d", tsize);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    MPI_Get_library_version(lib, &len);
    CHECK(len > 0 && (int)strlen(lib) == len && strstr(lib, "mrail") != NULL, "library version %s",
          lib);
    CHECK(MPI_Pcontrol(1) == MPI_SUCCESS && MPI_Pcontrol(0, "ignored") == MPI_SUCCESS, "Pcontrol");
    /* Handles survive the trip to Fortran and back. */
    MPI_Group world_group;
    MPI_Comm_group(MPI_COMM_WORLD, &world_group);
    CHECK(MPI_Comm_f2c(MPI_Comm_c2f(MPI_COMM_WORLD)) == MPI_COMM_WORLD &&
              MPI_Type_f2c(MPI_Type_c2f(MPI_DOUBLE_INT)) == MPI_DOUBLE_INT &&
              MPI_Group_f2c(MPI_Group_c2f(world_group)) == world_group &&
              MPI_Op_f2c(MPI_Op_c2f(MPI_MAXLOC)) == MPI_MAXLOC &&
              MPI_Request_f2c(MPI_Request_c2f(MPI_REQUEST_NULL)) == MPI_REQUEST_NULL &&
              MPI_Errhandler_f2c(MPI_Errhandler_c2f(MPI_ERRORS_RETURN)) == MPI_ERRORS_RETURN,
          "a handle changed on its way through Fortran");
    MPI_Group_free(&world_group);
    MPI_Status cs = {.MPI_SOURCE = 3, .MPI_TAG = 77, .MPI_ERROR = MPI_ERR_TRUNCATE}, back;
    MPI_Fint fs[MPI_STATUS_SIZE];
    MPI_Status_c2f(&cs, fs);
    MPI_Status_f2c(fs, &back);
    CHECK(back.MPI_SOURCE == 3 && back.MPI_TAG == 77 && back.MPI_ERROR == MPI_ERR_TRUNCATE,
          "a status changed on its way through Fortran");
}

/* Blocking and nonblocking sends of every protocol size to every rank. */
static void exchange(void)
{
    int sizes[] = {0, 1, 1000, 1023, 1024, 1025, 16384, 262144, 4 << 20};
    int maxn = 4 << 20;
    int *s = malloc(maxn * sizeof(int)), *r = malloc(maxn * sizeof(int));
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int n = sizes[k];
        for (int d = 0; d < size; d++) {
            int to = (rank + d) % size, from = (rank + size - d) % size;
            fill(s, n, rank * 100 + to);
            memset(r, 0, (size_t)n * sizeof(int));
            MPI_Status st;
            MPI_Request req;
            MPI_Irecv(r, n, MPI_INT, from, 5, MPI_COMM_WORLD, &req);
            if (k % 3 == 0) {
                MPI_Send(s, n, MPI_INT, to, 5, MPI_COMM_WORLD);
            } else if (k % 3 == 1) {
                MPI_Ssend(s, n, MPI_INT, to, 5, MPI_COMM_WORLD);
            } else {
                MPI_Request sr;
                MPI_Isend(s, n, MPI_INT, to, 5, MPI_COMM_WORLD, &sr);
                MPI_Wait(&sr, MPI_STATUS_IGNORE);
                CHECK(sr == MPI_REQUEST_NULL, "request not nulled by MPI_Wait");
            }
            MPI_Wait(&req, &st);
            int count;
            MPI_Get_count(&st, MPI_INT, &count);
            CHECK(count == n && st.MPI_SOURCE == from && st.MPI_TAG == 5 && st.MPI_ERROR == 0,
                  "status of %d ints from %d: count %d source %d tag %d", n, from, count,
                  st.MPI_SOURCE, st.MPI_TAG);
            int bad = bad_index(r, n, from * 100 + rank);
            CHECK(bad < 0, "%d ints from %d: wrong at %d", n, from, bad);
        }
    }
    free(s);
    free(r);
}

/* Byte i of a message from rank r with offsets so and ro. */
static unsigned char offset_byte(int r, size_t i, int so, int ro)
{
    return (unsigned char)(r * 31 + (int)(i % 251) * 7 + so * 3 + ro + (int)(i / 251));
}

/* Buffers that start anywhere in a page, through every protocol: memcpy
 * and the kernel's CMA copy crawl on some of these pairs here, and mrail
 * takes another copy for them (mrail/copy.h): every byte must arrive, and
 * none beside the message may change. Sizes: a ring rendezvous, a
 * pipelined one and a single copy (btl_sm_min_rdma_pipeline_size). */
static void buffers_at_any_page_offset(void)
{
    const size_t sizes[] = {5000, 100000, 600000};
    const int offs[][2] = {{0, 1}, {0, 8}, {0, 16}, {0, 31}, {0, 32}, {16, 0}, {7, 30}, {5, 4095}};
    const size_t page = 4096, max = 600000 + 2 * page;
    unsigned char *sm, *rm;
    CHECK(posix_memalign((void **)&sm, page, max) == 0 &&
              posix_memalign((void **)&rm, page, max) == 0,
          "posix_memalign");
    int to = (rank + 1) % size, from = (rank + size - 1) % size;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
            size_t n = sizes[k];
            int so = offs[o][0], ro = offs[o][1];
            for (size_t i = 0; i < n; i++) {
                sm[so + i] = offset_byte(rank, i, so, ro);
            }
            memset(rm, 0xa5, max);
            MPI_Request req;
            MPI_Irecv(rm + ro, (int)n, MPI_BYTE, from, 9, MPI_COMM_WORLD, &req);
            MPI_Send(sm + so, (int)n, MPI_BYTE, to, 9, MPI_COMM_WORLD);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
            size_t bad = n;
            for (size_t i = 0; i < n && bad == n; i++) {
                bad = rm[ro + i] == offset_byte(from, i, so, ro) ? n : i;
            }
            CHECK(bad == n,
                  "%zu bytes from %d, sent from page offset %d into offset %d: byte %zu wrong", n,
                  from, so, ro, bad);
            size_t outside = max;
            for (size_t i = 0; i < max && outside == max; i++) {
                bool in = i >= (size_t)ro && i < ro + n;
                outside = in || rm[i] == 0xa5 ? max : i;
            }
            CHECK(outside == max, "%zu bytes into offset %d: byte %zu outside the message changed",
                  n, ro, outside);
        }
    }
    free(sm);
    free(rm);
}

static void wildcards_and_probe(void)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int v[3] = {rank, rank + 1, rank + 2}, in[3];
    MPI_Request r;
    MPI_Isend(v, 3, MPI_INT, next, 42, MPI_COMM_WORLD, &r);
    MPI_Status st;
    MPI_Probe(MPI_ANY_SOURCE, 42, MPI_COMM_WORLD, &st);
    int count;
    MPI_Get_count(&st, MPI_INT, &count);
    CHECK(st.MPI_SOURCE == prev && count == 3, "probe: source %d count %d", st.MPI_SOURCE, count);
    MPI_Get_count(&st, MPI_DOUBLE, &count);
    CHECK(count == MPI_UNDEFINED, "12 bytes are not a whole number of doubles");
    int flag;
    MPI_Iprobe(prev, 42, MPI_COMM_WORLD, &flag, &st);
    CHECK(flag, "iprobe after probe");
    MPI_Recv(in, 3, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    CHECK(in[0] == prev && in[2] == prev + 2 && st.MPI_TAG == 42, "any-source receive");
    MPI_Wait(&r, MPI_STATUS_IGNORE);
}

static void completion_calls(void)
{
    enum { N = 16 };
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int out[N], in[N];
    MPI_Request rr[N], sr[N];
    MPI_Status sts[N];
    for (int i = 0; i < N; i++) {
        out[i] = rank * 100 + i;
        MPI_Irecv(&in[i], 1, MPI_INT, prev, i, MPI_COMM_WORLD, &rr[i]);
    }
    for (int i = N - 1; i >= 0; i--) {
        MPI_Isend(&out[i], 1, MPI_INT, next, i, MPI_COMM_WORLD, &sr[i]);
    }
    int done = 0, idx, outcount, indices[N];
    while (done < N / 2) {
        MPI_Waitany(N, rr, &idx, &sts[0]);
        CHECK(idx >= 0 && idx < N && rr[idx] == MPI_REQUEST_NULL && in[idx] == prev * 100 + idx,
              "waitany");
        done++;
    }
    while (done < N) {
        MPI_Waitsome(N, rr, &outcount, indices, sts);
        CHECK(outcount > 0, "waitsome returned nothing while requests are active");
        for (int k = 0; k < outcount; k++) {
            CHECK(in[indices[k]] == prev * 100 + indices[k], "waitsome data");
        }
        done += outcount;
    }
    MPI_Waitsome(N, rr, &outcount, indices, sts);
    CHECK(outcount == MPI_UNDEFINED, "waitsome on null requests");
    int flag = 0;
    while (!flag) {
        MPI_Testall(N, sr, &flag, MPI_STATUSES_IGNORE);
    }
    MPI_Testany(N, sr, &idx, &flag, MPI_STATUS_IGNORE);
    CHECK(flag && idx == MPI_UNDEFINED, "testany on null requests");
}

/* Small nonblocking sends that complete at their start (the pml's sendi)
 * share one request handle, as Open MPI's do: every request call must
 * still treat each as a live, complete request of its own, and every
 * message must arrive. */
static void sends_done_at_once(void)
{
    enum { N = 12 };
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int out[N], in[N];
    MPI_Request sr[N], rr[N];
    MPI_Status st;
    for (int i = 0; i < N; i++) {
        in[i] = -1;
        MPI_Irecv(&in[i], 1, MPI_INT, prev, 300 + i, MPI_COMM_WORLD, &rr[i]);
    }
    MPI_Barrier(MPI_COMM_WORLD); /* every receive is posted: the sends go at once */
    for (int i = 0; i < N; i++) {
        out[i] = rank * 1000 + i;
        MPI_Isend(&out[i], 1, MPI_INT, next, 300 + i, MPI_COMM_WORLD, &sr[i]);
        CHECK(sr[i] != MPI_REQUEST_NULL, "isend %d returned MPI_REQUEST_NULL", i);
        out[i] = -7; /* the buffer is the program's again once the send is complete */
    }
    int flag = 0;
    while (!flag) { /* at once where the transport sends inline (sm, tcp); uct's may not */
        MPI_Request_get_status(sr[0], &flag, &st);
        CHECK(sr[0] != MPI_REQUEST_NULL, "get_status freed the request");
    }
    MPI_Wait(&sr[0], &st);
    int cancelled = 1;
    MPI_Test_cancelled(&st, &cancelled);
    CHECK(sr[0] == MPI_REQUEST_NULL && !cancelled, "wait: handle %d, cancelled %d", sr[0],
          cancelled);
    MPI_Cancel(&sr[1]); /* sends are not cancelled (MPI lets a cancel fail) */
    MPI_Wait(&sr[1], &st);
    MPI_Test_cancelled(&st, &cancelled);
    CHECK(sr[1] == MPI_REQUEST_NULL && !cancelled, "cancel then wait: cancelled %d", cancelled);
    MPI_Request_free(&sr[2]);
    CHECK(sr[2] == MPI_REQUEST_NULL, "request_free leaves MPI_REQUEST_NULL");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    CHECK(MPI_Start(&sr[3]) == MPI_ERR_REQUEST, "MPI_Start of a nonpersistent send is refused");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    int idx, seen = 0;
    for (int k = 0; k < 3; k++) {
        MPI_Waitany(3, &sr[3], &idx, &st);
        CHECK(idx >= 0 && idx < 3 && sr[3 + idx] == MPI_REQUEST_NULL && !(seen & (1 << idx)),
              "waitany %d returned index %d", k, idx);
        seen |= 1 << (idx >= 0 && idx < 3 ? idx : 0);
    }
    MPI_Waitany(3, &sr[3], &idx, &st);
    CHECK(idx == MPI_UNDEFINED, "waitany on three finished sends: %d", idx);
    int outcount, indices[3], done = 0;
    while (done < 3) {
        MPI_Testsome(3, &sr[6], &outcount, indices, MPI_STATUSES_IGNORE);
        CHECK(outcount != MPI_UNDEFINED, "testsome: no active request after %d of 3", done);
        done += outcount == MPI_UNDEFINED ? 3 : outcount;
    }
    CHECK(sr[6] == MPI_REQUEST_NULL && sr[7] == MPI_REQUEST_NULL && sr[8] == MPI_REQUEST_NULL,
          "testsome left a request");
    for (flag = 0; !flag;) {
        MPI_Testall(2, &sr[9], &flag, MPI_STATUSES_IGNORE);
    }
    CHECK(sr[9] == MPI_REQUEST_NULL && sr[10] == MPI_REQUEST_NULL, "testall");
    MPI_Status sts[N];
    MPI_Waitall(1, &sr[11], sts);
    CHECK(sr[11] == MPI_REQUEST_NULL && sts[0].MPI_ERROR == MPI_SUCCESS, "waitall");
    MPI_Waitall(N, rr, sts);
    for (int i = 0; i < N; i++) {
        CHECK(in[i] == prev * 1000 + i && sts[i].MPI_SOURCE == prev && sts[i].MPI_TAG == 300 + i,
              "message %d: %d from %d tag %d", i, in[i], sts[i].MPI_SOURCE, sts[i].MPI_TAG);
    }
}

/* Pairs stream large messages, window after window, both ways at once
 * (256 KiB) or from the even rank to the odd one (1 MiB, where one way is
 * measured): the pml then measures rdma get against the rings for each
 * size class and tries the one it is not using (pml_stripe_rget_adapt),
 * so both carry some of these windows. Every byte is checked. */
static void large_windows(bool both)
{
    enum { W = 16, ROUNDS = 24 };
    const size_t len = both ? 256u << 10 : 1u << 20;
    const int rounds = both ? ROUNDS : ROUNDS / 4;
    int partner = rank ^ 1;
    if (partner >= size) {
        return;
    }
    bool sends = both || rank % 2 == 0, receives = both || rank % 2 == 1;
    unsigned char *out = malloc(W * len), *in = malloc(W * len);
    CHECK(out != NULL && in != NULL, "no memory for %d x %zu bytes", W, len);
    MPI_Request r[2 * W];
    for (int round = 0; round < rounds; round++) {
        int n = 0;
        for (int m = 0; m < W && receives; m++) {
            MPI_Irecv(in + m * len, (int)len, MPI_BYTE, partner, 500 + m, MPI_COMM_WORLD, &r[n++]);
        }
        for (int m = 0; m < W && sends; m++) {
            for (size_t i = 0; i < len; i++) {
                out[m * len + i] = (unsigned char)(rank * 131 + round * 17 + m * 7 + i);
            }
            MPI_Isend(out + m * len, (int)len, MPI_BYTE, partner, 500 + m, MPI_COMM_WORLD, &r[n++]);
        }
        MPI_Waitall(n, r, MPI_STATUSES_IGNORE);
        int bad = 0;
        for (int m = 0; m < W && receives && !bad; m++) {
            for (size_t i = 0; i < len; i++) {
                unsigned char want = (unsigned char)(partner * 131 + round * 17 + m * 7 + i);
                if (in[m * len + i] != want) {
                    CHECK(0, "%s, round %d message %d byte %zu is %u, not %u",
                          both ? "both ways" : "one way", round, m, i, in[m * len + i], want);
                    bad = 1;
                    break;
                }
            }
        }
        CHECK(!bad, "round %d", round);
    }
    free(out);
    free(in);
}

/* 10,000 receives posted before any send, twice (the second round reuses
 * every request slot the first one freed). */
static void many_outstanding(void)
{
    enum { N = 10000 };
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int *in = malloc(N * sizeof(int)), *out = malloc(N * sizeof(int));
    MPI_Request *rr = malloc(N * sizeof(MPI_Request)), *sr = malloc(N * sizeof(MPI_Request));
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            in[i] = -1;
            out[i] = rank * N + i + round;
            MPI_Irecv(&in[i], 1, MPI_INT, prev, 50, MPI_COMM_WORLD, &rr[i]);
        }
        for (int i = 0; i < N; i++) {
            MPI_Isend(&out[i], 1, MPI_INT, next, 50, MPI_COMM_WORLD, &sr[i]);
        }
        MPI_Waitall(N, sr, MPI_STATUSES_IGNORE);
        MPI_Waitall(N, rr, MPI_STATUSES_IGNORE);
        for (int i = 0; i < N; i++) {
            CHECK(in[i] == prev * N + i + round && rr[i] == MPI_REQUEST_NULL,
                  "outstanding receive %d of round %d got %d", i, round, in[i]);
        }
    }
    free(in);
    free(out);
    free(rr);
    free(sr);
}

/* Small sends that go out at once (MPI_Send, MPI_Isend: the pml's sendi,
 * no request) keep MPI's order behind a large one still in its
 * rendezvous, and beside a synchronous one that cannot take that path;
 * a request completed at its start reports a clean status at once. */
static void inline_sends_keep_order(void)
{
    enum { BIG = 1 << 18, ROUNDS = 50 };
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int *big_out = malloc(BIG * sizeof(int)), *big_in = malloc(BIG * sizeof(int));
    for (int round = 0; round < ROUNDS; round++) {
        int small_in[3] = {-1, -1, -1};
        MPI_Request r[5];
        MPI_Irecv(big_in, BIG, MPI_INT, prev, 60, MPI_COMM_WORLD, &r[0]);
        for (int k = 0; k < 3; k++) {
            MPI_Irecv(&small_in[k], 1, MPI_INT, prev, 60, MPI_COMM_WORLD, &r[1 + k]);
        }
        fill(big_out, BIG, rank + round);
        MPI_Isend(big_out, BIG, MPI_INT, next, 60, MPI_COMM_WORLD, &r[4]);
        int a = rank * 10 + 1, b = rank * 10 + 2, c = rank * 10 + 3;
        MPI_Send(&a, 1, MPI_INT, next, 60, MPI_COMM_WORLD);
        MPI_Request rb;
        MPI_Isend(&b, 1, MPI_INT, next, 60, MPI_COMM_WORLD, &rb);
        int flag = 0;
        MPI_Status st;
        do {
            MPI_Test(&rb, &flag, &st);
        } while (!flag);
        CHECK(st.MPI_ERROR == MPI_SUCCESS && rb == MPI_REQUEST_NULL, "small Isend status %d",
              st.MPI_ERROR);
        MPI_Ssend(&c, 1, MPI_INT, next, 60, MPI_COMM_WORLD);
        MPI_Waitall(5, r, MPI_STATUSES_IGNORE);
        int at = bad_index(big_in, BIG, prev + round);
        CHECK(at < 0, "round %d: the large message is wrong at %d", round, at);
        for (int k = 0; k < 3; k++) {
            CHECK(small_in[k] == prev * 10 + 1 + k, "round %d: small message %d is %d, not %d",
                  round, k, small_in[k], prev * 10 + 1 + k);
        }
    }
    free(big_out);
    free(big_in);
}

/* More small messages to one peer than the 16 bits of sequence number a
 * short header carries; windows whose receives are posted first and
 * windows that arrive before their receives, with synchronous sends (the
 * full header) among them: every message lands in its own receive. */
static void sequence_past_16_bits(void)
{
    enum { N = 70000, WINDOW = 1000 };
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int out[WINDOW], in[WINDOW];
    MPI_Request rr[WINDOW], sr[WINDOW];
    for (int base = 0; base < N; base += WINDOW) {
        bool posted_first = (base / WINDOW) % 2 == 0;
        for (int k = 0; posted_first && k < WINDOW; k++) {
            MPI_Irecv(&in[k], 1, MPI_INT, prev, 61, MPI_COMM_WORLD, &rr[k]);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        for (int k = 0; k < WINDOW; k++) {
            out[k] = base + k;
            if (k % 7 == 3) {
                MPI_Issend(&out[k], 1, MPI_INT, next, 61, MPI_COMM_WORLD, &sr[k]);
            } else {
                MPI_Isend(&out[k], 1, MPI_INT, next, 61, MPI_COMM_WORLD, &sr[k]);
            }
        }
        if (!posted_first) {
            MPI_Barrier(MPI_COMM_WORLD);
            for (int k = 0; k < WINDOW; k++) {
                MPI_Irecv(&in[k], 1, MPI_INT, prev, 61, MPI_COMM_WORLD, &rr[k]);
            }
        }
        MPI_Waitall(WINDOW, rr, MPI_STATUSES_IGNORE);
        MPI_Waitall(WINDOW, sr, MPI_STATUSES_IGNORE);
        for (int k = 0; k < WINDOW; k++) {
            CHECK(in[k] == base + k, "message %d from rank %d arrived as %d", base + k, prev,
                  in[k]);
        }
    }
}

/* A matched probe takes its message out of matching: a wildcard receive
 * posted afterwards gets the next message, and MPI_Mrecv the probed one. */
static void matched_probe(void)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    enum { BIG = 100000 };
    int small[3] = {rank, rank + 1, rank + 2}, *big = malloc(BIG * sizeof(int));
    int *got_big = malloc(BIG * sizeof(int)), got_small[3] = {-1, -1, -1};
    fill(big, BIG, rank + 70);
    MPI_Request sends[3], wild;
    MPI_Isend(small, 3, MPI_INT, next, 70, MPI_COMM_WORLD, &sends[0]);
    MPI_Isend(big, BIG, MPI_INT, next, 70, MPI_COMM_WORLD, &sends[1]);
    MPI_Message m;
    MPI_Status st;
    MPI_Mprobe(prev, 70, MPI_COMM_WORLD, &m, &st);
    int count;
    MPI_Get_count(&st, MPI_INT, &count);
    CHECK(m != MPI_MESSAGE_NULL && count == 3 && st.MPI_SOURCE == prev, "mprobe: count %d", count);
    MPI_Irecv(got_big, BIG, MPI_INT, MPI_ANY_SOURCE, 70, MPI_COMM_WORLD, &wild);
    MPI_Mrecv(got_small, 3, MPI_INT, &m, &st);
    CHECK(m == MPI_MESSAGE_NULL && got_small[0] == prev && got_small[2] == prev + 2,
          "mrecv got %d %d %d", got_small[0], got_small[1], got_small[2]);
    MPI_Wait(&wild, &st);
    MPI_Get_count(&st, MPI_INT, &count);
    CHECK(count == BIG && bad_index(got_big, BIG, prev + 70) < 0,
          "the wildcard receive after a matched probe: %d ints", count);
    /* Non-blocking probe and receive, into every other int (a vector). */
    MPI_Isend(big, BIG / 2, MPI_INT, next, 71, MPI_COMM_WORLD, &sends[2]);
    int flag = 0;
    while (!flag) {
        MPI_Improbe(MPI_ANY_SOURCE, 71, MPI_COMM_WORLD, &flag, &m, &st);
    }
    MPI_Datatype every_other;
    MPI_Type_vector(BIG / 2, 1, 2, MPI_INT, &every_other);
    MPI_Type_commit(&every_other);
    for (int i = 0; i < BIG; i++) {
        got_big[i] = -1;
    }
    MPI_Request r;
    MPI_Imrecv(got_big, 1, every_other, &m, &r);
    MPI_Wait(&r, &st);
    MPI_Type_free(&every_other);
    for (int i = 0; i < BIG; i++) {
        int want = i % 2 ? -1 : (prev + 70) * 1000003 + i / 2;
        CHECK(got_big[i] == want, "imrecv into a vector: int %d is %d, not %d", i, got_big[i],
              want);
    }
    MPI_Waitall(3, sends, MPI_STATUSES_IGNORE);
    MPI_Improbe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &flag, &m, &st);
    CHECK(flag && m == MPI_MESSAGE_NO_PROC && st.MPI_SOURCE == MPI_PROC_NULL, "probe of PROC_NULL");
    MPI_Mrecv(NULL, 0, MPI_INT, &m, &st);
    CHECK(m == MPI_MESSAGE_NULL && st.MPI_SOURCE == MPI_PROC_NULL, "mrecv of MPI_MESSAGE_NO_PROC");
    free(big), free(got_big);
}

/* A generalized request's state, as the program keeps it. */
typedef struct greq_state {
    int queries, frees, cancels, cancel_complete;
    int query_error; /* what the query function returns */
    bool cancelled;
} greq_state_t;

static int greq_query(void *extra, MPI_Status *st)
{
    greq_state_t *g = extra;
    g->queries++;
    st->MPI_SOURCE = 7;
    st->MPI_TAG = 99;
    MPI_Status_set_elements(st, MPI_INT, 3);
    MPI_Status_set_cancelled(st, g->cancelled);
    return g->query_error;
}

static int greq_free(void *extra)
{
    ((greq_state_t *)extra)->frees++;
    return MPI_SUCCESS;
}

static int greq_cancel(void *extra, int complete)
{
    greq_state_t *g = extra;
    g->cancels++;
    g->cancel_complete = complete;
    g->cancelled = !complete;
    return MPI_SUCCESS;
}

/* MPI_Grequest_start/complete: waited for, tested, freed and cancelled
 * like other requests; the program's functions run when MPI says. */
static void generalized_requests(void)
{
    greq_state_t g = {0};
    MPI_Request r;
    MPI_Status st;
    int flag, count;
    MPI_Grequest_start(greq_query, greq_free, greq_cancel, &g, &r);
    MPI_Test(&r, &flag, &st);
    CHECK(!flag && g.queries == 0, "incomplete generalized request tested done");
    MPI_Request_get_status(r, &flag, &st);
    CHECK(!flag, "get_status before completion");
    MPI_Grequest_complete(r);
    MPI_Request_get_status(r, &flag, &st);
    CHECK(flag && g.queries == 1 && g.frees == 0 && st.MPI_TAG == 99,
          "get_status queries, frees nothing");
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS && r == MPI_REQUEST_NULL, "wait");
    MPI_Get_count(&st, MPI_INT, &count);
    CHECK(g.queries == 2 && g.frees == 1 && st.MPI_SOURCE == 7 && count == 3,
          "wait's status: queries %d frees %d source %d count %d", g.queries, g.frees,
          st.MPI_SOURCE, count);

    /* Mixed with a receive in Waitall; freed before it completes; cancelled. */
    greq_state_t h = {0}, k = {0};
    MPI_Request rs[2];
    int v = rank, got = -1;
    MPI_Grequest_start(greq_query, greq_free, greq_cancel, &h, &rs[0]);
    MPI_Irecv(&got, 1, MPI_INT, rank, 5, MPI_COMM_WORLD, &rs[1]);
    MPI_Send(&v, 1, MPI_INT, rank, 5, MPI_COMM_WORLD);
    MPI_Grequest_complete(rs[0]);
    MPI_Waitall(2, rs, MPI_STATUSES_IGNORE);
    CHECK(got == rank && h.frees == 1, "waitall with a generalized request");
    MPI_Grequest_start(greq_query, greq_free, greq_cancel, &h, &r);
    MPI_Request kept = r; /* the program completes it by this handle */
    MPI_Request_free(&r);
    CHECK(h.frees == 1, "freed before completion: free function ran early");
    MPI_Grequest_complete(kept);
    CHECK(h.frees == 2 && h.queries == 1, "freed request: free ran %d, query %d", h.frees,
          h.queries);
    MPI_Grequest_start(greq_query, greq_free, greq_cancel, &k, &r);
    MPI_Cancel(&r);
    CHECK(k.cancels == 1 && k.cancel_complete == 0, "cancel function (complete %d)",
          k.cancel_complete);
    MPI_Grequest_complete(r);
    MPI_Wait(&r, &st);
    MPI_Test_cancelled(&st, &flag);
    CHECK(flag && k.frees == 1, "cancelled generalized request");

    /* The query function's error is the wait's. */
    greq_state_t e = {.query_error = MPI_ERR_OTHER};
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Grequest_start(greq_query, greq_free, greq_cancel, &e, &r);
    MPI_Grequest_complete(r);
    CHECK(MPI_Wait(&r, &st) == MPI_ERR_OTHER && e.frees == 1, "query error");
    CHECK(MPI_Grequest_complete(12345) == MPI_ERR_REQUEST, "complete a bad handle");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

static void persistent_and_cancel(void)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int out = 0, in = -1;
    MPI_Request p[2];
    MPI_Recv_init(&in, 1, MPI_INT, prev, 9, MPI_COMM_WORLD, &p[0]);
    MPI_Send_init(&out, 1, MPI_INT, next, 9, MPI_COMM_WORLD, &p[1]);
    for (int round = 0; round < 5; round++) {
        out = rank * 10 + round;
        MPI_Startall(2, p);
        MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
        CHECK(p[0] != MPI_REQUEST_NULL, "a persistent request survives its wait");
        CHECK(in == prev * 10 + round, "persistent round %d got %d", round, in);
    }
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);
    /* Persistent requests of a derived type (every third int of 12), started
     * again and again after the type was freed (they keep it). */
    int sv[12], rv[12];
    MPI_Datatype third;
    MPI_Type_vector(4, 1, 3, MPI_INT, &third);
    MPI_Type_commit(&third);
    MPI_Recv_init(rv, 1, third, prev, 10, MPI_COMM_WORLD, &p[0]);
    MPI_Send_init(sv, 1, third, next, 10, MPI_COMM_WORLD, &p[1]);
    MPI_Type_free(&third);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 12; i++) {
            sv[i] = rank * 1000 + round * 100 + i;
            rv[i] = -1;
        }
        MPI_Start(&p[0]);
        MPI_Start(&p[1]);
        MPI_Waitall(2, p, MPI_STATUSES_IGNORE);
        for (int i = 0; i < 12; i++) {
            int want = i % 3 ? -1 : prev * 1000 + round * 100 + i;
            CHECK(rv[i] == want, "persistent vector round %d: int %d is %d, not %d", round, i,
                  rv[i], want);
        }
    }
    MPI_Request_free(&p[0]);
    MPI_Request_free(&p[1]);
    MPI_Request r;
    MPI_Irecv(&in, 1, MPI_INT, prev, 12345, MPI_COMM_WORLD, &r);
    MPI_Cancel(&r);
    MPI_Status st;
    MPI_Wait(&r, &st);
    int cancelled;
    MPI_Test_cancelled(&st, &cancelled);
    CHECK(cancelled, "cancelled receive");
}

static void sendrecv_self_null_bsend(void)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int v = rank, w = -1;
    MPI_Status st;
    MPI_Sendrecv(&v, 1, MPI_INT, next, 3, &w, 1, MPI_INT, prev, 3, MPI_COMM_WORLD, &st);
    CHECK(w == prev && st.MPI_SOURCE == prev, "sendrecv");
    v = rank;
    MPI_Sendrecv_replace(&v, 1, MPI_INT, next, 4, prev, 4, MPI_COMM_WORLD, &st);
    CHECK(v == prev, "sendrecv_replace");
    int self_rank, self_size;
    MPI_Comm_rank(MPI_COMM_SELF, &self_rank);
    MPI_Comm_size(MPI_COMM_SELF, &self_size);
    CHECK(self_rank == 0 && self_size == 1, "MPI_COMM_SELF");
    v = 77;
    MPI_Sendrecv(&v, 1, MPI_INT, 0, 1, &w, 1, MPI_INT, 0, 1, MPI_COMM_SELF, &st);
    CHECK(w == 77 && st.MPI_SOURCE == 0, "send to self on MPI_COMM_SELF");
    MPI_Recv(&w, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &st);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG, "MPI_PROC_NULL status");
    MPI_Send(&v, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD);
    int bufsize = 8 * (1000 * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
    char *buf = malloc((size_t)bufsize);
    MPI_Buffer_attach(buf, bufsize);
    int big[1000], got[1000];
    for (int k = 0; k < 4; k++) {
        fill(big, 1000, rank + k);
        MPI_Bsend(big, 1000, MPI_INT, next, 20 + k, MPI_COMM_WORLD);
    }
    for (int k = 0; k < 4; k++) {
        MPI_Recv(got, 1000, MPI_INT, prev, 20 + k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(bad_index(got, 1000, prev + k) < 0, "bsend %d", k);
    }
    /* Buffered sends of a non-contiguous type (every other int of 1000):
     * MPI_Ibsend is complete at once, even before the receive is posted,
     * and a persistent MPI_Bsend_init goes again at each start. */
    MPI_Datatype every_other;
    MPI_Type_vector(500, 1, 2, MPI_INT, &every_other);
    MPI_Type_commit(&every_other);
    fill(big, 1000, rank + 50);
    MPI_Request ib, bp, rp;
    MPI_Ibsend(big, 1, every_other, next, 30, MPI_COMM_WORLD, &ib);
    int done = 0;
    MPI_Test(&ib, &done, MPI_STATUS_IGNORE);
    CHECK(done && ib == MPI_REQUEST_NULL, "MPI_Ibsend not complete at once");
    MPI_Bsend_init(big, 1, every_other, next, 31, MPI_COMM_WORLD, &bp);
    MPI_Rsend_init(big, 1, every_other, next, 32, MPI_COMM_WORLD, &rp);
    MPI_Type_free(&every_other); /* the requests keep it */
    MPI_Recv(got, 500, MPI_INT, prev, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (int i = 0; i < 500; i++) {
        CHECK(got[i] == (prev + 50) * 1000003 + 2 * i, "ibsend of a vector: int %d is %d", i,
              got[i]);
    }
    for (int round = 0; round < 3; round++) {
        fill(big, 1000, rank + 60 + round);
        MPI_Start(&bp);
        MPI_Wait(&bp, MPI_STATUS_IGNORE);
        MPI_Request rr;
        MPI_Irecv(got + 500, 500, MPI_INT, prev, 32, MPI_COMM_WORLD, &rr);
        MPI_Barrier(MPI_COMM_WORLD); /* a ready send needs the receive posted */
        MPI_Start(&rp);
        MPI_Recv(got, 500, MPI_INT, prev, 31, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Wait(&rr, MPI_STATUS_IGNORE);
        MPI_Wait(&rp, MPI_STATUS_IGNORE);
        for (int i = 0; i < 500; i++) {
            int want = (prev + 60 + round) * 1000003 + 2 * i;
            CHECK(got[i] == want && got[500 + i] == want,
                  "round %d, int %d: buffered %d, ready %d, not %d", round, i, got[i], got[500 + i],
                  want);
        }
    }
    MPI_Request_free(&bp);
    MPI_Request_free(&rp);
    void *det;
    int detsize;
    MPI_Buffer_detach(&det, &detsize);
    CHECK(det == buf && detsize == bufsize, "buffer detach");
    free(buf);
}

static int handler_calls, handler_code;
static MPI_Comm handler_comm;

static void count_errors(MPI_Comm *comm, int *code, ...)
{
    handler_calls++;
    handler_code = *code;
    handler_comm = *comm;
}

/* A user error handler sees the failing call's class and communicator and
 * the call returns; user error classes, codes and strings. */
static void user_error_handlers(void)
{
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Errhandler eh, got;
    MPI_Comm_create_errhandler(count_errors, &eh);
    MPI_Comm_set_errhandler(dup, eh);
    MPI_Comm_get_errhandler(dup, &got);
    CHECK(got == eh, "errhandler %d, set %d", got, eh);
    int v = 1;
    int rc = MPI_Send(&v, 1, MPI_INT, size + 2, 0, dup);
    CHECK(rc == MPI_ERR_RANK && handler_calls == 1 && handler_code == MPI_ERR_RANK &&
              handler_comm == dup,
          "user handler: rc %d, %d calls, code %d", rc, handler_calls, handler_code);
    int cls, code, cls2, len, flag, *last;
    MPI_Add_error_class(&cls);
    MPI_Add_error_code(cls, &code);
    MPI_Add_error_string(code, "the widget overheated");
    char text[MPI_MAX_ERROR_STRING];
    MPI_Error_string(code, text, &len);
    MPI_Error_class(code, &cls2);
    CHECK(cls > MPI_ERR_LASTCODE && code > cls && cls2 == cls &&
              strcmp(text, "the widget overheated") == 0 && len == (int)strlen(text),
          "user class %d code %d (class %d): %s", cls, code, cls2, text);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag);
    CHECK(flag && *last >= code, "MPI_LASTUSEDCODE %d, a code %d", flag ? *last : -1, code);
    MPI_Comm_call_errhandler(dup, code);
    CHECK(handler_calls == 2 && handler_code == code, "MPI_Comm_call_errhandler: %d calls, code %d",
          handler_calls, handler_code);
    MPI_Errhandler_free(&eh);
    CHECK(eh == MPI_ERRHANDLER_NULL, "freed handler handle");
    MPI_Comm_free(&dup);
}

/* Every call that takes requests refuses a handle that is not one, and a
 * NULL pointer, with MPI_ERR_REQUEST (issue 16: MPI_Wait returned success
 * on garbage and crashed on NULL). Runs under MPI_ERRORS_RETURN. */
static void bad_request_handles(void)
{
    MPI_Request junk = 424242, arr[3] = {MPI_REQUEST_NULL, 424242, MPI_REQUEST_NULL}, live;
    MPI_Status st;
    int flag = -1, index = -1, outcount = -1, indices[3];
    CHECK(MPI_Wait(&junk, &st) == MPI_ERR_REQUEST, "MPI_Wait on garbage");
    CHECK(MPI_Wait(NULL, &st) == MPI_ERR_REQUEST, "MPI_Wait(NULL)");
    CHECK(MPI_Test(&junk, &flag, &st) == MPI_ERR_REQUEST, "MPI_Test on garbage");
    CHECK(MPI_Test(NULL, &flag, &st) == MPI_ERR_REQUEST, "MPI_Test(NULL)");
    CHECK(MPI_Waitall(3, arr, MPI_STATUSES_IGNORE) == MPI_ERR_REQUEST, "MPI_Waitall");
    CHECK(MPI_Testall(3, arr, &flag, MPI_STATUSES_IGNORE) == MPI_ERR_REQUEST, "MPI_Testall");
    CHECK(MPI_Waitany(3, arr, &index, &st) == MPI_ERR_REQUEST, "MPI_Waitany");
    CHECK(MPI_Testany(3, arr, &index, &flag, &st) == MPI_ERR_REQUEST, "MPI_Testany");
    CHECK(MPI_Waitsome(3, arr, &outcount, indices, MPI_STATUSES_IGNORE) == MPI_ERR_REQUEST,
          "MPI_Waitsome");
    CHECK(MPI_Testsome(3, arr, &outcount, indices, MPI_STATUSES_IGNORE) == MPI_ERR_REQUEST,
          "MPI_Testsome");
    CHECK(MPI_Waitall(2, NULL, MPI_STATUSES_IGNORE) == MPI_ERR_REQUEST, "MPI_Waitall(NULL)");
    CHECK(MPI_Waitall(-1, arr, MPI_STATUSES_IGNORE) == MPI_ERR_COUNT, "MPI_Waitall(-1)");
    CHECK(MPI_Request_get_status(junk, &flag, &st) == MPI_ERR_REQUEST, "get_status");
    CHECK(MPI_Start(&junk) == MPI_ERR_REQUEST && MPI_Start(NULL) == MPI_ERR_REQUEST, "MPI_Start");
    CHECK(MPI_Startall(3, arr) == MPI_ERR_REQUEST, "MPI_Startall");
    CHECK(MPI_Request_free(&junk) == MPI_ERR_REQUEST && MPI_Request_free(NULL) == MPI_ERR_REQUEST,
          "MPI_Request_free");
    CHECK(MPI_Cancel(&junk) == MPI_ERR_REQUEST && MPI_Cancel(NULL) == MPI_ERR_REQUEST,
          "MPI_Cancel");
    /* MPI_REQUEST_NULL stays fine, and a live request next to it completes. */
    int v = rank, got = -1;
    MPI_Irecv(&got, 1, MPI_INT, rank, 31, MPI_COMM_WORLD, &live);
    MPI_Send(&v, 1, MPI_INT, rank, 31, MPI_COMM_WORLD);
    MPI_Request mixed[2] = {MPI_REQUEST_NULL, live};
    CHECK(MPI_Waitall(2, mixed, MPI_STATUSES_IGNORE) == MPI_SUCCESS && got == rank &&
              mixed[1] == MPI_REQUEST_NULL,
          "MPI_REQUEST_NULL beside a live request");
}

static void errors_return(void)
{
    user_error_handlers();
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Errhandler eh;
    MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh);
    CHECK(eh == MPI_ERRORS_RETURN, "errhandler not set");
    int v = 1;
    CHECK(MPI_Send(&v, 1, MPI_INT, size, 0, MPI_COMM_WORLD) == MPI_ERR_RANK, "bad rank");
    CHECK(MPI_Send(&v, 1, MPI_INT, 0, -5, MPI_COMM_WORLD) == MPI_ERR_TAG, "bad tag");
    CHECK(MPI_Send(&v, -1, MPI_INT, 0, 0, MPI_COMM_WORLD) == MPI_ERR_COUNT, "bad count");
    CHECK(MPI_Send(&v, 1, 999, 0, 0, MPI_COMM_WORLD) == MPI_ERR_TYPE, "bad type");
    CHECK(MPI_Send(&v, 1, MPI_INT, 0, 0, 77) == MPI_ERR_COMM, "bad comm");
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int big[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, small[4] = {0};
    MPI_Request r;
    MPI_Isend(big, 10, MPI_INT, next, 8, MPI_COMM_WORLD, &r);
    MPI_Status st;
    int rc = MPI_Recv(small, 4, MPI_INT, prev, 8, MPI_COMM_WORLD, &st);
    CHECK(rc == MPI_ERR_TRUNCATE && st.MPI_ERROR == MPI_ERR_TRUNCATE, "truncation rc %d", rc);
    CHECK(small[3] == 4, "truncated data");
    MPI_Wait(&r, MPI_STATUS_IGNORE);
    /* One-sided over whatever transport carries this run: a put to the
     * next rank, a fetch-and-add at rank 0, under fences. */
    MPI_Win win = MPI_WIN_NULL;
    int exposed[11] = {0}, counter = 0, one = 1, before = -1;
    CHECK(MPI_Win_create(exposed, sizeof(exposed), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
                         &win) == MPI_SUCCESS &&
              win != MPI_WIN_NULL,
          "MPI_Win_create");
    MPI_Win_fence(0, win);
    MPI_Put(big, 10, MPI_INT, next, 0, 10, MPI_INT, win);
    MPI_Fetch_and_op(&one, &before, MPI_INT, 0, 10, MPI_SUM, win);
    MPI_Win_fence(0, win);
    for (int i = 0; i < 10; i++) {
        CHECK(exposed[i] == i + 1, "put [%d] = %d", i, exposed[i]);
    }
    CHECK(before >= 0 && before < size, "fetch_and_op saw %d", before);
    MPI_Allreduce(&before, &counter, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CHECK(counter == size * (size - 1) / 2, "fetched values sum to %d", counter);
    CHECK(rank != 0 || exposed[10] == size, "the counter is %d", exposed[10]);
    MPI_Win_free(&win);
    bad_request_handles();
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

/* A request's error goes to its own communicator's handler: a truncated
 * receive on a communicator that returns errors is returned by MPI_Wait,
 * while MPI_COMM_WORLD keeps the fatal default. */
static void request_errors_go_to_their_communicator(void)
{
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int big[8] = {1, 2, 3, 4, 5, 6, 7, 8}, small[2] = {0};
    MPI_Request rr, sr;
    MPI_Status st;
    MPI_Irecv(small, 2, MPI_INT, prev, 3, dup, &rr);
    MPI_Isend(big, 8, MPI_INT, next, 3, dup, &sr);
    int rc = MPI_Wait(&rr, &st);
    CHECK(rc == MPI_ERR_TRUNCATE && st.MPI_ERROR == MPI_ERR_TRUNCATE, "MPI_Wait on dup returned %d",
          rc);
    CHECK(small[0] == 1 && small[1] == 2, "truncated data");
    CHECK(MPI_Wait(&sr, MPI_STATUS_IGNORE) == MPI_SUCCESS, "send");
    MPI_Errhandler eh;
    MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh);
    CHECK(eh == MPI_ERRORS_ARE_FATAL, "MPI_COMM_WORLD's handler changed");
    MPI_Comm_free(&dup);
}

/* Blocking small messages that alternate between three communicators
 * with one tag, received in the opposite order of their sending: each
 * lands by its communicator (the pml remembers the last context it looked
 * up, and every call here changes it), and MPI_Recv's own path fills the
 * status and reports a truncation as the general path does. */
static void communicators_interleaved(void)
{
    enum { ROUNDS = 200 };
    MPI_Comm comms[3] = {MPI_COMM_WORLD};
    MPI_Comm_dup(MPI_COMM_WORLD, &comms[1]);
    MPI_Comm_dup(comms[1], &comms[2]);
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < 3; k++) {
            int v[2] = {rank * 1000 + round, k};
            MPI_Send(v, 2, MPI_INT, next, 9, comms[k]);
        }
        for (int k = 2; k >= 0; k--) {
            int in[2] = {-1, -1};
            MPI_Status st;
            MPI_Recv(in, 2, MPI_INT, k == 1 ? MPI_ANY_SOURCE : prev, k == 2 ? MPI_ANY_TAG : 9,
                     comms[k], &st);
            int count;
            MPI_Get_count(&st, MPI_INT, &count);
            CHECK(in[0] == prev * 1000 + round && in[1] == k && st.MPI_SOURCE == prev &&
                      st.MPI_TAG == 9 && count == 2,
                  "round %d, communicator %d: got {%d, %d} from %d tag %d count %d", round, k,
                  in[0], in[1], st.MPI_SOURCE, st.MPI_TAG, count);
        }
    }
    MPI_Comm_set_errhandler(comms[2], MPI_ERRORS_RETURN);
    int out[4] = {rank, rank + 1, rank + 2, rank + 3}, in[2] = {-1, -1};
    MPI_Status st;
    MPI_Send(out, 4, MPI_INT, next, 10, comms[2]);
    int rc = MPI_Recv(in, 2, MPI_INT, prev, 10, comms[2], &st);
    CHECK(rc == MPI_ERR_TRUNCATE && st.MPI_ERROR == MPI_ERR_TRUNCATE && in[0] == prev &&
              in[1] == prev + 1,
          "a 4-int message into 2 ints: rc %d, status %d, got {%d, %d}", rc, st.MPI_ERROR, in[0],
          in[1]);
    MPI_Comm_free(&comms[2]);
    MPI_Comm_free(&comms[1]);
}

/* Which transport libraries MPI_Init mapped into this process, and whether
 * btl/uct's plugin and its core are mapped. */
static void print_transport_libraries(void)
{
    static const char *const libs[] = {"libucs",
                                       "libuct",
                                       "libfabric",
                                       "libibverbs",
                                       "librdmacm",
                                       "/mrail/mrail_btl_uct.so",
                                       "/core/mrail_btl_uct.so"};
    static const char *const shown[] = {"libucs",    "libuct",     "libfabric", "libibverbs",
                                        "librdmacm", "uct-plugin", "uct-core"};
    bool seen[sizeof(libs) / sizeof(libs[0])] = {false};
    FILE *maps = fopen("/proc/self/maps", "r");
    CHECK(maps != NULL, "cannot read /proc/self/maps");
    char line[4096];
    while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
        for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
            seen[i] = seen[i] || strstr(line, libs[i]) != NULL;
        }
    }
    if (maps != NULL) {
        fclose(maps);
    }
    printf("rank=%d mapped=", rank);
    bool any = false;
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        if (seen[i]) {
            printf("%s%s", any ? "," : "", shown[i]);
            any = true;
        }
    }
    printf("%s\n", any ? "" : "none");
}

/* Large messages a receiver takes while their sender makes no MPI call at
 * all (it waits for the file the receiver creates, up to a minute): over
 * shared memory with CMA the receiver copies alone what the sender does not
 * copy, with no hand-off to wait for. */
static void receive_while_sender_computes(const char *flag_file)
{
    enum { NMSG = 3 };
    const int counts[NMSG] = {600000 / 4, (1 << 20) / 4 + 7, 16 << 18}; /* from 512 KiB on */
    int *bufs[NMSG];
    MPI_Request reqs[NMSG];
    for (int i = 0; i < NMSG; i++) {
        bufs[i] = malloc((size_t)counts[i] * sizeof(int));
        CHECK(bufs[i] != NULL, "out of memory");
        if (rank == 0) {
            fill(bufs[i], counts[i], 40 + i);
            MPI_Isend(bufs[i], counts[i], MPI_INT, 1, 40 + i, MPI_COMM_WORLD, &reqs[i]);
        } else if (rank == 1) {
            memset(bufs[i], 0, (size_t)counts[i] * sizeof(int));
            MPI_Recv(bufs[i], counts[i], MPI_INT, 0, 40 + i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            int bad = bad_index(bufs[i], counts[i], 40 + i);
            CHECK(bad < 0, "message %d of %d ints: wrong at %d", i, counts[i], bad);
        }
    }
    if (rank == 1) {
        FILE *f = fopen(flag_file, "w");
        CHECK(f != NULL && fclose(f) == 0, "cannot create %s", flag_file);
    } else if (rank == 0) {
        int waited = 0;
        while (access(flag_file, F_OK) != 0 && waited < 60000) {
            usleep(1000);
            waited++;
        }
        CHECK(waited < 60000, "rank 1 did not receive within 60 s while rank 0 made no MPI call");
        MPI_Waitall(NMSG, reqs, MPI_STATUSES_IGNORE);
    }
    for (int i = 0; i < NMSG; i++) {
        free(bufs[i]);
    }
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    CHECK(provided == MPI_THREAD_SERIALIZED, "provided %d", provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && !strcmp(argv[1], "--fatal")) {
        int v = 0; /* the default handler must abort the job, naming the call */
        MPI_Send(&v, 1, MPI_INT, size + 3, 0, MPI_COMM_WORLD);
        fprintf(stderr, "rank %d: MPI_Send to a bad rank returned\n", rank);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--segv")) {
        if (rank == 1) { /* a bug in the program: the launcher must name the signal */
            volatile int *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            *bad = 1;
        }
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Finalize();
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "--sender-computes")) {
        receive_while_sender_computes(argv[2]);
        printf("rank %d: %d checks passed\n", rank, checks);
        MPI_Finalize();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--offsets")) {
        buffers_at_any_page_offset();
        printf("rank %d: %d checks passed\n", rank, checks);
        MPI_Finalize();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--maps")) {
        print_transport_libraries();
        MPI_Finalize();
        return 0;
    }
    environment();
    exchange();
    buffers_at_any_page_offset();
    wildcards_and_probe();
    completion_calls();
    sends_done_at_once();
    large_windows(true);
    large_windows(false);
    many_outstanding();
    inline_sends_keep_order();
    sequence_past_16_bits();
    persistent_and_cancel();
    generalized_requests();
    matched_probe();
    sendrecv_self_null_bsend();
    errors_return();
    request_errors_go_to_their_communicator();
    communicators_interleaved();
    printf("rank %d: %d checks passed\n", rank, checks);
    MPI_Finalize();
    int finalized;
    MPI_Finalized(&finalized);
    return finalized ? 0 : 1;
}
