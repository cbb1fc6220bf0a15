/* Every parameter type: accepted forms, rejected forms and their messages. */
#include <stddef.h>

#include "mca_typed.h"
#include "test_util.h"

/* Registers the table with MRAIL_MCA_test_x_<name>=value; returns the status. */
static int register_with(const char *name, const char *value, typed_config_t *cfg,
                         mrail_mca_t **mca_out, test_env_t *t)
{
    test_env_init(t);
    if (name != NULL) {
        char var[64];
        snprintf(var, sizeof(var), "MRAIL_MCA_test_x_%s", name);
        test_env_set(t, var, value);
    }
    *mca_out = test_env_open(t);
    memset(cfg, 0, sizeof(*cfg));
    return mrail_mca_register(*mca_out, "test", "x", typed_defs,
                              sizeof(typed_defs) / sizeof(typed_defs[0]), cfg);
}

Test(mca_types, defaults_parse_into_the_config)
{
    test_env_t t;
    typed_config_t c;
    mrail_mca_t *mca;
    cr_assert_eq(register_with(NULL, NULL, &c, &mca, &t), MRAIL_SUCCESS);
    cr_expect_eq(c.i, -7);
    cr_expect_eq(c.u, 7u);
    cr_expect_eq(c.sz, 4096u);
    cr_expect(c.b);
    cr_expect_str_eq(c.s, "hello");
    cr_expect_eq(c.e, 1);
    cr_assert_eq(c.l.count, 3u);
    cr_expect_str_eq(c.l.items[0], "a");
    cr_expect_str_eq(c.l.items[1], "b");
    cr_expect_str_eq(c.l.items[2], "c");
    const mrail_mca_param_t *p = mrail_mca_find(mca, "test_x_sz");
    cr_assert_not_null(p);
    cr_expect_eq(p->type, MRAIL_MCA_SIZE);
    cr_expect_eq(p->source, MRAIL_MCA_SOURCE_DEFAULT);
    cr_expect_str_eq(p->help, "a size");
    cr_expect_eq(mrail_mca_diag_count(mca), 0u);
    mrail_mca_close(mca);
    test_env_fini(&t);
}

typedef struct good_case {
    const char *name, *text;
    long long expect; /* int/unsigned/size/bool/enum: the parsed value */
} good_case_t;

static const good_case_t good_cases[] = {
    {"i", "42", 42},
    {"i", "-2147483648", -2147483647LL - 1},
    {"i", "0x10", 16},
    {"u", "0", 0},
    {"u", "4294967295", 4294967295LL},
    {"sz", "64k", 65536},
    {"sz", "4m", 4194304},
    {"sz", "1g", 1073741824},
    {"sz", "2K", 2048},
    {"sz", "3MiB", 3145728},
    {"sz", "512", 512},
    {"sz", "8kb", 8192},
    {"b", "1", 1},
    {"b", "0", 0},
    {"b", "true", 1},
    {"b", "FALSE", 0},
    {"b", "yes", 1},
    {"b", "no", 0},
    {"e", "blue", 2},
    {"e", "RED", 0},
};

Test(mca_types, accepted_forms)
{
    for (size_t k = 0; k < sizeof(good_cases) / sizeof(good_cases[0]); k++) {
        const good_case_t *g = &good_cases[k];
        test_env_t t;
        typed_config_t c;
        mrail_mca_t *mca;
        int rc = register_with(g->name, g->text, &c, &mca, &t);
        test_diag_dump(mca);
        cr_assert_eq(rc, MRAIL_SUCCESS, "%s=%s refused", g->name, g->text);
        long long got = 0;
        switch (g->name[0]) {
        case 'i': got = c.i; break;
        case 'u': got = c.u; break;
        case 's': got = (long long)c.sz; break;
        case 'b': got = c.b; break;
        case 'e': got = c.e; break;
        }
        cr_expect_eq(got, g->expect, "%s=%s parsed as %lld", g->name, g->text, got);
        mrail_mca_close(mca);
        test_env_fini(&t);
    }
}

typedef struct bad_case {
    const char *name, *text, *expect_in_message;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"i", "abc", "an integer"},
    {"i", "2147483648", "an integer"},
    {"i", "12x", "an integer"},
    {"i", "", "an integer"},
    {"u", "-1", "non-negative integer"},
    {"u", "4294967296", "non-negative integer"},
    {"u", "1.5", "non-negative integer"},
    {"sz", "4q", "64k, 4m, 1g"},
    {"sz", "-4k", "64k, 4m, 1g"},
    {"sz", "k", "64k, 4m, 1g"},
    {"sz", "99999999999999999999", "64k, 4m, 1g"},
    {"sz", "17179869184g", "64k, 4m, 1g"},
    {"b", "maybe", "1, 0, true, false, yes, no"},
    {"b", "2", "1, 0, true, false, yes, no"},
    {"e", "purple", "one of red, green, blue"},
    {"l", "a,,b", "item 2 of the list is empty"},
    {"l", "a,", "item 2 of the list is empty"},
};

Test(mca_types, rejected_forms_name_parameter_value_source_and_forms)
{
    for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
        const bad_case_t *b = &bad_cases[k];
        test_env_t t;
        typed_config_t c;
        mrail_mca_t *mca;
        int rc = register_with(b->name, b->text, &c, &mca, &t);
        cr_expect_eq(rc, MRAIL_ERR_BAD_PARAM, "%s=\"%s\" accepted", b->name, b->text);
        char pname[64], value[128], var[64];
        snprintf(pname, sizeof(pname), "test_x_%s", b->name);
        snprintf(value, sizeof(value), "\"%s\"", b->text);
        snprintf(var, sizeof(var), "MRAIL_MCA_test_x_%s", b->name);
        cr_expect_eq(mrail_mca_error_count(mca), 1u);
        cr_expect(test_diag_has(mca, MRAIL_DIAG_ERROR, pname, value), "%s=%s", b->name, b->text);
        cr_expect(test_diag_has(mca, MRAIL_DIAG_ERROR, var, b->expect_in_message),
                  "%s=%s: message lacks source or forms", b->name, b->text);
        test_diag_dump(mca);
        mrail_mca_close(mca);
        test_env_fini(&t);
    }
}

Test(mca_types, rejected_value_keeps_the_default)
{
    test_env_t t;
    typed_config_t c;
    mrail_mca_t *mca;
    register_with("u", "-1", &c, &mca, &t);
    cr_expect_eq(c.u, 7u);
    const mrail_mca_param_t *p = mrail_mca_find(mca, "test_x_u");
    cr_expect_eq(p->source, MRAIL_MCA_SOURCE_DEFAULT);
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_types, empty_list_has_no_items)
{
    test_env_t t;
    typed_config_t c;
    mrail_mca_t *mca;
    cr_assert_eq(register_with("l", "  ", &c, &mca, &t), MRAIL_SUCCESS);
    cr_expect_eq(c.l.count, 0u);
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_types, help_text_is_mandatory)
{
    test_env_t t;
    test_env_init(&t);
    mrail_mca_t *mca = test_env_open(&t);
    int v;
    const mrail_mca_param_def_t nohelp = {"v", MRAIL_MCA_INT, "1", 1, "", NULL, 0};
    cr_expect_eq(mrail_mca_register(mca, "test", "x", &nohelp, 1, &v), MRAIL_ERR_BAD_PARAM);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_ERROR, "test_x_v", "without help text"));
    cr_expect_null(mrail_mca_find(mca, "test_x_v"));
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_types, level_and_duplicates_are_checked)
{
    test_env_t t;
    test_env_init(&t);
    mrail_mca_t *mca = test_env_open(&t);
    int v;
    const mrail_mca_param_def_t lvl = {"v", MRAIL_MCA_INT, "1", 10, "help", NULL, 0};
    cr_expect_eq(mrail_mca_register(mca, "test", "x", &lvl, 1, &v), MRAIL_ERR_BAD_PARAM);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_ERROR, "test_x_v", "from 1 to 9"));
    const mrail_mca_param_def_t ok = {"w", MRAIL_MCA_INT, "1", 3, "help", NULL, 0};
    cr_expect_eq(mrail_mca_register(mca, "test", "x", &ok, 1, &v), MRAIL_SUCCESS);
    cr_expect_eq(mrail_mca_register(mca, "test", "x", &ok, 1, &v), MRAIL_ERR_EXISTS);
    cr_expect(test_diag_has(mca, MRAIL_DIAG_ERROR, "test_x_w", "registered twice"));
    mrail_mca_close(mca);
    test_env_fini(&t);
}

Test(mca_types, framework_level_names)
{
    test_env_t t;
    test_env_init(&t);
    test_env_set(&t, "MRAIL_MCA_fw", "a,b");
    mrail_mca_t *mca = test_env_open(&t);
    const char *sel = NULL;
    const mrail_mca_param_def_t def = {NULL, MRAIL_MCA_STRING, "", 2, "selection", NULL, 0};
    cr_assert_eq(mrail_mca_register(mca, "fw", NULL, &def, 1, &sel), MRAIL_SUCCESS);
    cr_expect_str_eq(sel, "a,b");
    cr_expect_not_null(mrail_mca_find(mca, "fw"));
    mrail_mca_close(mca);
    test_env_fini(&t);
}
