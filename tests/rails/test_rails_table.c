/* The per-peer rail table: exclusivity filter, weights, failure. Modules
 * here are plain data: the table only reads their config. */
#include <criterion/criterion.h>

#include "mrail/rails.h"

static mrail_btl_module_t module(unsigned excl, unsigned bw)
{
    mrail_btl_module_t m;
    memset(&m, 0, sizeof(m));
    m.config.exclusivity = excl;
    m.config.bandwidth = bw;
    return m;
}

static mrail_btl_endpoint_t *ep(int n)
{
    return (mrail_btl_endpoint_t *)(uintptr_t)(0x1000 + n); /* opaque to the table */
}

Test(rails_table, equal_rails_share_equally)
{
    mrail_rail_table_t t;
    cr_assert_eq(mrail_rail_table_init(&t, 2), MRAIL_SUCCESS);
    mrail_btl_module_t a = module(100, 500), b = module(100, 500);
    mrail_rail_table_add(&t, 1, &a, ep(1));
    mrail_rail_table_add(&t, 1, &b, ep(2));
    const mrail_peer_rails_t *p = mrail_rail_table_peer(&t, 1);
    cr_assert_eq(p->count, 2u);
    cr_expect_float_eq(p->rails[0].weight, 0.5, 1e-12);
    cr_expect_float_eq(p->rails[1].weight, 0.5, 1e-12);
    cr_expect_eq(p->rails[0].ep, ep(1));
    cr_expect_eq(mrail_rail_table_peer(&t, 0)->count, 0u);
    cr_expect_null(mrail_rail_table_peer(&t, 2));
    mrail_rail_table_fini(&t);
}

Test(rails_table, weights_follow_bandwidth)
{
    mrail_rail_table_t t;
    mrail_rail_table_init(&t, 1);
    mrail_btl_module_t fast = module(100, 1000), slow = module(100, 500);
    mrail_rail_table_add(&t, 0, &fast, ep(1));
    mrail_rail_table_add(&t, 0, &slow, ep(2));
    const mrail_peer_rails_t *p = mrail_rail_table_peer(&t, 0);
    cr_expect_float_eq(p->rails[0].weight, 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(p->rails[1].weight, 1.0 / 3.0, 1e-12);
    mrail_rail_table_fini(&t);
}

Test(rails_table, unknown_bandwidth_means_equal_shares)
{
    mrail_rail_table_t t;
    mrail_rail_table_init(&t, 1);
    mrail_btl_module_t a = module(100, 1000), b = module(100, 0), c = module(100, 250);
    mrail_rail_table_add(&t, 0, &a, ep(1));
    mrail_rail_table_add(&t, 0, &b, ep(2));
    mrail_rail_table_add(&t, 0, &c, ep(3));
    const mrail_peer_rails_t *p = mrail_rail_table_peer(&t, 0);
    for (size_t i = 0; i < 3; i++) {
        cr_expect_float_eq(p->rails[i].weight, 1.0 / 3.0, 1e-12);
    }
    mrail_rail_table_fini(&t);
}

Test(rails_table, higher_exclusivity_hides_lower_in_either_order)
{
    mrail_rail_table_t t;
    mrail_rail_table_init(&t, 2);
    mrail_btl_module_t tcp0 = module(100, 500), tcp1 = module(100, 500), sm = module(65280, 0);
    /* peer 0: tcp first, then sm replaces both */
    mrail_rail_table_add(&t, 0, &tcp0, ep(1));
    mrail_rail_table_add(&t, 0, &tcp1, ep(2));
    mrail_rail_table_add(&t, 0, &sm, ep(3));
    /* peer 1: sm first, tcp is never kept */
    mrail_rail_table_add(&t, 1, &sm, ep(4));
    mrail_rail_table_add(&t, 1, &tcp0, ep(5));
    for (uint32_t peer = 0; peer < 2; peer++) {
        const mrail_peer_rails_t *p = mrail_rail_table_peer(&t, peer);
        cr_assert_eq(p->count, 1u, "peer %u", peer);
        cr_expect_eq(p->rails[0].module, &sm);
        cr_expect_float_eq(p->rails[0].weight, 1.0, 1e-12);
    }
    mrail_rail_table_fini(&t);
}

Test(rails_table, failed_rail_gives_its_share_to_the_rest)
{
    mrail_rail_table_t t;
    mrail_rail_table_init(&t, 1);
    mrail_btl_module_t a = module(100, 500), b = module(100, 500), c = module(100, 250);
    mrail_rail_table_add(&t, 0, &a, ep(1));
    mrail_rail_table_add(&t, 0, &b, ep(2));
    mrail_rail_table_add(&t, 0, &c, ep(3));
    cr_expect_eq(mrail_rail_table_fail(&t, 0, &b), 2u);
    const mrail_peer_rails_t *p = mrail_rail_table_peer(&t, 0);
    cr_expect_eq(p->rails[1].state, MRAIL_RAIL_FAILED);
    cr_expect_float_eq(p->rails[1].weight, 0.0, 1e-12);
    cr_expect_float_eq(p->rails[0].weight, 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(p->rails[2].weight, 1.0 / 3.0, 1e-12);
    cr_expect_eq(p->usable, 2u);
    mrail_rail_table_fail_module(&t, &a);
    cr_expect_eq(p->usable, 1u);
    cr_expect_float_eq(p->rails[2].weight, 1.0, 1e-12);
    cr_expect_eq(mrail_rail_table_fail(&t, 0, &c), 0u);
    mrail_rail_table_fini(&t);
}

Test(rails_table, bad_arguments_are_refused)
{
    mrail_rail_table_t t;
    mrail_rail_table_init(&t, 1);
    mrail_btl_module_t a = module(100, 500);
    cr_expect_eq(mrail_rail_table_add(&t, 1, &a, ep(1)), MRAIL_ERR_BAD_PARAM);
    cr_expect_eq(mrail_rail_table_add(&t, 0, &a, NULL), MRAIL_ERR_BAD_PARAM);
    cr_expect_eq(mrail_rail_table_fail(&t, 7, &a), 0u);
    mrail_rail_table_fini(&t);
}
