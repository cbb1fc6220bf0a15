/* osc/am: one-sided communication as active messages over the pml.
 *
 * Every operation is a request message to the target (tag OSC_AM_TAG in
 * the window's context), handled in order of arrival by the target's
 * progress (the pml's hook: any MPI call that waits moves it). What does
 * not fit in one request follows as tagged messages of its own, which
 * the pml stripes over the rails like any large message: a put's pieces
 * and data, a get's reply. Accumulates travel in requests of at most
 * OSC_AM_BUF bytes each, applied whole in arrival order, so that the
 * ordering and per-element atomicity MPI asks for hold without locks.
 *
 * Completion is counted: an origin counts the operations it sent to each
 * target, a target those it finished from each origin; a flush, unlock or
 * complete carries the origin's count, and the target answers (or lets
 * its wait end) once it has finished that many. A fence sums the counts
 * with an allreduce. */
#ifndef MRAIL_OSC_AM_H
#define MRAIL_OSC_AM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "osc_base.h"

#define OSC_AM_TAG 0
#define OSC_AM_BUF (64 * 1024) /* a request's most bytes, header included */

typedef enum {
    AM_PUT = 1,
    AM_GET,
    AM_ACC, /* accumulate, get_accumulate (a reply), fetch_and_op */
    AM_CAS,
    AM_LOCK,
    AM_UNLOCK,
    AM_FLUSH,
    AM_POST,
    AM_COMPLETE,
} am_kind_t;

typedef struct am_hdr {
    uint8_t kind;
    uint8_t lock_type;     /* AM_LOCK / AM_UNLOCK: MPI_LOCK_*, 0 for an unlock of a NOCHECK lock */
    uint8_t pieces_follow; /* put / get: the pieces come on tag */
    uint8_t data_follows;  /* put: the data comes on tag + 1 */
    int32_t origin;        /* the sender's rank in the window */
    int32_t tag;           /* of what follows and of the reply */
    int32_t type;          /* accumulate, cas: the predefined element type */
    int32_t op;            /* accumulate */
    uint8_t fetch;         /* accumulate: reply with the values before */
    uint8_t pad[3];
    uint32_t npieces;
    uint64_t bytes; /* put / get: data bytes; accumulate: elements */
    uint64_t count; /* unlock / flush / complete: operations sent to us so far */
} am_hdr_t;

/* A put's or get's bytes at the target (off, len), or an accumulate's run
 * of len elements from off. off is from the window's base, or an address
 * in a dynamic window. */
typedef struct am_piece {
    uint64_t off, len;
} am_piece_t;

/* An origin's request form (MPI_Rput...): done when its parts are. */
struct mrail_osc_req {
    int parts_left;
    bool orphan; /* freed by the program before it was done */
};

/* Something a pml request in flight holds, and what to do when it ends. */
typedef enum {
    PEND_PLAIN,   /* frees its buffers */
    PEND_FETCHED, /* a get_accumulate's reply: to the result buffer */
    PEND_UNPACK,  /* a get's packed reply: to the origin buffer */
    PEND_PUT_IN,  /* target: a put's data landed */
    PEND_PIECES,  /* target: a put's or get's pieces arrived */
    PEND_ACK,     /* origin: a lock grant, flush or unlock answer */
} pend_kind_t;

typedef struct am_pend {
    pend_kind_t kind;
    mrail_pml_request_t *req;
    int peer;         /* rank in the window */
    bool target_side; /* ours as a target (origin waits do not wait for it) */
    bool counts;      /* target: finishing it finishes an operation of peer */
    void *buf;        /* freed when done */
    void *buf2;       /* freed when done */
    am_hdr_t hdr;     /* PEND_PIECES: the request they belong to */
    int32_t reply;    /* PEND_ACK: the answer lands here */
    int *ack_left;    /* PEND_ACK: counted down when it lands */
    int32_t *ack_err;
    /* PEND_FETCHED: the values before, as elements of base, to unpack. */
    const mpi_type_t *rtype;
    MPI_Datatype base;
    void *result;
    size_t rcount, elem_first, nelem;
    mrail_osc_req_t *oreq; /* counted down when done */
    struct am_pend *next;
} am_pend_t;

/* A lock request waiting at the target. */
typedef struct am_waiter {
    int origin, lock_type;
    int32_t tag;
    struct am_waiter *next;
} am_waiter_t;

/* A flush or unlock waiting at the target for an origin's operations. */
typedef struct am_flush {
    int origin;
    uint64_t count;
    int32_t tag;
    bool release; /* unlock: let go of its lock then */
    int lock_type;
    struct am_flush *next;
} am_flush_t;

typedef struct am_region {
    uintptr_t lo, hi;
} am_region_t;

typedef struct osc_am_win {
    mrail_osc_win_t base;
    uint32_t ctx; /* the comm's point-to-point context */
    int rank, size;
    const uint32_t *world; /* rank -> job rank */
    char *mem;             /* this process's memory (NULL: dynamic) */
    MPI_Aint mem_size;
    MPI_Aint *sizes; /* every rank's size and disp unit (dynamic: unchecked, 1) */
    /* Every rank's memory as mapped here (the window's memory is one
     * shared segment): puts and gets are copies. NULL otherwise. */
    char **parts;
    uint32_t **locks; /* and the lock of each part (accumulates take it) */
    int *disp_units;
    am_region_t *regions; /* dynamic: attached memory */
    int nregions;
    int32_t next_tag;

    /* the standing receive of requests */
    void *am_buf;
    mrail_pml_request_t *am_req;

    am_pend_t *pend; /* every pml request of ours in flight */
    /* Walking pend or handling requests: testing a pml request runs the
     * pml's progress, whose hook must not re-enter the window. */
    bool busy;

    /* origin side, per target */
    uint64_t *sent;
    uint64_t *answered; /* sent, as of the last flush or unlock the target answered */
    uint64_t *posts_seen, *posts_used; /* PSCW: posts received from each target */
    int *access;                       /* ranks of the access epoch (start) */
    int naccess;
    int *locked; /* lock type held at each target (0: none) */

    /* target side, per origin */
    uint64_t *done;
    uint64_t done_total;
    uint64_t *completes_seen, *completes_used, *complete_need;
    int *exposure; /* ranks of the exposure epoch (post) */
    int nexposure;
    int32_t range_error; /* an operation outside the window was dropped */
    int32_t *origin_error;
    int exclusive_holder; /* -1: none */
    int shared_holders;
    am_waiter_t *waiters;
    am_flush_t *flushes;
} osc_am_win_t;

/* osc_am_win.c */
int osc_am_next_tag(osc_am_win_t *w);
/* Sends len bytes (or niov pieces) to rank with tag, kept in the pending
 * list with its buffers; MPI error. */
int osc_am_send(osc_am_win_t *w, int rank, int32_t tag, const void *buf, size_t len,
                const struct iovec *iov, int niov, void *own, mrail_osc_req_t *oreq);
/* A pending entry, added to the list; NULL when out of memory. */
am_pend_t *osc_am_pend_add(osc_am_win_t *w, pend_kind_t kind, int peer, mrail_pml_request_t *req);
/* The pieces of count of type at buf, merged where they touch; NULL
 * with *n 0 for none. */
struct iovec *osc_am_iov(const void *buf, int count, const mpi_type_t *t, int *n);
/* Do n pieces of bytes in all go to the pml as they lie, or packed? Few
 * large pieces cost less than a copy; many small ones more. */
static inline bool osc_am_iov_worth_it(int n, size_t bytes)
{
    return n <= 256 && bytes / (size_t)(n > 0 ? n : 1) >= 1024;
}
/* Tests every pending request, finishing those done; the events. */
int osc_am_reap(osc_am_win_t *w);
/* Progresses until every request of ours to rank (-1: any) has ended. */
void osc_am_wait_local(osc_am_win_t *w, int rank);
/* One progress round of the pml (with our hook) and a yield when idle. */
void osc_am_spin(unsigned *idle);
void osc_am_req_part_done(mrail_osc_req_t *r);
/* The values before of elements [first, first + n) of an operation,
 * elements of base laid out extent apart in vals, into the result buffer
 * (rcount of rtype). */
void osc_am_deliver(const mpi_type_t *rtype, size_t rcount, void *result, MPI_Datatype base,
                    size_t first, size_t n, const char *vals);

/* osc_am_origin.c */
int osc_am_put(mrail_osc_win_t *w, const void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req);
int osc_am_get(mrail_osc_win_t *w, void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req);
int osc_am_accumulate(mrail_osc_win_t *w, const void *buf, int count, MPI_Datatype type,
                      void *result, int rcount, MPI_Datatype rtype, const mrail_osc_target_t *t,
                      MPI_Op op, mrail_osc_req_t **req);
int osc_am_cas(mrail_osc_win_t *w, const void *buf, const void *compare, void *result,
               MPI_Datatype type, int rank, MPI_Aint disp);
/* A request's header, sent to rank (with extra bytes after it). */
int osc_am_request(osc_am_win_t *w, int rank, const am_hdr_t *h, const void *extra,
                   size_t extra_len);

/* osc_am_target.c */
int osc_am_handle(osc_am_win_t *w, const void *msg, size_t len);
/* Finishes what a pending target entry stood for. */
void osc_am_target_done(osc_am_win_t *w, am_pend_t *p);
/* Answers the flushes and unlocks whose operations are all done. */
int osc_am_flushes(osc_am_win_t *w);

/* osc_am_sync.c */
int osc_am_fence(mrail_osc_win_t *w, int assert);
int osc_am_post(mrail_osc_win_t *w, const int *ranks, int n, int assert);
int osc_am_start(mrail_osc_win_t *w, const int *ranks, int n, int assert);
int osc_am_complete(mrail_osc_win_t *w);
int osc_am_wait(mrail_osc_win_t *w, int *flag);
int osc_am_lock(mrail_osc_win_t *w, int lock_type, int rank, int assert);
int osc_am_unlock(mrail_osc_win_t *w, int rank);
int osc_am_flush(mrail_osc_win_t *w, int rank);
int osc_am_flush_local(mrail_osc_win_t *w, int rank);
/* Every operation to and from this process complete, at every process
 * (a fence's work); MPI error. */
int osc_am_quiesce(osc_am_win_t *w);

#endif
