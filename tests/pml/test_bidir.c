/* pml_stripe_bidir.c with a clock of its own: windows of messages "take"
 * the time their choice's rate gives them, and the choice that follows is
 * checked window by window against the schedule the rule implies. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pml_stripe.h"

static double fake_us;

double pml_now_us(void)
{
    return fake_us;
}

static pml_stripe_t *pml_new(bool adapt)
{
    pml_stripe_t *pml = calloc(1, sizeof(*pml));
    cr_assert_not_null(pml);
    pml->size = 2;
    pml->bidir = calloc(2, sizeof(*pml->bidir));
    cr_assert_not_null(pml->bidir);
    pml->bidir_rget = 128u << 10;
    pml->bidir_adapt = adapt;
    fake_us = 1000;
    return pml;
}

static void pml_del(pml_stripe_t *pml)
{
    pml_bidir_free(pml);
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
        bool g = pml_bidir_use_get(pml, 1, len, &cls[i]);
        cr_assert(i == 0 || g == get, "one window, one choice");
        get = g;
        if (cls[i] != 0) {
            pml_bidir_started(pml, 1, cls[i]);
        }
    }
    fake_us += (double)len * n / rate[get ? PML_BIDIR_GET : PML_BIDIR_RINGS];
    for (int i = 0; i < n; i++) {
        if (cls[i] != 0) {
            pml_bidir_done(pml, 1, cls[i], len);
        }
    }
    return get;
}

/* OSU's windows: 64 x 128 KiB = 8 MiB, two per 16 MiB epoch. */
#define LEN (128u << 10)
#define N 64

Test(bidir, keeps_rdma_get_where_the_rings_are_slower_and_tries_them_less_often)
{
    pml_stripe_t *pml = pml_new(true);
    const double rate[2] = {[PML_BIDIR_GET] = 10000, [PML_BIDIR_RINGS] = 3000};
    /* Epoch 1 (windows 1-2) rdma get; epoch 2 (3-4) tries the rings, which
     * lose by more than 30 %: 48 epochs of get (5-100), a try (101-102),
     * lost again: 96 epochs (103-294), a try (295-296), then 96 again. */
    for (int w = 1; w <= 500; w++) {
        bool rings = (w >= 3 && w <= 4) || (w >= 101 && w <= 102) || (w >= 295 && w <= 296) ||
                     (w >= 489 && w <= 490);
        cr_assert_eq(window(pml, LEN, N, rate), !rings, "window %d: %s expected", w,
                     rings ? "the rings" : "rdma get");
    }
    pml_del(pml);
}

Test(bidir, takes_the_rings_while_they_are_faster_and_returns_when_they_slow)
{
    pml_stripe_t *pml = pml_new(true);
    double rate[2] = {[PML_BIDIR_GET] = 8000, [PML_BIDIR_RINGS] = 20000};
    /* Windows 1-2 get, 3-4 the rings win: 24 epochs of rings (5-52). From
     * window 20 the rings run at 3000: the try of get at 53-54 wins (8000
     * against the rings' last 3000), so get from 55 for 24 epochs (55-102);
     * the rings are tried at 103-104, lose by more than 30 %: 48 epochs of
     * get (105-200). */
    for (int w = 1; w <= 200; w++) {
        if (w == 20) {
            rate[PML_BIDIR_RINGS] = 3000;
        }
        bool rings = (w >= 3 && w <= 52) || (w >= 103 && w <= 104);
        cr_assert_eq(window(pml, LEN, N, rate), !rings, "window %d: %s expected", w,
                     rings ? "the rings" : "rdma get");
    }
    pml_del(pml);
}

Test(bidir, each_size_class_learns_for_itself)
{
    pml_stripe_t *pml = pml_new(true);
    /* Small messages move faster through the rings, large ones by rdma
     * get, interleaved in one run: each class ends on its own choice. */
    const double small[2] = {[PML_BIDIR_GET] = 5000, [PML_BIDIR_RINGS] = 15000};
    const double large[2] = {[PML_BIDIR_GET] = 15000, [PML_BIDIR_RINGS] = 5000};
    bool small_get = true, large_get = false;
    for (int w = 0; w < 40; w++) {
        small_get = window(pml, LEN, N, small);
        large_get = window(pml, 4u << 20, 8, large);
    }
    cr_assert(!small_get, "128 KiB messages should take the rings");
    cr_assert(large_get, "4 MiB messages should take rdma get");
    pml_del(pml);
}

Test(bidir, without_adapting_every_message_takes_rdma_get_unmeasured)
{
    pml_stripe_t *pml = pml_new(false);
    uint8_t cls = 9;
    cr_assert(pml_bidir_use_get(pml, 1, LEN, &cls));
    cr_assert_eq(cls, 0, "not measured");
    cr_assert_null(pml->bidir[1], "no state for the peer");
    pml_del(pml);
}

Test(bidir, a_stream_that_never_drains_keeps_its_choice)
{
    pml_stripe_t *pml = pml_new(true);
    const double rate[2] = {[PML_BIDIR_GET] = 1000, [PML_BIDIR_RINGS] = 50000};
    uint8_t first;
    cr_assert(pml_bidir_use_get(pml, 1, LEN, &first));
    pml_bidir_started(pml, 1, first); /* one message outstanding throughout */
    for (int w = 1; w <= 100; w++) {
        cr_assert(window(pml, LEN, N, rate), "window %d left rdma get", w);
    }
    pml_bidir_done(pml, 1, first, LEN);
    pml_del(pml);
}
