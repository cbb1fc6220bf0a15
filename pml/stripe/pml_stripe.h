/* pml/stripe internals: wire headers, requests, the PML instance.
 *
 * Protocols (one state machine each):
 *   eager      (pml_stripe_send.c, pml_stripe_recv.c): EAGER header + data
 *              in one active message on the peer's first rail.
 *   rendezvous (same files): RTS -> the receiver matches and answers CTS
 *              with how much it accepts -> the sender stripes FRAGs over
 *              every rail of the peer, as the scheduler plans them.
 * Headers carry the sender's sequence number per (context, destination);
 * matching (pml_stripe_match.c) restores MPI order whatever the rails do. */
#ifndef PML_STRIPE_H
#define PML_STRIPE_H

#include "mrail/pml.h"
#include "mrail/rails.h"
#include "pml_stripe_match.h"
#include "pml_stripe_sched.h"

typedef struct pml_frag_ctx pml_frag_ctx_t;

#define PML_MAX_RAILS 16 /* rails to one peer the scheduler spreads over */

enum { PML_TAG_EAGER = 1, PML_TAG_RTS, PML_TAG_CTS, PML_TAG_FRAG };

/* EAGER and RTS. */
typedef struct pml_hdr_match {
    uint32_t ctx;
    int32_t src;
    int32_t tag;
    uint32_t seq;
    uint64_t len;  /* message length */
    uint64_t sreq; /* RTS: the sender's request, echoed in CTS */
} pml_hdr_match_t;

typedef struct pml_hdr_cts {
    uint64_t sreq, rreq;
    uint64_t accepted; /* bytes the receiver takes (less when truncating) */
} pml_hdr_cts_t;

typedef struct pml_hdr_frag {
    uint64_t rreq;
    uint64_t offset;
} pml_hdr_frag_t;

typedef enum {
    PML_SEND_EAGER_SENDING, /* in a btl's queue */
    PML_SEND_RTS_SENT,      /* waiting for CTS */
    PML_SEND_STRIPING,      /* fragments out, waiting for their completions */
    PML_SEND_DONE,
} pml_send_state_t;

typedef enum {
    PML_RECV_POSTED,    /* in the matching queue */
    PML_RECV_RECEIVING, /* matched an RTS, CTS sent, fragments arriving */
    PML_RECV_DONE,
} pml_recv_state_t;

struct mrail_pml_request {
    mrail_pml_t *pml;
    struct mrail_pml_request *next_free;
    bool is_send;
    bool complete;
    bool cancelled;
    int error; /* MRAIL_SUCCESS, or MRAIL_PML_ERR_TRUNCATE */
    uint32_t ctx;
    int32_t peer; /* send: destination; recv: source asked (may be ANY) */
    int32_t tag;
    void *buf;
    size_t len; /* buffer length */
    mrail_pml_status_t status;
    /* send */
    pml_send_state_t sstate;
    pml_hdr_match_t mhdr;
    pml_hdr_frag_t *frag_hdrs;
    pml_frag_ctx_t *frag_ctx;
    /* per rail of this message: bytes and fragments still out, for one
     * throughput sample when the rail's last fragment completes */
    size_t rail_bytes[PML_MAX_RAILS];
    unsigned rail_pending[PML_MAX_RAILS];
    double t_issue;
    bool rail_sampled[PML_MAX_RAILS];
    size_t frags_pending;
    bool synchronous;
    /* recv */
    pml_recv_state_t rstate;
    match_recv_t match;
    size_t expected, received;
};

/* An arrived EAGER or RTS header on its way through matching. */
typedef struct pml_unexpected {
    struct pml_unexpected *next_free;
    match_msg_t match;
    pml_hdr_match_t hdr;
    bool rts;
    bool consumed;                 /* matched while its data was still live */
    const struct iovec *live_segs; /* EAGER payload in the btl's buffer, during delivery */
    int live_nsegs;
    void *data; /* EAGER payload copied once it has to wait */
} pml_unexpected_t;

typedef struct pml_comm {
    match_comm_t match;
    uint32_t *send_seq; /* next sequence number per destination */
} pml_comm_t;

struct mrail_pml {
    mrail_rte_t *rte;
    uint32_t rank, size;
    mrail_rails_t rails;
    mrail_btl_am_table_t am;
    sched_opts_t sched_opts;
    sched_rail_t **sched; /* per peer, per rail: what the scheduler knows */
    pml_comm_t *comms;
    uint32_t ncomms;
    int failed;             /* a btl reported a failure */
    pml_unexpected_t *live; /* the header being delivered right now */
    /* Recycled objects: the fast path allocates nothing. */
    mrail_pml_request_t *free_requests;
    pml_unexpected_t *free_unexpected;
    unsigned nfree_requests, nfree_unexpected;
};

/* Recycling (pml_stripe_pml.c). */
pml_unexpected_t *pml_unexpected_get(mrail_pml_t *pml);
void pml_unexpected_put(mrail_pml_t *pml, pml_unexpected_t *u);

/* pml_stripe_component.c: the scheduler options the MCA parameters set. */
sched_opts_t pml_stripe_sched_opts(void);

/* One fragment in flight: what its completion tells the scheduler. */
struct pml_frag_ctx {
    mrail_pml_request_t *req;
    uint32_t peer;
    unsigned rail;
    size_t bytes;
    bool deferred; /* the btl finished it later than it took it */
};

/* pml_stripe_pml.c */
double pml_now_us(void);
pml_comm_t *pml_comm(mrail_pml_t *pml, uint32_t ctx);
/* Sends a small control header on the peer's first rail without waiting. */
int pml_send_control(mrail_pml_t *pml, uint32_t peer, mrail_btl_tag_t tag, const void *hdr,
                     size_t len);
void pml_request_complete(mrail_pml_request_t *req);

/* pml_stripe_send.c: the send side of both protocols. */
int pml_send_start(mrail_pml_t *pml, mrail_pml_request_t *req);
void pml_send_on_cts(mrail_pml_t *pml, uint32_t from, const pml_hdr_cts_t *cts);

/* pml_stripe_recv.c: the receive side of both protocols. */
void pml_recv_matched(match_recv_t *recv, match_msg_t *msg, void *ctx);
void pml_recv_on_match_header(mrail_pml_t *pml, uint32_t from, mrail_btl_tag_t tag,
                              const struct iovec *segs, int nsegs);
void pml_recv_on_frag(mrail_pml_t *pml, const struct iovec *segs, int nsegs);
int pml_recv_start(mrail_pml_t *pml, mrail_pml_request_t *req);

#endif
