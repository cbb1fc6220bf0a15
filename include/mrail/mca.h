/* mrail MCA parameters: typed, documented, with provenance.
 *
 * A parameter is declared in a table of mrail_mca_param_def_t and registered
 * with mrail_mca_register(): the registry resolves the value from the
 * highest-precedence source, parses it into the owner's config struct and
 * remembers where it came from. The same table drives mrail_info and the
 * unknown-name warnings. */
#ifndef MRAIL_MCA_H
#define MRAIL_MCA_H

#include <stdbool.h>
#include <stddef.h>

#include "mrail/mrail.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mrail_mca_type {
    MRAIL_MCA_INT,      /* int */
    MRAIL_MCA_UNSIGNED, /* unsigned */
    MRAIL_MCA_SIZE,     /* size_t; accepts 64k, 4m, 1g (powers of 1024) */
    MRAIL_MCA_BOOL,     /* bool; 1/0/true/false/yes/no */
    MRAIL_MCA_STRING,   /* const char *, owned by the registry */
    MRAIL_MCA_ENUM,     /* int: index into enum_names */
    MRAIL_MCA_LIST,     /* mrail_mca_list_t: comma-separated, owned by the registry */
} mrail_mca_type_t;

/* Sources, lowest precedence first. */
typedef enum mrail_mca_source {
    MRAIL_MCA_SOURCE_DEFAULT,
    MRAIL_MCA_SOURCE_SYSCONF_FILE, /* <sysconfdir>/mrail/mca-params.conf */
    MRAIL_MCA_SOURCE_USER_FILE,    /* $HOME/.mrail/mca-params.conf */
    MRAIL_MCA_SOURCE_PARAM_FILE,   /* files listed in MRAIL_MCA_PARAM_FILES */
    MRAIL_MCA_SOURCE_ENV,          /* MRAIL_MCA_<name> */
    MRAIL_MCA_SOURCE_CMDLINE,      /* --mca name value (passed down as MRAIL_CMDLINE_MCA_<name>) */
} mrail_mca_source_t;

#define MRAIL_MCA_ENV_PREFIX "MRAIL_MCA_"
#define MRAIL_MCA_CMDLINE_ENV_PREFIX "MRAIL_CMDLINE_MCA_"
#define MRAIL_MCA_PARAM_FILES_ENV "MRAIL_MCA_PARAM_FILES"

typedef struct mrail_mca_list {
    size_t count;
    char **items;
} mrail_mca_list_t;

typedef struct mrail_mca_param_def {
    const char *name; /* after "<fw>_<comp>_"; NULL names the prefix itself */
    mrail_mca_type_t type;
    const char *default_value;     /* text, parsed like any other source */
    int level;                     /* 1 = basic user .. 9 = developer */
    const char *help;              /* mandatory */
    const char *const *enum_names; /* MRAIL_MCA_ENUM: NULL-terminated */
    size_t offset;                 /* where the value lands in the owner's config */
} mrail_mca_param_def_t;

/* A registered parameter, as mrail_info shows it. */
typedef struct mrail_mca_param {
    char *full_name; /* <fw>_<comp>_<name> */
    char *framework;
    char *component; /* NULL for framework-level parameters */
    mrail_mca_type_t type;
    char *default_value;
    char *value; /* the text that was parsed */
    mrail_mca_source_t source;
    char *origin; /* "MRAIL_MCA_x", "path:line", "--mca" or "default" */
    int level;
    char *help;
    char **enum_names;
} mrail_mca_param_t;

typedef struct mrail_mca mrail_mca_t;

typedef struct mrail_mca_open_opts {
    char *const *envp;          /* NULL: the process environment */
    const char *sysconfdir;     /* NULL: the configured sysconfdir */
    const char *const *cmdline; /* name, value, name, value, ..., NULL */
} mrail_mca_open_opts_t;

/* Reads every source (environment, files, command line) once. A malformed
 * file line fails here with why naming file:line. */
int mrail_mca_open(const mrail_mca_open_opts_t *opts, mrail_mca_t **mca_out, mrail_reason_t *why);
void mrail_mca_close(mrail_mca_t *mca);

/* A parameter file the registry looked for, highest precedence first
 * (mrail_info --path): found says that it existed and was read. */
typedef struct mrail_mca_file {
    char *path;
    mrail_mca_source_t source; /* a file source */
    bool found;
} mrail_mca_file_t;
size_t mrail_mca_file_count(const mrail_mca_t *mca);
const mrail_mca_file_t *mrail_mca_file_at(const mrail_mca_t *mca, size_t i);

/* Where the loaded library lies and what it takes from there. */
typedef struct mrail_mca_install {
    char prefix[4000];     /* empty when the layout is not one we know */
    char libdir[4000];     /* libmrail's directory */
    char plugindir[4100];  /* the default of mca_base_component_path */
    char sysconfdir[4100]; /* holds mrail/mca-params.conf, the system file */
    const char *how;       /* how the prefix was found, for people */
} mrail_mca_install_t;
/* env_prefix: $MRAIL_PREFIX (NULL or empty: unset). */
void mrail_mca_install_paths(const char *env_prefix, mrail_mca_install_t *out);

/* Registers n parameters named <framework>_<component>_<def.name>
 * (component may be NULL) and stores their values into config. Every invalid
 * value is recorded as an error diagnostic; returns MRAIL_ERR_BAD_PARAM if any. */
int mrail_mca_register(mrail_mca_t *mca, const char *framework, const char *component,
                       const mrail_mca_param_def_t *defs, size_t n, void *config);

/* Looks a registered parameter up by full name; NULL if unknown. */
const mrail_mca_param_t *mrail_mca_find(const mrail_mca_t *mca, const char *full_name);
size_t mrail_mca_count(const mrail_mca_t *mca);
const mrail_mca_param_t *mrail_mca_at(const mrail_mca_t *mca, size_t i);

/* Warns about every setting (environment, file, command line) that names no
 * registered parameter, suggesting the closest names. dormant (may be NULL)
 * holds pairs "<fw>_<comp>_", reason for components whose parameters could
 * not be registered (plugin not loaded), so that their settings are
 * explained rather than called unknown. Call once all components have
 * registered. */
void mrail_mca_check_unknown(mrail_mca_t *mca, const char *const *dormant);

/* Diagnostics collected while reading and registering; printed by the edge. */
typedef enum { MRAIL_DIAG_WARNING, MRAIL_DIAG_ERROR } mrail_diag_severity_t;
void mrail_mca_diag_add(mrail_mca_t *mca, mrail_diag_severity_t sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t mrail_mca_diag_count(const mrail_mca_t *mca);
const char *mrail_mca_diag_text(const mrail_mca_t *mca, size_t i, mrail_diag_severity_t *sev);
size_t mrail_mca_error_count(const mrail_mca_t *mca);

const char *mrail_mca_type_name(mrail_mca_type_t type);
const char *mrail_mca_source_name(mrail_mca_source_t source);
/* "parameter X = V (from ORIGIN)" helper for constraint messages. */
const char *mrail_mca_describe(const mrail_mca_t *mca, const char *full_name, char *buf,
                               size_t len);

/* Fails with why naming both parameters, their values and sources when
 * neither a nor b is at its default: for pairs such as include/exclude
 * lists of which only one may be set. */
int mrail_mca_check_not_both(const mrail_mca_t *mca, const char *a, const char *b,
                             mrail_reason_t *why);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
