/* Reads every parameter source once: command line, environment, files.
 *
 * Settings are kept as read; a parameter picks the one with the highest
 * source when it registers. Among param files the first listed wins; within
 * one file the last line wins (with a warning). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_internal.h"

extern char **environ;

char *mca_strdup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

void *mca_grow(void *array, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap) {
        return array;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(array, ncap * elem);
    if (p != NULL) {
        *cap = ncap;
    }
    return p;
}

static int add_setting(mrail_mca_t *mca, const char *name, const char *value,
                       mrail_mca_source_t source, const char *origin, const char *file)
{
    if (file != NULL) {
        for (size_t i = 0; i < mca->setting_count; i++) {
            mca_setting_t *s = &mca->settings[i];
            if (s->file != NULL && strcmp(s->file, file) == 0 && strcmp(s->name, name) == 0) {
                mrail_mca_diag_add(mca, MRAIL_DIAG_WARNING,
                                   "%s sets %s again (first at %s); the later value \"%s\" is used",
                                   origin, name, s->origin, value);
                char *v = mca_strdup(value), *o = mca_strdup(origin);
                if (v == NULL || o == NULL) {
                    free(v);
                    free(o);
                    return MRAIL_ERR_OUT_OF_RESOURCE;
                }
                free(s->value);
                free(s->origin);
                s->value = v;
                s->origin = o;
                return MRAIL_SUCCESS;
            }
        }
    }
    mca_setting_t *grown =
        mca_grow(mca->settings, &mca->setting_cap, mca->setting_count, sizeof(*grown));
    if (grown == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    mca->settings = grown;
    mca_setting_t *s = &mca->settings[mca->setting_count];
    *s = (mca_setting_t){mca_strdup(name),   mca_strdup(value), source,
                         mca_strdup(origin), mca_strdup(file),  false};
    if (s->name == NULL || s->value == NULL || s->origin == NULL || (file && s->file == NULL)) {
        free(s->name);
        free(s->value);
        free(s->origin);
        free(s->file);
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    mca->setting_count++;
    return MRAIL_SUCCESS;
}

static bool valid_name(const char *s, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') {
            return false;
        }
    }
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

/* Reads "name = value" lines; '#' starts a comment. A missing file is fine
 * unless required (it was named explicitly by the user). */
static int load_file(mrail_mca_t *mca, const char *path, mrail_mca_source_t source, bool required,
                     mrail_reason_t *why)
{
    mrail_mca_file_t *files = mca_grow(mca->files, &mca->file_cap, mca->file_count, sizeof(*files));
    if (files == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    mca->files = files;
    char *copy = mca_strdup(path);
    if (copy == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    mrail_mca_file_t *seen = &files[mca->file_count++];
    *seen = (mrail_mca_file_t){copy, source, false};
    FILE *f = fopen(path, "r");
    seen->found = f != NULL;
    if (f == NULL) {
        if (!required && errno == ENOENT) {
            return MRAIL_SUCCESS;
        }
        return mrail_reason_set(why, MRAIL_ERR_IO, "cannot read MCA parameter file %s%s: %s", path,
                                required ? " (listed in " MRAIL_MCA_PARAM_FILES_ENV ")" : "",
                                strerror(errno));
    }
    char line[4096];
    int rc = MRAIL_SUCCESS;
    for (unsigned lineno = 1; rc == MRAIL_SUCCESS && fgets(line, sizeof(line), f); lineno++) {
        char *hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *text = trim(line);
        if (*text == '\0') {
            continue;
        }
        char *eq = strchr(text, '=');
        if (eq != NULL) {
            *eq = '\0';
        }
        char *name = eq ? trim(text) : text;
        if (eq == NULL || !valid_name(name, strlen(name))) {
            rc = mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                  "%s:%u: expected \"name = value\" with a parameter name of "
                                  "letters, digits and '_', got \"%s\"",
                                  path, lineno, text);
            break;
        }
        char *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        char origin[4200];
        snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
        rc = add_setting(mca, name, value, source, origin, path);
    }
    fclose(f);
    return rc;
}

static const char *env_lookup(char *const *envp, const char *name)
{
    size_t len = strlen(name);
    for (char *const *e = envp; *e != NULL; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') {
            return *e + len + 1;
        }
    }
    return NULL;
}

static int load_env(mrail_mca_t *mca, char *const *envp, mrail_reason_t *why)
{
    static const size_t env_len = sizeof(MRAIL_MCA_ENV_PREFIX) - 1;
    static const size_t cmd_len = sizeof(MRAIL_MCA_CMDLINE_ENV_PREFIX) - 1;
    for (char *const *e = envp; *e != NULL; e++) {
        const char *var = *e, *eq = strchr(var, '=');
        if (eq == NULL ||
            strncmp(var, MRAIL_MCA_PARAM_FILES_ENV "=", sizeof(MRAIL_MCA_PARAM_FILES_ENV)) == 0) {
            continue;
        }
        mrail_mca_source_t source;
        size_t skip;
        if (strncmp(var, MRAIL_MCA_CMDLINE_ENV_PREFIX, cmd_len) == 0) {
            source = MRAIL_MCA_SOURCE_CMDLINE;
            skip = cmd_len;
        } else if (strncmp(var, MRAIL_MCA_ENV_PREFIX, env_len) == 0) {
            source = MRAIL_MCA_SOURCE_ENV;
            skip = env_len;
        } else {
            continue;
        }
        char name[256], origin[300];
        size_t nlen = (size_t)(eq - var) - skip;
        if (nlen >= sizeof(name) || !valid_name(var + skip, nlen)) {
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                    "environment variable %.*s does not name an MCA parameter "
                                    "(letters, digits and '_' after the prefix)",
                                    (int)(eq - var), var);
        }
        memcpy(name, var + skip, nlen);
        name[nlen] = '\0';
        snprintf(origin, sizeof(origin), "%s%.*s",
                 source == MRAIL_MCA_SOURCE_CMDLINE ? "--mca, passed as " : "", (int)(eq - var),
                 var);
        int rc = add_setting(mca, name, eq + 1, source, origin, NULL);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    return MRAIL_SUCCESS;
}

int mca_sources_load(mrail_mca_t *mca, const mrail_mca_open_opts_t *opts, mrail_reason_t *why)
{
    char *const *envp = opts && opts->envp ? opts->envp : environ;
    int rc = MRAIL_SUCCESS;

    /* Highest precedence first: lookup takes the highest source anyway, but
     * this order makes "first listed file wins" a plain first match. */
    for (const char *const *c = opts ? opts->cmdline : NULL; c && c[0]; c += 2) {
        if (c[1] == NULL || !valid_name(c[0], strlen(c[0]))) {
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                    "--mca needs a parameter name and a value, got \"%s\"%s", c[0],
                                    c[1] ? "" : " with no value");
        }
        rc = add_setting(mca, c[0], c[1], MRAIL_MCA_SOURCE_CMDLINE, "--mca", NULL);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    rc = load_env(mca, envp, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }

    const char *files = env_lookup(envp, MRAIL_MCA_PARAM_FILES_ENV);
    if (files != NULL) {
        char *copy = mca_strdup(files), *save = NULL;
        if (copy == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        for (char *path = strtok_r(copy, ":", &save); path && rc == MRAIL_SUCCESS;
             path = strtok_r(NULL, ":", &save)) {
            rc = load_file(mca, path, MRAIL_MCA_SOURCE_PARAM_FILE, true, why);
        }
        free(copy);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }

    const char *home = env_lookup(envp, "HOME");
    if (home != NULL && home[0] != '\0') {
        char path[4096];
        snprintf(path, sizeof(path), "%s/.mrail/mca-params.conf", home);
        rc = load_file(mca, path, MRAIL_MCA_SOURCE_USER_FILE, false, why);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }

    mrail_mca_install_t *where = malloc(sizeof(*where));
    if (where == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    mrail_mca_install_paths(env_lookup(envp, "MRAIL_PREFIX"), where);
    char path[4200];
    snprintf(path, sizeof(path), "%s/mrail/mca-params.conf",
             opts && opts->sysconfdir ? opts->sysconfdir : where->sysconfdir);
    free(where);
    return load_file(mca, path, MRAIL_MCA_SOURCE_SYSCONF_FILE, false, why);
}

mca_setting_t *mca_setting_lookup(mrail_mca_t *mca, const char *name)
{
    mca_setting_t *best = NULL;
    for (size_t i = 0; i < mca->setting_count; i++) {
        mca_setting_t *s = &mca->settings[i];
        if (strcmp(s->name, name) == 0 && (best == NULL || s->source > best->source)) {
            best = s;
        }
    }
    return best;
}
