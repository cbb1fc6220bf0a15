/* A rank program for the runtime tests: prints its job facts, exchanges
 * distinct blobs with every other rank and checks every byte, and can fail
 * in the ways the launcher must handle. Output lines are "key=value ...". */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrail/component.h"
#include "mrail/rte.h"

typedef struct probe_args {
    const char *env_var, *mca_param, *fail_how, *say;
    int fail_rank, fail_code;
    bool affinity, hang, skip_modex;
} probe_args_t;

/* Rank r's blob: length and bytes both depend on r, so a mix-up shows. */
static size_t blob_len(uint32_t r)
{
    return 100 + 37 * (size_t)r;
}

static unsigned char blob_byte(uint32_t r, size_t i)
{
    return (unsigned char)(r * 131 + i * 7 + 1);
}

static int exchange(mrail_rte_t *rte, const mrail_rte_facts_t *f)
{
    mrail_reason_t why;
    unsigned char *mine = malloc(blob_len(f->rank));
    for (size_t i = 0; i < blob_len(f->rank); i++) {
        mine[i] = blob_byte(f->rank, i);
    }
    if (mrail_rte_modex_put(rte, "probe.blob", mine, blob_len(f->rank), &why) != MRAIL_SUCCESS ||
        mrail_rte_modex_fence(rte, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "rank %u: %s\n", f->rank, why.text);
        return 1;
    }
    free(mine);
    for (uint32_t r = 0; r < f->size; r++) {
        void *blob;
        size_t len;
        if (mrail_rte_modex_get(rte, r, "probe.blob", &blob, &len, &why) != MRAIL_SUCCESS) {
            fprintf(stderr, "rank %u: %s\n", f->rank, why.text);
            return 1;
        }
        if (len != blob_len(r)) {
            fprintf(stderr, "rank %u: blob of rank %u has %zu bytes, expected %zu\n", f->rank, r,
                    len, blob_len(r));
            return 1;
        }
        for (size_t i = 0; i < len; i++) {
            if (((unsigned char *)blob)[i] != blob_byte(r, i)) {
                fprintf(stderr, "rank %u: byte %zu of rank %u's blob is wrong\n", f->rank, i, r);
                return 1;
            }
        }
        free(blob);
    }
    return 0;
}

static void print_mca(const char *name)
{
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    mrail_reason_t why;
    if (mrail_mca_open(NULL, &mca, &why) != MRAIL_SUCCESS) {
        printf("mca error=%s\n", why.text);
        return;
    }
    mrail_frameworks_open(mca, &fws);
    const mrail_mca_param_t *p = mrail_mca_find(mca, name);
    printf("mca %s=%s source=%s origin=%s\n", name, p ? p->value : "(unknown)",
           p ? mrail_mca_source_name(p->source) : "", p ? p->origin : "");
    mrail_frameworks_close(fws);
    mrail_mca_close(mca);
}

static void print_affinity(uint32_t rank)
{
    cpu_set_t set;
    sched_getaffinity(0, sizeof(set), &set);
    printf("rank=%u cpus=", rank);
    int first = 1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            printf("%s%d", first ? "" : ",", c);
            first = 0;
        }
    }
    printf("\n");
}

static void parse(int argc, char **argv, probe_args_t *a)
{
    *a = (probe_args_t){.fail_rank = -1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--env") && i + 1 < argc) {
            a->env_var = argv[++i];
        } else if (!strcmp(argv[i], "--mca") && i + 1 < argc) {
            a->mca_param = argv[++i];
        } else if (!strcmp(argv[i], "--affinity")) {
            a->affinity = true;
        } else if (!strcmp(argv[i], "--hang")) {
            a->hang = true;
        } else if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
            i++; /* lets a test find its own processes with pgrep -f */
        } else if (!strcmp(argv[i], "--say") && i + 1 < argc) {
            a->say = argv[++i]; /* printed back: which program's arguments a rank got */
        } else if (!strcmp(argv[i], "--no-modex")) {
            a->skip_modex = true;
        } else if (!strcmp(argv[i], "--fail") && i + 3 < argc) {
            /* --fail RANK exit|kill|no-finalize|abort|in-fence CODE */
            a->fail_rank = atoi(argv[++i]);
            a->fail_how = argv[++i];
            a->fail_code = atoi(argv[++i]);
        } else {
            fprintf(stderr, "rte_probe: unknown argument %s\n", argv[i]);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    probe_args_t a;
    parse(argc, argv, &a);
    mrail_rte_t *rte;
    mrail_reason_t why;
    if (mrail_rte_init(&rte, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "rte_probe: %s\n", why.text);
        return 1;
    }
    const mrail_rte_facts_t *f = mrail_rte_facts(rte);
    printf("rank=%u size=%u local_rank=%u local_size=%u node=%u singleton=%d app=%u host=%s "
           "peers=",
           f->rank, f->size, f->local_rank, f->local_size, f->node_id, f->singleton, f->appnum,
           f->hostname);
    for (uint32_t i = 0; i < f->local_size; i++) {
        printf("%s%u", i ? "," : "", f->local_peers[i]);
    }
    printf("\n");
    if (a.say != NULL) {
        printf("rank=%u says=%s\n", f->rank, a.say);
    }
    fflush(stdout);
    bool me = a.fail_rank == (int)f->rank;
    if (me && !strcmp(a.fail_how, "exit")) {
        exit(a.fail_code);
    } else if (me && !strcmp(a.fail_how, "kill")) {
        raise(SIGKILL);
    } else if (me && !strcmp(a.fail_how, "no-finalize")) {
        exit(0);
    } else if (me && !strcmp(a.fail_how, "abort")) {
        mrail_rte_abort(rte, a.fail_code, "rte_probe was asked to abort");
    } else if (me && !strcmp(a.fail_how, "in-fence")) {
        usleep(200 * 1000); /* the others are in the fence by now */
        raise(SIGKILL);
    }
    if (a.env_var) {
        const char *v = getenv(a.env_var);
        printf("rank=%u env %s=%s\n", f->rank, a.env_var, v ? v : "(unset)");
    }
    if (a.mca_param) {
        print_mca(a.mca_param);
    }
    if (a.affinity) {
        print_affinity(f->rank);
    }
    if (a.hang) {
        for (;;) {
            pause();
        }
    }
    int rc = a.skip_modex ? 0 : exchange(rte, f);
    if (rc == 0 && mrail_rte_barrier(rte, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "rank %u: %s\n", f->rank, why.text);
        rc = 1;
    }
    if (rc != 0) {
        /* A fence or barrier fails because a peer died: that death is the
         * job's fate, and mrun cannot tell the order of deaths it reaps in
         * one go, so the consequence waits a moment before it follows. */
        usleep(300 * 1000);
    }
    printf("rank=%u modex=%s\n", f->rank, rc == 0 ? (a.skip_modex ? "skipped" : "ok") : "FAILED");
    fflush(stdout);
    mrail_rte_finalize(rte);
    return rc;
}
