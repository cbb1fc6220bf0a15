/* mrun: launches an N-rank job on this machine, hosting its PMIx server.
 *
 * Threads: the PMIx server calls us from its own thread; those upcalls only
 * record facts under job->lock and wake the main loop through job->wake.
 * Everything else (children, output, signals, fences) runs in the main loop. */
#ifndef MRUN_H
#define MRUN_H

#include <pmix_server.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

/* Exit statuses of mrun itself (a failed rank's own status is passed on). */
enum {
    MRUN_EXIT_USAGE = 2,     /* bad option or value */
    MRUN_EXIT_TIMEOUT = 124, /* --timeout expired */
    MRUN_EXIT_NOEXEC = 127,  /* program not found or not executable */
};

/* --map-by ppr:N:<unit>: N ranks per node, per socket or per core. */
typedef enum { MRUN_PPR_NODE, MRUN_PPR_SOCKET, MRUN_PPR_CORE } mrun_ppr_unit_t;

typedef enum {
    MRUN_BIND_DEFAULT,
    MRUN_BIND_NONE,
    MRUN_BIND_CORE,
    MRUN_BIND_SOCKET,
    MRUN_BIND_NUMA
} mrun_bind_t;

/* One program of the job (MPMD: mrun -n 1 ./a : -n 2 ./b); its ranks are
 * first .. first + np - 1, in the order the programs were given. */
typedef struct mrun_app {
    unsigned np, first;
    char **argv;     /* the program and its arguments, NULL-terminated */
    char path[4096]; /* argv[0] as PATH resolves it */
} mrun_app_t;

typedef struct mrun_options {
    const char *prog_name; /* how we were called: mrun, mpirun, mpiexec */
    unsigned np;
    char **exports; /* -x VAR or VAR=value */
    size_t nexports;
    char **mca; /* --mca name value pairs, flattened */
    size_t nmca;
    mrun_bind_t bind;
    bool report_bindings;
    bool oversubscribe;
    bool tag_output;
    bool verbose;
    double timeout; /* seconds; 0 = none */
    char **netns;   /* --netns: the emulated hosts (mrun_map places ranks on them) */
    size_t nnetns;
    const char *pmix_if;    /* --pmix-if: interface the PMIx server listens on */
    const char *wdir;       /* -wdir: the ranks' working directory */
    bool merge_stderr;      /* --merge-stderr-to-stdout */
    const char *output_dir; /* --output-filename: DIR/1/rank.N/{stdout,stderr} */
    bool output_copy;       /* and the terminal too (not with DIR:nocopy) */
    char **owned;           /* strings made while parsing (-genv VAR VALUE) */
    unsigned per_node;      /* -N, --npernode, -ppn, --map-by ppr:N:node; 0: not given */
    unsigned per_unit;      /* --map-by ppr:N:socket|core: N; 0: not given */
    mrun_ppr_unit_t unit;   /* and which */
    const char *hosts;      /* --host, -H, -hosts: comma-separated */
    const char *hostfile;   /* --hostfile, -f, -machinefile */
    bool display_map;       /* --display-map */
    size_t nowned;
    mrun_app_t *apps; /* the programs: one, or several separated by ':' */
    size_t napps;
} mrun_options_t;

/* Slurm (mrun_slurm.c): whether we run inside an allocation of several
 * nodes; there the job goes to srun --mpi=pmix (execs it; returns only an
 * exit status on failure). */
bool mrun_slurm_allocation(void);
int mrun_slurm_exec(const mrun_options_t *opts);
/* Outside one (mrun_map.c): places the ranks. With --netns, node[i] is the
 * index in opts->netns of rank i's emulated host, from --host/--hostfile
 * slots and -N; without, every host named must be this machine and -N hold
 * every rank (node[i] = 0). node may be NULL to check only. Returns -1 to
 * go on, else the exit status (a message printed). */
int mrun_map(mrun_options_t *opts, unsigned *node);
/* For srun (malloc()ed; NULL when no host is named or on error, a message
 * printed): the hosts of --host/--hostfile, one per rank in slot order
 * when any has a slot count (*arbitrary: srun --distribution=arbitrary). */
char *mrun_map_srun_nodelist(const mrun_options_t *opts, bool *arbitrary);

/* Parses argv; returns -1 to go on, else the exit status (help, version, usage error). */
int mrun_options_parse(int argc, char **argv, mrun_options_t *opts);
void mrun_options_free(mrun_options_t *opts);

typedef struct mrun_stream {
    int fd; /* -1 once closed */
    char *buf;
    size_t len, cap;
} mrun_stream_t;

typedef struct mrun_rank {
    unsigned rank;
    pid_t pid;
    bool running;
    bool connected; /* called PMIx_Init */
    bool finalized; /* called PMIx_Finalize */
    int wait_status;
    cpu_set_t cpus;         /* binding; empty = none */
    unsigned long nodemask; /* --bind-to numa: memory policy nodes; 0 = none */
    unsigned node;          /* emulated host (network namespace) index */
    unsigned app;           /* index in opts->apps of the program it runs */
    int file_out, file_err; /* --output-filename files; -1 without */
    mrun_stream_t out, err;
} mrun_rank_t;

/* A fence the PMIx server handed up, to be completed by the main loop. */
typedef struct mrun_fence {
    char *data;
    size_t ndata;
    pmix_modex_cbfunc_t cbfunc;
    void *cbdata;
    struct mrun_fence *next;
} mrun_fence_t;

typedef struct mrun_job {
    mrun_options_t *opts;
    char nspace[PMIX_MAX_NSLEN + 1];
    char tmpdir[256];
    mrun_rank_t *ranks;
    unsigned nnodes;
    int wake[2];          /* upcalls -> main loop */
    pthread_mutex_t lock; /* guards the fields below, written by upcalls */
    mrun_fence_t *fences;
    bool aborted;
    unsigned abort_rank;
    int abort_status;
    char abort_msg[512];
} mrun_job_t;

/* PMIx server host (mrun_server.c). */
int mrun_server_start(mrun_job_t *job);
int mrun_server_register_job(mrun_job_t *job);
/* Fills the PMIx variables a rank needs into its environment. */
int mrun_server_setup_rank(mrun_job_t *job, unsigned rank, char ***env);
/* Completes the fences the server handed up. */
void mrun_server_release_fences(mrun_job_t *job);
void mrun_server_stop(void);

/* Binding (mrun_bind.c): computes ranks[i].cpus / nodemask; returns 0 or an exit status. */
int mrun_bind_plan(mrun_job_t *job);
void mrun_bind_report(const mrun_job_t *job, unsigned rank);

/* Launch (mrun_launch.c): forks and execs its program for every rank;
 * rank 0 reads from the pipe whose write end is *stdin_fd. Returns 0 or an
 * exit status; ranks already started are in job->ranks either way. */
int mrun_launch(mrun_job_t *job, int *stdin_fd);

/* Output (mrun_io.c): forwards complete lines; flushes the rest at EOF. */
void mrun_io_drain(mrun_job_t *job, mrun_rank_t *r, mrun_stream_t *s, int out_fd, bool eof);

/* Removes a directory tree (the PMIx tmpdir). */
void mrun_rmtree(const char *path);

#endif
