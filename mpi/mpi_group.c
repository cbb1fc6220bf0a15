/* Groups: ordered sets of job ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Comm_group);
MRAIL_MPI_ALIAS(MPI_Comm_remote_group);
MRAIL_MPI_ALIAS(MPI_Group_size);
MRAIL_MPI_ALIAS(MPI_Group_rank);
MRAIL_MPI_ALIAS(MPI_Group_incl);
MRAIL_MPI_ALIAS(MPI_Group_excl);
MRAIL_MPI_ALIAS(MPI_Group_range_incl);
MRAIL_MPI_ALIAS(MPI_Group_range_excl);
MRAIL_MPI_ALIAS(MPI_Group_union);
MRAIL_MPI_ALIAS(MPI_Group_intersection);
MRAIL_MPI_ALIAS(MPI_Group_difference);
MRAIL_MPI_ALIAS(MPI_Group_translate_ranks);
MRAIL_MPI_ALIAS(MPI_Group_compare);
MRAIL_MPI_ALIAS(MPI_Group_free);

int mpi_check_group(MPI_Group group, const char *fn)
{
    int rc = mpi_check_init(fn);
    if (rc == MPI_SUCCESS && group == MPI_GROUP_EMPTY) {
        return MPI_SUCCESS;
    }
    if (rc == MPI_SUCCESS && !mpi_group_valid(group)) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_GROUP, fn, "invalid group handle %d%s", group,
                       group == MPI_GROUP_NULL ? " (MPI_GROUP_NULL)" : "");
    }
    return rc;
}

static int my_rank_in(const uint32_t *world, int size)
{
    uint32_t me = mrail_rte_facts(mrail_mpi.rte)->rank;
    for (int i = 0; i < size; i++) {
        if (world[i] == me) {
            return i;
        }
    }
    return MPI_UNDEFINED;
}

int PMPI_Comm_group(MPI_Comm comm, MPI_Group *group)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_group");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    *group = mpi_group_new(c->size, c->world);
    return *group == MPI_GROUP_NULL
               ? mpi_error(comm, MPI_ERR_NO_MEM, "MPI_Comm_group", "out of memory")
               : MPI_SUCCESS;
}

int PMPI_Comm_remote_group(MPI_Comm comm, MPI_Group *group)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_remote_group");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const mpi_comm_t *c = &mrail_obj.comms[comm];
    if (!c->inter) {
        return mpi_error(comm, MPI_ERR_COMM, "MPI_Comm_remote_group",
                         "communicator %d is not an intercommunicator", comm);
    }
    *group = mpi_group_new(c->remote_size, c->remote_world);
    return MPI_SUCCESS;
}

int PMPI_Group_size(MPI_Group group, int *size)
{
    int rc = mpi_check_group(group, "MPI_Group_size");
    if (rc == MPI_SUCCESS) {
        mpi_group_world(group, size);
    }
    return rc;
}

int PMPI_Group_rank(MPI_Group group, int *rank)
{
    int rc = mpi_check_group(group, "MPI_Group_rank"), size;
    if (rc == MPI_SUCCESS) {
        const uint32_t *w = mpi_group_world(group, &size);
        *rank = my_rank_in(w, size);
    }
    return rc;
}

/* Checks n ranks of a group of size: in range and distinct. */
static int check_ranks(int size, int n, const int ranks[], const char *fn)
{
    if (n < 0 || n > size) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "n = %d, the group has %d ranks", n,
                         size);
    }
    for (int i = 0; i < n; i++) {
        if (ranks[i] < 0 || ranks[i] >= size) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_RANK, fn,
                             "rank %d at index %d is not in the group (valid: 0..%d)", ranks[i], i,
                             size - 1);
        }
        for (int k = 0; k < i; k++) {
            if (ranks[k] == ranks[i]) {
                return mpi_error(MPI_COMM_WORLD, MPI_ERR_RANK, fn, "rank %d is listed twice",
                                 ranks[i]);
            }
        }
    }
    return MPI_SUCCESS;
}

static int make(int n, const uint32_t *world, MPI_Group *out, const char *fn)
{
    *out = n == 0 ? MPI_GROUP_EMPTY : mpi_group_new(n, world);
    return *out == MPI_GROUP_NULL ? mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory")
                                  : MPI_SUCCESS;
}

int PMPI_Group_incl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
    const char *fn = "MPI_Group_incl";
    int size, rc = mpi_check_group(group, fn);
    const uint32_t *w = rc == MPI_SUCCESS ? mpi_group_world(group, &size) : NULL;
    rc = rc ? rc : check_ranks(size, n, ranks, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    uint32_t *sel = malloc((size_t)(n ? n : 1) * sizeof(uint32_t));
    if (sel == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        sel[i] = w[ranks[i]];
    }
    rc = make(n, sel, newgroup, fn);
    free(sel);
    return rc;
}

int PMPI_Group_excl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
    const char *fn = "MPI_Group_excl";
    int size, rc = mpi_check_group(group, fn);
    const uint32_t *w = rc == MPI_SUCCESS ? mpi_group_world(group, &size) : NULL;
    rc = rc ? rc : check_ranks(size, n, ranks, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    uint32_t *sel = malloc((size_t)(size ? size : 1) * sizeof(uint32_t));
    if (sel == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    int k = 0;
    for (int r = 0; r < size; r++) {
        bool out = false;
        for (int i = 0; i < n && !out; i++) {
            out = ranks[i] == r;
        }
        if (!out) {
            sel[k++] = w[r];
        }
    }
    rc = make(k, sel, newgroup, fn);
    free(sel);
    return rc;
}

/* The ranks n (first, last, stride) triplets of a group of size name, in
 * order; NULL with *rc set on a bad triplet or no memory. */
static int *expand_ranges(int size, int n, int ranges[][3], int *count, int *rc, const char *fn)
{
    long long total = 0;
    for (int i = 0; i < n; i++) {
        int first = ranges[i][0], last = ranges[i][1], stride = ranges[i][2];
        if (stride == 0 || first < 0 || first >= size || last < 0 || last >= size ||
            (stride > 0 && first > last) || (stride < 0 && first < last)) {
            *rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn,
                            "range %d (%d, %d, %d) is not valid in a group of %d", i, first, last,
                            stride, size);
            return NULL;
        }
        total += (last - first) / stride + 1;
    }
    if (total > size) { /* then some rank is named twice */
        *rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_RANK, fn,
                        "the ranges name %lld ranks of a group of %d: some twice", total, size);
        return NULL;
    }
    int *ranks = malloc((size_t)(total ? total : 1) * sizeof(int));
    if (ranks == NULL) {
        *rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
        return NULL;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        for (int r = ranges[i][0]; ranges[i][2] > 0 ? r <= ranges[i][1] : r >= ranges[i][1];
             r += ranges[i][2]) {
            ranks[k++] = r;
        }
    }
    *count = k;
    return ranks;
}

/* MPI_Group_range_incl (excl false) and _range_excl: the ranges' ranks,
 * through MPI_Group_incl or _excl. */
static int range_op(MPI_Group group, int n, int ranges[][3], bool excl, MPI_Group *newgroup,
                    const char *fn)
{
    int size, count, rc = mpi_check_group(group, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_group_world(group, &size);
    int *ranks = expand_ranges(size, n, ranges, &count, &rc, fn);
    if (ranks == NULL) {
        return rc;
    }
    rc = excl ? PMPI_Group_excl(group, count, ranks, newgroup)
              : PMPI_Group_incl(group, count, ranks, newgroup);
    free(ranks);
    return rc;
}

int PMPI_Group_range_incl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
    return range_op(group, n, ranges, false, newgroup, "MPI_Group_range_incl");
}

int PMPI_Group_range_excl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
    return range_op(group, n, ranges, true, newgroup, "MPI_Group_range_excl");
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef enum { SET_UNION, SET_INTERSECTION, SET_DIFFERENCE } set_op_t;

/* Union: group1, then group2's processes not in it; intersection and
 * difference: group1's processes in (not in) group2; in that order. */
static int set_op(MPI_Group group1, MPI_Group group2, set_op_t op, MPI_Group *newgroup,
                  const char *fn)
{
    int s1, s2, rc = mpi_check_group(group1, fn);
    rc = rc ? rc : mpi_check_group(group2, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const uint32_t *w1 = mpi_group_world(group1, &s1), *w2 = mpi_group_world(group2, &s2);
    uint32_t *sorted1 = malloc((size_t)(s1 ? s1 : 1) * sizeof(uint32_t));
    uint32_t *sorted2 = malloc((size_t)(s2 ? s2 : 1) * sizeof(uint32_t));
    uint32_t *out = malloc((size_t)(s1 + s2 ? s1 + s2 : 1) * sizeof(uint32_t));
    if (sorted1 == NULL || sorted2 == NULL || out == NULL) {
        free(sorted1), free(sorted2), free(out);
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    if (s1 > 0) { /* MPI_GROUP_EMPTY has no member array at all */
        memcpy(sorted1, w1, (size_t)s1 * sizeof(uint32_t));
    }
    if (s2 > 0) {
        memcpy(sorted2, w2, (size_t)s2 * sizeof(uint32_t));
    }
    qsort(sorted1, (size_t)s1, sizeof(uint32_t), cmp_u32);
    qsort(sorted2, (size_t)s2, sizeof(uint32_t), cmp_u32);
    int n = 0;
    for (int i = 0; i < s1; i++) {
        bool in2 = bsearch(&w1[i], sorted2, (size_t)s2, sizeof(uint32_t), cmp_u32) != NULL;
        if (op == SET_UNION || (op == SET_INTERSECTION) == in2) {
            out[n++] = w1[i];
        }
    }
    for (int i = 0; op == SET_UNION && i < s2; i++) {
        if (bsearch(&w2[i], sorted1, (size_t)s1, sizeof(uint32_t), cmp_u32) == NULL) {
            out[n++] = w2[i];
        }
    }
    rc = make(n, out, newgroup, fn);
    free(sorted1), free(sorted2), free(out);
    return rc;
}

int PMPI_Group_union(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
    return set_op(group1, group2, SET_UNION, newgroup, "MPI_Group_union");
}

int PMPI_Group_intersection(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
    return set_op(group1, group2, SET_INTERSECTION, newgroup, "MPI_Group_intersection");
}

int PMPI_Group_difference(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
    return set_op(group1, group2, SET_DIFFERENCE, newgroup, "MPI_Group_difference");
}

int PMPI_Group_translate_ranks(MPI_Group group1, int n, const int ranks1[], MPI_Group group2,
                               int ranks2[])
{
    const char *fn = "MPI_Group_translate_ranks";
    int s1, s2, rc = mpi_check_group(group1, fn);
    rc = rc ? rc : mpi_check_group(group2, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const uint32_t *w1 = mpi_group_world(group1, &s1), *w2 = mpi_group_world(group2, &s2);
    for (int i = 0; i < n; i++) {
        if (ranks1[i] == MPI_PROC_NULL) {
            ranks2[i] = MPI_PROC_NULL;
            continue;
        }
        if (ranks1[i] < 0 || ranks1[i] >= s1) {
            return mpi_error(MPI_COMM_WORLD, MPI_ERR_RANK, fn,
                             "rank %d is not in the first group (valid: 0..%d)", ranks1[i], s1 - 1);
        }
        ranks2[i] = MPI_UNDEFINED;
        for (int k = 0; k < s2; k++) {
            if (w2[k] == w1[ranks1[i]]) {
                ranks2[i] = k;
                break;
            }
        }
    }
    return MPI_SUCCESS;
}

int PMPI_Group_compare(MPI_Group group1, MPI_Group group2, int *result)
{
    int s1, s2, rc = mpi_check_group(group1, "MPI_Group_compare");
    rc = rc ? rc : mpi_check_group(group2, "MPI_Group_compare");
    if (rc == MPI_SUCCESS) {
        const uint32_t *w1 = mpi_group_world(group1, &s1), *w2 = mpi_group_world(group2, &s2);
        *result = mpi_world_compare(w1, s1, w2, s2);
    }
    return rc;
}

int PMPI_Group_free(MPI_Group *group)
{
    int rc = mpi_check_group(*group, "MPI_Group_free");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    mpi_group_delete(*group);
    *group = MPI_GROUP_NULL;
    return MPI_SUCCESS;
}
