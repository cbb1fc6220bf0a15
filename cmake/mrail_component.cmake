# Declares one layer of libmrail: an object library with the layer's own
# sources and private include directories, on top of the layer(s) named in
# BELOW. A layer sees the public contracts (include/) and the directories
# its lower layers export (PUBLIC_INCLUDE), never those of a layer above:
# an upward #include fails to compile.
#   mrail_add_layer(<name> SOURCES ... [BELOW lower] [PUBLIC_INCLUDE dir ...]
#                   [PRIVATE_INCLUDE dir ...] [DEPS pkg-target ...])
function(mrail_add_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;BELOW;PUBLIC_INCLUDE;PRIVATE_INCLUDE;DEPS" ${ARGN})
  set(target mrail_${name})
  add_library(${target} OBJECT ${L_SOURCES})
  set_target_properties(${target} PROPERTIES C_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_include_directories(${target}
    PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include ${L_PUBLIC_INCLUDE}
    PRIVATE ${L_PRIVATE_INCLUDE})
  foreach(below IN LISTS L_BELOW)
    target_link_libraries(${target} PUBLIC mrail_${below})
  endforeach()
  target_link_libraries(${target} PUBLIC ${L_DEPS})
  # libmrail is every layer's objects.
  target_link_libraries(mrail PRIVATE ${target})
endfunction()

# Declares a framework (btl, pml, coll): its base defines
# mrail_<fw>_framework_ops, and mca/base learns of it from the generated
# table, never by name. Call it lowest layer first.
function(mrail_add_framework fw)
  set_property(GLOBAL APPEND PROPERTY MRAIL_FRAMEWORKS ${fw})
endfunction()

# Declares one component in one line:
#   mrail_add_component(<framework> <name> SOURCES a.c b.c [PLUGIN] [PKG pkgmod ...]
#                       [CORE c.c d.c ...])
# Built-in components are compiled into libmrail; PLUGIN components become
# dlopen()ed modules in <libdir>/mrail/. A PKG module that pkg-config cannot
# find turns the component off with one configure message, and mrail_info
# reports it as "not built" with that reason.
# CORE splits a PLUGIN in two: the plugin proper (SOURCES: parameters and a
# cheap check, compiled against the PKG headers but linked with none of
# them) and <plugin dir>/core/mrail_<fw>_<name>.so (CORE, linked with the
# PKG libraries), which the plugin loads with mrail_mca_core_load only when
# the check finds something to drive. Built in, both lists are compiled in.
function(mrail_add_component fw name)
  cmake_parse_arguments(C "PLUGIN" "" "SOURCES;PKG;CORE" ${ARGN})
  set(id ${fw}_${name})
  set(deps "")
  set(headers_only_dirs "")
  set(headers_only_opts "")
  set(split "")
  foreach(pkg IN LISTS C_PKG)
    string(MAKE_C_IDENTIFIER "MRAIL_DEP_${pkg}" var)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET ${pkg})
    if(NOT ${var}_FOUND)
      message(STATUS "mrail: component ${fw}/${name} disabled: pkg-config module '${pkg}' not found")
      set_property(GLOBAL APPEND PROPERTY MRAIL_DISABLED_COMPONENTS
        "${fw}|${name}|pkg-config module '${pkg}' was not found when mrail was configured")
      return()
    endif()
    list(APPEND deps PkgConfig::${var})
  endforeach()
  list(TRANSFORM C_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  list(TRANSFORM C_CORE PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  if(C_PLUGIN AND C_CORE)
    # The core: what needs the PKG libraries, loaded by the plugin on need.
    set(core mrail_${id}_core)
    add_library(${core} MODULE ${C_CORE})
    set_target_properties(${core} PROPERTIES PREFIX "" OUTPUT_NAME mrail_${id}
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/${MRAIL_PLUGIN_DIR}/core
      INSTALL_RPATH "$ORIGIN/../..")
    target_compile_definitions(${core} PRIVATE _GNU_SOURCE)
    target_link_libraries(${core} PRIVATE mrail ${deps})
    install(TARGETS ${core} LIBRARY DESTINATION ${MRAIL_PLUGIN_DIR}/core)
    # The plugin proper sees the PKG headers only.
    foreach(t IN LISTS deps)
      list(APPEND headers_only_dirs $<TARGET_PROPERTY:${t},INTERFACE_INCLUDE_DIRECTORIES>)
      list(APPEND headers_only_opts $<TARGET_PROPERTY:${t},INTERFACE_COMPILE_OPTIONS>)
    endforeach()
    set(deps ${CMAKE_DL_LIBS})
    set(split MRAIL_CORE_SPLIT)
  else()
    list(APPEND C_SOURCES ${C_CORE})
    list(REMOVE_DUPLICATES C_SOURCES)
  endif()
  if(C_PLUGIN)
    set(target mrail_${id})
    add_library(${target} MODULE ${C_SOURCES})
    set_target_properties(${target} PROPERTIES PREFIX ""
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/${MRAIL_PLUGIN_DIR}
      INSTALL_RPATH "$ORIGIN/..")
    target_compile_definitions(${target} PRIVATE _GNU_SOURCE ${split})
    target_link_libraries(${target} PRIVATE mrail ${deps})
    target_include_directories(${target} PRIVATE ${headers_only_dirs})
    target_compile_options(${target} PRIVATE ${headers_only_opts})
    install(TARGETS ${target} LIBRARY DESTINATION ${MRAIL_PLUGIN_DIR})
    set_property(GLOBAL APPEND PROPERTY MRAIL_PLUGIN_COMPONENTS "${fw}|${name}")
    message(STATUS "mrail: component ${fw}/${name} enabled (plugin)")
  else()
    # Built in: compiled as part of its framework's layer.
    target_sources(mrail_${fw} PRIVATE ${C_SOURCES})
    target_link_libraries(mrail_${fw} PRIVATE ${deps})
    target_link_libraries(mrail PRIVATE ${deps})
    set_property(GLOBAL APPEND PROPERTY MRAIL_STATIC_COMPONENTS "${fw}|${name}")
  endif()
endfunction()

# Writes the C table of built-in components, built plugins and components
# turned off at configure time.
function(mrail_write_static_components out)
  get_property(static GLOBAL PROPERTY MRAIL_STATIC_COMPONENTS)
  get_property(plugins GLOBAL PROPERTY MRAIL_PLUGIN_COMPONENTS)
  get_property(disabled GLOBAL PROPERTY MRAIL_DISABLED_COMPONENTS)
  get_property(frameworks GLOBAL PROPERTY MRAIL_FRAMEWORKS)
  set(decls "")
  set(rows "")
  set(fwrows "")
  set(includes "")
  foreach(fw IN LISTS frameworks)
    string(APPEND includes "#include \"mrail/${fw}.h\"\n")
    string(APPEND fwrows "    &mrail_${fw}_framework_ops,\n")
  endforeach()
  foreach(entry IN LISTS static)
    string(REPLACE "|" ";" f "${entry}")
    list(GET f 0 fw)
    list(GET f 1 name)
    string(APPEND decls "extern mrail_${fw}_component_t mrail_${fw}_${name}_component;\n")
    # Every framework's component type begins with mrail_component_t.
    string(APPEND rows "    {\"${fw}\", \"${name}\", (mrail_component_t *)&mrail_${fw}_${name}_component, NULL},\n")
  endforeach()
  foreach(entry IN LISTS plugins)
    string(REPLACE "|" ";" f "${entry}")
    list(GET f 0 fw)
    list(GET f 1 name)
    string(APPEND rows "    {\"${fw}\", \"${name}\", NULL, NULL},\n")
  endforeach()
  foreach(entry IN LISTS disabled)
    string(REPLACE "|" ";" f "${entry}")
    list(GET f 0 fw)
    list(GET f 1 name)
    list(GET f 2 why)
    string(APPEND rows "    {\"${fw}\", \"${name}\", NULL, \"${why}\"},\n")
  endforeach()
  file(WRITE ${out}.tmp
"/* Generated by cmake/mrail_component.cmake: do not edit. */\n"
"${includes}#include \"mca_components.h\"\n\n"
"${decls}\n"
"const mrail_framework_ops_t *const mrail_known_frameworks[] = {\n${fwrows}    NULL,\n};\n\n"
"const mrail_known_component_t mrail_known_components[] = {\n${rows}    {NULL, NULL, NULL, NULL},\n};\n")
  configure_file(${out}.tmp ${out} COPYONLY)
endfunction()
