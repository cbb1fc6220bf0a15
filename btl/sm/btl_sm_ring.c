/* Single-producer / single-consumer byte ring in shared memory.
 *
 * head and tail only grow; position = value & (size - 1). A record is
 * published by its 8-byte header, stored last with release: the consumer
 * polls the header at its own position (one cache line, usually holding
 * the small message itself, as Open MPI's fast boxes do) instead of the
 * producer's head and then the record (two lines, one after the other).
 * A zero header means "nothing yet": before publishing a record the
 * producer zeroes the header slot that follows it, so the slot at head is
 * always zero and stale bytes of an earlier lap are never read as a
 * header. The consumer frees records with a release store of tail; the
 * producer reads tail only when its last look says the ring is full. No
 * locks, no atomic read-modify-write; head is the producer's alone. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "btl_sm.h"

#define REC_ALIGN 8

_Static_assert(sizeof(btl_sm_rec_t) == sizeof(uint64_t), "a record header is one 8-byte word");

static size_t rec_bytes(size_t len)
{
    return (sizeof(btl_sm_rec_t) + len + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

static _Atomic uint64_t *header_word(btl_sm_rec_t *rec)
{
    return (_Atomic uint64_t *)(void *)rec;
}

static void publish(btl_sm_rec_t *rec, uint32_t len, uint8_t kind, uint8_t tag, uint16_t hdr_len)
{
    btl_sm_rec_t h = {.len = len, .kind = kind, .tag = tag, .hdr_len = hdr_len};
    uint64_t word;
    memcpy(&word, &h, sizeof(word));
    atomic_store_explicit(header_word(rec), word, memory_order_release);
}

void btl_sm_ring_warm(btl_sm_ring_t *ring, size_t ring_size, bool producer)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)ring & ~(page - 1);
    uintptr_t end = (uintptr_t)ring->data + ring_size;
    /* A kernel without it (before 5.14), or a /dev/shm too full, leaves
     * the pages to fault in as they are touched. */
    if (madvise((void *)start, end - start, producer ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) !=
        0) {
        return; /* no touching either: a full /dev/shm would be a SIGBUS */
    }
#endif
    if (producer) {
        memset(ring->data, 0, ring_size); /* called before our first record */
    } else {
        volatile const char *line = ring->data;
        for (size_t at = 0; at < ring_size; at += BTL_SM_CACHE_LINE) {
            (void)line[at];
        }
    }
}

size_t btl_sm_auto_ring_size(uint32_t nlocal)
{
    if (nlocal <= 2) {
        return BTL_SM_RING_PAIR;
    }
    uint64_t pairs = (uint64_t)nlocal * nlocal;
    size_t ring = BTL_SM_RING_MAX;
    while (ring > BTL_SM_RING_MIN && pairs * ring > BTL_SM_RING_BUDGET) {
        ring /= 2;
    }
    return ring;
}

size_t btl_sm_ring_max_record(size_t ring_size)
{
    return ring_size / 2 - 2 * sizeof(btl_sm_rec_t);
}

size_t btl_sm_ring_bytes(size_t ring_size)
{
    return sizeof(btl_sm_ring_t) + ring_size;
}

btl_sm_rec_t *btl_sm_ring_reserve(btl_sm_ring_t *ring, size_t ring_size, size_t len,
                                  uint64_t *tail_cache)
{
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    size_t need = rec_bytes(len), pos = head & (ring_size - 1);
    size_t skip = pos + need > ring_size ? ring_size - pos : 0;
    /* Room for the record and the zero header after it. The consumer's
     * tail lives on its cache line: read it only when our last look says
     * there is no room. */
    size_t want = skip + need + sizeof(btl_sm_rec_t);
    if (want > ring_size - (size_t)(head - *tail_cache)) {
        *tail_cache = atomic_load_explicit(&ring->tail, memory_order_acquire);
        if (want > ring_size - (size_t)(head - *tail_cache)) {
            return NULL;
        }
    }
    if (skip > 0) {
        /* The record would straddle the end: the rest of the ring is
         * skipped and the record starts over at offset 0, whose header is
         * zeroed before the consumer is sent there. */
        atomic_store_explicit(header_word((btl_sm_rec_t *)ring->data), 0, memory_order_relaxed);
        publish((btl_sm_rec_t *)(ring->data + pos), (uint32_t)(skip - sizeof(btl_sm_rec_t)),
                BTL_SM_REC_WRAP, 0, 0);
        head += skip;
        pos = 0;
    }
    btl_sm_rec_t *next = (btl_sm_rec_t *)(ring->data + ((pos + need) & (ring_size - 1)));
    atomic_store_explicit(header_word(next), 0, memory_order_relaxed);
    atomic_store_explicit(&ring->head, head, memory_order_relaxed);
    return (btl_sm_rec_t *)(ring->data + pos);
}

void btl_sm_ring_commit(btl_sm_ring_t *ring, btl_sm_rec_t *rec, size_t len, uint8_t kind,
                        uint8_t tag, uint16_t hdr_len)
{
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    publish(rec, (uint32_t)len, kind, tag, hdr_len);
    atomic_store_explicit(&ring->head, head + rec_bytes(len), memory_order_relaxed);
}

void btl_sm_ring_own_ahead(btl_sm_ring_t *ring, size_t ring_size, uint64_t tail_cache)
{
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint64_t line = (head + BTL_SM_CACHE_LINE) & ~(uint64_t)(BTL_SM_CACHE_LINE - 1);
    if (line + sizeof(uint64_t) - tail_cache <= ring_size) { /* free: the consumer is done there */
        atomic_store_explicit((_Atomic uint64_t *)(void *)(ring->data + (line & (ring_size - 1))),
                              0, memory_order_relaxed);
    }
}

btl_sm_rec_t *btl_sm_ring_peek(btl_sm_ring_t *ring, size_t ring_size)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        btl_sm_rec_t *rec = (btl_sm_rec_t *)(ring->data + (tail & (ring_size - 1)));
        if (atomic_load_explicit(header_word(rec), memory_order_acquire) == 0) {
            return NULL;
        }
        if (rec->kind != BTL_SM_REC_WRAP) {
            return rec;
        }
        atomic_store_explicit(&ring->tail, tail + rec_bytes(rec->len), memory_order_release);
    }
}

void btl_sm_ring_pop(btl_sm_ring_t *ring, btl_sm_rec_t *rec)
{
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    atomic_store_explicit(&ring->tail, tail + rec_bytes(rec->len), memory_order_release);
}
