/* Unknown parameter names are warned about, with the closest known names. */
#include "mca_internal.h"
#include "test_util.h"

typedef struct cfg {
    mrail_mca_list_t inc, exc;
    unsigned links;
} cfg_t;

static const mrail_mca_param_def_t defs[] = {
    {"if_include", MRAIL_MCA_LIST, "", 1, "include", NULL, offsetof(cfg_t, inc)},
    {"if_exclude", MRAIL_MCA_LIST, "", 1, "exclude", NULL, offsetof(cfg_t, exc)},
    {"links", MRAIL_MCA_UNSIGNED, "1", 1, "links", NULL, offsetof(cfg_t, links)},
};

static mrail_mca_t *open_and_register(test_env_t *t, cfg_t *c)
{
    mrail_mca_t *mca = test_env_open(t);
    cr_assert_eq(mrail_mca_register(mca, "btl", "tcp", defs, 3, c), MRAIL_SUCCESS);
    return mca;
}

Test(mca_unknown, misspelt_env_name_suggests_the_right_one)
{
    test_env_t t;
    cfg_t c;
    test_env_init(&t);
    test_env_set(&t, "MRAIL_MCA_btl_tcp_if_inclde", "eth0");
    mrail_mca_t *mca = open_and_register(&t, &c);
    mrail_mca_check_unknown(mca, NULL);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, "unknown MCA parameter btl_tcp_if_inclde",
                            "did you mean btl_tcp_if_include"));
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, "MRAIL_MCA_btl_tcp_if_inclde", NULL));
    cr_expect_eq(mrail_mca_error_count(mca), 0u);
    cr_expect_eq(c.inc.count, 0u, "a misspelt name must not set anything");
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_unknown, file_key_warning_names_file_and_line)
{
    test_env_t t;
    cfg_t c;
    test_env_init(&t);
    char path[512], where[600];
    test_env_file(&t, ".mrail/mca-params.conf", "btl_tcp_links = 2\nbtl_tcp_lniks = 4\n", path,
                  sizeof(path));
    snprintf(where, sizeof(where), "%s:2", path);
    mrail_mca_t *mca = open_and_register(&t, &c);
    mrail_mca_check_unknown(mca, NULL);
    cr_expect_eq(c.links, 2u);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, where, "did you mean btl_tcp_links?"));
    cr_expect_eq(mrail_mca_diag_count(mca), 1u);
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_unknown, far_names_get_no_bogus_suggestion)
{
    test_env_t t;
    cfg_t c;
    test_env_init(&t);
    test_env_cmdline(&t, "completely_different", "1");
    mrail_mca_t *mca = open_and_register(&t, &c);
    mrail_mca_check_unknown(mca, NULL);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, "completely_different", "--all lists"));
    cr_expect(!test_diag_has(mca, MRAIL_DIAG_WARNING, "did you mean", NULL));
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_unknown, settings_of_unloaded_components_are_explained)
{
    test_env_t t;
    cfg_t c;
    test_env_init(&t);
    test_env_set(&t, "MRAIL_MCA_btl_ofi_provider_include", "efa");
    mrail_mca_t *mca = open_and_register(&t, &c);
    const char *dormant[] = {"btl_ofi_", "libfabric.so.1: cannot open shared object file", NULL};
    mrail_mca_check_unknown(mca, dormant);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, "btl_ofi_provider_include",
                            "component that is not loaded (libfabric.so.1"));
    cr_expect(!test_diag_has(mca, MRAIL_DIAG_WARNING, "unknown", NULL));
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_unknown, known_names_and_control_variables_are_quiet)
{
    test_env_t t;
    cfg_t c;
    test_env_init(&t);
    char path[512];
    test_env_file(&t, "p.conf", "btl_tcp_links = 3\n", path, sizeof(path));
    test_env_set(&t, MRAIL_MCA_PARAM_FILES_ENV, path);
    test_env_set(&t, "MRAIL_MCA_btl_tcp_if_include", "eth0");
    mrail_mca_t *mca = open_and_register(&t, &c);
    mrail_mca_check_unknown(mca, NULL);
    test_diag_dump(mca);
    cr_expect_eq(mrail_mca_diag_count(mca), 0u);
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_unknown, edit_distance)
{
    cr_expect_eq(mca_edit_distance("btl_tcp_if_inclde", "btl_tcp_if_include", 5), 1u);
    cr_expect_eq(mca_edit_distance("abc", "abc", 2), 0u);
    cr_expect_eq(mca_edit_distance("kitten", "sitting", 5), 3u);
    cr_expect_eq(mca_edit_distance("a", "abcdefgh", 2), 3u, "capped at cap + 1");
}
