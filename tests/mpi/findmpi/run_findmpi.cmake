# Driven by ctest: FindMPI with MPI_C_COMPILER=<mrail's mpicc> must pick
# libmrail, and the program it builds must run under mrun.
file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_helpers.cmake)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR} -G ${GENERATOR}
    -DMPI_C_COMPILER=${MPICC} "-DCMAKE_C_FLAGS=${FLAGS}")
file(READ ${WORK_DIR}/found.txt found)
if(NOT found MATCHES "libmrail\\.so")
  message(FATAL_ERROR "FindMPI did not pick mrail: ${found}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR})
run(${MRUN} -n 2 ${WORK_DIR}/hello)
if(NOT last_output MATCHES "hello from 0 of 2, got 1" OR NOT last_output MATCHES "hello from 1 of 2, got 0")
  message(FATAL_ERROR "unexpected output:\n${last_output}")
endif()
