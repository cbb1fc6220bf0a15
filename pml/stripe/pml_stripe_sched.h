/* The multi-rail scheduler: a pure function from a peer's rails and a
 * message length to a fragment plan in which every rail finishes at the
 * same time. No I/O, no globals; the PML feeds it the rail table and the
 * throughput it observes.
 *
 * Rule: rail i with bandwidth B_i (bytes/us) and latency L_i (us) gets
 * (T - L_i) * B_i bytes, where T solves sum_i max(0, T - L_i) * B_i = N:
 * a rail too slow to start before T gets nothing. Shares are rounded down
 * to the alignment; what rounding leaves (the tail) goes to the fastest
 * rail. Messages below the stripe threshold go whole to the rail that
 * finishes them first. Each share is cut into equal fragments, as few as
 * the rail's max fragment allows, issued round-robin so that rails run in
 * parallel. */
#ifndef PML_STRIPE_SCHED_H
#define PML_STRIPE_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "mrail/mrail.h" /* MRAIL_MAX_RAILS */

typedef struct sched_rail {
    double nominal_bw; /* MB/s (= bytes/us) the device claims; 0 = unknown */
    double latency_us;
    size_t max_frag; /* largest fragment this rail takes */
    bool up;
    double measured_bw; /* MB/s: recent samples' bytes over their time */
    unsigned samples;
    double bytes_sum, usec_sum; /* the recent samples (older ones decay) */
    unsigned starved; /* striped messages in a row it carried nothing of (receiver side) */
} sched_rail_t;

typedef struct sched_opts {
    bool use_measured; /* prefer measured throughput once it has min_samples */
    unsigned min_samples;
    size_t min_stripe_size; /* below it, one rail carries the whole message */
    size_t align;           /* share boundaries, a power of two */
} sched_opts_t;

typedef struct sched_frag {
    unsigned rail;
    size_t offset, len;
} sched_frag_t;

typedef struct sched_plan {
    sched_frag_t *frags;
    size_t count, cap;
} sched_plan_t;

/* Default options: measured throughput after 4 samples, stripe from 64 KiB,
 * 4 KiB alignment. */
sched_opts_t sched_default_opts(void);

/* The bandwidth a rail would have on its own: measured once it has enough
 * samples, else nominal. Planning uses measured figures only when every
 * usable rail of the peer has them. */
double sched_rail_bw(const sched_rail_t *rail, const sched_opts_t *opts);

/* The bandwidth planning weighs each rail by: bw[i] for rails[i], 0 for
 * one that is down. */
void sched_plan_rates(const sched_rail_t *rails, unsigned nrails, const sched_opts_t *opts,
                      double *bw);

/* Records that the rail moved bytes in usec (one rate sample). */
void sched_rail_observe(sched_rail_t *rail, size_t bytes, double usec);

/* Receiver side: the rail delivered `bytes` of one message, `first_len` in
 * its first fragment and the rest over span_us after it. That is a sample
 * (recorded, true) if the rest is at least half the first fragment and the
 * span at least min_span_us: a few bytes after a full fragment arrive when
 * that fragment's time is over and would read as a rail of almost no
 * speed; a short span measures when progress ran, not the rail. */
bool sched_rail_delivery(sched_rail_t *rail, size_t first_len, size_t bytes, double span_us,
                         double min_span_us);

/* Receiver side: the rail carried nothing of a striped message that gave
 * another rail a sample. After `limit` such messages in a row a measured
 * rail's rate is forgotten (true): its sender plans it by its nominal rate
 * until it is measured anew. A rate measured too low (a stall, a burst of
 * loss) would otherwise starve the rail of the fragments that could
 * correct it. */
bool sched_rail_starve(sched_rail_t *rail, unsigned limit);

/* Appends to plan the fragments covering [offset, offset + len) over the
 * rails that are up. Returns 0, or -1 when no rail is up or memory runs
 * out (plan keeps what it had). */
int sched_plan_range(const sched_rail_t *rails, unsigned nrails, size_t offset, size_t len,
                     const sched_opts_t *opts, sched_plan_t *plan);

/* Gives fragments lost with a failed rail (mark it down first) to the
 * rails still up, appending them to plan whole (same offset and length, so
 * the receiver can tell a copy): each to the rail that would finish it
 * first, among those whose max fragment holds it. -1 when none can. */
int sched_reassign(const sched_rail_t *rails, unsigned nrails, const sched_frag_t *lost,
                   size_t nlost, const sched_opts_t *opts, sched_plan_t *plan);

void sched_plan_free(sched_plan_t *plan);

#endif
