/* mrail byte-transfer layer: the contract every transport implements.
 *
 * A component probes the machine and returns one module per device. A
 * module moves bytes to peers: active messages (a header and a payload,
 * dispatched at the receiver by tag) and, where the transport can, one-sided
 * put/get. It never aborts: a failed peer or device is reported through the
 * owner's error callback so that the PML can fail over.
 *
 * Threading: a module is driven by one thread at a time (the PML's). */
#ifndef MRAIL_BTL_H
#define MRAIL_BTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mrail/component.h"
#include "mrail/rte.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_btl_module mrail_btl_module_t;
typedef struct mrail_btl_component mrail_btl_component_t;
typedef struct mrail_btl_endpoint mrail_btl_endpoint_t; /* one peer through one module */

/* Active-message tags; the upper layer owns 0 .. MRAIL_BTL_TAG_MAX. */
typedef uint8_t mrail_btl_tag_t;
#define MRAIL_BTL_TAG_MAX 63

/* No btl_<comp>_max_send_size may exceed this: a receiver sizes nothing
 * after a length from the wire beyond it (btl/tcp fails a connection whose
 * frame claims more). */
#define MRAIL_BTL_SEND_SIZE_LIMIT ((size_t)64 << 20)

/* Parameters every btl has, registered by btl/base as btl_<comp>_<field>. */
typedef struct mrail_btl_config {
    unsigned exclusivity;           /* a higher value hides lower ones for the same peer */
    size_t eager_limit;             /* largest message (header included) sent without a handshake */
    size_t max_send_size;           /* largest header + payload one send may carry */
    unsigned bandwidth;             /* MB/s; 0 = from the device */
    unsigned latency;               /* microseconds */
    size_t min_rdma_pipeline_size;  /* from this message size on, move data with put/get */
    size_t rdma_pipeline_frag_size; /* largest put/get the PML issues in one piece */
} mrail_btl_config_t;

/* Where a module's bandwidth (config.bandwidth) came from: it weighs the
 * rails until measured rates replace it, so admins need to see it. */
typedef enum mrail_btl_bw_source {
    MRAIL_BTL_BW_UNSET = 0, /* left to btl/base: the parameter or the default */
    MRAIL_BTL_BW_DEFAULT,   /* the component's default value */
    MRAIL_BTL_BW_PARAM,     /* an MCA parameter (btl_<comp>_bandwidth[_<device>]) */
    MRAIL_BTL_BW_DEVICE,    /* what the device reports (link speed, port or provider) */
    MRAIL_BTL_BW_GUESS,     /* nothing reported it: a fixed figure until rates are measured */
} mrail_btl_bw_source_t;

/* "default", "parameter", "device", "guess" (docs/mrail_info.md). */
const char *mrail_btl_bw_source_name(mrail_btl_bw_source_t source);

enum {
    MRAIL_BTL_FLAG_SEND = 1u << 0,  /* send() */
    MRAIL_BTL_FLAG_SENDI = 1u << 1, /* sendi() */
    MRAIL_BTL_FLAG_PUT = 1u << 2,   /* put() */
    MRAIL_BTL_FLAG_GET = 1u << 3,   /* get() */
    /* get() of memory registered by the peer shares the copy with it, in
     * chunks of rdma_pipeline_frag_size: give it whole messages. */
    MRAIL_BTL_FLAG_GET_SHARED = 1u << 4,
    /* Everything it delivers to a peer on this node rings the peer's bell
     * (mrail_rte_bell_ring): a peer reached only by such modules may sleep
     * while it waits, on a crowded node. */
    MRAIL_BTL_FLAG_WAKES = 1u << 5,
};

/* Receives one active message. segs[0] is the sender's header, the rest its
 * payload, valid only during the call (no copy was forced to make them).
 * It may send and call progress, but must not wait for the same peer: the
 * message it is handed still holds that peer's room until it returns. */
typedef void (*mrail_btl_recv_fn_t)(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep,
                                    uint32_t peer, mrail_btl_tag_t tag, const struct iovec *segs,
                                    int nsegs, void *ctx);
/* Where an arriving message's payload goes, chosen from its header before
 * the payload is read, so that a transport which reads payloads itself
 * (tcp) puts the bytes in place instead of into a buffer of its own. */
#define MRAIL_BTL_PLACE_IOV 8
typedef struct mrail_btl_place {
    struct iovec iov[MRAIL_BTL_PLACE_IOV]; /* exactly the payload's length in all */
    int niov;                              /* 0: no place, the transport buffers it */
    /* The place stays valid while *live == live_value; once it changes the
     * transport stops writing there and drops the message unseen. */
    const uint64_t *live;
    uint64_t live_value;
} mrail_btl_place_t;
/* Fills out (niov > 0) to place the payload of a message with this header,
 * or leaves niov 0. Called in the module's progress; the recv callback for
 * the same message follows with the payload segments as placed. */
typedef void (*mrail_btl_place_fn_t)(mrail_btl_module_t *module, uint32_t peer, mrail_btl_tag_t tag,
                                     const void *hdr, size_t hdr_len, size_t payload_len,
                                     mrail_btl_place_t *out, void *ctx);
/* A peer (peer set) or the whole device (peer == UINT32_MAX) failed;
 * status and what say why. Operations on it will not complete. */
typedef void (*mrail_btl_error_fn_t)(mrail_btl_module_t *module, uint32_t peer, int status,
                                     const char *what, void *ctx);
/* An accepted send, put or get finished (status MRAIL_SUCCESS) or failed. */
typedef void (*mrail_btl_done_fn_t)(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep,
                                    int status, void *cbdata);

/* What a module knows of the path to a peer, for the owner's failure
 * detection (the PML compares a peer's rails). */
typedef struct mrail_btl_health {
    bool outstanding;   /* bytes are waiting to be sent or acknowledged */
    unsigned silent_ms; /* since the peer last acknowledged anything */
    size_t backlog; /* bytes accepted and not yet acknowledged (queued, buffered, on the wire) */
} mrail_btl_health_t;

/* The upper layer's receive callbacks, one per tag, shared by all modules. */
typedef struct mrail_btl_am_table {
    struct {
        mrail_btl_recv_fn_t fn;
        mrail_btl_place_fn_t place; /* optional */
        void *ctx;
    } tag[MRAIL_BTL_TAG_MAX + 1];
    mrail_btl_error_fn_t on_error;
    void *error_ctx;
} mrail_btl_am_table_t;

/* Registers fn for tag; MRAIL_ERR_BAD_PARAM for a tag above MRAIL_BTL_TAG_MAX. */
int mrail_btl_am_register(mrail_btl_am_table_t *table, mrail_btl_tag_t tag, mrail_btl_recv_fn_t fn,
                          void *ctx);
/* Lets fn choose where payloads for tag go (see mrail_btl_place_fn_t);
 * the tag's ctx is passed to it. */
int mrail_btl_am_register_place(mrail_btl_am_table_t *table, mrail_btl_tag_t tag,
                                mrail_btl_place_fn_t fn);
/* Whether tag has a place callback: a transport that reads a header apart
 * from its payload only to ask pays for it on every other message. */
bool mrail_btl_am_may_place(const mrail_btl_module_t *module, mrail_btl_tag_t tag);
/* Asks the place callback of tag, if any, where a payload goes; false
 * (out->niov 0) when it stays with the transport. */
bool mrail_btl_am_place(mrail_btl_module_t *module, uint32_t peer, mrail_btl_tag_t tag,
                        const void *hdr, size_t hdr_len, size_t payload_len,
                        mrail_btl_place_t *out);
/* Runs the callback for tag (modules call this); a message for a tag nobody
 * registered is reported through on_error, never dropped silently. */
void mrail_btl_am_deliver(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, uint32_t peer,
                          mrail_btl_tag_t tag, const struct iovec *segs, int nsegs);
/* Reports a failure through the table's on_error. */
void mrail_btl_report_error(mrail_btl_module_t *module, uint32_t peer, int status, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

struct mrail_btl_component {
    mrail_component_t base;
    mrail_btl_config_t defaults; /* the component's defaults for the common parameters */
    mrail_btl_config_t config;   /* their values once every source is read */
    /* Probes the machine and returns one module per usable device in a
     * malloc()ed array; MRAIL_ERR_DECLINED with why when there is none. */
    int (*query)(mrail_btl_component_t *self, mrail_btl_module_t ***modules, size_t *count,
                 mrail_reason_t *why);
    /* NULL, or what btl_<comp>_max_send_size's help adds for a component
     * that sizes its fragments itself unless the parameter is set. */
    const char *max_send_note;
};

struct mrail_btl_module {
    mrail_btl_component_t *component;
    char name[64];                          /* "<component>:<device>", e.g. "tcp:eth0" */
    char device[64];                        /* interface, HCA port, segment, provider domain */
    mrail_btl_config_t config;              /* component values, bandwidth resolved per device */
    mrail_btl_bw_source_t bandwidth_source; /* where config.bandwidth came from */
    uint32_t flags;                         /* MRAIL_BTL_FLAG_* this module offers */
    size_t put_limit;                       /* largest single put/get; 0 when not offered */
    size_t reg_size;                        /* bytes of a packed memory handle; 0: none needed */
    char note[256];                         /* how it moves data once wired up, for people */
    uint64_t tx_bytes;                      /* bytes it has put on the wire (statistics) */
    mrail_btl_am_table_t *am;               /* set by the owner before wire_up */
    mrail_rte_t *rte;                       /* set by the owner before wire_up */

    /* Publishes what peers need to reach this module (modex_put; the owner
     * fences afterwards). NULL when there is nothing to publish. */
    int (*wire_up)(mrail_btl_module_t *self, mrail_reason_t *why);
    /* Creates endpoints for the given ranks after the fence: eps[i] is NULL
     * for a rank this module cannot reach. */
    int (*add_peers)(mrail_btl_module_t *self, const uint32_t *ranks, size_t n,
                     mrail_btl_endpoint_t **eps, mrail_reason_t *why);
    /* Drops endpoints; pending operations on them fail. */
    void (*del_peers)(mrail_btl_module_t *self, mrail_btl_endpoint_t **eps, size_t n);
    /* Drops the endpoint's connection if it has one (its pending operations
     * fail and the failure is reported) and lets the next send to it
     * rebuild the path, which fails, reported as before, if it is still
     * broken. NULL when the transport cannot. */
    void (*reset)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep);
    /* Fills what the transport knows of ep's path now; MRAIL_ERR_NOT_SUPPORTED
     * when it knows nothing (not connected). NULL when it never does. */
    int (*health)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, mrail_btl_health_t *out);
    /* Sends hdr + payload (hdr_len + payload bytes <= max_send_size) to the
     * peer's callback for tag. MRAIL_SUCCESS: done, the buffers may be
     * reused; MRAIL_INPROGRESS: done() runs once they may. */
    int (*send)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                const void *hdr, size_t hdr_len, const struct iovec *payload, int npayload,
                mrail_btl_done_fn_t done, void *cbdata);
    /* Sends a small message now or not at all (MRAIL_ERR_AGAIN). NULL when
     * the transport cannot say a message is on its way at once (ofi: a
     * provider with manual progress may only have buffered it). */
    int (*sendi)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, mrail_btl_tag_t tag,
                 const void *hdr, size_t hdr_len, const void *payload, size_t len);
    /* Registers memory for put/get; fills reg_size bytes at handle. NULL
     * when the module needs no registration (reg_size 0). */
    int (*mem_register)(mrail_btl_module_t *self, void *base, size_t len, void *handle);
    void (*mem_deregister)(mrail_btl_module_t *self, void *handle);
    /* Copies len bytes from local to the peer's remote_addr (put) or from
     * the peer's remote_addr to local (get). Same completion rules as send. */
    int (*put)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, const void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata);
    int (*get)(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata);
    /* Delivers what arrived and finishes what it can; returns how many
     * events it handled. */
    int (*progress)(mrail_btl_module_t *self);
    /* Releases the module and everything it owns. */
    void (*finalize)(mrail_btl_module_t *self);
};

/* Wire-up for components whose modules publish together (ofi, uct):
 * every module of a process adds a fixed-size entry to one modex blob
 * under key, so that a peer without a module on some network simply has no
 * entry for it. Call from wire_up. */
int mrail_btl_modex_add(mrail_btl_module_t *module, const char *key, const void *entry,
                        size_t entry_size, mrail_reason_t *why);
/* Offers rank's entries (unaligned: copy before reading) one by one until
 * the component sets *ep; an error stops the pairing. */
typedef int (*mrail_btl_modex_pair_fn_t)(mrail_btl_module_t *module, uint32_t rank,
                                         const void *entry, mrail_btl_endpoint_t **ep,
                                         mrail_reason_t *why);
/* The entries of a blob in mrail_btl_modex_add's format (unaligned), with
 * *count of them; NULL (and 0) when blob is not one, or its entries are not
 * entry_size bytes, or it claims more than len holds. */
const void *mrail_btl_modex_entries(const void *blob, size_t len, size_t entry_size,
                                    uint32_t *count);
/* For add_peers: eps[i] is what pair made of ranks[i]'s entries under key,
 * NULL when it accepted none or the rank published none. */
int mrail_btl_modex_pair(mrail_btl_module_t *module, const char *key, size_t entry_size,
                         const uint32_t *ranks, size_t n, mrail_btl_endpoint_t **eps,
                         mrail_btl_modex_pair_fn_t pair, mrail_reason_t *why);

/* Framework descriptor used by mca/base. */
extern const mrail_framework_ops_t mrail_btl_framework_ops;

/* Allocates a module of size bytes (at least sizeof(mrail_btl_module_t), so
 * that components can extend it) named "<comp>:<device>" with the
 * component's config; the default finalize frees it. NULL when out of memory. */
mrail_btl_module_t *mrail_btl_module_alloc(mrail_btl_component_t *component, const char *device,
                                           size_t size);
static inline mrail_btl_module_t *mrail_btl_module_new(mrail_btl_component_t *component,
                                                       const char *device)
{
    return mrail_btl_module_alloc(component, device, sizeof(mrail_btl_module_t));
}

/* Appends a module to the malloc()ed array *list of *count modules, for
 * queries that find devices one by one; frees it when the append fails. */
int mrail_btl_modules_push(mrail_btl_module_t *module, mrail_btl_module_t ***list, size_t *count,
                           mrail_reason_t *why);
/* Appends a plain new module for device (probe-only components). */
int mrail_btl_modules_append(mrail_btl_component_t *component, const char *device,
                             mrail_btl_module_t ***list, size_t *count, mrail_reason_t *why);
/* Finalizes every module of the array and frees it. */
void mrail_btl_modules_free(mrail_btl_module_t **list, size_t count);

/* The query of a plugin split in two (see mrail_mca_core_load): what the
 * core exports as entry, given the component's configuration. */
typedef int (*mrail_btl_core_query_fn)(const void *config, mrail_btl_component_t *self,
                                       mrail_btl_module_t ***modules, size_t *count,
                                       mrail_reason_t *why);
/* Loads self's core, runs its query and keeps it loaded while modules it
 * returned live (for the process); unloads it again when it declines. */
int mrail_btl_core_query(mrail_btl_component_t *self, const char *entry, const void *config,
                         mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
