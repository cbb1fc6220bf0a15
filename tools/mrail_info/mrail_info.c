/* mrail_info: command line and the order of work; printing is in
 * mrail_info_print.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/mrail.h"
#include "mrail_info.h"

static const char usage[] =
    "Usage: mrail_info [options]\n"
    "Shows mrail's frameworks and components (built in or plugin, loaded or why not, what\n"
    "each one selects on this machine) and its MCA parameters with their values and sources.\n"
    "\n"
    "  --param FW COMP   list the parameters of framework FW and component COMP\n"
    "                    (either may be \"all\"; FW \"mca\" holds the loader's own)\n"
    "  --level N         only parameters of level <= N (1 basic user .. 9 developer;\n"
    "                    default 9); values set away from their default always show\n"
    "  --all, -a         every framework, component and parameter, and --path and --config\n"
    "  --path            where this installation is: prefix, libdir, plugin and sysconf\n"
    "                    directories, and which mca-params.conf files are read\n"
    "  --config          how it was built: compiler, build type, options, dependency\n"
    "                    versions, MPI version, thread level and bindings\n"
    "  --parsable        one stable key:value line per fact (see docs/mrail_info.md)\n"
    "  --mca NAME VALUE  set a parameter, as the launcher's --mca does (repeatable)\n"
    "  --version, -V     print the version and exit\n"
    "  --help, -h        print this help and exit\n"
    "\n"
    "Parameter sources, highest precedence first: --mca, environment MRAIL_MCA_<name>,\n"
    "files listed in MRAIL_MCA_PARAM_FILES (':'-separated), $HOME/.mrail/mca-params.conf,\n"
    "<sysconfdir>/mrail/mca-params.conf, the default.\n"
    "Exit status: 0 on success, 1 when a parameter or selection is invalid, 2 on a usage error.\n";

typedef struct info_args {
    info_filter_t filter;
    bool parsable;
    bool path, config, only; /* only: --path/--config without --all or --param */
    const char **cmdline;    /* name, value, ..., NULL */
} info_args_t;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "mrail_info: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'mrail_info --help' for the options.\n");
    return 2;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, info_args_t *a)
{
    size_t ncmd = 0;
    a->cmdline = calloc((size_t)argc + 1, sizeof(char *));
    a->filter = (info_filter_t){false, "all", "all", 9};
    if (a->cmdline == NULL) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
            printf("mrail_info (mrail) %s\n", MRAIL_VERSION_STRING);
            return 0;
        } else if (!strcmp(arg, "--parsable")) {
            a->parsable = true;
        } else if (!strcmp(arg, "--all") || !strcmp(arg, "-a")) {
            a->filter.params = a->path = a->config = true;
        } else if (!strcmp(arg, "--path")) {
            a->path = true;
        } else if (!strcmp(arg, "--config")) {
            a->config = true;
        } else if (!strcmp(arg, "--param")) {
            if (i + 2 >= argc) {
                return usage_error("%s needs a framework and a component (either may be \"all\")",
                                   arg);
            }
            a->filter.params = true;
            a->filter.framework = argv[++i];
            a->filter.component = argv[++i];
        } else if (!strcmp(arg, "--level")) {
            char *end;
            long level = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end != '\0' || level < 1 || level > 9) {
                return usage_error("--level needs a number from 1 to 9, got \"%s\"",
                                   i + 1 < argc ? argv[i + 1] : "nothing");
            }
            a->filter.level = (int)level;
            i++;
        } else if (!strcmp(arg, "--mca") || !strcmp(arg, "-mca")) {
            if (i + 2 >= argc) {
                return usage_error("%s needs a parameter name and a value", arg);
            }
            a->cmdline[ncmd++] = argv[++i];
            a->cmdline[ncmd++] = argv[++i];
        } else {
            return usage_error("unknown option \"%s\"", arg);
        }
    }
    a->only = (a->path || a->config) && !a->filter.params;
    return -1;
}

/* --param names must exist: a typo must not print an empty list. */
static int check_filter(mrail_frameworks_t *fws, const mrail_mca_t *mca, const info_filter_t *f)
{
    bool fw_ok = !strcmp(f->framework, "all"), comp_ok = !strcmp(f->component, "all");
    for (size_t i = 0; i < mrail_mca_count(mca); i++) {
        const mrail_mca_param_t *p = mrail_mca_at(mca, i);
        fw_ok = fw_ok || !strcmp(p->framework, f->framework);
        comp_ok = comp_ok || (p->component && !strcmp(p->component, f->component));
    }
    if (fw_ok && comp_ok) {
        return 0;
    }
    fprintf(stderr, "mrail_info: --param %s %s: no such %s; frameworks: mca (component base)",
            f->framework, f->component, fw_ok ? "component" : "framework");
    for (size_t i = 0; i < mrail_frameworks_count(fws); i++) {
        const mrail_framework_t *fw = mrail_frameworks_at(fws, i);
        fprintf(stderr, "; %s (components:", fw->ops->name);
        for (size_t k = 0; k < fw->entry_count; k++) {
            fprintf(stderr, " %s", fw->entries[k].name);
        }
        fprintf(stderr, ")");
    }
    fprintf(stderr, "; either may be \"all\"\n");
    return 2;
}

int main(int argc, char **argv)
{
    info_args_t args = {0};
    int status = parse_args(argc, argv, &args);
    if (status >= 0) {
        free(args.cmdline);
        return status;
    }
    mrail_mca_open_opts_t opts = {.cmdline = args.cmdline};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why;
    if (mrail_mca_open(&opts, &mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "mrail_info: error: %s\n", why.text);
        free(args.cmdline);
        return 1;
    }
    mrail_frameworks_t *fws = NULL;
    status = 0;
    if (mrail_frameworks_open(mca, &fws) == MRAIL_ERR_OUT_OF_RESOURCE) {
        fprintf(stderr, "mrail_info: error: out of memory\n");
        status = 1;
    } else {
        /* Selection runs even after a parameter error, so that every error
         * is reported in one go. */
        mrail_frameworks_select(fws);
        info_print_diags(stderr, mca, args.parsable);
        if (mrail_mca_error_count(mca) > 0) {
            status = 1;
        } else if (args.filter.params) {
            status = check_filter(fws, mca, &args.filter);
        }
    }
    if (status == 0) {
        if (args.parsable) {
            printf("package:mrail:version:%s\n", MRAIL_VERSION_STRING);
        } else {
            printf("mrail %s\n", MRAIL_VERSION_STRING);
        }
        if (!args.only) {
            info_print_components(stdout, fws, args.parsable);
        }
        if (args.path) {
            info_print_path(stdout, mca, args.parsable);
        }
        if (args.config) {
            info_print_config(stdout, args.parsable);
        }
        if (args.filter.params) {
            info_print_params(stdout, mca, &args.filter, args.parsable);
        }
    }
    mrail_frameworks_close(fws);
    mrail_mca_close(mca);
    free(args.cmdline);
    return status;
}
