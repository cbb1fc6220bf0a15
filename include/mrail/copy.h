/* Copies of message data. On CPUs with fast `rep movsb` (ERMS/FSRM), glibc's
 * memcpy takes that instruction for copies from about 2 KiB to about half a
 * MiB, and on this project's AMD EPYC test machine it then runs 20 times
 * slower (2 GB/s instead of 40) whenever the destination lies 1 to 31 bytes
 * past the source modulo 4 KiB: the loads alias the stores just made. Such
 * pairs are not rare: a copy from a page-aligned window or ring slot into
 * a buffer from malloc (which starts 16 bytes into a page) is one. mrail_copy takes a plain vector
 * loop for them and memcpy otherwise. The kernel's copy for process_vm_readv/writev behaves the
 * same way; mrail_copy_aliased tells a caller who can choose another path. */
#ifndef MRAIL_COPY_H
#define MRAIL_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MRAIL_COPY_ALIAS_MIN 2048 /* below it memcpy uses vector moves */

/* True when a copy of len bytes from src to dst would hit the slow case. */
static inline bool mrail_copy_aliased(const void *dst, const void *src, size_t len)
{
    return len >= MRAIL_COPY_ALIAS_MIN && (((uintptr_t)dst - (uintptr_t)src) & 4095u) - 1u < 31u;
}

/* The vector loop; callers go through mrail_copy. */
void mrail_copy_loop(void *dst, const void *src, size_t len);

static inline void mrail_copy(void *dst, const void *src, size_t len)
{
    if (mrail_copy_aliased(dst, src, len)) {
        mrail_copy_loop(dst, src, len);
    } else {
        memcpy(dst, src, len);
    }
}

#endif
