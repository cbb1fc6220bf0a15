/* btl/self registrations: the ranges put and get may touch; and the
 * kernel-checked copy for put and get without one. */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "btl_self.h"

int btl_self_mem_register(mrail_btl_module_t *module, void *base, size_t len, void *handle)
{
    btl_self_module_t *m = (btl_self_module_t *)module;
    uint32_t slot = 0;
    while (slot < m->nregs && m->regs[slot].live) {
        slot++;
    }
    if (slot == m->nregs) {
        btl_self_reg_t *grown = realloc(m->regs, (m->nregs + 1) * sizeof(*grown));
        if (grown == NULL) {
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        m->regs = grown;
        m->regs[m->nregs++] = (btl_self_reg_t){0};
    }
    btl_self_reg_t *r = &m->regs[slot];
    *r = (btl_self_reg_t){.base = (uintptr_t)base, .len = len, .gen = r->gen + 1, .live = true};
    uint64_t key = ((uint64_t)r->gen << 32) | slot;
    memcpy(handle, &key, sizeof(key));
    return MRAIL_SUCCESS;
}

static btl_self_reg_t *lookup(const btl_self_module_t *m, const void *handle)
{
    uint64_t key;
    memcpy(&key, handle, sizeof(key));
    uint32_t slot = (uint32_t)key;
    if (slot >= m->nregs || !m->regs[slot].live || m->regs[slot].gen != (uint32_t)(key >> 32)) {
        return NULL;
    }
    return &m->regs[slot];
}

void btl_self_mem_deregister(mrail_btl_module_t *module, void *handle)
{
    btl_self_reg_t *r = lookup((btl_self_module_t *)module, handle);
    if (r != NULL) {
        r->live = false;
    }
}

bool btl_self_reg_covers(const btl_self_module_t *m, const void *handle, uint64_t addr, size_t len)
{
    const btl_self_reg_t *r = handle != NULL ? lookup(m, handle) : NULL;
    return r != NULL && addr >= r->base && addr - r->base <= r->len &&
           len <= r->len - (addr - r->base);
}

int btl_self_copy_checked(void *dst, const void *src, size_t len, bool remote_is_dst)
{
    struct iovec local = {remote_is_dst ? (void *)(uintptr_t)src : dst, len};
    struct iovec remote = {remote_is_dst ? dst : (void *)(uintptr_t)src, len};
    size_t done = 0;
    while (done < len) {
        ssize_t n = remote_is_dst ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
                                  : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (n <= 0) {
            return MRAIL_ERR_BAD_PARAM;
        }
        done += (size_t)n;
        local.iov_base = (char *)local.iov_base + n;
        local.iov_len -= (size_t)n;
        remote.iov_base = (char *)remote.iov_base + n;
        remote.iov_len -= (size_t)n;
    }
    return MRAIL_SUCCESS;
}
