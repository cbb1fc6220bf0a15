/* btl/verbs' parameter values: in the plugin, which registers them, and in
 * its core, which gets a copy (see btl_verbs_core_query). */
#include "btl_verbs.h"

btl_verbs_config_t btl_verbs_config;
