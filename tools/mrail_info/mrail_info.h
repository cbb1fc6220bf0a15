/* mrail_info: what this build has, what it selects here, and every MCA
 * parameter with its value and where that value came from. */
#ifndef MRAIL_INFO_H
#define MRAIL_INFO_H

#include <stdbool.h>
#include <stdio.h>

#include "mrail/component.h"

typedef struct info_filter {
    bool params;           /* list parameters at all */
    const char *framework; /* "all" or a framework name ("mca" included) */
    const char *component; /* "all" or a component name */
    int level;             /* show parameters up to this level */
} info_filter_t;

void info_print_components(FILE *out, mrail_frameworks_t *fws, bool parsable);
void info_print_params(FILE *out, const mrail_mca_t *mca, const info_filter_t *f, bool parsable);
void info_print_diags(FILE *err, const mrail_mca_t *mca, bool parsable);
/* --path: prefix, directories and the parameter files looked for. */
void info_print_path(FILE *out, const mrail_mca_t *mca, bool parsable);
/* --config: compiler, options, dependency versions, MPI level. */
void info_print_config(FILE *out, bool parsable);

#endif
