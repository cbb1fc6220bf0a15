/* btl/self: messages a process sends to itself. One module, always. */

#include "btl_self.h"

static int btl_self_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                          mrail_reason_t *why)
{
    *modules = NULL;
    *count = 0;
    btl_self_module_t *m =
        (btl_self_module_t *)mrail_btl_module_alloc(self, "self", sizeof(btl_self_module_t));
    if (m != NULL) {
        btl_self_module_init(m);
    }
    return mrail_btl_modules_push(m ? &m->base : NULL, modules, count, why);
}

mrail_btl_component_t mrail_btl_self_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "self",
            .version = MRAIL_VERSION_STRING,
            .description = "send to oneself",
        },
    /* Highest exclusivity: a process never reaches itself over a network. */
    .defaults = {.exclusivity = 65536,
                 .eager_limit = 128 * 1024,
                 .max_send_size = 128 * 1024,
                 .bandwidth = 100000,
                 .latency = 0,
                 .min_rdma_pipeline_size = 0,
                 .rdma_pipeline_frag_size = 1ull << 30},
    .query = btl_self_query,
};
