/* The runtime over the PMIx client. */
#include <pmix.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rte_internal.h"

extern char **environ;

static int pmix_fail(mrail_reason_t *why, const char *what, pmix_status_t rc)
{
    return mrail_reason_set(why, MRAIL_ERROR, "%s failed: %s", what, PMIx_Error_string(rc));
}

static bool get_u32(const pmix_proc_t *proc, const char *key, uint32_t *out)
{
    pmix_value_t *v = NULL;
    if (PMIx_Get(proc, key, NULL, 0, &v) != PMIX_SUCCESS || v == NULL) {
        return false;
    }
    bool ok = true;
    switch (v->type) {
    case PMIX_UINT32: *out = v->data.uint32; break;
    case PMIX_UINT16: *out = v->data.uint16; break;
    case PMIX_INT: *out = (uint32_t)v->data.integer; break;
    case PMIX_PROC_RANK: *out = v->data.rank; break;
    default: ok = false;
    }
    PMIX_VALUE_RELEASE(v);
    return ok;
}

static bool get_string(const pmix_proc_t *proc, const char *key, char *buf, size_t len)
{
    pmix_value_t *v = NULL;
    if (PMIx_Get(proc, key, NULL, 0, &v) != PMIX_SUCCESS || v == NULL) {
        return false;
    }
    bool ok = v->type == PMIX_STRING && v->data.string != NULL;
    if (ok) {
        snprintf(buf, len, "%s", v->data.string);
    }
    PMIX_VALUE_RELEASE(v);
    return ok;
}

/* "0,2,5" -> sorted array; returns the count parsed. */
static size_t parse_peers(const char *text, uint32_t *peers, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) {
            break;
        }
        peers[n++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* More ranks on this node than it has CPUs. Every rank of a node finds the
 * same answer: bound ranks see one CPU each in their affinity, so the
 * node's online count decides. */
static bool node_oversubscribed(uint32_t local_size)
{
    cpu_set_t cpus;
    int ncpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    ncpus = online > ncpus ? (int)online : ncpus;
    return local_size > (uint32_t)ncpus;
}

static int load_facts(mrail_rte_t *rte, mrail_reason_t *why)
{
    mrail_rte_facts_t *f = &rte->facts;
    pmix_proc_t wild;
    PMIX_LOAD_PROCID(&wild, rte->me.nspace, PMIX_RANK_WILDCARD);
    f->rank = rte->me.rank;
    snprintf(f->job, sizeof(f->job), "%s", rte->me.nspace);
    if (!get_u32(&wild, PMIX_JOB_SIZE, &f->size)) {
        return mrail_reason_set(why, MRAIL_ERROR, "the launcher did not provide the job size");
    }
    if (!get_u32(&rte->me, PMIX_LOCAL_RANK, &f->local_rank)) {
        f->local_rank = f->singleton ? 0 : f->rank;
    }
    if (!get_u32(&wild, PMIX_LOCAL_SIZE, &f->local_size)) {
        f->local_size = f->size;
    }
    if (!get_u32(&rte->me, PMIX_NODEID, &f->node_id)) {
        f->node_id = 0;
    }
    if (!get_u32(&rte->me, PMIX_APPNUM, &f->appnum)) {
        f->appnum = 0;
    }
    /* Slurm's PMIx plugin numbers every program of srun --multi-prog 0;
     * mrun, which writes those lines, starts each with its number here. */
    const char *appnum = getenv("MRAIL_APPNUM");
    if (appnum != NULL && *appnum >= '0' && *appnum <= '9') {
        f->appnum = (uint32_t)strtoul(appnum, NULL, 10);
    }
    if (!get_string(&rte->me, PMIX_HOSTNAME, f->hostname, sizeof(f->hostname))) {
        gethostname(f->hostname, sizeof(f->hostname) - 1);
    }
    f->local_peers = calloc(f->local_size ? f->local_size : 1, sizeof(uint32_t));
    if (f->local_peers == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    char *peers = malloc(16 * (size_t)f->local_size + 16);
    size_t n = 0;
    if (peers != NULL &&
        get_string(&wild, PMIX_LOCAL_PEERS, peers, 16 * (size_t)f->local_size + 16)) {
        n = parse_peers(peers, f->local_peers, f->local_size);
    }
    free(peers);
    if (n == 0 && f->local_size == 1) {
        f->local_peers[n++] = f->rank;
    }
    if (n != f->local_size) {
        return mrail_reason_set(why, MRAIL_ERROR,
                                "the launcher said %u ranks share this node but listed %zu",
                                f->local_size, n);
    }
    f->oversubscribed = node_oversubscribed(f->local_size);
    return MRAIL_SUCCESS;
}

int mrail_rte_init(mrail_rte_t **rte_out, mrail_reason_t *why)
{
    mrail_rte_t *rte = calloc(1, sizeof(*rte));
    if (rte == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    pmix_status_t rc = PMIx_Init(&rte->me, NULL, 0);
    if (rc == PMIX_ERR_UNREACH) {
        /* No launcher: libpmix runs us as a singleton, which is right only
         * if nobody started more of us. */
        int status = rte_check_not_foreign_launch(environ, why);
        if (status != MRAIL_SUCCESS) {
            PMIx_Finalize(NULL, 0);
            free(rte);
            return status;
        }
        rte->facts.singleton = true;
    } else if (rc != PMIX_SUCCESS) {
        free(rte);
        return pmix_fail(why, "PMIx_Init", rc);
    }
    int status = load_facts(rte, why);
    if (status != MRAIL_SUCCESS) {
        PMIx_Finalize(NULL, 0);
        free(rte->facts.local_peers);
        free(rte);
        return status;
    }
    *rte_out = rte;
    return MRAIL_SUCCESS;
}

const mrail_rte_facts_t *mrail_rte_facts(const mrail_rte_t *rte)
{
    return &rte->facts;
}

int mrail_rte_modex_put(mrail_rte_t *rte, const char *key, const void *blob, size_t len,
                        mrail_reason_t *why)
{
    (void)rte;
    pmix_value_t value;
    pmix_byte_object_t bo = {.bytes = (char *)(uintptr_t)blob, .size = len};
    PMIX_VALUE_LOAD(&value, &bo, PMIX_BYTE_OBJECT);
    pmix_status_t rc = PMIx_Put(PMIX_GLOBAL, key, &value);
    PMIX_VALUE_DESTRUCT(&value);
    return rc == PMIX_SUCCESS ? MRAIL_SUCCESS : pmix_fail(why, "PMIx_Put", rc);
}

int mrail_rte_modex_fence(mrail_rte_t *rte, mrail_reason_t *why)
{
    (void)rte;
    pmix_status_t rc = PMIx_Commit();
    if (rc != PMIX_SUCCESS) {
        return pmix_fail(why, "PMIx_Commit", rc);
    }
    pmix_info_t info;
    bool collect = true;
    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    rc = PMIx_Fence(NULL, 0, &info, 1);
    PMIX_INFO_DESTRUCT(&info);
    return rc == PMIX_SUCCESS ? MRAIL_SUCCESS : pmix_fail(why, "PMIx_Fence", rc);
}

int mrail_rte_modex_get(mrail_rte_t *rte, uint32_t rank, const char *key, void **blob, size_t *len,
                        mrail_reason_t *why)
{
    pmix_proc_t peer;
    pmix_value_t *v = NULL;
    PMIX_LOAD_PROCID(&peer, rte->me.nspace, rank);
    /* No PMIX_OPTIONAL: with the hash gds every peer get would then fail. */
    pmix_status_t rc = PMIx_Get(&peer, key, NULL, 0, &v);
    if (rc != PMIX_SUCCESS) {
        return mrail_reason_set(why, MRAIL_ERR_NOT_FOUND, "PMIx_Get of %s from rank %u failed: %s",
                                key, rank, PMIx_Error_string(rc));
    }
    if (v->type != PMIX_BYTE_OBJECT) {
        PMIX_VALUE_RELEASE(v);
        return mrail_reason_set(why, MRAIL_ERROR, "%s of rank %u is not a blob", key, rank);
    }
    *len = v->data.bo.size;
    *blob = malloc(*len ? *len : 1);
    if (*blob == NULL) {
        PMIX_VALUE_RELEASE(v);
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    memcpy(*blob, v->data.bo.bytes, *len);
    PMIX_VALUE_RELEASE(v);
    return MRAIL_SUCCESS;
}

int mrail_rte_barrier(mrail_rte_t *rte, mrail_reason_t *why)
{
    (void)rte;
    pmix_status_t rc = PMIx_Fence(NULL, 0, NULL, 0);
    return rc == PMIX_SUCCESS ? MRAIL_SUCCESS : pmix_fail(why, "PMIx_Fence", rc);
}

typedef struct fence_wait {
    volatile int done; /* set by PMIx's thread */
    pmix_status_t status;
} fence_wait_t;

static void fence_done(pmix_status_t status, void *cbdata)
{
    fence_wait_t *w = cbdata;
    w->status = status;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
}

int mrail_rte_barrier_progress(mrail_rte_t *rte, int (*progress)(void *ctx), void *ctx,
                               mrail_reason_t *why)
{
    (void)rte;
    fence_wait_t w = {0, PMIX_SUCCESS};
    pmix_status_t rc = PMIx_Fence_nb(NULL, 0, NULL, 0, fence_done, &w);
    if (rc == PMIX_OPERATION_SUCCEEDED) {
        return MRAIL_SUCCESS;
    }
    if (rc != PMIX_SUCCESS) {
        return pmix_fail(why, "PMIx_Fence_nb", rc);
    }
    unsigned idle = 0;
    while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
        if (progress(ctx) > 0) {
            idle = 0;
        } else if (++idle >= 64) { /* nothing to move: let PMIx's thread run */
            sched_yield();
            idle = 0;
        }
    }
    return w.status == PMIX_SUCCESS ? MRAIL_SUCCESS : pmix_fail(why, "PMIx_Fence_nb", w.status);
}

void mrail_rte_abort(mrail_rte_t *rte, int status, const char *msg)
{
    if (!rte->facts.singleton && PMIx_Abort(status, msg, NULL, 0) == PMIX_SUCCESS) {
        /* The launcher now ends the job, us included: wait for it, so that it
         * sees an abort and not a plain exit. */
        for (int i = 0; i < 100; i++) {
            usleep(50 * 1000);
        }
    }
    /* A singleton, or a launcher that did not kill us, ends here. */
    fprintf(stderr, "mrail: abort: %s\n", msg);
    _exit(status != 0 ? status : 1);
}

int mrail_rte_finalize(mrail_rte_t *rte)
{
    pmix_status_t rc = PMIx_Finalize(NULL, 0);
    free(rte->facts.local_peers);
    free(rte->bells);
    free(rte);
    return rc == PMIX_SUCCESS ? MRAIL_SUCCESS : MRAIL_ERROR;
}
