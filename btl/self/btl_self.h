/* btl/self internals. */
#ifndef MRAIL_BTL_SELF_H
#define MRAIL_BTL_SELF_H

#include "mrail/btl.h"

struct mrail_btl_endpoint {
    uint32_t rank;
};

/* A message waiting for progress to deliver it: segs point at the sender's
 * own buffers (send) or at copy (sendi). */
typedef struct btl_self_msg {
    struct btl_self_msg *next;
    mrail_btl_tag_t tag;
    mrail_btl_done_fn_t done;
    void *cbdata;
    int nsegs;
    struct iovec segs[];
} btl_self_msg_t;

typedef struct btl_self_module {
    mrail_btl_module_t base;
    struct mrail_btl_endpoint ep;
    btl_self_msg_t *head, *tail;
} btl_self_module_t;

/* Fills in the data path of a new module (btl_self_module.c). */
void btl_self_module_init(btl_self_module_t *m);

#endif
