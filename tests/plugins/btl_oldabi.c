/* A plugin built against another component ABI. */
#include "mrail/btl.h"

mrail_btl_component_t mrail_btl_oldabi_component = {
    .base = {.abi_version = 999,
             .framework = "btl",
             .name = "oldabi",
             .version = "0.0.1",
             .description = "test"},
};
