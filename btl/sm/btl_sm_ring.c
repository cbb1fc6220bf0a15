/* Single-producer / single-consumer byte ring in shared memory.
 *
 * head and tail only grow; position = value & (size - 1). The producer
 * writes a record, then publishes it with a release store of head; the
 * consumer reads head with acquire, uses the record, then frees it with a
 * release store of tail. No locks, no atomics read-modify-write. */
#include <string.h>

#include "btl_sm.h"

#define REC_ALIGN 8

static size_t rec_bytes(size_t len)
{
    return (sizeof(btl_sm_rec_t) + len + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

size_t btl_sm_ring_max_record(size_t ring_size)
{
    return ring_size / 2 - sizeof(btl_sm_rec_t);
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
    /* The consumer's tail lives on its cache line: read it only when our
     * last look says there is no room. */
    if (need + skip > ring_size - (size_t)(head - *tail_cache)) {
        *tail_cache = atomic_load_explicit(&ring->tail, memory_order_acquire);
        if (need + skip > ring_size - (size_t)(head - *tail_cache)) {
            return NULL;
        }
    }
    if (skip > 0) {
        /* The record would straddle the end: mark the rest of the ring as
         * skipped and start over at offset 0. */
        btl_sm_rec_t *wrap = (btl_sm_rec_t *)(ring->data + pos);
        wrap->kind = BTL_SM_REC_WRAP;
        wrap->len = (uint32_t)(skip - sizeof(btl_sm_rec_t));
        atomic_store_explicit(&ring->head, head + skip, memory_order_release);
        pos = 0;
    }
    btl_sm_rec_t *rec = (btl_sm_rec_t *)(ring->data + pos);
    rec->len = (uint32_t)len;
    return rec;
}

void btl_sm_ring_commit(btl_sm_ring_t *ring, size_t ring_size, btl_sm_rec_t *rec)
{
    (void)ring_size;
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    atomic_store_explicit(&ring->head, head + rec_bytes(rec->len), memory_order_release);
}

btl_sm_rec_t *btl_sm_ring_peek(btl_sm_ring_t *ring, size_t ring_size, uint64_t *head_cache)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        /* Likewise the producer's head: re-read only when we caught up. */
        if (tail == *head_cache) {
            *head_cache = atomic_load_explicit(&ring->head, memory_order_acquire);
            if (tail == *head_cache) {
                return NULL;
            }
        }
        btl_sm_rec_t *rec = (btl_sm_rec_t *)(ring->data + (tail & (ring_size - 1)));
        if (rec->kind != BTL_SM_REC_WRAP) {
            return rec;
        }
        atomic_store_explicit(&ring->tail, tail + rec_bytes(rec->len), memory_order_release);
    }
}

void btl_sm_ring_pop(btl_sm_ring_t *ring, size_t ring_size, btl_sm_rec_t *rec)
{
    (void)ring_size;
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    atomic_store_explicit(&ring->tail, tail + rec_bytes(rec->len), memory_order_release);
}
