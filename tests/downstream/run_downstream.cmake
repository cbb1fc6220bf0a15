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
