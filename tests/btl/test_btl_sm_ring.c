/* btl/sm's ring as a unit: records in order across laps and wraps, a full
 * ring refusing, warming leaving a fresh ring empty, and the automatic
 * ring size for a node's rank count. */
#include <stdlib.h>
#include <string.h>

#include "btl_sm.h"
#include "test_util.h"

#define RING (16u << 10)

static btl_sm_ring_t *ring_new(void)
{
    btl_sm_ring_t *r = aligned_alloc(4096, (btl_sm_ring_bytes(RING) + 4095) & ~(size_t)4095);
    cr_assert_not_null(r);
    memset(r, 0, btl_sm_ring_bytes(RING));
    return r;
}

/* Producer side: one record of len bytes, each byte a function of seq. */
static bool put(btl_sm_ring_t *r, uint64_t *tail_cache, size_t len, unsigned seq)
{
    btl_sm_rec_t *rec = btl_sm_ring_reserve(r, RING, len, tail_cache);
    if (rec == NULL) {
        return false;
    }
    unsigned char *p = (unsigned char *)(rec + 1);
    for (size_t i = 0; i < len; i++) {
        p[i] = (unsigned char)(seq * 31 + i);
    }
    btl_sm_ring_commit(r, rec, len, BTL_SM_REC_AM, (uint8_t)seq, 0);
    btl_sm_ring_own_ahead(r, RING, *tail_cache); /* as btl/sm's emit does */
    return true;
}

/* Consumer side: the next record must be seq's, byte for byte. */
static void take(btl_sm_ring_t *r, size_t len, unsigned seq)
{
    btl_sm_rec_t *rec = btl_sm_ring_peek(r, RING);
    cr_assert_not_null(rec, "record %u missing", seq);
    cr_assert_eq(rec->len, len, "record %u: length %u, not %zu", seq, rec->len, len);
    cr_assert_eq(rec->tag, (uint8_t)seq);
    const unsigned char *p = (const unsigned char *)(rec + 1);
    for (size_t i = 0; i < len; i++) {
        cr_assert_eq(p[i], (unsigned char)(seq * 31 + i), "record %u wrong at byte %zu", seq, i);
    }
    btl_sm_ring_pop(r, rec);
}

Test(btl_sm_ring, records_keep_order_and_bytes_across_many_laps)
{
    btl_sm_ring_t *r = ring_new();
    btl_sm_ring_warm(r, RING, true);
    btl_sm_ring_warm(r, RING, false);
    cr_expect_null(btl_sm_ring_peek(r, RING), "a warmed fresh ring holds nothing");
    uint64_t tail_cache = 0;
    unsigned next_put = 0, next_take = 0;
    srandom(7);
    size_t lens[64];
    /* Sizes from 0 to a quarter ring, so records straddle the end often. */
    while (next_take < 20000) {
        while (next_put - next_take < 64 && random() % 3 != 0) {
            size_t len =
                (size_t)random() % 5 == 0 ? (size_t)random() % (RING / 4) : (size_t)random() % 64;
            if (!put(r, &tail_cache, len, next_put)) {
                break;
            }
            lens[next_put % 64] = len;
            next_put++;
        }
        if (next_take < next_put) {
            take(r, lens[next_take % 64], next_take);
            next_take++;
        }
    }
    free(r);
}

Test(btl_sm_ring, a_full_ring_refuses_until_the_consumer_frees_room)
{
    btl_sm_ring_t *r = ring_new();
    uint64_t tail_cache = 0;
    unsigned n = 0;
    while (put(r, &tail_cache, 1000, n)) {
        n++;
    }
    cr_assert_gt(n, 10);
    cr_expect_lt(n, RING / 1000 + 1, "%u records of 1000 bytes in a %u-byte ring", n, RING);
    /* Two: the next record skips the ring's tail end, which one does not free. */
    take(r, 1000, 0);
    take(r, 1000, 1);
    cr_expect(put(r, &tail_cache, 1000, n), "room again once records were consumed");
    for (unsigned i = 2; i <= n; i++) {
        take(r, 1000, i);
    }
    cr_expect_null(btl_sm_ring_peek(r, RING));
    free(r);
}

Test(btl_sm_ring, the_automatic_size_follows_the_ranks_on_the_node)
{
    cr_expect_eq(btl_sm_auto_ring_size(1), 2u << 20, "one peer per core: the pair's size");
    cr_expect_eq(btl_sm_auto_ring_size(2), 2u << 20);
    cr_expect_eq(btl_sm_auto_ring_size(3), 512u << 10);
    cr_expect_eq(btl_sm_auto_ring_size(11), 512u << 10, "11 x 11 rings of 512 KiB fit 64 MiB");
    cr_expect_eq(btl_sm_auto_ring_size(12), 256u << 10);
    cr_expect_eq(btl_sm_auto_ring_size(16), 256u << 10);
    cr_expect_eq(btl_sm_auto_ring_size(64), 64u << 10, "never below the minimum");
    for (uint32_t n = 1; n <= 300; n++) {
        size_t ring = btl_sm_auto_ring_size(n);
        cr_expect_eq(ring & (ring - 1), 0, "%u ranks: %zu is not a power of two", n, ring);
        cr_expect(ring == BTL_SM_RING_MIN || (uint64_t)n * n * ring <= BTL_SM_RING_BUDGET,
                  "%u ranks: rings of %zu bytes exceed the budget", n, ring);
        cr_expect(n <= 2 || ring == BTL_SM_RING_MAX ||
                      (uint64_t)n * n * ring * 2 > BTL_SM_RING_BUDGET,
                  "%u ranks: rings of %zu bytes could be twice as large", n, ring);
    }
}
