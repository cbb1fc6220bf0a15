/* mrun as a PMIx server host: one namespace per job, all ranks local to
 * this server. libpmix 4.2.2 traps this file works around are marked (n),
 * numbered as in docs/mrun.md. */
#include <net/if.h>
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrun.h"

static mrun_job_t *server_job; /* the upcalls' only way back to the job */

static void wake_main(mrun_job_t *job)
{
    char c = 1;
    ssize_t n = write(job->wake[1], &c, 1);
    (void)n; /* the pipe being full already means the loop will wake */
}

static mrun_rank_t *rank_of(const pmix_proc_t *proc)
{
    if (strcmp(proc->nspace, server_job->nspace) != 0 || proc->rank >= server_job->opts->np) {
        return NULL;
    }
    return &server_job->ranks[proc->rank];
}

static pmix_status_t srv_connected(const pmix_proc_t *proc, void *obj, pmix_info_t info[],
                                   size_t ninfo, pmix_op_cbfunc_t cbfunc, void *cbdata)
{
    (void)obj, (void)info, (void)ninfo, (void)cbfunc, (void)cbdata;
    mrun_rank_t *r = rank_of(proc);
    if (r != NULL) {
        pthread_mutex_lock(&server_job->lock);
        r->connected = true;
        pthread_mutex_unlock(&server_job->lock);
        if (server_job->opts->verbose) {
            fprintf(stderr, "%s: rank %u connected\n", server_job->opts->prog_name, proc->rank);
        }
    }
    return PMIX_OPERATION_SUCCEEDED;
}

/* The rank is blocked in PMIx_Finalize until this returns, so the flag is
 * set before its exit can be seen. */
static pmix_status_t srv_finalized(const pmix_proc_t *proc, void *obj, pmix_op_cbfunc_t cbfunc,
                                   void *cbdata)
{
    (void)obj, (void)cbfunc, (void)cbdata;
    mrun_rank_t *r = rank_of(proc);
    if (r != NULL) {
        pthread_mutex_lock(&server_job->lock);
        r->finalized = true;
        pthread_mutex_unlock(&server_job->lock);
    }
    return PMIX_OPERATION_SUCCEEDED;
}

static pmix_status_t srv_abort(const pmix_proc_t *proc, void *obj, int status, const char msg[],
                               pmix_proc_t procs[], size_t nprocs, pmix_op_cbfunc_t cbfunc,
                               void *cbdata)
{
    (void)obj, (void)procs, (void)nprocs, (void)cbfunc, (void)cbdata;
    pthread_mutex_lock(&server_job->lock);
    if (!server_job->aborted) {
        server_job->aborted = true;
        server_job->abort_rank = proc->rank;
        server_job->abort_status = status;
        snprintf(server_job->abort_msg, sizeof(server_job->abort_msg), "%s", msg ? msg : "");
    }
    pthread_mutex_unlock(&server_job->lock);
    wake_main(server_job);
    return PMIX_OPERATION_SUCCEEDED;
}

/* (1) On one node the server completes fences itself; this upcall runs only
 * when it thinks other nodes take part (emulated hosts, or
 * PMIX_MCA_pmix_server_fence_localonly_opt=0). Every rank is ours, so the
 * collected data is already complete: hand it back from the main loop. */
static pmix_status_t srv_fence_nb(const pmix_proc_t procs[], size_t nprocs,
                                  const pmix_info_t info[], size_t ninfo, char *data, size_t ndata,
                                  pmix_modex_cbfunc_t cbfunc, void *cbdata)
{
    (void)procs, (void)info, (void)ninfo;
    mrun_fence_t *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return PMIX_ERR_NOMEM;
    }
    /* (2) The host owns what it passes back and frees it in the release
     * callback, so keep a copy. */
    f->data = malloc(ndata ? ndata : 1);
    if (f->data == NULL) {
        free(f);
        return PMIX_ERR_NOMEM;
    }
    if (ndata > 0) {
        memcpy(f->data, data, ndata); /* a barrier carries no data, and data may be NULL */
    }
    f->ndata = ndata;
    f->cbfunc = cbfunc;
    f->cbdata = cbdata;
    if (server_job->opts->verbose) {
        fprintf(stderr, "%s: fence_nb upcall: %zu procs, %zu bytes\n", server_job->opts->prog_name,
                nprocs, ndata);
    }
    pthread_mutex_lock(&server_job->lock);
    f->next = server_job->fences;
    server_job->fences = f;
    pthread_mutex_unlock(&server_job->lock);
    wake_main(server_job);
    return PMIX_SUCCESS;
}

static void fence_data_release(void *cbdata)
{
    mrun_fence_t *f = cbdata;
    free(f->data);
    free(f);
}

void mrun_server_release_fences(mrun_job_t *job)
{
    pthread_mutex_lock(&job->lock);
    mrun_fence_t *list = job->fences;
    job->fences = NULL;
    pthread_mutex_unlock(&job->lock);
    while (list != NULL) {
        mrun_fence_t *next = list->next;
        list->cbfunc(PMIX_SUCCESS, list->data, list->ndata, list->cbdata, fence_data_release, list);
        list = next;
    }
}

static pmix_server_module_t server_module = {
    .client_connected2 = srv_connected,
    .client_finalized = srv_finalized,
    .abort = srv_abort,
    .fence_nb = srv_fence_nb,
};

/* (7) libpmix 4 keeps an interface's kernel index in 16 signed bits: on an
 * interface whose index is 32768-65535 (modulo 65536) PMIx_server_init fails
 * with a bare "listener thread failed to start". Hosts that churn veths for
 * containers or namespaces get there; say what is wrong and what to do. */
static int check_pmix_if(const mrun_job_t *job)
{
    const char *name = job->opts->pmix_if;
    unsigned idx = if_nametoindex(name);
    if (idx == 0) {
        fprintf(stderr, "%s: --pmix-if %s: no such network interface here (see `ip link`)\n",
                job->opts->prog_name, name);
        return 1;
    }
#if PMIX_VERSION_MAJOR < 5
    if (idx & 0x8000u) {
        fprintf(stderr,
                "%s: --pmix-if %s: its kernel index is %u, and libpmix %ld cannot listen on an "
                "interface whose index is 32768-65535 (modulo 65536); use another interface, or "
                "recreate this one with a lower index (`ip link add name %s index N ...`)\n",
                job->opts->prog_name, name, idx, (long)PMIX_VERSION_MAJOR, name);
        return 1;
    }
#endif
    return 0;
}

int mrun_server_start(mrun_job_t *job)
{
    if (job->opts->pmix_if != NULL && check_pmix_if(job) != 0) {
        return 1;
    }
    server_job = job;
    void *list = PMIx_Info_list_start();
    /* (5) A private directory for the rendezvous files, removed at exit. */
    PMIx_Info_list_add(list, PMIX_SERVER_TMPDIR, job->tmpdir, PMIX_STRING);
    PMIx_Info_list_add(list, PMIX_SYSTEM_TMPDIR, job->tmpdir, PMIX_STRING);
    if (job->opts->pmix_if != NULL) {
        /* (6) PMIx v4 talks TCP; ranks in another network namespace cannot
         * reach our loopback, so listen where they can. */
        bool yes = true;
        PMIx_Info_list_add(list, PMIX_SERVER_REMOTE_CONNECTIONS, &yes, PMIX_BOOL);
        PMIx_Info_list_add(list, PMIX_TCP_IF_INCLUDE, job->opts->pmix_if, PMIX_STRING);
    }
    pmix_data_array_t darray;
    PMIx_Info_list_convert(list, &darray);
    PMIx_Info_list_release(list);
    pmix_status_t rc = PMIx_server_init(&server_module, darray.array, darray.size);
    PMIX_DATA_ARRAY_DESTRUCT(&darray);
    if (rc != PMIX_SUCCESS) {
        fprintf(stderr, "%s: cannot start the PMIx server: %s\n", job->opts->prog_name,
                PMIx_Error_string(rc));
        return 1;
    }
    return 0;
}

void mrun_server_stop(void)
{
    PMIx_server_finalize();
}

typedef struct op_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    pmix_status_t status;
} op_wait_t;

static void op_done(pmix_status_t status, void *cbdata)
{
    op_wait_t *w = cbdata;
    pthread_mutex_lock(&w->lock);
    w->status = status;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static pmix_status_t op_wait(op_wait_t *w, pmix_status_t rc)
{
    if (rc == PMIX_OPERATION_SUCCEEDED) {
        return PMIX_SUCCESS;
    }
    if (rc != PMIX_SUCCESS) {
        return rc;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        pthread_cond_wait(&w->cond, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return w->status;
}

#define OP_WAIT_INIT                                                                               \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, PMIX_SUCCESS                   \
    }

/* Node names: the real hostname, or one per emulated host (namespace). */
static void node_name(const mrun_job_t *job, unsigned node, char *buf, size_t len)
{
    if (job->opts->nnetns > 0) {
        snprintf(buf, len, "%s", job->opts->netns[node]);
    } else {
        gethostname(buf, len - 1);
        buf[len - 1] = '\0';
    }
}

/* "a,b,c" of the ranks on node, and how many. */
static unsigned node_peers(const mrun_job_t *job, unsigned node, char *buf, size_t len)
{
    unsigned n = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned r = 0; r < job->opts->np && used < len; r++) {
        if (job->ranks[r].node == node) {
            used += (size_t)snprintf(buf + used, len - used, "%s%u", n ? "," : "", r);
            n++;
        }
    }
    return n;
}

static void add_node_info(mrun_job_t *job, void *list, unsigned node, char *peers, size_t plen)
{
    char host[256];
    node_name(job, node, host, sizeof(host));
    uint32_t nodeid = node, size = node_peers(job, node, peers, plen);
    void *nl = PMIx_Info_list_start();
    PMIx_Info_list_add(nl, PMIX_NODEID, &nodeid, PMIX_UINT32);
    PMIx_Info_list_add(nl, PMIX_HOSTNAME, host, PMIX_STRING);
    PMIx_Info_list_add(nl, PMIX_LOCAL_SIZE, &size, PMIX_UINT32);
    PMIx_Info_list_add(nl, PMIX_NODE_SIZE, &size, PMIX_UINT32);
    PMIx_Info_list_add(nl, PMIX_LOCAL_PEERS, peers, PMIX_STRING);
    pmix_data_array_t arr;
    PMIx_Info_list_convert(nl, &arr);
    PMIx_Info_list_release(nl);
    PMIx_Info_list_add(list, PMIX_NODE_INFO_ARRAY, &arr, PMIX_DATA_ARRAY);
    PMIX_DATA_ARRAY_DESTRUCT(&arr);
}

static void add_proc_info(mrun_job_t *job, void *list, unsigned rank)
{
    char host[256];
    const mrun_rank_t *r = &job->ranks[rank];
    node_name(job, r->node, host, sizeof(host));
    uint16_t local_rank = 0;
    for (unsigned k = 0; k < rank; k++) {
        local_rank += job->ranks[k].node == r->node;
    }
    pmix_rank_t prank = rank;
    uint32_t nodeid = r->node, appnum = r->app;
    void *pl = PMIx_Info_list_start();
    PMIx_Info_list_add(pl, PMIX_RANK, &prank, PMIX_PROC_RANK);
    PMIx_Info_list_add(pl, PMIX_LOCAL_RANK, &local_rank, PMIX_UINT16);
    PMIx_Info_list_add(pl, PMIX_NODE_RANK, &local_rank, PMIX_UINT16);
    PMIx_Info_list_add(pl, PMIX_NODEID, &nodeid, PMIX_UINT32);
    PMIx_Info_list_add(pl, PMIX_HOSTNAME, host, PMIX_STRING);
    PMIx_Info_list_add(pl, PMIX_APPNUM, &appnum, PMIX_UINT32);
    pmix_data_array_t arr;
    PMIx_Info_list_convert(pl, &arr);
    PMIx_Info_list_release(pl);
    PMIx_Info_list_add(list, PMIX_PROC_DATA, &arr, PMIX_DATA_ARRAY);
    PMIX_DATA_ARRAY_DESTRUCT(&arr);
}

/* Node map and proc map as PMIx regular expressions. */
static int add_maps(mrun_job_t *job, void *list)
{
    size_t np = job->opts->np, cap = 16 * np + 256 * job->nnodes + 16;
    char *nodes = calloc(1, cap), *ppn = calloc(1, cap), *peers = calloc(1, 16 * np + 16);
    int rc = nodes && ppn && peers ? 0 : 1;
    for (unsigned n = 0; rc == 0 && n < job->nnodes; n++) {
        char host[256];
        node_name(job, n, host, sizeof(host));
        node_peers(job, n, peers, 16 * np + 16);
        snprintf(nodes + strlen(nodes), cap - strlen(nodes), "%s%s", n ? "," : "", host);
        snprintf(ppn + strlen(ppn), cap - strlen(ppn), "%s%s", n ? ";" : "", peers);
    }
    char *node_regex = NULL, *ppn_regex = NULL;
    if (rc == 0 && (PMIx_generate_regex(nodes, &node_regex) != PMIX_SUCCESS ||
                    PMIx_generate_ppn(ppn, &ppn_regex) != PMIX_SUCCESS)) {
        rc = 1;
    }
    if (rc == 0) {
        PMIx_Info_list_add(list, PMIX_NODE_MAP, node_regex, PMIX_REGEX);
        PMIx_Info_list_add(list, PMIX_PROC_MAP, ppn_regex, PMIX_REGEX);
    }
    free(node_regex);
    free(ppn_regex);
    free(nodes);
    free(ppn);
    free(peers);
    return rc;
}

int mrun_server_register_job(mrun_job_t *job)
{
    uint32_t np = job->opts->np, nnodes = job->nnodes;
    char *peers = calloc(16, (size_t)np + 1);
    void *list = PMIx_Info_list_start();
    if (peers == NULL || list == NULL || add_maps(job, list) != 0) {
        free(peers);
        fprintf(stderr, "%s: cannot describe the job to PMIx\n", job->opts->prog_name);
        return 1;
    }
    PMIx_Info_list_add(list, PMIX_UNIV_SIZE, &np, PMIX_UINT32);
    PMIx_Info_list_add(list, PMIX_JOB_SIZE, &np, PMIX_UINT32);
    PMIx_Info_list_add(list, PMIX_MAX_PROCS, &np, PMIX_UINT32);
    PMIx_Info_list_add(list, PMIX_JOBID, job->nspace, PMIX_STRING);
    PMIx_Info_list_add(list, PMIX_NUM_NODES, &nnodes, PMIX_UINT32);
    if (nnodes == 1) {
        /* One node: the job-level answer is the node's. */
        node_peers(job, 0, peers, 16 * ((size_t)np + 1));
        PMIx_Info_list_add(list, PMIX_LOCAL_SIZE, &np, PMIX_UINT32);
        PMIx_Info_list_add(list, PMIX_LOCAL_PEERS, peers, PMIX_STRING);
    }
    for (unsigned n = 0; n < nnodes; n++) {
        add_node_info(job, list, n, peers, 16 * ((size_t)np + 1));
    }
    for (unsigned r = 0; r < np; r++) {
        add_proc_info(job, list, r);
    }
    free(peers);
    pmix_data_array_t darray;
    PMIx_Info_list_convert(list, &darray);
    PMIx_Info_list_release(list);
    op_wait_t w = OP_WAIT_INIT;
    pmix_status_t rc = op_wait(&w, PMIx_server_register_nspace(job->nspace, (int)np, darray.array,
                                                               darray.size, op_done, &w));
    PMIX_DATA_ARRAY_DESTRUCT(&darray);
    if (rc != PMIX_SUCCESS) {
        fprintf(stderr, "%s: PMIx_server_register_nspace failed: %s\n", job->opts->prog_name,
                PMIx_Error_string(rc));
        return 1;
    }
    return 0;
}

int mrun_server_setup_rank(mrun_job_t *job, unsigned rank, char ***env)
{
    pmix_proc_t proc;
    PMIX_LOAD_PROCID(&proc, job->nspace, rank);
    /* (4) Register the client and set up its environment before fork. */
    op_wait_t w = OP_WAIT_INIT;
    pmix_status_t rc =
        op_wait(&w, PMIx_server_register_client(&proc, getuid(), getgid(), NULL, op_done, &w));
    if (rc == PMIX_SUCCESS) {
        rc = PMIx_server_setup_fork(&proc, env);
    }
    if (rc != PMIX_SUCCESS) {
        fprintf(stderr, "%s: cannot set rank %u up with PMIx: %s\n", job->opts->prog_name, rank,
                PMIx_Error_string(rc));
        return 1;
    }
    return 0;
}
