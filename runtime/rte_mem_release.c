/* Memory-release notification (include/mrail/mem_release.h). libmrail
 * defines munmap, mremap and madvise: a program linked with it, and every
 * library it loads, calls these, which tell the subscribers and then call
 * the next definition (libc's, or a sanitizer's). glibc's own malloc calls
 * the system directly; while anyone is subscribed it is told to keep what
 * it has (M_MMAP_MAX 0, M_TRIM_THRESHOLD -1): freed heap memory keeps its
 * pages, so a registration of it stays true. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mrail/mem_release.h"
#include "mrail/mrail.h"

typedef struct subscriber {
    mrail_mem_release_fn_t fn;
    void *ctx;
} subscriber_t;

/* The registry of subscribers: the one piece of process-wide state here. */
static struct {
    subscriber_t subs[MRAIL_MEM_RELEASE_MAX];
    unsigned count;
    bool malloc_told;
} registry;

int mrail_mem_release_subscribe(mrail_mem_release_fn_t fn, void *ctx)
{
    if (registry.count >= MRAIL_MEM_RELEASE_MAX) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    if (!registry.malloc_told) {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, -1);
        registry.malloc_told = true;
    }
    registry.subs[registry.count++] = (subscriber_t){fn, ctx};
    return MRAIL_SUCCESS;
}

void mrail_mem_release_unsubscribe(mrail_mem_release_fn_t fn, void *ctx)
{
    for (unsigned i = 0; i < registry.count; i++) {
        if (registry.subs[i].fn == fn && registry.subs[i].ctx == ctx) {
            registry.subs[i] = registry.subs[--registry.count];
            return;
        }
    }
}

static void notify(const void *addr, size_t len)
{
    for (unsigned i = 0; i < registry.count; i++) {
        registry.subs[i].fn(registry.subs[i].ctx, addr, len);
    }
}

typedef int (*munmap_fn_t)(void *, size_t);
typedef void *(*mremap_fn_t)(void *, size_t, size_t, int, ...);
typedef int (*madvise_fn_t)(void *, size_t, int);

__attribute__((visibility("default"))) int munmap(void *addr, size_t len)
{
    static munmap_fn_t next;
    if (next == NULL) {
        next = (munmap_fn_t)dlsym(RTLD_NEXT, "munmap");
    }
    notify(addr, len);
    return next != NULL ? next(addr, len) : (int)syscall(SYS_munmap, addr, len);
}

__attribute__((visibility("default"))) void *mremap(void *old, size_t old_len, size_t new_len,
                                                    int flags, ...)
{
    static mremap_fn_t next;
    if (next == NULL) {
        next = (mremap_fn_t)dlsym(RTLD_NEXT, "mremap");
    }
    void *fixed = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        fixed = va_arg(ap, void *);
        va_end(ap);
    }
    /* Moved or shrunk, the old pages may be gone: whatever was cached of
     * them is not to be trusted. */
    notify(old, old_len);
    if (next != NULL) {
        return next(old, old_len, new_len, flags, fixed);
    }
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, fixed);
}

__attribute__((visibility("default"))) int madvise(void *addr, size_t len, int advice)
{
    static madvise_fn_t next;
    if (next == NULL) {
        next = (madvise_fn_t)dlsym(RTLD_NEXT, "madvise");
    }
    if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE) {
        notify(addr, len); /* the next touch may find other (zero) pages */
    }
    return next != NULL ? next(addr, len, advice) : (int)syscall(SYS_madvise, addr, len, advice);
}
