# make-page.cmake: makes one man page and its gzip'd copy, run by packaging/man/CMakeLists.txt
# at build time: the programs' --help texts are captured, then wardpulse-manpage (manpage.c)
# writes the page from them and from the option tables it is linked with.
#
#   cmake -DGENERATOR=… -DKIND=daemon|config|command -DDAEMON=agent|aggregator
#         -DPROGRAM=path/of/the/built/program -DOUTPUT=path/name.N -P make-page.cmake
# OUTPUT.gz is compressed as Debian wants it: gzip -9, without name or timestamp (-n), so
# that a rebuild gives the same bytes.

# The programs may be sanitizer builds: a --help run is not where leaks are looked for.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
get_filename_component(work "${OUTPUT}" DIRECTORY)
get_filename_component(base "${OUTPUT}" NAME)

function(capture_help out)
  execute_process(COMMAND ${ARGN} --help OUTPUT_FILE "${out}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "make-page: '${ARGN} --help' failed (${rc})")
  endif()
endfunction()

set(args "${KIND}")
if(KIND STREQUAL "daemon")
  capture_help("${work}/${base}.help" "${PROGRAM}")
  list(APPEND args "${DAEMON}" "${work}/${base}.help")
elseif(KIND STREQUAL "config")
  list(APPEND args "${DAEMON}")
else()
  # wardpulse(1): the overview, and each command it lists under "commands:".
  capture_help("${work}/${base}.help" "${PROGRAM}")
  list(APPEND args "${work}/${base}.help")
  file(STRINGS "${work}/${base}.help" lines)
  set(in_commands FALSE)
  foreach(line IN LISTS lines)
    if(line STREQUAL "commands:")
      set(in_commands TRUE)
    elseif(in_commands AND line MATCHES "^  ([a-z][a-z-]*)  ")
      set(command "${CMAKE_MATCH_1}")
      capture_help("${work}/${base}.${command}.help" "${PROGRAM}" "${command}")
      list(APPEND args "wardpulse ${command}" "${work}/${base}.${command}.help")
    elseif(in_commands)
      set(in_commands FALSE)
    endif()
  endforeach()
endif()

execute_process(COMMAND "${GENERATOR}" ${args} OUTPUT_FILE "${OUTPUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "make-page: wardpulse-manpage ${args} failed (${rc})")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
execute_process(COMMAND gzip -9 -n -c "${OUTPUT}" OUTPUT_FILE "${OUTPUT}.gz" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "make-page: gzip ${OUTPUT} failed (${rc})")
endif()
