/* btl/uct's parameter values: in the plugin, which registers them, and in
 * its core, which gets a copy (see btl_uct_core_query). */
#include "btl_uct.h"

btl_uct_config_t btl_uct_config;
