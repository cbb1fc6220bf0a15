/* Copies of message data. On CPUs with fast `rep movsb` (ERMS/FSRM), glibc's
 * memcpy takes that instruction for copies from about 2 KiB up, and on this
 * project's AMD EPYC test machine it loses to a plain vector loop in two cases:
 *  - by 20 times (2 GB/s instead of 40) whenever the destination lies 1 to
 *    31 bytes past the source modulo 4 KiB: the loads alias the stores just
 *    made. A copy from a page-aligned window or ring slot into a buffer
 *    from malloc (which starts 16 bytes into a page) is one such pair. The
 *    kernel's copy for process_vm_readv/writev behaves the same way;
 *    mrail_copy_aliased tells a caller who can choose another path.
 *  - by 3-12 % on copies that miss the core's caches, at every offset
 *    measured (bench/btl/copy_stream: about 36 GB/s against 33), and from
 *    64 KiB also on bytes the core holds when source and destination are
 *    16 bytes apart (7-11 %; within 7 % either way at other distances).
 *    Below 64 KiB memcpy copies bytes the core holds up to twice as fast,
 *    and whether they are held is not known here, so memcpy keeps those.
 * mrail_copy takes the loop for the first case everywhere, for the second on
 * AMD processors (the only ones measured; elsewhere glibc's choice stands),
 * and memcpy otherwise. */
#ifndef MRAIL_COPY_H
#define MRAIL_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MRAIL_COPY_ALIAS_MIN 2048 /* below it memcpy uses vector moves */
#define MRAIL_COPY_LOOP_MIN 65536 /* from it the loop streams faster */

/* True when a copy of len bytes from src to dst would hit the slow case. */
static inline bool mrail_copy_aliased(const void *dst, const void *src, size_t len)
{
    return len >= MRAIL_COPY_ALIAS_MIN && (((uintptr_t)dst - (uintptr_t)src) & 4095u) - 1u < 31u;
}

/* The vector loop; callers go through mrail_copy. */
void mrail_copy_loop(void *dst, const void *src, size_t len);
/* A copy of MRAIL_COPY_LOOP_MIN bytes or more: the loop or memcpy, by CPU. */
void mrail_copy_big(void *dst, const void *src, size_t len);

static inline void mrail_copy(void *dst, const void *src, size_t len)
{
    if (mrail_copy_aliased(dst, src, len)) {
        mrail_copy_loop(dst, src, len);
    } else if (len >= MRAIL_COPY_LOOP_MIN) {
        mrail_copy_big(dst, src, len);
    } else {
        memcpy(dst, src, len);
    }
}

#endif
