/* pml_stripe_report: what each rail carried, for performance engineers
 * who want to see the striping of a real run (pml_stripe_report=true). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "pml_stripe.h"

void pml_report_rails(const pml_stripe_t *pml, FILE *out)
{
    if (pml->spin_limit != UINT_MAX) { /* more ranks than CPUs here */
        fprintf(out, "mrail pml: rank %" PRIu32 " slept %" PRIu64 " times while it waited\n",
                pml->rank, pml->stats.sleeps);
    }
    for (uint32_t p = 0; pml->railq != NULL && p < pml->size; p++) {
        const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, p);
        for (size_t r = 0; pr != NULL && r < pr->count && r < MRAIL_MAX_RAILS; r++) {
            const pml_railq_t *q = &pml->railq[p][r];
            const sched_rail_t *s = &pml->sched[p][r];
            if (q->sent_frags == 0 && q->failed == 0) {
                continue;
            }
            fprintf(out,
                    "mrail pml: rank %" PRIu32 " to %" PRIu32 " rail %zu (%s): %.1f MB in %" PRIu64
                    " fragments; weighed by %.1f MB/s %s; failed %u, restored %u; %s\n",
                    pml->rank, p, r, pr->rails[r].module->name, (double)q->sent_bytes / 1e6,
                    q->sent_frags, sched_rail_bw(s, &pml->sched_opts),
                    s->samples >= pml->sched_opts.min_samples ? "(measured)" : "(nominal)",
                    q->failed, q->restored, s->up ? "up" : "down");
        }
    }
}
