/* The info table: ordered (key, value) lists by handle. MPI_INFO_ENV is
 * filled at start-up by the caller; every other handle is the user's. */
#include <stdlib.h>
#include <string.h>

#include "mpiobj.h"

typedef struct info_entry {
    char *key, *value;
    struct info_entry *next;
} info_entry_t;

typedef struct mpi_info {
    bool valid;
    info_entry_t *head; /* in the order the keys were first set */
} mpi_info_t;

static mpi_info_t *infos; /* by handle: MPI_INFO_NULL, MPI_INFO_ENV, then created */
static int ninfos;

static int grow(void)
{
    int n = ninfos ? 2 * ninfos : 16;
    mpi_info_t *grown = realloc(infos, (size_t)n * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    memset(grown + ninfos, 0, (size_t)(n - ninfos) * sizeof(*grown));
    infos = grown;
    ninfos = n;
    if (!infos[MPI_INFO_ENV].valid) {
        infos[MPI_INFO_ENV].valid = true;
    }
    return 0;
}

static mpi_info_t *get(MPI_Info info)
{
    if (ninfos == 0 && grow() != 0) {
        return NULL;
    }
    return info > 0 && info < ninfos && infos[info].valid ? &infos[info] : NULL;
}

bool mpi_info_valid(MPI_Info info)
{
    return get(info) != NULL;
}

MPI_Info mpi_info_new(void)
{
    if (ninfos == 0 && grow() != 0) {
        return MPI_INFO_NULL;
    }
    int h = MPI_INFO_ENV + 1;
    while (h < ninfos && infos[h].valid) {
        h++;
    }
    if (h == ninfos && grow() != 0) {
        return MPI_INFO_NULL;
    }
    infos[h] = (mpi_info_t){.valid = true};
    return h;
}

static void clear(mpi_info_t *in)
{
    for (info_entry_t *e = in->head, *next; e != NULL; e = next) {
        next = e->next;
        free(e->key), free(e->value), free(e);
    }
    in->head = NULL;
}

void mpi_info_delete_all(MPI_Info info)
{
    mpi_info_t *in = get(info);
    if (in != NULL) {
        clear(in);
        in->valid = info == MPI_INFO_ENV; /* the predefined one stays */
    }
}

static info_entry_t *find(const mpi_info_t *in, const char *key, int *index)
{
    int i = 0;
    for (info_entry_t *e = in->head; e != NULL; e = e->next, i++) {
        if (strcmp(e->key, key) == 0) {
            if (index != NULL) {
                *index = i;
            }
            return e;
        }
    }
    return NULL;
}

int mpi_info_set(MPI_Info info, const char *key, const char *value)
{
    mpi_info_t *in = get(info);
    if (in == NULL) {
        return -1;
    }
    char *v = strdup(value);
    if (v == NULL) {
        return -1;
    }
    info_entry_t *e = find(in, key, NULL);
    if (e != NULL) {
        free(e->value);
        e->value = v;
        return 0;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->key = strdup(key)) == NULL) {
        free(e), free(v);
        return -1;
    }
    e->value = v;
    info_entry_t **tail = &in->head;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = e;
    return 0;
}

const char *mpi_info_get(MPI_Info info, const char *key)
{
    mpi_info_t *in = get(info);
    info_entry_t *e = in != NULL ? find(in, key, NULL) : NULL;
    return e != NULL ? e->value : NULL;
}

bool mpi_info_remove(MPI_Info info, const char *key)
{
    mpi_info_t *in = get(info);
    for (info_entry_t **p = in != NULL ? &in->head : NULL; p != NULL && *p != NULL;
         p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            info_entry_t *e = *p;
            *p = e->next;
            free(e->key), free(e->value), free(e);
            return true;
        }
    }
    return false;
}

int mpi_info_nkeys(MPI_Info info)
{
    mpi_info_t *in = get(info);
    int n = 0;
    for (info_entry_t *e = in != NULL ? in->head : NULL; e != NULL; e = e->next) {
        n++;
    }
    return n;
}

const char *mpi_info_nthkey(MPI_Info info, int n)
{
    mpi_info_t *in = get(info);
    info_entry_t *e = in != NULL ? in->head : NULL;
    for (int i = 0; e != NULL && i < n; i++) {
        e = e->next;
    }
    return n >= 0 && e != NULL ? e->key : NULL;
}

void mpi_infos_fini(void)
{
    for (int h = 0; h < ninfos; h++) {
        clear(&infos[h]);
    }
    free(infos);
    infos = NULL;
    ninfos = 0;
}
