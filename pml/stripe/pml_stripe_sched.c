/* The multi-rail scheduler; the rule is in pml_stripe_sched.h. */
#include <stdlib.h>

#include "pml_stripe_sched.h"

/* Measured rates are all the bytes over all the time of the recent
 * samples (not an average of per-sample rates, which short samples make
 * noisy); past this much time, old samples count half. */
#define SCHED_WINDOW_US 1e6

sched_opts_t sched_default_opts(void)
{
    return (sched_opts_t){
        .use_measured = true, .min_samples = 4, .min_stripe_size = 64 * 1024, .align = 4096};
}

double sched_rail_bw(const sched_rail_t *rail, const sched_opts_t *opts)
{
    if (opts->use_measured && rail->samples >= opts->min_samples && rail->measured_bw > 0) {
        return rail->measured_bw;
    }
    return rail->nominal_bw;
}

void sched_rail_observe(sched_rail_t *rail, size_t bytes, double usec)
{
    if (usec <= 0 || bytes == 0) {
        return;
    }
    rail->bytes_sum += (double)bytes;
    rail->usec_sum += usec;
    if (rail->usec_sum > SCHED_WINDOW_US) {
        rail->bytes_sum *= 0.5;
        rail->usec_sum *= 0.5;
    }
    rail->measured_bw = rail->bytes_sum / rail->usec_sum;
    rail->samples++;
}

bool sched_rail_delivery(sched_rail_t *rail, size_t first_len, size_t bytes, double span_us,
                         double min_span_us)
{
    size_t after = bytes > first_len ? bytes - first_len : 0;
    if (after == 0 || 2 * after < first_len || span_us < min_span_us) {
        return false;
    }
    sched_rail_observe(rail, after, span_us);
    rail->starved = 0;
    return true;
}

bool sched_rail_starve(sched_rail_t *rail, unsigned limit)
{
    if (rail->samples == 0 || ++rail->starved < limit) {
        return false;
    }
    *rail = (sched_rail_t){0};
    return true;
}

static int push(sched_plan_t *plan, unsigned rail, size_t offset, size_t len)
{
    if (plan->count == plan->cap) {
        size_t cap = plan->cap ? 2 * plan->cap : 16;
        sched_frag_t *grown = realloc(plan->frags, cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        plan->frags = grown;
        plan->cap = cap;
    }
    plan->frags[plan->count++] = (sched_frag_t){rail, offset, len};
    return 0;
}

/* Bandwidths used for planning. Measured figures are used only when every
 * usable rail has one: a rail that was never measured (its fragments never
 * had to wait) cannot be weighed against one that was. Unknown ones (0)
 * make every rail equal, since nothing can be compared then. */
static unsigned effective(const sched_rail_t *rails, unsigned nrails, const sched_opts_t *opts,
                          double *bw, unsigned *idx)
{
    unsigned n = 0;
    bool unknown = false, all_measured = opts->use_measured;
    for (unsigned i = 0; i < nrails && n < MRAIL_MAX_RAILS; i++) {
        if (rails[i].up && rails[i].max_frag > 0) {
            idx[n++] = i;
            all_measured =
                all_measured && rails[i].samples >= opts->min_samples && rails[i].measured_bw > 0;
        }
    }
    for (unsigned k = 0; k < n; k++) {
        bw[k] = all_measured ? rails[idx[k]].measured_bw : rails[idx[k]].nominal_bw;
        unknown = unknown || bw[k] <= 0;
    }
    for (unsigned k = 0; unknown && k < n; k++) {
        bw[k] = 1;
    }
    return n;
}

/* Time at which rail k finishes len bytes alone. */
static double finish_alone(const sched_rail_t *r, double bw, size_t len)
{
    return r->latency_us + (double)len / bw;
}

/* Shares so that all rails finish at T: sum max(0, T - L_k) * B_k = len. */
static void shares(const sched_rail_t *rails, const unsigned *idx, const double *bw, unsigned n,
                   size_t len, double *share)
{
    /* Walk latencies upwards: with rails [0, m) active, T = (len + sum L*B) / sum B;
     * stop once T is no later than the next rail's latency. */
    unsigned order[MRAIL_MAX_RAILS];
    for (unsigned k = 0; k < n; k++) {
        order[k] = k;
    }
    for (unsigned a = 1; a < n; a++) { /* insertion sort by latency, stable */
        unsigned v = order[a], b = a;
        while (b > 0 && rails[idx[order[b - 1]]].latency_us > rails[idx[v]].latency_us) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = v;
    }
    double sum_b = 0, sum_lb = 0, t = 0;
    unsigned m = 0;
    while (m < n) {
        unsigned k = order[m];
        sum_b += bw[k];
        sum_lb += rails[idx[k]].latency_us * bw[k];
        m++;
        t = ((double)len + sum_lb) / sum_b;
        if (m == n || t <= rails[idx[order[m]]].latency_us) {
            break;
        }
    }
    for (unsigned k = 0; k < n; k++) {
        double s = (t - rails[idx[k]].latency_us) * bw[k];
        share[k] = s > 0 ? s : 0;
    }
}

void sched_plan_rates(const sched_rail_t *rails, unsigned nrails, const sched_opts_t *opts,
                      double *bw)
{
    double eff[MRAIL_MAX_RAILS];
    unsigned idx[MRAIL_MAX_RAILS];
    unsigned n = effective(rails, nrails, opts, eff, idx);
    for (unsigned i = 0; i < nrails; i++) {
        bw[i] = 0;
    }
    for (unsigned k = 0; k < n; k++) {
        bw[idx[k]] = eff[k];
    }
}

int sched_plan_range(const sched_rail_t *rails, unsigned nrails, size_t offset, size_t len,
                     const sched_opts_t *opts, sched_plan_t *plan)
{
    double bw[MRAIL_MAX_RAILS], share[MRAIL_MAX_RAILS];
    unsigned idx[MRAIL_MAX_RAILS];
    unsigned n = effective(rails, nrails, opts, bw, idx);
    if (n == 0) {
        return -1;
    }
    /* The fastest rail for this length: it finishes the whole range first. */
    unsigned best = 0;
    for (unsigned k = 1; k < n; k++) {
        if (finish_alone(&rails[idx[k]], bw[k], len) <
            finish_alone(&rails[idx[best]], bw[best], len)) {
            best = k;
        }
    }
    size_t bytes[MRAIL_MAX_RAILS] = {0};
    if (len < opts->min_stripe_size || n == 1) {
        bytes[best] = len;
    } else {
        shares(rails, idx, bw, n, len, share);
        size_t given = 0, mask = opts->align > 0 ? opts->align - 1 : 0;
        for (unsigned k = 0; k < n; k++) {
            size_t s = (size_t)share[k] & ~mask;
            bytes[k] = s <= len - given ? s : len - given;
            given += bytes[k];
        }
        bytes[best] += len - given; /* the tail */
    }
    /* Round-robin over rails, each share cut into as few pieces as its max
     * fragment allows, all of one size (the last may be smaller by less
     * than the count): no runt piece, whose arrival would say nothing of
     * the rail's rate. Each share is one contiguous range of the message. */
    size_t start[MRAIL_MAX_RAILS], done[MRAIL_MAX_RAILS] = {0}, piece_len[MRAIL_MAX_RAILS];
    size_t at = offset;
    for (unsigned k = 0; k < n; k++) {
        start[k] = at;
        at += bytes[k];
        size_t max = rails[idx[k]].max_frag, pieces = (bytes[k] + max - 1) / max;
        piece_len[k] = pieces > 0 ? (bytes[k] + pieces - 1) / pieces : 0;
    }
    size_t before = plan->count;
    bool more = true;
    if (len == 0) {
        return push(plan, idx[best], offset, 0);
    }
    while (more) {
        more = false;
        for (unsigned k = 0; k < n; k++) {
            if (done[k] == bytes[k]) {
                continue;
            }
            size_t piece = bytes[k] - done[k];
            piece = piece < piece_len[k] ? piece : piece_len[k];
            if (push(plan, idx[k], start[k] + done[k], piece) != 0) {
                plan->count = before;
                return -1;
            }
            done[k] += piece;
            more = more || done[k] < bytes[k];
        }
    }
    return 0;
}

int sched_reassign(const sched_rail_t *rails, unsigned nrails, const sched_frag_t *lost,
                   size_t nlost, const sched_opts_t *opts, sched_plan_t *plan)
{
    double bw[MRAIL_MAX_RAILS], busy[MRAIL_MAX_RAILS] = {0};
    unsigned idx[MRAIL_MAX_RAILS];
    unsigned n = effective(rails, nrails, opts, bw, idx);
    size_t before = plan->count;
    for (size_t i = 0; i < nlost; i++) {
        /* Greedy: each fragment to the rail that would finish it first. */
        unsigned best = n;
        double best_t = 0;
        for (unsigned k = 0; k < n; k++) {
            if (rails[idx[k]].max_frag < lost[i].len) {
                continue;
            }
            double t = rails[idx[k]].latency_us + busy[k] + (double)lost[i].len / bw[k];
            if (best == n || t < best_t) {
                best = k;
                best_t = t;
            }
        }
        if (best == n || push(plan, idx[best], lost[i].offset, lost[i].len) != 0) {
            plan->count = before;
            return -1;
        }
        busy[best] += (double)lost[i].len / bw[best];
    }
    return 0;
}

void sched_plan_free(sched_plan_t *plan)
{
    free(plan->frags);
    *plan = (sched_plan_t){0};
}
