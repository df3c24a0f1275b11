# Per-target include roots: the compiler enforces the dependency direction of
# docs/architecture.md.
#
# Internal headers are included by their path from the repository root ("store/journal.h"), so
# a reader finds any concept by folder and file name. With the repository root on every
# target's include path, any folder could include any other and nothing would stop an include
# against the direction of the layers. Instead, each target gets its own root in the build tree
# holding symlinks to exactly its own folders (build/header-roots/xfer_store/store ->
# <source>/store). The root is a usage requirement of the target, so "store/journal.h" resolves
# only in code that links xfer_store, directly or through a target that exports it.
#
#   xfer_header_root(<target> <PUBLIC|PRIVATE|INTERFACE> <path from the source root>...)
function(xfer_header_root target scope)
  set(root ${CMAKE_BINARY_DIR}/header-roots/${target})
  # Links a target no longer lists must go, or an old build tree would still resolve them.
  # find deletes the links themselves (it never follows one into the source tree) and the
  # directories left empty.
  if(IS_DIRECTORY ${root})
    execute_process(COMMAND find ${root} -mindepth 1 -depth "(" -type l -o -type d -empty ")" -delete
      COMMAND_ERROR_IS_FATAL ANY)
  endif()
  foreach(rel IN LISTS ARGN)
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/${rel})
      message(FATAL_ERROR "xfer_header_root(${target}): no ${rel} in the source tree")
    endif()
    set(link ${root}/${rel})
    get_filename_component(parent ${link} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(REMOVE ${link})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${rel} ${link} SYMBOLIC)
  endforeach()
  target_include_directories(${target} ${scope} ${root})
endfunction()
