/* Plugins that fail to load are reported with the loader's reason, and
 * the job goes on with the rest. */
#include "fw_util.h"
#include "mrail/rails_devices.h"

Test(mca_plugins, failures_are_reported_and_the_rest_is_selected)
{
    fw_run_t r;
    fw_run_init(&r);
    fw_run(&r);
    cr_expect_eq(r.open_rc, MRAIL_SUCCESS);
    cr_expect_eq(r.select_rc, MRAIL_SUCCESS);
    cr_expect_eq(mrail_mca_error_count(r.mca), 0u);

    fw_expect_state(&r, "btl", "garbage", MRAIL_COMPONENT_NOT_LOADED, "dlopen failed");
    fw_expect_state(&r, "btl", "needsdep", MRAIL_COMPONENT_NOT_LOADED,
                    "libmrail_testdep.so: cannot open shared object file");
    fw_expect_state(&r, "btl", "nosym", MRAIL_COMPONENT_NOT_LOADED,
                    "does not define mrail_btl_nosym_component");
    fw_expect_state(&r, "btl", "oldabi", MRAIL_COMPONENT_NOT_LOADED, "built for component ABI 999");
    cr_expect_null(fw_entry(&r, "btl", "garbage")->component);

    fw_expect_state(&r, "btl", "self", MRAIL_COMPONENT_SELECTED, NULL);
    fw_expect_state(&r, "btl", "fake", MRAIL_COMPONENT_SELECTED, NULL);
    mrail_component_entry_t *fake = fw_entry(&r, "btl", "fake");
    cr_assert_eq(fake->module_count, 2u);
    cr_expect_str_eq(((mrail_btl_module_t *)fake->modules[0])->name, "fake:d0");
    cr_expect_str_eq(((mrail_btl_module_t *)fake->modules[1])->name, "fake:d1");
    cr_expect_eq(((mrail_btl_module_t *)fake->modules[1])->config.bandwidth, 100u);
    cr_expect_not_null(mrail_mca_find(r.mca, "btl_fake_devices"));
    cr_expect_not_null(mrail_mca_find(r.mca, "btl_fake_eager_limit"));
    fw_run_fini(&r);
}

Test(mca_plugins, build_plugins_missing_from_the_path_say_so)
{
    fw_run_t r;
    fw_run_init(&r);
    fw_run(&r);
    mrail_framework_t *btl = mrail_frameworks_find(r.fws, "btl");
    size_t built = 0;
    for (size_t i = 0; i < btl->entry_count; i++) {
        mrail_component_entry_t *e = &btl->entries[i];
        if (!strcmp(e->name, "ofi") || !strcmp(e->name, "uct") || !strcmp(e->name, "verbs")) {
            built++;
            cr_expect(e->state == MRAIL_COMPONENT_NOT_LOADED ||
                      e->state == MRAIL_COMPONENT_NOT_BUILT);
            cr_expect(e->reason != NULL &&
                          (strstr(e->reason, "not found in mca_base_component_path") ||
                           strstr(e->reason, "pkg-config")),
                      "%s: %s", e->name, e->reason);
        }
    }
    cr_expect_eq(built, 3u, "ofi, uct and verbs are always listed");
    fw_run_fini(&r);
}

Test(mca_plugins, settings_for_a_plugin_that_did_not_load_are_explained)
{
    fw_run_t r;
    fw_run_init(&r);
    test_env_set(&r.env, "MRAIL_MCA_btl_needsdep_eager_limit", "1k");
    fw_run(&r);
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_WARNING, "btl_needsdep_eager_limit",
                            "not loaded (dlopen failed"));
    cr_expect_eq(mrail_mca_error_count(r.mca), 0u);
    fw_run_fini(&r);
}

Test(mca_plugins, asking_for_a_plugin_that_did_not_load_is_an_error)
{
    fw_run_t r;
    fw_run_init(&r);
    test_env_set(&r.env, "MRAIL_MCA_btl", "self,needsdep");
    fw_run(&r);
    cr_expect_eq(r.select_rc, MRAIL_ERR_BAD_PARAM);
    cr_expect(test_diag_has(r.mca, MRAIL_DIAG_ERROR, "btl=self,needsdep asks for needsdep",
                            "libmrail_testdep.so"));
    fw_run_fini(&r);
}

/* The plugins this build made, loaded from where the build put them: the
 * real libfabric, UCX and rdma-core run their probes. */
Test(mca_plugins, real_plugins_load_and_probe)
{
    fw_run_t r;
    memset(&r, 0, sizeof(r));
    test_env_init(&r.env);
    fw_run(&r);
    cr_expect_eq(mrail_mca_error_count(r.mca), 0u);
    mrail_framework_t *btl = mrail_frameworks_find(r.fws, "btl");
    for (size_t i = 0; i < btl->entry_count; i++) {
        mrail_component_entry_t *e = &btl->entries[i];
        if (e->state == MRAIL_COMPONENT_NOT_BUILT) {
            continue;
        }
        cr_expect_neq(e->state, MRAIL_COMPONENT_NOT_LOADED, "%s: %s", e->name, e->reason);
        cr_expect(e->state == MRAIL_COMPONENT_SELECTED || e->state == MRAIL_COMPONENT_DECLINED);
        cr_expect(e->state == MRAIL_COMPONENT_SELECTED || e->reason != NULL,
                  "%s declined without a reason", e->name);
    }
    /* No RDMA hardware on the test machines: verbs must decline, not fail. */
    mrail_component_entry_t *verbs = fw_entry(&r, "btl", "verbs");
    if (verbs->state != MRAIL_COMPONENT_NOT_BUILT) {
        cr_expect_not_null(verbs->plugin_path);
        cr_expect(strstr(verbs->plugin_path, MRAIL_BUILD_PLUGIN_DIR) == verbs->plugin_path);
    }
    fw_expect_state(&r, "btl", "self", MRAIL_COMPONENT_SELECTED, NULL);
    fw_run_fini(&r);
}

/* With no RDMA-class device, the default (hardware-only) provider and
 * transport lists decline without starting libfabric or UCX, and say how
 * to probe a software one; asking for a software one does probe. */
Test(mca_plugins, hardware_only_plugins_decline_quickly_without_rdma_devices)
{
    if (mrail_rdma_devices_present()) {
        cr_skip_test("this machine has an RDMA device: the hardware probes run for real");
    }
    fw_run_t r;
    memset(&r, 0, sizeof(r));
    test_env_init(&r.env);
    fw_run(&r);
    mrail_component_entry_t *ofi = fw_entry(&r, "btl", "ofi");
    mrail_component_entry_t *uct = fw_entry(&r, "btl", "uct");
    if (ofi->state != MRAIL_COMPONENT_NOT_BUILT) {
        cr_expect_eq(ofi->state, MRAIL_COMPONENT_DECLINED);
        cr_expect(strstr(ofi->reason, "libfabric's providers were not started") != NULL, "%s",
                  ofi->reason);
    }
    if (uct->state != MRAIL_COMPONENT_NOT_BUILT) {
        cr_expect_eq(uct->state, MRAIL_COMPONENT_DECLINED);
        cr_expect(strstr(uct->reason, "UCX was not started") != NULL, "%s", uct->reason);
    }
    fw_run_fini(&r);

    memset(&r, 0, sizeof(r));
    test_env_init(&r.env);
    test_env_set(&r.env, "MRAIL_MCA_btl_ofi_provider_include", "tcp");
    test_env_set(&r.env, "MRAIL_MCA_btl_uct_transports", "tcp");
    fw_run(&r);
    ofi = fw_entry(&r, "btl", "ofi");
    uct = fw_entry(&r, "btl", "uct");
    cr_expect(ofi->state == MRAIL_COMPONENT_NOT_BUILT || ofi->state == MRAIL_COMPONENT_SELECTED,
              "libfabric's tcp provider runs here: %s", ofi->reason ? ofi->reason : "");
    cr_expect(uct->state == MRAIL_COMPONENT_NOT_BUILT || uct->state == MRAIL_COMPONENT_SELECTED,
              "UCX's tcp transport runs here: %s", uct->reason ? uct->reason : "");
    fw_run_fini(&r);
}
