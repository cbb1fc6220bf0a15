/* The osc framework: one-sided communication (MPI windows) for the MPI
 * layer.
 *
 * One component is selected per job, the highest osc_<comp>_priority that
 * accepts (as the pml). The MPI layer checks every argument, keeps the
 * window's handle, attributes and error handler, and makes the window a
 * private copy of the user's communicator; the component's window does
 * the rest on that copy: its messages travel in the copy's point-to-point
 * context and its collectives (fence, free) in the copy's collective one,
 * so no user message can take them.
 *
 * Ranks are ranks of the window's communicator. Displacements are in the
 * target's disp units, as MPI counts them; a dynamic window's are
 * addresses at the target. Types are the MPI layer's handles (the
 * datatype engine of mpiobj/), valid while the call runs: a window keeps
 * what it needs past it. */
#ifndef MRAIL_OSC_H
#define MRAIL_OSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"
#include "mrail/component.h"

#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

extern const mrail_framework_ops_t mrail_osc_framework_ops;

/* A full memory barrier: orders this thread's copies into shared window
 * memory before what it does next. ThreadSanitizer does not take fences
 * (GCC refuses them under -fsanitize=thread), so there a sequentially
 * consistent exchange stands in. */
static inline void mrail_osc_fence(void)
{
#ifdef __SANITIZE_THREAD__
    static int word;
    __atomic_exchange_n(&word, 0, __ATOMIC_SEQ_CST);
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

typedef struct mrail_osc_win mrail_osc_win_t;
typedef struct mrail_osc_req mrail_osc_req_t; /* an operation of a request form (MPI_Rput...) */
typedef struct mrail_osc_ops mrail_osc_ops_t;

/* Every component's window begins with this. */
struct mrail_osc_win {
    const mrail_osc_ops_t *ops;
    MPI_Comm comm;                     /* the private copy; the MPI layer frees it after free */
    int flavor;                        /* MPI_WIN_FLAVOR_* */
    struct mrail_osc_win *next_active; /* osc/base: the windows progress drives */
};

/* What a window is made of at this process. */
typedef struct mrail_osc_shm mrail_osc_shm_t;
typedef struct mrail_osc_win_args {
    MPI_Comm comm;
    int flavor;
    void *base; /* create / allocate / shared: this process's memory */
    MPI_Aint size;
    int disp_unit;
    /* Every rank's memory is a part of this segment, mapped here too (a
     * window whose ranks share a node): NULL otherwise. */
    const mrail_osc_shm_t *shm;
} mrail_osc_win_args_t;

/* An operation's target: rank, displacement, and count of type there. */
typedef struct mrail_osc_target {
    int rank;
    MPI_Aint disp;
    int count;
    MPI_Datatype type;
} mrail_osc_target_t;

/* Every call returns an MPI error class (MPI_SUCCESS); the MPI layer
 * reports it through the window's error handler. req, where a call has
 * one, is NULL for the plain forms; with it the operation is also a
 * request, tested with req_test and freed with req_free. */
struct mrail_osc_ops {
    /* Origin buffer (count of type) to the target. */
    int (*put)(mrail_osc_win_t *w, const void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req);
    /* The target's data into buf. */
    int (*get)(mrail_osc_win_t *w, void *buf, int count, MPI_Datatype type,
               const mrail_osc_target_t *t, mrail_osc_req_t **req);
    /* target = buf op target, element by element, atomically per element
     * against every other accumulate; with result non-NULL the target's
     * values before are fetched into it (get_accumulate). op may be
     * MPI_REPLACE or MPI_NO_OP (buf then unused). */
    int (*accumulate)(mrail_osc_win_t *w, const void *buf, int count, MPI_Datatype type,
                      void *result, int rcount, MPI_Datatype rtype, const mrail_osc_target_t *t,
                      MPI_Op op, mrail_osc_req_t **req);
    /* One element of type: result = target; if target == compare, target = buf. */
    int (*compare_and_swap)(mrail_osc_win_t *w, const void *buf, const void *compare, void *result,
                            MPI_Datatype type, int rank, MPI_Aint disp);

    /* Active target. ranks: a group as ranks of the window's comm. */
    int (*fence)(mrail_osc_win_t *w, int assert);
    int (*post)(mrail_osc_win_t *w, const int *ranks, int n, int assert);
    int (*start)(mrail_osc_win_t *w, const int *ranks, int n, int assert);
    int (*complete)(mrail_osc_win_t *w);
    /* Ends the exposure epoch; with flag non-NULL only if it can at once. */
    int (*wait)(mrail_osc_win_t *w, int *flag);

    /* Passive target. rank -1: every rank (lock_all, unlock_all, flush_all...). */
    int (*lock)(mrail_osc_win_t *w, int lock_type, int rank, int assert);
    int (*unlock)(mrail_osc_win_t *w, int rank);
    int (*flush)(mrail_osc_win_t *w, int rank);
    int (*flush_local)(mrail_osc_win_t *w, int rank);

    /* Dynamic windows: memory the others may address from now on / no longer. */
    int (*attach)(mrail_osc_win_t *w, void *base, MPI_Aint size);
    int (*detach)(mrail_osc_win_t *w, const void *base);

    /* Moves the window's traffic (target side included); the events handled. */
    int (*progress)(mrail_osc_win_t *w);
    /* Collective: every operation on the window complete, then it is freed. */
    int (*free)(mrail_osc_win_t *w);

    bool (*req_test)(mrail_osc_win_t *w, mrail_osc_req_t *req);
    void (*req_free)(mrail_osc_win_t *w, mrail_osc_req_t *req);
};

typedef struct mrail_osc_component {
    mrail_ranked_component_t ranked; /* first: the framework selects it by priority */
    /* Builds this process's part of a window; collective over args->comm. */
    int (*win_create)(struct mrail_osc_component *self, const mrail_osc_win_args_t *args,
                      mrail_osc_win_t **win, mrail_reason_t *why);
} mrail_osc_component_t;

/* ---- osc/base ---- */
/* A window of the selected component (see win_create); registered with
 * the progress engine until mrail_osc_win_free. */
int mrail_osc_win_create(mrail_frameworks_t *fws, const mrail_osc_win_args_t *args,
                         mrail_osc_win_t **win, mrail_reason_t *why);
int mrail_osc_win_free(mrail_osc_win_t *win);
/* Runs every window's progress; the pml calls it from its own (see
 * mrail_pml_set_hook), so a target moves while it waits on anything. */
int mrail_osc_progress_all(void *unused);

/* The progress thread (opt-in, a component's parameter): drives the pml
 * every interval_us while it runs, taking the pml's lock when the
 * program's thread does not hold it. Started at most once. */
int mrail_osc_thread_start(unsigned interval_us);
void mrail_osc_thread_stop(void);

/* Shared memory for MPI_Win_allocate_shared: every rank's size bytes in
 * one segment mapped at every process of comm (all on one node), rank
 * after rank, each part aligned to 64 bytes. Collective. *mine is this
 * process's part; mrail_osc_shm_part gives any rank's. */
int mrail_osc_shm_create(MPI_Comm comm, size_t size, mrail_osc_shm_t **shm, void **mine,
                         mrail_reason_t *why);
void *mrail_osc_shm_part(const mrail_osc_shm_t *shm, int rank, size_t *size);
/* A word in the segment, 0 at first, on a cache line of its own: what
 * serialises the accumulates to rank's part (osc/am). */
uint32_t *mrail_osc_shm_lock(const mrail_osc_shm_t *shm, int rank);
void mrail_osc_shm_free(mrail_osc_shm_t *shm);
/* Is every rank of comm on this node? */
bool mrail_osc_comm_on_one_node(MPI_Comm comm);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
