/* The group table: ordered sets of job ranks by handle. */
#include <stdlib.h>
#include <string.h>

#include "mpiobj.h"

typedef struct mpi_group {
    bool valid;
    int size;
    uint32_t *world;
} mpi_group_t;

static mpi_group_t *groups; /* by handle; MPI_GROUP_EMPTY is 1 */
static int ngroups;

MPI_Group mpi_group_new(int size, const uint32_t *world)
{
    if (ngroups == 0) {
        groups = calloc(16, sizeof(*groups));
        if (groups == NULL) {
            return MPI_GROUP_NULL;
        }
        ngroups = 16;
        groups[MPI_GROUP_EMPTY].valid = true;
    }
    int h = MPI_GROUP_EMPTY + 1;
    while (h < ngroups && groups[h].valid) {
        h++;
    }
    if (h == ngroups) {
        mpi_group_t *grown = realloc(groups, (size_t)(2 * ngroups) * sizeof(*grown));
        if (grown == NULL) {
            return MPI_GROUP_NULL;
        }
        memset(grown + ngroups, 0, (size_t)ngroups * sizeof(*grown));
        groups = grown;
        ngroups *= 2;
    }
    groups[h].world = malloc((size_t)(size ? size : 1) * sizeof(uint32_t));
    if (groups[h].world == NULL) {
        return MPI_GROUP_NULL;
    }
    memcpy(groups[h].world, world, (size_t)size * sizeof(uint32_t));
    groups[h].size = size;
    groups[h].valid = true;
    return h;
}

void mpi_groups_fini(void)
{
    for (int h = 0; h < ngroups; h++) {
        free(groups[h].world);
    }
    free(groups);
    groups = NULL;
    ngroups = 0;
}

const uint32_t *mpi_group_world(MPI_Group group, int *size)
{
    if (group == MPI_GROUP_EMPTY || group <= 0 || group >= ngroups) {
        *size = 0;
        return NULL;
    }
    *size = groups[group].size;
    return groups[group].world;
}

/* MPI_IDENT (same order), MPI_SIMILAR (same members) or MPI_UNEQUAL. */
int mpi_world_compare(const uint32_t *a, int na, const uint32_t *b, int nb)
{
    if (na != nb) {
        return MPI_UNEQUAL;
    }
    bool same_order = true;
    for (int i = 0; i < na; i++) {
        same_order = same_order && a[i] == b[i];
        bool found = false;
        for (int k = 0; k < nb && !found; k++) {
            found = a[i] == b[k];
        }
        if (!found) {
            return MPI_UNEQUAL;
        }
    }
    return same_order ? MPI_IDENT : MPI_SIMILAR;
}

bool mpi_group_valid(MPI_Group group)
{
    return group == MPI_GROUP_EMPTY || (group > 0 && group < ngroups && groups[group].valid);
}

void mpi_group_delete(MPI_Group group)
{
    if (group != MPI_GROUP_EMPTY) {
        free(groups[group].world);
        groups[group] = (mpi_group_t){0};
    }
}
