# scnConfig.cmake - find_package(scn) for an installed scn.h (make install
# or cmake --install): the INTERFACE target scn::scn, its include directory
# and libm. Installed as PREFIX/lib/cmake/scn/scnConfig.cmake.
get_filename_component(_scn_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET scn::scn)
  add_library(scn::scn INTERFACE IMPORTED)
  set_target_properties(scn::scn PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_scn_prefix}/include")
  if(UNIX)
    set_target_properties(scn::scn PROPERTIES INTERFACE_LINK_LIBRARIES m)
  endif()
endif()
file(STRINGS "${_scn_prefix}/include/scn.h" _scn_v REGEX "^#define SCN_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "[^0-9]*([0-9]+)[^0-9]*([0-9]+)[^0-9]*([0-9]+).*" "\\1.\\2.\\3" scn_VERSION "${_scn_v}")
unset(_scn_v)
unset(_scn_prefix)
