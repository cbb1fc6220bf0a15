/* Matched probe (MPI 3.1, 3.8.2): MPI_Improbe/MPI_Mprobe take a message
 * out of matching, so that no other receive (another thread's, a wildcard
 * one) can take it, and MPI_Mrecv/MPI_Imrecv receive exactly that one.
 * Message handles index a small table; MPI_MESSAGE_NO_PROC stands for a
 * probe of MPI_PROC_NULL. */
#include <sched.h>
#include <stdlib.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Improbe);
MRAIL_MPI_ALIAS(MPI_Mprobe);
MRAIL_MPI_ALIAS(MPI_Imrecv);
MRAIL_MPI_ALIAS(MPI_Mrecv);

typedef struct mpi_message {
    mrail_pml_message_t *pml; /* NULL: a free slot */
    MPI_Comm comm;
} mpi_message_t;

static mpi_message_t *messages; /* handle h is messages[h - MPI_MESSAGE_NO_PROC - 1] */
static int nmessages;

static MPI_Message message_new(mrail_pml_message_t *pml, MPI_Comm comm)
{
    int i = 0;
    while (i < nmessages && messages[i].pml != NULL) {
        i++;
    }
    if (i == nmessages) {
        int n = nmessages ? 2 * nmessages : 16;
        mpi_message_t *grown = realloc(messages, (size_t)n * sizeof(*grown));
        if (grown == NULL) {
            return MPI_MESSAGE_NULL;
        }
        for (int k = nmessages; k < n; k++) {
            grown[k].pml = NULL;
        }
        messages = grown;
        nmessages = n;
    }
    messages[i] = (mpi_message_t){pml, comm};
    return MPI_MESSAGE_NO_PROC + 1 + i;
}

static mpi_message_t *message_get(MPI_Message h)
{
    int i = h - MPI_MESSAGE_NO_PROC - 1;
    return i >= 0 && i < nmessages && messages[i].pml != NULL ? &messages[i] : NULL;
}

void mpi_messages_fini(void)
{
    free(messages);
    messages = NULL;
    nmessages = 0;
}

int PMPI_Improbe(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message,
                 MPI_Status *status)
{
    const char *fn = "MPI_Improbe";
    bool proc_null;
    mpi_probe_match_t m;
    int rc = mpi_probe_check(source, tag, comm, status, &proc_null, &m, fn);
    if (rc != MPI_SUCCESS || proc_null) {
        *flag = proc_null;
        *message = proc_null ? MPI_MESSAGE_NO_PROC : MPI_MESSAGE_NULL;
        return rc;
    }
    mrail_pml_status_t ps;
    mrail_pml_message_t *pm;
    *flag = mrail_pml_improbe(mrail_obj.pml, m.source, m.tag, m.ctx, &ps, &pm);
    if (!*flag) {
        return MPI_SUCCESS;
    }
    *message = message_new(pm, comm);
    if (*message == MPI_MESSAGE_NULL) { /* taken, and nowhere to keep it: it would be lost */
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a message handle");
    }
    mpi_status_from_pml(comm, &ps, status);
    return MPI_SUCCESS;
}

int PMPI_Mprobe(int source, int tag, MPI_Comm comm, MPI_Message *message, MPI_Status *status)
{
    int flag = 0, rc;
    unsigned idle = 0;
    while ((rc = PMPI_Improbe(source, tag, comm, &flag, message, status)) == MPI_SUCCESS && !flag) {
        if (++idle >= mrail_pml_spin_limit(mrail_obj.pml)) { /* let the sender run */
            sched_yield();
            idle = 0;
        }
    }
    return rc;
}

int PMPI_Imrecv(void *buf, int count, MPI_Datatype type, MPI_Message *message, MPI_Request *request)
{
    const char *fn = "MPI_Imrecv";
    if (message == NULL || (*message != MPI_MESSAGE_NO_PROC && message_get(*message) == NULL)) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                         "invalid message handle %d (one from MPI_Mprobe or MPI_Improbe, "
                         "received only once)",
                         message ? *message : -1);
    }
    mpi_message_t *m = message_get(*message);
    MPI_Comm comm = m != NULL ? m->comm : MPI_COMM_SELF;
    int peer = m != NULL ? MPI_ANY_SOURCE : MPI_PROC_NULL;
    int rc = mpi_recv_prepare(buf, count, type, peer, comm, fn, m ? m->pml : NULL, request);
    if (rc == MPI_SUCCESS) {
        if (m != NULL) {
            m->pml = NULL; /* the receive owns it now */
        }
        *message = MPI_MESSAGE_NULL;
    }
    return rc;
}

int PMPI_Mrecv(void *buf, int count, MPI_Datatype type, MPI_Message *message, MPI_Status *status)
{
    MPI_Request req;
    int rc = PMPI_Imrecv(buf, count, type, message, &req);
    return rc != MPI_SUCCESS ? rc : PMPI_Wait(&req, status);
}
