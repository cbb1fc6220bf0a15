/* Where the installation is. A prefix moved as a whole (`cmake --install
 * --prefix ELSEWHERE`, a copied tree) still reads its own system parameter
 * file: MRAIL_PREFIX names the prefix (as OPAL_PREFIX does for Open MPI),
 * else the library's own directory tells it. A library where it was
 * installed, or in the build tree, uses the configured sysconfdir. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_components.h"
#include "mca_internal.h"

#define COPY(dst, ...) snprintf(dst, sizeof(dst), __VA_ARGS__)

void mrail_mca_install_paths(const char *env_prefix, mrail_mca_install_t *out)
{
    memset(out, 0, sizeof(*out));
    COPY(out->sysconfdir, "%s", MRAIL_SYSCONFDIR);
    out->how = "unknown: the library's place was not found";
    char plugins[sizeof(out->libdir)];
    if (mca_plugin_default_dir(plugins, sizeof(plugins)) == MRAIL_SUCCESS) {
        char *slash = strrchr(plugins, '/'); /* "<libdir>/mrail" */
        if (slash != NULL) {
            *slash = '\0';
        }
        /* Loaded through $ORIGIN the name is ".../bin/../lib": made
         * canonical, so that the layout checks below and the paths shown
         * are plain. */
        char *canonical = realpath(plugins, NULL);
        COPY(out->libdir, "%.*s", (int)sizeof(out->libdir) - 1, canonical ? canonical : plugins);
        free(canonical);
        COPY(out->plugindir, "%s/mrail", out->libdir);
        out->how = "unknown: the library lies outside any <prefix>/" MRAIL_REL_LIBDIR;
    }
    static const char tail[] = "/" MRAIL_REL_LIBDIR;
    size_t n = strlen(out->libdir), t = sizeof(tail) - 1;
    if (env_prefix != NULL && env_prefix[0] != '\0') {
        COPY(out->prefix, "%s", env_prefix);
        COPY(out->sysconfdir, "%s/%s", env_prefix, MRAIL_REL_SYSCONFDIR);
        out->how = "MRAIL_PREFIX";
    } else if (strcmp(out->libdir, MRAIL_FULL_LIBDIR) == 0) {
        COPY(out->prefix, "%s", MRAIL_INSTALL_PREFIX);
        out->how = "installed where it was configured";
    } else if (strcmp(out->libdir, MRAIL_BUILD_LIBDIR) == 0) {
        COPY(out->prefix, "%s", MRAIL_BUILD_DIR);
        out->how = "build tree (the system file is the configured one)";
    } else if (n > t && strcmp(out->libdir + n - t, tail) == 0) {
        COPY(out->prefix, "%.*s", (int)(n - t), out->libdir);
        COPY(out->sysconfdir, "%s/%s", out->prefix, MRAIL_REL_SYSCONFDIR);
        out->how = "moved installation: from the library's own directory";
    }
}
