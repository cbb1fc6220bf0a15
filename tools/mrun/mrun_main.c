/* mrun: the order of work and the event loop (children, output, signals,
 * PMIx upcalls, timeout) with the job's failure semantics. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mrun.h"

#define KILL_GRACE_SECONDS 2.0

typedef struct mrun_loop {
    mrun_job_t *job;
    int sigfd;
    int stdin_fd;    /* write end of rank 0's stdin; -1 once closed */
    bool stdin_open; /* our own stdin still has data to forward */
    bool killing;
    double kill_deadline; /* when SIGTERM turns into SIGKILL */
    double deadline;      /* --timeout; 0 = none */
    int exit_status;
    bool failed;
} mrun_loop_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void mrun_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* btl/sm names its segments /mrail.<job>.<rank>, and the collectives' and
 * windows' segments are /mrail.<job>.<what>.<pid>.<n> (coll_base_shm.c);
 * each is unlinked once mapped, and a rank that dies before that leaves
 * one, which we sweep. */
static void sweep_shm(const mrun_job_t *job)
{
    char prefix[PMIX_MAX_NSLEN + 16];
    int len = snprintf(prefix, sizeof(prefix), "mrail.%s.", job->nspace);
    for (char *p = prefix; *p; p++) {
        *p = *p == '/' ? '_' : *p;
    }
    DIR *d = opendir("/dev/shm");
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, (size_t)len) == 0) {
            char path[512];
            snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

static void signal_ranks(mrun_job_t *job, int sig)
{
    for (unsigned i = 0; i < job->opts->np; i++) {
        mrun_rank_t *r = &job->ranks[i];
        if (r->pid > 0) {
            /* The group takes the rank's own children along. */
            kill(-r->pid, sig);
            if (r->running) {
                kill(r->pid, sig);
            }
        }
    }
}

/* The first failure names the job's fate; later ones are consequences. */
static void fail_job(mrun_loop_t *L, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_job(mrun_loop_t *L, int status, const char *fmt, ...)
{
    if (L->failed) {
        return;
    }
    L->failed = true;
    L->exit_status = status;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", L->job->opts->prog_name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    bool others = false;
    for (unsigned i = 0; i < L->job->opts->np; i++) {
        others = others || L->job->ranks[i].running;
    }
    fprintf(stderr, "%s\n", others ? "; killing the ranks still running" : "");
    L->killing = true;
    L->kill_deadline = now() + KILL_GRACE_SECONDS;
    signal_ranks(L->job, SIGTERM);
}

static void rank_exited(mrun_loop_t *L, mrun_rank_t *r, int status)
{
    r->running = false;
    r->wait_status = status;
    mrun_job_t *job = L->job;
    pthread_mutex_lock(&job->lock);
    bool connected = r->connected, finalized = r->finalized;
    pthread_mutex_unlock(&job->lock);
    if (L->killing) {
        return;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        fail_job(L, 128 + sig, "rank %u (pid %d) was killed by signal %d (%s)", r->rank,
                 (int)r->pid, sig, strsignal(sig));
    } else if (WEXITSTATUS(status) != 0) {
        fail_job(L, WEXITSTATUS(status), "rank %u (pid %d) exited with status %d", r->rank,
                 (int)r->pid, WEXITSTATUS(status));
    } else if (connected && !finalized) {
        /* A program that never touched PMIx (hostname) may exit quietly;
         * one that did must finalize, or its peers may wait forever. */
        fail_job(L, 1,
                 "rank %u (pid %d) exited with status 0 without finalizing (it called "
                 "PMIx_Init / MPI_Init but not PMIx_Finalize / MPI_Finalize)",
                 r->rank, (int)r->pid);
    }
}

static mrun_rank_t *rank_of(mrun_loop_t *L, pid_t pid)
{
    for (unsigned i = 0; i < L->job->opts->np; i++) {
        if (L->job->ranks[i].pid == pid) {
            return &L->job->ranks[i];
        }
    }
    return NULL;
}

/* Ranks reaped together may have died in any order: a death by a signal is
 * a cause, a peer that then exited with an error (its fence failed) a
 * consequence, so the signalled ones name the job's fate first. */
static void reap(mrun_loop_t *L)
{
    int status;
    pid_t pid;
    struct {
        mrun_rank_t *rank;
        int status;
    } later[64];
    unsigned nlater = 0;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        mrun_rank_t *r = rank_of(L, pid);
        if (r == NULL) {
            continue;
        }
        if (WIFSIGNALED(status) || nlater == sizeof(later) / sizeof(later[0])) {
            rank_exited(L, r, status);
        } else {
            later[nlater].rank = r;
            later[nlater++].status = status;
        }
    }
    for (unsigned i = 0; i < nlater; i++) {
        rank_exited(L, later[i].rank, later[i].status);
    }
}

static void on_signal(mrun_loop_t *L)
{
    struct signalfd_siginfo si;
    while (read(L->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            reap(L);
            continue;
        }
        if (L->killing) {
            signal_ranks(L->job, SIGKILL);
            continue;
        }
        /* Passed on; the ranks' deaths by it then fail the job as usual. */
        fprintf(stderr, "%s: got %s, passing it to every rank\n", L->job->opts->prog_name,
                strsignal((int)si.ssi_signo));
        signal_ranks(L->job, (int)si.ssi_signo);
    }
}

static void on_wake(mrun_loop_t *L)
{
    char buf[256];
    while (read(L->job->wake[0], buf, sizeof(buf)) > 0) {
    }
    mrun_server_release_fences(L->job);
    pthread_mutex_lock(&L->job->lock);
    bool aborted = L->job->aborted;
    pthread_mutex_unlock(&L->job->lock);
    if (aborted && !L->failed) {
        mrun_rank_t *r = &L->job->ranks[L->job->abort_rank];
        fail_job(L, L->job->abort_status ? L->job->abort_status : 1,
                 "rank %u (pid %d) aborted the job with status %d: %s", r->rank, (int)r->pid,
                 L->job->abort_status, L->job->abort_msg);
    }
}

static void forward_stdin(mrun_loop_t *L)
{
    char buf[4096]; /* a pipe that polls writable takes at least this much */
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n > 0 && write(L->stdin_fd, buf, (size_t)n) == n) {
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    L->stdin_open = false;
    close(L->stdin_fd);
    L->stdin_fd = -1;
}

static bool all_done(const mrun_loop_t *L)
{
    for (unsigned i = 0; i < L->job->opts->np; i++) {
        const mrun_rank_t *r = &L->job->ranks[i];
        if (r->running || r->out.fd >= 0 || r->err.fd >= 0) {
            return false;
        }
    }
    return true;
}

static bool any_running(const mrun_loop_t *L)
{
    for (unsigned i = 0; i < L->job->opts->np; i++) {
        if (L->job->ranks[i].running) {
            return true;
        }
    }
    return false;
}

static void on_timeout(mrun_loop_t *L)
{
    char running[1024] = "";
    size_t used = 0;
    for (unsigned i = 0; i < L->job->opts->np && used < sizeof(running); i++) {
        const mrun_rank_t *r = &L->job->ranks[i];
        if (r->running) {
            used += (size_t)snprintf(running + used, sizeof(running) - used, "%s%u (pid %d)",
                                     used ? ", " : "", r->rank, (int)r->pid);
        }
    }
    L->deadline = 0;
    fail_job(L, MRUN_EXIT_TIMEOUT, "the job ran past --timeout %g s (still running: rank%s %s)",
             L->job->opts->timeout, strchr(running, ',') ? "s" : "", running);
}

static void run_loop(mrun_loop_t *L)
{
    mrun_job_t *job = L->job;
    size_t cap = 3 + 2 * (size_t)job->opts->np;
    struct pollfd *pfd = calloc(cap, sizeof(*pfd));
    mrun_stream_t **streams = calloc(cap, sizeof(*streams));
    mrun_rank_t **owners = calloc(cap, sizeof(*owners));
    while (pfd && streams && owners && !all_done(L)) {
        size_t n = 0;
        pfd[n++] = (struct pollfd){L->sigfd, POLLIN, 0};
        pfd[n++] = (struct pollfd){job->wake[0], POLLIN, 0};
        size_t first_stream = n;
        for (unsigned i = 0; i < job->opts->np; i++) {
            mrun_rank_t *r = &job->ranks[i];
            mrun_stream_t *s[2] = {&r->out, &r->err};
            for (int k = 0; k < 2; k++) {
                if (s[k]->fd >= 0) {
                    owners[n] = r;
                    streams[n] = s[k];
                    pfd[n++] = (struct pollfd){s[k]->fd, POLLIN, 0};
                }
            }
        }
        size_t stdin_slot = n;
        if (L->stdin_open && L->stdin_fd >= 0) {
            pfd[n++] = (struct pollfd){L->stdin_fd, POLLOUT, 0};
        }
        double wait = 1.0;
        if (L->deadline > 0) {
            wait = L->deadline - now() < wait ? L->deadline - now() : wait;
        }
        if (L->killing) {
            wait = L->kill_deadline - now() < wait ? L->kill_deadline - now() : wait;
        }
        int rc = poll(pfd, n, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        if (rc < 0 && errno != EINTR) {
            perror("mrun: poll");
            break;
        }
        /* Upcalls first: an abort must be seen before the aborting rank's exit. */
        if (pfd[1].revents) {
            on_wake(L);
        }
        if (pfd[0].revents) {
            on_signal(L);
        }
        for (size_t k = first_stream; k < stdin_slot; k++) {
            if (pfd[k].revents) {
                bool is_err = streams[k] == &owners[k]->err;
                mrun_io_drain(job, owners[k], streams[k], is_err ? STDERR_FILENO : STDOUT_FILENO,
                              false);
            }
        }
        if (stdin_slot < n && pfd[stdin_slot].revents) {
            if (pfd[stdin_slot].revents & (POLLERR | POLLHUP)) {
                L->stdin_open = false;
            } else {
                forward_stdin(L);
            }
        }
        if (L->deadline > 0 && now() >= L->deadline && any_running(L)) {
            on_timeout(L);
        }
        if (L->killing && now() >= L->kill_deadline) {
            signal_ranks(job, SIGKILL);
            L->kill_deadline = now() + KILL_GRACE_SECONDS;
        }
        if (!any_running(L)) {
            /* Whatever is left in the pipes is read now; a descendant that
             * still holds them open does not keep us waiting. */
            for (unsigned i = 0; i < job->opts->np; i++) {
                mrun_io_drain(job, &job->ranks[i], &job->ranks[i].out, STDOUT_FILENO, true);
                mrun_io_drain(job, &job->ranks[i], &job->ranks[i].err, STDERR_FILENO, true);
            }
        }
    }
    free(pfd);
    free(streams);
    free(owners);
}

/* execvp's search, done before anything starts so that a typo costs nothing. */
static int resolve_program(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/') != NULL) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK) == 0 ? 0 : errno;
    }
    const char *path = getenv("PATH");
    int err = ENOENT;
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(out, len, "%.*s/%s", (int)dlen, dlen ? p : ".", prog);
        if (access(out, X_OK) == 0) {
            return 0;
        }
        if (errno != ENOENT) {
            err = errno;
        }
        p += dlen + (colon != NULL);
    }
    return err;
}

/* Emulated hosts no rank runs on are no nodes of the job: PMIx's node map
 * lists only nodes with ranks. Keeps the --netns order. */
static void drop_unused_hosts(mrun_options_t *o, unsigned *node)
{
    size_t kept = 0;
    for (size_t k = 0; k < o->nnetns; k++) {
        bool used = false;
        for (unsigned i = 0; i < o->np && !used; i++) {
            used = node[i] == k;
        }
        if (!used) {
            free(o->netns[k]);
            continue;
        }
        for (unsigned i = 0; i < o->np; i++) {
            node[i] = node[i] == k ? (unsigned)kept : node[i];
        }
        o->netns[kept++] = o->netns[k];
    }
    o->nnetns = o->nnetns ? kept : 0;
}

static int job_setup(mrun_job_t *job, mrun_options_t *o)
{
    job->opts = o;
    snprintf(job->nspace, sizeof(job->nspace), "mrun.%d", (int)getpid());
    const char *tmp = getenv("TMPDIR");
    snprintf(job->tmpdir, sizeof(job->tmpdir), "%s/mrun.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(job->tmpdir) == NULL) {
        fprintf(stderr, "%s: cannot create a directory in %s: %s\n", o->prog_name,
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        job->tmpdir[0] = '\0';
        return 1;
    }
    job->ranks = calloc(o->np, sizeof(*job->ranks));
    if (job->ranks == NULL || pipe2(job->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        return 1;
    }
    pthread_mutex_init(&job->lock, NULL);
    unsigned *node = calloc(o->np, sizeof(*node));
    if (node == NULL || mrun_map(o, node) >= 0) {
        free(node);
        return 1;
    }
    drop_unused_hosts(o, node);
    job->nnodes = o->nnetns ? (unsigned)o->nnetns : 1;
    for (unsigned i = 0, app = 0; i < o->np; i++) {
        while (i >= o->apps[app].first + o->apps[app].np) {
            app++;
        }
        job->ranks[i] = (mrun_rank_t){
            .rank = i, .app = app, .out.fd = -1, .err.fd = -1, .file_out = -1, .file_err = -1};
        job->ranks[i].node = node[i];
    }
    free(node);
    return mrun_bind_plan(job);
}

static void job_free(mrun_job_t *job)
{
    for (unsigned i = 0; job->ranks && i < job->opts->np; i++) {
        free(job->ranks[i].out.buf);
        free(job->ranks[i].err.buf);
        if (job->ranks[i].file_out >= 0) {
            close(job->ranks[i].file_out);
        }
        if (job->ranks[i].file_err >= 0) {
            close(job->ranks[i].file_err);
        }
    }
    free(job->ranks);
    close(job->wake[0]);
    close(job->wake[1]);
    pthread_mutex_destroy(&job->lock);
}

int main(int argc, char **argv)
{
    mrun_options_t opts = {0};
    int status = mrun_options_parse(argc, argv, &opts);
    if (status >= 0) {
        mrun_options_free(&opts);
        return status;
    }
    if (mrun_slurm_allocation()) {
        status = mrun_slurm_exec(&opts);
        mrun_options_free(&opts);
        return status;
    }
    if ((status = mrun_map(&opts, NULL)) >= 0) {
        mrun_options_free(&opts);
        return status;
    }
    for (size_t a = 0; a < opts.napps; a++) {
        mrun_app_t *app = &opts.apps[a];
        /* A relative path names a program in the ranks' working directory. */
        bool in_wdir = opts.wdir && strchr(app->argv[0], '/') && app->argv[0][0] != '/';
        char *prog = NULL;
        if (asprintf(&prog, "%s%s%s", in_wdir ? opts.wdir : "", in_wdir ? "/" : "", app->argv[0]) <
            0) {
            return 1;
        }
        int err = resolve_program(prog, app->path, sizeof(app->path));
        free(prog);
        char *abs = err == 0 ? realpath(app->path, NULL) : NULL;
        if (abs != NULL) { /* the ranks chdir to -wdir before exec */
            snprintf(app->path, sizeof(app->path), "%s", abs);
            free(abs);
        }
        if (err != 0) {
            fprintf(stderr, "%s: cannot run \"%s\": %s%s\n", opts.prog_name, app->argv[0],
                    strerror(err), strchr(app->argv[0], '/') ? "" : " (searched PATH)");
            mrun_options_free(&opts);
            return MRUN_EXIT_NOEXEC;
        }
    }

    /* Blocked before the PMIx threads exist, so that they inherit the mask
     * and every one of these signals comes through the signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaddset(&mask, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    mrun_job_t job = {0};
    mrun_loop_t L = {.job = &job, .stdin_fd = -1, .stdin_open = true};
    L.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    status = job_setup(&job, &opts);
    for (unsigned i = 0; status == 0 && opts.display_map && i < opts.np; i++) {
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        const mrun_rank_t *r = &job.ranks[i];
        fprintf(stderr, "%s: rank %u on node %u (%s), program %s\n", opts.prog_name, i, r->node,
                opts.nnetns ? opts.netns[r->node] : host, opts.apps[r->app].argv[0]);
    }
    if (status == 0) {
        status = mrun_server_start(&job);
    }
    if (status == 0) {
        status = mrun_server_register_job(&job);
    }
    if (status == 0) {
        status = mrun_launch(&job, &L.stdin_fd);
    }
    if (status != 0) {
        /* (3) No PMIx teardown once something failed: the server thread may
         * still touch what the ranks left behind. */
        signal_ranks(&job, SIGKILL);
        if (job.tmpdir[0]) {
            mrun_rmtree(job.tmpdir);
        }
        sweep_shm(&job);
        _exit(status);
    }
    if (opts.timeout > 0) {
        L.deadline = now() + opts.timeout;
    }
    run_loop(&L);
    if (L.failed) {
        signal_ranks(&job, SIGKILL); /* strays the ranks left behind */
        mrun_rmtree(job.tmpdir);
        sweep_shm(&job);
        _exit(L.exit_status); /* (3) */
    }
    mrun_server_stop();
    mrun_rmtree(job.tmpdir);
    sweep_shm(&job);
    job_free(&job);
    mrun_options_free(&opts);
    return 0;
}
