/* pml/stripe internals: wire headers, requests, the PML instance.
 *
 * Protocols (one state machine per side, pml_stripe_send.c and
 * pml_stripe_recv.c):
 *   eager      EAGER header + data in one active message on the peer's
 *              first rail.
 *   rendezvous RTS -> the receiver matches and answers CTS with how much it
 *              accepts -> the sender stripes FRAGs over every rail of the
 *              peer, as the scheduler plans them. Over more than one rail
 *              the receiver confirms with FIN, so that the fragments of a
 *              rail that fails can be sent again (pml_stripe_failover.c).
 *   rdma get   RTS with the sender's buffer -> the receiver pulls the data
 *              with the btl's get() -> FIN. Single-rail peers whose btl
 *              offers get, from its min_rdma_pipeline_size on.
 * Headers carry the sender's sequence number per (context, destination);
 * matching (pml_stripe_match.c) restores MPI order whatever the rails do. */
#ifndef PML_STRIPE_H
#define PML_STRIPE_H

#include <stdio.h>

#include "mrail/pml.h"
#include "mrail/rails.h"
#include "pml_stripe_match.h"
#include "pml_stripe_sched.h"

typedef struct pml_frag_ctx pml_frag_ctx_t;
typedef struct pml_stripe pml_stripe_t;

#define PML_MAX_PIECES 256 /* pieces of a message one btl send may carry */

#define PML_COMM_CHUNK 256 /* contexts per chunk of the context table */

#define PML_REG_MAX 64 /* bytes of a btl memory handle an RTS can carry */

enum {
    PML_TAG_EAGER = 1,
    PML_TAG_RTS,
    PML_TAG_CTS,
    PML_TAG_FRAG,
    PML_TAG_FIN,
    PML_TAG_ACK,
    PML_TAG_PROBE, /* over a rail that failed: is it back? (pml_stripe_failover.c) */
    PML_TAG_SHORT, /* EAGER to a peer of one rail, with pml_hdr_short_t */
};

/* First in every message but FRAG: the reliable control channel to peers
 * with several rails (pml_stripe_ctl.c). */
typedef struct pml_hdr_ctl {
    uint32_t cseq; /* this message's number; 0: not tracked */
    uint32_t cack; /* every message of ours below this arrived; 0: no news */
} pml_hdr_ctl_t;

/* ACK: only the acknowledgement, when no other message carries it. */
typedef struct pml_hdr_ack {
    pml_hdr_ctl_t c;
} pml_hdr_ack_t;

/* EAGER and RTS. */
typedef struct pml_hdr_match {
    pml_hdr_ctl_t c;
    uint32_t ctx;
    int32_t src;
    int32_t tag;
    uint32_t seq;
    uint64_t len;  /* message length */
    uint64_t sreq; /* RTS: the sender's request, echoed in CTS */
} pml_hdr_match_t;

/* EAGER to a peer reached over one rail (no control channel to carry), on
 * a communicator whose context fits 16 bits: 8 bytes, so that an 8-byte
 * message is a 24-byte record and a cache line carries more than two (the
 * message rate is set by the lines that go from core to core). The rail
 * keeps order, so the receiver knows the sender (the btl says who) and
 * the rest of the sequence number (match_seq_widen); the length is the
 * payload's. */
typedef struct pml_hdr_short {
    uint16_t ctx;
    uint16_t seq; /* the low 16 bits */
    int32_t tag;
} pml_hdr_short_t;

/* RTS: the match header, and for rdma get where the data is. */
typedef struct pml_hdr_rts {
    pml_hdr_match_t m;
    uint64_t addr;    /* rget: the sender's buffer */
    uint32_t rget;    /* 1: the receiver pulls the data with get() */
    uint32_t reg_len; /* bytes of reg that matter */
    uint8_t reg[PML_REG_MAX];
} pml_hdr_rts_t;

/* CTS, with what the receiver measured of the sender's rails towards it:
 * the scheduler's measured bandwidth comes from here (arrival rates are the
 * truth; a sender's completions only say a socket buffer took the bytes). */
typedef struct pml_hdr_cts {
    pml_hdr_ctl_t c;
    uint64_t sreq, rreq;
    uint64_t rid;      /* the receive's id: fragments for another are dropped */
    uint64_t accepted; /* bytes the receiver takes (less when truncating) */
    uint32_t nrails;   /* entries of bw and samples that are valid */
    uint32_t pad;
    float bw[MRAIL_MAX_RAILS]; /* MB/s, by the sender's rail index */
    uint16_t samples[MRAIL_MAX_RAILS];
} pml_hdr_cts_t;

enum {
    PML_FRAG_CONFIRM = 1u << 0, /* striped over rails: dedupe by index, answer FIN */
    PML_FRAG_RESENT = 1u << 1,  /* sent again after a rail failed: not a rate sample */
    /* taken by a rail with room from another's queue, late: counted as a
     * sample it would stretch the rail's span and understate its rate */
    PML_FRAG_STOLEN = 1u << 2,
};

typedef struct pml_hdr_frag {
    uint64_t rreq, rid;
    uint64_t offset;
    uint32_t index, nfrags; /* in the sender's plan */
    uint8_t rail;           /* the sender's rail index, for the rate samples */
    uint8_t flags;          /* PML_FRAG_* */
    uint16_t pad;
    uint32_t pad2;
} pml_hdr_frag_t;

typedef struct pml_hdr_fin {
    pml_hdr_ctl_t c;
    uint64_t sreq;
} pml_hdr_fin_t;

typedef enum {
    PML_SEND_EAGER_SENDING, /* in a btl's queue */
    PML_SEND_RTS_SENT,      /* waiting for CTS (or, rget, for FIN) */
    PML_SEND_STRIPING,      /* fragments out, waiting for their completions (and FIN) */
    PML_SEND_DONE,
} pml_send_state_t;

typedef enum {
    PML_RECV_POSTED,    /* in the matching queue */
    PML_RECV_RECEIVING, /* matched an RTS, CTS sent, fragments arriving */
    PML_RECV_GETTING,   /* matched an rget RTS, get()s out */
    PML_RECV_DONE,
} pml_recv_state_t;

struct mrail_pml_request {
    pml_stripe_t *pml;
    struct mrail_pml_request *next_free;
    bool is_send;
    bool complete;
    bool cancelled;
    int error; /* MRAIL_SUCCESS, or MRAIL_ERR_TRUNCATE */
    uint32_t ctx;
    int32_t peer; /* send: destination; recv: source asked (may be ANY) */
    int32_t tag;
    void *buf;
    size_t len;              /* buffer length */
    const struct iovec *iov; /* the buffer in pieces (isendv/irecvv), else NULL */
    int niov;
    size_t *iov_at; /* where each piece starts in the message */
    mrail_pml_status_t status;
    bool on_active; /* counted in pml->nactive, until complete */
    /* recv */
    pml_recv_state_t rstate;
    match_recv_t match;
    size_t expected, received;
    uint64_t rid;
    uint32_t src;  /* the matched sender */
    uint64_t sreq; /* its request, for FIN */
    size_t gets_pending;
    struct pml_confirm *confirm_rx; /* striped over rails: allocated by the first fragment */
    uint64_t place_epoch; /* bumped at completion: btl places into buf are void after it */
    uint32_t slot, gen;   /* its number on the wire (pml_stripe_reqs.c) */
    /* send, last: a receive's request_new clears only what is above (the
     * rts header alone is 120 bytes), so a receive never reads these. Their
     * pointers are NULL whenever the request is free (request_free). */
    pml_send_state_t sstate;
    pml_hdr_rts_t rts; /* its m is the EAGER header too */
    pml_hdr_frag_t *frag_hdrs;
    pml_frag_ctx_t *frag_ctx;
    size_t nfrags;
    size_t frags_pending; /* btl callbacks still to come */
    bool synchronous;
    bool confirm; /* striped over rails: done on FIN, fragments kept for failover */
    bool fin_received;
    bool registered;     /* rget: rts.reg holds a handle to release */
    uint8_t adapt_class; /* 1 + its class in pml->adapt[peer] while measured there; 0: not */
    mrail_btl_module_t *rget_module;
    mrail_pml_request_t *prev_striping, *next_striping; /* pml->striping */
};

/* A receive striped over several rails: which fragments arrived (copies
 * sent again after a failover are dropped), and when, per sender rail. */
typedef struct pml_confirm {
    uint32_t nfrags;
    double first[MRAIL_MAX_RAILS], last[MRAIL_MAX_RAILS];
    size_t bytes[MRAIL_MAX_RAILS], first_len[MRAIL_MAX_RAILS];
    uint64_t seen[]; /* bitmap of fragment indices */
} pml_confirm_t;

/* An arrived EAGER or RTS header on its way through matching. */
typedef struct pml_unexpected {
    struct pml_unexpected *next_free;
    match_msg_t match;
    pml_hdr_match_t hdr;
    bool rts;
    bool consumed;  /* matched while its data was still live */
    uint64_t raddr; /* rget: the sender's buffer and handle */
    bool rget;
    uint32_t reg_len;
    const struct iovec *live_segs; /* EAGER payload in the btl's buffer, during delivery */
    int live_nsegs;
    void *data; /* EAGER payload copied once it has to wait: small, or malloc'd */
    /* Last, and not cleared for reuse: only what reg_len and data say is read. */
    uint8_t reg[PML_REG_MAX];
    uint8_t small[64];
} pml_unexpected_t;

typedef struct pml_comm {
    match_comm_t match;
    uint32_t *send_seq; /* next sequence number per destination */
} pml_comm_t;

/* The reliable control channel to one peer (pml_stripe_ctl.c). */
typedef struct pml_ctl_msg pml_ctl_msg_t;
typedef struct pml_ctl_copy pml_ctl_copy_t;
typedef struct pml_ctl_peer {
    uint32_t next_seq;          /* cseq of our next message */
    uint32_t expect;            /* every cseq of the peer's below this arrived */
    uint64_t ahead;             /* bit k: the peer's expect + 1 + k arrived */
    unsigned unacked_rx;        /* arrivals since we last sent expect */
    pml_ctl_msg_t *head, *tail; /* sent, not acknowledged */
} pml_ctl_peer_t;

/* The send window of one rail to one peer: fragments in its btl, and those
 * waiting for room (pml_stripe_send.c). */
typedef struct pml_railq {
    pml_frag_ctx_t *head, *tail;
    size_t queued_bytes; /* of the fragments waiting */
    unsigned inflight;
    bool pumping; /* a pump of this rail is on the stack */
    /* While the rail is failed: when to probe it next, and the back-off. */
    struct pml_stripe *pml;
    uint32_t peer;
    unsigned rail;
    bool probing;
    double next_probe_us, probe_gap_us;
    uint64_t sent_bytes, sent_frags; /* striped fragments handed to the btl */
    unsigned failed, restored;
} pml_railq_t;

struct pml_stripe {
    mrail_pml_t base; /* first: the ops table the MPI layer calls through */
    mrail_rte_t *rte;
    uint32_t rank, size;
    mrail_rails_t rails;
    mrail_btl_am_table_t am;
    sched_opts_t sched_opts;
    sched_rail_t **sched;       /* per peer, per rail: what the scheduler knows */
    sched_rail_t **rx_rates;    /* per peer, per its rail index: arrival rates measured here */
    pml_railq_t **railq;        /* per peer, per rail: the send window */
    pml_ctl_peer_t *ctl;        /* per peer: the reliable control channel */
    pml_ctl_copy_t *ctl_copies; /* untracked control messages a btl still holds */
    pml_ctl_msg_t *ctl_orphans; /* acknowledged ones a btl still holds */
    unsigned send_window;       /* fragments per rail in a btl at once; 0: no bound */
    bool steal;                 /* a rail with room takes waiting fragments from slower ones */
    double stall_us;            /* see pml_stripe_stall_timeout; 0: off */
    bool report;                /* per-rail figures to stderr at close */
    unsigned *stall_seen;       /* per peer: the stall check round that looked at it */
    unsigned stall_gen;
    double silent_us;         /* see pml_stripe_silent_peer; 0: off */
    unsigned *silent_seen;    /* per peer: the last silence round that found it awaited */
    double *silent_since_us;  /* per peer: since when (or its last probe) */
    double *rndv_rx_us;       /* per peer: when its last rendezvous (RTS) arrived */
    size_t bidir_rget;        /* see pml_stripe_bidir_rget_size; 0: off */
    bool rget_adapt;          /* see pml_stripe_rget_adapt */
    struct pml_adapt **adapt; /* per peer, PML_ADAPT_CLASSES of them once used */
    unsigned silent_round;
    double silent_last_us; /* when the last round ran */
    uint64_t next_rid;
    unsigned spin_limit;  /* see mrail_pml_spin_limit */
    bool sleep;           /* pml_stripe_sleep, on a crowded node */
    unsigned sleep_after; /* idle turns that yield before one sleeps */
    mrail_pml_stats_t stats;
    mrail_pml_request_t *striping; /* confirmed sends not finished: failover's work list */
    /* Requests not complete (on_active): what a dead peer fails. They are
     * found by a walk over reqs (pml_stripe_reqs.c), which only a peer's
     * death and the silent-peer check make: a list cost every message two
     * more lines to touch. */
    size_t nactive;
    bool *unreachable;        /* per peer: every rail to it failed */
    unsigned rails_down;      /* rails to peers failed now (probed for their return) */
    unsigned health_polls;    /* progress calls since the last probe round */
    pml_comm_t **comm_chunks; /* by context / PML_COMM_CHUNK (pml_comm) */
    uint32_t ncomm_chunks;
    /* The last context looked up: a message's send and its arrival each
     * ask once, nearly always for the communicator asked just before.
     * Chunks never move, so the pointer stays good until close. Starts at
     * UINT32_MAX, beyond every context, with comm_last NULL: the answer a
     * lookup of it would give. */
    uint32_t comm_last_ctx;
    pml_comm_t *comm_last;
    int failed;             /* a btl reported a failure */
    pml_unexpected_t *live; /* the header being delivered right now */
    /* Recycled objects: the fast path allocates nothing. */
    mrail_pml_request_t *free_requests;
    pml_unexpected_t *free_unexpected;
    unsigned nfree_requests, nfree_unexpected;
    mrail_pml_request_t **reqs; /* every request ever made, by slot */
    uint32_t nreqs, reqs_cap;
};

/* Requests by number (pml_stripe_reqs.c). A header names a request of its
 * peer's by (generation << 32 | slot + 1), never by address: a stale,
 * corrupt or hostile number finds no request (or one in another state,
 * which the caller checks), never arbitrary memory. */
int pml_req_register(pml_stripe_t *pml, mrail_pml_request_t *req);
uint64_t pml_req_handle(const mrail_pml_request_t *req);
mrail_pml_request_t *pml_req_lookup(const pml_stripe_t *pml, uint64_t handle);

/* Recycling (pml_stripe_pml.c). */
pml_unexpected_t *pml_unexpected_get(pml_stripe_t *pml);
void pml_unexpected_put(pml_stripe_t *pml, pml_unexpected_t *u);

/* pml_stripe_adapt.c: rdma get or the send path for large messages over a
 * btl that shares the copy (sm with CMA), chosen by measuring both, per
 * peer, per size class (one per doubling from PML_ADAPT_MIN), apart for
 * one-way traffic and for a peer that streams to us too. */
#define PML_ADAPT_MIN (64u << 10)
#define PML_ADAPT_SIZES 7 /* 64 KiB ... 4 MiB and more */
#define PML_ADAPT_CLASSES (2 * PML_ADAPT_SIZES)
#define PML_ADAPT_RECENT 3
enum { PML_ADAPT_GET, PML_ADAPT_RINGS };
typedef struct pml_adapt {
    bool used;       /* choice set: by the first message of the class */
    uint8_t choice;  /* PML_ADAPT_GET or PML_ADAPT_RINGS */
    bool probing;    /* this epoch tries the other choice once */
    bool watch;      /* one way below the btl's min: tries get only while the rings are slow */
    bool both;       /* a both-ways class, measured by the lower rank of the pair */
    bool lagging;    /* the try's first epoch, not measured: the follower is a window late */
    bool warmed;     /* the class's first epoch, its warm-up, is over */
    uint8_t seen;    /* epochs in recent, up to PML_ADAPT_RECENT */
    unsigned epochs; /* epochs of the choice since the last try */
    unsigned keep;   /* epochs between two tries */
    unsigned inflight;
    uint64_t bytes;                  /* sent this epoch */
    double busy_since_us, busy_us;   /* time with some message in flight */
    double recent[PML_ADAPT_RECENT]; /* bytes per us, the choice's last epochs, newest first */
} pml_adapt_t;
/* Whether a message of len >= PML_ADAPT_MIN bytes to dst takes rdma get;
 * both: dst streams to us too; get: the choice without measuring, which a
 * class starts from. *cls is what to pass to the two calls below, 0 when
 * not measured (pml_stripe_rget_adapt off: the answer is get). */
bool pml_adapt_use_get(pml_stripe_t *pml, uint32_t dst, size_t len, bool both, bool get,
                       uint8_t *cls);
/* An RTS of len bytes from a lower rank said how it moves (get or not): a
 * higher rank takes that choice for its own both-ways messages to it. */
void pml_adapt_follow(pml_stripe_t *pml, uint32_t from, size_t len, bool get);
void pml_adapt_started(pml_stripe_t *pml, uint32_t dst, uint8_t cls);
void pml_adapt_done(pml_stripe_t *pml, uint32_t dst, uint8_t cls, size_t len);
void pml_adapt_free(pml_stripe_t *pml);
/* A send measured there is over: len bytes moved (0: it failed to start). */
static inline void pml_adapt_release(mrail_pml_request_t *req, size_t len)
{
    if (req->is_send && req->adapt_class != 0) {
        pml_adapt_done(req->pml, (uint32_t)req->peer, req->adapt_class, len);
        req->adapt_class = 0;
    }
}

/* pml_stripe_component.c: the scheduler options the MCA parameters set. */
sched_opts_t pml_stripe_sched_opts(void);
unsigned pml_stripe_send_window(void);
bool pml_stripe_steal(void);
unsigned pml_stripe_stall_timeout(void); /* ms */
unsigned pml_stripe_silent_peer(void);   /* ms */
size_t pml_stripe_bidir_rget_size(void);
bool pml_stripe_rget_adapt(void);
/* pml_stripe_sleep, and pml_stripe_sleep_after in *after. */
bool pml_stripe_sleep(unsigned *after);
bool pml_stripe_report(void);

/* pml_stripe_pml.c: builds the instance; its ops table (mrail/pml.h says
 * what each call does) stays in that file. */
int pml_stripe_open(mrail_pml_component_t *self, mrail_rte_t *rte, mrail_frameworks_t *fws,
                    mrail_pml_t **pml_out, mrail_reason_t *why);
/* One line per peer and rail that carried striped fragments or failed. */
void pml_report_rails(const pml_stripe_t *pml, FILE *out);

/* One fragment of a striped message. */
struct pml_frag_ctx {
    mrail_pml_request_t *req;
    uint32_t peer;
    unsigned rail;              /* where it went last */
    mrail_btl_module_t *module; /* that rail's module: a callback from another is stale */
    size_t offset, len;
    bool issued;                    /* handed to a btl at least once */
    bool queued;                    /* waiting in its rail's queue */
    struct pml_frag_ctx *next_wait; /* in its rail's wait queue */
    struct pml_frag_ctx *prev_wait;
};

/* pml_stripe_iov.c: messages in pieces. */
int pml_iov_prepare(mrail_pml_request_t *req, const struct iovec *iov, int niov);
/* Copies n bytes into the request's buffer at message offset at. */
void pml_copy_in(mrail_pml_request_t *req, size_t at, const void *src, size_t n);
/* The pieces of [at, at + len) of the request's buffer into out (at most
 * max entries); returns how many, or -1 when they would not fit. */
int pml_iov_slice(const mrail_pml_request_t *req, size_t at, size_t len, struct iovec *out,
                  int max);

/* pml_stripe_ctl.c: messages other than FRAG. Sends hdr (which starts with
 * a pml_hdr_ctl_t, filled in here) and the payload to peer over its first
 * rail that is up; to a tracked peer a copy is kept until acknowledged, so
 * the caller's buffers are free at once either way. */
int pml_ctl_send(pml_stripe_t *pml, uint32_t peer, mrail_btl_tag_t tag, void *hdr, size_t hdr_len,
                 const struct iovec *payload, int npayload);
/* Every arrival but FRAG passes here first: takes the acknowledgement it
 * carries; false for a copy that arrived before (drop it). */
bool pml_ctl_arrived(pml_stripe_t *pml, uint32_t from, const void *hdr);
/* The rail of module to peer failed: what went over it and is not
 * acknowledged goes again over the first rail left. */
void pml_ctl_resend(pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *failed);
/* Frees what pml_ctl_copies and pml_ctl_orphans still list; only once the btls are
 * finalized. */
void pml_ctl_free_copies(pml_stripe_t *pml);
int pml_ctl_init(pml_stripe_t *pml);
/* The peer's first rail that is up, or NULL. */
const mrail_rail_t *pml_first_up(const pml_stripe_t *pml, uint32_t peer);
void pml_ctl_fini(pml_stripe_t *pml);

/* pml_stripe_pml.c */
double pml_now_us(void);
/* The matching state of context ctx, made on first use; NULL when out of
 * memory or ctx is beyond MRAIL_PML_CTX_MAX. */
pml_comm_t *pml_comm_lookup(pml_stripe_t *pml, uint32_t ctx);
static inline pml_comm_t *pml_comm(pml_stripe_t *pml, uint32_t ctx)
{
    return ctx == pml->comm_last_ctx ? pml->comm_last : pml_comm_lookup(pml, ctx);
}
/* Sends a control header (no payload) to peer: pml_ctl_send. */
int pml_send_control(pml_stripe_t *pml, uint32_t peer, mrail_btl_tag_t tag, void *hdr, size_t len);
void pml_request_complete(mrail_pml_request_t *req);

/* Every rail to peer failed: its pending sends and receives (not
 * MRAIL_PML_ANY_SOURCE ones) complete with MRAIL_ERR_UNREACHABLE, and new
 * ones are refused. */
void pml_peer_unreachable(pml_stripe_t *pml, uint32_t peer);

/* pml_stripe_send.c: the send side of the protocols. */
/* mrail_pml_sendi: an eager message to a single-rail peer through the
 * btl's sendi, with no request; MRAIL_ERR_AGAIN when it cannot go now. */
int pml_send_inline(pml_stripe_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx);
int pml_send_start(pml_stripe_t *pml, mrail_pml_request_t *req);
void pml_send_on_cts(pml_stripe_t *pml, uint32_t from, const pml_hdr_cts_t *cts);
void pml_send_on_fin(pml_stripe_t *pml, uint32_t from, const pml_hdr_fin_t *fin);
/* The destination is unreachable: finish req with the error once no btl
 * callback is left to come. */
void pml_send_abort(pml_stripe_t *pml, mrail_pml_request_t *req);
/* (Re)sends fragment i of req on its rail, or on another when that one is
 * down: at once when the rail's window has room, else when it has. */
void pml_frag_issue(pml_stripe_t *pml, mrail_pml_request_t *req, size_t i);
/* The rail failed: its waiting fragments go to the rails left. */
void pml_railq_drain(pml_stripe_t *pml, uint32_t peer, unsigned rail);
/* No rail is left: fragments waiting for any rail to peer never go. */
void pml_railq_abandon(pml_stripe_t *pml, uint32_t peer);

/* pml_stripe_failover.c */
void pml_striping_add(pml_stripe_t *pml, mrail_pml_request_t *req);
void pml_striping_remove(pml_stripe_t *pml, mrail_pml_request_t *req);
/* The rail of module towards peer failed: mark it down and send again, over
 * the rails left, every fragment it carried for confirmed messages not yet
 * confirmed. Returns the rails the peer has left. */
size_t pml_failover(pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *module);
/* From progress, every PML_HEALTH_EVERY calls: fails rails that stalled
 * while their peer's other rails went on, and probes failed rails whose
 * back-off ran out. */
#define PML_HEALTH_EVERY 1024 /* progress calls between looks at the clock */
void pml_health_poll(pml_stripe_t *pml);

/* From the health poll: connects to peers that receives have waited on for
 * pml_stripe_silent_peer ms, so that a dead one is found (pml_stripe_silent.c). */
void pml_silent_check(pml_stripe_t *pml, double now_us);
/* Something arrived from peer over module: a rail we saw fail is back. */
static inline void pml_rail_seen(pml_stripe_t *pml, uint32_t peer,
                                 const mrail_btl_module_t *module);
static inline size_t pml_rail_table_usable(const pml_stripe_t *pml, uint32_t peer);
/* The index of module among peer's rails, or -1. */
int pml_rail_index(const pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *module);

/* pml_stripe_recv.c: the receive side of both protocols. */
void pml_recv_matched(match_recv_t *recv, match_msg_t *msg, void *ctx);
void pml_recv_on_match_header(pml_stripe_t *pml, uint32_t from, mrail_btl_tag_t tag,
                              const struct iovec *segs, int nsegs);
void pml_recv_on_short(pml_stripe_t *pml, uint32_t from, const struct iovec *segs, int nsegs);
void pml_recv_on_frag(pml_stripe_t *pml, uint32_t from, const struct iovec *segs, int nsegs);
/* Where a FRAG's payload goes: straight into its receive's buffer when the
 * fragment is one the receive still waits for. */
void pml_recv_place_frag(pml_stripe_t *pml, uint32_t from, const void *hdr, size_t hdr_len,
                         size_t payload_len, mrail_btl_place_t *out);
int pml_recv_start(pml_stripe_t *pml, mrail_pml_request_t *req);
/* Starts receive req on the message u a matched probe took out of matching. */
void pml_recv_start_matched(pml_stripe_t *pml, mrail_pml_request_t *req, pml_unexpected_t *u);
/* The source is unreachable: finish req with the error. */
void pml_recv_abort(pml_stripe_t *pml, mrail_pml_request_t *req);

void pml_rail_readmit(pml_stripe_t *pml, uint32_t peer, unsigned rail);

static inline size_t pml_rail_table_usable(const pml_stripe_t *pml, uint32_t peer)
{
    return mrail_rail_table_peer(&pml->rails.table, peer)->usable;
}

static inline void pml_rail_seen(pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *module)
{
    if (pml->rails_down > 0) {
        int rail = pml_rail_index(pml, peer, module);
        if (rail >= 0) {
            pml_rail_readmit(pml, peer, (unsigned)rail);
        }
    }
}

#endif
