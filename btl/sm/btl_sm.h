/* btl/sm internals.
 *
 * Each rank owns one shared segment holding one single-producer /
 * single-consumer ring per local peer (ring i carries messages from the
 * peer with local index i). Peers map it after the modex; it is unlinked as
 * soon as every local rank has mapped it, so a rank that dies later leaves
 * no file in /dev/shm. Large transfers are single-copy through Cross Memory
 * Attach (process_vm_readv/writev), a get of registered memory shared by
 * both ranks (btl_sm_share.c; the share slots follow the rings), or
 * pipelined through the rings when the kernel refuses CMA. */
#ifndef MRAIL_BTL_SM_H
#define MRAIL_BTL_SM_H

#include <stdatomic.h>
#include <sys/types.h>

#include "mrail/btl.h"
#include "mrail/rte.h"

#define BTL_SM_CACHE_LINE 64
#define BTL_SM_MAGIC 0x6d7261696c736d31ull /* "mrailsm1" */

typedef enum { BTL_SM_COPY_AUTO, BTL_SM_COPY_CMA, BTL_SM_COPY_NONE } btl_sm_copy_t;

typedef struct btl_sm_config {
    size_t ring_size;    /* bytes of each ring, a power of two; 0: by the local rank count */
    int single_copy;     /* btl_sm_copy_t */
    bool max_send_given; /* btl_sm_max_send_size was set, not defaulted */
    bool min_rdma_given; /* btl_sm_min_rdma_pipeline_size likewise */
} btl_sm_config_t;

/* The automatic sizes (btl_sm_ring_size=0): a node's rings share this
 * budget, each between the bounds; fragments are a quarter of a ring.
 * Measured on two cores (docs/PERFORMANCE.md, issue 14): 512 KiB rings of
 * 128 KiB fragments stream 22-26 GB/s at 64 KiB-4 MiB where 256 KiB rings
 * of 32 KiB fragments gave 14-20. Larger rings gained nothing more and
 * cost start-up: a ring is warmed whole on its first message, and the
 * oversubscribed collective suite took 25 s with 1 MiB rings, 21 with
 * 512 KiB, 20.5 with 256 KiB. */
#define BTL_SM_RING_BUDGET (64ull << 20)
#define BTL_SM_RING_MIN (64u << 10)
#define BTL_SM_RING_MAX (512u << 10)
#define BTL_SM_FRAGS_PER_RING 4
/* Two ranks on a node (each core has one peer): 2 MiB rings of 128 KiB
 * fragments, 16 in flight. Both ways at once through the rings (which
 * pml_stripe_rget_adapt picks while the cores exchange lines quickly)
 * they read 23-35 GB/s at 64 KiB-4 MiB where 512 KiB rings read 13-25 and
 * Open MPI without single copy 18-24, in one run of three on two cores
 * (session 23; the other two changed mode mid-run). */
#define BTL_SM_RING_PAIR (2u << 20)
#define BTL_SM_FRAG_MAX (128u << 10)

/* The ring size for nlocal ranks on the node, from the budget. */
size_t btl_sm_auto_ring_size(uint32_t nlocal);

/* Ring control: producer and consumer positions on their own cache lines. */
typedef struct btl_sm_ring {
    _Alignas(BTL_SM_CACHE_LINE) _Atomic uint64_t head; /* the producer's own position */
    _Alignas(BTL_SM_CACHE_LINE) _Atomic uint64_t tail; /* written by the consumer */
    _Alignas(BTL_SM_CACHE_LINE) char data[];
} btl_sm_ring_t;

typedef struct btl_sm_seg_header {
    uint64_t magic;
    uint32_t owner; /* rank */
    uint32_t nrings;
    uint64_t ring_size;
    mrail_rte_bell_t bell; /* the owner sleeps on it on a crowded node (rte.h) */
} btl_sm_seg_header_t;

/* What a rank publishes in the modex. */
typedef struct btl_sm_modex {
    uint64_t magic;
    int32_t pid;
    uint32_t node_id;
    uint64_t seg_size;
    uint64_t seg_addr; /* where the owner mapped it: CMA probe target */
    char seg_name[128];
} btl_sm_modex_t;

/* Record kinds in a ring. */
enum {
    BTL_SM_REC_WRAP = 1,
    BTL_SM_REC_AM,
    BTL_SM_REC_GETREQ,
    BTL_SM_REC_GETDATA,
    BTL_SM_REC_PUTDATA,
    BTL_SM_REC_PUTACK
};

/* One record: this header, then hdr_len bytes of header, then the payload. */
typedef struct btl_sm_rec {
    uint32_t len; /* bytes after this struct */
    uint8_t kind;
    uint8_t tag;
    uint16_t hdr_len;
} btl_sm_rec_t;

/* Fallback protocol headers (carried as the record header). */
typedef struct btl_sm_rdma_hdr {
    uint64_t req;    /* requester's operation id */
    uint64_t addr;   /* address in the owner's memory */
    uint64_t len;    /* whole transfer (GETREQ) or this chunk */
    uint64_t offset; /* of this chunk within the transfer */
} btl_sm_rdma_hdr_t;

/* A shared single copy's slot in the owner's segment (btl_sm_share.c). */
#define BTL_SM_SHARE_SLOTS 128
#define BTL_SM_BOUNCE_BYTES (128 * 1024) /* one piece of an aliased CMA copy (btl_sm_rdma.c) */
#define BTL_SM_SHARE_HANDLE_SIZE 8
typedef struct btl_sm_share {
    _Alignas(BTL_SM_CACHE_LINE) _Atomic uint64_t ctl; /* generation << 2 | state */
    uint64_t base, len;                               /* the owner's offer */
    uint64_t from, to; /* the getter's: owner's [from, +total) into its [to, +total) */
    uint64_t total;
    uint32_t chunk;                                      /* bytes a claim takes */
    uint32_t getter;                                     /* its local index */
    _Alignas(BTL_SM_CACHE_LINE) _Atomic uint64_t claims; /* back << 32 | front, in chunks */
    _Atomic uint64_t done;                               /* bytes copied, by either side */
    _Atomic int32_t error;                               /* errno of an owner's failed copy */
} btl_sm_share_t;

typedef struct btl_sm_out btl_sm_out_t;
typedef struct btl_sm_module btl_sm_module_t;

struct mrail_btl_endpoint {
    btl_sm_module_t *module;
    uint32_t rank;
    uint32_t local_index;
    pid_t pid;
    btl_sm_ring_t *to_peer;   /* our ring in the peer's segment */
    btl_sm_ring_t *from_peer; /* the peer's ring in our segment */
    void *peer_seg;           /* the peer's segment, mapped */
    size_t peer_seg_size;
    btl_sm_out_t *out_head, *out_tail; /* waiting for room, in order */
    bool failed;
    bool polling;      /* a record of from_peer is being delivered right now */
    bool to_peer_warm; /* btl_sm_ring_warm done */
    bool from_peer_warm;
    uint64_t to_peer_tail;  /* last consumer position seen in to_peer */
    unsigned stuck_flushes; /* progress calls in a row whose flush moved nothing */
    /* The peer's bell, on a crowded node: rung after each record we
     * publish to it, and after we free room in its ring to us. */
    mrail_rte_bell_t *bell;
};

struct btl_sm_module {
    mrail_btl_module_t base;
    btl_sm_config_t cfg;
    char seg_name[128];
    void *seg;
    size_t seg_size;
    uint32_t my_rank, my_local;
    mrail_btl_endpoint_t *eps; /* by local index */
    uint32_t nlocal;
    bool use_cma;
    uint64_t next_req;
    struct btl_sm_op *ops; /* fallback gets/puts in flight */
    /* Shared single copy: our offers (slots in our segment) and the gets we accepted. */
    btl_sm_share_t *shares;
    bool share_in_use[BTL_SM_SHARE_SLOTS];
    uint32_t share_offered[BTL_SM_SHARE_SLOTS];
    uint32_t share_noffered, share_cursor, share_gen;
    struct btl_sm_pull *pulls;
    char *bounce; /* BTL_SM_BOUNCE_BYTES + a page, for aliased CMA copies; on first use */
};

/* Ring (btl_sm_ring.c). Records are 8-byte aligned; a record never wraps;
 * a record's 8-byte header, stored last, publishes it. */
/* Reserves room for a record of len bytes (the header is not written);
 * NULL when the ring is full. tail_cache is the producer's private copy of
 * the consumer's position. */
btl_sm_rec_t *btl_sm_ring_reserve(btl_sm_ring_t *ring, size_t ring_size, size_t len,
                                  uint64_t *tail_cache);
/* Publishes the record reserved last, its body written: writes its header. */
void btl_sm_ring_commit(btl_sm_ring_t *ring, btl_sm_rec_t *rec, size_t len, uint8_t kind,
                        uint8_t tag, uint16_t hdr_len);
/* Takes the cache line after the one the next header goes to, if the
 * consumer is done with it, by storing to it: the next record's stores that
 * spill into it then find it owned, instead of waiting for the line to be
 * taken from the consumer's cache or L3 before the header can be published. */
void btl_sm_ring_own_ahead(btl_sm_ring_t *ring, size_t ring_size, uint64_t tail_cache);
/* The next record, or NULL when empty; release it with btl_sm_ring_pop. */
btl_sm_rec_t *btl_sm_ring_peek(btl_sm_ring_t *ring, size_t ring_size);
/* Is anything published at the consumer's position? One load of the line
 * a small message arrives in: the look an idle poll makes at every peer. */
static inline bool btl_sm_ring_ready(btl_sm_ring_t *ring, size_t ring_size)
{
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    return atomic_load_explicit((_Atomic uint64_t *)(void *)(ring->data + (tail & (ring_size - 1))),
                                memory_order_relaxed) != 0;
}
void btl_sm_ring_pop(btl_sm_ring_t *ring, btl_sm_rec_t *rec);
/* Makes the first lap of a ring as fast as the later ones: faults in
 * every page with one system call (write: as the producer, who also
 * allocates them), then touches every line from this side (the producer
 * writes zeros, which is what a ring nothing was published in holds; the
 * consumer reads). Measured here, the first lap through untouched lines
 * took twice as long per message as the next ones, with or without the
 * page faults, unless both sides had touched them. Done on a peer's first
 * message, not at start-up: most peers on a large node are never spoken
 * to, and 64 ranks' rings are a gigabyte. */
void btl_sm_ring_warm(btl_sm_ring_t *ring, size_t ring_size, bool producer);
/* Largest len a record may have in a ring of ring_size bytes. */
size_t btl_sm_ring_max_record(size_t ring_size);
size_t btl_sm_ring_bytes(size_t ring_size); /* control + data, cache-line multiple */

/* Segment (btl_sm_segment.c). */
int btl_sm_segment_create(btl_sm_module_t *m, const char *job, uint32_t nlocal,
                          mrail_reason_t *why);
void *btl_sm_segment_attach(const char *name, size_t size, mrail_reason_t *why);
btl_sm_ring_t *btl_sm_segment_ring(void *seg, size_t ring_size, uint32_t index);
/* The share slots, after the rings. */
btl_sm_share_t *btl_sm_segment_shares(void *seg, size_t ring_size, uint32_t nrings);
void btl_sm_segment_unlink(btl_sm_module_t *m);

/* Outbound queue and sends (btl_sm_module.c). */
void btl_sm_module_init(btl_sm_module_t *m, const btl_sm_config_t *cfg);

/* Single copy and its fallback (btl_sm_rdma.c). */
int btl_sm_put(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, const void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata);
int btl_sm_get(mrail_btl_module_t *self, mrail_btl_endpoint_t *ep, void *local,
               uint64_t remote_addr, const void *remote_handle, size_t len,
               mrail_btl_done_fn_t done, void *cbdata);
/* Moves len bytes between local and process pid's remote with
 * process_vm_writev (write) or _readv, which may stop short; 0 or an errno.
 * A pair the kernel would copy slowly goes through m->bounce. */
int btl_sm_cma_copy(btl_sm_module_t *m, pid_t pid, void *local, uint64_t remote, size_t len,
                    bool write);
/* Decides CMA or copy-in/copy-out once peers are mapped; fills base.note. */
int btl_sm_rdma_select(btl_sm_module_t *m, const btl_sm_modex_t *peers, mrail_reason_t *why);
/* Handles a fallback-protocol record that arrived from ep. */
void btl_sm_rdma_incoming(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, const btl_sm_rec_t *rec);
void btl_sm_rdma_fail_peer(btl_sm_module_t *m, mrail_btl_endpoint_t *ep);

/* Shared single copy (btl_sm_share.c), with CMA only. register offers
 * memory (a handle that offers nothing without CMA or a free slot);
 * share_get accepts an offer, MRAIL_ERR_NOT_FOUND when there is none or the
 * get is too small to share, and finishes in progress; progress copies a
 * chunk of every accepted offer and accepted get. */
int btl_sm_share_register(mrail_btl_module_t *self, void *base, size_t len, void *handle);
void btl_sm_share_deregister(mrail_btl_module_t *self, void *handle);
int btl_sm_share_get(btl_sm_module_t *m, mrail_btl_endpoint_t *ep, void *local,
                     uint64_t remote_addr, const void *remote_handle, size_t len,
                     mrail_btl_done_fn_t done, void *cbdata);
int btl_sm_share_progress(btl_sm_module_t *m);
void btl_sm_share_fail_peer(btl_sm_module_t *m, mrail_btl_endpoint_t *ep);

/* Queues an outbound item (btl_sm_module.c); items emit records in order. */
typedef enum { BTL_SM_OUT_AM, BTL_SM_OUT_COPY, BTL_SM_OUT_STREAM } btl_sm_out_kind_t;
struct btl_sm_out {
    btl_sm_out_t *next;
    btl_sm_out_kind_t kind;
    uint8_t rec_kind, tag;
    mrail_btl_done_fn_t done; /* AM: the sender's callback */
    void *cbdata;
    /* AM: header + payload by reference. COPY: one record, bytes owned here. */
    const void *hdr;
    size_t hdr_len;
    int npayload;
    struct iovec *payload;
    /* STREAM: chunks of [src, src + len) as GETDATA/PUTDATA records. */
    btl_sm_rdma_hdr_t rdma;
    const char *src;
    size_t sent;
    struct btl_sm_op *op; /* PUTDATA: the local operation to finish */
    char inline_bytes[];
};
btl_sm_out_t *btl_sm_out_new(size_t extra);
void btl_sm_out_enqueue(mrail_btl_endpoint_t *ep, btl_sm_out_t *o);
/* Emits what fits now; returns how many items finished. */
int btl_sm_out_flush(btl_sm_module_t *m, mrail_btl_endpoint_t *ep);

#endif
