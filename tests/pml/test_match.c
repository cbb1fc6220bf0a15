/* MPI matching: sequence order over rails that reorder, wildcards,
 * unexpected messages, probe, cancel. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pml_stripe_match.h"

typedef struct log {
    match_recv_t *recv[4096];
    match_msg_t *msg[4096];
    int n;
} log_t;

static void on_match(match_recv_t *recv, match_msg_t *msg, void *ctx)
{
    log_t *l = ctx;
    l->recv[l->n] = recv;
    l->msg[l->n] = msg;
    l->n++;
}

static match_msg_t msg(int32_t src, int32_t tag, uint32_t seq)
{
    return (match_msg_t){.src = src, .tag = tag, .seq = seq};
}

static match_recv_t recv(int32_t src, int32_t tag)
{
    return (match_recv_t){.src = src, .tag = tag};
}

Test(match, reordered_headers_match_in_sequence_order)
{
    log_t l = {0};
    match_comm_t c;
    cr_assert_eq(match_comm_init(&c, 2, on_match, &l), 0);
    match_recv_t r0 = recv(1, 7), r1 = recv(1, 7), r2 = recv(1, 7);
    cr_assert_null(match_post(&c, &r0));
    cr_assert_null(match_post(&c, &r1));
    cr_assert_null(match_post(&c, &r2));
    match_msg_t m0 = msg(1, 7, 0), m1 = msg(1, 7, 1), m2 = msg(1, 7, 2);
    match_incoming(&c, &m2); /* a faster rail brought these first */
    match_incoming(&c, &m1);
    cr_expect_eq(l.n, 0, "nothing may match before sequence 0 arrives");
    match_incoming(&c, &m0);
    cr_assert_eq(l.n, 3);
    cr_expect(l.recv[0] == &r0 && l.msg[0] == &m0);
    cr_expect(l.recv[1] == &r1 && l.msg[1] == &m1);
    cr_expect(l.recv[2] == &r2 && l.msg[2] == &m2);
    match_comm_fini(&c);
}

Test(match, unexpected_messages_wait_for_their_receive)
{
    log_t l = {0};
    match_comm_t c;
    match_comm_init(&c, 3, on_match, &l);
    match_msg_t a = msg(2, 1, 0), b = msg(0, 1, 0), d = msg(2, 5, 1);
    match_incoming(&c, &a);
    match_incoming(&c, &b);
    match_incoming(&c, &d);
    cr_expect_eq(l.n, 0);
    match_recv_t any = recv(MATCH_ANY_SOURCE, 1), tag5 = recv(2, 5), none = recv(1, 1);
    cr_expect_eq(match_post(&c, &any), &a, "any-source takes the first that became matchable");
    cr_expect_eq(match_post(&c, &tag5), &d, "a tag filter skips other tags of the source");
    cr_expect_null(match_post(&c, &none));
    match_recv_t any2 = recv(MATCH_ANY_SOURCE, MATCH_ANY_TAG);
    cr_expect_eq(match_post(&c, &any2), &b);
    match_comm_fini(&c);
}

Test(match, probe_leaves_take_removes)
{
    log_t l = {0};
    match_comm_t c;
    match_comm_init(&c, 2, on_match, &l);
    match_msg_t a = msg(0, 3, 0), b = msg(1, 4, 0);
    match_incoming(&c, &a);
    match_incoming(&c, &b);
    cr_expect_eq(match_probe(&c, MATCH_ANY_SOURCE, 4), &b);
    cr_expect_eq(match_probe(&c, MATCH_ANY_SOURCE, 4), &b, "probe must not consume");
    cr_expect_null(match_probe(&c, 0, 4));
    match_take(&c, &b);
    cr_expect_null(match_probe(&c, MATCH_ANY_SOURCE, 4));
    cr_expect_eq(match_probe(&c, MATCH_ANY_SOURCE, MATCH_ANY_TAG), &a);
    match_take(&c, &a);
    match_msg_t later = msg(0, 3, 1);
    match_incoming(&c, &later); /* the queue works after being emptied */
    cr_expect_eq(match_probe(&c, 0, 3), &later);
    match_comm_fini(&c);
}

Test(match, cancel_removes_only_unmatched_receives)
{
    log_t l = {0};
    match_comm_t c;
    match_comm_init(&c, 1, on_match, &l);
    match_recv_t r0 = recv(0, 1), r1 = recv(0, 2);
    match_post(&c, &r0);
    match_post(&c, &r1);
    cr_expect(match_cancel(&c, &r0));
    cr_expect_not(match_cancel(&c, &r0), "already cancelled");
    match_msg_t m = msg(0, 2, 0);
    match_incoming(&c, &m);
    cr_assert_eq(l.n, 1);
    cr_expect_eq(l.recv[0], &r1);
    cr_expect_not(match_cancel(&c, &r1), "a matched receive cannot be cancelled");
    match_recv_t r2 = recv(0, 9);
    cr_expect_null(match_post(&c, &r2), "the posted queue works after the tail was removed");
    match_comm_fini(&c);
}

Test(match, sequence_numbers_wrap)
{
    log_t l = {0};
    match_comm_t c;
    match_comm_init(&c, 1, on_match, &l);
    c.expected[0] = UINT32_MAX - 1;
    match_recv_t r[3] = {recv(0, 0), recv(0, 0), recv(0, 0)};
    for (int i = 0; i < 3; i++) {
        match_post(&c, &r[i]);
    }
    match_msg_t a = msg(0, 0, UINT32_MAX - 1), b = msg(0, 0, UINT32_MAX), d = msg(0, 0, 0);
    match_incoming(&c, &d);
    match_incoming(&c, &b);
    match_incoming(&c, &a);
    cr_assert_eq(l.n, 3);
    cr_expect(l.msg[0] == &a && l.msg[1] == &b && l.msg[2] == &d);
    match_comm_fini(&c);
}

Test(match, the_fast_path_takes_only_an_in_order_header_a_receive_waits_for)
{
    log_t l = {0};
    match_comm_t c;
    cr_assert_eq(match_comm_init(&c, 2, on_match, &l), 0);
    match_recv_t r0 = recv(1, 7), r1 = recv(MATCH_ANY_SOURCE, MATCH_ANY_TAG), r2 = recv(1, 7);
    match_post(&c, &r0);
    match_post(&c, &r1);
    match_post(&c, &r2);
    cr_expect_null(match_incoming_posted(&c, 1, 7, 1), "sequence 1 before 0: declined");
    cr_expect_null(match_incoming_posted(&c, 2, 7, 0), "a source out of range: declined");
    cr_expect_null(match_incoming_posted(&c, -1, 7, 0), "a negative source: declined");
    match_msg_t m1 = msg(1, 9, 1), m2 = msg(1, 7, 2);
    match_incoming(&c, &m1); /* parked: 0 is missing */
    match_incoming(&c, &m2);
    cr_expect_eq(l.n, 0);
    cr_expect_eq(match_incoming_posted(&c, 1, 7, 0), &r0, "in order: the first fitting receive");
    cr_expect_eq(l.n, 0, "parked headers wait until the caller is done with its own");
    match_incoming_done(&c, 1);
    cr_assert_eq(l.n, 2, "then the ones it held up match, in order");
    cr_expect(l.msg[0] == &m1 && l.recv[0] == &r1);
    cr_expect(l.msg[1] == &m2 && l.recv[1] == &r2);
    cr_expect_null(match_incoming_posted(&c, 0, 7, 0), "nothing posted fits: declined");
    match_msg_t m3 = msg(0, 7, 0);
    match_incoming(&c, &m3);
    match_recv_t r3 = recv(0, 7);
    cr_expect_eq(match_post(&c, &r3), &m3, "a declined header was left for match_incoming");
    match_comm_fini(&c);
}

Test(match, a_short_sequence_number_widens_to_the_expected_one)
{
    log_t l = {0};
    match_comm_t c;
    cr_assert_eq(match_comm_init(&c, 2, on_match, &l), 0);
    const uint32_t expected[] = {0, 5, 65535, 65536, 0x1234ffff, UINT32_MAX};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        c.expected[1] = expected[i];
        cr_expect_eq(match_seq_widen(&c, 1, (uint16_t)expected[i]), expected[i]);
        cr_expect_eq(match_seq_widen(&c, 1, (uint16_t)(expected[i] + 3)), expected[i] + 3,
                     "a header ahead of its turn keeps its distance");
    }
    match_comm_fini(&c);
}

/* Shuffled arrival across sources and within them, receives with every mix
 * of wildcards: every message matches exactly once, and no receive gets a
 * message while an earlier one from the same source that it also fits is
 * still waiting (non-overtaking). */
Test(match, randomized_non_overtaking)
{
    enum { NSRC = 4, PER = 200, N = NSRC * PER };
    srandom(12345);
    static match_msg_t msgs[N];
    static match_recv_t recvs[N];
    uint32_t next_seq[NSRC] = {0};
    for (int i = 0; i < N; i++) {
        int src = i % NSRC;
        msgs[i] = msg(src, (int32_t)(random() % 3), next_seq[src]++);
    }
    /* Receives: one per message, its pattern a wildcard version of some
     * message so that the counts work out; posted in random order. */
    int order[N];
    for (int i = 0; i < N; i++) {
        order[i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(random() % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    log_t *l = calloc(1, sizeof(*l));
    match_comm_t c;
    match_comm_init(&c, NSRC, on_match, l);
    int posted_at[N], matched_by[N];
    for (int i = 0; i < N; i++) {
        matched_by[i] = -1;
    }
    /* Arrival: a shuffled stream (rails reorder everything). */
    int arrival[N];
    for (int i = 0; i < N; i++) {
        arrival[i] = order[i];
    }
    int a = 0, p = 0;
    while (a < N || p < N) {
        if (p < N && (a >= N || random() % 2)) {
            match_msg_t *tmpl = &msgs[p];
            recvs[p] = recv(random() % 4 ? tmpl->src : MATCH_ANY_SOURCE,
                            random() % 4 ? tmpl->tag : MATCH_ANY_TAG);
            posted_at[p] = p;
            match_msg_t *m = match_post(&c, &recvs[p]);
            if (m != NULL) {
                cr_assert_eq(matched_by[m - msgs], -1);
                matched_by[m - msgs] = p;
            }
            p++;
        } else {
            /* Half the arrivals as the PML handles them: the fast path
             * first, the general one when it declines. */
            match_msg_t *m = &msgs[arrival[a++]];
            match_recv_t *r =
                random() % 2 ? match_incoming_posted(&c, m->src, m->tag, m->seq) : NULL;
            if (r != NULL) {
                cr_assert_eq(matched_by[m - msgs], -1);
                matched_by[m - msgs] = (int)(r - recvs);
                match_incoming_done(&c, m->src);
            } else {
                match_incoming(&c, m);
            }
        }
        for (int k = 0; k < l->n; k++) {
            int mi = (int)(l->msg[k] - msgs), ri = (int)(l->recv[k] - recvs);
            cr_assert_eq(matched_by[mi], -1, "message %d matched twice", mi);
            matched_by[mi] = ri;
        }
        l->n = 0;
    }
    /* Leftovers: receives whose pattern no longer fits anything are fine;
     * check the rule on every matched pair. */
    for (int mi = 0; mi < N; mi++) {
        int ri = matched_by[mi];
        if (ri < 0) {
            continue;
        }
        for (int mj = 0; mj < N; mj++) {
            if (msgs[mj].src != msgs[mi].src || msgs[mj].seq >= msgs[mi].seq) {
                continue;
            }
            bool fits = (recvs[ri].src == MATCH_ANY_SOURCE || recvs[ri].src == msgs[mj].src) &&
                        (recvs[ri].tag == MATCH_ANY_TAG || recvs[ri].tag == msgs[mj].tag);
            if (fits) {
                int rj = matched_by[mj];
                cr_assert(rj >= 0 && posted_at[rj] < posted_at[ri],
                          "message %d (seq %u) overtook message %d (seq %u) of source %d", mi,
                          msgs[mi].seq, mj, msgs[mj].seq, msgs[mi].src);
            }
        }
    }
    match_comm_fini(&c);
    free(l);
}
