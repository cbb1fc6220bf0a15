/* The multi-rail scheduler with fake rails (plain numbers: the scheduler
 * never touches a device). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pml_stripe_sched.h"

static sched_rail_t rail(double bw, double lat, size_t max_frag)
{
    return (sched_rail_t){.nominal_bw = bw, .latency_us = lat, .max_frag = max_frag, .up = true};
}

static int by_offset(const void *a, const void *b)
{
    const sched_frag_t *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every byte of [offset, offset + len) exactly once, on rails that are up,
 * in pieces no larger than the rail takes; returns bytes per rail. */
static void check_cover(const sched_rail_t *rails, const sched_frag_t *frags, size_t n,
                        size_t offset, size_t len, size_t *per_rail)
{
    sched_frag_t *sorted = malloc((n ? n : 1) * sizeof(*sorted));
    memcpy(sorted, frags, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), by_offset);
    size_t at = offset;
    for (size_t i = 0; i < n; i++) {
        const sched_frag_t *f = &sorted[i];
        cr_assert_eq(f->offset, at, "gap or overlap at %zu (fragment at %zu)", at, f->offset);
        cr_assert(rails[f->rail].up, "fragment on a rail that is down");
        cr_assert_leq(f->len, rails[f->rail].max_frag);
        per_rail[f->rail] += f->len;
        at += f->len;
    }
    cr_assert_eq(at, offset + len, "plan ends at %zu, message at %zu", at, offset + len);
    free(sorted);
}

/* All rails that carry data finish together: rounding each share down to
 * the alignment moves at most n alignment units onto the fastest rail. */
static void check_together(const sched_rail_t *rails, unsigned n, const size_t *bytes,
                           const sched_opts_t *o)
{
    double first = 1e300, last = 0, min_bw = 1e300;
    for (unsigned i = 0; i < n; i++) {
        if (bytes[i] == 0) {
            continue;
        }
        double bw = sched_rail_bw(&rails[i], o);
        double t = rails[i].latency_us + (double)bytes[i] / bw;
        min_bw = bw < min_bw ? bw : min_bw;
        first = t < first ? t : first;
        last = t > last ? t : last;
    }
    double bound = (n + 1) * (double)o->align / min_bw;
    cr_expect_leq(last - first, bound, "rails finish %.3f us apart (bound %.3f)", last - first,
                  bound);
}

Test(sched, equal_rails_split_evenly)
{
    sched_rail_t r[2] = {rail(1000, 10, 128 * 1024), rail(1000, 10, 128 * 1024)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    cr_assert_eq(sched_plan_range(r, 2, 0, 1 << 20, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, 1 << 20, bytes);
    cr_expect_eq(bytes[0], 512 * 1024u);
    cr_expect_eq(bytes[1], 512 * 1024u);
    cr_expect_eq(p.frags[0].rail, 0u, "round-robin starts with rail 0");
    cr_expect_eq(p.frags[1].rail, 1u);
    check_together(r, 2, bytes, &o);
    sched_plan_free(&p);
}

Test(sched, two_to_one_rails_split_two_to_one)
{
    sched_rail_t r[2] = {rail(1000, 0, 1 << 30), rail(500, 0, 1 << 30)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    size_t n = 3 * 1024 * 1024;
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, bytes);
    cr_expect_eq(bytes[0], 2u * 1024 * 1024);
    cr_expect_eq(bytes[1], 1u * 1024 * 1024);
    check_together(r, 2, bytes, &o);
    sched_plan_free(&p);
}

Test(sched, three_unequal_rails_finish_together_and_respect_fragments)
{
    sched_rail_t r[3] = {rail(1200, 5, 64 * 1024), rail(600, 20, 32 * 1024),
                         rail(300, 50, 16 * 1024)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    size_t n = 10 * 1000 * 1000 + 7; /* not a multiple of anything */
    cr_assert_eq(sched_plan_range(r, 3, 1000, n, &o, &p), 0);
    size_t bytes[3] = {0};
    check_cover(r, p.frags, p.count, 1000, n, bytes);
    cr_expect(bytes[0] > bytes[1] && bytes[1] > bytes[2]);
    check_together(r, 3, bytes, &o);
    sched_plan_free(&p);
}

Test(sched, tail_goes_to_the_fastest_rail)
{
    sched_rail_t r[2] = {rail(500, 0, 1 << 30), rail(1000, 0, 1 << 30)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    size_t n = 300 * 1024 + 123;
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, bytes);
    cr_expect_eq(bytes[0] % o.align, 0u, "the slow rail got the tail");
    cr_expect_neq(bytes[1] % o.align, 0u);
    sched_plan_free(&p);
}

Test(sched, small_messages_take_one_rail_the_quickest)
{
    /* Rail 1 has more bandwidth but far more latency: for 1 KiB rail 0 wins. */
    sched_rail_t r[2] = {rail(1000, 2, 1 << 20), rail(10000, 50, 1 << 20)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    cr_assert_eq(sched_plan_range(r, 2, 0, 1024, &o, &p), 0);
    cr_assert_eq(p.count, 1u);
    cr_expect_eq(p.frags[0].rail, 0u);
    cr_expect_eq(p.frags[0].len, 1024u);
    sched_plan_free(&p);
    cr_assert_eq(sched_plan_range(r, 2, 0, 0, &o, &p), 0);
    cr_assert_eq(p.count, 1u, "an empty message still needs one fragment");
    cr_expect_eq(p.frags[0].len, 0u);
    sched_plan_free(&p);
}

Test(sched, a_rail_too_slow_to_start_gets_nothing)
{
    /* 64 KiB at 1000 MB/s takes ~66 us; a rail with 1 ms latency cannot help. */
    sched_rail_t r[2] = {rail(1000, 1, 1 << 20), rail(1000, 1000, 1 << 20)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    cr_assert_eq(sched_plan_range(r, 2, 0, 64 * 1024, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, 64 * 1024, bytes);
    cr_expect_eq(bytes[1], 0u);
    sched_plan_free(&p);
}

Test(sched, unknown_bandwidth_means_equal_shares)
{
    sched_rail_t r[2] = {rail(0, 0, 1 << 30), rail(800, 0, 1 << 30)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    cr_assert_eq(sched_plan_range(r, 2, 0, 1 << 20, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, 1 << 20, bytes);
    cr_expect_eq(bytes[0], bytes[1]);
    sched_plan_free(&p);
}

Test(sched, measured_throughput_overrides_nominal_after_enough_samples)
{
    /* Both claim 1000 MB/s (veths all report the same speed); rail 1 really
     * moves half as much. */
    sched_rail_t r[2] = {rail(1000, 0, 1 << 30), rail(1000, 0, 1 << 30)};
    sched_opts_t o = sched_default_opts();
    for (unsigned i = 0; i < o.min_samples - 1; i++) {
        sched_rail_observe(&r[0], 1 << 20, 1048.576);     /* 1000 MB/s */
        sched_rail_observe(&r[1], 1 << 20, 2 * 1048.576); /* 500 MB/s */
    }
    cr_expect_float_eq(sched_rail_bw(&r[1], &o), 1000.0, 1e-9, "too few samples yet");
    sched_rail_observe(&r[0], 1 << 20, 1048.576);
    sched_rail_observe(&r[1], 1 << 20, 2 * 1048.576);
    cr_expect_float_eq(sched_rail_bw(&r[1], &o), 500.0, 1e-6);
    sched_plan_t p = {0};
    size_t n = 3 << 20;
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, bytes);
    cr_expect_eq(bytes[0], 2u << 20);
    cr_expect_eq(bytes[1], 1u << 20);
    sched_plan_free(&p);
    o.use_measured = false; /* the MCA switch: nominal figures only */
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t nominal[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, nominal);
    cr_expect_eq(nominal[0], nominal[1]);
    sched_plan_free(&p);
}

Test(sched, measured_figures_only_when_every_rail_has_them)
{
    /* Rail 0 was measured (its fragments waited), rail 1 never was: a
     * measured figure must not be weighed against a nominal one. */
    sched_rail_t r[2] = {rail(1000, 0, 1 << 30), rail(1000, 0, 1 << 30)};
    sched_opts_t o = sched_default_opts();
    for (unsigned i = 0; i < o.min_samples; i++) {
        sched_rail_observe(&r[0], 1 << 20, 1048.576 / 5); /* 5000 MB/s into the socket */
    }
    sched_plan_t p = {0};
    size_t n = 4 << 20;
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t bytes[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, bytes);
    cr_expect_eq(bytes[0], bytes[1], "nominal for both until both are measured");
    sched_plan_free(&p);
    for (unsigned i = 0; i < o.min_samples; i++) {
        sched_rail_observe(&r[1], 1 << 20, 1048.576 / 5);
    }
    cr_assert_eq(sched_plan_range(r, 2, 0, n, &o, &p), 0);
    size_t both[2] = {0};
    check_cover(r, p.frags, p.count, 0, n, both);
    cr_expect_eq(both[0], both[1], "equal measured figures, equal shares");
    sched_plan_free(&p);
}

Test(sched, rail_failed_mid_plan_is_reassigned_to_the_others)
{
    sched_rail_t r[3] = {rail(1000, 0, 64 * 1024), rail(1000, 0, 64 * 1024),
                         rail(500, 0, 64 * 1024)};
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    size_t n = 5 << 20;
    cr_assert_eq(sched_plan_range(r, 3, 0, n, &o, &p), 0);
    /* Rail 1 fails mid-plan: everything it carried goes again (a socket's
     * buffer dies with the rail), as whole fragments on the others. */
    r[1].up = false;
    sched_frag_t *lost = malloc(p.count * sizeof(*lost));
    sched_frag_t *kept = malloc(p.count * sizeof(*kept));
    size_t nlost = 0, nkept = 0;
    for (size_t i = 0; i < p.count; i++) {
        if (p.frags[i].rail == 1) {
            lost[nlost++] = p.frags[i];
        } else {
            kept[nkept++] = p.frags[i];
        }
    }
    cr_assert_gt(nlost, 0u);
    sched_plan_t again = {0};
    cr_assert_eq(sched_reassign(r, 3, lost, nlost, &o, &again), 0);
    cr_assert_eq(again.count, nlost, "one new fragment per lost one");
    size_t moved[3] = {0};
    for (size_t i = 0; i < again.count; i++) {
        cr_expect_neq(again.frags[i].rail, 1u, "reassigned onto the failed rail");
        cr_expect_eq(again.frags[i].offset, lost[i].offset, "a copy keeps its offset");
        cr_expect_eq(again.frags[i].len, lost[i].len, "a copy keeps its length");
        moved[again.frags[i].rail] += again.frags[i].len;
        kept[nkept++] = again.frags[i];
    }
    /* In proportion to the rails left (1000 : 500), within one fragment. */
    cr_expect(moved[0] > moved[2], "the faster rail takes more: %zu vs %zu", moved[0], moved[2]);
    double ratio = (double)moved[0] / (double)moved[2];
    cr_expect(ratio > 1.5 && ratio < 2.6, "1000:500 rails took %zu:%zu", moved[0], moved[2]);
    size_t bytes[3] = {0};
    check_cover(r, kept, nkept, 0, n, bytes);
    cr_expect_eq(bytes[1], 0u);
    free(lost);
    free(kept);
    sched_plan_free(&p);
    sched_plan_free(&again);
}

Test(sched, reassign_respects_max_fragment_and_fails_without_a_rail)
{
    sched_rail_t r[2] = {rail(1000, 0, 64 * 1024), rail(1000, 0, 1 << 20)};
    sched_opts_t o = sched_default_opts();
    sched_frag_t big = {.rail = 1, .offset = 0, .len = 512 * 1024};
    sched_plan_t p = {0};
    cr_assert_eq(sched_reassign(r, 2, &big, 1, &o, &p), 0);
    cr_expect_eq(p.frags[0].rail, 1u, "only rail 1 holds 512 KiB in one piece");
    r[1].up = false;
    cr_expect_eq(sched_reassign(r, 2, &big, 1, &o, &p), -1);
    cr_expect_eq(p.count, 1u, "a failed reassign appends nothing");
    sched_plan_free(&p);
}

Test(sched, no_rail_up_is_an_error)
{
    sched_rail_t r[2] = {rail(1000, 0, 1 << 20), rail(1000, 0, 1 << 20)};
    r[0].up = r[1].up = false;
    sched_opts_t o = sched_default_opts();
    sched_plan_t p = {0};
    cr_expect_eq(sched_plan_range(r, 2, 0, 1 << 20, &o, &p), -1);
    cr_expect_eq(p.count, 0u);
    sched_plan_free(&p);
}

/* What stealing weighs rails by is what planning weighs them by: measured
 * figures only once every rail that is up has them, 0 for a rail down. */
Test(sched, plan_rates_are_the_planners_figures)
{
    sched_opts_t o = sched_default_opts();
    sched_rail_t r[3] = {rail(1000, 0, 128 << 10), rail(500, 0, 128 << 10),
                         rail(250, 0, 128 << 10)};
    r[2].up = false;
    double bw[3];
    sched_plan_rates(r, 3, &o, bw);
    cr_expect_eq(bw[0], 1000);
    cr_expect_eq(bw[1], 500);
    cr_expect_eq(bw[2], 0);
    for (int k = 0; k < 4; k++) {
        sched_rail_observe(&r[0], 300000, 1000); /* 300 MB/s */
    }
    sched_plan_rates(r, 3, &o, bw);
    cr_expect_eq(bw[0], 1000, "rail 1 has no samples yet: nominal for both");
    for (int k = 0; k < 4; k++) {
        sched_rail_observe(&r[1], 200000, 1000); /* 200 MB/s */
    }
    sched_plan_rates(r, 3, &o, bw);
    cr_expect_float_eq(bw[0], 300, 1e-9);
    cr_expect_float_eq(bw[1], 200, 1e-9);
    cr_expect_eq(bw[2], 0);
}

/* A share is cut into as few pieces as the rail's max fragment allows, all
 * of one size but the last, which is smaller by less than the count: a
 * 64 KiB share on a rail taking 65488 bytes is 2 x 32 KiB, not 65488 + 48. */
Test(sched, a_share_is_cut_into_equal_pieces)
{
    sched_opts_t o = sched_default_opts();
    const size_t maxes[] = {65488, 65536, 4096, 12345, 1 << 20};
    const size_t lens[] = {131072, 1 << 20, 3 * 65536 + 4096, (4 << 20) + 12288, 777 * 1024};
    for (size_t a = 0; a < sizeof(maxes) / sizeof(maxes[0]); a++) {
        for (size_t b = 0; b < sizeof(lens) / sizeof(lens[0]); b++) {
            sched_rail_t rails[2] = {rail(100, 0, maxes[a]), rail(100, 0, 256 * 1024)};
            sched_plan_t plan = {0};
            cr_assert_eq(sched_plan_range(rails, 2, 0, lens[b], &o, &plan), 0);
            size_t per_rail[2] = {0}, count[2] = {0}, biggest[2] = {0}, smallest[2] = {0};
            check_cover(rails, plan.frags, plan.count, 0, lens[b], per_rail);
            for (size_t i = 0; i < plan.count; i++) {
                unsigned r = plan.frags[i].rail;
                size_t len = plan.frags[i].len;
                count[r]++;
                biggest[r] = len > biggest[r] ? len : biggest[r];
                smallest[r] = count[r] == 1 || len < smallest[r] ? len : smallest[r];
            }
            for (unsigned r = 0; r < 2; r++) {
                size_t max = rails[r].max_frag, want = (per_rail[r] + max - 1) / max;
                cr_expect_eq(count[r], want, "max %zu len %zu rail %u: %zu pieces for %zu bytes",
                             maxes[a], lens[b], r, count[r], per_rail[r]);
                cr_expect_lt(biggest[r] - smallest[r], count[r] > 0 ? count[r] : 1,
                             "max %zu len %zu rail %u: pieces from %zu to %zu bytes", maxes[a],
                             lens[b], r, smallest[r], biggest[r]);
            }
            sched_plan_free(&plan);
        }
    }
    sched_rail_t rails[2] = {rail(100, 0, 65488), rail(100, 0, 65488)};
    sched_plan_t plan = {0};
    cr_assert_eq(sched_plan_range(rails, 2, 0, 131072, &o, &plan), 0);
    cr_assert_eq(plan.count, 4);
    for (size_t i = 0; i < plan.count; i++) {
        cr_expect_eq(plan.frags[i].len, 32768);
    }
    sched_plan_free(&plan);
}

/* The receiver's samples: the bytes after a rail's first fragment over the
 * time they took, only when they are at least half that fragment. */
Test(sched, a_few_bytes_after_a_full_fragment_are_no_sample)
{
    sched_rail_t r = {0};
    cr_expect_not(sched_rail_delivery(&r, 65488, 65536, 600, 200), "48 bytes read as a rate");
    cr_expect_eq(r.samples, 0);
    cr_expect_not(sched_rail_delivery(&r, 65536, 65536, 5000, 200), "one fragment is no rate");
    cr_expect_not(sched_rail_delivery(&r, 32768, 65536, 150, 200), "span below the minimum");
    cr_expect(sched_rail_delivery(&r, 32768, 65536, 500, 200));
    cr_expect_eq(r.samples, 1);
    cr_expect_float_eq(r.measured_bw, 32768.0 / 500, 1e-9);
    cr_expect(sched_rail_delivery(&r, 65536, 65536 + 32768, 300, 200), "half a fragment counts");
    cr_expect_float_eq(r.measured_bw, (32768.0 + 32768) / 800, 1e-9);
}

/* A measured rail that carries nothing while another gives samples has its
 * rate forgotten after `limit` messages; a sample in between starts the
 * count again, and a rail never measured has nothing to forget. */
Test(sched, a_starved_rail_has_its_rate_forgotten)
{
    sched_rail_t never = {0};
    for (int i = 0; i < 100; i++) {
        cr_assert_not(sched_rail_starve(&never, 16));
    }
    sched_rail_t r = {0};
    for (int i = 0; i < 4; i++) {
        cr_assert(sched_rail_delivery(&r, 4096, 65536, 1e6, 200)); /* a rate far too low */
    }
    for (int i = 0; i < 15; i++) {
        cr_assert_not(sched_rail_starve(&r, 16), "forgotten after %d", i + 1);
    }
    cr_assert(sched_rail_delivery(&r, 4096, 65536, 1e6, 200));
    for (int i = 0; i < 15; i++) {
        cr_assert_not(sched_rail_starve(&r, 16), "a sample did not restart the count");
    }
    cr_assert(sched_rail_starve(&r, 16));
    cr_expect_eq(r.samples, 0);
    cr_expect_float_eq(r.measured_bw, 0, 1e-12);
    sched_opts_t o = sched_default_opts();
    r.nominal_bw = 500;
    cr_expect_float_eq(sched_rail_bw(&r, &o), 500, 1e-9,
                       "a forgotten rail goes by its nominal rate");
}
