# Driven by ctest: install, configure, build and run the downstream project.
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/../cmake/run_helpers.cmake)

run(${CMAKE_COMMAND} --install ${MRAIL_BUILD_DIR} --prefix ${prefix})
foreach(f include/mrail/mca.h include/mrail/version.h lib/pkgconfig/mrail.pc
          lib/cmake/mrail/mrailConfig.cmake bin/mrail_info)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_C_FLAGS=${FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)

# The installed plugins are found next to the installed library (when the
# build made the ofi plugin: a machine without libfabric has none).
run(${WORK_DIR}/build/use_cmake)
if(OFI_PLUGIN)
  set(want "mrail 0\\.[0-9]+\\.[0-9]+ btl self selected, ofi plugin [^\n]*${prefix}/lib/mrail/mrail_btl_ofi\\.so")
else()
  set(want "mrail 0\\.[0-9]+\\.[0-9]+ btl self selected, ofi plugin \\(none\\)")
endif()
if(NOT last_output MATCHES "${want}")
  message(FATAL_ERROR "unexpected output of use_cmake:\n${last_output}")
endif()
run(${WORK_DIR}/build/use_pkgconfig)
if(NOT last_output MATCHES "mrail 0\\.[0-9]+\\.[0-9]+ btl self selected")
  message(FATAL_ERROR "unexpected output of use_pkgconfig:\n${last_output}")
endif()
message(STATUS "downstream project built and ran against ${prefix}")

# Relocatable: the prefix moved as a whole keeps working. Its wrappers point
# into the new place (every --showme form, single and double dash, as Meson
# and FindMPI probe them), build a program that runs, and its system
# parameter file is the one read; MRAIL_PREFIX names a prefix explicitly.
function(expect pattern)
  if(NOT last_output MATCHES "${pattern}")
    message(FATAL_ERROR "expected output matching ${pattern}, got:\n${last_output}")
  endif()
endfunction()
set(moved ${WORK_DIR}/moved)
file(RENAME ${prefix} ${moved})
run(${moved}/bin/mpicc --showme:incdirs)
expect("^${moved}/include\n$")
run(${moved}/bin/mpicc -showme:libdirs)
expect("^${moved}/lib\n$")
run(${moved}/bin/mpicc --showme:libs)
expect("^mrail\n$")
run(${moved}/bin/mpicc --showme:compile)
expect("^-I${moved}/include\n$")
run(${moved}/bin/mpicc -showme:link)
expect("^-L${moved}/lib -Wl,-rpath,${moved}/lib -lmrail\n$")
run(${moved}/bin/mpicc --showme:version)
expect("^mpicc: mrail [0-9]+\\.[0-9]+\\.[0-9]+ \\(Language: C\\)\n$")
run(${moved}/bin/mpicxx --showme:incdirs)
expect("^${moved}/include\n$")
execute_process(COMMAND ${moved}/bin/mpicc --showme:bogus RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "unknown option --showme:bogus \\(valid: --showme:compile")
  message(FATAL_ERROR "mpicc --showme:bogus: exit ${rc}: ${err}")
endif()
run(${CMAKE_COMMAND} -E env "MRAIL_CC=cc ${FLAGS}" ${moved}/bin/mpicc -o ${WORK_DIR}/mpi_hello
    ${SOURCE_DIR}/mpi_hello.c)
run(${WORK_DIR}/mpi_hello)
expect("^hello from rank 0 of 1 \\(mrail ")
file(WRITE ${moved}/etc/mrail/mca-params.conf "btl_tcp_verbose = 2\n")
run(${moved}/bin/mrail_info --param btl tcp --parsable)
expect("param:btl_tcp_verbose:value:2\nparam:btl_tcp_verbose:default:0\n")
expect("param:btl_tcp_verbose:origin:${moved}/etc/mrail/mca-params.conf:1\n")
# mrail_info --path tells an admin the same: where it is, what it reads.
run(${moved}/bin/mrail_info --path --parsable)
expect("path:prefix:${moved}\npath:prefix_from:moved installation")
expect("path:libdir:${moved}/lib\npath:plugindir:${moved}/lib/mrail\n")
expect("path:sysconfdir:${moved}/etc\n")
expect("path:param_file:system file:read:${moved}/etc/mrail/mca-params.conf\n")
file(COPY ${moved}/bin/mpicc DESTINATION ${WORK_DIR}/loose)
run(${CMAKE_COMMAND} -E env MRAIL_PREFIX=${moved} ${WORK_DIR}/loose/mpicc --showme:link)
expect("^-L${moved}/lib ")

# CMake's FindMPI given the prefix (-DMPI_HOME, as docs/mpi.md recommends)
# takes mrail's library and its mpiexec, not the system's.
run(${CMAKE_COMMAND} -S ${FINDMPI_DIR} -B ${WORK_DIR}/findmpi-home -G ${GENERATOR}
    -DMPI_HOME=${moved} "-DCMAKE_C_FLAGS=${FLAGS}")
file(READ ${WORK_DIR}/findmpi-home/found.txt found)
if(NOT found MATCHES "${moved}/lib/libmrail\\.so" OR NOT found MATCHES "${moved}/bin/mpiexec")
  message(FATAL_ERROR "FindMPI with MPI_HOME=${moved} found: ${found}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/findmpi-home)
run(${moved}/bin/mpiexec -n 2 ${WORK_DIR}/findmpi-home/hello)
expect("hello from 0 of 2, got 1")

# Meson's dependency('mpi') through the wrapper (config-tool: --showme:*).
# By default Meson asks pkg-config for Open MPI's ompi-c first, so a program
# meant for mrail names the method; and of $MPICC and the mpicc in PATH it
# takes the higher --showme:version, so mrail's bin goes first in PATH
# (docs/mpi.md).
find_program(MESON meson)
if(NOT MESON)
  message(FATAL_ERROR "meson missing: tools/setup-debian.sh installs it")
endif()
file(MAKE_DIRECTORY ${WORK_DIR}/meson-src)
file(COPY ${SOURCE_DIR}/mpi_hello.c DESTINATION ${WORK_DIR}/meson-src)
file(WRITE ${WORK_DIR}/meson-src/meson.build "project('mrail_meson', 'c')
mpi = dependency('mpi', language: 'c', method: 'config-tool')
executable('mpi_hello', 'mpi_hello.c', dependencies: mpi)
")
run(${CMAKE_COMMAND} -E env MPICC=${moved}/bin/mpicc "PATH=${moved}/bin:$ENV{PATH}"
    "CFLAGS=${FLAGS}" "LDFLAGS=${FLAGS}" ${MESON} setup ${WORK_DIR}/meson-build ${WORK_DIR}/meson-src)
expect("${moved}/bin/mpicc found: YES \\(${moved}/bin/mpicc\\)")
expect("Run-time dependency MPI for c found: YES")
run(${MESON} compile -C ${WORK_DIR}/meson-build)
run(${WORK_DIR}/meson-build/mpi_hello)
expect("^hello from rank 0 of 1 \\(mrail ")
message(STATUS "the install moved to ${moved} still works (wrappers, FindMPI, Meson)")
