/* MPI matching for one communicator, as a pure unit (no I/O).
 *
 * Every message header carries the sender's sequence number for this
 * (communicator, destination); rails may deliver headers in any order, so
 * a header whose number is not the next expected from its source waits in
 * that source's out-of-order list. Headers then match in sequence order
 * (MPI's non-overtaking rule) against posted receives in post order;
 * unmatched ones queue as unexpected, in the order they became matchable,
 * which is what an MPI_ANY_SOURCE receive or probe searches. */
#ifndef PML_STRIPE_MATCH_H
#define PML_STRIPE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MATCH_ANY_SOURCE (-1)
#define MATCH_ANY_TAG (-1)

typedef struct match_msg {
    struct match_msg *next;
    int32_t src;
    int32_t tag;
    uint32_t seq;
    void *owner; /* the PML's message state */
} match_msg_t;

typedef struct match_recv {
    struct match_recv *next;
    int32_t src; /* or MATCH_ANY_SOURCE */
    int32_t tag; /* or MATCH_ANY_TAG */
    void *owner; /* the PML's request */
} match_recv_t;

/* Called for each header that matched a posted receive. */
typedef void (*match_fn_t)(match_recv_t *recv, match_msg_t *msg, void *ctx);

typedef struct match_comm {
    uint32_t nprocs;
    uint32_t *expected;         /* next sequence number per source */
    match_msg_t **out_of_order; /* per source, sorted by seq */
    match_recv_t *posted, *posted_tail;
    match_msg_t *unexpected, *unexpected_tail;
    match_fn_t on_match;
    void *ctx;
} match_comm_t;

int match_comm_init(match_comm_t *c, uint32_t nprocs, match_fn_t on_match, void *ctx);
void match_comm_fini(match_comm_t *c);

/* A header arrived; msg stays owned by the caller until it is handed to
 * on_match or taken back from the unexpected queue. Headers from a source
 * that now become in order are matched too. */
void match_incoming(match_comm_t *c, match_msg_t *msg);

/* The common case of match_incoming, with no message state to keep: the
 * header (src, tag, seq) is next in sequence from its source and a posted
 * receive takes it. Returns that receive, removed from the queue, and the
 * source's sequence advanced; NULL, with nothing changed, in any other
 * case (then call match_incoming). After handling the match, the caller
 * calls match_incoming_done for headers it may have unblocked. */
match_recv_t *match_incoming_posted(match_comm_t *c, int32_t src, int32_t tag, uint32_t seq);
void match_incoming_done(match_comm_t *c, int32_t src);

/* The whole sequence number of a header from src that carried only its
 * low 16 bits: the nearest to the one expected (a single rail delivers in
 * order, so it is the one expected). */
static inline uint32_t match_seq_widen(const match_comm_t *c, uint32_t src, uint16_t low)
{
    uint32_t expected = c->expected[src];
    return expected + (uint16_t)(low - (uint16_t)expected);
}

/* Posts a receive: returns the unexpected message it matches (removed from
 * the queue; on_match is not called) or NULL when it was queued. */
match_msg_t *match_post(match_comm_t *c, match_recv_t *recv);

/* The first unexpected message a receive for (src, tag) would match,
 * left in place; NULL if none. */
match_msg_t *match_probe(const match_comm_t *c, int32_t src, int32_t tag);

/* Takes msg out of the unexpected queue (a matched probe, MPI_Mprobe). */
void match_take(match_comm_t *c, match_msg_t *msg);

/* Removes a posted receive that has not matched; false if it is not queued. */
bool match_cancel(match_comm_t *c, match_recv_t *recv);

#endif
