/* Frameworks: find components, register their parameters, select. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_components.h"
#include "mca_internal.h"

/* The frameworks are not named here: each declares itself to the build
 * (mrail_add_framework in its CMakeLists.txt), which generates
 * mrail_known_frameworks, lowest layer first. */
#define MAX_FRAMEWORKS 8

typedef struct mca_base_config {
    mrail_mca_list_t component_path;
    bool unload_declined;
} mca_base_config_t;

struct mrail_frameworks {
    mrail_mca_t *mca;
    mca_base_config_t base;
    char *default_path;
    size_t count;
    mrail_framework_t fw[MAX_FRAMEWORKS];
    char *selection_help[MAX_FRAMEWORKS];
    mca_signals_t signals; /* the fatal signals before any plugin loaded */
};

const char *mrail_component_state_name(mrail_component_state_t state)
{
    static const char *const names[] = {"not built", "not loaded", "loaded",  "excluded",
                                        "declined",  "available",  "selected"};
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static mrail_component_entry_t *entry_add(mrail_framework_t *fw, const char *name)
{
    for (size_t i = 0; i < fw->entry_count; i++) {
        if (strcmp(fw->entries[i].name, name) == 0) {
            return &fw->entries[i];
        }
    }
    mrail_component_entry_t *grown = realloc(fw->entries, (fw->entry_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    fw->entries = grown;
    mrail_component_entry_t *e = &fw->entries[fw->entry_count];
    *e = (mrail_component_entry_t){.name = mca_strdup(name)};
    if (e->name == NULL) {
        return NULL;
    }
    fw->entry_count++;
    return e;
}

static void entry_reason(mrail_component_entry_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void entry_reason(mrail_component_entry_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0) {
        text = NULL;
    }
    va_end(ap);
    free(e->reason);
    e->reason = text;
}

/* Built-in components first, then plugins: every file mrail_<fw>_*.so in
 * the component path (first directory wins; found, not loaded yet), and the
 * plugins this build made that were not found at all. */
static int collect_components(mrail_frameworks_t *fws, mrail_framework_t *fw)
{
    const char *fwname = fw->ops->name;
    for (const mrail_known_component_t *k = mrail_known_components; k->framework; k++) {
        if (strcmp(k->framework, fwname) != 0 || k->disabled_reason || !k->component) {
            continue;
        }
        mrail_component_entry_t *e = entry_add(fw, k->name);
        if (e == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        e->component = k->component;
        e->state = MRAIL_COMPONENT_LOADED;
    }
    const mrail_mca_list_t *path = &fws->base.component_path;
    for (size_t d = 0; d < path->count; d++) {
        char **names;
        size_t n;
        int rc = mca_plugin_scan(path->items[d], fwname, &names, &n);
        for (size_t i = 0; i < n; i++) {
            mrail_component_entry_t *e = rc == MRAIL_SUCCESS ? entry_add(fw, names[i]) : NULL;
            if (e == NULL) {
                rc = MRAIL_ERR_OUT_OF_RESOURCE;
            } else if (e->component == NULL && e->plugin_path == NULL &&
                       asprintf(&e->plugin_path, "%s/mrail_%s_%s.so", path->items[d], fwname,
                                names[i]) < 0) {
                e->plugin_path = NULL;
                rc = MRAIL_ERR_OUT_OF_RESOURCE;
            }
            free(names[i]);
        }
        free(names);
        if (rc != MRAIL_SUCCESS) {
            return rc;
        }
    }
    for (const mrail_known_component_t *k = mrail_known_components; k->framework; k++) {
        if (strcmp(k->framework, fwname) != 0 || k->component != NULL) {
            continue;
        }
        mrail_component_entry_t *e = entry_add(fw, k->name);
        if (e == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        if (k->disabled_reason != NULL) {
            e->state = MRAIL_COMPONENT_NOT_BUILT;
            entry_reason(e, "%s", k->disabled_reason);
        } else if (e->component == NULL && e->plugin_path == NULL) {
            e->state = MRAIL_COMPONENT_NOT_LOADED;
            entry_reason(e, "plugin mrail_%s_%s.so was not found in mca_base_component_path",
                         fwname, k->name);
        }
    }
    return MRAIL_SUCCESS;
}

/* Loads the plugins found that the framework's selection can pick: one it
 * leaves out is never mapped, nor the libraries it would pull in. An
 * invalid selection loads them all (selection reports the error). */
static void load_plugins(mrail_framework_t *fw)
{
    mca_selection_t sel;
    mrail_reason_t why;
    bool parsed =
        mca_selection_parse(fw->selection ? fw->selection : "", &sel, &why) == MRAIL_SUCCESS;
    for (size_t k = 0; k < fw->entry_count; k++) {
        mrail_component_entry_t *e = &fw->entries[k];
        if (e->component != NULL || e->plugin_path == NULL || e->reason != NULL) {
            continue;
        }
        if (parsed && sel.count > 0 && mca_selection_names(&sel, e->name) == sel.exclude) {
            e->state = MRAIL_COMPONENT_EXCLUDED;
            entry_reason(e, "%s by %s=%s, so not loaded", sel.exclude ? "excluded" : "not listed",
                         fw->ops->name, fw->selection);
            continue;
        }
        char *file = mca_strdup(e->plugin_path);
        if (file != NULL) {
            mca_plugin_load(e, fw->ops->name, file);
            free(file);
        }
    }
    if (parsed) {
        mca_selection_free(&sel);
    }
}

static void register_entry(mrail_framework_t *fw, mrail_component_entry_t *e)
{
    mrail_component_t *c = e->component;
    if (fw->ops->register_common != NULL) {
        fw->ops->register_common(fw, c, fw->mca);
    }
    if (c->register_params != NULL) {
        c->register_params(c, fw->mca);
    }
    mrail_reason_t why;
    if (c->check_params != NULL && c->check_params(c, fw->mca, &why) != MRAIL_SUCCESS) {
        mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR, "%s", why.text);
    }
    if (fw->ops->check_common != NULL &&
        fw->ops->check_common(fw, c, fw->mca, &why) != MRAIL_SUCCESS) {
        mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR, "%s", why.text);
    }
}

/* "<fw>" selection parameter; its help lists the components of this build. */
static int register_selection(mrail_frameworks_t *fws, size_t i)
{
    mrail_framework_t *fw = &fws->fw[i];
    char names[1024] = "";
    size_t used = 0;
    for (size_t k = 0; k < fw->entry_count && used < sizeof(names); k++) {
        used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", k ? ", " : "",
                                 fw->entries[k].name);
    }
    if (asprintf(&fws->selection_help[i],
                 "Which %s components to use: a,b uses only these, ^a,b all but these; empty "
                 "means all%s. Components of this build: %s",
                 fw->ops->name,
                 fw->ops->policy == MRAIL_SELECT_ONE ? " (the highest priority wins)" : "",
                 names) < 0) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    const mrail_mca_param_def_t def = {NULL,
                                       MRAIL_MCA_STRING,
                                       "",
                                       2,
                                       fws->selection_help[i],
                                       NULL,
                                       offsetof(mrail_framework_t, selection)};
    return mrail_mca_register(fws->mca, fw->ops->name, NULL, &def, 1, fw);
}

static int register_base(mrail_frameworks_t *fws)
{
    char dir[4096] = ".";
    mca_plugin_default_dir(dir, sizeof(dir));
    fws->default_path = mca_strdup(dir);
    if (fws->default_path == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    const mrail_mca_param_def_t defs[] = {
        {"component_path", MRAIL_MCA_LIST, fws->default_path, 6,
         "Comma-separated directories searched for component plugins (mrail_<framework>_"
         "<component>.so); the first directory holding a given plugin wins",
         NULL, offsetof(mca_base_config_t, component_path)},
        {"unload_declined", MRAIL_MCA_BOOL, "true", 6,
         "Unload a plugin that declined, with the libraries only it needed (libfabric, UCX, "
         "rdma-core) and their handlers; false keeps it mapped (a leak checker can then name "
         "the library of what it reports)",
         NULL, offsetof(mca_base_config_t, unload_declined)},
    };
    return mrail_mca_register(fws->mca, "mca", "base", defs, sizeof(defs) / sizeof(defs[0]),
                              &fws->base);
}

int mrail_frameworks_open(mrail_mca_t *mca, mrail_frameworks_t **out)
{
    mrail_frameworks_t *fws = calloc(1, sizeof(*fws));
    if (fws == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    fws->mca = mca;
    while (fws->count < MAX_FRAMEWORKS && mrail_known_frameworks[fws->count] != NULL) {
        fws->count++;
    }
    mca_signals_save(&fws->signals);
    int rc = register_base(fws);
    for (size_t i = 0; i < fws->count && rc != MRAIL_ERR_OUT_OF_RESOURCE; i++) {
        fws->fw[i].ops = mrail_known_frameworks[i];
        fws->fw[i].mca = mca;
        rc = collect_components(fws, &fws->fw[i]);
        if (rc == MRAIL_SUCCESS) {
            rc = register_selection(fws, i);
        }
        if (rc == MRAIL_SUCCESS) {
            load_plugins(&fws->fw[i]);
        }
        for (size_t k = 0; k < fws->fw[i].entry_count; k++) {
            if (fws->fw[i].entries[k].component != NULL) {
                register_entry(&fws->fw[i], &fws->fw[i].entries[k]);
            }
        }
    }
    if (rc == MRAIL_ERR_OUT_OF_RESOURCE) {
        mrail_frameworks_close(fws);
        return rc;
    }

    /* Settings for components that could not load are explained, not
     * reported as misspellings. */
    size_t ndormant = 0;
    for (size_t i = 0; i < fws->count; i++) {
        ndormant += fws->fw[i].entry_count;
    }
    char **dormant = calloc(2 * ndormant + 2, sizeof(char *));
    size_t nd = 0;
    for (size_t i = 0; dormant && i < fws->count; i++) {
        for (size_t k = 0; k < fws->fw[i].entry_count; k++) {
            mrail_component_entry_t *e = &fws->fw[i].entries[k];
            if (e->component == NULL &&
                asprintf(&dormant[nd], "%s_%s_", fws->fw[i].ops->name, e->name) >= 0) {
                dormant[nd + 1] = e->reason ? e->reason : "not loaded";
                nd += 2;
            }
        }
    }
    mca_signals_restore(&fws->signals);
    mrail_mca_check_unknown(mca, (const char *const *)dormant);
    for (size_t i = 0; dormant && i < nd; i += 2) {
        free(dormant[i]);
    }
    free(dormant);
    *out = fws;
    return mrail_mca_error_count(mca) ? MRAIL_ERR_BAD_PARAM : MRAIL_SUCCESS;
}

static void available_list(const mrail_framework_t *fw, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < fw->entry_count && used < len; k++) {
        const mrail_component_entry_t *e = &fw->entries[k];
        used += (size_t)snprintf(
            buf + used, len - used, "%s%s%s%s%s", k ? ", " : "", e->name, e->component ? "" : " (",
            e->component ? "" : mrail_component_state_name(e->state), e->component ? "" : ")");
    }
}

/* Marks what the selection leaves out; returns an error for names that do
 * not exist, or that the user asked for but cannot be loaded. */
static int apply_selection(mrail_framework_t *fw, const mca_selection_t *sel)
{
    const char *fwname = fw->ops->name;
    char avail[1024];
    available_list(fw, avail, sizeof(avail));
    int rc = MRAIL_SUCCESS;
    for (size_t i = 0; i < sel->count; i++) {
        bool found = false;
        for (size_t k = 0; k < fw->entry_count; k++) {
            found = found || strcmp(fw->entries[k].name, sel->names[i]) == 0;
        }
        if (!found) {
            mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR,
                               "%s=%s names %s component \"%s\", which does not exist; "
                               "components of this build: %s",
                               fwname, fw->selection, fwname, sel->names[i], avail);
            rc = MRAIL_ERR_BAD_PARAM;
        }
    }
    for (size_t k = 0; k < fw->entry_count; k++) {
        mrail_component_entry_t *e = &fw->entries[k];
        bool named = mca_selection_names(sel, e->name);
        if (!sel->exclude && named && e->component == NULL) {
            mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR, "%s=%s asks for %s, which is %s: %s",
                               fwname, fw->selection, e->name, mrail_component_state_name(e->state),
                               e->reason ? e->reason : "no reason recorded");
            rc = MRAIL_ERR_BAD_PARAM;
        } else if (e->component != NULL && sel->count > 0 && named == sel->exclude) {
            e->state = MRAIL_COMPONENT_EXCLUDED;
            entry_reason(e, "%s by %s=%s", sel->exclude ? "excluded" : "not listed", fwname,
                         fw->selection);
        }
    }
    return rc;
}

static void open_and_query(mrail_framework_t *fw, mrail_component_entry_t *e, bool requested)
{
    mrail_component_t *c = e->component;
    mrail_reason_t why = {""};
    int rc = c->open ? c->open(c, &why) : MRAIL_SUCCESS;
    e->opened = true;
    if (rc == MRAIL_SUCCESS) {
        rc = fw->ops->query(fw, e, &why);
    }
    if (rc == MRAIL_SUCCESS) {
        e->state = MRAIL_COMPONENT_AVAILABLE;
        return;
    }
    e->state = MRAIL_COMPONENT_DECLINED;
    entry_reason(e, "%s", why.text[0] ? why.text : mrail_strerror(rc));
    if (rc == MRAIL_ERR_BAD_PARAM) {
        /* A value the user gave is wrong: that is an error, not a decline. */
        mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR, "%s %s: %s", fw->ops->name, e->name,
                           e->reason);
    } else if (requested) {
        mrail_mca_diag_add(fw->mca, MRAIL_DIAG_WARNING, "%s=%s asks for %s, which declined: %s",
                           fw->ops->name, fw->selection, e->name, e->reason);
    }
}

static int select_framework(mrail_framework_t *fw)
{
    mca_selection_t sel;
    mrail_reason_t why;
    if (fw->selection == NULL) {
        fw->selection = "";
    }
    if (mca_selection_parse(fw->selection, &sel, &why) != MRAIL_SUCCESS) {
        const mrail_mca_param_t *p = mrail_mca_find(fw->mca, fw->ops->name);
        char avail[1024];
        available_list(fw, avail, sizeof(avail));
        mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR,
                           "invalid %s selection (set by %s): %s; components of this build: %s",
                           fw->ops->name, p ? p->origin : "?", why.text, avail);
        return MRAIL_ERR_BAD_PARAM;
    }
    int rc = apply_selection(fw, &sel);
    for (size_t k = 0; rc == MRAIL_SUCCESS && k < fw->entry_count; k++) {
        mrail_component_entry_t *e = &fw->entries[k];
        if (e->state == MRAIL_COMPONENT_LOADED) {
            open_and_query(fw, e, !sel.exclude && mca_selection_names(&sel, e->name));
        }
    }
    mca_selection_free(&sel);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    for (size_t k = 0; k < fw->entry_count; k++) {
        mrail_component_entry_t *e = &fw->entries[k];
        if (e->state != MRAIL_COMPONENT_AVAILABLE) {
            continue;
        }
        if (fw->ops->policy == MRAIL_SELECT_MANY) {
            e->state = MRAIL_COMPONENT_SELECTED;
        } else if (fw->selected == NULL || e->priority > fw->selected->priority) {
            fw->selected = e;
        }
    }
    if (fw->ops->policy == MRAIL_SELECT_ONE) {
        if (fw->selected == NULL) {
            mrail_mca_diag_add(fw->mca, MRAIL_DIAG_ERROR,
                               "no %s component could be selected (%s=\"%s\"); "
                               "mrail_info shows why each one was left out",
                               fw->ops->name, fw->ops->name, fw->selection);
            return MRAIL_ERR_NOT_FOUND;
        }
        fw->selected->state = MRAIL_COMPONENT_SELECTED;
        for (size_t k = 0; k < fw->entry_count; k++) {
            mrail_component_entry_t *e = &fw->entries[k];
            if (e->state == MRAIL_COMPONENT_AVAILABLE) {
                entry_reason(e, "priority %d, lower than %s's %d", e->priority, fw->selected->name,
                             fw->selected->priority);
            }
        }
    }
    return MRAIL_SUCCESS;
}

int mrail_frameworks_select(mrail_frameworks_t *fws)
{
    int result = MRAIL_SUCCESS;
    for (size_t i = 0; i < fws->count; i++) {
        int rc = select_framework(&fws->fw[i]);
        if (rc != MRAIL_SUCCESS && result == MRAIL_SUCCESS) {
            result = rc;
        }
        for (size_t k = 0; fws->base.unload_declined && k < fws->fw[i].entry_count; k++) {
            if (fws->fw[i].entries[k].state == MRAIL_COMPONENT_DECLINED) {
                mca_plugin_unload(&fws->fw[i].entries[k]);
            }
        }
    }
    mca_signals_restore(&fws->signals); /* queries started the transports' libraries */
    return result;
}

void mrail_frameworks_close(mrail_frameworks_t *fws)
{
    if (fws == NULL) {
        return;
    }
    for (size_t i = 0; i < fws->count; i++) {
        mrail_framework_t *fw = &fws->fw[i];
        for (size_t k = 0; k < fw->entry_count; k++) {
            mrail_component_entry_t *e = &fw->entries[k];
            if (fw->ops && fw->ops->release) {
                fw->ops->release(fw, e);
            }
            if (e->opened && e->component->close) {
                e->component->close(e->component);
            }
            /* Plugins in use stay mapped: libraries they pull in (UCX, libfabric)
             * register exit handlers that must not outlive their code. */
            free(e->name);
            free(e->plugin_path);
            free(e->version);
            free(e->reason);
        }
        free(fw->entries);
        free(fws->selection_help[i]);
    }
    free(fws->default_path);
    free(fws);
}

size_t mrail_frameworks_count(const mrail_frameworks_t *fws)
{
    return fws->count;
}

mrail_framework_t *mrail_frameworks_at(mrail_frameworks_t *fws, size_t i)
{
    return i < fws->count ? &fws->fw[i] : NULL;
}

mrail_framework_t *mrail_frameworks_find(mrail_frameworks_t *fws, const char *name)
{
    for (size_t i = 0; i < fws->count; i++) {
        if (strcmp(fws->fw[i].ops->name, name) == 0) {
            return &fws->fw[i];
        }
    }
    return NULL;
}
