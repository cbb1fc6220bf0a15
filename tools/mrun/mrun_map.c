/* Where ranks run: the hosts of --host/--hostfile with their slots, and the
 * placement of ranks on the emulated hosts (--netns). On this machine alone
 * every named host must be this machine; with --netns the namespaces are
 * the hosts, and the same options place ranks on them as Open MPI's mpirun
 * places them on nodes: by slot, -N per host, the order given. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrun.h"

typedef struct map_host {
    char name[256];
    unsigned slots; /* 0: not given */
} map_host_t;

static int add_host(map_host_t **hosts, size_t *n, const char *name, size_t len, unsigned slots)
{
    for (size_t i = 0; i < *n; i++) { /* named twice: Open MPI adds the slots */
        if (strlen((*hosts)[i].name) == len && !strncmp((*hosts)[i].name, name, len)) {
            (*hosts)[i].slots += slots ? slots : 1;
            return 0;
        }
    }
    map_host_t *grown = realloc(*hosts, (*n + 1) * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    *hosts = grown;
    map_host_t *h = &grown[(*n)++];
    snprintf(h->name, sizeof(h->name), "%.*s", (int)len, name);
    h->slots = slots;
    return 0;
}

/* "name", "name:N" (Open MPI's --host, MPICH's files) or "name slots=N"
 * (Open MPI's hostfile). Returns -1 with a message for a bad count. */
static int parse_host(const mrun_options_t *o, const char *p, size_t len, map_host_t **hosts,
                      size_t *n)
{
    const char *colon = memchr(p, ':', len), *sp = p, *end_of = p + len;
    while (sp < end_of && !isspace((unsigned char)*sp)) {
        sp++;
    }
    const char *count = colon && colon < sp ? colon + 1 : NULL;
    size_t name_len = count ? (size_t)(colon - p) : (size_t)(sp - p);
    /* Of a hostfile line's words after the name, "slots=N" counts (not
     * max_slots=N, nor anything else Open MPI allows there). */
    for (const char *w = sp; count == NULL && w < end_of;) {
        while (w < end_of && isspace((unsigned char)*w)) {
            w++;
        }
        if (end_of - w > 6 && !strncmp(w, "slots=", 6)) {
            count = w + 6;
        }
        while (w < end_of && !isspace((unsigned char)*w)) {
            w++;
        }
    }
    unsigned slots = 0;
    if (count != NULL) {
        char *end;
        unsigned long v = strtoul(count, &end, 10);
        if (end == count || v == 0 || v > 1u << 20 ||
            (end < p + len && !isspace((unsigned char)*end))) {
            fprintf(stderr,
                    "%s: host \"%.*s\": the slot count must be a number from 1, as in "
                    "host:4 or \"host slots=4\"\n",
                    o->prog_name, (int)len, p);
            return -1;
        }
        slots = (unsigned)v;
    }
    if (name_len == 0) {
        return 0;
    }
    return add_host(hosts, n, p, name_len, slots);
}

/* The hosts of --hostfile or --host, in order; *n = 0 when neither. */
static int read_hosts(const mrun_options_t *o, map_host_t **hosts, size_t *n)
{
    *hosts = NULL;
    *n = 0;
    if (o->hostfile != NULL) {
        FILE *f = fopen(o->hostfile, "r");
        if (f == NULL) {
            fprintf(stderr, "%s: cannot read the hostfile %s: %m\n", o->prog_name, o->hostfile);
            return -1;
        }
        char *line = NULL;
        size_t cap = 0;
        int rc = 0;
        while (rc == 0 && getline(&line, &cap, f) > 0) {
            char *hash = strchr(line, '#'), *s = line;
            if (hash != NULL) {
                *hash = '\0';
            }
            while (isspace((unsigned char)*s)) {
                s++;
            }
            size_t len = strlen(s);
            while (len > 0 && isspace((unsigned char)s[len - 1])) {
                len--;
            }
            rc = len ? parse_host(o, s, len, hosts, n) : 0;
        }
        free(line);
        fclose(f);
        return rc;
    }
    for (const char *p = o->hosts; p != NULL && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (parse_host(o, p, len, hosts, n) != 0) {
            return -1;
        }
        p += len + (comma != NULL);
    }
    return 0;
}

/* Whether name is this machine. */
static bool is_here(const char *name)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    char *dot = strchr(host, '.');
    size_t short_len = dot ? (size_t)(dot - host) : strlen(host);
    return !strcmp(name, "localhost") || !strcmp(name, host) ||
           (strlen(name) == short_len && !strncmp(name, host, short_len));
}

/* This machine alone: every host must be it, and -N must hold every rank. */
static int check_here(const mrun_options_t *o, const map_host_t *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_here(hosts[i].name)) {
            fprintf(stderr,
                    "%s: host %s is not this machine: mrun starts ranks here only, except "
                    "inside a Slurm allocation of several nodes (then it runs srun --mpi=pmix) "
                    "or on emulated hosts (--netns); or run srun --mpi=pmix yourself\n",
                    o->prog_name, hosts[i].name);
            return MRUN_EXIT_USAGE;
        }
    }
    if (o->per_node > 0 && o->per_node < o->np) {
        fprintf(stderr,
                "%s: %u ranks per node on this one node cannot hold %u ranks (outside a Slurm "
                "allocation mrun uses this machine only)\n",
                o->prog_name, o->per_node, o->np);
        return MRUN_EXIT_USAGE;
    }
    return -1;
}

static long netns_index(const mrun_options_t *o, const char *name)
{
    for (size_t k = 0; k < o->nnetns; k++) {
        if (!strcmp(o->netns[k], name)) {
            return (long)k;
        }
    }
    return -1;
}

/* Emulated hosts: fills node[rank] with an index into o->netns. */
static int place_netns(const mrun_options_t *o, const map_host_t *hosts, size_t n, unsigned *node)
{
    unsigned np = o->np, nn = (unsigned)o->nnetns;
    if (n == 0 && o->per_node == 0) { /* blocks of ranks, in --netns order */
        for (unsigned i = 0; i < np; i++) {
            node[i] = (unsigned)((unsigned long long)i * nn / np);
        }
        return -1;
    }
    unsigned count = n ? (unsigned)n : nn, total = 0;
    unsigned *idx = calloc(count, sizeof(*idx)), *slots = calloc(count, sizeof(*slots));
    int status = idx && slots ? -1 : 1;
    for (unsigned h = 0; status < 0 && h < count; h++) {
        long k = n ? netns_index(o, hosts[h].name) : (long)h;
        if (k < 0) {
            fprintf(stderr, "%s: host %s is not one of the emulated hosts (--netns", o->prog_name,
                    hosts[h].name);
            for (size_t j = 0; j < o->nnetns; j++) {
                fprintf(stderr, "%s%s", j ? "," : " ", o->netns[j]);
            }
            fprintf(stderr, ")\n");
            status = MRUN_EXIT_USAGE;
            break;
        }
        idx[h] = (unsigned)k;
        /* -N sets every host's share; else its slots, one when not given. */
        slots[h] = o->per_node ? o->per_node : n && hosts[h].slots ? hosts[h].slots : 1;
        total += slots[h];
    }
    if (status < 0 && np > total && (o->per_node || !o->oversubscribe)) {
        fprintf(stderr, "%s: %u ranks do not fit in the %u slot%s of %u host%s%s; %s\n",
                o->prog_name, np, total, total == 1 ? "" : "s", count, count == 1 ? "" : "s",
                o->per_node ? " at -N ranks each" : "",
                o->per_node ? "raise -N or name more hosts"
                            : "give slots (host:4, \"host slots=4\") or --oversubscribe");
        status = MRUN_EXIT_USAGE;
    }
    /* By slot: fill each host's slots in order; oversubscribed, go round again. */
    for (unsigned i = 0, h = 0, used = 0; status < 0 && i < np; i++) {
        while (used >= slots[h]) {
            h = (h + 1) % count;
            used = 0;
        }
        node[i] = idx[h];
        used++;
    }
    free(idx);
    free(slots);
    return status;
}

int mrun_map(mrun_options_t *o, unsigned *node)
{
    map_host_t *hosts = NULL;
    size_t n = 0;
    int status = read_hosts(o, &hosts, &n) == 0 ? -1 : MRUN_EXIT_USAGE;
    if (status < 0 && o->nnetns == 0) {
        status = check_here(o, hosts, n);
        for (unsigned i = 0; status < 0 && node != NULL && i < o->np; i++) {
            node[i] = 0;
        }
    } else if (status < 0) {
        unsigned *scratch = node ? node : calloc(o->np, sizeof(*scratch));
        status = scratch ? place_netns(o, hosts, n, scratch) : 1;
        if (scratch != node) {
            free(scratch);
        }
    }
    free(hosts);
    return status;
}

char *mrun_map_srun_nodelist(const mrun_options_t *o, bool *arbitrary)
{
    map_host_t *hosts = NULL;
    size_t n = 0;
    *arbitrary = false;
    if (read_hosts(o, &hosts, &n) != 0 || n == 0) {
        free(hosts);
        return NULL;
    }
    unsigned total = 0;
    for (size_t h = 0; h < n; h++) {
        *arbitrary = *arbitrary || hosts[h].slots > 0;
        total += hosts[h].slots ? hosts[h].slots : 1;
    }
    /* With slots, one entry per rank (srun --distribution=arbitrary), filled
     * by slot as on emulated hosts; without, the names for --nodelist. */
    size_t entries = *arbitrary ? o->np : n, cap = 1;
    for (size_t h = 0; h < n; h++) {
        cap += (strlen(hosts[h].name) + 1) * (*arbitrary ? o->np : 1);
    }
    char *list = *arbitrary && o->np > total && !o->oversubscribe ? NULL : calloc(1, cap);
    if (list == NULL && *arbitrary && o->np > total) {
        fprintf(stderr,
                "%s: %u ranks do not fit in the %u slots the hosts give; give more slots "
                "or --oversubscribe\n",
                o->prog_name, o->np, total);
    }
    size_t used = 0;
    for (size_t e = 0, h = 0, filled = 0; list != NULL && e < entries; e++) {
        if (*arbitrary) {
            while (filled >= (hosts[h].slots ? hosts[h].slots : 1)) {
                h = (h + 1) % n;
                filled = 0;
            }
            filled++;
        } else {
            h = e;
        }
        used += (size_t)snprintf(list + used, cap - used, "%s%s", e ? "," : "", hosts[h].name);
    }
    free(hosts);
    return list;
}
