/* Sources and their precedence: every pair, provenance, file syntax. */
#include "test_util.h"

static const mrail_mca_source_t set_sources[] = {
    MRAIL_MCA_SOURCE_CMDLINE,   MRAIL_MCA_SOURCE_ENV,          MRAIL_MCA_SOURCE_PARAM_FILE,
    MRAIL_MCA_SOURCE_USER_FILE, MRAIL_MCA_SOURCE_SYSCONF_FILE,
};
#define NSOURCES (sizeof(set_sources) / sizeof(set_sources[0]))

static const mrail_mca_param_def_t def = {
    "v", MRAIL_MCA_STRING, "from-default", 1, "test value", NULL, 0};

/* Puts test_x_v=value into the given source; returns the origin to expect. */
static void put(test_env_t *t, mrail_mca_source_t src, const char *value, char *origin, size_t len)
{
    char text[128], path[512];
    snprintf(text, sizeof(text), "# comment line\ntest_x_v = %s\n", value);
    switch (src) {
    case MRAIL_MCA_SOURCE_CMDLINE:
        test_env_cmdline(t, "test_x_v", value);
        snprintf(origin, len, "--mca");
        break;
    case MRAIL_MCA_SOURCE_ENV:
        test_env_set(t, "MRAIL_MCA_test_x_v", value);
        snprintf(origin, len, "MRAIL_MCA_test_x_v");
        break;
    case MRAIL_MCA_SOURCE_PARAM_FILE:
        test_env_file(t, "listed/p.conf", text, path, sizeof(path));
        test_env_set(t, MRAIL_MCA_PARAM_FILES_ENV, path);
        snprintf(origin, len, "%s:2", path);
        break;
    case MRAIL_MCA_SOURCE_USER_FILE:
        test_env_file(t, ".mrail/mca-params.conf", text, path, sizeof(path));
        snprintf(origin, len, "%s:2", path);
        break;
    case MRAIL_MCA_SOURCE_SYSCONF_FILE:
        test_env_file(t, "mrail/mca-params.conf", text, path, sizeof(path));
        snprintf(origin, len, "%s:2", path);
        break;
    case MRAIL_MCA_SOURCE_DEFAULT: cr_assert_fail("the default is not put");
    }
}

static void expect_winner(test_env_t *t, const char *value, mrail_mca_source_t src,
                          const char *origin)
{
    mrail_mca_t *mca = test_env_open(t);
    const char *v = NULL;
    cr_assert_eq(mrail_mca_register(mca, "test", "x", &def, 1, &v), MRAIL_SUCCESS);
    const mrail_mca_param_t *p = mrail_mca_find(mca, "test_x_v");
    cr_expect_str_eq(v, value);
    cr_expect_str_eq(p->value, value);
    cr_expect_eq(p->source, src, "source %s, expected %s", mrail_mca_source_name(p->source),
                 mrail_mca_source_name(src));
    cr_expect_str_eq(p->origin, origin);
    mrail_mca_check_unknown(mca, NULL);
    cr_expect_eq(mrail_mca_diag_count(mca), 0u, "a lower source was reported as unknown");
    mrail_mca_close(mca);
}

Test(mca_sources, every_pair_of_sources_the_higher_wins)
{
    for (size_t hi = 0; hi < NSOURCES; hi++) {
        for (size_t lo = hi + 1; lo < NSOURCES; lo++) {
            test_env_t t;
            test_env_init(&t);
            char origin_hi[600], origin_lo[600];
            /* The lower source first, so that insertion order cannot decide. */
            put(&t, set_sources[lo], "from-low", origin_lo, sizeof(origin_lo));
            put(&t, set_sources[hi], "from-high", origin_hi, sizeof(origin_hi));
            cr_log_info("pair %s > %s", mrail_mca_source_name(set_sources[hi]),
                        mrail_mca_source_name(set_sources[lo]));
            expect_winner(&t, "from-high", set_sources[hi], origin_hi);
            test_env_fini(&t);
        }
    }
}

Test(mca_sources, every_source_beats_the_default)
{
    for (size_t s = 0; s < NSOURCES; s++) {
        test_env_t t;
        test_env_init(&t);
        char origin[600];
        put(&t, set_sources[s], "from-source", origin, sizeof(origin));
        expect_winner(&t, "from-source", set_sources[s], origin);
        test_env_fini(&t);
    }
    test_env_t t;
    test_env_init(&t);
    expect_winner(&t, "from-default", MRAIL_MCA_SOURCE_DEFAULT, "default");
    test_env_fini(&t);
}

Test(mca_sources, launcher_cmdline_passes_through_the_environment)
{
    test_env_t t;
    test_env_init(&t);
    test_env_set(&t, "MRAIL_MCA_test_x_v", "from-env");
    test_env_set(&t, "MRAIL_CMDLINE_MCA_test_x_v", "from-mrun");
    expect_winner(&t, "from-mrun", MRAIL_MCA_SOURCE_CMDLINE,
                  "--mca, passed as MRAIL_CMDLINE_MCA_test_x_v");
    test_env_fini(&t);
}

Test(mca_sources, first_listed_param_file_wins)
{
    test_env_t t;
    test_env_init(&t);
    char a[512], b[512], files[1100], origin[600];
    test_env_file(&t, "a.conf", "test_x_v = from-a\n", a, sizeof(a));
    test_env_file(&t, "b.conf", "\n\ntest_x_v = from-b\n", b, sizeof(b));
    snprintf(files, sizeof(files), "%s:%s", a, b);
    test_env_set(&t, MRAIL_MCA_PARAM_FILES_ENV, files);
    snprintf(origin, sizeof(origin), "%s:1", a);
    expect_winner(&t, "from-a", MRAIL_MCA_SOURCE_PARAM_FILE, origin);
    test_env_fini(&t);
}

Test(mca_sources, later_line_of_one_file_wins_with_a_warning)
{
    test_env_t t;
    test_env_init(&t);
    char path[512];
    test_env_file(&t, "mrail/mca-params.conf", "test_x_v = one\ntest_x_v = \"two\"\n", path,
                  sizeof(path));
    mrail_mca_t *mca = test_env_open(&t);
    const char *v = NULL;
    mrail_mca_register(mca, "test", "x", &def, 1, &v);
    cr_expect_str_eq(v, "two");
    char where[600];
    snprintf(where, sizeof(where), "%s:2", path);
    cr_expect_str_eq(mrail_mca_find(mca, "test_x_v")->origin, where);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_WARNING, "sets test_x_v again", where));
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_sources, malformed_file_line_names_file_and_line)
{
    test_env_t t;
    test_env_init(&t);
    char path[512];
    test_env_file(&t, "bad.conf", "test_x_v = 1\nthis line has no equals sign\n", path,
                  sizeof(path));
    test_env_set(&t, MRAIL_MCA_PARAM_FILES_ENV, path);
    mrail_mca_open_opts_t opts = {.envp = t.vars, .sysconfdir = t.dir};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why;
    cr_expect_eq(mrail_mca_open(&opts, &mca, &why), MRAIL_ERR_BAD_PARAM);
    char where[600];
    snprintf(where, sizeof(where), "%s:2", path);
    cr_expect(strstr(why.text, where) != NULL, "%s", why.text);
    cr_expect(strstr(why.text, "name = value") != NULL, "%s", why.text);
    test_env_fini(&t);
}

Test(mca_sources, missing_listed_file_is_an_error_missing_home_file_is_not)
{
    test_env_t t;
    test_env_init(&t);
    test_env_set(&t, MRAIL_MCA_PARAM_FILES_ENV, "/nonexistent/mrail.conf");
    mrail_mca_open_opts_t opts = {.envp = t.vars, .sysconfdir = "/nonexistent"};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why;
    cr_expect_eq(mrail_mca_open(&opts, &mca, &why), MRAIL_ERR_IO);
    cr_expect(strstr(why.text, "/nonexistent/mrail.conf") != NULL, "%s", why.text);
    cr_expect(strstr(why.text, MRAIL_MCA_PARAM_FILES_ENV) != NULL, "%s", why.text);
    test_env_fini(&t);
}

Test(mca_sources, cmdline_without_value_is_an_error)
{
    test_env_t t;
    test_env_init(&t);
    const char *cmd[] = {"test_x_v", NULL, NULL};
    mrail_mca_open_opts_t opts = {.envp = t.vars, .sysconfdir = t.dir, .cmdline = cmd};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why;
    cr_expect_eq(mrail_mca_open(&opts, &mca, &why), MRAIL_ERR_BAD_PARAM);
    cr_expect(strstr(why.text, "test_x_v") != NULL, "%s", why.text);
    test_env_fini(&t);
}

Test(mca_sources, describe_names_value_and_origin)
{
    test_env_t t;
    test_env_init(&t);
    test_env_set(&t, "MRAIL_MCA_test_x_v", "abc");
    mrail_mca_t *mca = test_env_open(&t);
    const char *v;
    mrail_mca_register(mca, "test", "x", &def, 1, &v);
    char buf[256];
    cr_expect_str_eq(mrail_mca_describe(mca, "test_x_v", buf, sizeof(buf)),
                     "test_x_v = abc (set by MRAIL_MCA_test_x_v)");
    mrail_mca_close(mca);
    test_env_fini(&t);
}
