/* Running a command as a user would: arguments, extra environment, stdin;
 * captures stdout, stderr and the exit status. Each run gets its own
 * TMPDIR and a unique tag, so a test can check that nothing is left. */
#ifndef MRAIL_TEST_RUN_UTIL_H
#define MRAIL_TEST_RUN_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct run {
    char tmpdir[128];
    char tag[64];
    char *out, *err;
    size_t out_len, err_len;
    int status; /* exit status, or 128 + signal */
    /* The signal of run_cmd_signal ends a run that took too long: print
     * first what each of its processes waits in, so that a hang seen once
     * in CI leaves a trace in the log. */
    bool dump_before_signal;
} run_t;

/* Tests that build network namespaces or shape links need root: anyone
 * else gets them skipped, with the reason, instead of failed. */
static inline void skip_unless_root(const char *what)
{
    if (geteuid() != 0) {
        cr_skip_test("%s: needs root (running as uid %d)", what, (int)geteuid());
    }
}

static inline void run_init(run_t *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->tmpdir, sizeof(r->tmpdir), "/tmp/mrail-run-XXXXXX");
    cr_assert_not_null(mkdtemp(r->tmpdir));
    snprintf(r->tag, sizeof(r->tag), "tag%d%ld", (int)getpid(), (long)random());
}

static inline void append(char **buf, size_t *len, const char *data, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* To stderr, for every process whose command line carries r's tag: the
 * command, the kernel's wait channel and current syscall, and, where gdb
 * is installed, every thread's backtrace. */
static inline void run_dump_stuck(const run_t *r)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "for p in $(pgrep -f '[%c]%s'); do"
             " echo \"== pid $p: $(tr '\\0' ' ' </proc/$p/cmdline 2>/dev/null)\";"
             " echo \"wchan $(cat /proc/$p/wchan 2>/dev/null),"
             " syscall $(cat /proc/$p/syscall 2>/dev/null)\";"
             " ! command -v gdb >/dev/null || timeout 30 gdb -p $p -batch"
             " -ex 'thread apply all bt' 2>/dev/null | grep -E '^(#|Thread)';"
             " done >&2",
             r->tag[0], r->tag + 1);
    fprintf(stderr, "run %s took too long; its processes:\n", r->tag);
    int rc = system(cmd);
    (void)rc; /* a diagnosis: nothing to do if it fails */
}

/* Runs argv with env (NULL-terminated "NAME=VALUE", may be NULL) added.
 * If signal_after_ms > 0, sends sig to the command after that long. */
static inline void run_cmd_signal(run_t *r, char *const argv[], char *const env[],
                                  const char *stdin_text, int sig, int signal_after_ms)
{
    int out[2], err[2], in[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(err), 0);
    cr_assert_eq(pipe(in), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* A test that times out is killed; what it ran must not outlive it
         * (mrun passes SIGTERM on to its ranks), or a hung job spins on
         * through the rest of the suite. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        setenv("TMPDIR", r->tmpdir, 1);
        for (char *const *e = env; e && *e; e++) {
            putenv(*e);
        }
        execv(argv[0], argv);
        _exit(126);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (stdin_text) {
        ssize_t n = write(in[1], stdin_text, strlen(stdin_text));
        (void)n;
    }
    close(in[1]);
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2, waited = 0;
    while (open_fds > 0) {
        int rc = poll(p, 2, 50);
        if (rc == 0 && signal_after_ms > 0 && (waited += 50) >= signal_after_ms) {
            if (r->dump_before_signal) {
                run_dump_stuck(r);
            }
            kill(pid, sig);
            signal_after_ms = 0;
        }
        for (int k = 0; k < 2; k++) {
            if (p[k].fd >= 0 && p[k].revents) {
                char buf[4096];
                ssize_t n = read(p[k].fd, buf, sizeof(buf));
                if (n <= 0) {
                    close(p[k].fd);
                    p[k].fd = -1;
                    open_fds--;
                } else if (k == 0) {
                    append(&r->out, &r->out_len, buf, (size_t)n);
                } else {
                    append(&r->err, &r->err_len, buf, (size_t)n);
                }
            }
        }
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    cr_log_info("stdout:\n%s\nstderr:\n%s", r->out, r->err);
}

static inline void run_cmd(run_t *r, char *const argv[], char *const env[], const char *stdin_text)
{
    run_cmd_signal(r, argv, env, stdin_text, 0, 0);
}

/* Lines of stdout containing needle. */
static inline int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line); /* newline kept */
        char *copy = strndup(line, len);
        n += strstr(copy, needle) != NULL;
        free(copy);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

/* Nothing of this run may survive it: no process with its tag, no file in
 * its TMPDIR (mrun's PMIx directory included). */
static inline void run_expect_clean(run_t *r)
{
    char cmd[256];
    usleep(100 * 1000); /* a SIGKILLed process takes a moment to vanish */
    /* "[t]ag..." matches the tag but not this shell's own command line. */
    snprintf(cmd, sizeof(cmd), "pgrep -f '[%c]%s' >/dev/null", r->tag[0], r->tag + 1);
    cr_expect_neq(system(cmd), 0, "processes tagged %s are left", r->tag);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", r->tmpdir);
    cr_expect_eq(system(cmd), 0, "files are left in %s", r->tmpdir);
}

/* mrail's shared-memory segments (/dev/shm/mrail.<job>.<rank>) of jobs that
 * are over, among those whose job starts with prefix: for mrun's jobs
 * (mrun.<pid>) the ones whose mrun is gone, for srun's (slurm.pmix.<job>)
 * every one. A plain count would take the segments of tests running beside
 * this one for leftovers. */
static inline int shm_leftovers(const char *prefix)
{
    DIR *d = opendir("/dev/shm");
    cr_assert_not_null(d);
    char want[64];
    snprintf(want, sizeof(want), "mrail.%s", prefix);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, want, strlen(want)) != 0) {
            continue;
        }
        int pid = 0;
        bool live = sscanf(e->d_name, "mrail.mrun.%d.", &pid) == 1 && pid > 0 &&
                    (kill(pid, 0) == 0 || errno != ESRCH);
        n += !live;
    }
    closedir(d);
    return n;
}

static inline void run_fini(run_t *r)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", r->tmpdir);
    cr_expect_eq(system(cmd), 0);
    free(r->out);
    free(r->err);
}

#endif
