/* dlopen()ed components: mrail_<fw>_<name>.so exporting
 * mrail_<fw>_<name>_component. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_components.h"
#include "mca_internal.h"

int mca_plugin_default_dir(char *buf, size_t len)
{
    Dl_info info;
    if (dladdr((void *)&mrail_mca_open, &info) == 0 || info.dli_fname == NULL) {
        return MRAIL_ERR_NOT_FOUND;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
    snprintf(buf, len, "%.*s/mrail", dirlen, slash ? info.dli_fname : ".");
    return MRAIL_SUCCESS;
}

static void set_reason(mrail_component_entry_t *entry, const char *fmt, const char *a,
                       const char *b)
{
    char *text = NULL;
    if (asprintf(&text, fmt, a, b) < 0) {
        text = NULL;
    }
    free(entry->reason);
    entry->reason = text;
}

void mca_plugin_load(mrail_component_entry_t *entry, const char *framework, const char *path)
{
    entry->state = MRAIL_COMPONENT_NOT_LOADED;
    free(entry->plugin_path);
    entry->plugin_path = mca_strdup(path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *err = dlerror();
        set_reason(entry, "%s%s", "dlopen failed: ", err ? err : "unknown loader error");
        return;
    }
    char symbol[256];
    snprintf(symbol, sizeof(symbol), "mrail_%s_%s_component", framework, entry->name);
    mrail_component_t *c = dlsym(handle, symbol);
    if (c == NULL) {
        set_reason(entry, "%s does not define %s", path, symbol);
        dlclose(handle);
        return;
    }
    if (c->abi_version != MRAIL_COMPONENT_ABI_VERSION) {
        char built[32], want[32];
        snprintf(built, sizeof(built), "%u", c->abi_version);
        snprintf(want, sizeof(want), "%u", MRAIL_COMPONENT_ABI_VERSION);
        set_reason(entry, "built for component ABI %s, this libmrail has ABI %s", built, want);
        dlclose(handle);
        return;
    }
    if (c->framework == NULL || c->name == NULL || strcmp(c->framework, framework) != 0 ||
        strcmp(c->name, entry->name) != 0) {
        set_reason(entry, "%s names itself %s, not its file name", symbol,
                   c->name ? c->name : "(null)");
        dlclose(handle);
        return;
    }
    entry->dl_handle = handle;
    entry->component = c;
    free(entry->version);
    entry->version = mca_strdup(c->version ? c->version : "");
    entry->state = MRAIL_COMPONENT_LOADED;
    free(entry->reason);
    entry->reason = NULL;
}

int mca_plugin_scan(const char *dir, const char *framework, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return MRAIL_SUCCESS; /* a path entry that does not exist holds no plugins */
    }
    char prefix[64];
    int plen = snprintf(prefix, sizeof(prefix), "mrail_%s_", framework);
    size_t cap = 0;
    int rc = MRAIL_SUCCESS;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, (size_t)plen) != 0 || len <= (size_t)plen + 3 ||
            strcmp(de->d_name + len - 3, ".so") != 0) {
            continue;
        }
        char **grown = mca_grow(*names, &cap, *count, sizeof(char *));
        char *name = strndup(de->d_name + plen, len - (size_t)plen - 3);
        if (grown == NULL || name == NULL) {
            free(name);
            if (grown != NULL) {
                *names = grown;
            }
            rc = MRAIL_ERR_OUT_OF_RESOURCE;
            break;
        }
        *names = grown;
        (*names)[(*count)++] = name;
    }
    closedir(d);
    return rc;
}

void mca_plugin_unload(mrail_component_entry_t *entry)
{
    if (entry->dl_handle == NULL) {
        return;
    }
    if (entry->opened && entry->component->close != NULL) {
        entry->component->close(entry->component);
    }
    entry->opened = false;
    entry->component = NULL;
    dlclose(entry->dl_handle);
    entry->dl_handle = NULL;
}

void *mrail_mca_core_load(const void *anchor, const char *entry, void **handle, mrail_reason_t *why)
{
    *handle = NULL;
    Dl_info info;
    if (dladdr(anchor, &info) == 0 || info.dli_fname == NULL) {
        mrail_reason_set(why, MRAIL_ERR_NOT_FOUND, "cannot tell which file the plugin is");
        return NULL;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
    char *path = NULL;
    if (asprintf(&path, "%.*s/core/%s", dirlen, slash ? info.dli_fname : ".",
                 slash ? slash + 1 : info.dli_fname) < 0) {
        mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *err = dlerror();
        mrail_reason_set(why, MRAIL_ERR_NOT_FOUND, "cannot load %s: %s", path,
                         err ? err : "unknown loader error");
        free(path);
        return NULL;
    }
    void *fn = dlsym(h, entry);
    if (fn == NULL) {
        mrail_reason_set(why, MRAIL_ERR_NOT_FOUND, "%s does not define %s", path, entry);
        dlclose(h);
        free(path);
        return NULL;
    }
    free(path);
    *handle = h;
    return fn;
}
