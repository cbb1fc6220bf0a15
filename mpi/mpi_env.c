/* MPI_Init / MPI_Finalize and the environment calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"
#include "mpi_win.h"

MRAIL_MPI_ALIAS(MPI_Init);
MRAIL_MPI_ALIAS(MPI_Init_thread);
MRAIL_MPI_ALIAS(MPI_Query_thread);
MRAIL_MPI_ALIAS(MPI_Is_thread_main);
MRAIL_MPI_ALIAS(MPI_Finalize);
MRAIL_MPI_ALIAS(MPI_Initialized);
MRAIL_MPI_ALIAS(MPI_Finalized);
MRAIL_MPI_ALIAS(MPI_Abort);
MRAIL_MPI_ALIAS(MPI_Wtime);
MRAIL_MPI_ALIAS(MPI_Wtick);
MRAIL_MPI_ALIAS(MPI_Get_version);
MRAIL_MPI_ALIAS(MPI_Get_processor_name);
MRAIL_MPI_ALIAS(MPI_Alloc_mem);
MRAIL_MPI_ALIAS(MPI_Free_mem);

mpi_state_t mrail_mpi;

/* Prints what the MCA layer found (warnings always, once per node's first
 * rank), and fails on errors. */
static int report_diags(const char *fn)
{
    const mrail_rte_facts_t *f = mrail_rte_facts(mrail_mpi.rte);
    for (size_t i = 0; i < mrail_mca_diag_count(mrail_mpi.mca); i++) {
        mrail_diag_severity_t sev;
        const char *text = mrail_mca_diag_text(mrail_mpi.mca, i, &sev);
        if (sev == MRAIL_DIAG_ERROR || f->local_rank == 0) {
            fprintf(stderr, "mrail: rank %u: %s: %s: %s\n", f->rank, fn,
                    sev == MRAIL_DIAG_ERROR ? "error" : "warning", text);
        }
    }
    return mrail_mca_error_count(mrail_mpi.mca) ? MPI_ERR_OTHER : MPI_SUCCESS;
}

static int init(const char *fn)
{
    if (mrail_mpi.initialized || mrail_mpi.finalized) {
        fprintf(stderr, "mrail: %s: MPI is %s; it may be initialized once per process\n", fn,
                mrail_mpi.finalized ? "already finalized" : "already initialized");
        return MPI_ERR_OTHER;
    }
    mrail_reason_t why;
    if (mrail_rte_init(&mrail_mpi.rte, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "mrail: %s: %s\n", fn, why.text);
        exit(1);
    }
    int rc = MRAIL_SUCCESS;
    if (mrail_mca_open(NULL, &mrail_mpi.mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "mrail: %s: %s\n", fn, why.text);
        mrail_rte_abort(mrail_mpi.rte, 1, why.text);
    }
    rc = mrail_frameworks_open(mrail_mpi.mca, &mrail_mpi.fws);
    if (rc == MRAIL_SUCCESS) {
        mrail_frameworks_select(mrail_mpi.fws);
    }
    if (report_diags(fn) != MPI_SUCCESS) {
        mrail_rte_abort(mrail_mpi.rte, 1, "invalid MCA parameters or component selection");
    }
    if (mrail_pml_open(mrail_mpi.rte, mrail_mpi.fws, &mrail_obj.pml, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "mrail: %s: %s\n", fn, why.text);
        mrail_rte_abort(mrail_mpi.rte, 1, why.text);
    }
    const mrail_rte_facts_t *f = mrail_rte_facts(mrail_mpi.rte);
    mrail_obj.local_peers = f->local_peers;
    mrail_obj.local_size = f->local_size;
    mrail_obj.node_oversubscribed = f->oversubscribed;
    mrail_obj.job = f->job;
    mrail_obj.rte = mrail_mpi.rte;
    uint32_t *world = malloc(f->size * sizeof(uint32_t));
    for (uint32_t r = 0; r < f->size; r++) {
        world[r] = r;
    }
    /* Contexts: WORLD 0 and 1 (p2p, collectives), SELF 2 and 3. */
    if (mpi_comms_init() != MPI_SUCCESS || mpi_types_init() != MPI_SUCCESS ||
        mpi_ops_init() != MPI_SUCCESS ||
        mpi_comm_init_at(MPI_COMM_WORLD, 0, (int)f->size, (int)f->rank, world) != MPI_SUCCESS ||
        mpi_comm_init_at(MPI_COMM_SELF, 2, 1, 0, &f->rank) != MPI_SUCCESS) {
        mrail_rte_abort(mrail_mpi.rte, 1, "out of memory");
    }
    free(world);
    if (mpi_req_sent_init() != MPI_SUCCESS) {
        mrail_rte_abort(mrail_mpi.rte, 1, "out of memory");
    }
    mpi_info_env_fill((int)f->size, mrail_mpi.thread_level);
    mrail_mpi.initialized = true;
    return MPI_SUCCESS;
}

int PMPI_Init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    mrail_mpi.thread_level = MPI_THREAD_SINGLE;
    return init("MPI_Init");
}

int PMPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    (void)argc, (void)argv;
    /* Calls from one thread at a time are safe; concurrent ones are not. */
    mrail_mpi.thread_level = required < MRAIL_MPI_THREAD_MAX ? required : MRAIL_MPI_THREAD_MAX;
    if (provided != NULL) {
        *provided = mrail_mpi.thread_level;
    }
    return init("MPI_Init_thread");
}

int PMPI_Query_thread(int *provided)
{
    *provided = mrail_mpi.thread_level;
    return MPI_SUCCESS;
}

int PMPI_Is_thread_main(int *flag)
{
    *flag = 1;
    return MPI_SUCCESS;
}

static int finalize_progress(void *pml)
{
    return mrail_pml_progress(pml);
}

int PMPI_Finalize(void)
{
    int rc = mpi_check_init("MPI_Finalize");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    /* Buffered and freed sends must leave before we stop progressing. */
    while (mrail_mpi.bsend_pending > 0) {
        mpi_reap_background();
    }
    for (int i = 0; i < mrail_mpi.nreqs; i++) {
        mpi_req_t *req = &mrail_mpi.reqs[i];
        if (req->kind != MPI_REQ_UNUSED && req->detached && req->pml) {
            mrail_pml_wait(mrail_obj.pml, req->pml, NULL);
        }
    }
    mpi_reap_background();
    /* No rank may close its connections while a peer still receives what
     * it sent, so every rank waits here for all the others, over the rails:
     * the PMIx fence below is not that barrier everywhere (under Slurm
     * 22.05's mpi/pmix on emulated nodes it returned at once on the ranks
     * that reached it first). A dead peer fails it; finalizing goes on. */
    (void)mpi_coll_barrier_quiet(MPI_COMM_WORLD);
    /* Sends that completed may still sit in a btl's queue (an eager send is
     * done once copied): keep progressing through the fence, or a peer still
     * receiving them would never arrive (Open MPI does the same). */
    mrail_reason_t why;
    mrail_rte_barrier_progress(mrail_mpi.rte, finalize_progress, mrail_obj.pml, &why);
    mrail_pml_close(mrail_obj.pml);
    mrail_frameworks_close(mrail_mpi.fws);
    mrail_mca_close(mrail_mpi.mca);
    mrail_rte_finalize(mrail_mpi.rte);
    for (int c = MPI_COMM_WORLD; c < mrail_obj.ncomms; c++) {
        if (mrail_obj.comms[c].valid) {
            mpi_attrs_delete_all(c);
        }
    }
    mpi_comms_fini();
    mpi_types_fini();
    mpi_ops_fini();
    mpi_groups_fini();
    mpi_infos_fini();
    mpi_errors_fini();
    mpi_messages_fini();
    mpi_keyvals_fini();
    mpi_type_keyvals_fini();
    mpi_wins_fini();
    mpi_win_keyvals_fini();
    free(mrail_mpi.reqs);
    free(mrail_mpi.free_slots);
    mrail_mpi.reqs = NULL;
    mrail_mpi.free_slots = NULL;
    mrail_mpi.nreqs = mrail_mpi.nfree = 0;
    mrail_obj.pml = NULL;
    mrail_obj.local_peers = NULL; /* the rte's, gone with it */
    mrail_obj.local_size = 0;
    mrail_mpi.rte = NULL;
    mrail_mpi.initialized = false;
    mrail_mpi.finalized = true;
    return MPI_SUCCESS;
}

int PMPI_Initialized(int *flag)
{
    *flag = mrail_mpi.initialized || mrail_mpi.finalized;
    return MPI_SUCCESS;
}

int PMPI_Finalized(int *flag)
{
    *flag = mrail_mpi.finalized;
    return MPI_SUCCESS;
}

int PMPI_Abort(MPI_Comm comm, int errorcode)
{
    (void)comm; /* MPI allows aborting the whole job whatever the communicator */
    char msg[64];
    snprintf(msg, sizeof(msg), "MPI_Abort called with error code %d", errorcode);
    if (mrail_mpi.rte != NULL) {
        mrail_rte_abort(mrail_mpi.rte, errorcode, msg);
    }
    fprintf(stderr, "mrail: %s\n", msg);
    _Exit(errorcode ? errorcode : 1);
}

double PMPI_Wtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double PMPI_Wtick(void)
{
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    return (double)res.tv_sec + (double)res.tv_nsec * 1e-9;
}

int PMPI_Get_version(int *version, int *subversion)
{
    *version = MPI_VERSION;
    *subversion = MPI_SUBVERSION;
    return MPI_SUCCESS;
}

int PMPI_Get_processor_name(char *name, int *resultlen)
{
    /* The launcher's name for the node (Slurm's node name, mrun's emulated
     * host), as in MPI_COMM_TYPE_SHARED's node ids; before MPI_Init there is
     * none, and the kernel's is the answer. */
    const mrail_rte_facts_t *f = mrail_mpi.rte ? mrail_rte_facts(mrail_mpi.rte) : NULL;
    if (f != NULL && f->hostname[0] != '\0') {
        snprintf(name, MPI_MAX_PROCESSOR_NAME, "%s", f->hostname);
    } else if (gethostname(name, MPI_MAX_PROCESSOR_NAME) != 0) {
        snprintf(name, MPI_MAX_PROCESSOR_NAME, "unknown");
    }
    name[MPI_MAX_PROCESSOR_NAME - 1] = '\0';
    *resultlen = (int)strlen(name);
    return MPI_SUCCESS;
}

int PMPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
    (void)info;
    if (size < 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_SIZE, "MPI_Alloc_mem", "negative size %ld",
                         (long)size);
    }
    void *p = malloc(size ? (size_t)size : 1);
    if (p == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, "MPI_Alloc_mem",
                         "cannot allocate %ld bytes", (long)size);
    }
    *(void **)baseptr = p;
    return MPI_SUCCESS;
}

int PMPI_Free_mem(void *base)
{
    free(base);
    return MPI_SUCCESS;
}
