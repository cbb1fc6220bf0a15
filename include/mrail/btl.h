/* mrail byte-transfer layer: the contract every transport implements.
 *
 * This header holds the component side (probe the machine, one module per
 * device). The data path (send, put/get, progress, active-message dispatch)
 * is added by the BTL issue. */
#ifndef MRAIL_BTL_H
#define MRAIL_BTL_H

#include <stdint.h>

#include "mrail/component.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_btl_module mrail_btl_module_t;
typedef struct mrail_btl_component mrail_btl_component_t;

/* Parameters every btl has, registered by btl/base as btl_<comp>_<field>. */
typedef struct mrail_btl_config {
    unsigned exclusivity; /* a higher value hides lower ones for the same peer */
    size_t eager_limit;   /* largest message sent without a handshake */
    size_t max_send_size; /* largest single fragment */
    unsigned bandwidth;   /* MB/s; 0 = from the device */
    unsigned latency;     /* microseconds */
} mrail_btl_config_t;

struct mrail_btl_component {
    mrail_component_t base;
    mrail_btl_config_t defaults; /* the component's defaults for the common parameters */
    mrail_btl_config_t config;   /* their values once every source is read */
    /* Probes the machine and returns one module per usable device in a
     * malloc()ed array; MRAIL_ERR_DECLINED with why when there is none. */
    int (*query)(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                 mrail_reason_t *why);
};

struct mrail_btl_module {
    mrail_btl_component_t *component;
    char name[64];             /* "<component>:<device>", e.g. "tcp:eth0" */
    char device[64];           /* interface, HCA port, segment, provider domain */
    mrail_btl_config_t config; /* component values, bandwidth resolved per device */
    /* Releases the module and everything it owns. */
    void (*finalize)(mrail_btl_module_t *self);
};

/* Framework descriptor used by mca/base. */
extern const mrail_framework_ops_t mrail_btl_framework_ops;

/* Allocates a module with name "<comp>:<device>" and the component's config;
 * finalize frees it. Returns NULL when out of memory. */
mrail_btl_module_t *mrail_btl_module_new(mrail_btl_component_t *component, const char *device);

/* Appends a new module for device to the malloc()ed array *list of *count
 * modules, for queries that find devices one by one. */
int mrail_btl_modules_append(mrail_btl_component_t *component, const char *device,
                             mrail_btl_module_t ***list, size_t *count, mrail_reason_t *why);
/* Finalizes every module of the array and frees it. */
void mrail_btl_modules_free(mrail_btl_module_t **list, size_t count);

#ifdef __cplusplus
}
#endif

#endif
