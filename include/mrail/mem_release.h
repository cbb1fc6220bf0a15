/* Memory given back to the system, for the caches that must forget it
 * (btl/verbs' registration cache). libmrail sees the munmap, mremap and
 * madvise calls of the application and of every library through its own
 * definitions of them; glibc's malloc, whose calls it cannot see, is told
 * never to give memory back while anyone is subscribed (no mmap()ed
 * chunks, no trimming), so freed heap memory keeps its pages. */
#ifndef MRAIL_MEM_RELEASE_H
#define MRAIL_MEM_RELEASE_H

#include <stddef.h>

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

/* Called before [addr, addr + len) is unmapped, moved or emptied. */
typedef void (*mrail_mem_release_fn_t)(void *ctx, const void *addr, size_t len);

#define MRAIL_MEM_RELEASE_MAX 8 /* subscribers at once */

/* MRAIL_SUCCESS, or MRAIL_ERR_OUT_OF_RESOURCE when MRAIL_MEM_RELEASE_MAX
 * are subscribed. Not thread-safe against releases in other threads
 * (mrail drives its transports from one thread at a time). */
int mrail_mem_release_subscribe(mrail_mem_release_fn_t fn, void *ctx);
void mrail_mem_release_unsubscribe(mrail_mem_release_fn_t fn, void *ctx);

#pragma GCC visibility pop

#endif
