/* A well-formed plugin whose shared-library dependency cannot be found. */
#include "mrail/btl.h"

int mrail_testdep_answer(void);

static int needsdep_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                          mrail_reason_t *why)
{
    (void)self;
    (void)modules;
    (void)count;
    return mrail_reason_set(why, MRAIL_ERR_DECLINED, "answer %d", mrail_testdep_answer());
}

mrail_btl_component_t mrail_btl_needsdep_component = {
    .base = {.abi_version = MRAIL_COMPONENT_ABI_VERSION,
             .framework = "btl",
             .name = "needsdep",
             .version = "0.0.1",
             .description = "test"},
    .defaults = {.eager_limit = 1024, .max_send_size = 4096, .rdma_pipeline_frag_size = 1 << 20},
    .query = needsdep_query,
};
