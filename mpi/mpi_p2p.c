/* MPI point-to-point calls: argument checks, then a request on the PML. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"
#include "mrail/coll.h"

MRAIL_MPI_ALIAS(MPI_Isend);
MRAIL_MPI_ALIAS(MPI_Issend);
MRAIL_MPI_ALIAS(MPI_Irsend);
MRAIL_MPI_ALIAS(MPI_Irecv);
MRAIL_MPI_ALIAS(MPI_Send);
MRAIL_MPI_ALIAS(MPI_Ssend);
MRAIL_MPI_ALIAS(MPI_Rsend);
MRAIL_MPI_ALIAS(MPI_Recv);
MRAIL_MPI_ALIAS(MPI_Sendrecv);
MRAIL_MPI_ALIAS(MPI_Sendrecv_replace);
MRAIL_MPI_ALIAS(MPI_Iprobe);
MRAIL_MPI_ALIAS(MPI_Probe);
MRAIL_MPI_ALIAS(MPI_Get_count);
MRAIL_MPI_ALIAS(MPI_Get_elements);
MRAIL_MPI_ALIAS(MPI_Get_elements_x);
MRAIL_MPI_ALIAS(MPI_Status_set_elements);
MRAIL_MPI_ALIAS(MPI_Status_set_elements_x);
MRAIL_MPI_ALIAS(MPI_Status_set_cancelled);
MRAIL_MPI_ALIAS(MPI_Send_init);
MRAIL_MPI_ALIAS(MPI_Ssend_init);
MRAIL_MPI_ALIAS(MPI_Recv_init);
MRAIL_MPI_ALIAS(MPI_Buffer_attach);
MRAIL_MPI_ALIAS(MPI_Buffer_detach);
MRAIL_MPI_ALIAS(MPI_Bsend);
MRAIL_MPI_ALIAS(MPI_Ibsend);
MRAIL_MPI_ALIAS(MPI_Bsend_init);
MRAIL_MPI_ALIAS(MPI_Rsend_init);

/* The checks every point-to-point call makes. An empty message may name
 * MPI_DATATYPE_NULL (as with Open MPI and MPICH; public test suites rely on
 * it): it becomes MPI_BYTE. */
static int check_p2p(mpi_req_kind_t kind, const void *buf, int count, MPI_Datatype *type, int peer,
                     int tag, MPI_Comm comm, const char *fn)
{
    if (count == 0 && *type == MPI_DATATYPE_NULL) {
        *type = MPI_BYTE;
    }
    int rc = mpi_check_comm(comm, fn);
    if (rc == MPI_SUCCESS) {
        rc = mpi_check_buffer(comm, buf, count, *type, fn);
    }
    if (rc == MPI_SUCCESS) {
        rc = kind == MPI_REQ_SEND ? mpi_check_dest(comm, peer, fn)
                                  : mpi_check_source(comm, peer, fn);
    }
    if (rc == MPI_SUCCESS) {
        rc = kind == MPI_REQ_SEND ? mpi_check_send_tag(comm, tag, fn)
                                  : mpi_check_recv_tag(comm, tag, fn);
    }
    return rc;
}

/* An ordinary call, checked in one pass: the library running, a
 * live communicator, a committed contiguous type, a buffer, a rank of the
 * communicator (or MPI_ANY_SOURCE for a receive) and a legal tag. Returns
 * the type, or NULL for anything else, which check_p2p then looks at in
 * full and names. A small blocking message's whole MPI layer is this
 * and the pml call, so it is done without the per-check calls. */
static const mpi_type_t *plain_p2p(mpi_req_kind_t kind, const void *buf, int count,
                                   MPI_Datatype type, int peer, int tag, MPI_Comm comm)
{
    if (!mrail_mpi.initialized || comm <= MPI_COMM_NULL || comm >= mrail_obj.ncomms) {
        return NULL;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    const mpi_type_t *t = mpi_type(type);
    bool any = kind == MPI_REQ_RECV;
    if (!c->valid || count < 0 || t == NULL || !t->committed || (buf == NULL && count > 0) ||
        !(peer >= 0 ? peer < mpi_peer_size(c) : any && peer == MPI_ANY_SOURCE) ||
        !(tag >= 0 ? tag <= MPI_TAG_MAX : any && tag == MPI_ANY_TAG) || !mpi_type_contiguous(t)) {
        return NULL;
    }
    return t;
}

/* A new request's call arguments; a free slot is clear, so the rest is. */
static inline void fill(mpi_req_t *req, mpi_req_kind_t kind, const void *buf, int count,
                        MPI_Datatype type, int peer, int tag, MPI_Comm comm)
{
    req->kind = kind;
    req->buf = (void *)(uintptr_t)buf;
    req->count = count;
    req->type = type;
    req->peer = peer;
    req->tag = tag;
    req->comm = comm;
}

/* Checks the arguments (unless the caller did) and fills a new (inactive)
 * request. */
static int prepare(mpi_req_kind_t kind, const void *buf, int count, MPI_Datatype type, int peer,
                   int tag, MPI_Comm comm, const char *fn, bool checked, mpi_req_t **req_out,
                   MPI_Request *handle)
{
    int rc = checked || plain_p2p(kind, buf, count, type, peer, tag, comm) != NULL
                 ? MPI_SUCCESS
                 : check_p2p(kind, buf, count, &type, peer, tag, comm, fn);
    if (rc == MPI_SUCCESS && mpi_req_new(req_out, handle) != MPI_SUCCESS) {
        rc = mpi_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
    }
    if (rc == MPI_SUCCESS) {
        fill(*req_out, kind, buf, count, type, peer, tag, comm);
    }
    return rc;
}

static int start_new(mpi_req_kind_t kind, const void *buf, int count, MPI_Datatype type, int peer,
                     int tag, MPI_Comm comm, bool sync, const char *fn, bool checked,
                     MPI_Request *request)
{
    mpi_req_t *req;
    /* An ordinary call (plain_p2p) goes straight to the pml call: its type
     * is known contiguous, the peer real, and nothing is packed. */
    const mpi_type_t *t = checked ? NULL : plain_p2p(kind, buf, count, type, peer, tag, comm);
    if (t != NULL && kind == MPI_REQ_SEND && !sync) {
        const mpi_comm_t *c = &mrail_obj.comms[comm];
        if (mrail_pml_sendi(mrail_obj.pml, buf, (size_t)count * t->size, mpi_peer_world(c, peer),
                            tag, c->ctx) == MRAIL_SUCCESS) {
            *request = MPI_REQ_SENT; /* sent already: no request of its own */
            return MPI_SUCCESS;
        }
    }
    int rc =
        prepare(kind, buf, count, type, peer, tag, comm, fn, checked || t != NULL, &req, request);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    req->synchronous = sync;
    if (t != NULL) {
        req->active = true;
        rc = mpi_req_start_contig(req, req->buf, (size_t)count * t->size, fn);
    } else {
        rc = mpi_req_start(req, fn);
    }
    if (rc != MPI_SUCCESS) {
        mpi_req_drop(req);
        *request = MPI_REQUEST_NULL;
    }
    return rc;
}

int mpi_recv_prepare(void *buf, int count, MPI_Datatype type, int peer, MPI_Comm comm,
                     const char *fn, mrail_pml_message_t *msg, MPI_Request *request)
{
    mpi_req_t *req;
    int rc =
        prepare(MPI_REQ_RECV, buf, count, type, peer, MPI_ANY_TAG, comm, fn, false, &req, request);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    req->pml_msg = msg;
    rc = mpi_req_start(req, fn);
    if (rc != MPI_SUCCESS) {
        mpi_req_drop(req);
        *request = MPI_REQUEST_NULL;
    }
    return rc;
}

int PMPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
               MPI_Request *request)
{
    return start_new(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, "MPI_Isend", false,
                     request);
}

int PMPI_Issend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                MPI_Request *request)
{
    return start_new(MPI_REQ_SEND, buf, count, type, dest, tag, comm, true, "MPI_Issend", false,
                     request);
}

int PMPI_Irsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                MPI_Request *request)
{
    /* A ready send may be a standard one: the receive is posted anyway. */
    return start_new(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, "MPI_Irsend", false,
                     request);
}

/* An ordinary receive (plain_p2p) takes a slot and goes to the pml in one
 * pass: a message-rate window is mostly this call. Anything else, and any
 * failure, takes start_new, which reports it. */
int PMPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
               MPI_Request *request)
{
    const mpi_type_t *t = plain_p2p(MPI_REQ_RECV, buf, count, type, source, tag, comm);
    mpi_req_t *req;
    if (t != NULL && mpi_req_new(&req, request) == MPI_SUCCESS) {
        const mpi_comm_t *c = &mrail_obj.comms[comm];
        int32_t src =
            source == MPI_ANY_SOURCE ? MRAIL_PML_ANY_SOURCE : (int32_t)mpi_peer_world(c, source);
        if (mrail_pml_irecv(mrail_obj.pml, buf, (size_t)count * t->size, src,
                            tag == MPI_ANY_TAG ? MRAIL_PML_ANY_TAG : tag, c->ctx,
                            &req->pml) == MRAIL_SUCCESS) {
            fill(req, MPI_REQ_RECV, buf, count, type, source, tag, comm);
            req->active = true;
            return MPI_SUCCESS;
        }
        mpi_req_drop(req);
    }
    return start_new(MPI_REQ_RECV, buf, count, type, source, tag, comm, false, "MPI_Irecv", false,
                     request);
}

/* A blocking call whose arguments the caller has checked. */
static int blocking(mpi_req_kind_t kind, const void *buf, int count, MPI_Datatype type, int peer,
                    int tag, MPI_Comm comm, bool sync, const char *fn, MPI_Status *status)
{
    MPI_Request r;
    int rc = start_new(kind, buf, count, type, peer, tag, comm, sync, fn, true, &r);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    return PMPI_Wait(&r, status);
}

/* MPI_Send and MPI_Recv on a contiguous buffer skip the MPI request: a
 * small send goes out at once through the pml's sendi (no request in the
 * pml either), a receive waits on its pml request. Everything else (other
 * types, MPI_PROC_NULL, a busy transport, an error) takes the general
 * path, which reports as it always does. */
int PMPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
    const char *fn = "MPI_Send";
    const mpi_type_t *t = plain_p2p(MPI_REQ_SEND, buf, count, type, dest, tag, comm);
    if (t != NULL) {
        const mpi_comm_t *c = &mrail_obj.comms[comm];
        if (mrail_pml_sendi(mrail_obj.pml, buf, (size_t)count * t->size, mpi_peer_world(c, dest),
                            tag, c->ctx) == MRAIL_SUCCESS) {
            return MPI_SUCCESS;
        }
    } else {
        int rc = check_p2p(MPI_REQ_SEND, buf, count, &type, dest, tag, comm, fn);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    return blocking(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, fn, MPI_STATUS_IGNORE);
}

int PMPI_Ssend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
    int rc = check_p2p(MPI_REQ_SEND, buf, count, &type, dest, tag, comm, "MPI_Ssend");
    return rc != MPI_SUCCESS ? rc
                             : blocking(MPI_REQ_SEND, buf, count, type, dest, tag, comm, true,
                                        "MPI_Ssend", MPI_STATUS_IGNORE);
}

int PMPI_Rsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
    int rc = check_p2p(MPI_REQ_SEND, buf, count, &type, dest, tag, comm, "MPI_Rsend");
    return rc != MPI_SUCCESS ? rc
                             : blocking(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false,
                                        "MPI_Rsend", MPI_STATUS_IGNORE);
}

int PMPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
              MPI_Status *status)
{
    const char *fn = "MPI_Recv";
    const mpi_type_t *t = plain_p2p(MPI_REQ_RECV, buf, count, type, source, tag, comm);
    if (t == NULL) {
        int rc = check_p2p(MPI_REQ_RECV, buf, count, &type, source, tag, comm, fn);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
        return blocking(MPI_REQ_RECV, buf, count, type, source, tag, comm, false, fn, status);
    }
    /* With collectives in flight, the wait must move them too (the general path does). */
    if (mrail_coll_active() > 0) {
        return blocking(MPI_REQ_RECV, buf, count, type, source, tag, comm, false, fn, status);
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    int32_t src =
        source == MPI_ANY_SOURCE ? MRAIL_PML_ANY_SOURCE : (int32_t)mpi_peer_world(c, source);
    mrail_pml_request_t *preq;
    if (mrail_pml_irecv(mrail_obj.pml, buf, (size_t)count * t->size, src,
                        tag == MPI_ANY_TAG ? MRAIL_PML_ANY_TAG : tag, c->ctx,
                        &preq) != MRAIL_SUCCESS) {
        return blocking(MPI_REQ_RECV, buf, count, type, source, tag, comm, false, fn, status);
    }
    mrail_pml_status_t ps;
    mrail_pml_wait(mrail_obj.pml, preq, &ps);
    mrail_pml_request_free(mrail_obj.pml, preq);
    if (ps.error == MRAIL_SUCCESS && status == MPI_STATUS_IGNORE) {
        return MPI_SUCCESS; /* nothing to fill or report */
    }
    MPI_Status st;
    mpi_status_from_pml(comm, &ps, &st);
    if (status != MPI_STATUS_IGNORE) {
        *status = st;
    }
    return mpi_report_outcome(comm, st.MPI_ERROR, ps.error, fn);
}

int PMPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag,
                  void *recvbuf, int recvcount, MPI_Datatype recvtype, int source, int recvtag,
                  MPI_Comm comm, MPI_Status *status)
{
    MPI_Request r[2];
    int rc = PMPI_Irecv(recvbuf, recvcount, recvtype, source, recvtag, comm, &r[0]);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    rc = PMPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, &r[1]);
    if (rc != MPI_SUCCESS) {
        PMPI_Cancel(&r[0]);
        PMPI_Wait(&r[0], MPI_STATUS_IGNORE);
        return rc;
    }
    int rc_send = PMPI_Wait(&r[1], MPI_STATUS_IGNORE);
    int rc_recv = PMPI_Wait(&r[0], status);
    return rc_recv != MPI_SUCCESS ? rc_recv : rc_send;
}

int PMPI_Sendrecv_replace(void *buf, int count, MPI_Datatype type, int dest, int sendtag,
                          int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    int rc = mpi_check_comm(comm, "MPI_Sendrecv_replace");
    if (rc == MPI_SUCCESS) {
        rc = mpi_check_buffer(comm, buf, count, type, "MPI_Sendrecv_replace");
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    size_t bytes = (size_t)count * mpi_type_size(type);
    void *copy = malloc(bytes ? bytes : 1);
    if (copy == NULL) {
        return mpi_error(comm, MPI_ERR_NO_MEM, "MPI_Sendrecv_replace",
                         "no memory to hold %zu bytes", bytes);
    }
    memcpy(copy, buf, bytes);
    rc = PMPI_Sendrecv(copy, count, type, dest, sendtag, buf, count, type, source, recvtag, comm,
                       status);
    free(copy);
    return rc;
}

int mpi_probe_check(int source, int tag, MPI_Comm comm, MPI_Status *status, bool *proc_null,
                    mpi_probe_match_t *match, const char *fn)
{
    int rc = mpi_check_comm(comm, fn);
    rc = rc ? rc : mpi_check_source(comm, source, fn);
    rc = rc ? rc : mpi_check_recv_tag(comm, tag, fn);
    *proc_null = rc == MPI_SUCCESS && source == MPI_PROC_NULL;
    if (*proc_null && status != MPI_STATUS_IGNORE) {
        *status = (MPI_Status){.MPI_SOURCE = MPI_PROC_NULL, .MPI_TAG = MPI_ANY_TAG};
    }
    if (rc != MPI_SUCCESS || *proc_null) {
        return rc;
    }
    mpi_reap_background();
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    match->source =
        source == MPI_ANY_SOURCE ? MRAIL_PML_ANY_SOURCE : (int32_t)mpi_peer_world(c, source);
    match->tag = tag == MPI_ANY_TAG ? MRAIL_PML_ANY_TAG : tag;
    match->ctx = c->ctx;
    return MPI_SUCCESS;
}

int PMPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status)
{
    bool proc_null;
    mpi_probe_match_t m;
    int rc = mpi_probe_check(source, tag, comm, status, &proc_null, &m, "MPI_Iprobe");
    if (rc != MPI_SUCCESS || proc_null) {
        *flag = proc_null;
        return rc;
    }
    mrail_pml_status_t ps;
    *flag = mrail_pml_iprobe(mrail_obj.pml, m.source, m.tag, m.ctx, &ps);
    if (*flag) {
        mpi_status_from_pml(comm, &ps, status);
    }
    return MPI_SUCCESS;
}

int PMPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
    int flag = 0, rc;
    do {
        rc = PMPI_Iprobe(source, tag, comm, &flag, status);
    } while (rc == MPI_SUCCESS && !flag);
    return rc;
}

int PMPI_Get_count(const MPI_Status *status, MPI_Datatype type, int *count)
{
    int rc = mpi_check_type(type, "MPI_Get_count");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    size_t size = mpi_type_size(type);
    if (size == 0) { /* a type without data: any count fits, MPI says 0 */
        *count = 0;
        return MPI_SUCCESS;
    }
    *count = status->mrail_count % size ? MPI_UNDEFINED : (int)(status->mrail_count / size);
    return MPI_SUCCESS;
}

/* Basic elements, those of a partial instance too (MPI 3.1, 4.1.11). */
int PMPI_Get_elements(const MPI_Status *status, MPI_Datatype type, int *count)
{
    int rc = mpi_check_type(type, "MPI_Get_elements");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    long long n = mpi_type_elements(mpi_type(type), status->mrail_count);
    *count = n < 0 || n > INT_MAX ? MPI_UNDEFINED : (int)n;
    return MPI_SUCCESS;
}

int PMPI_Get_elements_x(const MPI_Status *status, MPI_Datatype type, MPI_Count *count)
{
    int rc = mpi_check_type(type, "MPI_Get_elements_x");
    if (rc == MPI_SUCCESS) {
        long long n = mpi_type_elements(mpi_type(type), status->mrail_count);
        *count = n < 0 ? MPI_UNDEFINED : (MPI_Count)n;
    }
    return rc;
}

/* For generalized requests and tools: the status of count basic elements
 * of type, which MPI_Get_elements and MPI_Get_count then report. */
int PMPI_Status_set_elements_x(MPI_Status *status, MPI_Datatype type, MPI_Count count)
{
    const char *fn = "MPI_Status_set_elements_x";
    int rc = mpi_check_type(type, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    long long bytes = count < 0 ? -1 : mpi_type_element_bytes(mpi_type(type), (size_t)count);
    if (bytes < 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_COUNT, fn,
                         "%lld elements of %s: a negative count, or a part of an instance whose "
                         "elements mrail does not track",
                         (long long)count, mpi_type_name(type));
    }
    status->mrail_count = (size_t)bytes;
    return MPI_SUCCESS;
}

int PMPI_Status_set_elements(MPI_Status *status, MPI_Datatype type, int count)
{
    return PMPI_Status_set_elements_x(status, type, count);
}

int PMPI_Status_set_cancelled(MPI_Status *status, int flag)
{
    status->mrail_cancelled = flag != 0;
    return MPI_SUCCESS;
}

static int persistent(mpi_req_kind_t kind, const void *buf, int count, MPI_Datatype type, int peer,
                      int tag, MPI_Comm comm, bool sync, const char *fn, MPI_Request *request)
{
    mpi_req_t *req;
    int rc = prepare(kind, buf, count, type, peer, tag, comm, fn, false, &req, request);
    if (rc == MPI_SUCCESS) {
        req->persistent = true;
        req->synchronous = sync;
        req->kept_type = mpi_type_hold(mpi_type(req->type));
    }
    return rc;
}

int PMPI_Send_init(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                   MPI_Request *request)
{
    return persistent(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, "MPI_Send_init",
                      request);
}

int PMPI_Ssend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                    MPI_Request *request)
{
    return persistent(MPI_REQ_SEND, buf, count, type, dest, tag, comm, true, "MPI_Ssend_init",
                      request);
}

int PMPI_Recv_init(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
                   MPI_Request *request)
{
    return persistent(MPI_REQ_RECV, buf, count, type, source, tag, comm, false, "MPI_Recv_init",
                      request);
}

int PMPI_Buffer_attach(void *buffer, int size)
{
    int rc = mpi_check_init("MPI_Buffer_attach");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (mrail_mpi.bsend_buffer != NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach",
                         "a buffer is already attached; detach it first");
    }
    if (size < 0 || (buffer == NULL && size > 0)) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach",
                         "invalid buffer %p of size %d", buffer, size);
    }
    mrail_mpi.bsend_buffer = buffer;
    mrail_mpi.bsend_size = (size_t)size;
    mrail_mpi.bsend_used = 0;
    return MPI_SUCCESS;
}

int PMPI_Buffer_detach(void *buffer_addr, int *size)
{
    int rc = mpi_check_init("MPI_Buffer_detach");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    while (mrail_mpi.bsend_pending > 0) { /* MPI: detach waits for buffered sends */
        mpi_reap_background();
    }
    *(void **)buffer_addr = mrail_mpi.bsend_buffer;
    *size = (int)mrail_mpi.bsend_size;
    mrail_mpi.bsend_buffer = NULL;
    mrail_mpi.bsend_size = 0;
    return MPI_SUCCESS;
}

int mpi_bsend(const void *buf, int count, MPI_Datatype type, const mpi_type_t *t, int dest, int tag,
              MPI_Comm comm, bool checked, const char *fn)
{
    mpi_req_t *req;
    MPI_Request handle;
    int rc = prepare(MPI_REQ_SEND, buf, count, type, dest, tag, comm, fn, checked, &req, &handle);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_reap_background();
    t = t != NULL ? t : mpi_type(req->type);
    size_t bytes = (size_t)count * t->size, need = bytes + MPI_BSEND_OVERHEAD;
    if (mrail_mpi.bsend_buffer == NULL || need > mrail_mpi.bsend_size - mrail_mpi.bsend_used) {
        mpi_req_drop(req);
        return mpi_error(comm, MPI_ERR_BUFFER, fn,
                         "%zu bytes (with MPI_BSEND_OVERHEAD) do not fit the attached buffer: "
                         "%zu of %zu bytes free%s",
                         need, mrail_mpi.bsend_size - mrail_mpi.bsend_used, mrail_mpi.bsend_size,
                         mrail_mpi.bsend_buffer ? "" : " (none attached: MPI_Buffer_attach)");
    }
    /* The attached buffer's budget is honoured; the copy itself lives here,
     * packed (the data of a non-contiguous type, in order). */
    req->bsend_copy = malloc(bytes ? bytes : 1);
    if (req->bsend_copy == NULL) {
        mpi_req_drop(req);
        return mpi_error(comm, MPI_ERR_NO_MEM, fn, "no memory to copy %zu bytes", bytes);
    }
    mpi_type_pack(t, (size_t)count, buf, req->bsend_copy);
    req->kept_type = mpi_type_hold(t); /* the user may free it before the send is out */
    req->bsend_bytes = need;
    mrail_mpi.bsend_used += need;
    mrail_mpi.bsend_pending++;
    req->detached = true;
    return mpi_req_start(req, fn);
}

int PMPI_Bsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
    return mpi_bsend(buf, count, type, NULL, dest, tag, comm, false, "MPI_Bsend");
}

/* The data is copied out at once, so the request is complete from the start. */
int PMPI_Ibsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                MPI_Request *request)
{
    const char *fn = "MPI_Ibsend";
    int rc = check_p2p(MPI_REQ_SEND, buf, count, &type, dest, tag, comm, fn);
    rc = rc ? rc : mpi_bsend(buf, count, type, NULL, dest, tag, comm, true, fn);
    mpi_req_t *req;
    rc =
        rc ? rc : prepare(MPI_REQ_SEND, buf, count, type, dest, tag, comm, fn, true, &req, request);
    if (rc == MPI_SUCCESS) {
        req->active = true; /* and no pml operation: done */
        req->kept_type = mpi_type_hold(mpi_type(type));
    }
    return rc;
}

int PMPI_Bsend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                    MPI_Request *request)
{
    int rc = persistent(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, "MPI_Bsend_init",
                        request);
    if (rc == MPI_SUCCESS) {
        mpi_req_get(*request)->buffered = true;
    }
    return rc;
}

int PMPI_Rsend_init(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
                    MPI_Request *request)
{
    /* A ready send may be a standard one: the receive is posted anyway. */
    return persistent(MPI_REQ_SEND, buf, count, type, dest, tag, comm, false, "MPI_Rsend_init",
                      request);
}
