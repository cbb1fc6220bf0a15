/* pml/stripe: matching, eager/rendezvous and the multi-rail scheduler
 * (the PML issue fills in the protocols; selection works today). */
#include "mrail/pml.h"

static int pml_stripe_query(mrail_pml_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

mrail_pml_component_t mrail_pml_stripe_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "pml",
            .name = "stripe",
            .version = MRAIL_VERSION_STRING,
            .description = "MPI matching with messages striped over every rail",
        },
    .default_priority = 20,
    .query = pml_stripe_query,
};
