/* The doorbells of a crowded node (include/mrail/rte.h), between two
 * processes as btl/sm uses them: a sleeper whose work arrives is always
 * woken by the ring that follows it, never left to its timeout. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mrail/rte.h"

enum { ROUNDS = 20000, LONG_US = 5 * 1000 * 1000 };

/* What the two processes share: a bell each, and the round each side has
 * reached (what a ring announces). */
typedef struct {
    mrail_rte_bell_t bell[2];
    uint64_t round[2];
    uint64_t timeouts[2];
    uint64_t sleeps[2];
} shared_t;

typedef struct {
    shared_t *sh;
    int peer;
    uint64_t want;
} wait_t;

static bool peer_reached(void *arg)
{
    wait_t *w = arg;
    return __atomic_load_n(&w->sh->round[w->peer], __ATOMIC_ACQUIRE) >= w->want;
}

/* Side me: each round waits, asleep, for the other side's round, then
 * publishes its own and rings. Without the last look before sleeping, or
 * without the fence between a ring's store and its look at the sleepers,
 * some round would sleep its whole LONG_US: counted as a timeout. */
static void play(shared_t *sh, int me)
{
    int peer = 1 - me;
    for (uint64_t i = 1; i <= ROUNDS; i++) {
        if (me == 1) {
            wait_t w = {sh, peer, i};
            while (!peer_reached(&w)) {
                sh->sleeps[me]++;
                sh->timeouts[me] += !mrail_rte_bell_sleep(&sh->bell[me], peer_reached, &w, LONG_US);
            }
        }
        __atomic_store_n(&sh->round[me], i, __ATOMIC_RELEASE);
        mrail_rte_bell_ring(&sh->bell[peer]);
        if (me == 0) {
            wait_t w = {sh, peer, i};
            while (!peer_reached(&w)) {
                sh->sleeps[me]++;
                sh->timeouts[me] += !mrail_rte_bell_sleep(&sh->bell[me], peer_reached, &w, LONG_US);
            }
        }
    }
}

Test(rte_bell, a_sleeper_is_woken_by_every_ring_between_processes, .timeout = 120)
{
    shared_t *sh =
        mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(sh, MAP_FAILED);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        play(sh, 1);
        _exit(0);
    }
    play(sh, 0);
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_expect_eq(sh->round[0], ROUNDS);
    cr_expect_eq(sh->round[1], ROUNDS);
    cr_expect_eq(sh->timeouts[0] + sh->timeouts[1], 0, "%lu and %lu sleeps ran out their time",
                 (unsigned long)sh->timeouts[0], (unsigned long)sh->timeouts[1]);
    /* Both really slept: each round one side waits for the other. */
    cr_log_info("sleeps: %lu + %lu", (unsigned long)sh->sleeps[0], (unsigned long)sh->sleeps[1]);
    cr_expect_geq(sh->sleeps[0] + sh->sleeps[1], ROUNDS / 4, "%lu + %lu",
                  (unsigned long)sh->sleeps[0], (unsigned long)sh->sleeps[1]);
    cr_expect_eq(sh->bell[0].sleepers + sh->bell[1].sleepers, 0);
    munmap(sh, sizeof(*sh));
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static bool always(void *arg)
{
    (void)arg;
    return true;
}

Test(rte_bell, a_bell_nobody_rings_lets_its_sleeper_go_at_the_timeout)
{
    mrail_rte_bell_t bell = {0, 0};
    cr_expect_not(mrail_rte_bell_sleep(&bell, never, NULL, 2000));
    cr_expect_eq(bell.sleepers, 0);
    /* Work already there: no sleep at all. */
    cr_expect(mrail_rte_bell_sleep(&bell, always, NULL, LONG_US));
    /* A wake moves the word a sleeper compares against. */
    mrail_rte_bell_wake(&bell);
    cr_expect_eq(bell.seq, 1);
}
