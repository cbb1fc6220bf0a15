#include <stdarg.h>
#include <stdio.h>

#include "mrail/mrail.h"

const char *mrail_strerror(int status)
{
    switch (status) {
    case MRAIL_SUCCESS: return "success";
    case MRAIL_ERROR: return "error";
    case MRAIL_ERR_OUT_OF_RESOURCE: return "out of resources";
    case MRAIL_ERR_BAD_PARAM: return "bad parameter";
    case MRAIL_ERR_NOT_FOUND: return "not found";
    case MRAIL_ERR_DECLINED: return "declined";
    case MRAIL_ERR_EXISTS: return "already exists";
    case MRAIL_ERR_NOT_SUPPORTED: return "not supported";
    case MRAIL_ERR_IO: return "I/O error";
    case MRAIL_ERR_UNREACHABLE: return "peer unreachable: every rail to it failed";
    case MRAIL_ERR_AGAIN: return "no room now: try again after progress";
    case MRAIL_ERR_TRUNCATE: return "message truncated: longer than the receive buffer";
    case MRAIL_INPROGRESS: return "in progress";
    default: return "unknown status";
    }
}

int mrail_reason_set(mrail_reason_t *why, int status, const char *fmt, ...)
{
    if (why != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->text, sizeof(why->text), fmt, ap);
        va_end(ap);
    }
    return status;
}
