# fix-dbgsym.cmake: CPACK_POST_BUILD_SCRIPTS of the Debian packages (packaging/CMakeLists.txt).
# CPack 3.25 writes the md5sums of a -dbgsym .ddeb with the absolute paths of its staging
# directory (lintian: md5sums-lists-nonexistent-file, file-missing-in-md5sums) and the
# .debug files executable. Each .ddeb is unpacked and built again the way dh_strip makes
# one: md5sums relative to the root, .debug files 0644, and /usr/share/doc/PKG-dbgsym a
# symlink to the doc directory of PKG (its copyright and changelog; the .ddeb depends on
# PKG of the same version).
foreach(wp_file IN LISTS CPACK_PACKAGE_FILES)
  if(NOT wp_file MATCHES "/([^/_]+)-dbgsym_[^/]+\\.ddeb$")
    continue()
  endif()
  set(wp_package "${CMAKE_MATCH_1}")
  set(wp_root "${wp_file}.d")
  file(REMOVE_RECURSE "${wp_root}")
  execute_process(COMMAND dpkg-deb -R "${wp_file}" "${wp_root}" RESULT_VARIABLE wp_rc)
  if(NOT wp_rc EQUAL 0)
    message(FATAL_ERROR "fix-dbgsym: dpkg-deb -R ${wp_file} failed")
  endif()
  file(GLOB_RECURSE wp_debug RELATIVE "${wp_root}" "${wp_root}/usr/*")
  list(SORT wp_debug)
  set(wp_md5sums "")
  foreach(wp_path IN LISTS wp_debug)
    file(CHMOD "${wp_root}/${wp_path}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    file(MD5 "${wp_root}/${wp_path}" wp_sum)
    string(APPEND wp_md5sums "${wp_sum}  ${wp_path}\n")
  endforeach()
  file(WRITE "${wp_root}/DEBIAN/md5sums" "${wp_md5sums}")
  file(CHMOD "${wp_root}/DEBIAN/md5sums" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(MAKE_DIRECTORY "${wp_root}/usr/share/doc")
  file(CREATE_LINK "${wp_package}" "${wp_root}/usr/share/doc/${wp_package}-dbgsym" SYMBOLIC)
  execute_process(COMMAND dpkg-deb --root-owner-group -Zxz -b "${wp_root}" "${wp_file}"
                  OUTPUT_QUIET RESULT_VARIABLE wp_rc)
  if(NOT wp_rc EQUAL 0)
    message(FATAL_ERROR "fix-dbgsym: dpkg-deb -b ${wp_file} failed")
  endif()
  file(REMOVE_RECURSE "${wp_root}")
endforeach()
