/* One status space: every code from MRAIL_STATUS_MIN to MRAIL_STATUS_MAX
 * has its own text in mrail_strerror, and any other number is unknown. */
#include <criterion/criterion.h>
#include <string.h>

#include "mrail/mrail.h"

Test(status, every_code_has_its_own_text)
{
    cr_assert_eq(MRAIL_STATUS_MAX - MRAIL_STATUS_MIN + 1, 13, "a code was added: list it below");
    const int codes[] = {MRAIL_INPROGRESS,
                         MRAIL_SUCCESS,
                         MRAIL_ERROR,
                         MRAIL_ERR_OUT_OF_RESOURCE,
                         MRAIL_ERR_BAD_PARAM,
                         MRAIL_ERR_NOT_FOUND,
                         MRAIL_ERR_DECLINED,
                         MRAIL_ERR_EXISTS,
                         MRAIL_ERR_NOT_SUPPORTED,
                         MRAIL_ERR_IO,
                         MRAIL_ERR_UNREACHABLE,
                         MRAIL_ERR_AGAIN,
                         MRAIL_ERR_TRUNCATE};
    const size_t n = sizeof(codes) / sizeof(codes[0]);
    for (int c = MRAIL_STATUS_MIN; c <= MRAIL_STATUS_MAX; c++) {
        bool listed = false;
        for (size_t i = 0; i < n; i++) {
            listed = listed || codes[i] == c;
        }
        cr_expect(listed, "code %d is in the range but not an enumerator listed here", c);
        const char *text = mrail_strerror(c);
        cr_assert_not_null(text);
        cr_expect_str_neq(text, "unknown status", "code %d has no text", c);
        for (int d = MRAIL_STATUS_MIN; d < c; d++) {
            cr_expect_str_neq(text, mrail_strerror(d), "codes %d and %d share \"%s\"", d, c, text);
        }
    }
    cr_expect_str_eq(mrail_strerror(MRAIL_STATUS_MIN - 1), "unknown status");
    cr_expect_str_eq(mrail_strerror(MRAIL_STATUS_MAX + 1), "unknown status");
    cr_expect_str_eq(mrail_strerror(-20), "unknown status");
}
