/* btl/sm: peers on the same node through a shared-memory segment.
 * One module per segment; the segment lives in /dev/shm. */
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mrail/btl.h"

#define BTL_SM_DIR "/dev/shm"

static int btl_sm_open(mrail_component_t *self, mrail_reason_t *why)
{
    (void)self;
    struct statvfs st;
    if (statvfs(BTL_SM_DIR, &st) != 0 || access(BTL_SM_DIR, W_OK) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s is not a writable directory",
                                BTL_SM_DIR);
    }
    if ((unsigned long long)st.f_bavail * st.f_frsize < 4ull << 20) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED, "%s has less than 4 MiB free (%llu bytes)",
                                BTL_SM_DIR, (unsigned long long)st.f_bavail * st.f_frsize);
    }
    return MRAIL_SUCCESS;
}

static int btl_sm_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                        mrail_reason_t *why)
{
    *modules = NULL;
    *count = 0;
    return mrail_btl_modules_append(self, BTL_SM_DIR, modules, count, why);
}

mrail_btl_component_t mrail_btl_sm_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "sm",
            .version = MRAIL_VERSION_STRING,
            .description = "shared memory between processes of one node",
            .open = btl_sm_open,
        },
    /* Above every network btl, so that local peers never go through tcp. */
    .defaults = {.exclusivity = 65280,
                 .eager_limit = 4 * 1024,
                 .max_send_size = 32 * 1024,
                 .bandwidth = 20000,
                 .latency = 1},
    .query = btl_sm_query,
};
