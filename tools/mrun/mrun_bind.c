/* Where each rank runs: rank i goes to the i-th usable CPU (round robin),
 * then widens to that CPU's socket or NUMA node when asked. */
#include <numa.h>
#include <stdio.h>
#include <string.h>

#include "mrun.h"

static int package_of(int cpu)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
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
    if (o->bind == MRUN_BIND_DEFAULT) {
        o->bind = o->np <= (unsigned)ncpu ? MRUN_BIND_CORE : MRUN_BIND_NONE;
    }
    for (unsigned r = 0; r < o->np; r++) {
        mrun_rank_t *rank = &job->ranks[r];
        CPU_ZERO(&rank->cpus);
        rank->nodemask = 0;
        if (o->bind == MRUN_BIND_NONE) {
            continue;
        }
        int home = cpus[r % (unsigned)ncpu];
        for (int k = 0; k < ncpu; k++) {
            bool same = cpus[k] == home ||
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
