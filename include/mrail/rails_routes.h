/* IPv4 routes of the caller's network namespace, from the kernel (netlink),
 * and the longest-prefix lookup the kernel itself would make: which local
 * interface traffic to an address leaves through. */
#ifndef MRAIL_RAILS_ROUTES_H
#define MRAIL_RAILS_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "mrail/mrail.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mrail_route {
    uint32_t dst;    /* network order */
    uint8_t plen;    /* prefix length, 0 = default route */
    uint8_t gateway; /* 1 when through a gateway */
    uint16_t pad;
    uint32_t oif;      /* outgoing interface index */
    uint32_t priority; /* metric: lower wins among equal prefixes */
} mrail_route_t;

/* The main table's unicast IPv4 routes, into a malloc()ed array. */
int mrail_routes_list(mrail_route_t **routes, size_t *count, mrail_reason_t *why);

/* The route the kernel would choose for addr (network order): longest
 * prefix, then lowest metric; NULL when none covers it. */
const mrail_route_t *mrail_route_lookup(const mrail_route_t *routes, size_t count, uint32_t addr);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
