/* btl/ofi: libfabric providers, one module per (provider, domain).
 *
 * Providers that only re-drive what btl/sm and btl/tcp already drive are
 * excluded by default: counting one NIC twice would give the scheduler a
 * rail that does not exist. Asked for by name (btl_ofi_provider_include),
 * they give a working transport: that is how this component is tested. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_ofi.h"
#include "mrail/rails_devices.h"

static int btl_ofi_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"provider_include", MRAIL_MCA_LIST, "", 1,
         "libfabric providers to use (e.g. verbs,efa,psm3), comma-separated; empty uses every "
         "provider not excluded. Cannot be combined with btl_ofi_provider_exclude",
         NULL, offsetof(btl_ofi_config_t, provider_include)},
        {"provider_exclude", MRAIL_MCA_LIST, "shm,sockets,tcp,udp,net", 1,
         "libfabric providers never used; the default leaves out the ones btl/sm and btl/tcp "
         "already cover. Ignored when btl_ofi_provider_include is set",
         NULL, offsetof(btl_ofi_config_t, provider_exclude)},
        {"domain_include", MRAIL_MCA_LIST, "", 2,
         "libfabric domains (NICs; interface names for the tcp provider) to use, "
         "comma-separated; empty uses every domain not excluded. Cannot be combined with "
         "btl_ofi_domain_exclude",
         NULL, offsetof(btl_ofi_config_t, domain_include)},
        {"domain_exclude", MRAIL_MCA_LIST, "lo", 2,
         "libfabric domains never used (the default leaves out the loopback interface, "
         "which reaches no other host). Ignored when btl_ofi_domain_include is set",
         NULL, offsetof(btl_ofi_config_t, domain_exclude)},
        {"recv_buffers", MRAIL_MCA_UNSIGNED, "64", 3,
         "Receive buffers each module keeps posted (each btl_ofi_max_send_size bytes); "
         "1 to 4096",
         NULL, offsetof(btl_ofi_config_t, recv_buffers)},
        {"multi_recv", MRAIL_MCA_BOOL, "true", 4,
         "Receive into 4 large buffers that take many messages each (FI_MULTI_RECV) where the "
         "provider offers it and btl_ofi_recv_buffers is at least 16; false posts one buffer "
         "per message",
         NULL, offsetof(btl_ofi_config_t, multi_recv)},
        {"register_local", MRAIL_MCA_BOOL, "false", 9,
         "Register message buffers and hand their descriptors to providers that do not ask for "
         "them (FI_MR_LOCAL, which efa and verbs;ofi_rxm ask for, is always honoured): tests "
         "that path on any provider",
         NULL, offsetof(btl_ofi_config_t, register_local)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_ofi_config);
}

static int btl_ofi_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    int rc =
        mrail_mca_check_not_both(mca, "btl_ofi_provider_include", "btl_ofi_provider_exclude", why);
    if (rc == MRAIL_SUCCESS) {
        rc = mrail_mca_check_not_both(mca, "btl_ofi_domain_include", "btl_ofi_domain_exclude", why);
    }
    if (rc == MRAIL_SUCCESS &&
        (btl_ofi_config.recv_buffers < 1 || btl_ofi_config.recv_buffers > 4096)) {
        rc = mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                              "btl_ofi_recv_buffers is %u; valid values are 1 to 4096",
                              btl_ofi_config.recv_buffers);
    }
    return rc;
}

static int btl_ofi_query(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                         mrail_reason_t *why)
{
    /* Loading libfabric costs ~0.2 s of every process (Debian's links PSM
     * and PSM2, whose constructors calibrate the clock with sleeps), its
     * providers ~0.15 s more: 64 ranks on a small node, seconds of
     * MPI_Init. When only the hardware
     * providers are eligible (the default) and no such device exists, the
     * answer is known without asking. */
    if (btl_ofi_config.provider_include.count == 0 && !mrail_rdma_devices_present()) {
        return mrail_reason_set(
            why, MRAIL_ERR_DECLINED,
            "no RDMA-class device (/sys/class/infiniband, /dev/hfi1_*, "
            "/dev/cxi*) for the providers btl_ofi_provider_exclude leaves; "
            "libfabric's providers were not started (btl_ofi_provider_include=tcp "
            "probes a software provider)");
    }
#ifdef MRAIL_CORE_SPLIT
    return mrail_btl_core_query(self, "btl_ofi_core_query", &btl_ofi_config, modules, count, why);
#else
    return btl_ofi_core_query(&btl_ofi_config, self, modules, count, why);
#endif
}

mrail_btl_component_t mrail_btl_ofi_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "ofi",
            .version = MRAIL_VERSION_STRING,
            .description = "libfabric providers (verbs, efa, psm3, ...)",
            .register_params = btl_ofi_register,
            .check_params = btl_ofi_check,
        },
    .defaults = {.exclusivity = 200,
                 .eager_limit = 8 * 1024,
                 .max_send_size = 64 * 1024,
                 .bandwidth = 0,
                 .latency = 5,
                 .min_rdma_pipeline_size = 64 * 1024,
                 .rdma_pipeline_frag_size = 1 << 20},
    .query = btl_ofi_query,
};
