/* pml_stripe_adapt.c with a clock of its own: windows of messages "take"
 * the time their choice's rate gives them, and the choice that follows is
 * checked window by window against the schedule the rule implies. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pml_stripe.h"

static double fake_us;

/* Traffic to rank 1: both ways at once (a class starts from rdma get), or
 * one way (from the rings below 512 KiB, as the thresholds say). */
static bool both = true;

double pml_now_us(void)
{
    return fake_us;
}

static pml_stripe_t *pml_new(bool adapt)
{
    pml_stripe_t *pml = calloc(1, sizeof(*pml));
    cr_assert_not_null(pml);
    pml->size = 2;
    pml->adapt = calloc(2, sizeof(*pml->adapt));
    cr_assert_not_null(pml->adapt);
    pml->bidir_rget = 128u << 10;
    pml->rget_adapt = adapt;
    fake_us = 1000;
    both = true;
    return pml;
}

static void pml_del(pml_stripe_t *pml)
{
    pml_adapt_free(pml);
    free(pml);
}

/* One window: n sends of len bytes to rank 1, all started, then all done
 * after the time rate[choice] (bytes per us) gives them. Returns whether
 * they took rdma get. */
static bool window(pml_stripe_t *pml, size_t len, int n, const double rate[2])
{
    uint8_t cls[64];
    bool get = true;
    cr_assert(n <= 64);
    for (int i = 0; i < n; i++) {
        bool g = pml_adapt_use_get(pml, 1, len, both, both || len >= (512u << 10), &cls[i]);
        cr_assert(i == 0 || g == get, "one window, one choice");
        get = g;
        if (cls[i] != 0) {
            pml_adapt_started(pml, 1, cls[i]);
        }
    }
    fake_us += (double)len * n / rate[get ? PML_ADAPT_GET : PML_ADAPT_RINGS];
    for (int i = 0; i < n; i++) {
        if (cls[i] != 0) {
            pml_adapt_done(pml, 1, cls[i], len);
        }
    }
    return get;
}

/* OSU's windows: 64 x 128 KiB = 8 MiB, two per 16 MiB epoch. */
#define LEN (128u << 10)
#define N 64

Test(adapt, keeps_rdma_get_where_the_rings_are_slower_and_tries_them_less_often)
{
    pml_stripe_t *pml = pml_new(true);
    const double rate[2] = {[PML_ADAPT_GET] = 10000, [PML_ADAPT_RINGS] = 3000};
    /* Epochs 1-2 (windows 1-4) rdma get, the first being warm-up; a try of
     * the rings (a try is 4 MiB, one window, and both ways it skips one
     * first: 5-6), which lose by more than 30 %: 48 epochs of get (7-102),
     * a try (103-104), lost again: 96 epochs (105-296), a try (297-298),
     * then 96 again (299-490), a try (491-492). */
    for (int w = 1; w <= 500; w++) {
        bool rings = w == 5 || w == 6 || w == 103 || w == 104 || w == 297 || w == 298 || w == 491 ||
                     w == 492;
        cr_assert_eq(window(pml, LEN, N, rate), !rings, "window %d: %s expected", w,
                     rings ? "the rings" : "rdma get");
    }
    pml_del(pml);
}

Test(adapt, takes_the_rings_while_they_are_faster_and_returns_when_they_slow)
{
    pml_stripe_t *pml = pml_new(true);
    double rate[2] = {[PML_ADAPT_GET] = 8000, [PML_ADAPT_RINGS] = 20000};
    /* Windows 1-4 get, the try at 5-6 (both ways the first window is
     * skipped) the rings win: 24 epochs of rings (7-54). From window 20
     * the rings run at 3000: the try of get at 55-56 wins (8000 against
     * the rings' last 3000), so get for 24 epochs (57-104); the rings are
     * tried at 105-106, lose by more than 30 %: 48 epochs of get
     * (107-202), and a try at 203-204. */
    for (int w = 1; w <= 210; w++) {
        if (w == 20) {
            rate[PML_ADAPT_RINGS] = 3000;
        }
        bool rings = (w >= 5 && w <= 54) || w == 105 || w == 106 || w == 203 || w == 204;
        cr_assert_eq(window(pml, LEN, N, rate), !rings, "window %d: %s expected", w,
                     rings ? "the rings" : "rdma get");
    }
    pml_del(pml);
}

Test(adapt, an_epoch_cut_short_by_the_scheduler_does_not_turn_it_away)
{
    pml_stripe_t *pml = pml_new(true);
    double rate[2] = {[PML_ADAPT_GET] = 8000, [PML_ADAPT_RINGS] = 20000};
    /* As test 2 to window 54, but the rings' last epoch before the try of
     * get (windows 53-54) reads 2000, as under load when a rank loses the
     * core for part of it. The try (55-56) is measured against the best of
     * the rings' last epochs, loses by more than 30 %: 48 epochs of the
     * rings (57-152), a try at 153-154, and the rings again. */
    for (int w = 1; w <= 160; w++) {
        rate[PML_ADAPT_RINGS] = (w == 53 || w == 54) ? 2000 : 20000;
        bool get = w <= 4 || w == 55 || w == 56 || w == 153 || w == 154;
        cr_assert_eq(window(pml, LEN, N, rate), get, "window %d: %s expected", w,
                     get ? "rdma get" : "the rings");
    }
    pml_del(pml);
}

Test(adapt, the_first_try_is_weighed_against_the_warm_up_too)
{
    pml_stripe_t *pml = pml_new(true);
    double rate[2] = {[PML_ADAPT_GET] = 10000, [PML_ADAPT_RINGS] = 6000};
    /* Epoch 1 (windows 1-2) warms up at full speed, epoch 2 (3-4) reads
     * 1000 (a rank off its core). The try of the rings (5-6) is weighed
     * against the best of both, loses by more than 30 %: 48 epochs of get
     * (7-102), the next try at 103-104. Against epoch 2 alone it won. */
    for (int w = 1; w <= 110; w++) {
        rate[PML_ADAPT_GET] = w == 3 || w == 4 ? 1000 : 10000;
        bool rings = w == 5 || w == 6 || w == 103 || w == 104;
        cr_assert_eq(window(pml, LEN, N, rate), !rings, "window %d: %s expected", w,
                     rings ? "the rings" : "rdma get");
    }
    pml_del(pml);
}

Test(adapt, both_ways_the_higher_rank_follows_the_lower_ones_choice)
{
    pml_stripe_t *pml = pml_new(true);
    pml->rank = 1; /* towards rank 0, which chooses for the pair */
    uint8_t cls = 9;
    cr_assert(pml_adapt_use_get(pml, 0, LEN, true, true, &cls),
              "nothing followed yet: the thresholds");
    cr_assert_eq(cls, 0, "a follower does not measure both ways");
    pml_adapt_follow(pml, 0, LEN, false); /* rank 0's RTS went through the rings */
    cr_assert(!pml_adapt_use_get(pml, 0, LEN, true, true, &cls), "rank 0 sends by the rings");
    cr_assert_eq(cls, 0);
    pml_adapt_follow(pml, 0, LEN + 1, true); /* the same size class, by get */
    cr_assert(pml_adapt_use_get(pml, 0, LEN, true, false, &cls), "rank 0 sends by get");
    cr_assert(!pml_adapt_use_get(pml, 0, 4u << 20, true, false, &cls), "another class: its own");
    cr_assert(!pml_adapt_use_get(pml, 0, LEN, false, false, &cls), "one way: measured by itself");
    cr_assert_neq(cls, 0);
    pml_del(pml);

    pml = pml_new(true); /* rank 0 towards rank 1: it leads, and follows nobody */
    cr_assert(pml_adapt_use_get(pml, 1, LEN, true, true, &cls));
    pml_adapt_follow(pml, 1, LEN, false);
    cr_assert(pml_adapt_use_get(pml, 1, LEN, true, true, &cls), "the leader keeps its own choice");
    cr_assert_neq(cls, 0, "and measures it");
    pml_del(pml);
}

Test(adapt, each_size_class_learns_for_itself)
{
    pml_stripe_t *pml = pml_new(true);
    /* Small messages move faster through the rings, large ones by rdma
     * get, interleaved in one run: each class ends on its own choice. */
    const double small[2] = {[PML_ADAPT_GET] = 5000, [PML_ADAPT_RINGS] = 15000};
    const double large[2] = {[PML_ADAPT_GET] = 15000, [PML_ADAPT_RINGS] = 5000};
    bool small_get = true, large_get = false;
    for (int w = 0; w < 40; w++) {
        small_get = window(pml, LEN, N, small);
        large_get = window(pml, 4u << 20, 8, large);
    }
    cr_assert(!small_get, "128 KiB messages should take the rings");
    cr_assert(large_get, "4 MiB messages should take rdma get");
    pml_del(pml);
}

Test(adapt, without_adapting_every_message_takes_rdma_get_unmeasured)
{
    pml_stripe_t *pml = pml_new(false);
    uint8_t cls = 9;
    cr_assert(pml_adapt_use_get(pml, 1, LEN, true, true, &cls));
    cr_assert_eq(cls, 0, "not measured");
    cr_assert(!pml_adapt_use_get(pml, 1, LEN, false, false, &cls), "the thresholds' answer");
    cr_assert_null(pml->adapt[1], "no state for the peer");
    pml_del(pml);
}

Test(adapt, a_stream_that_never_drains_keeps_its_choice)
{
    pml_stripe_t *pml = pml_new(true);
    const double rate[2] = {[PML_ADAPT_GET] = 1000, [PML_ADAPT_RINGS] = 50000};
    uint8_t first;
    cr_assert(pml_adapt_use_get(pml, 1, LEN, true, true, &first));
    pml_adapt_started(pml, 1, first); /* one message outstanding throughout */
    for (int w = 1; w <= 100; w++) {
        cr_assert(window(pml, LEN, N, rate), "window %d left rdma get", w);
    }
    pml_adapt_done(pml, 1, first, LEN);
    pml_del(pml);
}

Test(adapt, one_way_below_the_threshold_tries_rdma_get_only_while_the_rings_are_slow)
{
    pml_stripe_t *pml = pml_new(true);
    both = false;
    double rate[2] = {[PML_ADAPT_GET] = 9000, [PML_ADAPT_RINGS] = 20000};
    /* One way at 128 KiB, below the btl's min (512 KiB here): the class
     * starts from the rings and, while they run at 20000, never tries get,
     * not even when its first two epochs read 3000 (the first is warm-up,
     * the second as if the sender lost its core: not a run of three).
     * From window 101 the rings run at 3000: once the best of their last
     * three epochs (windows 101-106) is below 5000, get is tried (107) and
     * wins, and is measured as any class: kept for 24 epochs (108-155),
     * the rings tried (156) lose by more than 30 %, 48 epochs of get
     * (157-252). The rings are fast again from window 200: their try at
     * 253 wins, and the class watches again, trying get no more. */
    for (int w = 1; w <= 400; w++) {
        rate[PML_ADAPT_RINGS] = w <= 4 || (w >= 101 && w < 200) ? 3000 : 20000;
        bool get = w >= 107 && w <= 252 && w != 156;
        cr_assert_eq(window(pml, LEN, N, rate), get, "window %d: %s expected", w,
                     get ? "rdma get" : "the rings");
    }
    pml_del(pml);
}

Test(adapt, one_way_and_both_ways_learn_apart)
{
    pml_stripe_t *pml = pml_new(true);
    /* One way the rings are faster, both ways rdma get, at the same size. */
    const double one[2] = {[PML_ADAPT_GET] = 5000, [PML_ADAPT_RINGS] = 15000};
    const double two[2] = {[PML_ADAPT_GET] = 15000, [PML_ADAPT_RINGS] = 5000};
    bool one_get = true, two_get = false;
    for (int w = 0; w < 40; w++) {
        both = false;
        one_get = window(pml, LEN, N, one);
        both = true;
        two_get = window(pml, LEN, N, two);
    }
    cr_assert(!one_get, "one way should take the rings");
    cr_assert(two_get, "both ways should take rdma get");
    pml_del(pml);
}
