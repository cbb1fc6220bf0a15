/* mrail_info --path and --config: where this installation is, which
 * parameter files it reads, and how it was built. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "mpi.h"
#include "mrail/mca.h"
#include "mrail_info.h"
#include "mrail_info_build.h"

static void fact(FILE *out, bool parsable, const char *kind, const char *key, const char *label,
                 const char *value)
{
    if (parsable) {
        fprintf(out, "%s:%s:%s\n", kind, key, value);
    } else {
        fprintf(out, "  %-22s %s\n", label, value);
    }
}

void info_print_path(FILE *out, const mrail_mca_t *mca, bool parsable)
{
    mrail_mca_install_t *where = malloc(sizeof(*where));
    if (where == NULL) {
        return;
    }
    mrail_mca_install_paths(getenv("MRAIL_PREFIX"), where);
    if (!parsable) {
        fprintf(out, "\nPaths\n");
    }
    fact(out, parsable, "path", "prefix", "prefix", where->prefix[0] ? where->prefix : "unknown");
    fact(out, parsable, "path", "prefix_from", "prefix found from", where->how);
    fact(out, parsable, "path", "libdir", "libdir", where->libdir);
    fact(out, parsable, "path", "plugindir", "plugin dir (default)", where->plugindir);
    const mrail_mca_param_t *search = mrail_mca_find(mca, "mca_base_component_path");
    if (search != NULL) {
        fact(out, parsable, "path", "component_path", "plugins searched in", search->value);
    }
    fact(out, parsable, "path", "sysconfdir", "sysconfdir", where->sysconfdir);
    free(where);
    if (!parsable) {
        fprintf(out, "  parameter files, highest precedence first:\n");
    }
    for (size_t i = 0; i < mrail_mca_file_count(mca); i++) {
        const mrail_mca_file_t *f = mrail_mca_file_at(mca, i);
        const char *state = f->found ? "read" : "absent";
        if (parsable) {
            fprintf(out, "path:param_file:%s:%s:%s\n", mrail_mca_source_name(f->source), state,
                    f->path);
        } else {
            fprintf(out, "    %-7s %-12s %s\n", state, mrail_mca_source_name(f->source), f->path);
        }
    }
}

void info_print_config(FILE *out, bool parsable)
{
    if (!parsable) {
        fprintf(out, "\nBuild configuration\n");
    }
    fact(out, parsable, "config", "compiler", "compiler", INFO_COMPILER);
    fact(out, parsable, "config", "build_type", "build type", INFO_BUILD_TYPE);
    fact(out, parsable, "config", "options", "options", INFO_OPTIONS);
    /* "label=version;..." as CMake wrote it: one line per dependency. */
    char deps[] = INFO_DEPS, *save = NULL;
    for (char *d = strtok_r(deps, ";", &save); d != NULL; d = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(d, '=');
        if (eq == NULL) {
            continue;
        }
        *eq = '\0';
        if (parsable) {
            fprintf(out, "config:dependency:%s:%s\n", d, eq + 1);
        } else {
            char label[64];
            snprintf(label, sizeof(label), "%s", d);
            fprintf(out, "  %-22s %s\n", label, eq + 1);
        }
    }
    char mpi[16];
    snprintf(mpi, sizeof(mpi), "%d.%d", MPI_VERSION, MPI_SUBVERSION);
    fact(out, parsable, "config", "mpi_version", "MPI standard", mpi);
    fact(out, parsable, "config", "thread_level", "thread level (most)",
         MRAIL_MPI_THREAD_MAX == MPI_THREAD_MULTIPLE     ? "MPI_THREAD_MULTIPLE"
         : MRAIL_MPI_THREAD_MAX == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
         : MRAIL_MPI_THREAD_MAX == MPI_THREAD_FUNNELED   ? "MPI_THREAD_FUNNELED"
                                                         : "MPI_THREAD_SINGLE");
    fact(out, parsable, "config", "bindings", "language bindings",
         "C (mpicc); C++ through the C API (mpicxx); no Fortran");
}
