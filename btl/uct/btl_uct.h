/* btl/uct internals: one module per UCT interface (transport, device) of
 * the listed transports; active messages short/bcopy/zcopy by size. */
#ifndef BTL_UCT_H
#define BTL_UCT_H

#include <uct/api/uct.h>

#include "mrail/btl.h"

#define BTL_UCT_AM_ID 7         /* the one UCT active-message id mrail uses */
#define BTL_UCT_MAX_ADDR 128    /* bytes of a device or interface address we publish */
#define BTL_UCT_MAX_IOV 8
#define BTL_UCT_MODEX_KEY "btl.uct"
#define BTL_UCT_MAGIC 0x5543u   /* "UC" */
#define BTL_UCT_ASYNC_EVERY 32  /* progress calls between polls of the async context */

typedef struct btl_uct_config {
    mrail_mca_list_t transports;
    mrail_mca_list_t device_include;
    mrail_mca_list_t device_exclude;
} btl_uct_config_t;

extern btl_uct_config_t btl_uct_config;

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
 * UCT says the address is reachable. */
typedef struct btl_uct_modex_entry {
    char tl[32];
    char dev[32];
    uint32_t dev_addr_len, iface_addr_len;
    uint8_t dev_addr[BTL_UCT_MAX_ADDR];
    uint8_t iface_addr[BTL_UCT_MAX_ADDR];
} btl_uct_modex_entry_t;

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
    bool sent; /* handed to UCT; waiting for it to let go of the bytes */
    char *bounce; /* the payload gathered, when it came in more pieces than a send takes */
    size_t len; /* wire header + owner's header + payload */
    btl_uct_wire_t wire;
    char hdr[]; /* the wire header, then a copy of the owner's header */
} btl_uct_op_t;

struct mrail_btl_endpoint {
    btl_uct_module_t *module;
    uint32_t rank;
    uct_ep_h ep;
    bool failed;
};

struct btl_uct_module {
    mrail_btl_module_t base;
    char tl[32], dev[32];
    uct_md_h md;
    uct_md_attr_t md_attr;
    ucs_async_context_t *async;
    uct_worker_h worker;
    uct_iface_h iface;
    uct_iface_attr_t attr;
    uint8_t dev_addr[BTL_UCT_MAX_ADDR], iface_addr[BTL_UCT_MAX_ADDR];
    bool zcopy; /* payloads above the bcopy limit go by am_zcopy */
    size_t max_bcopy;
    btl_uct_op_t *pending_head, *pending_tail;
    mrail_btl_endpoint_t *eps; /* by rank; module NULL: unreachable */
    uint32_t my_rank, size;
    bool progressing; /* UCT's progress is not reentrant */
    bool closing;     /* finalize: completions of cancelled sends call nobody */
    unsigned async_polls; /* progress calls since the async context was polled */
};

/* Opens md (takes it), worker and interface for tl/dev; fills methods. */
int btl_uct_module_open(btl_uct_module_t *m, uct_component_h comp, uct_md_h md, const char *tl,
                        const char *dev, mrail_reason_t *why);

#endif
