/* mrail_copy (include/mrail/copy.h): which pairs take the loop, and that
 * both ways copy exactly the bytes asked for, at every alignment of the
 * two buffers and every length around the loop's 64-byte steps and the
 * sizes where mrail_copy changes its way. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/copy.h"

#define PAGE 4096

Test(copy, the_loop_is_taken_for_destinations_1_to_31_bytes_past_the_source_in_a_page)
{
    char *base = aligned_alloc(PAGE, 3 * PAGE);
    cr_assert_not_null(base);
    for (size_t d = 0; d < 2 * PAGE; d++) {
        size_t in_page = d % PAGE;
        bool slow = in_page >= 1 && in_page <= 31;
        cr_expect_eq(mrail_copy_aliased(base + d, base, 4096), slow, "distance %zu", d);
        cr_expect_not(mrail_copy_aliased(base + d, base, MRAIL_COPY_ALIAS_MIN - 1),
                      "distance %zu, below the size memcpy takes rep movsb for", d);
    }
    /* A destination before its source: the distance wraps modulo the page. */
    cr_expect(mrail_copy_aliased(base + PAGE - 4080, base + PAGE, 8192));
    cr_expect_not(mrail_copy_aliased(base + PAGE - 16, base + PAGE, 8192));
    free(base);
}

/* src holds a pattern, dst a fill byte; after copying len bytes from
 * src + so to dst + dof, exactly those bytes match and nothing else moved. */
static void check_copy(void (*copy)(void *, const void *, size_t), size_t len, size_t so,
                       size_t dof)
{
    size_t room = len + 2 * PAGE;
    unsigned char *src = aligned_alloc(PAGE, room + PAGE - room % PAGE);
    unsigned char *dst = aligned_alloc(PAGE, room + PAGE - room % PAGE);
    cr_assert(src != NULL && dst != NULL);
    for (size_t i = 0; i < room; i++) {
        src[i] = (unsigned char)(i * 7 + i / 255 + 1);
    }
    memset(dst, 0xee, room);
    copy(dst + dof, src + so, len);
    for (size_t i = 0; i < room; i++) {
        unsigned char want = i >= dof && i < dof + len ? src[so + i - dof] : 0xee;
        if (dst[i] != want) {
            cr_assert_fail("len %zu from offset %zu to offset %zu: byte %zu is %u, not %u", len, so,
                           dof, i, dst[i], want);
        }
    }
    free(src);
    free(dst);
}

static void through_copy(void *d, const void *s, size_t n)
{
    mrail_copy(d, s, n);
}

Test(copy, every_length_around_the_steps_at_every_destination_alignment)
{
    for (size_t len = 0; len <= 200; len++) {
        for (size_t dof = 0; dof < 64; dof += 5) {
            check_copy(mrail_copy_loop, len, 3, dof);
        }
    }
}

Test(copy, large_copies_at_aliased_and_plain_distances)
{
    const size_t lens[] = {2047,  2048,       2049,   4096,          65535,
                           65536, 65536 + 13, 300001, (4u << 20) + 7};
    const size_t offs[][2] = {{0, 0},  {0, 1},  {0, 16},  {0, 31},   {0, 32},
                              {16, 0}, {5, 36}, {40, 41}, {100, 90}, {0, 4095}};
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
            check_copy(through_copy, lens[l], offs[o][0], offs[o][1]);
            check_copy(mrail_copy_loop, lens[l], offs[o][0], offs[o][1]);
        }
    }
}
