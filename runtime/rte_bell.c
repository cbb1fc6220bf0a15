/* Doorbells of a crowded node (include/mrail/rte.h): a futex word in
 * memory every local rank maps. The sleeper counts itself in, looks for
 * work once more, then sleeps only if the word has not moved since before
 * it counted itself in; a ringer stores, fences, and bumps the word and
 * wakes only when someone counts as asleep. One of the two always sees
 * the other (both fence between their store and their load). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rte_internal.h"

void mrail_rte_bell_attach(mrail_rte_t *rte, uint32_t local_index, mrail_rte_bell_t *bell)
{
    if (!rte->facts.oversubscribed || local_index >= rte->facts.local_size) {
        return;
    }
    if (rte->bells == NULL) {
        if (bell == NULL) {
            return;
        }
        rte->bells = calloc(rte->facts.local_size, sizeof(*rte->bells));
        if (rte->bells == NULL) {
            return; /* no bells: waiting ranks yield, as without them */
        }
    }
    rte->bells[local_index] = bell;
}

mrail_rte_bell_t *mrail_rte_bell_of(const mrail_rte_t *rte, uint32_t local_index)
{
    return rte->bells != NULL && local_index < rte->facts.local_size ? rte->bells[local_index]
                                                                     : NULL;
}

void mrail_rte_bell_wake(mrail_rte_bell_t *bell)
{
    __atomic_fetch_add(&bell->seq, 1, __ATOMIC_SEQ_CST);
    /* Shared between processes: not FUTEX_PRIVATE_FLAG. */
    syscall(SYS_futex, &bell->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

bool mrail_rte_bell_sleep(mrail_rte_bell_t *bell, bool (*ready)(void *arg), void *arg,
                          unsigned timeout_us)
{
    uint32_t seq = __atomic_load_n(&bell->seq, __ATOMIC_ACQUIRE);
    __atomic_fetch_add(&bell->sleepers, 1, __ATOMIC_SEQ_CST);
#ifndef __SANITIZE_THREAD__                  /* see mrail_rte_bell_fence */
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* counted in before the last look */
#endif
    bool timed_out = false;
    if (!ready(arg)) {
        struct timespec t = {.tv_sec = timeout_us / 1000000u,
                             .tv_nsec = (long)(timeout_us % 1000000u) * 1000};
        /* EAGAIN (rung since seq was read) and EINTR mean look again. */
        timed_out =
            syscall(SYS_futex, &bell->seq, FUTEX_WAIT, seq, &t, NULL, 0) != 0 && errno == ETIMEDOUT;
    }
    __atomic_fetch_sub(&bell->sleepers, 1, __ATOMIC_RELEASE);
    return !timed_out;
}

bool mrail_rte_doze(mrail_rte_t *rte, bool (*ready)(void *arg), void *arg, unsigned timeout_us)
{
    mrail_rte_bell_t *bell = mrail_rte_bell_of(rte, rte->facts.local_rank);
    if (bell == NULL) {
        return false;
    }
    mrail_rte_bell_sleep(bell, ready, arg, timeout_us);
    return true;
}
