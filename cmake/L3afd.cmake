# Per-module header exposure (docs/architecture.md §1, "Dependency rule").
#   Every module's headers are published as symbolic links under
#   build/include/<target>/<module dir>/<header>.h, and that directory is the target's only
#   include root for our own code (src/ itself is never an include root of a library). A module
#   therefore reaches the headers of another module only if it links it (directly, or through a
#   PUBLIC dependency of a module it links), so an include outside the linked modules fails to
#   compile ("No such file or directory"). tests/lint/check_layering.sh checks the exact rule
#   (every direct include against tests/lint/layering.txt), including external libraries.
set(L3AFD_INCLUDE_ROOT ${CMAKE_BINARY_DIR}/include)

# l3afd_publish_headers(TARGET DIR HEADERS...): links HEADERS (absolute paths) into TARGET's
# include tree as <DIR>/<file name> and adds the tree to TARGET's include directories
# (PUBLIC, or INTERFACE for an interface library). Re-run at every configure; stale links of
# removed headers go away because the target's tree is rebuilt from scratch.
function(l3afd_publish_headers target dir)
  set(root ${L3AFD_INCLUDE_ROOT}/${target})
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root}/${dir})
  foreach(h ${ARGN})
    get_filename_component(n ${h} NAME)
    file(CREATE_LINK ${h} ${root}/${dir}/${n} SYMBOLIC)
  endforeach()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${root})
  else()
    target_include_directories(${target} PUBLIC ${root})
  endif()
endfunction()

# l3afd_add_library(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#   A static library l3afd_<NAME> with our warnings, for the module in the calling directory
#   (src/<dir>/CMakeLists.txt). Its headers (src/<dir>/*.h, not subdirectories: those are other
#   modules) are reachable as "<dir>/x.h" by itself and by the targets that link it.
#   DEPS: dependencies the module's headers expose (linked PUBLIC: whoever links this module
#   reaches their headers too). PRIVATE_DEPS: implementation details (linked PRIVATE: still
#   linked into executables, but their headers are not reachable by the module's users).
function(l3afd_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(l3afd_${name} STATIC ${A_SOURCES})
  target_compile_options(l3afd_${name} PRIVATE ${L3AFD_WARNINGS})
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
  l3afd_publish_headers(l3afd_${name} ${dir} ${headers})
  if(A_DEPS)
    target_link_libraries(l3afd_${name} PUBLIC ${A_DEPS})
  endif()
  if(A_PRIVATE_DEPS)
    target_link_libraries(l3afd_${name} PRIVATE ${A_PRIVATE_DEPS})
  endif()
endfunction()

# l3afd_add_headers(NAME HEADERS ... [DEPS ...])
#   An interface library l3afd_<NAME> publishing only the named headers of the calling
#   directory's module (for a port header another module may use without linking the whole
#   module, e.g. engine/ports.h for store/).
function(l3afd_add_headers name)
  cmake_parse_arguments(A "" "" "HEADERS;DEPS" ${ARGN})
  add_library(l3afd_${name} INTERFACE)
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  list(TRANSFORM A_HEADERS PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  l3afd_publish_headers(l3afd_${name} ${dir} ${A_HEADERS})
  if(A_DEPS)
    target_link_libraries(l3afd_${name} INTERFACE ${A_DEPS})
  endif()
endfunction()

# l3afd_add_test(NAME SOURCES ... [DEPS ...] LABELS ... [TIMEOUT s] [WRAP cmd...])
#   A GoogleTest binary registered with ctest (one ctest entry per test case).
#   Tests with label kernel/e2e need root; they are given RUN_SERIAL so that they do not
#   fight over the two cores with timing-sensitive traffic. Exit code 77 means "skipped".
function(l3afd_add_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${L3AFD_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads)
  set(props LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT} SKIP_RETURN_CODE 77)
  if("kernel" IN_LIST A_LABELS OR "e2e" IN_LIST A_LABELS)
    list(APPEND props RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
