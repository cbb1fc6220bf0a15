/* The reduction-operation calls: user operations, MPI_Reduce_local, and
 * the argument check every reduction shares (kernels: mpiobj/obj_op.c). */
#include <stdbool.h>

#include "mpi_internal.h"

MRAIL_MPI_ALIAS(MPI_Op_create);
MRAIL_MPI_ALIAS(MPI_Op_free);
MRAIL_MPI_ALIAS(MPI_Op_commutative);
MRAIL_MPI_ALIAS(MPI_Reduce_local);

int mpi_op_check(MPI_Comm comm, MPI_Op op, MPI_Datatype type, const char *fn)
{
    if (!mpi_op_valid(op)) {
        return mpi_error(comm, MPI_ERR_OP, fn, "invalid operation handle %d%s", op,
                         op == MPI_OP_NULL ? " (MPI_OP_NULL)" : "");
    }
    const mpi_type_t *t = mpi_type(type);
    if (t == NULL && !mpi_op_is_user(op)) {
        return mpi_check_type(type, fn);
    }
    if (t != NULL && !mpi_op_fits(op, t)) {
        return mpi_error(comm, MPI_ERR_OP, fn, "%s does not apply to datatype %s%s",
                         mpi_op_name(op), t->name,
                         t->base == MPI_DATATYPE_NULL ? " (it mixes several basic types)" : "");
    }
    return MPI_SUCCESS;
}

int PMPI_Op_create(MPI_User_function *user_fn, int commute, MPI_Op *op)
{
    int rc = mpi_check_init("MPI_Op_create");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (user_fn == NULL) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Op_create", "NULL user function");
    }
    if (mpi_op_new(user_fn, commute != 0, op) != 0) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_NO_MEM, "MPI_Op_create", "out of memory");
    }
    return MPI_SUCCESS;
}

int PMPI_Op_free(MPI_Op *op)
{
    int rc = mpi_check_init("MPI_Op_free");
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    if (!mpi_op_valid(*op) || *op < MPI_FIRST_USER_OP) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_OP, "MPI_Op_free", "operation %d is %s", *op,
                         mpi_op_valid(*op) ? "predefined and cannot be freed" : "not valid");
    }
    mpi_op_delete(*op);
    *op = MPI_OP_NULL;
    return MPI_SUCCESS;
}

int PMPI_Op_commutative(MPI_Op op, int *commute)
{
    if (!mpi_op_valid(op)) {
        return mpi_error(MPI_COMM_WORLD, MPI_ERR_OP, "MPI_Op_commutative",
                         "invalid operation handle %d", op);
    }
    *commute = mpi_op_commutes(op);
    return MPI_SUCCESS;
}

int PMPI_Reduce_local(const void *inbuf, void *inoutbuf, int count, MPI_Datatype type, MPI_Op op)
{
    const char *fn = "MPI_Reduce_local";
    int rc = mpi_check_init(fn);
    rc = rc ? rc : mpi_check_buffer(MPI_COMM_WORLD, inbuf, count, type, fn);
    rc = rc ? rc : mpi_op_check(MPI_COMM_WORLD, op, type, fn);
    if (rc == MPI_SUCCESS) {
        mpi_op_apply(op, inbuf, inoutbuf, (size_t)count, type);
    }
    return rc;
}
