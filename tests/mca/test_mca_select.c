/* The <framework> selection parameter and one-of-many priority. */
#include "fw_util.h"

static void run_with(fw_run_t *r, const char *var, const char *value)
{
    fw_run_init(r);
    if (var != NULL) {
        test_env_set(&r->env, var, value);
    }
    fw_run(r);
}

Test(mca_select, include_list_keeps_only_those)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_btl", "self,fake");
    cr_expect_eq(r.select_rc, MRAIL_SUCCESS);
    fw_expect_state(&r, "btl", "self", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "btl", "fake", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "btl", "sm", MRAIL_COMPONENT_EXCLUDED, "not listed by btl=self,fake");
    fw_expect_state(&r, "btl", "tcp", MRAIL_COMPONENT_EXCLUDED, "not listed");
    cr_expect_eq(fw_entry(&r, "btl", "sm")->module_count, 0u);
    fw_run_fini(&r);
}

Test(mca_select, exclude_list_keeps_all_but_those)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_btl", "^sm,fake");
    cr_expect_eq(r.select_rc, MRAIL_SUCCESS);
    fw_expect_state(&r, "btl", "self", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "btl", "sm", MRAIL_COMPONENT_EXCLUDED, "excluded by btl=^sm,fake");
    fw_expect_state(&r, "btl", "fake", MRAIL_COMPONENT_EXCLUDED, "excluded");
    fw_run_fini(&r);
}

Test(mca_select, mixing_forms_is_an_error_listing_components)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_btl", "self,^tcp");
    cr_expect_eq(r.select_rc, MRAIL_ERR_BAD_PARAM);
    cr_expect(
        test_diag_has(r.mca, MRAIL_DIAG_ERROR, "mixes inclusion and exclusion", "MRAIL_MCA_btl"));
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR, "self, sm, tcp", NULL));
    fw_run_fini(&r);
}

Test(mca_select, unknown_component_is_an_error_listing_components)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_btl", "self,tpc");
    cr_expect_eq(r.select_rc, MRAIL_ERR_BAD_PARAM);
    cr_expect(
        test_diag_has(r.mca, MRAIL_DIAG_ERROR, "\"tpc\", which does not exist", "self, sm, tcp"));
    fw_run_fini(&r);
}

Test(mca_select, malformed_lists_are_errors)
{
    const char *bad[] = {"self,,tcp", "^", "self,", "^sm,^"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fw_run_t r;
        run_with(&r, "MRAIL_MCA_btl", bad[i]);
        cr_expect_eq(r.select_rc, MRAIL_ERR_BAD_PARAM, "btl=%s accepted", bad[i]);
        cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR, "invalid btl selection", bad[i]));
        fw_run_fini(&r);
    }
}

Test(mca_select, repeated_exclusion_marks_are_allowed)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_btl", "^sm,^fake");
    cr_expect_eq(r.select_rc, MRAIL_SUCCESS);
    fw_expect_state(&r, "btl", "fake", MRAIL_COMPONENT_EXCLUDED, NULL);
    fw_run_fini(&r);
}

Test(mca_select, requested_component_that_declines_is_a_warning)
{
    fw_run_t r;
    fw_run_init(&r);
    test_env_set(&r.env, "MRAIL_MCA_btl", "self,fake");
    test_env_set(&r.env, "MRAIL_MCA_btl_fake_devices", "");
    fw_run(&r);
    cr_expect_eq(r.select_rc, MRAIL_SUCCESS);
    fw_expect_state(&r, "btl", "fake", MRAIL_COMPONENT_DECLINED, "btl_fake_devices is empty");
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_WARNING, "asks for fake, which declined", NULL));
    fw_run_fini(&r);
}

Test(mca_select, highest_pml_priority_wins)
{
    fw_run_t r;
    run_with(&r, NULL, NULL);
    fw_expect_state(&r, "pml", "testhi", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "pml", "stripe", MRAIL_COMPONENT_AVAILABLE,
                    "priority 20, lower than testhi's 50");
    cr_expect_eq(mrail_frameworks_find(r.fws, "pml")->selected, fw_entry(&r, "pml", "testhi"));
    fw_run_fini(&r);
}

Test(mca_select, priority_parameter_changes_the_winner)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_pml_testhi_priority", "5");
    fw_expect_state(&r, "pml", "stripe", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "pml", "testhi", MRAIL_COMPONENT_AVAILABLE, "priority 5");
    fw_run_fini(&r);
}

Test(mca_select, no_pml_left_is_an_error)
{
    fw_run_t r;
    run_with(&r, "MRAIL_MCA_pml", "^stripe,testhi");
    cr_expect_eq(r.select_rc, MRAIL_ERR_NOT_FOUND);
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR, "no pml component could be selected", NULL));
    fw_run_fini(&r);
}

Test(mca_select, eager_limit_above_max_send_size_is_reported)
{
    fw_run_t r;
    fw_run_init(&r);
    test_env_set(&r.env, "MRAIL_MCA_btl_self_eager_limit", "1m");
    fw_run(&r);
    cr_expect_eq(r.open_rc, MRAIL_ERR_BAD_PARAM);
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR,
                            "btl_self_eager_limit must not exceed btl_self_max_send_size",
                            "btl_self_eager_limit = 1m (set by MRAIL_MCA_btl_self_eager_limit)"));
    cr_expect(
        test_diag_has(r.mca, MRAIL_DIAG_ERROR, "btl_self_max_send_size = 131072 (default)", NULL));
    fw_run_fini(&r);
}

Test(mca_select, tcp_include_and_exclude_together_is_an_error)
{
    fw_run_t r;
    fw_run_init(&r);
    test_env_set(&r.env, "MRAIL_MCA_btl_tcp_if_include", "lo");
    test_env_cmdline(&r.env, "btl_tcp_if_exclude", "eth0");
    fw_run(&r);
    cr_expect_eq(r.open_rc, MRAIL_ERR_BAD_PARAM);
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR, "are both set",
                            "btl_tcp_if_exclude = eth0 (set by --mca)"));
    fw_run_fini(&r);
}
