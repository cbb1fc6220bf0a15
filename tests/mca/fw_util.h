/* Opening the real frameworks in a hermetic environment, with the test
 * plugins on the component path. */
#ifndef MRAIL_TEST_FW_UTIL_H
#define MRAIL_TEST_FW_UTIL_H

#include "mrail/btl.h"
#include "test_util.h"

typedef struct fw_run {
    test_env_t env;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    int open_rc, select_rc;
} fw_run_t;

static inline void fw_run_init(fw_run_t *r)
{
    memset(r, 0, sizeof(*r));
    test_env_init(&r->env);
    test_env_cmdline(&r->env, "mca_base_component_path", MRAIL_TEST_PLUGIN_DIR);
}

static inline void fw_run(fw_run_t *r)
{
    /* The setting the sanitized suite gives every test (tests/CMakeLists.txt:
     * declined plugins stay mapped) passes into the hermetic environment. */
    const char *keep = getenv("MRAIL_MCA_mca_base_unload_declined");
    if (keep != NULL) {
        test_env_set(&r->env, "MRAIL_MCA_mca_base_unload_declined", keep);
    }
    r->mca = test_env_open(&r->env);
    r->open_rc = mrail_frameworks_open(r->mca, &r->fws);
    cr_assert_not_null(r->fws);
    r->select_rc = mrail_frameworks_select(r->fws);
    test_diag_dump(r->mca);
}

static inline mrail_component_entry_t *fw_entry(fw_run_t *r, const char *fw, const char *name)
{
    mrail_framework_t *f = mrail_frameworks_find(r->fws, fw);
    cr_assert_not_null(f, "no framework %s", fw);
    for (size_t i = 0; i < f->entry_count; i++) {
        if (strcmp(f->entries[i].name, name) == 0) {
            return &f->entries[i];
        }
    }
    cr_assert_fail("no component %s/%s", fw, name);
    return NULL;
}

static inline void fw_expect_state(fw_run_t *r, const char *fw, const char *name,
                                   mrail_component_state_t state, const char *reason_part)
{
    mrail_component_entry_t *e = fw_entry(r, fw, name);
    cr_expect_eq(e->state, state, "%s/%s is %s, expected %s (%s)", fw, name,
                 mrail_component_state_name(e->state), mrail_component_state_name(state),
                 e->reason ? e->reason : "");
    if (reason_part != NULL) {
        cr_expect(e->reason && strstr(e->reason, reason_part), "%s/%s reason \"%s\" lacks \"%s\"",
                  fw, name, e->reason ? e->reason : "(none)", reason_part);
    }
}

static inline void fw_run_fini(fw_run_t *r)
{
    mrail_frameworks_close(r->fws);
    mrail_mca_close(r->mca);
    test_env_fini(&r->env);
}

#endif
