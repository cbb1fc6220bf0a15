/* btl/ofi internals: one module per libfabric domain of the chosen
 * providers, reliable datagrams (FI_EP_RDM), active messages over FI_MSG
 * into posted receive buffers (a few multi-receive slabs where the
 * provider offers FI_MULTI_RECV), put/get over FI_RMA, local descriptors
 * for providers that want them (FI_MR_LOCAL). */
#ifndef BTL_OFI_H
#define BTL_OFI_H

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include "mrail/btl.h"

#define BTL_OFI_MAX_IOV 8    /* pieces of one send: wire header, owner's header, payload */
#define BTL_OFI_MAX_ADDR 256 /* bytes of an endpoint name we publish */
#define BTL_OFI_MODEX_KEY "btl.ofi"
#define BTL_OFI_MAGIC 0x4f46u /* "OF" */

typedef struct btl_ofi_config {
    mrail_mca_list_t provider_include;
    mrail_mca_list_t provider_exclude;
    mrail_mca_list_t domain_include;
    mrail_mca_list_t domain_exclude;
    unsigned recv_buffers;
    bool multi_recv;     /* slabs of FI_MULTI_RECV where offered */
    bool register_local; /* descriptors even where FI_MR_LOCAL is not asked for */
} btl_ofi_config_t;

#define BTL_OFI_SLABS 4 /* multi-receive buffers, each recv_buffers / 4 messages large */

extern btl_ofi_config_t btl_ofi_config;

/* The query proper (btl_ofi_query.c; a mrail_btl_core_query_fn): asks the
 * providers and opens a module per domain kept. */
int btl_ofi_core_query(const void *config, mrail_btl_component_t *self,
                       mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why);

typedef struct btl_ofi_module btl_ofi_module_t;

/* What precedes the owner's header in every message. */
typedef struct btl_ofi_wire {
    uint32_t src; /* the sender's rank: no FI_SOURCE needed */
    uint16_t magic;
    uint8_t tag;
    uint8_t pad;
    uint32_t hdr_len;
    uint32_t pad2;
} btl_ofi_wire_t;

/* One published module: receivers pair by provider and fabric. */
typedef struct btl_ofi_modex_entry {
    char prov[32];
    char fabric[64];
    uint32_t node_id;
    uint32_t addr_len;
    uint8_t addr[BTL_OFI_MAX_ADDR];
} btl_ofi_modex_entry_t;

typedef enum { BTL_OFI_SEND, BTL_OFI_RECV, BTL_OFI_RMA } btl_ofi_kind_t;

/* The context libfabric hands back in a completion; first in every
 * operation, which the provider owns while it runs. */
typedef struct btl_ofi_ctx {
    struct fi_context2 fi;
    btl_ofi_kind_t kind;
} btl_ofi_ctx_t;

/* A send or a put/get accepted and not completed yet. */
typedef struct btl_ofi_op {
    btl_ofi_ctx_t ctx;
    mrail_btl_endpoint_t *ep;
    mrail_btl_done_fn_t done;
    void *cbdata;
    struct btl_ofi_op *next;                  /* waiting for the provider to take it (FI_EAGAIN) */
    struct btl_ofi_op *live_prev, *live_next; /* the module's live list (btl_ofi_op_live) */
    struct iovec iov[BTL_OFI_MAX_IOV];
    size_t niov;
    /* put/get */
    bool is_get;
    uint64_t remote_addr, key;
    char *bounce; /* the whole message, when its pieces exceed the provider's iov limit */
    int staged;   /* FI_MR_LOCAL: the registered send buffer it was copied into, or -1 */
    struct fid_mr *local_mr; /* FI_MR_LOCAL: put/get's local buffer, registered for it */
    void *desc;              /* the descriptor of iov[0] (FI_MR_LOCAL), else NULL */
    btl_ofi_wire_t wire;
    char hdr[]; /* copy of the owner's header */
} btl_ofi_op_t;

/* A posted receive buffer: one message, or a multi-receive slab. */
typedef struct btl_ofi_recv {
    btl_ofi_ctx_t ctx;
    struct btl_ofi_recv *next; /* waiting to be posted again */
    char *buf;
    size_t size;
} btl_ofi_recv_t;

struct mrail_btl_endpoint {
    btl_ofi_module_t *module;
    uint32_t rank;
    fi_addr_t addr;
    bool failed;
};

/* A registration: what the peer needs (key, base) and what we keep. */
typedef struct btl_ofi_reg {
    uint64_t key;
    uint64_t base;     /* the address offsets are taken from (0: virtual addresses) */
    struct fid_mr *mr; /* ours only; meaningless at the peer */
} btl_ofi_reg_t;

struct btl_ofi_module {
    mrail_btl_module_t base;
    struct fi_info *info; /* the provider's answer this module was opened with */
    struct fid_fabric *fabric;
    struct fid_domain *domain;
    struct fid_av *av;
    struct fid_cq *cq;
    struct fid_ep *ep;
    uint8_t addr[BTL_OFI_MAX_ADDR];
    size_t addr_len;
    size_t iov_limit, buf_size;
    bool node_local_only; /* shm: peers on this node only */
    btl_ofi_recv_t *recvs;
    char *recv_mem;
    unsigned nrecv;
    btl_ofi_recv_t *repost; /* buffers the provider did not take back yet */
    bool multi_recv;        /* recvs are BTL_OFI_SLABS slabs posted with FI_MULTI_RECV */
    char *hdr_scratch;      /* an owner's header from a slab, copied to be aligned */
    bool mr_local;          /* every buffer handed over goes with its descriptor */
    struct fid_mr *recv_mr, *send_mr;
    char *send_mem; /* FI_MR_LOCAL: registered send buffers, buf_size each */
    int *send_free; /* their free indices */
    unsigned nsend, nsend_free;
    btl_ofi_op_t *pending_head, *pending_tail;
    btl_ofi_op_t *live;        /* every operation not yet freed, the provider's included */
    mrail_btl_endpoint_t *eps; /* by rank; module NULL: unreachable */
    uint32_t my_rank, size;
    unsigned long long sent, received;
    uint64_t next_key; /* requested keys must be unique per domain (no FI_MR_PROV_KEY) */
};

/* An operation enters the live list when made and leaves it when freed, so
 * that finalize frees those whose completion the provider never reported
 * (a job that ends with sends in flight). */
static inline void btl_ofi_op_live(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    op->live_prev = NULL;
    op->live_next = m->live;
    if (m->live != NULL) {
        m->live->live_prev = op;
    }
    m->live = op;
}

static inline void btl_ofi_op_dead(btl_ofi_module_t *m, btl_ofi_op_t *op)
{
    if (op->live_prev != NULL) {
        op->live_prev->live_next = op->live_next;
    } else {
        m->live = op->live_next;
    }
    if (op->live_next != NULL) {
        op->live_next->live_prev = op->live_prev;
    }
}

/* Opens fabric, domain, completion queue, address vector and endpoint for
 * info, and fills module's methods; why says what failed. */
int btl_ofi_module_open(btl_ofi_module_t *m, struct fi_info *info, mrail_reason_t *why);
/* FI_MR_LOCAL (btl_ofi_local.c): registers the receive memory and a pool
 * of send buffers; copies a send into one (-FI_EAGAIN while none is free);
 * registers put/get's local buffer; gives back what an operation held. */
int btl_ofi_local_open(btl_ofi_module_t *m, mrail_reason_t *why);
ssize_t btl_ofi_local_stage(btl_ofi_module_t *m, btl_ofi_op_t *op);
int btl_ofi_local_rma(btl_ofi_module_t *m, btl_ofi_op_t *op);
void btl_ofi_local_release(btl_ofi_module_t *m, btl_ofi_op_t *op);
void btl_ofi_local_close(btl_ofi_module_t *m);
/* Registration honouring the domain's mr_mode (key, endpoint binding). */
int btl_ofi_mr_reg(btl_ofi_module_t *m, void *base, size_t len, uint64_t access,
                   struct fid_mr **mr);
/* put/get and registration (btl_ofi_rma.c). */
int btl_ofi_rma_issue(btl_ofi_module_t *m, btl_ofi_op_t *op);
void btl_ofi_rma_init(btl_ofi_module_t *m);

#endif
