/* mrail point-to-point messaging layer: one component is selected per job,
 * the one with the highest pml_<comp>_priority that accepts. Matching,
 * protocols and the scheduler come with the PML issue. */
#ifndef MRAIL_PML_H
#define MRAIL_PML_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mrail/component.h"
#include "mrail/rte.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

extern const mrail_framework_ops_t mrail_pml_framework_ops;

/* --- Point-to-point messaging (what the MPI layer calls) ----------------- */

#define MRAIL_PML_ANY_SOURCE (-1)
#define MRAIL_PML_ANY_TAG (-1)

typedef struct mrail_pml mrail_pml_t;
typedef struct mrail_pml_request mrail_pml_request_t; /* each pml defines its own */
typedef struct mrail_pml_message mrail_pml_message_t; /* a message a matched probe took */
typedef struct mrail_pml_ops mrail_pml_ops_t;

/* Every pml instance begins with this: the calls below go through its
 * table, so the component the selection picked is the one that runs. */
struct mrail_pml {
    const mrail_pml_ops_t *ops;
    /* mrail_pml_set_hook's: run by the pml's progress, never inside itself. */
    int (*hook)(void *arg);
    void *hook_arg;
    bool hook_running;
    /* Set while a progress thread may drive the pml (osc/base's, opt-in):
     * every mrail_pml_ call holds it, and so does what the hook touches. */
    pthread_mutex_t *lock;
};

/* Serialise the pml with a progress thread; nothing when there is none. */
static inline void mrail_pml_lock(mrail_pml_t *pml)
{
    if (pml->lock != NULL) {
        pthread_mutex_lock(pml->lock);
    }
}
static inline void mrail_pml_unlock(mrail_pml_t *pml)
{
    if (pml->lock != NULL) {
        pthread_mutex_unlock(pml->lock);
    }
}

/* Has fn(arg) run at every progress of the pml (and of its waits), so
 * that work above it that no request stands for moves while the process
 * waits on anything: one-sided targets (osc/base). NULL removes it. */
void mrail_pml_set_hook(mrail_pml_t *pml, int (*fn)(void *arg), void *arg);
/* What a pml's progress calls: the hook, unless it is running already. */
static inline int mrail_pml_run_hook(mrail_pml_t *pml)
{
    if (pml->hook == NULL || pml->hook_running) {
        return 0;
    }
    pml->hook_running = true;
    int events = pml->hook(pml->hook_arg);
    pml->hook_running = false;
    return events;
}

/* One pml component per job: the highest pml_<comp>_priority that accepts. */
typedef struct mrail_pml_component {
    mrail_ranked_component_t ranked; /* first: the framework selects it by priority */
    /* Builds the instance: wires up every selected btl, prepares matching;
     * collective over the job. */
    int (*open)(struct mrail_pml_component *self, mrail_rte_t *rte, mrail_frameworks_t *fws,
                mrail_pml_t **pml, mrail_reason_t *why);
} mrail_pml_component_t;

typedef struct mrail_pml_status {
    int32_t source;
    int32_t tag;
    size_t count; /* bytes received (or, for a probe, the message length) */
    int error;    /* MRAIL_SUCCESS or MRAIL_ERR_TRUNCATE */
    bool cancelled;
} mrail_pml_status_t;

/* Opens the pml the selection picked (see mrail_pml_component_t.open). */
int mrail_pml_open(mrail_rte_t *rte, mrail_frameworks_t *fws, mrail_pml_t **pml_out,
                   mrail_reason_t *why);
void mrail_pml_close(mrail_pml_t *pml);

/* Contexts are below this: a header naming a higher one is refused, so a
 * peer's bytes cannot size the receiver's context table. */
#define MRAIL_PML_CTX_MAX (1u << 20)

/* Starts a send of len bytes to rank dst with tag, in context ctx (one per
 * communicator). synchronous: completes only once the receive matched. */
int mrail_pml_isend(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx, bool synchronous, mrail_pml_request_t **req);
/* Starts a receive into buf (len bytes) from src (or MRAIL_PML_ANY_SOURCE).
 * Inline, after the ops table below, like mrail_pml_finish. */
static inline int mrail_pml_irecv(mrail_pml_t *pml, void *buf, size_t len, int32_t src, int32_t tag,
                                  uint32_t ctx, mrail_pml_request_t **req);
/* mrail_pml_irecv with a progress thread's lock. */
int mrail_pml_irecv_locked(mrail_pml_t *pml, void *buf, size_t len, int32_t src, int32_t tag,
                           uint32_t ctx, mrail_pml_request_t **req);
/* A small standard-mode send done now, with no request: MRAIL_SUCCESS (the
 * buffer may be reused), or MRAIL_ERR_AGAIN when it cannot go at once
 * (too large, the transport busy, a pml without the call): nothing was
 * sent, and the caller uses mrail_pml_isend. Other errors as isend's. */
int mrail_pml_sendi(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                    uint32_t ctx);
/* The same for data in pieces (a non-contiguous MPI datatype's blocks):
 * iov[0..niov) is the message in order; the array and the memory it names
 * stay the caller's until the request completes. No pack copy is made:
 * btls send from the pieces and arrivals land in them. */
int mrail_pml_isendv(mrail_pml_t *pml, const struct iovec *iov, int niov, uint32_t dst, int32_t tag,
                     uint32_t ctx, bool synchronous, mrail_pml_request_t **req);
int mrail_pml_irecvv(mrail_pml_t *pml, const struct iovec *iov, int niov, int32_t src, int32_t tag,
                     uint32_t ctx, mrail_pml_request_t **req);
/* True once req is complete; fills status (may be NULL). */
bool mrail_pml_test(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status);
/* True once req is complete, without progressing anything: for callers
 * that test many requests after one progress of their own. */
bool mrail_pml_done(mrail_pml_t *pml, const mrail_pml_request_t *req);
/* Progresses until req completes. */
void mrail_pml_wait(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status);
/* Frees a request (complete, or a receive that was cancelled). */
void mrail_pml_request_free(mrail_pml_t *pml, mrail_pml_request_t *req);
/* Waits for req (block) or tests it; once it is complete, fills status,
 * frees req and answers true: mrail_pml_wait or mrail_pml_test, then
 * mrail_pml_request_free, in one call. Inline, after the ops table below:
 * it is called once per completed request. */
static inline bool mrail_pml_finish(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                                    mrail_pml_status_t *status);
/* mrail_pml_finish with a progress thread's lock, or a pml without the op. */
bool mrail_pml_finish_general(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                              mrail_pml_status_t *status);
/* Cancels a receive that has not matched; true if it was cancelled. */
bool mrail_pml_cancel(mrail_pml_t *pml, mrail_pml_request_t *req);
/* Is a message from src/tag waiting? Fills status without receiving it. */
bool mrail_pml_iprobe(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                      mrail_pml_status_t *status);
/* A matched probe: as iprobe, but the message is taken out of matching (no
 * receive can take it any more) and handed back in *msg, for exactly one
 * mrail_pml_imrecv. */
bool mrail_pml_improbe(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                       mrail_pml_status_t *status, mrail_pml_message_t **msg);
/* Receives the message improbe took, into buf (len bytes) or, with iov
 * non-NULL, into niov pieces; completes like a receive. */
int mrail_pml_imrecv(mrail_pml_t *pml, void *buf, size_t len, const struct iovec *iov, int niov,
                     mrail_pml_message_t *msg, mrail_pml_request_t **req);
/* Drives every rail once; returns the events handled. */
int mrail_pml_progress(mrail_pml_t *pml);
/* Idle polls a waiting loop should spin before it yields the CPU: 1 when
 * the node is oversubscribed (the peer we wait for may need our CPU to run
 * at all), UINT_MAX (never) when every local rank has a CPU of its own. */
unsigned mrail_pml_spin_limit(const mrail_pml_t *pml);
/* One idle turn of a waiting loop whose last poll found nothing: *idle
 * counts the turns (the caller's, 0 when its wait begins). Spins, yields
 * once spin_limit turns passed, and on a crowded node may sleep until a
 * peer delivers something; ready(arg) polls and says whether there is
 * work, asked once more before it sleeps. */
void mrail_pml_idle(mrail_pml_t *pml, unsigned *idle, bool (*ready)(void *arg), void *arg);

/* Non-zero once a btl reported a failed peer or device. */
int mrail_pml_failed(const mrail_pml_t *pml);

/* What the PML did so far (statistics, tests, benchmarks). */
typedef struct mrail_pml_stats {
    uint64_t eager;           /* messages sent eagerly */
    uint64_t rendezvous;      /* messages sent as fragments after RTS/CTS */
    uint64_t rget;            /* messages the receiver pulled with rdma get */
    uint64_t resent;          /* fragments sent again after their rail failed */
    uint64_t dup_dropped;     /* fragment copies received and dropped */
    uint64_t rails_failed;    /* rails to peers marked failed */
    uint64_t frags_waited;    /* fragments that waited for room in their rail's send window */
    uint64_t max_inflight;    /* most fragments one rail to one peer had in its btl at once */
    uint64_t ctl_resent;      /* control and eager messages sent again after their rail failed */
    uint64_t ctl_dup_dropped; /* copies of those received and dropped */
    uint64_t rails_restored;  /* failed rails that came back and carry traffic again */
    uint64_t rails_stalled;   /* rails the PML failed for finishing nothing while others did */
    uint64_t silent_probes;   /* rails connected to check on a peer a receive waited on */
    uint64_t frags_placed;    /* fragments a btl read straight into the receive buffer */
    uint64_t frags_stolen;    /* fragments a rail with room took from a slower rail's queue */
    uint64_t rates_forgotten; /* measured rates dropped after their rail was starved (receiver) */
    uint64_t malformed;       /* headers dropped: too short, or naming no request of ours */
    uint64_t sleeps;          /* waits that slept on this rank's bell (a crowded node) */
} mrail_pml_stats_t;
void mrail_pml_stats(const mrail_pml_t *pml, mrail_pml_stats_t *stats);

/* The modules and per-peer rail table the PML drives (statistics, tests);
 * NULL from a pml that has none. */
struct mrail_rails;
const struct mrail_rails *mrail_pml_rails(const mrail_pml_t *pml);

/* What a pml component implements; the mrail_pml_ calls above forward to
 * these, with the same meaning. */
struct mrail_pml_ops {
    void (*close)(mrail_pml_t *pml);
    int (*isend)(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                 uint32_t ctx, bool synchronous, mrail_pml_request_t **req);
    int (*irecv)(mrail_pml_t *pml, void *buf, size_t len, int32_t src, int32_t tag, uint32_t ctx,
                 mrail_pml_request_t **req);
    /* May be NULL: mrail_pml_sendi then answers MRAIL_ERR_AGAIN. */
    int (*sendi)(mrail_pml_t *pml, const void *buf, size_t len, uint32_t dst, int32_t tag,
                 uint32_t ctx);
    int (*isendv)(mrail_pml_t *pml, const struct iovec *iov, int niov, uint32_t dst, int32_t tag,
                  uint32_t ctx, bool synchronous, mrail_pml_request_t **req);
    int (*irecvv)(mrail_pml_t *pml, const struct iovec *iov, int niov, int32_t src, int32_t tag,
                  uint32_t ctx, mrail_pml_request_t **req);
    bool (*test)(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status);
    /* May be NULL: mrail_pml_done then uses test (which may progress). */
    bool (*done)(const mrail_pml_t *pml, const mrail_pml_request_t *req);
    void (*wait)(mrail_pml_t *pml, mrail_pml_request_t *req, mrail_pml_status_t *status);
    void (*request_free)(mrail_pml_t *pml, mrail_pml_request_t *req);
    /* May be NULL: mrail_pml_finish then calls wait or test, and request_free. */
    bool (*finish)(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                   mrail_pml_status_t *status);
    bool (*cancel)(mrail_pml_t *pml, mrail_pml_request_t *req);
    bool (*iprobe)(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                   mrail_pml_status_t *status);
    bool (*improbe)(mrail_pml_t *pml, int32_t src, int32_t tag, uint32_t ctx,
                    mrail_pml_status_t *status, mrail_pml_message_t **msg);
    int (*imrecv)(mrail_pml_t *pml, void *buf, size_t len, const struct iovec *iov, int niov,
                  mrail_pml_message_t *msg, mrail_pml_request_t **req);
    int (*progress)(mrail_pml_t *pml);
    unsigned (*spin_limit)(const mrail_pml_t *pml);
    /* May be NULL: mrail_pml_idle then yields every spin_limit turns. */
    void (*idle)(mrail_pml_t *pml, unsigned *idle, bool (*ready)(void *arg), void *arg);
    int (*failed)(const mrail_pml_t *pml);
    void (*stats)(const mrail_pml_t *pml, mrail_pml_stats_t *stats);
    const struct mrail_rails *(*rails)(const mrail_pml_t *pml);
};

static inline int mrail_pml_irecv(mrail_pml_t *pml, void *buf, size_t len, int32_t src, int32_t tag,
                                  uint32_t ctx, mrail_pml_request_t **req)
{
    if (pml->lock == NULL) {
        return pml->ops->irecv(pml, buf, len, src, tag, ctx, req);
    }
    return mrail_pml_irecv_locked(pml, buf, len, src, tag, ctx, req);
}

static inline bool mrail_pml_finish(mrail_pml_t *pml, mrail_pml_request_t *req, bool block,
                                    mrail_pml_status_t *status)
{
    if (pml->lock == NULL && pml->ops->finish != NULL) {
        return pml->ops->finish(pml, req, block, status);
    }
    return mrail_pml_finish_general(pml, req, block, status);
}

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
