/* fork + exec of the ranks. Between the two the child only makes
 * async-signal-safe calls: the PMIx server already runs threads (4). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mrun.h"

#define MPOL_BIND_MODE 2 /* MPOL_BIND, without pulling numaif.h into the child path */

extern char **environ;

static char **env_copy(void)
{
    size_t n = 0;
    while (environ[n] != NULL) {
        n++;
    }
    char **env = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; env != NULL && i < n; i++) {
        env[i] = strdup(environ[i]);
    }
    return env;
}

/* Sets NAME=VALUE in a malloc()ed environment (PMIx appends to it later). */
static int env_set(char ***envp, const char *name, const char *value)
{
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", name, value) < 0) {
        return -1;
    }
    size_t len = strlen(name), n = 0;
    char **env = *envp;
    for (; env[n] != NULL; n++) {
        if (strncmp(env[n], name, len) == 0 && env[n][len] == '=') {
            free(env[n]);
            env[n] = entry;
            return 0;
        }
    }
    char **grown = realloc(env, (n + 2) * sizeof(char *));
    if (grown == NULL) {
        free(entry);
        return -1;
    }
    grown[n] = entry;
    grown[n + 1] = NULL;
    *envp = grown;
    return 0;
}

static void env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        free(env[i]);
    }
    free(env);
}

static char **rank_env(mrun_job_t *job, unsigned rank)
{
    const mrun_options_t *o = job->opts;
    char **env = env_copy();
    int rc = env ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < o->nexports; i++) {
        const char *x = o->exports[i], *eq = strchr(x, '=');
        char name[256];
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - x) : (int)strlen(x), x);
        rc = env_set(&env, name, eq ? eq + 1 : getenv(name));
    }
    for (size_t i = 0; rc == 0 && i + 1 < o->nmca; i += 2) {
        char name[300];
        snprintf(name, sizeof(name), "MRAIL_CMDLINE_MCA_%s", o->mca[i]);
        rc = env_set(&env, name, o->mca[i + 1]);
    }
    if (rc == 0 && mrun_server_setup_rank(job, rank, &env) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        env_free(env);
        return NULL;
    }
    return env;
}

/* Only async-signal-safe calls from here to execve. */
/* Enters the network namespace as ip netns exec does: with a mount
 * namespace of the rank's own where /sys is mounted again, so that what
 * libraries read in /sys/class/net (UCX's tcp transport lists its devices
 * there) is the namespace's interfaces, not those of the host. */
static int enter_netns(int netns_fd)
{
    if (setns(netns_fd, CLONE_NEWNET) != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0) {
        return errno;
    }
    umount2("/sys", MNT_DETACH);
    return mount("sysfs", "/sys", "sysfs", 0, NULL) == 0 ? 0 : errno;
}

static void child_exec(const mrun_options_t *o, const mrun_rank_t *r, const mrun_app_t *app,
                       char **env, int out, int err, int in, int netns_fd, int status_fd,
                       pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127); /* mrun died before we got here */
    }
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Dispositions we, or the shell that started us in the background,
     * set to "ignore" would survive exec and make forwarding useless. */
    int reset[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
    for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++) {
        signal(reset[i], SIG_DFL);
    }
    int fail = 0;
    if (netns_fd >= 0) {
        fail = enter_netns(netns_fd);
    }
    if (!fail && CPU_COUNT(&r->cpus) > 0 && sched_setaffinity(0, sizeof(r->cpus), &r->cpus) != 0) {
        fail = errno;
    }
    if (!fail && r->nodemask != 0 &&
        syscall(SYS_set_mempolicy, MPOL_BIND_MODE, &r->nodemask, 8 * sizeof(r->nodemask)) != 0) {
        fail = errno;
    }
    if (!fail && (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
                  dup2(o->merge_stderr ? out : err, STDERR_FILENO) < 0)) {
        fail = errno;
    }
    if (!fail && o->wdir != NULL && chdir(o->wdir) != 0) {
        fail = errno;
    }
    if (!fail) {
        execve(app->path, app->argv, env);
        fail = errno;
    }
    ssize_t n = write(status_fd, &fail, sizeof(fail));
    (void)n;
    _exit(MRUN_EXIT_NOEXEC);
}

static int open_netns(const mrun_options_t *o, size_t i)
{
    char path[512];
    snprintf(path, sizeof(path), "/var/run/netns/%s", o->netns[i]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "%s: --netns: cannot open network namespace %s (%s): %s\n", o->prog_name,
                o->netns[i], path, strerror(errno));
    }
    return fd;
}

/* --output-filename: DIR/1/rank.N/stdout and stderr, as Open MPI lays them
 * out (1: the job). */
static int open_output_files(const mrun_options_t *o, mrun_rank_t *r)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s", o->output_dir);
    mkdir(path, 0755); /* each may exist: the last one's failure is the one told */
    snprintf(path, sizeof(path), "%s/1", o->output_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/1/rank.%u", o->output_dir, r->rank);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: --output-filename: cannot create %s: %s\n", o->prog_name, path,
                strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/1/rank.%u/stdout", o->output_dir, r->rank);
    r->file_out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    snprintf(path, sizeof(path), "%s/1/rank.%u/stderr", o->output_dir, r->rank);
    r->file_err = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->file_out < 0 || r->file_err < 0) {
        fprintf(stderr, "%s: --output-filename: cannot create %s: %s\n", o->prog_name, path,
                strerror(errno));
        return -1;
    }
    return 0;
}

int mrun_launch(mrun_job_t *job, int *stdin_fd)
{
    const mrun_options_t *o = job->opts;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int in_pipe[2] = {-1, -1};
    if (devnull < 0 || pipe2(in_pipe, O_CLOEXEC) != 0) {
        perror("mrun: pipe");
        return 1;
    }
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    *stdin_fd = in_pipe[1];
    for (unsigned i = 0; i < o->np; i++) {
        mrun_rank_t *r = &job->ranks[i];
        const mrun_app_t *app = &o->apps[r->app];
        int out[2], err[2], st[2];
        if (o->output_dir != NULL && open_output_files(o, r) != 0) {
            return 1;
        }
        int netns = o->nnetns ? open_netns(o, r->node) : -1;
        char **env = rank_env(job, i);
        if ((o->nnetns && netns < 0) || env == NULL || pipe2(out, O_CLOEXEC) != 0 ||
            pipe2(err, O_CLOEXEC) != 0 || pipe2(st, O_CLOEXEC) != 0) {
            env_free(env);
            return o->nnetns && netns < 0 ? MRUN_EXIT_USAGE : 1;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            child_exec(o, r, app, env, out[1], err[1], i == 0 ? in_pipe[0] : devnull, netns, st[1],
                       parent);
        }
        env_free(env);
        close(out[1]);
        close(err[1]);
        close(st[1]);
        if (netns >= 0) {
            close(netns);
        }
        if (pid < 0) {
            perror("mrun: fork");
            return 1;
        }
        setpgid(pid, pid); /* also here: whichever runs first wins the race */
        r->pid = pid;
        r->running = true;
        r->out = (mrun_stream_t){.fd = out[0]};
        r->err = (mrun_stream_t){.fd = err[0]};
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        fcntl(err[0], F_SETFL, O_NONBLOCK);
        int child_errno = 0;
        ssize_t n;
        do {
            n = read(st[0], &child_errno, sizeof(child_errno));
        } while (n < 0 && errno == EINTR);
        close(st[0]);
        if (n > 0) {
            fprintf(stderr, "%s: cannot start rank %u (%s): %s\n", o->prog_name, i, app->path,
                    strerror(child_errno));
            return MRUN_EXIT_NOEXEC;
        }
        if (o->report_bindings) {
            mrun_bind_report(job, i);
        }
    }
    close(in_pipe[0]);
    close(devnull);
    return 0;
}
