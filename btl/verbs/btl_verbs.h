/* btl/verbs internals: one module per active HCA port; reliable-connected
 * QPs set up through librdmacm on the first send, a shared receive queue of
 * posted buffers for messages, RDMA read and write for get and put, and a
 * registration cache that memory release invalidates.
 *
 * The pure parts (port rates, GIDs, wire formats, the cache) have no
 * verbs calls, so that they are tested on machines without an HCA. */
#ifndef BTL_VERBS_H
#define BTL_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mrail/btl.h"

#define BTL_VERBS_MAGIC 0x5642u /* "VB" */
#define BTL_VERBS_WIRE_VERSION 1
#define BTL_VERBS_MODEX_KEY "btl.verbs"
#define BTL_VERBS_SECRET_KEY "btl.verbs.secret"

/* ---- ports (btl_verbs_port.c) ------------------------------------------ */

/* Data rate in MB/s of a port from ibv_port_attr's active_width and
 * active_speed codes (lanes x per-lane signalling, less the line code);
 * 0 for a code this table does not know. */
unsigned btl_verbs_port_bandwidth(uint8_t active_width, uint8_t active_speed);

/* A GID as sysfs prints it ("fe80:0000:...:0001", eight groups of four
 * hex digits) or in any IPv6 text form; 0 or MRAIL_ERR_BAD_PARAM. */
int btl_verbs_gid_parse(const char *text, uint8_t gid[16]);
/* "fe80:0000:0000:0000:0202:c9ff:fe00:0001" (39 characters and a NUL). */
void btl_verbs_gid_format(const uint8_t gid[16], char out[40]);

/* The GID a RoCE port is reached by through librdmacm: the first "RoCE v2"
 * entry that holds an IPv4-mapped address (::ffff:a.b.c.d), read from
 * <port_dir>/gids/N and <port_dir>/gid_attrs/types/N. Returns its index,
 * or -1 when the port has none (fills why). */
int btl_verbs_roce_v2_ipv4_gid(const char *port_dir, uint8_t gid[16], char *why, size_t why_len);

/* <dev_dir>/device/numa_node, or -1 when unknown. */
int btl_verbs_numa_node(const char *dev_dir);

/* The IPv4 address of the IPoIB interface of dev's port (a netdev whose
 * sysfs device links to dev and whose dev_port is port - 1); false when
 * it has none. */
bool btl_verbs_ipoib_ipv4(const char *dev, unsigned port, uint8_t ip[4]);

/* ---- wire formats (btl_verbs_wire.c) ------------------------------------ */

enum { BTL_VERBS_LINK_IB = 1, BTL_VERBS_LINK_ETH = 2 };

/* What a peer needs to reach one port: published in the modex, little-
 * endian on the wire (btl_verbs_entry_pack). */
typedef struct btl_verbs_entry {
    char dev[32];     /* mlx5_0 */
    uint8_t port;     /* 1.. */
    uint8_t link;     /* BTL_VERBS_LINK_* */
    uint16_t cm_port; /* where its connection manager listens */
    uint8_t ip[4];    /* IPv4 address librdmacm connects to (IPoIB or RoCE) */
    uint8_t gid[16];
    uint64_t subnet; /* IB subnet prefix (GID's upper half); RoCE: 0 */
} btl_verbs_entry_t;

#define BTL_VERBS_ENTRY_WIRE 64
void btl_verbs_entry_pack(const btl_verbs_entry_t *e, uint8_t out[BTL_VERBS_ENTRY_WIRE]);
/* 0, or MRAIL_ERR_BAD_PARAM for a blob that is not a version-1 entry. */
int btl_verbs_entry_unpack(const uint8_t in[BTL_VERBS_ENTRY_WIRE], btl_verbs_entry_t *e);
/* Whether a local port can reach the peer's: same link layer, and on
 * InfiniBand the same subnet. */
bool btl_verbs_entry_reaches(const btl_verbs_entry_t *local, const btl_verbs_entry_t *peer);

/* The private data of a connection request: who asks, and proof that it
 * belongs to the job (rank 0's secret). */
typedef struct btl_verbs_hello {
    uint32_t rank;
    uint64_t secret;
} btl_verbs_hello_t;

#define BTL_VERBS_HELLO_WIRE 16
void btl_verbs_hello_pack(const btl_verbs_hello_t *h, uint8_t out[BTL_VERBS_HELLO_WIRE]);
/* 0 when in is a hello of this job from a rank below size; else
 * MRAIL_ERR_BAD_PARAM (a stranger, or bytes that are no hello). */
int btl_verbs_hello_check(const uint8_t *in, size_t len, uint64_t secret, uint32_t size,
                          btl_verbs_hello_t *h);

/* The 8 bytes before the owner's header in every message. */
typedef struct btl_verbs_msg {
    uint32_t src;
    uint16_t hdr_len;
    uint8_t tag;
    uint8_t magic;
} btl_verbs_msg_t;

#define BTL_VERBS_MSG_WIRE 8
void btl_verbs_msg_pack(const btl_verbs_msg_t *m, uint8_t out[BTL_VERBS_MSG_WIRE]);
/* 0 when a received buffer of len bytes starts with a message header
 * whose owner's header fits in it; else MRAIL_ERR_BAD_PARAM. */
int btl_verbs_msg_check(const uint8_t *in, size_t len, btl_verbs_msg_t *m);

/* ---- registration cache (btl_verbs_rcache.c) ---------------------------- */

/* Registers [base, base + len) (page aligned); returns the transport's
 * handle or NULL. */
typedef void *(*btl_verbs_reg_fn_t)(void *ctx, void *base, size_t len);
typedef void (*btl_verbs_dereg_fn_t)(void *ctx, void *handle);

typedef struct btl_verbs_reg {
    uintptr_t base, end; /* page-aligned [base, end) */
    void *handle;
    unsigned refs;
    bool stale; /* its memory was released while in use: freed at the last put */
    uint64_t last_use;
    struct btl_verbs_reg *next;
} btl_verbs_reg_t;

typedef struct btl_verbs_rcache {
    btl_verbs_reg_t *head; /* live registrations, any order */
    size_t count, max;     /* registrations kept; unused ones beyond max are dropped */
    uint64_t clock;
    size_t page;
    btl_verbs_reg_fn_t reg;
    btl_verbs_dereg_fn_t dereg;
    void *ctx;
    uint64_t hits, misses, evictions, invalidations;
} btl_verbs_rcache_t;

void btl_verbs_rcache_init(btl_verbs_rcache_t *rc, size_t max, btl_verbs_reg_fn_t reg,
                           btl_verbs_dereg_fn_t dereg, void *ctx);
/* A registration covering [addr, addr + len), reused when one is cached;
 * NULL when the transport refused to register. Pair with put. */
btl_verbs_reg_t *btl_verbs_rcache_get(btl_verbs_rcache_t *rc, const void *addr, size_t len);
void btl_verbs_rcache_put(btl_verbs_rcache_t *rc, btl_verbs_reg_t *r);
/* Memory [addr, addr + len) went back to the system: registrations that
 * overlap it are dropped (at their last put when in use). */
void btl_verbs_rcache_invalidate(btl_verbs_rcache_t *rc, const void *addr, size_t len);
/* Deregisters everything (in use or not: the module is closing). */
void btl_verbs_rcache_fini(btl_verbs_rcache_t *rc);

/* ---- the module (btl_verbs_module.c) ------------------------------------ */

typedef struct btl_verbs_config {
    mrail_mca_list_t if_include;
    mrail_mca_list_t if_exclude;
    unsigned recv_buffers; /* shared receive queue depth */
    unsigned send_buffers; /* registered send buffers per module */
    unsigned qp_depth;     /* send work requests per QP */
    unsigned rcache_size;  /* registrations kept; 0: register per operation */
    uint64_t secret;       /* rank 0's draw, for the hello (set at wire-up) */
} btl_verbs_config_t;

extern btl_verbs_config_t btl_verbs_config;

/* The query proper (btl_verbs_query.c; a mrail_btl_core_query_fn): opens
 * the RDMA devices and a module per active port. */
int btl_verbs_core_query(const void *config, mrail_btl_component_t *self,
                         mrail_btl_module_t ***modules, size_t *count, mrail_reason_t *why);

struct ibv_context;
struct ibv_port_attr;

/* Sets up one active port as a module: protection domain, completion and
 * shared receive queues with their buffers, the connection manager's
 * listener on ip, the registration cache; fills the methods. */
int btl_verbs_module_open(mrail_btl_module_t *module, struct ibv_context *ctx, unsigned port,
                          const struct ibv_port_attr *attr, const uint8_t ip[4],
                          const uint8_t gid[16], mrail_reason_t *why);
size_t btl_verbs_module_size(void);

#endif
