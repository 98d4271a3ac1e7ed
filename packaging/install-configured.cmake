# install-configured.cmake: installs the files made from templates with the paths of this
# installation (layout.cmake): run by `cmake --install` and by CPack, through the
# install(SCRIPT) rules of packaging/CMakeLists.txt.
#
# Expects WP_LAYOUT_* (layout.cmake), WP_WORK_DIR (a directory of the build tree to make
# the files in) and WP_CONFIGURED: a list of TEMPLATE|KIND|NAME, KIND being `unit` (into
# WP_UNITDIR) or `conf` (into WP_CONFDIR), NAME the file's path there.
# CMAKE_INSTALL_PREFIX is the prefix in force; file(INSTALL) adds DESTDIR (which CPack
# sets to its staging directory) and lists the files in install_manifest.txt.

include("${CMAKE_CURRENT_LIST_DIR}/layout.cmake")
wp_layout("${CMAKE_INSTALL_PREFIX}")

# One work directory per destination, so that concurrent installs do not share files.
string(MD5 wp_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(wp_work "${WP_WORK_DIR}/${wp_key}")

foreach(wp_entry IN LISTS WP_CONFIGURED)
  string(REPLACE "|" ";" wp_entry "${wp_entry}")
  list(GET wp_entry 0 wp_template)
  list(GET wp_entry 1 wp_kind)
  list(GET wp_entry 2 wp_name)
  if(wp_kind STREQUAL "unit")
    set(wp_destination "${WP_UNITDIR}")
  else()
    set(wp_destination "${WP_CONFDIR}")
  endif()
  get_filename_component(wp_subdir "${wp_name}" DIRECTORY)
  if(wp_subdir)
    string(APPEND wp_destination "/${wp_subdir}")
  endif()
  configure_file("${wp_template}" "${wp_work}/${wp_name}" @ONLY)
  file(INSTALL DESTINATION "${wp_destination}" TYPE FILE FILES "${wp_work}/${wp_name}")
endforeach()
