/* btl/uct internals: one module per UCT interface (transport, device) of
 * the listed transports; active messages bcopy/zcopy by size; get and put
 * zero-copy through the interface itself or, for shared memory, through a
 * listed companion transport without active messages (cma). */
#ifndef BTL_UCT_H
#define BTL_UCT_H

#include <uct/api/uct.h>

#include "mrail/btl.h"

#define BTL_UCT_AM_ID 7      /* the UCT active-message id of mrail's messages */
#define BTL_UCT_CONN_AM_ID 8 /* endpoint addresses (connect-to-ep wire-up) */
#define BTL_UCT_MAX_ADDR 128 /* bytes of a device or interface address we publish */
#define BTL_UCT_MAX_IOV 8
#define BTL_UCT_MODEX_KEY "btl.uct"
#define BTL_UCT_MAGIC 0x5543u  /* "UC" */
#define BTL_UCT_ASYNC_EVERY 32 /* progress calls between polls of the async context */
#define BTL_UCT_SHORT_MAX 256  /* largest message sent with am_short (gathered on the stack) */

enum { BTL_UCT_CONNECT_AUTO, BTL_UCT_CONNECT_IFACE, BTL_UCT_CONNECT_EP, BTL_UCT_CONNECT_MODEX };

typedef struct btl_uct_config {
    int connect; /* BTL_UCT_CONNECT_* */
    mrail_mca_list_t transports;
    mrail_mca_list_t device_include;
    mrail_mca_list_t device_exclude;
} btl_uct_config_t;

extern btl_uct_config_t btl_uct_config;

/* The query proper (btl_uct_query.c; a mrail_btl_core_query_fn): scans
 * UCX's components for the listed transports and opens their modules. */
int btl_uct_core_query(const void *config, mrail_btl_component_t *self,
                       mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why);

typedef struct btl_uct_module btl_uct_module_t;

/* The 8 bytes that precede the owner's header in every message (UCT's
 * short-message header word). */
typedef struct btl_uct_wire {
    uint32_t src; /* the sender's rank */
    uint16_t hdr_len;
    uint8_t tag;
    uint8_t magic;
} btl_uct_wire_t;

/* One published module: peers pair by transport and device name, when
 * UCT says the address is reachable. rma_tl is empty when the module has
 * no companion interface for get/put (it uses its own, or none). */
typedef struct btl_uct_modex_entry {
    char tl[32];
    char dev[32];
    uint32_t dev_addr_len, iface_addr_len;
    uint8_t dev_addr[BTL_UCT_MAX_ADDR];
    uint8_t iface_addr[BTL_UCT_MAX_ADDR];
    char rma_tl[32];
    uint32_t rma_dev_addr_len, rma_iface_addr_len;
    uint8_t rma_dev_addr[BTL_UCT_MAX_ADDR];
    uint8_t rma_iface_addr[BTL_UCT_MAX_ADDR];
} btl_uct_modex_entry_t;

/* A listed transport with get/put zero-copy but no active messages (cma):
 * it serves the modules of its device type (shared memory). */
typedef struct btl_uct_companion {
    uct_component_h comp;
    char md_name[32];
    char tl[32], dev[32];
    uct_device_type_t dev_type;
} btl_uct_companion_t;

/* The interface that moves get/put: the module's own, or a companion's
 * opened on the module's worker (so one progress call drives both). */
typedef struct btl_uct_rma {
    bool own; /* the module's interface; nothing of its own to close */
    uct_component_h comp;
    uct_md_h md;
    uct_md_attr_t md_attr;
    uct_iface_h iface;
    uct_iface_attr_t attr;
    char tl[32];
    uint8_t dev_addr[BTL_UCT_MAX_ADDR], iface_addr[BTL_UCT_MAX_ADDR];
} btl_uct_rma_t;

/* The memory handle the PML carries in its RTS: our registration (for
 * deregistering; meaningless to the peer), then the packed remote key. */
typedef struct btl_uct_reg {
    uint64_t memh;
    uint8_t rkey[];
} btl_uct_reg_t;

/* A send that waits for room or for its zero-copy completion. */
typedef struct btl_uct_op {
    uct_completion_t comp; /* UCT calls its func once a zcopy send is done */
    btl_uct_module_t *module;
    mrail_btl_endpoint_t *ep;
    mrail_btl_done_fn_t done;
    void *cbdata;
    struct btl_uct_op *next;
    struct iovec payload[BTL_UCT_MAX_IOV];
    int npayload;
    bool sent;    /* handed to UCT; waiting for it to let go of the bytes */
    char *bounce; /* the payload gathered, when it came in more pieces than a send takes */
    size_t len;   /* wire header + owner's header + payload */
    btl_uct_wire_t wire;
    char hdr[]; /* the wire header, then a copy of the owner's header */
} btl_uct_op_t;

/* Endpoint-to-endpoint wire-up state of one peer (btl_uct_conn.c). */
typedef struct btl_uct_conn {
    bool started;        /* our endpoint exists and its address is on its way */
    bool connected;      /* ours is connected to the peer's */
    bool peer_connected; /* the peer said its endpoint is connected to ours */
    bool told;           /* we said ours is connected */
    bool due;            /* on the module's list of addresses to send */
    struct mrail_btl_endpoint *next_due;
    uct_ep_h to_iface; /* carries our address to the peer's interface */
    uint8_t dev_addr[BTL_UCT_MAX_ADDR], iface_addr[BTL_UCT_MAX_ADDR];
} btl_uct_conn_t;

struct mrail_btl_endpoint {
    btl_uct_module_t *module;
    uint32_t rank;
    uct_ep_h ep; /* ep mode: created on the first send or address, usable once ready */
    btl_uct_conn_t conn;
    uct_ep_h rma_ep; /* get/put; NULL when the peer has no matching interface */
    bool failed;
};

/* A get or put: issued, then (put) flushed so that done means delivered. */
typedef struct btl_uct_rma_op {
    uct_completion_t comp;
    btl_uct_module_t *module;
    mrail_btl_endpoint_t *ep;
    mrail_btl_done_fn_t done;
    void *cbdata;
    struct btl_uct_rma_op *next;
    bool is_get;
    int state; /* new, moving, put moved (its flush to issue), flushing */
    void *local;
    size_t len;
    uint64_t remote_addr;
    uct_rkey_bundle_t rkey;
    uct_mem_h local_memh; /* when the transport wants one for the local side */
} btl_uct_rma_op_t;

struct btl_uct_module {
    mrail_btl_module_t base;
    char tl[32], dev[32];
    uct_component_h comp;
    uct_device_type_t dev_type;
    uct_md_h md;
    uct_md_attr_t md_attr;
    ucs_async_context_t *async;
    uct_worker_h worker;
    uct_iface_h iface;
    uct_iface_attr_t attr;
    uint8_t dev_addr[BTL_UCT_MAX_ADDR], iface_addr[BTL_UCT_MAX_ADDR];
    bool zcopy;       /* payloads above the bcopy limit go by am_zcopy */
    size_t max_short; /* messages up to this go by am_short; 0: never */
    size_t max_bcopy;
    btl_uct_op_t *pending_head, *pending_tail;
    bool ep_mode;                   /* endpoints connect to endpoints (btl_uct_conn.c) */
    bool ep_modex;                  /* ... with every peer's endpoint address in the modex */
    mrail_btl_endpoint_t *conn_due; /* peers our address is to be sent to */
    struct conn_inbox *conn_inbox;  /* addresses received, handled from progress */
    bool has_rma;
    btl_uct_rma_t rma;
    btl_uct_rma_op_t *rma_head, *rma_tail; /* gets and puts waiting for room */
    mrail_btl_endpoint_t *eps;             /* by rank; module NULL: unreachable */
    uint32_t my_rank, size;
    bool progressing;     /* UCT's progress is not reentrant */
    bool closing;         /* finalize: completions of cancelled sends call nobody */
    unsigned async_polls; /* progress calls since the async context was polled */
};

/* Opens md (takes it), worker and interface for tl/dev; fills methods.
 * MRAIL_ERR_DECLINED with m->attr filled when the interface cannot carry
 * messages (the component may keep it as a companion). */
int btl_uct_module_open(btl_uct_module_t *m, uct_component_h comp, uct_md_h md, const char *tl,
                        const char *dev, uct_device_type_t dev_type, mrail_reason_t *why);

/* The module's note for people: how it moves messages and get/put. */
void btl_uct_module_note(btl_uct_module_t *m);

/* Opens an interface of tl/dev on md and worker; fills attr. */
int btl_uct_iface_open(uct_md_h md, uct_worker_h worker, const char *tl, const char *dev,
                       uct_iface_h *iface, uct_iface_attr_t *attr, mrail_reason_t *why);

/* Connect-to-ep wire-up on the module's interface: its address handler. */
int btl_uct_conn_open(btl_uct_module_t *m, mrail_reason_t *why);
/* btl_uct_connect=modex: creates an endpoint for every rank and publishes
 * their addresses; connects ep to the address the peer made for us. */
int btl_uct_conn_publish(btl_uct_module_t *m, mrail_reason_t *why);
int btl_uct_conn_modex_connect(btl_uct_module_t *m, mrail_btl_endpoint_t *ep,
                               const btl_uct_modex_entry_t *e, mrail_reason_t *why);
/* Keeps the peer's addresses from its modex entry for the handshake. */
void btl_uct_conn_remember(mrail_btl_endpoint_t *ep, const btl_uct_modex_entry_t *e);
/* Whether ep may carry data now; starts the handshake if it has not. */
bool btl_uct_conn_ready(btl_uct_module_t *m, mrail_btl_endpoint_t *ep);
/* Handles received addresses and sends due ones; returns events. */
int btl_uct_conn_progress(btl_uct_module_t *m);
/* Drops received addresses and the connect-to-interface endpoints. */
void btl_uct_conn_close(btl_uct_module_t *m);

/* Whether an interface with these capabilities moves get and put. */
bool btl_uct_rma_capable(const uct_iface_attr_t *attr);
/* Get/put through the module's own interface, or through companion c
 * (NULL: own); fills the module's rma methods. A companion that fails to
 * open leaves the module without get/put, with the reason in why. */
int btl_uct_rma_open(btl_uct_module_t *m, const btl_uct_companion_t *c, mrail_reason_t *why);
/* The get/put part of a modex entry, and the endpoint to the peer's. */
void btl_uct_rma_publish(const btl_uct_module_t *m, btl_uct_modex_entry_t *e);
int btl_uct_rma_connect(btl_uct_module_t *m, mrail_btl_endpoint_t *ep,
                        const btl_uct_modex_entry_t *e, mrail_reason_t *why);
/* Issues gets and puts that waited for room; returns how many left. */
int btl_uct_rma_flush(btl_uct_module_t *m);
/* Drops waiting gets and puts and the companion interface (finalize). */
void btl_uct_rma_close(btl_uct_module_t *m);

#endif
