/* Predefined datatypes. Derived ones come with the collectives issue. */
#include <complex.h>
#include <stdbool.h>
#include <wchar.h>

#include "mpi_internal.h"

typedef struct {
    size_t size;
    const char *name;
} type_info_t;

/* Pair types as C lays them out (value, then int). */
struct float_int {
    float v;
    int i;
};
struct double_int {
    double v;
    int i;
};
struct long_int {
    long v;
    int i;
};
struct short_int {
    short v;
    int i;
};
struct long_double_int {
    long double v;
    int i;
};

static const type_info_t types[] = {
    [MPI_DATATYPE_NULL] = {0, "MPI_DATATYPE_NULL"},
    [MPI_CHAR] = {sizeof(char), "MPI_CHAR"},
    [MPI_SIGNED_CHAR] = {sizeof(signed char), "MPI_SIGNED_CHAR"},
    [MPI_UNSIGNED_CHAR] = {sizeof(unsigned char), "MPI_UNSIGNED_CHAR"},
    [MPI_BYTE] = {1, "MPI_BYTE"},
    [MPI_SHORT] = {sizeof(short), "MPI_SHORT"},
    [MPI_UNSIGNED_SHORT] = {sizeof(unsigned short), "MPI_UNSIGNED_SHORT"},
    [MPI_INT] = {sizeof(int), "MPI_INT"},
    [MPI_UNSIGNED] = {sizeof(unsigned), "MPI_UNSIGNED"},
    [MPI_LONG] = {sizeof(long), "MPI_LONG"},
    [MPI_UNSIGNED_LONG] = {sizeof(unsigned long), "MPI_UNSIGNED_LONG"},
    [MPI_LONG_LONG_INT] = {sizeof(long long), "MPI_LONG_LONG_INT"},
    [MPI_UNSIGNED_LONG_LONG] = {sizeof(unsigned long long), "MPI_UNSIGNED_LONG_LONG"},
    [MPI_FLOAT] = {sizeof(float), "MPI_FLOAT"},
    [MPI_DOUBLE] = {sizeof(double), "MPI_DOUBLE"},
    [MPI_LONG_DOUBLE] = {sizeof(long double), "MPI_LONG_DOUBLE"},
    [MPI_WCHAR] = {sizeof(wchar_t), "MPI_WCHAR"},
    [MPI_C_BOOL] = {sizeof(bool), "MPI_C_BOOL"},
    [MPI_INT8_T] = {1, "MPI_INT8_T"},
    [MPI_INT16_T] = {2, "MPI_INT16_T"},
    [MPI_INT32_T] = {4, "MPI_INT32_T"},
    [MPI_INT64_T] = {8, "MPI_INT64_T"},
    [MPI_UINT8_T] = {1, "MPI_UINT8_T"},
    [MPI_UINT16_T] = {2, "MPI_UINT16_T"},
    [MPI_UINT32_T] = {4, "MPI_UINT32_T"},
    [MPI_UINT64_T] = {8, "MPI_UINT64_T"},
    [MPI_C_COMPLEX] = {sizeof(float _Complex), "MPI_C_COMPLEX"},
    [MPI_C_FLOAT_COMPLEX] = {sizeof(float _Complex), "MPI_C_FLOAT_COMPLEX"},
    [MPI_C_DOUBLE_COMPLEX] = {sizeof(double _Complex), "MPI_C_DOUBLE_COMPLEX"},
    [MPI_C_LONG_DOUBLE_COMPLEX] = {sizeof(long double _Complex), "MPI_C_LONG_DOUBLE_COMPLEX"},
    [MPI_AINT] = {sizeof(MPI_Aint), "MPI_AINT"},
    [MPI_OFFSET] = {sizeof(MPI_Offset), "MPI_OFFSET"},
    [MPI_COUNT] = {sizeof(MPI_Count), "MPI_COUNT"},
    [MPI_FLOAT_INT] = {sizeof(struct float_int), "MPI_FLOAT_INT"},
    [MPI_DOUBLE_INT] = {sizeof(struct double_int), "MPI_DOUBLE_INT"},
    [MPI_LONG_INT] = {sizeof(struct long_int), "MPI_LONG_INT"},
    [MPI_2INT] = {2 * sizeof(int), "MPI_2INT"},
    [MPI_SHORT_INT] = {sizeof(struct short_int), "MPI_SHORT_INT"},
    [MPI_LONG_DOUBLE_INT] = {sizeof(struct long_double_int), "MPI_LONG_DOUBLE_INT"},
    [MPI_PACKED] = {1, "MPI_PACKED"},
    [MPIX_C_FLOAT16] = {2, "MPIX_C_FLOAT16"},
};
#define NTYPES (int)(sizeof(types) / sizeof(types[0]))

size_t mpi_type_size(MPI_Datatype type)
{
    return type > 0 && type < NTYPES ? types[type].size : 0;
}

const char *mpi_type_name(MPI_Datatype type)
{
    return type >= 0 && type < NTYPES ? types[type].name : "(invalid)";
}

int MPI_Type_size(MPI_Datatype datatype, int *size)
{
    if (mpi_type_size(datatype) == 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_TYPE, "MPI_Type_size",
                         "invalid datatype handle %d", datatype);
    }
    *size = (int)mpi_type_size(datatype);
    return MPI_SUCCESS;
}
