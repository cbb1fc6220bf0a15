/* The MPI layer's windows (mpi_win*.c): handles, what MPI asks a window
 * to remember, and the epochs opened on it, which every operation and
 * synchronisation call checks (MPI_ERR_RMA_SYNC) before the osc window
 * does the work. */
#ifndef MRAIL_MPI_WIN_H
#define MRAIL_MPI_WIN_H

#include "mpi_internal.h"
#include "mrail/osc.h"

typedef struct mpi_win {
    bool valid;
    mrail_osc_win_t *osc;
    MPI_Comm comm; /* the private copy the window's traffic uses */
    int size, rank;
    void *base;
    MPI_Aint bytes;
    int disp_unit, flavor, model;
    void *allocated;      /* MPI_Win_allocate's memory */
    mrail_osc_shm_t *shm; /* MPI_Win_allocate_shared's segment */
    int *shared_units;    /* and every rank's disp unit */
    MPI_Errhandler errhandler;
    char name[MPI_MAX_OBJECT_NAME];
    mpi_attr_t *attrs;
    MPI_Info info; /* the hints given, returned by MPI_Win_get_info */
    /* epochs */
    bool fence;      /* between fences (one without MPI_MODE_NOSUCCEED) */
    bool started;    /* MPI_Win_start .. complete */
    bool posted;     /* MPI_Win_post .. wait/test */
    bool lock_all;   /* MPI_Win_lock_all .. unlock_all */
    int nlocks;      /* targets locked with MPI_Win_lock */
    int *locked;     /* per target: MPI_LOCK_* or 0 */
    bool *in_access; /* per target: in the start group */
} mpi_win_t;

/* The window of handle win; NULL (reported through MPI_COMM_WORLD) if invalid. */
mpi_win_t *mpi_win_get(MPI_Win win, const char *fn);
/* The error through the window's handler. */
#define mpi_win_fail(w, h, errclass, fn, ...)                                                      \
    mpi_win_error(h, (w)->errhandler, errclass, fn, __VA_ARGS__)
/* Every call into an osc window holds the pml's lock: a progress thread
 * may run the window's target side meanwhile (osc/base). */
static inline int mpi_osc_unlock_rc(int rc)
{
    mrail_pml_unlock(mrail_obj.pml);
    return rc;
}
#define OSC_CALL(w, op, ...)                                                                       \
    (mrail_pml_lock(mrail_obj.pml), mpi_osc_unlock_rc((w)->osc->ops->op((w)->osc, __VA_ARGS__)))
static inline void mpi_osc_req_free(mrail_osc_win_t *osc, mrail_osc_req_t *req)
{
    mrail_pml_lock(mrail_obj.pml);
    osc->ops->req_free(osc, req);
    mrail_pml_unlock(mrail_obj.pml);
}
static inline bool mpi_osc_req_test(mrail_osc_win_t *osc, mrail_osc_req_t *req)
{
    mrail_pml_lock(mrail_obj.pml);
    bool done = osc->ops->req_test(osc, req);
    mrail_pml_unlock(mrail_obj.pml);
    return done;
}

/* Window attributes (mpi_win_attr.c): deletes every value at MPI_Win_free. */
void mpi_win_attrs_delete_all(MPI_Win win, mpi_win_t *w);
void mpi_win_keyvals_fini(void);
void mpi_wins_fini(void);

#endif
