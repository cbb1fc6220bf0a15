/* The names of this job's files in /dev/shm (include/mrail/rte.h). */
#include <errno.h>
#include <stdio.h>

#include "mrail/rte.h"

int mrail_rte_shm_name(char *name, size_t size, const char *job, const char *rest)
{
    int len = snprintf(name, size, "/mrail.%s.%s", job, rest);
    if (len < 0 || (size_t)len >= size) {
        return ENAMETOOLONG;
    }
    for (char *p = name + 1; *p != '\0'; p++) {
        *p = *p == '/' ? '_' : *p;
    }
    return 0;
}
