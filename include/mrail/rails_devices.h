/* Network devices as every component sees them. Enumerated with
 * getifaddrs and ioctls, which answer for the caller's network namespace;
 * /sys/class/net does not after setns (it shows the namespace sysfs was
 * mounted in). */
#ifndef MRAIL_RAILS_DEVICES_H
#define MRAIL_RAILS_DEVICES_H

#include <netinet/in.h>
#include <stdbool.h>

#include "mrail/mrail.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_netdev {
    char name[64];
    struct in_addr addr; /* IPv4 address */
    struct in_addr netmask;
    unsigned ifindex;
    bool loopback;
    int speed_mbps; /* link speed from SIOCETHTOOL; -1 when unknown */
    int numa_node;  /* -1 when unknown (virtual device, or sysfs not ours) */
} mrail_netdev_t;

/* Lists the IPv4 addresses of interfaces that are up, one entry each, into a
 * malloc()ed array (the caller frees it). */
int mrail_netdevs_list(mrail_netdev_t **devs, size_t *count, mrail_reason_t *why);

/* Is there an RDMA-class device (an entry of /sys/class/infiniband, an
 * hfi1 or cxi character device)? Without one, the hardware transports of
 * libfabric and UCX have nothing to drive, and starting them costs every
 * process a noticeable part of MPI_Init. */
bool mrail_rdma_devices_present(void);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
