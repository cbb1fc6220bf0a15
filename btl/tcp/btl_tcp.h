/* btl/tcp internals: configuration and interface selection. */
#ifndef MRAIL_BTL_TCP_H
#define MRAIL_BTL_TCP_H

#include <netinet/in.h>

#include "mrail/btl.h"
#include "mrail/rails_devices.h"

typedef struct btl_tcp_config {
    mrail_mca_list_t if_include; /* names, globs or CIDRs; empty = all not excluded */
    mrail_mca_list_t if_exclude;
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

#endif
