/* Helpers shared by the test suites: a private temp directory, files in it,
 * and a hermetic environment so that no test reads the developer's own
 * $HOME or MRAIL_MCA_* variables. */
#ifndef MRAIL_TEST_UTIL_H
#define MRAIL_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/mca.h"

typedef struct test_env {
    char dir[256];  /* private temp dir, also HOME and sysconfdir */
    char *vars[64]; /* NULL-terminated environment */
    size_t nvars;
    const char *cmdline[64];
    size_t ncmd;
} test_env_t;

static inline void test_env_init(test_env_t *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/mrail-test-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    char home[300];
    snprintf(home, sizeof(home), "HOME=%s", t->dir);
    t->vars[t->nvars++] = strdup(home);
}

static inline void test_env_set(test_env_t *t, const char *name, const char *value)
{
    char *v = NULL;
    cr_assert(asprintf(&v, "%s=%s", name, value) > 0);
    t->vars[t->nvars++] = v;
}

static inline void test_env_cmdline(test_env_t *t, const char *name, const char *value)
{
    t->cmdline[t->ncmd++] = name;
    t->cmdline[t->ncmd++] = value;
}

/* Writes text to <dir>/<rel>, creating one level of sub-directory. */
static inline void test_env_file(test_env_t *t, const char *rel, const char *text, char *path_out,
                                 size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    if (path_out != NULL) {
        snprintf(path_out, len, "%s", path);
    }
}

static inline mrail_mca_t *test_env_open(test_env_t *t)
{
    mrail_mca_open_opts_t opts = {
        .envp = t->vars, .sysconfdir = t->dir, .cmdline = t->ncmd ? t->cmdline : NULL};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why;
    int rc = mrail_mca_open(&opts, &mca, &why);
    cr_assert_eq(rc, MRAIL_SUCCESS, "mrail_mca_open: %s", why.text);
    return mca;
}

static inline void test_env_fini(test_env_t *t)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    cr_assert_eq(system(cmd), 0);
    for (size_t i = 0; i < t->nvars; i++) {
        free(t->vars[i]);
    }
}

/* True when some diagnostic of that severity contains every needle. */
static inline int test_diag_has(const mrail_mca_t *mca, mrail_diag_severity_t sev,
                                const char *needle1, const char *needle2)
{
    for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
        mrail_diag_severity_t s;
        const char *text = mrail_mca_diag_text(mca, i, &s);
        if (s == sev && strstr(text, needle1) && (needle2 == NULL || strstr(text, needle2))) {
            return 1;
        }
    }
    return 0;
}

/* Prints every diagnostic: makes a failed assertion readable. */
static inline void test_diag_dump(const mrail_mca_t *mca)
{
    for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
        cr_log_info("diag: %s", mrail_mca_diag_text(mca, i, NULL));
    }
}

#endif
