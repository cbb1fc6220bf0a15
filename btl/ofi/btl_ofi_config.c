/* btl/ofi's parameter values: in the plugin, which registers them, and in
 * its core, which gets a copy (see btl_ofi_core_query). */
#include "btl_ofi.h"

btl_ofi_config_t btl_ofi_config;
