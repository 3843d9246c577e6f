# libFuzzer build (-DL3AFD_FUZZ=ON, tests/fuzz/README.md): clang only. Every library of the
# build is compiled with the fuzzer's coverage instrumentation (fuzzer-no-link) and with
# AddressSanitizer + UndefinedBehaviorSanitizer, so that a bug deep in the code under test is
# both found (coverage guides the mutations there) and reported (the sanitizers abort on it).
# The fuzz targets themselves add -fsanitize=fuzzer at link time (libFuzzer's main).
# -O1 keeps the targets fast enough while leaving assert() on (no NDEBUG).
if(L3AFD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "L3AFD_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(L3AFD_SANITIZE)
    message(FATAL_ERROR "L3AFD_FUZZ already builds with ASan/UBSan; leave L3AFD_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g)
  add_link_options(-fsanitize=address,undefined)
endif()
