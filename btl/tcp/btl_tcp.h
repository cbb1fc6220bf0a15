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

#define BTL_TCP_MAX_IFS 64         /* interfaces that get a bandwidth_<ifname> parameter */
#define BTL_TCP_GUESS_MBS 1250     /* MB/s assumed when nothing says better (10 Gbit/s) */
#define BTL_TCP_MAX_LINKS 16

typedef struct btl_tcp_config {
    mrail_mca_list_t if_include; /* names, globs or CIDRs; empty = all not excluded */
    mrail_mca_list_t if_exclude;
    unsigned connect_timeout; /* seconds to wire up with every peer */
    unsigned user_timeout;    /* ms unacknowledged data may wait before the rail is failed */
    size_t sndbuf, rcvbuf;    /* socket buffers; 0 = the kernel's autotuning */
    unsigned verbose;         /* 1: report pairing and refused connections on stderr */
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
void btl_tcp_pair(const btl_tcp_side_t *lo, const btl_tcp_side_t *hi, int *lo_to_hi,
                  int *hi_to_lo);

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

struct mrail_btl_endpoint {
    btl_tcp_module_t *module;
    uint32_t rank;
    int fd;
    bool failed;
    btl_tcp_out_t *out_head, *out_tail;
    /* receive: the frame header, then its body */
    btl_tcp_frame_t frame;
    size_t frame_got;
    char *body;
    size_t body_cap, body_got;
};

/* A connection that has not proven itself yet. */
typedef struct btl_tcp_pending {
    struct btl_tcp_pending *next;
    int fd;
    btl_tcp_hello_t hello;
    size_t got;
} btl_tcp_pending_t;

struct btl_tcp_module {
    mrail_btl_module_t base;
    unsigned index; /* among this rank's tcp modules */
    mrail_netdev_t dev;
    int listen_fd, epoll_fd;
    uint16_t port;
    uint32_t my_rank, size;
    uint64_t job, secret;
    mrail_btl_endpoint_t *eps; /* by rank */
    btl_tcp_pending_t *pending;
    unsigned strangers; /* connections refused so far */
    unsigned timeout;
    btl_tcp_config_t cfg; /* socket options */
};

/* How many tcp modules this rank has (btl_tcp_component.c). */
unsigned btl_tcp_module_count(void);

/* Fills in the data path of a module for dev (btl_tcp_module.c). */
void btl_tcp_module_init(btl_tcp_module_t *m, unsigned index, const mrail_netdev_t *dev,
                         const btl_tcp_config_t *cfg, unsigned links);

/* The bandwidth (MB/s) of a module on dev, and where it came from, in this
 * order: btl_tcp_bandwidth_<ifname>, btl_tcp_bandwidth, the link speed,
 * else BTL_TCP_GUESS_MBS, which how says is a guess. */
unsigned btl_tcp_bandwidth_of(const btl_tcp_config_t *cfg, unsigned component_mbs,
                              const mrail_netdev_t *dev, char *how, size_t len);

#endif
