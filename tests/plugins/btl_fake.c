/* A working btl plugin: one module per name in btl_fake_devices. */
#include <stddef.h>

#include "mrail/btl.h"

typedef struct fake_config {
    mrail_mca_list_t devices;
} fake_config_t;

static fake_config_t fake_config;

static int fake_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"devices", MRAIL_MCA_LIST, "d0,d1", 1, "Devices the fake btl pretends to have", NULL,
         offsetof(fake_config_t, devices)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, 1, &fake_config);
}

static int fake_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                      mrail_reason_t *why)
{
    *modules = NULL;
    *count = 0;
    if (fake_config.devices.count == 0) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "btl_fake_devices is empty");
    }
    for (size_t i = 0; i < fake_config.devices.count; i++) {
        int rc = mrail_btl_modules_append(self, fake_config.devices.items[i], modules, count, why);
        if (rc != MRAIL_SUCCESS) {
            mrail_btl_modules_free(*modules, *count);
            return rc;
        }
    }
    return MRAIL_SUCCESS;
}

mrail_btl_component_t mrail_btl_fake_component = {
    .base = {.abi_version = MRAIL_COMPONENT_ABI_VERSION,
             .framework = "btl",
             .name = "fake",
             .version = "0.0.1",
             .description = "test btl",
             .register_params = fake_register},
    .defaults = {.exclusivity = 10,
                 .eager_limit = 1024,
                 .max_send_size = 4096,
                 .bandwidth = 100,
                 .latency = 10,
                 .min_rdma_pipeline_size = 0,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = fake_query,
};
