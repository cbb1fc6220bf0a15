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

typedef struct btl_tcp_config {
    mrail_mca_list_t if_include; /* names, globs or CIDRs; empty = all not excluded */
    mrail_mca_list_t if_exclude;
    unsigned connect_timeout; /* seconds to wire up with every peer */
    unsigned user_timeout;    /* ms unacknowledged data may wait before the rail is failed */
    size_t sndbuf, rcvbuf;    /* socket buffers; 0 = the kernel's autotuning */
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
} btl_tcp_modex_t;

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
                         const btl_tcp_config_t *cfg);

#endif
