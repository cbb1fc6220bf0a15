/* A second pml with a higher default priority than pml/stripe. */
#include "mrail/pml.h"

static int testhi_query(mrail_pml_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

mrail_pml_component_t mrail_pml_testhi_component = {
    .base = {.abi_version = MRAIL_COMPONENT_ABI_VERSION,
             .framework = "pml",
             .name = "testhi",
             .version = "0.0.1",
             .description = "test pml"},
    .default_priority = 50,
    .query = testhi_query,
};
