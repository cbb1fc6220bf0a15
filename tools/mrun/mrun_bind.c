/* Where each rank runs: rank i goes to the i-th usable CPU (round robin),
 * then widens to that CPU's socket or NUMA node when asked. With --map-by
 * ppr:N:socket|core, the k-th rank of a node goes to its (k / N)-th socket
 * or core instead, bound to all of it unless --bind-to says otherwise. */
#include <numa.h>
#include <stdio.h>
#include <string.h>

#include "mrun.h"

static int topology_id(int cpu, const char *what)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, what);
    FILE *f = fopen(path, "r");
    int id = 0;
    if (f != NULL) {
        if (fscanf(f, "%d", &id) != 1) {
            id = 0;
        }
        fclose(f);
    }
    return id;
}

static int package_of(int cpu)
{
    return topology_id(cpu, "physical_package_id");
}

/* The unit of --map-by ppr:N:<unit> a CPU belongs to: its socket, or its
 * core (the hardware threads of a core share it). */
static long unit_of(const mrun_options_t *o, int cpu)
{
    long pkg = package_of(cpu);
    return o->unit == MRUN_PPR_SOCKET ? pkg : (pkg << 20) | topology_id(cpu, "core_id");
}

static int numa_of(int cpu)
{
    int node = numa_available() >= 0 ? numa_node_of_cpu(cpu) : 0;
    return node < 0 ? 0 : node;
}

int mrun_bind_plan(mrun_job_t *job)
{
    mrun_options_t *o = job->opts;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        CPU_ZERO(&allowed);
        CPU_SET(0, &allowed);
    }
    int cpus[CPU_SETSIZE], ncpu = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &allowed)) {
            cpus[ncpu++] = c;
        }
    }
    if (o->np > (unsigned)ncpu && !o->oversubscribe) {
        fprintf(stderr,
                "%s: -n %u asks for more ranks than the %d CPU%s this process may use; add "
                "--oversubscribe to run them anyway\n",
                o->prog_name, o->np, ncpu, ncpu == 1 ? "" : "s");
        return MRUN_EXIT_USAGE;
    }
    /* ppr:N:socket|core: the units in the order of their first CPU. */
    long units[CPU_SETSIZE];
    int nunits = 0, home_of_unit[CPU_SETSIZE];
    for (int k = 0; o->per_unit > 0 && k < ncpu; k++) {
        long u = unit_of(o, cpus[k]);
        int j = 0;
        while (j < nunits && units[j] != u) {
            j++;
        }
        if (j == nunits) {
            home_of_unit[nunits] = cpus[k];
            units[nunits++] = u;
        }
    }
    bool by_unit = o->per_unit > 0 && o->bind == MRUN_BIND_DEFAULT;
    if (o->bind == MRUN_BIND_DEFAULT) {
        o->bind = o->per_unit > 0 && o->unit == MRUN_PPR_SOCKET ? MRUN_BIND_SOCKET
                  : o->np <= (unsigned)ncpu || o->per_unit > 0  ? MRUN_BIND_CORE
                                                                : MRUN_BIND_NONE;
    }
    const char *unit_name = o->unit == MRUN_PPR_SOCKET ? "socket" : "core";
    for (unsigned r = 0; r < o->np; r++) {
        mrun_rank_t *rank = &job->ranks[r];
        CPU_ZERO(&rank->cpus);
        rank->nodemask = 0;
        int home = cpus[r % (unsigned)ncpu];
        if (o->per_unit > 0) { /* the k-th rank of its node goes to unit k / N */
            unsigned k = 0;
            for (unsigned q = 0; q < r; q++) {
                k += job->ranks[q].node == rank->node;
            }
            if (k / o->per_unit >= (unsigned)nunits) {
                fprintf(stderr,
                        "%s: --map-by ppr:%u:%s: a node has %d %s%s here, room for %u ranks; "
                        "rank %u does not fit (fewer ranks, or a larger N)\n",
                        o->prog_name, o->per_unit, unit_name, nunits, unit_name,
                        nunits == 1 ? "" : "s", o->per_unit * (unsigned)nunits, r);
                return MRUN_EXIT_USAGE;
            }
            home = home_of_unit[k / o->per_unit];
        }
        if (o->bind == MRUN_BIND_NONE) {
            continue;
        }
        for (int k = 0; k < ncpu; k++) {
            bool same = cpus[k] == home || (by_unit && unit_of(o, cpus[k]) == unit_of(o, home)) ||
                        (o->bind == MRUN_BIND_SOCKET && package_of(cpus[k]) == package_of(home)) ||
                        (o->bind == MRUN_BIND_NUMA && numa_of(cpus[k]) == numa_of(home));
            if (same) {
                CPU_SET(cpus[k], &rank->cpus);
            }
        }
        if (o->bind == MRUN_BIND_NUMA && numa_of(home) < (int)(8 * sizeof(unsigned long))) {
            rank->nodemask = 1ul << numa_of(home);
        }
    }
    return 0;
}

void mrun_bind_report(const mrun_job_t *job, unsigned rank)
{
    const mrun_rank_t *r = &job->ranks[rank];
    static const char *const names[] = {"default", "none", "core", "socket", "numa"};
    char list[1024] = "";
    size_t used = 0;
    for (int c = 0; c < CPU_SETSIZE && used < sizeof(list); c++) {
        if (CPU_ISSET(c, &r->cpus)) {
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", used ? "," : "", c);
        }
    }
    fprintf(stderr, "%s: rank %u (pid %d) bound to %s: cpus %s%s\n", job->opts->prog_name, rank,
            (int)r->pid, names[job->opts->bind], used ? list : "all",
            r->nodemask ? ", memory on its NUMA node" : "");
}
