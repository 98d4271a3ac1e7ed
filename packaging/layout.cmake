# layout.cmake: where an installation of wardpulse puts its files, for a given prefix.
#
# GNUInstallDirs resolves its directories against the prefix CMake was configured with, but
# the prefix can change after that: CPack installs with its own (/usr, for the Debian
# packages) and `cmake --install --prefix` with any. The files whose text names paths (the
# systemd units, the example configurations) are therefore made at install time
# (install-configured.cmake), from the prefix in force then.
#
# wp_layout(PREFIX) sets, in the caller's scope, absolute paths:
#   WP_BINDIR   the programs               CMAKE_INSTALL_BINDIR
#   WP_CONFDIR  the configuration          CMAKE_INSTALL_SYSCONFDIR/wardpulse (/etc/wardpulse
#                                          for the prefixes / and /usr, as GNUInstallDirs does)
#   WP_DATADIR  schemas, plans, broker-config  CMAKE_INSTALL_DATADIR/wardpulse
#   WP_DOCDIR   the documentation          CMAKE_INSTALL_DOCDIR
#   WP_UNITDIR  the systemd units          WARDPULSE_UNITDIR if set; else systemd's
#                                          own directory (WP_LAYOUT_SYSTEM_UNITDIR, from
#                                          pkg-config) for the prefixes / and /usr, and
#                                          lib/systemd/system under any other (systemd reads
#                                          /usr/local/lib/systemd/system too; an install
#                                          into a private prefix stays inside it)
# from WP_LAYOUT_BINDIR, WP_LAYOUT_SYSCONFDIR, WP_LAYOUT_DATADIR, WP_LAYOUT_DOCDIR,
# WP_LAYOUT_UNITDIR and WP_LAYOUT_SYSTEM_UNITDIR: the configured values, each relative to
# the prefix or absolute.

function(wp_layout_resolve out prefix dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  elseif(prefix STREQUAL "/")
    set(${out} "/${dir}" PARENT_SCOPE)
  else()
    set(${out} "${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

function(wp_layout prefix)
  string(REGEX REPLACE "(.)/+$" "\\1" prefix "${prefix}")
  wp_layout_resolve(bindir "${prefix}" "${WP_LAYOUT_BINDIR}")
  wp_layout_resolve(datadir "${prefix}" "${WP_LAYOUT_DATADIR}")
  wp_layout_resolve(docdir "${prefix}" "${WP_LAYOUT_DOCDIR}")
  if(WP_LAYOUT_UNITDIR)
    wp_layout_resolve(unitdir "${prefix}" "${WP_LAYOUT_UNITDIR}")
  elseif(prefix MATCHES "^/(usr)?$")
    wp_layout_resolve(unitdir "${prefix}" "${WP_LAYOUT_SYSTEM_UNITDIR}")
  else()
    wp_layout_resolve(unitdir "${prefix}" "lib/systemd/system")
  endif()
  # GNUInstallDirs' special cases: the system's own prefixes keep their configuration in /etc.
  if(NOT IS_ABSOLUTE "${WP_LAYOUT_SYSCONFDIR}" AND prefix MATCHES "^/(usr)?$")
    set(sysconfdir "/${WP_LAYOUT_SYSCONFDIR}")
  elseif(NOT IS_ABSOLUTE "${WP_LAYOUT_SYSCONFDIR}" AND prefix MATCHES "^/opt/")
    set(sysconfdir "/${WP_LAYOUT_SYSCONFDIR}${prefix}")
  else()
    wp_layout_resolve(sysconfdir "${prefix}" "${WP_LAYOUT_SYSCONFDIR}")
  endif()
  set(WP_BINDIR "${bindir}" PARENT_SCOPE)
  set(WP_CONFDIR "${sysconfdir}/wardpulse" PARENT_SCOPE)
  set(WP_DATADIR "${datadir}/wardpulse" PARENT_SCOPE)
  set(WP_DOCDIR "${docdir}" PARENT_SCOPE)
  set(WP_UNITDIR "${unitdir}" PARENT_SCOPE)
endfunction()
