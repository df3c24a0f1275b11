# The installable library: `cmake --install` puts the public headers (<xfer/...>), libxfer.so,
# a CMake package (find_package(xfer) -> xfer::xfer) and xfer.pc under the prefix, with the
# CLI and the test server in bin/. The shared library holds the engine and everything below it;
# its dependencies (libcurl, leveldb, OpenSSL, fmt, spdlog) stay private, so an application
# needs only the headers, which use the standard library alone (C++23: <expected>).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

add_library(xfer_library SHARED ${PROJECT_SOURCE_DIR}/transfer/version.cpp)
add_library(xfer::xfer ALIAS xfer_library)
set_target_properties(xfer_library PROPERTIES OUTPUT_NAME xfer EXPORT_NAME xfer
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
target_compile_definitions(xfer_library PRIVATE XFER_VERSION="${PROJECT_VERSION}")
target_include_directories(xfer_library PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/base/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/transfer/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(xfer_library PUBLIC cxx_std_23)
# The engine's archive whole (nothing inside the library calls Engine, so plain linking would
# drop it); what it needs of the archives below is pulled in as usual.
target_link_libraries(xfer_library PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,xfer_transfer>")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/base/include/xfer ${PROJECT_SOURCE_DIR}/transfer/include/xfer
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS xfer_library EXPORT xferTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS xfer xfer-testserver RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/cli/completion/xfer.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME xfer)

set(XFER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xfer)
install(EXPORT xferTargets NAMESPACE xfer:: DESTINATION ${XFER_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xferConfig.cmake.in
  ${PROJECT_BINARY_DIR}/xferConfig.cmake INSTALL_DESTINATION ${XFER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xferConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xferConfig.cmake ${PROJECT_BINARY_DIR}/xferConfigVersion.cmake
  DESTINATION ${XFER_CMAKE_DIR})

# xfer.pc finds its prefix from where it lies, so `cmake --install --prefix P` is right for any P.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "xfer.pc needs CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
file(RELATIVE_PATH XFER_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" XFER_PC_TO_PREFIX "${XFER_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/xfer.pc.in ${PROJECT_BINARY_DIR}/xfer.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xfer.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
