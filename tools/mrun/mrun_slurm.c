/* Inside a Slurm allocation of several nodes, mrun's own launcher would put
 * every rank on this one node. So, as MPICH's hydra does with its slurm
 * launcher, mrun hands the job to `srun --mpi=pmix`, translating the
 * options srun can express and refusing, by name, those it cannot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrun.h"

#define SRUN_ARGS_MAX 32 /* srun's own, before the program's */

bool mrun_slurm_allocation(void)
{
    const char *nodes = getenv("SLURM_JOB_NUM_NODES");
    if (nodes == NULL) {
        nodes = getenv("SLURM_NNODES");
    }
    /* Not inside a step (srun sets SLURM_STEP_ID; salloc and sbatch do not):
     * there the step already is the job's. */
    return getenv("SLURM_JOB_ID") != NULL && getenv("SLURM_STEP_ID") == NULL && nodes != NULL &&
           atoi(nodes) > 1;
}

static const char *unsupported(const mrun_options_t *o)
{
    if (o->napps > 1) {
        return "several programs (':')";
    }
    if (o->nnetns > 0) {
        return "--netns";
    }
    if (o->pmix_if != NULL) {
        return "--pmix-if";
    }
    if (o->output_dir != NULL) {
        return "--output-filename";
    }
    if (o->bind != MRUN_BIND_DEFAULT) {
        return "--bind-to";
    }
    if (o->report_bindings) {
        return "--report-bindings";
    }
    if (o->merge_stderr) {
        return "--merge-stderr-to-stdout";
    }
    return NULL;
}

int mrun_slurm_exec(const mrun_options_t *o)
{
    const char *bad = unsupported(o);
    if (bad != NULL) {
        fprintf(stderr,
                "%s: inside a Slurm allocation of several nodes mrun starts the job with srun "
                "--mpi=pmix, which cannot take %s; leave it out, or run srun yourself\n",
                o->prog_name, bad);
        return MRUN_EXIT_USAGE;
    }
    /* Exports and MCA parameters travel in the environment srun passes on
     * (--export=ALL, its default). */
    for (size_t i = 0; i < o->nexports; i++) {
        const char *x = o->exports[i], *eq = strchr(x, '=');
        if (eq != NULL) {
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(eq - x), x);
            setenv(name, eq + 1, 1);
        }
    }
    for (size_t i = 0; i + 1 < o->nmca; i += 2) {
        char name[512];
        snprintf(name, sizeof(name), "MRAIL_CMDLINE_MCA_%s", o->mca[i]);
        setenv(name, o->mca[i + 1], 1);
    }
    static char ntasks[32], per_node[48], timeout[32], hostfile[4200];
    size_t nprog = 0;
    while (o->apps[0].argv[nprog] != NULL) {
        nprog++;
    }
    char **args = calloc(SRUN_ARGS_MAX + nprog + 1, sizeof(char *));
    if (args == NULL) {
        return 1;
    }
    size_t n = 0;
    args[n++] = "srun";
    args[n++] = "--mpi=pmix";
    args[n++] = "--kill-on-bad-exit=1"; /* a dead rank ends the step, as under mrun */
    snprintf(ntasks, sizeof(ntasks), "--ntasks=%u", o->np);
    args[n++] = ntasks;
    if (o->per_node > 0) {
        snprintf(per_node, sizeof(per_node), "--ntasks-per-node=%u", o->per_node);
        args[n++] = per_node;
    }
    if (o->hosts != NULL) {
        args[n++] = "--nodelist";
        args[n++] = (char *)o->hosts;
    } else if (o->hostfile != NULL) {
        /* srun takes a file for --nodelist when the name has a '/'. */
        snprintf(hostfile, sizeof(hostfile), "%s%s", strchr(o->hostfile, '/') ? "" : "./",
                 o->hostfile);
        args[n++] = "--nodelist";
        args[n++] = hostfile;
    }
    if (o->wdir != NULL) {
        args[n++] = "--chdir";
        args[n++] = (char *)o->wdir;
    }
    if (o->tag_output) {
        args[n++] = "--label";
    }
    if (o->oversubscribe) {
        args[n++] = "--overcommit"; /* more ranks than the allocation's CPUs, as asked */
    }
    if (o->timeout > 0) {
        /* srun's --time is in whole minutes: round up. */
        snprintf(timeout, sizeof(timeout), "--time=%u", (unsigned)((o->timeout + 59) / 60));
        args[n++] = timeout;
    }
    for (size_t i = 0; i < nprog; i++) {
        args[n++] = o->apps[0].argv[i];
    }
    args[n] = NULL;
    if (o->display_map || o->verbose) {
        fprintf(stderr, "%s: in a Slurm allocation of %s nodes: running", o->prog_name,
                getenv("SLURM_JOB_NUM_NODES") ? getenv("SLURM_JOB_NUM_NODES")
                                              : getenv("SLURM_NNODES"));
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, " %s", args[i]);
        }
        fprintf(stderr, "\n");
    }
    execvp("srun", args);
    fprintf(stderr, "%s: cannot run srun for this Slurm allocation: %m\n", o->prog_name);
    free(args);
    return MRUN_EXIT_NOEXEC;
}

/* Whether name is this machine. */
static bool is_here(const char *name, size_t len)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    char *dot = strchr(host, '.');
    size_t short_len = dot ? (size_t)(dot - host) : strlen(host);
    return (len == 9 && !strncmp(name, "localhost", 9)) ||
           (len == strlen(host) && !strncmp(name, host, len)) ||
           (len == short_len && !strncmp(name, host, len));
}

/* Outside an allocation mrun starts ranks here only: hosts must be this
 * machine, and -N must leave room for every rank on it. */
int mrun_hosts_check(const mrun_options_t *o)
{
    char *list = NULL;
    if (o->hostfile != NULL) {
        FILE *f = fopen(o->hostfile, "r");
        size_t cap = 0;
        char *line = NULL, *all = calloc(1, 1);
        size_t used = 0;
        while (f != NULL && all != NULL && getline(&line, &cap, f) > 0) {
            char name[256];
            if (sscanf(line, "%255s", name) == 1 && name[0] != '#') {
                char *grown = realloc(all, used + strlen(name) + 2);
                if (grown == NULL) {
                    break;
                }
                all = grown;
                used += (size_t)sprintf(all + used, "%s%s", used ? "," : "", name);
            }
        }
        free(line);
        if (f != NULL) {
            fclose(f);
        }
        list = all;
    } else if (o->hosts != NULL) {
        list = strdup(o->hosts);
    }
    for (const char *p = list; p != NULL && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len); /* host:slots, Open MPI's spelling */
        size_t name_len = colon ? (size_t)(colon - p) : len;
        if (name_len > 0 && !is_here(p, name_len)) {
            fprintf(stderr,
                    "%s: host %.*s is not this machine: mrun starts ranks here only, except "
                    "inside a Slurm allocation of several nodes (then it runs srun --mpi=pmix); "
                    "or run srun --mpi=pmix yourself\n",
                    o->prog_name, (int)name_len, p);
            free(list);
            return MRUN_EXIT_USAGE;
        }
        p += len + (comma != NULL);
    }
    free(list);
    if (o->per_node > 0 && o->per_node < o->np) {
        fprintf(stderr,
                "%s: %u ranks per node on this one node cannot hold %u ranks (outside a Slurm "
                "allocation mrun uses this machine only)\n",
                o->prog_name, o->per_node, o->np);
        return MRUN_EXIT_USAGE;
    }
    return -1;
}
