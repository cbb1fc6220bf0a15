/* mrail: status codes and the reason buffer shared by every layer. */
#ifndef MRAIL_MRAIL_H
#define MRAIL_MRAIL_H

#include <stddef.h>

#include "mrail/version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MRAIL_SUCCESS = 0,
    MRAIL_ERROR = -1,               /* generic failure, see the reason */
    MRAIL_ERR_OUT_OF_RESOURCE = -2, /* allocation or OS resource exhausted */
    MRAIL_ERR_BAD_PARAM = -3,       /* a value given by the user is invalid */
    MRAIL_ERR_NOT_FOUND = -4,       /* a named thing does not exist */
    MRAIL_ERR_DECLINED = -5,        /* a component found nothing to drive */
    MRAIL_ERR_EXISTS = -6,          /* registered twice */
    MRAIL_ERR_NOT_SUPPORTED = -7,   /* valid request this build cannot serve */
    MRAIL_ERR_IO = -8,              /* a file or system call failed */
    MRAIL_ERR_UNREACHABLE = -9,     /* a peer has no working rail left */
};

/* Human-readable name of a status code. */
const char *mrail_strerror(int status);

/* A fixed-size explanation filled in by the callee when it fails or
 * declines; printed by the caller at the edge. */
typedef struct mrail_reason {
    char text[512];
} mrail_reason_t;

/* printf into why (NULL is allowed); returns status so that callers can write
 * `return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "...")`. */
int mrail_reason_set(mrail_reason_t *why, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
