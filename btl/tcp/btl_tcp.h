/* btl/tcp internals: configuration, interface selection, the data path.
 *
 * One module per IPv4 interface. A rank publishes, per module, its address,
 * netmask and listening port; a local module reaches the peer address in
 * its own subnet (each rail is its own subnet), so both sides pair the
 * same interfaces. The lower rank connects, the higher accepts: no
 * simultaneous-connect races. A connector proves it belongs to the job
 * (job hash, rank, and a secret rank 0 draws and publishes through PMIx);
 * anything else is closed without disturbing the job. */
#ifndef MRAIL_BTL_TCP_H
#define MRAIL_BTL_TCP_H

#include <netinet/in.h>

#include "mrail/btl.h"
#include "mrail/rails_devices.h"
#include "mrail/rails_routes.h"

#define BTL_TCP_MAX_IFS MRAIL_MAX_RAILS /* interfaces (bandwidth_<ifname> parameters), modules */
#define BTL_TCP_GUESS_MBS 1250          /* MB/s assumed when nothing says better (10 Gbit/s) */
#define BTL_TCP_MAX_LINKS 16
#define BTL_TCP_SYN_RETRIES_SILENT 2 /* SYN retries before a connecting path counts as silent */

/* btl_tcp_if_exclude's default: loopback, and the virtual bridges of
 * container and VM hosts, which reach nothing off the node. */
#define BTL_TCP_IF_EXCLUDE_DEFAULT                                                                 \
    "lo,127.0.0.0/8,docker*,virbr*,br-*,cni*,podman*,flannel*,cali*,vxlan*"

typedef struct btl_tcp_config {
    mrail_mca_list_t if_include; /* names, globs or CIDRs; empty = all not excluded */
    mrail_mca_list_t if_exclude;
    unsigned connect_timeout; /* seconds to wire up with every peer */
    unsigned user_timeout;    /* ms unacknowledged data may wait before the rail is failed */
    size_t sndbuf, rcvbuf;    /* socket buffers; 0 = the kernel's autotuning */
    unsigned verbose;         /* 1: report pairing and refused connections on stderr */
    unsigned hello_timeout;   /* ms an accepted connection may take to send its hello */
    unsigned max_pending;     /* accepted connections waiting for their hello, at most */
    unsigned links;           /* connections (modules) per interface */
    /* btl_tcp_bandwidth_<ifname> (MB/s, 0 = unset), one per interface seen at registration */
    unsigned if_bandwidth[BTL_TCP_MAX_IFS];
    char if_names[BTL_TCP_MAX_IFS][64];
    unsigned nifs;
} btl_tcp_config_t;

/* One IPv4 interface that is up, as rails/ discovers it. */
typedef mrail_netdev_t btl_tcp_if_t;

/* Does spec (name, glob like "docker*", or CIDR like "10.1.0.0/16") match
 * the interface? An invalid CIDR is MRAIL_ERR_BAD_PARAM with why. */
int btl_tcp_if_match(const char *spec, const btl_tcp_if_t *itf, int *match, mrail_reason_t *why);

/* Keeps the interfaces the include/exclude lists allow (include wins when
 * set). An include entry that matches nothing is an error naming the
 * interfaces this host has. */
int btl_tcp_if_filter(const btl_tcp_config_t *cfg, btl_tcp_if_t *ifs, size_t *count,
                      mrail_reason_t *why);

#define BTL_TCP_MAGIC 0x4d525443u /* "MRTC" */

/* What a rank publishes per module ("btl.tcp.<index>"). */
typedef struct btl_tcp_modex {
    uint32_t magic;
    uint32_t addr;    /* network order */
    uint32_t netmask; /* network order */
    uint16_t port;    /* network order */
    uint16_t pad;
    uint32_t ifindex; /* of its interface, which the rank's routes name */
} btl_tcp_modex_t;

/* What a rank publishes once ("btl.tcp.routes"): its main routing table. */
#define BTL_TCP_MAX_ROUTES 256

/* One rank's side of a pairing: its modules and routes, as published. */
typedef struct btl_tcp_side {
    const btl_tcp_modex_t *mods;
    uint32_t nmods;
    const mrail_route_t *routes;
    uint32_t nroutes;
} btl_tcp_side_t;

/* Which modules of two ranks talk (btl_tcp_pair.c, a pure function). A pair
 * (lo's i, hi's j) is usable when lo's routes send hi's address j out
 * through i and hi's routes send lo's address i out through j: what each
 * kernel will do with a socket bound to that address. Pairs are taken
 * greedily in lo's module order, each with the lowest usable j not taken,
 * so both ranks compute the same from the same published data and never
 * try a pair that cannot connect. lo_to_hi[i] = j or -1, hi_to_lo[j] = i
 * or -1 (arrays of lo->nmods and hi->nmods entries). */
void btl_tcp_pair(const btl_tcp_side_t *lo, const btl_tcp_side_t *hi, int *lo_to_hi, int *hi_to_lo);

/* First bytes on every connection, from the connector. */
typedef struct btl_tcp_hello {
    uint32_t magic;
    uint32_t rank;
    uint64_t job;    /* hash of the job's name */
    uint64_t secret; /* rank 0's draw */
} btl_tcp_hello_t;

/* Frame on the wire: this, then hdr_len bytes of header, then the payload. */
typedef struct btl_tcp_frame {
    uint32_t len; /* header + payload bytes */
    uint8_t tag;
    uint8_t pad;
    uint16_t hdr_len;
} btl_tcp_frame_t;

/* An outbound frame that did not fit the socket at once. */
typedef struct btl_tcp_out {
    struct btl_tcp_out *next;
    mrail_btl_done_fn_t done;
    void *cbdata;
    btl_tcp_frame_t frame;
    int niov, cur; /* iov[cur] is partly sent */
    char *owned;   /* sendi: the bytes it had to keep */
    struct iovec iov[];
} btl_tcp_out_t;

typedef struct btl_tcp_module btl_tcp_module_t;

/* One peer through one module. Connections are made lazily: the first send
 * to a peer connects (btl_tcp_endpoint.c):
 *
 *   IDLE ──send──> CONNECTING ──connected──> HELLO_SENT ──ack──> CONNECTED
 *     │                                           └──refused, peer lower──> WAITING
 *     └──the peer's valid hello accepted (acked)──────────────────────────> CONNECTED
 *
 * When both ranks connect at once, the lower rank's connection wins: the
 * higher one adopts it and drops its own, the lower one refuses the
 * higher's (which then waits for the lower's). Any state ──error or
 * btl_tcp_connect_timeout──> FAILED. */
typedef enum btl_tcp_ep_state {
    BTL_TCP_EP_IDLE,
    BTL_TCP_EP_CONNECTING,
    BTL_TCP_EP_HELLO_SENT,
    BTL_TCP_EP_WAITING,
    BTL_TCP_EP_CONNECTED,
    BTL_TCP_EP_FAILED,
} btl_tcp_ep_state_t;

struct mrail_btl_endpoint {
    btl_tcp_module_t *module;
    uint32_t rank; /* UINT32_MAX: this module does not pair with the rank */
    int fd;
    btl_tcp_ep_state_t state;
    btl_tcp_modex_t peer;                  /* the peer module this one pairs with */
    double deadline;                       /* connecting: when to give up */
    double connect_started;                /* connecting: when connect() was called */
    int conn_err;                          /* connecting: an errno for progress to report */
    mrail_btl_endpoint_t *next_connecting; /* module->connecting list */
    btl_tcp_out_t *out_head, *out_tail;
    /* receive: the frame header, then its body (header and payload); a
     * payload the owner placed goes straight there (place.niov > 0) */
    btl_tcp_frame_t frame;
    size_t frame_got;
    char *body;
    size_t body_cap, body_got;
    bool placing;       /* the header is in; the payload's place is decided */
    bool place_revoked; /* the place stopped being live: read on, deliver nothing */
    mrail_btl_place_t place;
};

/* Payloads from this size on are offered to the owner's place callback:
 * below it, reading the header first costs a system call more than the
 * copy it saves. */
#define BTL_TCP_PLACE_MIN 8192

/* A frame body kept by the module grows by at most this much ahead of the
 * bytes that arrived. */
#define BTL_TCP_BODY_STEP (64 * 1024)

/* A connection that has not proven itself yet. */
typedef struct btl_tcp_pending {
    struct btl_tcp_pending *next;
    int fd;
    btl_tcp_hello_t hello;
    size_t got;
    double deadline; /* btl_tcp_now() by which the hello must be in */
} btl_tcp_pending_t;

struct btl_tcp_module {
    mrail_btl_module_t base;
    unsigned index; /* among this rank's tcp modules */
    mrail_netdev_t dev;
    int listen_fd, epoll_fd;
    uint16_t port;
    uint32_t my_rank, size;
    uint64_t job, secret;
    mrail_btl_endpoint_t *eps;        /* by rank */
    mrail_btl_endpoint_t *connecting; /* endpoints with a handshake under way */
    btl_tcp_pending_t *pending;
    btl_tcp_pending_t *closed; /* closed this progress pass, freed at its end */
    unsigned strangers;        /* connections refused so far */
    unsigned npending;         /* on the pending list */
    unsigned reconnects;       /* handshakes started again after the acceptor gave up on ours */
    unsigned connections;      /* connections established so far */
    unsigned races;            /* simultaneous connects resolved */
    uint64_t placed;           /* payloads received straight into the owner's place */
    unsigned timeout;
    btl_tcp_config_t cfg; /* socket options */
};

/* epoll data: what a ready fd is, in the pointer's low bits. */
enum { BTL_TCP_EV_EP = 0, BTL_TCP_EV_PENDING = 1, BTL_TCP_EV_LISTEN = 2 };
#define BTL_TCP_EV(p, t) ((uint64_t)(uintptr_t)(p) | (t))
#define BTL_TCP_EV_PTR(v) ((void *)(uintptr_t)((v) & ~(uint64_t)3))

double btl_tcp_now(void);
/* Closes the accepted connections whose hello is late (btl_tcp_hello_timeout). */
void btl_tcp_pending_expire(btl_tcp_module_t *m);

/* btl_tcp_endpoint.c: connections. */
/* Socket buffers, which must be sized before connect/listen. */
void btl_tcp_size_buffers(const btl_tcp_module_t *m, int fd);
/* IDLE: starts connecting (errors are reported from progress, never from
 * inside the caller's send). */
void btl_tcp_ep_connect(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep);
/* An epoll event on an endpoint that is not CONNECTED. */
void btl_tcp_ep_handshake_event(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, uint32_t events);
/* Fails handshakes past their deadline or with an error waiting. */
void btl_tcp_ep_check_connecting(btl_tcp_module_t *m);
/* Accepts what waits on the listening socket. */
void btl_tcp_accept_all(btl_tcp_module_t *m);
/* Reads a pending connection's hello; adopts it, waits, or refuses it. */
void btl_tcp_pending_read(btl_tcp_module_t *m, btl_tcp_pending_t *p);
void btl_tcp_pending_close(btl_tcp_module_t *m, btl_tcp_pending_t *p);
/* Frees what btl_tcp_pending_close set aside (at the end of a progress pass). */
void btl_tcp_pending_free_closed(btl_tcp_module_t *m);
/* Drops the connection (pending sends fail), then IDLE: the next send
 * connects again. */
void btl_tcp_ep_reset(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep);
/* Fails the endpoint: its queued sends complete with an error, and the
 * owner's error callback hears why. */
void btl_tcp_ep_fail(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, const char *what, int err);

/* btl_tcp_frag.c: frames on a connected endpoint. */
btl_tcp_out_t *btl_tcp_frag_new(mrail_btl_tag_t tag, const void *hdr, size_t hdr_len,
                                const struct iovec *payload, int npayload);
void btl_tcp_frag_free(btl_tcp_out_t *o);
void btl_tcp_ep_enqueue(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o);
/* Writes what the socket takes of o; true when all of it went. */
bool btl_tcp_frag_write(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o, int *err);
/* Asks epoll for room to write (on) or not. */
void btl_tcp_ep_want_write(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, bool on);
/* Writes queued frames while the socket takes them; returns how many finished. */
int btl_tcp_ep_flush(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep);
/* Reads and delivers whole frames until the socket is empty. */
int btl_tcp_ep_receive(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep);
/* Forgets a frame cut short (its connection died). */
void btl_tcp_ep_rx_reset(mrail_btl_endpoint_t *ep);

/* How many tcp modules this rank has (btl_tcp_component.c). */
unsigned btl_tcp_module_count(void);

/* Fills in the data path of a module for dev (btl_tcp_module.c). */
void btl_tcp_module_init(btl_tcp_module_t *m, unsigned index, const mrail_netdev_t *dev,
                         const btl_tcp_config_t *cfg, unsigned links);

/* The bandwidth (MB/s) of a module on dev, and where it came from (*source,
 * and in words in how), in this order: btl_tcp_bandwidth_<ifname>,
 * btl_tcp_bandwidth, the link speed, else BTL_TCP_GUESS_MBS, a guess. */
unsigned btl_tcp_bandwidth_of(const btl_tcp_config_t *cfg, unsigned component_mbs,
                              const mrail_netdev_t *dev, mrail_btl_bw_source_t *source, char *how,
                              size_t len);

#endif
