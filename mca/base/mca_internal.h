/* Internal state of the parameter registry; only mca/base includes this. */
#ifndef MRAIL_MCA_INTERNAL_H
#define MRAIL_MCA_INTERNAL_H

#include "mrail/mca.h"

/* One name=value pair read from a source, before any parameter claims it. */
typedef struct mca_setting {
    char *name;
    char *value;
    mrail_mca_source_t source;
    char *origin; /* "MRAIL_MCA_x", "file:line", "--mca" */
    char *file;   /* file sources: the path, to tell two files apart */
    bool used;
} mca_setting_t;

typedef struct mca_diag {
    mrail_diag_severity_t severity;
    char *text;
} mca_diag_t;

/* Registry entry: the public view plus what the registry owns for it. */
typedef struct mca_param {
    mrail_mca_param_t pub;
    mrail_mca_list_t list; /* MRAIL_MCA_LIST values */
} mca_param_t;

struct mrail_mca {
    mca_setting_t *settings;
    size_t setting_count, setting_cap;
    mca_param_t **params;
    size_t param_count, param_cap;
    mca_diag_t *diags;
    size_t diag_count, diag_cap;
    mrail_mca_file_t *files; /* looked for, in precedence order */
    size_t file_count, file_cap;
};

/* Parses text as type into dst. On error fills why with what was expected. */
int mca_value_parse(mrail_mca_type_t type, const char *const *enum_names, const char *text,
                    void *dst, mrail_mca_list_t *list_storage, mrail_reason_t *why);
/* One sentence listing the accepted forms of a type. */
void mca_value_forms(mrail_mca_type_t type, const char *const *enum_names, char *buf, size_t len);
void mca_list_free(mrail_mca_list_t *list);

/* Source loading (mca_source.c). */
int mca_sources_load(mrail_mca_t *mca, const mrail_mca_open_opts_t *opts, mrail_reason_t *why);
/* The highest-precedence setting for name, or NULL. */
mca_setting_t *mca_setting_lookup(mrail_mca_t *mca, const char *name);

/* Edit distance, capped: returns cap + 1 when larger. */
size_t mca_edit_distance(const char *a, const char *b, size_t cap);

char *mca_strdup(const char *s);
void *mca_grow(void *array, size_t *cap, size_t count, size_t elem);

#endif
