/* pml/stripe: matching, eager/rendezvous, and the multi-rail scheduler.
 * The component registers the scheduler's parameters; pml_stripe_open()
 * (pml_stripe_pml.c) builds the instance. */
#include <stddef.h>

#include "pml_stripe.h"

typedef struct pml_stripe_config {
    bool use_measured;
    unsigned min_samples;
    size_t min_stripe_size;
    size_t align;
    unsigned send_window;
    unsigned stall_timeout;
    unsigned silent_peer;
    size_t bidir_rget_size;
    bool rget_adapt;
    bool steal;
    bool report;
    bool sleep;
    unsigned sleep_after;
} pml_stripe_config_t;

static pml_stripe_config_t pml_stripe_config;

static int pml_stripe_register(mrail_component_t *self, mrail_mca_t *mca)
{
    static const mrail_mca_param_def_t defs[] = {
        {"use_measured_bandwidth", MRAIL_MCA_BOOL, "true", 4,
         "Weigh a peer's rails by the rate at which each delivered striped messages (measured "
         "by the receiver, sent back with each CTS) once every rail has pml_stripe_min_samples "
         "of them; false: always by the bandwidth the devices claim",
         NULL, offsetof(pml_stripe_config_t, use_measured)},
        {"min_samples", MRAIL_MCA_UNSIGNED, "4", 5,
         "Striped messages a rail must have delivered before its measured rate is trusted", NULL,
         offsetof(pml_stripe_config_t, min_samples)},
        {"min_stripe_size", MRAIL_MCA_SIZE, "64k", 4,
         "Messages below this size go whole over one rail (the one that finishes them "
         "first); larger ones are striped over every rail",
         NULL, offsetof(pml_stripe_config_t, min_stripe_size)},
        {"stripe_align", MRAIL_MCA_SIZE, "4k", 6,
         "Rails' shares of a striped message start at multiples of this (a power of two)", NULL,
         offsetof(pml_stripe_config_t, align)},
        {"send_window", MRAIL_MCA_UNSIGNED, "4", 5,
         "Fragments of striped messages a rail to one peer may have in its btl at once (the "
         "rest wait in the PML), so that eager and control messages to that peer wait behind "
         "at most this many; 0: no bound",
         NULL, offsetof(pml_stripe_config_t, send_window)},
        {"stall_timeout", MRAIL_MCA_UNSIGNED, "500", 5,
         "Milliseconds a rail to a peer may leave sent bytes unacknowledged, while another "
         "rail to that peer is acknowledged, before the PML declares it failed (ahead of "
         "btl_tcp_user_timeout); 0: only the btl decides",
         NULL, offsetof(pml_stripe_config_t, stall_timeout)},
        {"silent_peer", MRAIL_MCA_UNSIGNED, "1000", 5,
         "Milliseconds a receive may wait on a peer before the PML connects every rail to that "
         "peer that has none, so that a peer which died before it ever connected is found "
         "(its host refuses) and the receive fails instead of waiting for ever; 0: never",
         NULL, offsetof(pml_stripe_config_t, silent_peer)},
        {"bidir_rget_size", MRAIL_MCA_SIZE, "128k", 5,
         "While a peer streams to us too (a rendezvous from it in the last 50 ms), "
         "messages to it from this size on take rdma get where its btl shares the copy with "
         "the receiver (sm with CMA), even below btl_<c>_min_rdma_pipeline_size: each side "
         "then copies only what it receives, once, where the send path costs each core two "
         "copies per byte; one way the send path stays. 0: never",
         NULL, offsetof(pml_stripe_config_t, bidir_rget_size)},
        {"rget_adapt", MRAIL_MCA_BOOL, "true", 5,
         "Over a btl that shares the copy (sm with CMA), for messages from 64 KiB, choose "
         "between rdma get (one copy, in the kernel) and the send path (two copies, through the "
         "btl's rings) per peer and size class by measuring both, and keep the faster, trying "
         "the other now and then: the rings win while the two cores exchange cache lines "
         "quickly and lose by 2-3x when they do not, and a virtual machine may change between "
         "the two within seconds. One way below btl_<c>_min_rdma_pipeline_size get is tried "
         "only while the rings run below 5 GB/s; both ways the lower rank of a pair chooses "
         "for both. false: the thresholds alone "
         "(btl_<c>_min_rdma_pipeline_size, pml_stripe_bidir_rget_size)",
         NULL, offsetof(pml_stripe_config_t, rget_adapt)},
        {"steal", MRAIL_MCA_BOOL, "true", 5,
         "A rail to a peer whose queue ran dry takes the last waiting fragments of the rail "
         "that would finish last, when it finishes them sooner: rails end a burst together "
         "even when their weights are off (loss, noise, a rail shared with other traffic); "
         "false: every fragment goes where the scheduler planned it",
         NULL, offsetof(pml_stripe_config_t, steal)},
        {"report", MRAIL_MCA_BOOL, "false", 4,
         "At finalize, each rank writes to stderr, per peer and rail that carried striped "
         "fragments: the bytes and fragments sent, the rate the scheduler last weighed the "
         "rail by, and how often it failed and came back; on a node with more ranks than CPUs, "
         "also how often it slept while it waited (pml_stripe_sleep)",
         NULL, offsetof(pml_stripe_config_t, report)},
        {"sleep", MRAIL_MCA_BOOL, "true", 5,
         "On a node with more ranks than CPUs, a rank that waits (a receive, a collective) "
         "sleeps until a rank on the node delivers to it, instead of yielding the CPU over and "
         "over: beside a process that never yields, each yield hands it the CPU for the rest "
         "of a time slice, and a woken sleeper runs first. Only while every peer is reached "
         "through modules that wake it (sm, self); false: always yield",
         NULL, offsetof(pml_stripe_config_t, sleep)},
        {"sleep_after", MRAIL_MCA_UNSIGNED, "16", 6,
         "With pml_stripe_sleep, the yields a waiting rank makes before it sleeps", NULL,
         offsetof(pml_stripe_config_t, sleep_after)},
    };
    return mrail_mca_register(mca, "pml", self->name, defs, sizeof(defs) / sizeof(defs[0]),
                              &pml_stripe_config);
}

static int pml_stripe_check(mrail_component_t *self, const mrail_mca_t *mca, mrail_reason_t *why)
{
    (void)self;
    size_t a = pml_stripe_config.align;
    if (a == 0 || (a & (a - 1)) != 0) {
        char d[512];
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "pml_stripe_stripe_align must be a power of two: %s",
                                mrail_mca_describe(mca, "pml_stripe_stripe_align", d, sizeof(d)));
    }
    return MRAIL_SUCCESS;
}

unsigned pml_stripe_send_window(void)
{
    return pml_stripe_config.send_window;
}

bool pml_stripe_steal(void)
{
    return pml_stripe_config.steal;
}

bool pml_stripe_report(void)
{
    return pml_stripe_config.report;
}

bool pml_stripe_sleep(unsigned *after)
{
    *after = pml_stripe_config.sleep_after;
    return pml_stripe_config.sleep;
}

unsigned pml_stripe_silent_peer(void)
{
    return pml_stripe_config.silent_peer;
}

size_t pml_stripe_bidir_rget_size(void)
{
    return pml_stripe_config.bidir_rget_size;
}

bool pml_stripe_rget_adapt(void)
{
    return pml_stripe_config.rget_adapt;
}

unsigned pml_stripe_stall_timeout(void)
{
    return pml_stripe_config.stall_timeout;
}

sched_opts_t pml_stripe_sched_opts(void)
{
    return (sched_opts_t){.use_measured = pml_stripe_config.use_measured,
                          .min_samples = pml_stripe_config.min_samples,
                          .min_stripe_size = pml_stripe_config.min_stripe_size,
                          .align = pml_stripe_config.align};
}

static int pml_stripe_query(mrail_ranked_component_t *self, int *priority, mrail_reason_t *why)
{
    (void)why;
    *priority = self->priority;
    return MRAIL_SUCCESS;
}

mrail_pml_component_t mrail_pml_stripe_component = {
    .ranked =
        {
            .base =
                {
                    .abi_version = MRAIL_COMPONENT_ABI_VERSION,
                    .framework = "pml",
                    .name = "stripe",
                    .version = MRAIL_VERSION_STRING,
                    .description = "MPI matching with messages striped over every rail",
                    .register_params = pml_stripe_register,
                    .check_params = pml_stripe_check,
                },
            .default_priority = 20,
            .query = pml_stripe_query,
        },
    .open = pml_stripe_open,
};
