/* btl/sm: peers on the same node through a shared-memory segment.
 * One module per segment (each rank receives in its own). */
#include <stddef.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "btl_sm.h"

#define BTL_SM_DIR "/dev/shm"

static btl_sm_config_t btl_sm_config;
static const char *const copy_names[] = {"auto", "cma", "none", NULL};

static int btl_sm_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"ring_size", MRAIL_MCA_SIZE, "0", 5,
         "Bytes of each per-peer ring (a power of two, at least twice btl_sm_max_send_size); "
         "each rank's segment holds one ring per local rank. 0: by the number of ranks on the "
         "node, 2m for two, 512k from three up to 11, halving beyond so that the node's rings "
         "stay within 64m (64k at least). btl_sm_max_send_size, unless set, is a quarter of "
         "the ring (either way) up to 128k",
         NULL, offsetof(btl_sm_config_t, ring_size)},
        {"single_copy_mechanism", MRAIL_MCA_ENUM, "auto", 3,
         "How put/get move large data: cma (Cross Memory Attach, single copy; an error if the "
         "kernel refuses it), none (pipelined copy-in/copy-out through the rings), or auto (cma "
         "when the kernel allows it, else none, and say so)",
         copy_names, offsetof(btl_sm_config_t, single_copy)},
    };
    return mrail_mca_register(mca, "btl", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &btl_sm_config);
}

static int btl_sm_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    const mrail_btl_component_t *btl = (const mrail_btl_component_t *)self;
    size_t ring = btl_sm_config.ring_size;
    char d1[512], d2[512];
    if (ring != 0 && (ring < 4096 || (ring & (ring - 1)) != 0)) {
        return mrail_reason_set(
            why, MRAIL_ERR_BAD_PARAM,
            "btl_sm_ring_size must be 0 (sized by the ranks on the node) or a power of two of at "
            "least 4k: %s",
            mrail_mca_describe(mca, "btl_sm_ring_size", d1, sizeof(d1)));
    }
    const mrail_mca_param_t *mss = mrail_mca_find(mca, "btl_sm_max_send_size");
    btl_sm_config.max_send_given = mss != NULL && mss->source != MRAIL_MCA_SOURCE_DEFAULT;
    const mrail_mca_param_t *mrp = mrail_mca_find(mca, "btl_sm_min_rdma_pipeline_size");
    btl_sm_config.min_rdma_given = mrp != NULL && mrp->source != MRAIL_MCA_SOURCE_DEFAULT;
    /* An automatic ring grows to hold the fragments asked for (wire-up);
     * fragments not asked for are a quarter of the ring, which fits. */
    if (ring != 0 && btl_sm_config.max_send_given &&
        btl->config.max_send_size + sizeof(btl_sm_rdma_hdr_t) > btl_sm_ring_max_record(ring)) {
        return mrail_reason_set(
            why, MRAIL_ERR_BAD_PARAM,
            "btl_sm_max_send_size must stay below half of btl_sm_ring_size (less %zu bytes of "
            "headers): %s, %s",
            sizeof(btl_sm_rdma_hdr_t) + 2 * sizeof(btl_sm_rec_t),
            mrail_mca_describe(mca, "btl_sm_max_send_size", d1, sizeof(d1)),
            mrail_mca_describe(mca, "btl_sm_ring_size", d2, sizeof(d2)));
    }
    return MRAIL_SUCCESS;
}

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
    btl_sm_module_t *m =
        (btl_sm_module_t *)mrail_btl_module_alloc(self, BTL_SM_DIR, sizeof(btl_sm_module_t));
    if (m != NULL) {
        btl_sm_module_init(m, &btl_sm_config);
    }
    return mrail_btl_modules_push(m ? &m->base : NULL, modules, count, why);
}

mrail_btl_component_t mrail_btl_sm_component = {
    .base =
        {
            .abi_version = MRAIL_COMPONENT_ABI_VERSION,
            .framework = "btl",
            .name = "sm",
            .version = MRAIL_VERSION_STRING,
            .description = "shared memory between processes of one node",
            .register_params = btl_sm_register,
            .check_params = btl_sm_check,
            .open = btl_sm_open,
        },
    /* Above every network btl, so that local peers never go through tcp. */
    .defaults = {.exclusivity = 65280,
                 .eager_limit = 4 * 1024,
                 /* unless set, a quarter of the ring instead (btl_sm_module.c) */
                 .max_send_size = 32 * 1024,
                 .bandwidth = 20000,
                 .latency = 1,
                 /* From 512 KiB on, the PML's rdma get: CMA, with the copy
                  * shared by both ranks in 256 KiB chunks (btl_sm_share.c).
                  * Measured on two cores (docs/PERFORMANCE.md, issue 14):
                  * 37-43 GB/s one way and both ways at 512 KiB-4 MiB where
                  * the rings give 22-28; 64 KiB chunks gave 19-23, 1 MiB ones
                  * 17-30. A 256 KiB message, one chunk, would be the
                  * receiver's copy alone: 14-21 GB/s one way against the
                  * rings' 22-25. Without CMA, the rings carry everything. */
                 .min_rdma_pipeline_size = 512 << 10,
                 .rdma_pipeline_frag_size = 256 << 10},
    .query = btl_sm_query,
    .max_send_note = "unless set, a quarter of btl_sm_ring_size (automatic or set) up to 128k, "
                     "not the default shown",
};
