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

/* Appends arg to line as srun's --multi-prog parser reads it: a backslash
 * before blanks, quotes and backslashes. -1 for a '%' (srun substitutes
 * or drops it, %% included) or a newline, which no escape carries. */
static int quote_arg(FILE *line, const char *arg)
{
    if (strpbrk(arg, "%\n") != NULL) {
        return -1;
    }
    fputc(' ', line);
    for (const char *c = arg; *c; c++) {
        if (strchr(" \t'\"\\", *c) != NULL) {
            fputc('\\', line);
        }
        fputc(*c, line);
    }
    return 0;
}

/* MPMD: srun --multi-prog reads "first-last program args" lines from a
 * file. It is written, opened and unlinked here, and srun reads it as
 * /dev/fd/N (srun parses it itself and sends the lines to the nodes), so
 * nothing is left behind after the exec. Returns the fd, or -1. */
static int multi_prog_fd(const mrun_options_t *o)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/mrun-multi-prog.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot write srun's --multi-prog file %s: %m\n", o->prog_name, path);
        return -1;
    }
    unlink(path);
    FILE *f = fdopen(dup(fd), "w");
    int rc = f ? 0 : -1;
    for (size_t a = 0; rc == 0 && a < o->napps; a++) {
        const mrun_app_t *app = &o->apps[a];
        /* MPI_APPNUM: see runtime/rte_pmix.c. */
        fprintf(f, "%u-%u /usr/bin/env MRAIL_APPNUM=%zu", app->first, app->first + app->np - 1, a);
        for (char **arg = app->argv; rc == 0 && *arg != NULL; arg++) {
            if ((rc = quote_arg(f, *arg)) != 0) {
                fprintf(stderr,
                        "%s: srun --multi-prog cannot carry the argument \"%s\" of program %zu "
                        "(it drops '%%' signs and ends lines at newlines)\n",
                        o->prog_name, *arg, a + 1);
            }
        }
        fputc('\n', f);
    }
    if (f == NULL || fclose(f) != 0 || rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
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
    static char ntasks[32], per_node[48], per_unit[48], timeout[32];
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
    if (o->per_unit > 0) {
        snprintf(per_unit, sizeof(per_unit), "--ntasks-per-%s=%u",
                 o->unit == MRUN_PPR_SOCKET ? "socket" : "core", o->per_unit);
        args[n++] = per_unit;
    }
    bool arbitrary = false;
    char *nodelist = NULL; /* lives until the exec */
    if (o->hosts != NULL || o->hostfile != NULL) {
        nodelist = mrun_map_srun_nodelist(o, &arbitrary);
        if (nodelist == NULL) {
            free(args);
            return MRUN_EXIT_USAGE;
        }
        args[n++] = "--nodelist";
        args[n++] = nodelist;
        if (arbitrary) {
            args[n++] = "--distribution=arbitrary";
        }
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
    static char multi_prog[32];
    if (o->napps > 1) {
        int fd = multi_prog_fd(o);
        if (fd < 0) {
            free(args);
            return MRUN_EXIT_USAGE;
        }
        snprintf(multi_prog, sizeof(multi_prog), "/dev/fd/%d", fd);
        args[n++] = "--multi-prog";
        args[n++] = multi_prog;
        nprog = 0;
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
    free(nodelist);
    free(args);
    return MRUN_EXIT_NOEXEC;
}
