/* Which of rdma get and the send path moves large messages to a peer that
 * streams to us too, measured.
 *
 * Both ways at once over sm, rdma get copies each byte once, in the
 * kernel (process_vm_readv), at 8-11 GB/s per core on the test VM; the
 * send path copies it twice, in user space, through rings that stay in
 * cache. Which is faster depends on how fast the two cores exchange
 * cache lines, and on that VM this changes within seconds (the hypervisor
 * moves the virtual CPUs): the rings read 22-32 GB/s while a line crosses
 * in 60-70 ns and 5-7 GB/s while it takes 250 ns, where rdma get held
 * 14-20 in both (docs/PERFORMANCE.md, issue 14). So each size class of
 * such messages to each peer keeps the faster of the two by measuring:
 * an epoch (at least PML_BIDIR_EPOCH bytes sent, ending when none is in
 * flight) runs one choice, and its rate is the bytes over the time some message
 * of the class was in flight (gaps between a program's bursts do not
 * count). After PML_BIDIR_KEEP epochs of the choice, one epoch tries the
 * other, and the faster of the two rates measured last is kept; a try
 * that lost badly makes the next wait longer. */
#include <stdlib.h>

#include "pml_stripe.h"

#define PML_BIDIR_EPOCH (16u << 20)
#define PML_BIDIR_KEEP 24
/* A try that loses by this much waits twice as long before the next, up
 * to PML_BIDIR_KEEP_MAX epochs: each costs an epoch at the slower rate. */
#define PML_BIDIR_LOST 0.7
#define PML_BIDIR_KEEP_MAX 96

/* The class of a message of len >= pml->bidir_rget bytes: one per
 * doubling, the last open-ended. */
static unsigned class_of(const pml_stripe_t *pml, size_t len)
{
    size_t ratio = len / pml->bidir_rget;
    unsigned c = 63u - (unsigned)__builtin_clzll((unsigned long long)ratio);
    return c < PML_BIDIR_CLASSES ? c : PML_BIDIR_CLASSES - 1;
}

bool pml_bidir_use_get(pml_stripe_t *pml, uint32_t dst, size_t len, uint8_t *class_out)
{
    *class_out = 0;
    if (!pml->bidir_adapt) {
        return true;
    }
    if (pml->bidir[dst] == NULL) {
        pml_bidir_t *b = calloc(PML_BIDIR_CLASSES, sizeof(*b));
        if (b == NULL) {
            return true; /* unmeasured: rdma get, as without adapting */
        }
        for (unsigned c = 0; c < PML_BIDIR_CLASSES; c++) {
            b[c].keep = PML_BIDIR_KEEP;
            b[c].epochs = PML_BIDIR_KEEP - 1; /* try the rings after the first epoch */
        }
        pml->bidir[dst] = b;
    }
    unsigned c = class_of(pml, len);
    *class_out = (uint8_t)(c + 1);
    return pml->bidir[dst][c].choice == PML_BIDIR_GET;
}

void pml_bidir_started(pml_stripe_t *pml, uint32_t dst, uint8_t cls)
{
    pml_bidir_t *b = &pml->bidir[dst][cls - 1];
    if (b->inflight++ == 0) {
        b->busy_since_us = pml_now_us();
    }
}

/* The epoch of b is over: keep its rate, and choose for the next. */
static void epoch_end(pml_bidir_t *b)
{
    b->rate[b->choice] = b->busy_us > 0 ? (double)b->bytes / b->busy_us : 0;
    b->bytes = 0;
    b->busy_us = 0;
    if (b->probing) { /* the other one was tried: keep the faster */
        b->probing = false;
        b->epochs = 0;
        double tried = b->rate[b->choice], kept = b->rate[b->choice ^ 1];
        if (tried < kept) {
            b->choice ^= 1;
        }
        if (tried >= PML_BIDIR_LOST * kept) {
            b->keep = PML_BIDIR_KEEP;
        } else if (2 * b->keep <= PML_BIDIR_KEEP_MAX) {
            b->keep *= 2;
        }
    } else if (++b->epochs >= b->keep) {
        b->probing = true;
        b->choice ^= 1;
    }
}

void pml_bidir_done(pml_stripe_t *pml, uint32_t dst, uint8_t cls, size_t len)
{
    pml_bidir_t *b = &pml->bidir[dst][cls - 1];
    b->bytes += len;
    /* Completions come in bursts (a batch of FINs, a ring drained at
     * once): only a span with nothing left in flight is a rate. A stream
     * that never drains keeps its choice. */
    if (b->inflight > 0 && --b->inflight > 0) {
        return;
    }
    double now = pml_now_us();
    b->busy_us += now - b->busy_since_us;
    b->busy_since_us = now;
    if (b->bytes >= PML_BIDIR_EPOCH) {
        epoch_end(b);
    }
}

void pml_bidir_free(pml_stripe_t *pml)
{
    for (uint32_t p = 0; pml->bidir != NULL && p < pml->size; p++) {
        free(pml->bidir[p]);
    }
    free(pml->bidir);
    pml->bidir = NULL;
}
