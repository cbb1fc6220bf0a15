/* Which of rdma get and the send path moves a large message, measured.
 *
 * Over sm with CMA, rdma get copies each byte once, in the kernel
 * (process_vm_readv, at 8-11 GB/s per core on the test VM); the send path
 * copies it twice, in user space, through rings that stay in cache. Which
 * is faster depends on how fast the two cores exchange cache lines, and on
 * that VM this changes within seconds (the hypervisor moves the virtual
 * CPUs). Both ways at once the rings read 22-35 GB/s while a line crosses
 * in 60-70 ns and 5-7 while it takes 250 ns, where rdma get held 14-20 in
 * both; one way at 1-4 MiB the rings read 24-27 against get's 18-20 in the
 * fast mode (docs/PERFORMANCE.md, issue 14). So each size class of such
 * messages to each peer (pml_stripe_send.c says which: from
 * PML_ADAPT_MIN), one-way and both-ways traffic apart, keeps the faster of
 * the two by measuring:
 * an epoch (at least PML_ADAPT_EPOCH bytes sent, ending when none is in
 * flight) runs one choice, and its rate is the bytes over the time some
 * message of the class was in flight (gaps between a program's bursts do
 * not count). A class starts from the choice the thresholds make without
 * measuring; after PML_ADAPT_KEEP epochs of a choice, a shorter epoch
 * tries the other, which is kept if it beat the best of the kept choice's
 * last PML_ADAPT_RECENT epochs; a try that lost badly makes the next wait
 * longer.
 *
 * One way below the btl's min_rdma_pipeline_size a class watches instead:
 * there the rings read 19-35 GB/s in the fast mode against get's 6-10,
 * and a try of get every 24 epochs cost a short benchmark a tenth of its
 * rate at 128 KiB; but in the slow mode the rings fall to 1.2-2.5, where
 * get holds 6-10. Such a class tries get only while the best of the
 * rings' last epochs is below PML_ADAPT_RINGS_SLOW; once get wins, it is
 * measured as any other class until the rings win again.
 *
 * Both ways, the two sides' choices are one: a side that tries the rings
 * while its peer still sends by get pulls the peer's messages itself and
 * sees the rings no faster (quiet, fast mode, 128 KiB: the pair stayed on
 * get at 15 GB/s where both on the rings read 26-35). So the lower rank
 * measures and chooses, the higher one follows the choice the lower
 * one's RTSs carry (pml_adapt_follow), and a try both ways skips its first
 * epoch, the window the follower still sent the old way. */
#include <stdlib.h>
#include <string.h>

#include "pml_stripe.h"

#define PML_ADAPT_EPOCH (16u << 20)
/* A try is shorter: in a short benchmark (OSU's 22 windows per size) a try
 * of the slower choice is a good part of the run. */
#define PML_ADAPT_PROBE (4u << 20)
#define PML_ADAPT_KEEP 24
/* A try that loses by this much waits twice as long before the next, up
 * to PML_ADAPT_KEEP_MAX epochs: each costs an epoch at the slower rate. */
#define PML_ADAPT_LOST 0.7
#define PML_ADAPT_KEEP_MAX 96
/* Bytes per us below which the rings of a watching class are slow enough
 * that get (CMA, 6-10 GB/s a core on the test VM) may beat them. */
#define PML_ADAPT_RINGS_SLOW 5000.0

/* The class of a message of len >= PML_ADAPT_MIN bytes: one per doubling,
 * the last open-ended; both-ways traffic has classes of its own. */
static unsigned class_of(size_t len, bool both)
{
    size_t ratio = len / PML_ADAPT_MIN;
    unsigned c = 63u - (unsigned)__builtin_clzll((unsigned long long)ratio);
    return (c < PML_ADAPT_SIZES ? c : PML_ADAPT_SIZES - 1) + (both ? PML_ADAPT_SIZES : 0);
}

bool pml_adapt_use_get(pml_stripe_t *pml, uint32_t dst, size_t len, bool both, bool get,
                       uint8_t *class_out)
{
    *class_out = 0;
    if (!pml->rget_adapt) {
        return get;
    }
    if (pml->adapt[dst] == NULL &&
        (pml->adapt[dst] = calloc(PML_ADAPT_CLASSES, sizeof(pml_adapt_t))) == NULL) {
        return get; /* unmeasured, as without adapting */
    }
    unsigned c = class_of(len, both);
    pml_adapt_t *b = &pml->adapt[dst][c];
    if (both && pml->rank > dst) { /* the lower rank chooses for the pair */
        return b->used ? b->choice == PML_ADAPT_GET : get;
    }
    if (!b->used) {
        b->used = true;
        b->choice = get ? PML_ADAPT_GET : PML_ADAPT_RINGS;
        b->keep = PML_ADAPT_KEEP;
        b->watch = !both && !get;
        b->both = both;
        /* Try the other after the second epoch: the first pays for warming
         * up (a ring's first lap faults its pages in) and would misjudge. */
        b->epochs = PML_ADAPT_KEEP - 2;
    }
    *class_out = (uint8_t)(c + 1);
    return b->choice == PML_ADAPT_GET;
}

void pml_adapt_follow(pml_stripe_t *pml, uint32_t from, size_t len, bool get)
{
    if (!pml->rget_adapt || pml->rank <= from || pml->adapt[from] == NULL) {
        return; /* we lead, or never sent it anything measured: nothing to follow */
    }
    pml_adapt_t *b = &pml->adapt[from][class_of(len, true)];
    b->used = true;
    b->choice = get ? PML_ADAPT_GET : PML_ADAPT_RINGS;
}

void pml_adapt_started(pml_stripe_t *pml, uint32_t dst, uint8_t cls)
{
    pml_adapt_t *b = &pml->adapt[dst][cls - 1];
    if (b->inflight++ == 0) {
        b->busy_since_us = pml_now_us();
    }
}

/* The best of the kept choice's last epochs. Under load one epoch in two
 * or three can read 5-10x below the others (a rank descheduled for a few
 * ms while the epoch lasted 1-2): the best says what the choice does while
 * both ranks run, and whichever is tried meets the same slices. */
static double kept_rate(const pml_adapt_t *b)
{
    double best = 0;
    for (unsigned i = 0; i < PML_ADAPT_RECENT; i++) {
        best = b->recent[i] > best ? b->recent[i] : best;
    }
    return best;
}

/* The epoch of b is over: note its rate, and choose for the next. */
static void epoch_end(pml_adapt_t *b)
{
    double rate = b->busy_us > 0 ? (double)b->bytes / b->busy_us : 0;
    b->bytes = 0;
    b->busy_us = 0;
    if (!b->probing) {
        memmove(&b->recent[1], &b->recent[0], (PML_ADAPT_RECENT - 1) * sizeof(b->recent[0]));
        b->recent[0] = rate;
        /* A class's first epoch warms up (a ring's first lap faults its
         * pages in): its rate counts in the best, not in the watch's run. */
        b->seen += b->warmed && b->seen < PML_ADAPT_RECENT;
        b->warmed = true;
        /* Watching, only a run of slow epochs is slow rings: one or two in
         * a row are a rank off its core under load. */
        bool slow = b->choice == PML_ADAPT_GET ||
                    (b->seen == PML_ADAPT_RECENT && kept_rate(b) < PML_ADAPT_RINGS_SLOW);
        if (++b->epochs >= b->keep && (!b->watch || slow)) {
            b->probing = true;
            b->lagging = b->both;
            b->choice ^= 1;
        }
        return;
    }
    if (b->lagging) { /* both ways the peer follows a window late: measure the next */
        b->lagging = false;
        return;
    }
    /* The other one was tried: keep the faster. */
    b->probing = false;
    b->epochs = 0;
    double kept = kept_rate(b);
    if (rate >= PML_ADAPT_LOST * kept) {
        b->keep = PML_ADAPT_KEEP;
    } else if (2 * b->keep <= PML_ADAPT_KEEP_MAX) {
        b->keep *= 2;
    }
    if (rate < kept) {
        b->choice ^= 1;
    } else { /* the tried one is kept: its one epoch so far */
        b->recent[0] = rate;
        b->seen = 1;
        for (unsigned i = 1; i < PML_ADAPT_RECENT; i++) {
            b->recent[i] = 0;
        }
    }
}

void pml_adapt_done(pml_stripe_t *pml, uint32_t dst, uint8_t cls, size_t len)
{
    pml_adapt_t *b = &pml->adapt[dst][cls - 1];
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
    if (b->bytes >= (b->probing ? PML_ADAPT_PROBE : PML_ADAPT_EPOCH)) {
        epoch_end(b);
    }
}

void pml_adapt_free(pml_stripe_t *pml)
{
    for (uint32_t p = 0; pml->adapt != NULL && p < pml->size; p++) {
        free(pml->adapt[p]);
    }
    free(pml->adapt);
    pml->adapt = NULL;
}
