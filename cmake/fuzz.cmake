# XFER_FUZZ=ON builds the libFuzzer targets of tests/fuzz (docs/fuzzing.md; scripts/fuzz sets
# it up). It needs clang: Debian 12's clang-19 (clang 14 and 16 cannot compile libstdc++ 12's
# <expected>, whose guard wants __cpp_concepts >= 202002L). Every target is instrumented for
# coverage and built with ASan + UBSan (UB aborts); the fuzz executables add libFuzzer's main.
option(XFER_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(XFER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "XFER_FUZZ=ON needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++-19 "
                        "-DCMAKE_C_COMPILER=clang-19); this is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(XFER_SANITIZE)
    message(FATAL_ERROR "XFER_FUZZ=ON already builds with ASan and UBSan; leave XFER_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
