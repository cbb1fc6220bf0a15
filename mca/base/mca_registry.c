/* The parameter registry: registration, lookup, provenance, diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_internal.h"

int mrail_mca_open(const mrail_mca_open_opts_t *opts, mrail_mca_t **mca_out, mrail_reason_t *why)
{
    mrail_mca_t *mca = calloc(1, sizeof(*mca));
    if (mca == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    int rc = mca_sources_load(mca, opts, why);
    if (rc != MRAIL_SUCCESS) {
        mrail_mca_close(mca);
        return rc;
    }
    *mca_out = mca;
    return MRAIL_SUCCESS;
}

static void param_free(mca_param_t *p)
{
    free(p->pub.full_name);
    free(p->pub.framework);
    free(p->pub.component);
    free(p->pub.default_value);
    free(p->pub.value);
    free(p->pub.origin);
    free(p->pub.help);
    for (char **e = p->pub.enum_names; e && *e; e++) {
        free(*e);
    }
    free(p->pub.enum_names);
    mca_list_free(&p->list);
    free(p);
}

void mrail_mca_close(mrail_mca_t *mca)
{
    if (mca == NULL) {
        return;
    }
    for (size_t i = 0; i < mca->setting_count; i++) {
        free(mca->settings[i].name);
        free(mca->settings[i].value);
        free(mca->settings[i].origin);
        free(mca->settings[i].file);
    }
    for (size_t i = 0; i < mca->param_count; i++) {
        param_free(mca->params[i]);
    }
    for (size_t i = 0; i < mca->diag_count; i++) {
        free(mca->diags[i].text);
    }
    for (size_t i = 0; i < mca->file_count; i++) {
        free(mca->files[i].path);
    }
    free(mca->settings);
    free(mca->params);
    free(mca->diags);
    free(mca->files);
    free(mca);
}

size_t mrail_mca_file_count(const mrail_mca_t *mca)
{
    return mca->file_count;
}

const mrail_mca_file_t *mrail_mca_file_at(const mrail_mca_t *mca, size_t i)
{
    return i < mca->file_count ? &mca->files[i] : NULL;
}

void mrail_mca_diag_add(mrail_mca_t *mca, mrail_diag_severity_t sev, const char *fmt, ...)
{
    mca_diag_t *grown = mca_grow(mca->diags, &mca->diag_cap, mca->diag_count, sizeof(*grown));
    if (grown == NULL) {
        return;
    }
    mca->diags = grown;
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        mca->diags[mca->diag_count++] = (mca_diag_t){sev, text};
    }
}

size_t mrail_mca_diag_count(const mrail_mca_t *mca)
{
    return mca->diag_count;
}

const char *mrail_mca_diag_text(const mrail_mca_t *mca, size_t i, mrail_diag_severity_t *sev)
{
    if (i >= mca->diag_count) {
        return NULL;
    }
    if (sev != NULL) {
        *sev = mca->diags[i].severity;
    }
    return mca->diags[i].text;
}

size_t mrail_mca_error_count(const mrail_mca_t *mca)
{
    size_t n = 0;
    for (size_t i = 0; i < mca->diag_count; i++) {
        n += mca->diags[i].severity == MRAIL_DIAG_ERROR;
    }
    return n;
}

static char *full_name(const char *fw, const char *comp, const char *name)
{
    char *s = NULL;
    int n = asprintf(&s, "%s%s%s%s%s", fw, comp ? "_" : "", comp ? comp : "", name ? "_" : "",
                     name ? name : "");
    return n < 0 ? NULL : s;
}

static char **copy_names(const char *const *names)
{
    if (names == NULL) {
        return NULL;
    }
    size_t n = 0;
    while (names != NULL && names[n] != NULL) {
        n++;
    }
    char **copy = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; copy != NULL && i < n; i++) {
        copy[i] = mca_strdup(names[i]);
    }
    return copy;
}

/* Checks a definition before anything is parsed: help is mandatory. */
static int def_check(mrail_mca_t *mca, const char *name, const mrail_mca_param_def_t *def)
{
    if (def->help == NULL || def->help[0] == '\0') {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR,
                           "internal: parameter %s was registered without help text", name);
        return MRAIL_ERR_BAD_PARAM;
    }
    if (def->level < 1 || def->level > 9) {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR,
                           "internal: parameter %s has level %d; levels run from 1 to 9", name,
                           def->level);
        return MRAIL_ERR_BAD_PARAM;
    }
    if (def->type == MRAIL_MCA_ENUM && (def->enum_names == NULL || def->enum_names[0] == NULL)) {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR, "internal: enum parameter %s has no names", name);
        return MRAIL_ERR_BAD_PARAM;
    }
    if (mrail_mca_find(mca, name) != NULL) {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR, "internal: parameter %s registered twice", name);
        return MRAIL_ERR_EXISTS;
    }
    return MRAIL_SUCCESS;
}

/* Parses text into the owner's storage; strings point at the registry's copy. */
static int param_store(mca_param_t *p, const mrail_mca_param_def_t *def, const char *text,
                       void *dst, mrail_reason_t *why)
{
    mrail_mca_list_t list = {0, NULL};
    int rc = mca_value_parse(def->type, def->enum_names, text, dst, &list, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    if (def->type == MRAIL_MCA_LIST) {
        mca_list_free(&p->list);
        p->list = list;
    }
    char *copy = mca_strdup(text);
    if (copy == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    free(p->pub.value);
    p->pub.value = copy;
    if (def->type == MRAIL_MCA_STRING) {
        *(const char **)dst = p->pub.value;
    }
    return MRAIL_SUCCESS;
}

static int register_one(mrail_mca_t *mca, const char *fw, const char *comp,
                        const mrail_mca_param_def_t *def, void *config)
{
    char *name = full_name(fw, comp, def->name);
    if (name == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    int rc = def_check(mca, name, def);
    mca_param_t *p = rc == MRAIL_SUCCESS ? calloc(1, sizeof(*p)) : NULL;
    mca_param_t **grown =
        p ? mca_grow(mca->params, &mca->param_cap, mca->param_count, sizeof(*grown)) : NULL;
    if (grown == NULL) {
        free(p);
        free(name);
        return rc != MRAIL_SUCCESS ? rc : MRAIL_ERR_OUT_OF_RESOURCE;
    }
    mca->params = grown;
    mca->params[mca->param_count++] = p;
    p->pub = (mrail_mca_param_t){
        .full_name = name,
        .framework = mca_strdup(fw),
        .component = mca_strdup(comp),
        .type = def->type,
        .default_value = mca_strdup(def->default_value ? def->default_value : ""),
        .level = def->level,
        .help = mca_strdup(def->help),
        .enum_names = copy_names(def->enum_names),
    };
    void *dst = (char *)config + def->offset;
    mrail_reason_t why;

    /* The default must parse: a bad one is our bug, reported as such. */
    p->pub.source = MRAIL_MCA_SOURCE_DEFAULT;
    p->pub.origin = mca_strdup("default");
    rc = param_store(p, def, p->pub.default_value, dst, &why);
    if (rc != MRAIL_SUCCESS) {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR, "internal: default \"%s\" of %s is invalid: %s",
                           p->pub.default_value, name, why.text);
        return rc;
    }

    for (size_t i = 0; i < mca->setting_count; i++) {
        if (strcmp(mca->settings[i].name, name) == 0) {
            mca->settings[i].used = true;
        }
    }
    mca_setting_t *s = mca_setting_lookup(mca, name);
    if (s == NULL) {
        return MRAIL_SUCCESS;
    }
    rc = param_store(p, def, s->value, dst, &why);
    if (rc != MRAIL_SUCCESS) {
        mrail_mca_diag_add(mca, MRAIL_DIAG_ERROR,
                           "invalid value \"%s\" for MCA parameter %s (set by %s): %s", s->value,
                           name, s->origin, why.text);
        return rc;
    }
    char *origin = mca_strdup(s->origin);
    if (origin == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    free(p->pub.origin);
    p->pub.origin = origin;
    p->pub.source = s->source;
    return MRAIL_SUCCESS;
}

int mrail_mca_register(mrail_mca_t *mca, const char *framework, const char *component,
                       const mrail_mca_param_def_t *defs, size_t n, void *config)
{
    int result = MRAIL_SUCCESS;
    for (size_t i = 0; i < n; i++) {
        int rc = register_one(mca, framework, component, &defs[i], config);
        if (rc != MRAIL_SUCCESS && result == MRAIL_SUCCESS) {
            result = rc;
        }
    }
    return result;
}

const mrail_mca_param_t *mrail_mca_find(const mrail_mca_t *mca, const char *name)
{
    for (size_t i = 0; i < mca->param_count; i++) {
        if (strcmp(mca->params[i]->pub.full_name, name) == 0) {
            return &mca->params[i]->pub;
        }
    }
    return NULL;
}

size_t mrail_mca_count(const mrail_mca_t *mca)
{
    return mca->param_count;
}

const mrail_mca_param_t *mrail_mca_at(const mrail_mca_t *mca, size_t i)
{
    return i < mca->param_count ? &mca->params[i]->pub : NULL;
}

const char *mrail_mca_type_name(mrail_mca_type_t type)
{
    static const char *const names[] = {"int",    "unsigned", "size", "bool",
                                        "string", "enum",     "list"};
    return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

const char *mrail_mca_source_name(mrail_mca_source_t source)
{
    static const char *const names[] = {"default",    "system file", "user file",
                                        "param file", "environment", "command line"};
    return (unsigned)source < sizeof(names) / sizeof(names[0]) ? names[source] : "?";
}

const char *mrail_mca_describe(const mrail_mca_t *mca, const char *name, char *buf, size_t len)
{
    const mrail_mca_param_t *p = mrail_mca_find(mca, name);
    if (p == NULL) {
        snprintf(buf, len, "%s (not registered)", name);
    } else if (p->source == MRAIL_MCA_SOURCE_DEFAULT) {
        snprintf(buf, len, "%s = %s (default)", name, p->value);
    } else {
        snprintf(buf, len, "%s = %s (set by %s)", name, p->value, p->origin);
    }
    return buf;
}

int mrail_mca_check_not_both(const mrail_mca_t *mca, const char *a, const char *b,
                             mrail_reason_t *why)
{
    const mrail_mca_param_t *pa = mrail_mca_find(mca, a), *pb = mrail_mca_find(mca, b);
    if (pa == NULL || pb == NULL || pa->source == MRAIL_MCA_SOURCE_DEFAULT ||
        pb->source == MRAIL_MCA_SOURCE_DEFAULT) {
        return MRAIL_SUCCESS;
    }
    char da[512], db[512];
    return mrail_reason_set(
        why, MRAIL_ERR_BAD_PARAM, "%s and %s are both set; set only one: %s, %s", a, b,
        mrail_mca_describe(mca, a, da, sizeof(da)), mrail_mca_describe(mca, b, db, sizeof(db)));
}
