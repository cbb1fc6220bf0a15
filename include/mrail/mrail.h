/* mrail: status codes and the reason buffer shared by every layer. */
#ifndef MRAIL_MRAIL_H
#define MRAIL_MRAIL_H

#include <stddef.h>

#include "mrail/version.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

/* The most rails (btl modules) one rank drives to one peer: the rail
 * table, the PML's scheduler and wire headers, and every btl's module
 * count are bounded by it. A btl that finds more devices keeps the first
 * MRAIL_MAX_RAILS and says so in its module note. */
#define MRAIL_MAX_RAILS 32

/* Every status code of every layer (btl, pml, mca, runtime): one space,
 * one mrail_strerror. Negative codes are failures. */
typedef enum mrail_status {
    MRAIL_INPROGRESS = 1, /* accepted; its completion callback reports the end */
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
    MRAIL_ERR_AGAIN = -10,          /* no room now (btl sendi): nothing was done, try later */
    MRAIL_ERR_TRUNCATE = -11,       /* a message was longer than its receive buffer */
    MRAIL_STATUS_MIN = MRAIL_ERR_TRUNCATE, /* the lowest code (tests walk them all) */
    MRAIL_STATUS_MAX = MRAIL_INPROGRESS,
} mrail_status_t;

/* What a status code means, for any code of the enum; "unknown status"
 * for any other number. */
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

#pragma GCC visibility pop

#endif
