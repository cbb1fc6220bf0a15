/* Error classes, their strings, and error handlers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Error_class);
MRAIL_MPI_ALIAS(MPI_Error_string);
MRAIL_MPI_ALIAS(MPI_Comm_set_errhandler);
MRAIL_MPI_ALIAS(MPI_Comm_get_errhandler);
MRAIL_MPI_ALIAS(MPI_Errhandler_free);
MRAIL_MPI_ALIAS(MPI_Comm_create_errhandler);
MRAIL_MPI_ALIAS(MPI_Comm_call_errhandler);
MRAIL_MPI_ALIAS(MPI_Add_error_class);
MRAIL_MPI_ALIAS(MPI_Add_error_code);
MRAIL_MPI_ALIAS(MPI_Add_error_string);

/* The registries of user error handlers (handles from MPI_ERRORS_RETURN + 1)
 * and of user error classes and codes (numbers from MPI_ERR_LASTCODE + 1;
 * a class is a code that is its own class). */
static MPI_Comm_errhandler_function **user_handlers;
static int nuser_handlers;
typedef struct user_code {
    int errclass;
    char text[MPI_MAX_ERROR_STRING];
} user_code_t;
static user_code_t *user_codes;
static int nuser_codes;

static const char *const class_names[] = {
    "MPI_SUCCESS: no error",
    "MPI_ERR_BUFFER: invalid buffer pointer",
    "MPI_ERR_COUNT: invalid count argument",
    "MPI_ERR_TYPE: invalid datatype",
    "MPI_ERR_TAG: invalid tag",
    "MPI_ERR_COMM: invalid communicator",
    "MPI_ERR_RANK: invalid rank",
    "MPI_ERR_REQUEST: invalid request",
    "MPI_ERR_ROOT: invalid root",
    "MPI_ERR_GROUP: invalid group",
    "MPI_ERR_OP: invalid operation",
    "MPI_ERR_TOPOLOGY: invalid topology",
    "MPI_ERR_DIMS: invalid dimensions",
    "MPI_ERR_ARG: invalid argument",
    "MPI_ERR_UNKNOWN: unknown error",
    "MPI_ERR_TRUNCATE: message truncated",
    "MPI_ERR_OTHER: other error",
    "MPI_ERR_INTERN: internal error",
    "MPI_ERR_IN_STATUS: error code is in status",
    "MPI_ERR_PENDING: pending request",
    "MPI_ERR_KEYVAL: invalid keyval",
    "MPI_ERR_NO_MEM: out of memory",
    "MPI_ERR_BASE: invalid base",
    "MPI_ERR_INFO_KEY: invalid info key",
    "MPI_ERR_INFO_VALUE: invalid info value",
    "MPI_ERR_INFO_NOKEY: no such info key",
    "MPI_ERR_SPAWN: spawn error",
    "MPI_ERR_PORT: invalid port",
    "MPI_ERR_SERVICE: invalid service",
    "MPI_ERR_NAME: invalid name",
    "MPI_ERR_WIN: invalid window",
    "MPI_ERR_SIZE: invalid size",
    "MPI_ERR_DISP: invalid displacement",
    "MPI_ERR_INFO: invalid info",
    "MPI_ERR_LOCKTYPE: invalid lock type",
    "MPI_ERR_ASSERT: invalid assert",
    "MPI_ERR_RMA_CONFLICT: conflicting accesses to window",
    "MPI_ERR_RMA_SYNC: wrong synchronization of RMA calls",
    "MPI_ERR_FILE: invalid file",
    "MPI_ERR_NOT_SAME: collective argument not identical",
    "MPI_ERR_AMODE: invalid amode",
    "MPI_ERR_UNSUPPORTED_DATAREP: unsupported data representation",
    "MPI_ERR_UNSUPPORTED_OPERATION: operation not supported",
    "MPI_ERR_NO_SUCH_FILE: no such file",
    "MPI_ERR_FILE_EXISTS: file exists",
    "MPI_ERR_BAD_FILE: invalid file name",
    "MPI_ERR_ACCESS: permission denied",
    "MPI_ERR_NO_SPACE: not enough space",
    "MPI_ERR_QUOTA: quota exceeded",
    "MPI_ERR_READ_ONLY: read-only file or file system",
    "MPI_ERR_FILE_IN_USE: file in use",
    "MPI_ERR_DUP_DATAREP: data representation already defined",
    "MPI_ERR_CONVERSION: conversion error",
    "MPI_ERR_IO: I/O error",
    "MPI_ERR_RMA_RANGE: target memory outside the window",
    "MPI_ERR_RMA_ATTACH: memory cannot be attached",
    "MPI_ERR_RMA_SHARED: memory cannot be shared",
    "MPI_ERR_RMA_FLAVOR: wrong window flavor",
};
#define NCLASSES (int)(sizeof(class_names) / sizeof(class_names[0]))

static const user_code_t *user_code(int errorcode)
{
    int i = errorcode - MPI_ERR_LASTCODE - 1;
    return i >= 0 && i < nuser_codes ? &user_codes[i] : NULL;
}

int mpi_last_used_code(void)
{
    return MPI_ERR_LASTCODE + nuser_codes;
}

int PMPI_Error_class(int errorcode, int *errorclass)
{
    const user_code_t *u = user_code(errorcode);
    if (errorclass == NULL || (u == NULL && (errorcode < 0 || errorcode > MPI_ERR_LASTCODE))) {
        return MPI_ERR_ARG;
    }
    *errorclass = u != NULL ? u->errclass : errorcode < NCLASSES ? errorcode : MPI_ERR_UNKNOWN;
    return MPI_SUCCESS;
}

int PMPI_Error_string(int errorcode, char *string, int *resultlen)
{
    if (string == NULL || resultlen == NULL) {
        return MPI_ERR_ARG;
    }
    const user_code_t *u = user_code(errorcode);
    const char *text = u != NULL                                ? u->text
                       : errorcode >= 0 && errorcode < NCLASSES ? class_names[errorcode]
                                                                : "unknown error code";
    *resultlen = snprintf(string, MPI_MAX_ERROR_STRING, "%s", text);
    if (*resultlen >= MPI_MAX_ERROR_STRING) {
        *resultlen = MPI_MAX_ERROR_STRING - 1;
    }
    return u != NULL || (errorcode >= 0 && errorcode <= MPI_ERR_LASTCODE) ? MPI_SUCCESS
                                                                          : MPI_ERR_ARG;
}

static const char *class_id(int errclass)
{
    static char buf[64];
    const char *name = errclass >= 0 && errclass < NCLASSES ? class_names[errclass] : "?";
    snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(name, ":"), name);
    return buf;
}

/* Runs handler eh on errclass for the object at handle (a communicator's
 * or a window's, what says which): returns errclass unless fatal. */
static int raise_error(MPI_Errhandler eh, void *handle, const char *what, int errclass,
                       const char *fn, const char *fmt, va_list ap)
{
    if (eh == MPI_ERRORS_RETURN) {
        return errclass;
    }
    if (eh > MPI_ERRORS_RETURN && eh - MPI_ERRORS_RETURN <= nuser_handlers) {
        int code = errclass;
        /* A window's handler has the same shape with MPI_Win for MPI_Comm. */
        user_handlers[eh - MPI_ERRORS_RETURN - 1](handle, &code);
        return errclass; /* the handler returned: so does the call */
    }
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    int rank = mrail_obj.comms[MPI_COMM_WORLD].valid ? mrail_obj.comms[MPI_COMM_WORLD].rank : -1;
    fprintf(stderr,
            "mrail: rank %d: %s: %s: %s; aborting (the %s's error handler is "
            "MPI_ERRORS_ARE_FATAL; MPI_%s_set_errhandler with MPI_ERRORS_RETURN returns "
            "errors instead)\n",
            rank, fn, class_id(errclass), text, what, strcmp(what, "window") == 0 ? "Win" : "Comm");
    fflush(stderr);
    if (mrail_mpi.rte != NULL) {
        mrail_rte_abort(mrail_mpi.rte, errclass, text);
    }
    _Exit(errclass);
}

int mpi_error(MPI_Comm comm, int errclass, const char *fn, const char *fmt, ...)
{
    MPI_Errhandler eh = MPI_ERRORS_ARE_FATAL;
    if (comm > MPI_COMM_NULL && comm < mrail_obj.ncomms && mrail_obj.comms[comm].valid) {
        eh = mrail_obj.comms[comm].errhandler;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = raise_error(eh, &comm, "communicator", errclass, fn, fmt, ap);
    va_end(ap);
    return rc;
}

int mpi_win_error(MPI_Win win, MPI_Errhandler eh, int errclass, const char *fn, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = raise_error(eh, &win, "window", errclass, fn, fmt, ap);
    va_end(ap);
    return rc;
}

bool mpi_errhandler_valid(MPI_Errhandler eh)
{
    return eh == MPI_ERRORS_ARE_FATAL || eh == MPI_ERRORS_RETURN ||
           (eh > MPI_ERRORS_RETURN && eh - MPI_ERRORS_RETURN <= nuser_handlers);
}

int PMPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler errhandler)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_set_errhandler");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (!mpi_errhandler_valid(errhandler)) {
        return mpi_error(comm, MPI_ERR_ARG, "MPI_Comm_set_errhandler",
                         "invalid error handler %d (valid: MPI_ERRORS_ARE_FATAL, "
                         "MPI_ERRORS_RETURN, or one from MPI_Comm_create_errhandler)",
                         errhandler);
    }
    mrail_obj.comms[comm].errhandler = errhandler;
    return MPI_SUCCESS;
}

int PMPI_Comm_get_errhandler(MPI_Comm comm, MPI_Errhandler *errhandler)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_get_errhandler");
    if (rc == MPI_SUCCESS) {
        *errhandler = mrail_obj.comms[comm].errhandler;
    }
    return rc;
}

int PMPI_Comm_create_errhandler(MPI_Comm_errhandler_function *function, MPI_Errhandler *errhandler)
{
    return mpi_errhandler_new(function, errhandler, "MPI_Comm_create_errhandler");
}

int mpi_errhandler_new(MPI_Comm_errhandler_function *function, MPI_Errhandler *errhandler,
                       const char *fn)
{
    if (function == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "a NULL error handler function");
    }
    MPI_Comm_errhandler_function **grown =
        realloc(user_handlers, (size_t)(nuser_handlers + 1) * sizeof(*grown));
    if (grown == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    user_handlers = grown;
    user_handlers[nuser_handlers++] = function;
    *errhandler = MPI_ERRORS_RETURN + nuser_handlers;
    return MPI_SUCCESS;
}

/* Runs comm's handler on errorcode as if a call on comm had failed. */
int PMPI_Comm_call_errhandler(MPI_Comm comm, int errorcode)
{
    int rc = mpi_check_comm(comm, "MPI_Comm_call_errhandler");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    char text[MPI_MAX_ERROR_STRING];
    int len;
    PMPI_Error_string(errorcode, text, &len);
    mpi_error(comm, errorcode, "MPI_Comm_call_errhandler", "%s", text);
    return MPI_SUCCESS;
}

static int add_code(int errclass, int *code, const char *fn)
{
    user_code_t *grown = realloc(user_codes, (size_t)(nuser_codes + 1) * sizeof(*grown));
    if (grown == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
    }
    user_codes = grown;
    *code = MPI_ERR_LASTCODE + 1 + nuser_codes;
    user_codes[nuser_codes++] = (user_code_t){.errclass = errclass < 0 ? *code : errclass};
    return MPI_SUCCESS;
}

int PMPI_Add_error_class(int *errorclass)
{
    return add_code(-1, errorclass, "MPI_Add_error_class");
}

int PMPI_Add_error_code(int errorclass, int *errorcode)
{
    const user_code_t *u = user_code(errorclass);
    bool is_class =
        (errorclass >= 0 && errorclass < NCLASSES) || (u != NULL && u->errclass == errorclass);
    if (!is_class) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Add_error_code",
                         "%d is not an error class (predefined 0..%d, or one from "
                         "MPI_Add_error_class)",
                         errorclass, NCLASSES - 1);
    }
    return add_code(errorclass, errorcode, "MPI_Add_error_code");
}

int PMPI_Add_error_string(int errorcode, const char *string)
{
    const user_code_t *u = user_code(errorcode);
    if (u == NULL || string == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Add_error_string",
                         "%d is not a code from MPI_Add_error_class or MPI_Add_error_code "
                         "(predefined strings do not change)",
                         errorcode);
    }
    snprintf(user_codes[errorcode - MPI_ERR_LASTCODE - 1].text, MPI_MAX_ERROR_STRING, "%s", string);
    return MPI_SUCCESS;
}

void mpi_errors_fini(void)
{
    free(user_handlers);
    free(user_codes);
    user_handlers = NULL;
    user_codes = NULL;
    nuser_handlers = nuser_codes = 0;
}

int PMPI_Errhandler_free(MPI_Errhandler *errhandler)
{
    /* Handlers are not freed (a communicator may still use a user one); the
     * handle becomes null. */
    if (errhandler == NULL) {
        return MPI_ERR_ARG;
    }
    *errhandler = MPI_ERRHANDLER_NULL;
    return MPI_SUCCESS;
}
