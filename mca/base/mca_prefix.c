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

void mca_sysconf_dir(const char *env_prefix, char *buf, size_t len)
{
    if (env_prefix != NULL && env_prefix[0] != '\0') {
        snprintf(buf, len, "%s/%s", env_prefix, MRAIL_REL_SYSCONFDIR);
        return;
    }
    snprintf(buf, len, "%s", MRAIL_SYSCONFDIR);
    char plugins[4096];
    if (mca_plugin_default_dir(plugins, sizeof(plugins)) != MRAIL_SUCCESS) {
        return;
    }
    char *slash = strrchr(plugins, '/'); /* "<libdir>/mrail": the library's directory */
    if (slash == NULL) {
        return;
    }
    *slash = '\0';
    /* Loaded through $ORIGIN the name is ".../bin/../lib": made canonical,
     * so that the layout check below and the paths shown are plain. */
    char *canonical = realpath(plugins, NULL);
    if (canonical != NULL) {
        snprintf(plugins, sizeof(plugins), "%s", canonical);
        free(canonical);
    }
    static const char tail[] = "/" MRAIL_REL_LIBDIR;
    size_t n = strlen(plugins), t = sizeof(tail) - 1;
    if (strcmp(plugins, MRAIL_FULL_LIBDIR) == 0 || strcmp(plugins, MRAIL_BUILD_LIBDIR) == 0 ||
        n <= t || strcmp(plugins + n - t, tail) != 0) {
        return; /* installed where configured, the build tree, or a layout we do not know */
    }
    snprintf(buf, len, "%.*s/%s", (int)(n - t), plugins, MRAIL_REL_SYSCONFDIR);
}
