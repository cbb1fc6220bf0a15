/* The opt-in progress thread: while windows exist, it drives the pml
 * (and through its hook every window's target side) every interval, so
 * that a target computing outside MPI still grants locks and answers
 * gets. It takes the pml's lock only when the program's thread does not
 * hold it (trylock): it never delays a call the program makes. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "osc_base.h"

/* The thread of this process, while one runs. */
static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    atomic_bool stop;
    bool running;
    unsigned interval_us;
} progress_thread;

static void *drive(void *arg)
{
    mrail_pml_t *pml = arg;
    struct timespec pause = {0, (long)progress_thread.interval_us * 1000};
    while (!atomic_load(&progress_thread.stop)) {
        nanosleep(&pause, NULL);
        if (pthread_mutex_trylock(&progress_thread.lock) == 0) {
            mrail_pml_progress(pml); /* takes the (recursive) lock again */
            pthread_mutex_unlock(&progress_thread.lock);
        }
    }
    return NULL;
}

int mrail_osc_thread_start(unsigned interval_us)
{
    if (progress_thread.running || interval_us == 0) {
        return MRAIL_SUCCESS;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(&progress_thread.lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    progress_thread.interval_us = interval_us > 999999 ? 999999 : interval_us;
    atomic_store(&progress_thread.stop, false);
    /* The program's thread is inside MPI_Win_create and holds nothing:
     * from here on every pml call takes the lock. */
    mrail_obj.pml->lock = &progress_thread.lock;
    if (pthread_create(&progress_thread.tid, NULL, drive, mrail_obj.pml) != 0) {
        mrail_obj.pml->lock = NULL;
        pthread_mutex_destroy(&progress_thread.lock);
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    progress_thread.running = true;
    return MRAIL_SUCCESS;
}

void mrail_osc_thread_stop(void)
{
    if (!progress_thread.running) {
        return;
    }
    atomic_store(&progress_thread.stop, true);
    pthread_join(progress_thread.tid, NULL);
    mrail_obj.pml->lock = NULL;
    pthread_mutex_destroy(&progress_thread.lock);
    progress_thread.running = false;
}
