/* Calls about the library and its handles: the version string, MPI_Pcontrol,
 * and the C <-> Fortran handle conversions (tools and mixed-language codes
 * call them; mrail's handles are ints, as Fortran's are, so each is the
 * same number on both sides). */
#include <stdio.h>
#include <string.h>

#include "mpi_internal.h"
#include "mrail/version.h"

MRAIL_MPI_ALIAS(MPI_Get_library_version);
MRAIL_MPI_ALIAS(MPI_Pcontrol);
MRAIL_MPI_ALIAS(MPI_Comm_c2f);
MRAIL_MPI_ALIAS(MPI_Comm_f2c);
MRAIL_MPI_ALIAS(MPI_Type_c2f);
MRAIL_MPI_ALIAS(MPI_Type_f2c);
MRAIL_MPI_ALIAS(MPI_Group_c2f);
MRAIL_MPI_ALIAS(MPI_Group_f2c);
MRAIL_MPI_ALIAS(MPI_Request_c2f);
MRAIL_MPI_ALIAS(MPI_Request_f2c);
MRAIL_MPI_ALIAS(MPI_Op_c2f);
MRAIL_MPI_ALIAS(MPI_Op_f2c);
MRAIL_MPI_ALIAS(MPI_Errhandler_c2f);
MRAIL_MPI_ALIAS(MPI_Errhandler_f2c);
MRAIL_MPI_ALIAS(MPI_Info_c2f);
MRAIL_MPI_ALIAS(MPI_Info_f2c);
MRAIL_MPI_ALIAS(MPI_Win_c2f);
MRAIL_MPI_ALIAS(MPI_Win_f2c);
MRAIL_MPI_ALIAS(MPI_Status_c2f);
MRAIL_MPI_ALIAS(MPI_Status_f2c);

int PMPI_Get_library_version(char *version, int *resultlen)
{
    int n = snprintf(version, MPI_MAX_LIBRARY_VERSION_STRING,
                     "mrail %s (MPI %d.%d; multi-rail byte-transfer layer)", MRAIL_VERSION_STRING,
                     MPI_VERSION, MPI_SUBVERSION);
    *resultlen = n < MPI_MAX_LIBRARY_VERSION_STRING ? n : MPI_MAX_LIBRARY_VERSION_STRING - 1;
    return MPI_SUCCESS;
}

/* Profiling control is for tools that define MPI_Pcontrol; mrail has no
 * profiling of its own to turn on or off. */
int PMPI_Pcontrol(const int level, ...)
{
    (void)level;
    return MPI_SUCCESS;
}

#define SAME_NUMBER(T, name)                                                                       \
    MPI_Fint PMPI_##name##_c2f(T handle)                                                           \
    {                                                                                              \
        return (MPI_Fint)handle;                                                                   \
    }                                                                                              \
    T PMPI_##name##_f2c(MPI_Fint handle)                                                           \
    {                                                                                              \
        return (T)handle;                                                                          \
    }

SAME_NUMBER(MPI_Comm, Comm)
SAME_NUMBER(MPI_Datatype, Type)
SAME_NUMBER(MPI_Group, Group)
SAME_NUMBER(MPI_Request, Request)
SAME_NUMBER(MPI_Op, Op)
SAME_NUMBER(MPI_Errhandler, Errhandler)
SAME_NUMBER(MPI_Info, Info)
SAME_NUMBER(MPI_Win, Win)

/* A Fortran status is MPI_STATUS_SIZE integers holding the C struct. */
int PMPI_Status_c2f(const MPI_Status *c_status, MPI_Fint *f_status)
{
    if (c_status == NULL || f_status == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Status_c2f", "a NULL status");
    }
    memcpy(f_status, c_status, sizeof(*c_status));
    return MPI_SUCCESS;
}

int PMPI_Status_f2c(const MPI_Fint *f_status, MPI_Status *c_status)
{
    if (c_status == NULL || f_status == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Status_f2c", "a NULL status");
    }
    memcpy(c_status, f_status, sizeof(*c_status));
    return MPI_SUCCESS;
}
