/* mrail components and frameworks.
 *
 * A framework (btl, pml) owns a set of components; each component is
 * built in or a dlopen()ed plugin exporting mrail_<fw>_<name>_component.
 * Lifecycle: register_params -> check_params -> open -> query (framework
 * specific) -> close. Selection is driven by the parameter named after the
 * framework: "a,b" keeps only those, "^a,b" keeps all but those. */
#ifndef MRAIL_COMPONENT_H
#define MRAIL_COMPONENT_H

#include <stdbool.h>

#include "mrail/mca.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever mrail_component_t or a framework component struct changes;
 * a plugin built for another value is refused with that reason. */
#define MRAIL_COMPONENT_ABI_VERSION 5u

typedef struct mrail_component mrail_component_t;

struct mrail_component {
    unsigned abi_version;    /* MRAIL_COMPONENT_ABI_VERSION when built */
    const char *framework;   /* "btl" */
    const char *name;        /* "tcp" */
    const char *version;     /* "0.1.0" */
    const char *description; /* one line for mrail_info */
    /* Registers the component's own parameters. Called for every loaded
     * component, selected or not, so that mrail_info lists them all. */
    int (*register_params)(mrail_component_t *self, mrail_mca_t *mca);
    /* Checks constraints between the component's parameters once they are all
     * read; fills why with the names, values and sources involved. May be NULL. */
    int (*check_params)(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why);
    /* Acquires what query needs; MRAIL_ERR_DECLINED with why when the
     * component cannot work on this machine. May be NULL. */
    int (*open)(mrail_component_t *self, mrail_reason_t *why);
    /* Releases what open and query acquired. May be NULL. */
    void (*close)(mrail_component_t *self);
};

/* A plugin split in two (mrail_add_component ... CORE): the plugin proper
 * calls this once its cheap check found something to drive. Loads
 * core/<the plugin's own file name> beside the plugin that holds
 * anchor (any address in it) and returns its function entry, keeping the
 * library's handle in *handle (dlclose it when the component declines or
 * closes). NULL with why filled when it cannot. */
void *mrail_mca_core_load(const void *anchor, const char *entry, void **handle,
                          mrail_reason_t *why);

typedef enum mrail_select_policy {
    MRAIL_SELECT_MANY, /* every component that finds devices is kept (btl) */
    MRAIL_SELECT_ONE,  /* the highest <fw>_<comp>_priority wins (pml) */
} mrail_select_policy_t;

typedef enum mrail_component_state {
    MRAIL_COMPONENT_NOT_BUILT,  /* turned off when mrail was configured */
    MRAIL_COMPONENT_NOT_LOADED, /* plugin could not be loaded; reason says why */
    MRAIL_COMPONENT_LOADED,     /* parameters registered, not selected yet */
    MRAIL_COMPONENT_EXCLUDED,   /* left out by the framework's selection parameter */
    MRAIL_COMPONENT_DECLINED,   /* open or query found nothing to drive */
    MRAIL_COMPONENT_AVAILABLE,  /* usable, but another one won (one-of-many) */
    MRAIL_COMPONENT_SELECTED,
} mrail_component_state_t;

typedef struct mrail_component_entry {
    char *name;
    mrail_component_t *component; /* NULL unless loaded */
    char *plugin_path;            /* NULL for built-in components */
    char *version;                /* plugins: copied at load, kept after unloading */
    void *dl_handle;
    mrail_component_state_t state;
    char *reason; /* why not loaded / declined / excluded */
    bool opened;
    int priority;   /* one-of-many frameworks */
    void **modules; /* many-of-many frameworks: what query returned */
    size_t module_count;
} mrail_component_entry_t;

typedef struct mrail_framework mrail_framework_t;

/* What a framework's base adds to the generic lifecycle. */
typedef struct mrail_framework_ops {
    const char *name;
    const char *description;
    mrail_select_policy_t policy;
    /* Registers parameters every component of the framework has
     * (btl_<comp>_eager_limit, pml_<comp>_priority, ...). May be NULL. */
    int (*register_common)(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca);
    /* Checks constraints between those common parameters. May be NULL. */
    int (*check_common)(mrail_framework_t *fw, mrail_component_t *c, const mrail_mca_t *mca,
                        mrail_reason_t *why);
    /* Runs the component's query; fills entry->modules or entry->priority.
     * MRAIL_ERR_DECLINED with why when it finds nothing. */
    int (*query)(mrail_framework_t *fw, mrail_component_entry_t *entry, mrail_reason_t *why);
    /* Frees what query stored in the entry. */
    void (*release)(mrail_framework_t *fw, mrail_component_entry_t *entry);
} mrail_framework_ops_t;

/* Components of the frameworks that select one component by priority (pml,
 * coll) have this shape; those frameworks' bases use the two functions
 * below as their register_common and query. */
typedef struct mrail_ranked_component {
    mrail_component_t base;
    int default_priority; /* default of <fw>_<comp>_priority */
    int priority;         /* its value, registered by the framework's base */
    /* Accepts (MRAIL_SUCCESS, priority set) or declines with why. */
    int (*query)(struct mrail_ranked_component *self, int *priority, mrail_reason_t *why);
} mrail_ranked_component_t;

/* Registers <fw>_<comp>_priority. */
int mrail_ranked_register_common(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca);
/* Runs the component's query and records its priority. */
int mrail_ranked_query(mrail_framework_t *fw, mrail_component_entry_t *e, mrail_reason_t *why);

struct mrail_framework {
    const mrail_framework_ops_t *ops;
    mrail_mca_t *mca;
    const char *selection; /* value of the <fw> parameter */
    mrail_component_entry_t *entries;
    size_t entry_count;
    mrail_component_entry_t *selected; /* one-of-many: the winner */
};

typedef struct mrail_frameworks mrail_frameworks_t;

/* Finds every component (built-in, plugins in mca_base_component_path),
 * registers all parameters, checks constraints and warns about unknown
 * parameter names. Errors are in mca's diagnostics; returns
 * MRAIL_ERR_BAD_PARAM when there is any. */
int mrail_frameworks_open(mrail_mca_t *mca, mrail_frameworks_t **out);
/* Applies each framework's selection parameter, then opens and queries the
 * remaining components. An invalid selection is an error diagnostic. */
int mrail_frameworks_select(mrail_frameworks_t *fws);
void mrail_frameworks_close(mrail_frameworks_t *fws);

size_t mrail_frameworks_count(const mrail_frameworks_t *fws);
mrail_framework_t *mrail_frameworks_at(mrail_frameworks_t *fws, size_t i);
mrail_framework_t *mrail_frameworks_find(mrail_frameworks_t *fws, const char *name);

const char *mrail_component_state_name(mrail_component_state_t state);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
