/* btl/self internals. */
#ifndef MRAIL_BTL_SELF_H
#define MRAIL_BTL_SELF_H

#include <stdbool.h>
#include <stdint.h>

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

/* A registered range (btl_self_reg.c). */
typedef struct btl_self_reg {
    uintptr_t base;
    size_t len;
    uint32_t gen; /* bumped when the slot is reused */
    bool live;
} btl_self_reg_t;

typedef struct btl_self_module {
    mrail_btl_module_t base;
    struct mrail_btl_endpoint ep;
    btl_self_msg_t *head, *tail;
    btl_self_reg_t *regs;
    uint32_t nregs;
} btl_self_module_t;

/* Registrations (btl_self_reg.c). A handle is a key into the module's
 * table, not an address: put and get touch only a range inside a live
 * registration, whatever a header claims (the PML's rget takes the
 * address and handle from a received RTS). */
#define BTL_SELF_REG_SIZE sizeof(uint64_t)
int btl_self_mem_register(mrail_btl_module_t *module, void *base, size_t len, void *handle);
void btl_self_mem_deregister(mrail_btl_module_t *module, void *handle);
bool btl_self_reg_covers(const btl_self_module_t *m, const void *handle, uint64_t addr, size_t len);
/* Without a handle, put and get copy through the kernel (process_vm_*
 * on ourselves), as btl/sm's CMA does between processes: an address that
 * is not ours to touch fails the call instead of the process. remote is
 * the side named by the peer's address (written by put, read by get). */
int btl_self_copy_checked(void *dst, const void *src, size_t len, bool remote_is_dst);

/* Fills in the data path of a new module (btl_self_module.c). */
void btl_self_module_init(btl_self_module_t *m);

#endif
