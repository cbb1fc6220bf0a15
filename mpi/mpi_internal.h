/* The MPI layer's state: one process-wide registry of handles (the MPI
 * standard makes it process-global), the PML underneath. */
#ifndef MRAIL_MPI_INTERNAL_H
#define MRAIL_MPI_INTERNAL_H

#include <stdbool.h>

#include "mpi.h"
#include "mrail/pml.h"

#define MPI_TAG_MAX 0x3fffffff /* what MPI_TAG_UB reports */

typedef struct mpi_comm {
    bool valid;
    uint32_t ctx; /* PML context */
    int size, rank;
    uint32_t *world; /* comm rank -> job rank */
    MPI_Errhandler errhandler;
} mpi_comm_t;

typedef enum { MPI_REQ_UNUSED, MPI_REQ_SEND, MPI_REQ_RECV } mpi_req_kind_t;

typedef struct mpi_req {
    mpi_req_kind_t kind;
    bool persistent;
    bool active;              /* started and not yet completed by a wait or test */
    bool detached;            /* MPI_Request_free on an active request: completes on its own */
    mrail_pml_request_t *pml; /* NULL: completed already (MPI_PROC_NULL) */
    /* the call's arguments, kept for persistent requests and status */
    void *buf;
    int count;
    MPI_Datatype type;
    int peer, tag;
    MPI_Comm comm;
    bool synchronous;
    void *bsend_copy; /* MPI_Bsend: the copy in the attached buffer's budget */
    size_t bsend_bytes;
} mpi_req_t;

typedef struct mpi_state {
    bool initialized, finalized;
    int thread_level;
    mrail_rte_t *rte;
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    mrail_pml_t *pml;
    mpi_comm_t comms[3]; /* NULL, WORLD, SELF until the collectives issue adds more */
    mpi_req_t *reqs;     /* handle h is reqs[h - 1] */
    int nreqs;
    int *free_slots; /* handles of unused slots, a stack */
    int nfree;
    void *bsend_buffer; /* MPI_Buffer_attach */
    size_t bsend_size, bsend_used;
    int bsend_pending; /* Bsend requests not complete yet */
} mpi_state_t;

extern mpi_state_t mrail_mpi;

/* Reports an error through comm's handler: prints and aborts for
 * MPI_ERRORS_ARE_FATAL, else returns errclass. fn is the MPI call. */
int mpi_error(MPI_Comm comm, int errclass, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Argument checks shared by the calls; each returns MPI_SUCCESS or the
 * error already reported. */
int mpi_check_init(const char *fn);
int mpi_check_comm(MPI_Comm comm, const char *fn);
int mpi_check_buffer(MPI_Comm comm, const void *buf, int count, MPI_Datatype type, const char *fn);
int mpi_check_dest(MPI_Comm comm, int rank, const char *fn);
int mpi_check_source(MPI_Comm comm, int rank, const char *fn);
int mpi_check_send_tag(MPI_Comm comm, int tag, const char *fn);
int mpi_check_recv_tag(MPI_Comm comm, int tag, const char *fn);

/* Datatypes (mpi_datatype.c): size in bytes, 0 for an invalid handle. */
size_t mpi_type_size(MPI_Datatype type);
const char *mpi_type_name(MPI_Datatype type);

/* Requests (mpi_request.c). */
int mpi_req_new(mpi_req_t **req_out, MPI_Request *handle);
/* Returns a slot that will not be used (an error after mpi_req_new). */
void mpi_req_drop(mpi_req_t *req);
mpi_req_t *mpi_req_get(MPI_Request handle);
/* Starts the PML operation of an (inactive) request. */
int mpi_req_start(mpi_req_t *req, const char *fn);
/* Converts a PML status into comm's terms. */
void mpi_status_from_pml(MPI_Comm comm, const mrail_pml_status_t *in, MPI_Status *out);
void mpi_status_empty(MPI_Status *out);
/* Completes what finished in the background (detached requests, bsends). */
void mpi_reap_background(void);

#endif
