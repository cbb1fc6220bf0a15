/* The copy loop for the copies memcpy would run slowly (include/mrail/copy.h):
 * 64 bytes per turn in SSE2 registers, which every x86-64 has. Written with
 * intrinsics so that the compiler cannot turn it back into a memcpy call.
 * (256-bit registers measured no faster than these on the AMD EPYC here.) */
#include "mrail/copy.h"

#if defined(__x86_64__)
#include <emmintrin.h>

void mrail_copy_loop(void *dst, const void *src, size_t len)
{
    char *d = dst;
    const char *s = src;
    /* Stores that straddle two cache lines cost twice: align them. */
    size_t head = (size_t)(-(uintptr_t)d & 63u);
    head = head < len ? head : len;
    memcpy(d, s, head);
    d += head, s += head, len -= head;
    for (; len >= 64; len -= 64, d += 64, s += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
        _mm_store_si128((__m128i *)d, a);
        _mm_store_si128((__m128i *)(d + 16), b);
        _mm_store_si128((__m128i *)(d + 32), c);
        _mm_store_si128((__m128i *)(d + 48), e);
    }
    memcpy(d, s, len);
}
#else
void mrail_copy_loop(void *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
}
#endif

void mrail_copy_big(void *dst, const void *src, size_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_is("amd")) {
        mrail_copy_loop(dst, src, len);
        return;
    }
#endif
    memcpy(dst, src, len);
}
