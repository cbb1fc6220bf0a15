/* The btl framework: parameters every btl has, their constraints, and
 * keeping the modules each component's query returns. */
#include <dlfcn.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/btl.h"

static mrail_btl_component_t *btl_of(mrail_component_t *c)
{
    return (mrail_btl_component_t *)c; /* base is the first member */
}

static int btl_base_register_common(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca)
{
    (void)fw;
    mrail_btl_component_t *btl = btl_of(c);
    const mrail_btl_config_t *d = &btl->defaults;
    char excl[32], eager[32], maxsend[32], bw[32], lat[32], minrdma[32], rdmafrag[32];
    snprintf(excl, sizeof(excl), "%u", d->exclusivity);
    snprintf(eager, sizeof(eager), "%zu", d->eager_limit);
    snprintf(maxsend, sizeof(maxsend), "%zu", d->max_send_size);
    snprintf(bw, sizeof(bw), "%u", d->bandwidth);
    snprintf(lat, sizeof(lat), "%u", d->latency);
    snprintf(minrdma, sizeof(minrdma), "%zu", d->min_rdma_pipeline_size);
    snprintf(rdmafrag, sizeof(rdmafrag), "%zu", d->rdma_pipeline_frag_size);
    char maxsend_help[256];
    snprintf(maxsend_help, sizeof(maxsend_help), "Largest fragment this btl sends in one piece%s%s",
             btl->max_send_note != NULL ? "; " : "",
             btl->max_send_note != NULL ? btl->max_send_note : "");
    const mrail_mca_param_def_t defs[] = {
        {"exclusivity", MRAIL_MCA_UNSIGNED, excl, 7,
         "Peers reachable through a btl of higher exclusivity do not use this one", NULL,
         offsetof(mrail_btl_config_t, exclusivity)},
        {"eager_limit", MRAIL_MCA_SIZE, eager, 4,
         "Largest message (header included) sent without a rendezvous handshake; "
         "must not exceed max_send_size",
         NULL, offsetof(mrail_btl_config_t, eager_limit)},
        {"max_send_size", MRAIL_MCA_SIZE, maxsend, 4, maxsend_help, NULL,
         offsetof(mrail_btl_config_t, max_send_size)},
        {"bandwidth", MRAIL_MCA_UNSIGNED, bw, 5,
         "Bandwidth of each module in MB/s, used to weigh rails; 0 takes it from the device", NULL,
         offsetof(mrail_btl_config_t, bandwidth)},
        {"latency", MRAIL_MCA_UNSIGNED, lat, 5, "Latency of each module in microseconds", NULL,
         offsetof(mrail_btl_config_t, latency)},
        {"min_rdma_pipeline_size", MRAIL_MCA_SIZE, minrdma, 5,
         "Messages of at least this size move with put/get (where the module offers them) "
         "instead of send fragments; 0 never uses put/get",
         NULL, offsetof(mrail_btl_config_t, min_rdma_pipeline_size)},
        {"rdma_pipeline_frag_size", MRAIL_MCA_SIZE, rdmafrag, 5,
         "Largest single put/get the PML issues; larger transfers are pipelined in pieces of "
         "this size so that rails finish together and a failed rail loses little",
         NULL, offsetof(mrail_btl_config_t, rdma_pipeline_frag_size)},
    };
    return mrail_mca_register(mca, "btl", c->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl->config);
}

static int btl_base_check_common(mrail_framework_t *fw, mrail_component_t *c,
                                 const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)fw;
    const mrail_btl_config_t *cfg = &btl_of(c)->config;
    if (cfg->rdma_pipeline_frag_size == 0) {
        char n1[64], d1[512];
        snprintf(n1, sizeof(n1), "btl_%s_rdma_pipeline_frag_size", c->name);
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "%s must be above 0: %s", n1,
                                mrail_mca_describe(mca, n1, d1, sizeof(d1)));
    }
    if (cfg->max_send_size > MRAIL_BTL_SEND_SIZE_LIMIT) {
        char n1[64], d1[512];
        snprintf(n1, sizeof(n1), "btl_%s_max_send_size", c->name);
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "%s must not exceed 64m: %s", n1,
                                mrail_mca_describe(mca, n1, d1, sizeof(d1)));
    }
    if (cfg->eager_limit > cfg->max_send_size) {
        char n1[64], n2[64], d1[512], d2[512];
        snprintf(n1, sizeof(n1), "btl_%s_eager_limit", c->name);
        snprintf(n2, sizeof(n2), "btl_%s_max_send_size", c->name);
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "%s must not exceed %s: %s, %s", n1, n2,
                                mrail_mca_describe(mca, n1, d1, sizeof(d1)),
                                mrail_mca_describe(mca, n2, d2, sizeof(d2)));
    }
    return MRAIL_SUCCESS;
}

static int btl_base_query(mrail_framework_t *fw, mrail_component_entry_t *e, mrail_reason_t *why)
{
    mrail_btl_component_t *btl = btl_of(e->component);
    mrail_btl_module_t **modules = NULL;
    size_t count = 0;
    int rc = btl->query(btl, &modules, &count, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    if (count == 0) {
        free(modules);
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "no usable device found");
    }
    /* What the component did not say itself is the parameter or its default. */
    char name[96];
    snprintf(name, sizeof(name), "btl_%s_bandwidth", e->name);
    const mrail_mca_param_t *p = mrail_mca_find(fw->mca, name);
    bool set = p != NULL && p->source != MRAIL_MCA_SOURCE_DEFAULT;
    for (size_t i = 0; i < count; i++) {
        if (modules[i]->bandwidth_source == MRAIL_BTL_BW_UNSET) {
            modules[i]->bandwidth_source = set ? MRAIL_BTL_BW_PARAM : MRAIL_BTL_BW_DEFAULT;
        }
    }
    e->modules = (void **)modules;
    e->module_count = count;
    return MRAIL_SUCCESS;
}

const char *mrail_btl_bw_source_name(mrail_btl_bw_source_t source)
{
    switch (source) {
    case MRAIL_BTL_BW_PARAM: return "parameter";
    case MRAIL_BTL_BW_DEVICE: return "device";
    case MRAIL_BTL_BW_GUESS: return "guess";
    default: return "default";
    }
}

static void btl_base_release(mrail_framework_t *fw, mrail_component_entry_t *e)
{
    (void)fw;
    mrail_btl_modules_free((mrail_btl_module_t **)e->modules, e->module_count);
    e->modules = NULL;
    e->module_count = 0;
}

static void btl_module_free(mrail_btl_module_t *self)
{
    free(self);
}

mrail_btl_module_t *mrail_btl_module_alloc(mrail_btl_component_t *component, const char *device,
                                           size_t size)
{
    mrail_btl_module_t *m = calloc(1, size < sizeof(*m) ? sizeof(*m) : size);
    if (m == NULL) {
        return NULL;
    }
    m->component = component;
    snprintf(m->device, sizeof(m->device), "%s", device);
    snprintf(m->name, sizeof(m->name), "%s:%s", component->base.name, device);
    m->config = component->config;
    m->finalize = btl_module_free;
    return m;
}

int mrail_btl_modules_push(mrail_btl_module_t *module, mrail_btl_module_t ***list, size_t *count,
                           mrail_reason_t *why)
{
    mrail_btl_module_t **grown = module ? realloc(*list, (*count + 1) * sizeof(*grown)) : NULL;
    if (grown == NULL) {
        if (module != NULL) {
            module->finalize(module);
        }
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    *list = grown;
    grown[(*count)++] = module;
    return MRAIL_SUCCESS;
}

int mrail_btl_modules_append(mrail_btl_component_t *component, const char *device,
                             mrail_btl_module_t ***list, size_t *count, mrail_reason_t *why)
{
    return mrail_btl_modules_push(mrail_btl_module_new(component, device), list, count, why);
}

void mrail_btl_modules_free(mrail_btl_module_t **list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        list[i]->finalize(list[i]);
    }
    free(list);
}

int mrail_btl_core_query(mrail_btl_component_t *self, const char *entry, const void *config,
                         mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why)
{
    void *handle;
    mrail_btl_core_query_fn query;
    *(void **)&query = mrail_mca_core_load(self, entry, &handle, why);
    if (query == NULL) {
        return MRAIL_ERR_DECLINED;
    }
    int rc = query(config, self, modules, count, why);
    if (rc != MRAIL_SUCCESS) {
        dlclose(handle);
    }
    return rc;
}

const mrail_framework_ops_t mrail_btl_framework_ops = {
    .name = "btl",
    .description = "byte-transfer layer: every component that finds devices is kept",
    .policy = MRAIL_SELECT_MANY,
    .register_common = btl_base_register_common,
    .check_common = btl_base_check_common,
    .query = btl_base_query,
    .release = btl_base_release,
};
