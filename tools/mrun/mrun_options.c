/* mrun's command line, in the spelling MPI users know. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <unistd.h>

#include "mrail/version.h"
#include "mrun.h"

static const char usage_text[] =
    "Usage: %s [options] PROGRAM [ARGS...] [: -n M PROGRAM2 [ARGS...]]...\n"
    "Starts N copies of PROGRAM on this machine as one job, wired up through PMIx; each\n"
    "': -n M PROGRAM2' adds M ranks running PROGRAM2 to the same job (MPMD: ranks are\n"
    "numbered in the order given, MPI_APPNUM is the program's index).\n"
    "\n"
    "  -n, -np, --np N          number of ranks (required, at least 1)\n"
    "  -x VAR[=VALUE]           export VAR (from this environment, or set to VALUE) to the\n"
    "                           ranks; repeatable\n"
    "  --mca, -mca NAME VALUE   set an MCA parameter for the ranks (command-line precedence)\n"
    "  --bind-to none|core|socket|numa\n"
    "                           pin each rank (default: core when N <= usable CPUs, else none);\n"
    "                           numa also binds memory to the node\n"
    "  --report-bindings        print each rank's CPU set on stderr\n"
    "  --oversubscribe          allow more ranks than usable CPUs\n"
    "  --tag-output             prefix each output line with [1,RANK]<stdout>: or <stderr>:\n"
    "  --timeout SECONDS        kill the job if it runs longer\n"
    "  --netns NS[,NS...]       emulated hosts: each network namespace is a node; ranks go\n"
    "                           in blocks, or where --host/--hostfile/-N place them\n"
    "  --pmix-if IFNAME         the PMIx server listens on this interface instead of loopback\n"
    "                           (needed with --netns: a namespace cannot reach our loopback)\n"
    "  -wdir, --wdir DIR        the ranks' working directory (a relative PROGRAM path is\n"
    "                           found from there too)\n"
    "  --output-filename DIR    also write each rank's output to DIR/1/rank.N/stdout and\n"
    "                           stderr (Open MPI's layout); DIR:nocopy writes only the files\n"
    "  --merge-stderr-to-stdout the ranks' stderr goes to stdout\n"
    "  -genv, -env VAR VALUE    set VAR to VALUE for the ranks (MPICH's spelling of -x)\n"
    "  -H, --host, -hosts H1,H2 / --hostfile, -f, -machinefile FILE\n"
    "                           where ranks may run: inside a Slurm allocation of several\n"
    "                           nodes mrun runs the job with srun --mpi=pmix (these become\n"
    "                           --nodelist); with --netns, emulated hosts filled by slot\n"
    "                           (host:N, \"host slots=N\"); elsewhere this machine only\n"
    "  -N, --npernode, -ppn N, --map-by ppr:N:node\n"
    "                           N ranks per node (srun --ntasks-per-node)\n"
    "  --map-by ppr:N:socket|core\n"
    "                           N ranks per socket or core of each node, in order, bound to\n"
    "                           it (srun --ntasks-per-socket, --ntasks-per-core)\n"
    "  --display-map            print where each rank runs (or the srun command)\n"
    "  --allow-run-as-root, -q, --quiet\n"
    "                           accepted for scripts written for Open MPI; mrun runs as\n"
    "                           root and prints only errors anyway\n"
    "  -v, --verbose            report what the PMIx server does (connects, fences)\n"
    "  -V, --version            print the version and exit\n"
    "  -h, --help               print this help and exit\n"
    "\n"
    "Exit status: 0 when every rank exits 0 after finalizing; a failed rank's own status (or\n"
    "128+signal); 2 for a usage error; 124 when --timeout expires; 127 when PROGRAM cannot be\n"
    "run. When a rank fails, every other rank is killed and the failure is named on stderr.\n";

static int usage_error(const mrun_options_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const mrun_options_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", o->prog_name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun '%s --help' for the options.\n", o->prog_name);
    return MRUN_EXIT_USAGE;
}

static bool is(const char *arg, const char *a, const char *b, const char *c)
{
    return !strcmp(arg, a) || (b && !strcmp(arg, b)) || (c && !strcmp(arg, c));
}

static int parse_unsigned(const mrun_options_t *o, const char *opt, const char *text, unsigned *out)
{
    char *end;
    long v = text ? strtol(text, &end, 10) : -1;
    if (text == NULL || *end != '\0' || end == text || v < 1 || v > 1000000) {
        return usage_error(o, "%s needs a whole number of ranks from 1 up, got \"%s\"", opt,
                           text ? text : "nothing");
    }
    *out = (unsigned)v;
    return -1;
}

static int split_list(const char *text, char ***items, size_t *count)
{
    char *copy = strdup(text), *save = NULL;
    size_t n = 1;
    for (const char *p = text; *p; p++) {
        n += *p == ',';
    }
    *items = calloc(n, sizeof(char *));
    *count = 0;
    if (copy == NULL || *items == NULL) {
        free(copy);
        return -1;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        (*items)[(*count)++] = strdup(t);
    }
    free(copy);
    return 0;
}

/* The programs from argv[i] on: the first takes np ranks, each one after
 * a ':' its own -n. The ':' become the NULLs that end each program's argv. */
static int parse_apps(mrun_options_t *o, int argc, char **argv, int i, unsigned np)
{
    o->apps = calloc((size_t)argc, sizeof(*o->apps));
    if (o->apps == NULL) {
        return 1;
    }
    unsigned total = 0;
    for (;;) {
        if (i >= argc || !strcmp(argv[i], ":")) {
            return usage_error(o, o->napps ? "no program after ':'" : "no program to run");
        }
        if (total + np > 1000000) {
            return usage_error(o, "more than 1000000 ranks in all");
        }
        o->apps[o->napps++] = (mrun_app_t){.np = np, .first = total, .argv = &argv[i]};
        total += np;
        while (i < argc && strcmp(argv[i], ":") != 0) {
            i++;
        }
        if (i >= argc) {
            break;
        }
        argv[i++] = NULL;
        if (i >= argc) {
            return usage_error(o, "no program after ':'");
        }
        bool have_np = false;
        while (i < argc && argv[i][0] == '-') {
            if (!(is(argv[i], "-n", "-np", "--np") || is(argv[i], "-c", "--n", NULL))) {
                return usage_error(o,
                                   "after ':' only -n M may come before the program, got \"%s\" "
                                   "(options for the whole job go before the first program)",
                                   argv[i]);
            }
            int rc = parse_unsigned(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &np);
            if (rc >= 0) {
                return rc;
            }
            have_np = true;
            i += 2;
        }
        if (!have_np) {
            return usage_error(o, "the program after ':' needs its own -n M");
        }
    }
    o->np = total;
    return -1;
}

int mrun_options_parse(int argc, char **argv, mrun_options_t *o)
{
    const char *slash = strrchr(argv[0], '/');
    o->prog_name = slash ? slash + 1 : argv[0];
    o->exports = calloc((size_t)argc, sizeof(char *));
    o->mca = calloc((size_t)argc * 2, sizeof(char *));
    o->owned = calloc((size_t)argc, sizeof(char *));
    if (o->exports == NULL || o->mca == NULL || o->owned == NULL) {
        return 1;
    }
    bool have_np = false;
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (is(a, "-h", "--help", NULL)) {
            printf(usage_text, o->prog_name);
            return 0;
        } else if (is(a, "-V", "--version", NULL)) {
            printf("%s (mrail) %s\n", o->prog_name, MRAIL_VERSION_STRING);
            return 0;
        } else if (is(a, "-n", "-np", "--np") || is(a, "-c", "--n", NULL)) {
            rc = parse_unsigned(o, a, next, &o->np);
            have_np = true;
            i++;
        } else if (!strcmp(a, "-x")) {
            if (next == NULL || next[0] == '=' || next[0] == '\0') {
                return usage_error(o, "-x needs VAR or VAR=VALUE, got \"%s\"",
                                   next ? next : "nothing");
            }
            if (strchr(next, '=') == NULL && getenv(next) == NULL) {
                return usage_error(o, "-x %s: %s is not set in this environment; use -x VAR=VALUE",
                                   next, next);
            }
            o->exports[o->nexports++] = argv[++i];
        } else if (is(a, "--mca", "-mca", NULL)) {
            if (i + 2 >= argc) {
                return usage_error(o, "%s needs a parameter name and a value", a);
            }
            o->mca[o->nmca++] = argv[++i];
            o->mca[o->nmca++] = argv[++i];
        } else if (!strcmp(a, "--bind-to")) {
            static const char *const names[] = {"none", "core", "socket", "numa"};
            static const mrun_bind_t values[] = {MRUN_BIND_NONE, MRUN_BIND_CORE, MRUN_BIND_SOCKET,
                                                 MRUN_BIND_NUMA};
            o->bind = MRUN_BIND_DEFAULT;
            for (size_t k = 0; next && k < 4; k++) {
                if (!strcmp(next, names[k])) {
                    o->bind = values[k];
                }
            }
            if (o->bind == MRUN_BIND_DEFAULT) {
                return usage_error(o, "--bind-to takes none, core, socket or numa, got \"%s\"",
                                   next ? next : "nothing");
            }
            i++;
        } else if (!strcmp(a, "--report-bindings")) {
            o->report_bindings = true;
        } else if (!strcmp(a, "--oversubscribe")) {
            o->oversubscribe = true;
        } else if (!strcmp(a, "--tag-output")) {
            o->tag_output = true;
        } else if (is(a, "-v", "--verbose", NULL)) {
            o->verbose = true;
        } else if (!strcmp(a, "--timeout")) {
            char *end;
            o->timeout = next ? strtod(next, &end) : 0;
            if (next == NULL || *end != '\0' || !(o->timeout > 0)) {
                return usage_error(o, "--timeout needs a number of seconds above 0, got \"%s\"",
                                   next ? next : "nothing");
            }
            i++;
        } else if (!strcmp(a, "--netns")) {
            if (next == NULL || split_list(next, &o->netns, &o->nnetns) != 0 || o->nnetns == 0) {
                return usage_error(o, "--netns needs a comma-separated list of namespaces");
            }
            i++;
        } else if (is(a, "-genv", "-env", NULL)) {
            if (i + 2 >= argc || argv[i + 1][0] == '\0' || strchr(argv[i + 1], '=') != NULL) {
                return usage_error(o, "%s needs a variable name and a value", a);
            }
            char *x = NULL;
            if (asprintf(&x, "%s=%s", argv[i + 1], argv[i + 2]) < 0) {
                return 1;
            }
            o->owned[o->nowned++] = x;
            o->exports[o->nexports++] = x;
            i += 2;
        } else if (is(a, "-wdir", "--wdir", NULL)) {
            struct stat st;
            errno = 0;
            if (next == NULL || stat(next, &st) != 0 || !S_ISDIR(st.st_mode)) {
                const char *why = next == NULL ? "" : errno ? strerror(errno) : "not a directory";
                return usage_error(o, "%s needs an existing directory, got \"%s\"%s%s", a,
                                   next ? next : "nothing", next ? ": " : "", why);
            }
            o->wdir = next;
            i++;
        } else if (!strcmp(a, "--output-filename")) {
            if (next == NULL || next[0] == '\0') {
                return usage_error(o, "--output-filename needs a directory");
            }
            char *dir = strdup(next), *colon = strrchr(dir, ':');
            if (dir == NULL) {
                return 1;
            }
            o->owned[o->nowned++] = dir;
            o->output_copy = true;
            if (colon != NULL && !strcasecmp(colon + 1, "nocopy")) {
                *colon = '\0';
                o->output_copy = false;
            }
            o->output_dir = dir;
            i++;
        } else if (is(a, "-N", "--npernode", "-ppn")) {
            rc = parse_unsigned(o, a, next, &o->per_node);
            i++;
        } else if (!strcmp(a, "--map-by")) {
            unsigned n = 0;
            char unit[16] = "";
            if (next == NULL || sscanf(next, "ppr:%u:%15s", &n, unit) != 2 || n == 0 ||
                (strcmp(unit, "node") && strcmp(unit, "socket") && strcmp(unit, "core"))) {
                return usage_error(o,
                                   "--map-by takes ppr:N:node, ppr:N:socket or ppr:N:core (N "
                                   "ranks per node, socket or core, N from 1), got \"%s\"",
                                   next ? next : "nothing");
            }
            if (!strcmp(unit, "node")) {
                o->per_node = n;
            } else {
                o->per_unit = n;
                o->unit = !strcmp(unit, "socket") ? MRUN_PPR_SOCKET : MRUN_PPR_CORE;
            }
            i++;
        } else if (is(a, "--host", "-H", "-hosts")) {
            if (next == NULL || next[0] == '\0') {
                return usage_error(o, "%s needs a comma-separated list of hosts", a);
            }
            o->hosts = next;
            i++;
        } else if (is(a, "--hostfile", "-f", "-machinefile")) {
            if (next == NULL || access(next, R_OK) != 0) {
                return usage_error(o, "%s needs a readable file of hosts, got \"%s\"%s%s", a,
                                   next ? next : "nothing", next ? ": " : "",
                                   next ? strerror(errno) : "");
            }
            o->hostfile = next;
            i++;
        } else if (!strcmp(a, "--display-map")) {
            o->display_map = true;
        } else if (!strcmp(a, "--merge-stderr-to-stdout")) {
            o->merge_stderr = true;
        } else if (is(a, "--allow-run-as-root", "-q", "--quiet")) {
            /* nothing to do: see the help */
        } else if (!strcmp(a, "--pmix-if")) {
            if (next == NULL) {
                return usage_error(o, "--pmix-if needs an interface name");
            }
            o->pmix_if = next;
            i++;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else {
            return usage_error(o, "unknown option \"%s\"", a);
        }
        if (rc >= 0) {
            return rc;
        }
    }
    if (!have_np) {
        return usage_error(o, "the number of ranks is missing: give -n N");
    }
    if (o->nnetns > 0 && o->pmix_if == NULL) {
        return usage_error(o, "--netns needs --pmix-if IFNAME: ranks in another network "
                              "namespace cannot reach this server over loopback");
    }
    return parse_apps(o, argc, argv, i, o->np);
}

void mrun_options_free(mrun_options_t *o)
{
    free(o->exports);
    free(o->mca);
    for (size_t i = 0; i < o->nnetns; i++) {
        free(o->netns[i]);
    }
    free(o->netns);
    free(o->apps);
    for (size_t i = 0; i < o->nowned; i++) {
        free(o->owned[i]);
    }
    free(o->owned);
}
