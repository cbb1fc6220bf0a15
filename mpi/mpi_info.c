/* Info objects (MPI 3.1, chapter 9), MPI_INFO_ENV, and the communicator
 * calls that take them. mrail acts on no hint: MPI_Comm_set_info checks
 * and ignores what it is given, and MPI_Comm_get_info returns the hints in
 * use, none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Info_create);
MRAIL_MPI_ALIAS(MPI_Info_set);
MRAIL_MPI_ALIAS(MPI_Info_get);
MRAIL_MPI_ALIAS(MPI_Info_get_valuelen);
MRAIL_MPI_ALIAS(MPI_Info_get_nkeys);
MRAIL_MPI_ALIAS(MPI_Info_get_nthkey);
MRAIL_MPI_ALIAS(MPI_Info_delete);
MRAIL_MPI_ALIAS(MPI_Info_dup);
MRAIL_MPI_ALIAS(MPI_Info_free);
MRAIL_MPI_ALIAS(MPI_Comm_set_info);
MRAIL_MPI_ALIAS(MPI_Comm_get_info);
MRAIL_MPI_ALIAS(MPI_Comm_dup_with_info);

static int check_info(MPI_Info info, const char *fn)
{
    if (!mpi_info_valid(info)) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_INFO, fn, "invalid info handle %d%s", info,
                         info == MPI_INFO_NULL ? " (MPI_INFO_NULL)" : "");
    }
    return MPI_SUCCESS;
}

static int check_key(const char *key, const char *fn)
{
    size_t len = key != NULL ? strlen(key) : 0;
    if (len == 0 || len > MPI_MAX_INFO_KEY) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_INFO_KEY, fn,
                         "an info key must have 1 to %d characters, not %zu", MPI_MAX_INFO_KEY,
                         len);
    }
    return MPI_SUCCESS;
}

static int no_memory(const char *fn)
{
    return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
}

int PMPI_Info_create(MPI_Info *info)
{
    *info = mpi_info_new();
    return *info == MPI_INFO_NULL ? no_memory("MPI_Info_create") : MPI_SUCCESS;
}

int PMPI_Info_set(MPI_Info info, const char *key, const char *value)
{
    const char *fn = "MPI_Info_set";
    int rc = check_info(info, fn);
    rc = rc ? rc : check_key(key, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    size_t len = value != NULL ? strlen(value) : 0;
    if (value == NULL || len > MPI_MAX_INFO_VAL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_INFO_VALUE, fn,
                         "the value of %s must be a string of at most %d characters (%s)", key,
                         MPI_MAX_INFO_VAL, value == NULL ? "NULL" : "longer");
    }
    return mpi_info_set(info, key, value) == 0 ? MPI_SUCCESS : no_memory(fn);
}

int PMPI_Info_get(MPI_Info info, const char *key, int valuelen, char *value, int *flag)
{
    const char *fn = "MPI_Info_get";
    int rc = check_info(info, fn);
    rc = rc ? rc : check_key(key, fn);
    if (rc == MPI_SUCCESS && valuelen < 0) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "negative valuelen %d", valuelen);
    }
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const char *v = mpi_info_get(info, key);
    *flag = v != NULL;
    if (v != NULL) { /* at most valuelen characters, and the terminating NUL */
        size_t n = strlen(v) < (size_t)valuelen ? strlen(v) : (size_t)valuelen;
        memcpy(value, v, n);
        value[n] = '\0';
    }
    return MPI_SUCCESS;
}

int PMPI_Info_get_valuelen(MPI_Info info, const char *key, int *valuelen, int *flag)
{
    const char *fn = "MPI_Info_get_valuelen";
    int rc = check_info(info, fn);
    rc = rc ? rc : check_key(key, fn);
    if (rc == MPI_SUCCESS) {
        const char *v = mpi_info_get(info, key);
        *flag = v != NULL;
        if (v != NULL) {
            *valuelen = (int)strlen(v);
        }
    }
    return rc;
}

int PMPI_Info_get_nkeys(MPI_Info info, int *nkeys)
{
    int rc = check_info(info, "MPI_Info_get_nkeys");
    if (rc == MPI_SUCCESS) {
        *nkeys = mpi_info_nkeys(info);
    }
    return rc;
}

int PMPI_Info_get_nthkey(MPI_Info info, int n, char *key)
{
    const char *fn = "MPI_Info_get_nthkey";
    int rc = check_info(info, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    const char *k = mpi_info_nthkey(info, n);
    if (k == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "key %d of an info with %d keys", n,
                         mpi_info_nkeys(info));
    }
    snprintf(key, MPI_MAX_INFO_KEY + 1, "%s", k);
    return MPI_SUCCESS;
}

int PMPI_Info_delete(MPI_Info info, const char *key)
{
    const char *fn = "MPI_Info_delete";
    int rc = check_info(info, fn);
    rc = rc ? rc : check_key(key, fn);
    if (rc == MPI_SUCCESS && !mpi_info_remove(info, key)) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_INFO_NOKEY, fn, "the info has no key %s", key);
    }
    return rc;
}

int PMPI_Info_dup(MPI_Info info, MPI_Info *newinfo)
{
    const char *fn = "MPI_Info_dup";
    int rc = check_info(info, fn);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    MPI_Info copy = mpi_info_new();
    for (int i = 0; copy != MPI_INFO_NULL && i < mpi_info_nkeys(info); i++) {
        const char *k = mpi_info_nthkey(info, i);
        if (mpi_info_set(copy, k, mpi_info_get(info, k)) != 0) {
            mpi_info_delete_all(copy);
            copy = MPI_INFO_NULL;
        }
    }
    if (copy == MPI_INFO_NULL) {
        return no_memory(fn);
    }
    *newinfo = copy;
    return MPI_SUCCESS;
}

int PMPI_Info_free(MPI_Info *info)
{
    int rc = check_info(*info, "MPI_Info_free");
    if (rc == MPI_SUCCESS && *info == MPI_INFO_ENV) {
        rc = mpi_error(MPI_COMM_WORLD, MPI_ERR_INFO, "MPI_Info_free",
                       "MPI_INFO_ENV is predefined and cannot be freed");
    }
    if (rc == MPI_SUCCESS) {
        mpi_info_delete_all(*info);
        *info = MPI_INFO_NULL;
    }
    return rc;
}

int PMPI_Comm_set_info(MPI_Comm comm, MPI_Info info)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_set_info");
    return rc ? rc : check_info(info, "MPI_Comm_set_info");
}

int PMPI_Comm_get_info(MPI_Comm comm, MPI_Info *info_used)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_get_info");
    return rc ? rc : PMPI_Info_create(info_used);
}

int PMPI_Comm_dup_with_info(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_dup_with_info");
    rc = rc ? rc : check_info(info, "MPI_Comm_dup_with_info");
    return rc ? rc : PMPI_Comm_dup(comm, newcomm);
}

/* MPI_INFO_ENV: how the process was started (MPI 3.1, 9.5). */
void mpi_info_env_fill(int world_size, int thread_level)
{
    char buf[4096];
    FILE *f = fopen("/proc/self/cmdline", "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    buf[n] = '\0';
    mpi_info_set(MPI_INFO_ENV, "command", buf);
    size_t first = strlen(buf) + 1;
    for (size_t i = first; i + 1 < n; i++) { /* arguments: NULs become spaces */
        if (buf[i] == '\0') {
            buf[i] = ' ';
        }
    }
    mpi_info_set(MPI_INFO_ENV, "argv", first < n ? buf + first : "");
    snprintf(buf, sizeof(buf), "%d", world_size);
    mpi_info_set(MPI_INFO_ENV, "maxprocs", buf);
    if (gethostname(buf, sizeof(buf)) == 0) {
        buf[sizeof(buf) - 1] = '\0';
        mpi_info_set(MPI_INFO_ENV, "host", buf);
    }
    struct utsname u;
    if (uname(&u) == 0) {
        mpi_info_set(MPI_INFO_ENV, "arch", u.machine);
    }
    if (getcwd(buf, sizeof(buf)) != NULL) {
        mpi_info_set(MPI_INFO_ENV, "wdir", buf);
    }
    static const char *const levels[] = {"MPI_THREAD_SINGLE", "MPI_THREAD_FUNNELED",
                                         "MPI_THREAD_SERIALIZED", "MPI_THREAD_MULTIPLE"};
    if (thread_level >= 0 && thread_level <= 3) {
        mpi_info_set(MPI_INFO_ENV, "thread_level", levels[thread_level]);
    }
}
