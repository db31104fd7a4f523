# Runs at install time (install(SCRIPT)): the systemd units and the files under etc name the
# installed binary and configuration, so they are written for the prefix the install runs with —
# `cmake --install build --prefix DIR`, or /usr when CPack builds the .deb (CPACK_SET_DESTDIR: the
# prefix is /usr and DESTDIR the staging directory; file(INSTALL) prepends DESTDIR).
# ROLLBACK_SOURCE_DIR and ROLLBACK_BINARY_DIR are set by the install(CODE) before this script.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(SYSCONFDIR "/etc")
else()
  set(SYSCONFDIR "${prefix}/etc")
endif()
set(BINDIR "${prefix}/bin")
string(MAKE_C_IDENTIFIER "${prefix}" prefix_tag)
set(staging "${ROLLBACK_BINARY_DIR}/packaging/${prefix_tag}")

set(units)
foreach(unit rollback-monitor.service rollback-backup-verify.service rollback-rehearse.service)
  configure_file("${ROLLBACK_SOURCE_DIR}/packaging/systemd/${unit}.in" "${staging}/${unit}" @ONLY)
  list(APPEND units "${staging}/${unit}")
endforeach()
list(APPEND units "${ROLLBACK_SOURCE_DIR}/packaging/systemd/rollback-backup-verify.timer"
                  "${ROLLBACK_SOURCE_DIR}/packaging/systemd/rollback-rehearse.timer")
file(INSTALL DESTINATION "${prefix}/lib/systemd/system" TYPE FILE FILES ${units})

# The configuration: installed when absent, never over a file someone edited (the .deb always
# stages it; dpkg's conffile handling then keeps local edits).
configure_file("${ROLLBACK_SOURCE_DIR}/packaging/etc/rollback.toml.in" "${staging}/rollback.toml" @ONLY)
configure_file("${ROLLBACK_SOURCE_DIR}/packaging/etc/default-rollback.in" "${staging}/rollback" @ONLY)
if(NOT EXISTS "$ENV{DESTDIR}${SYSCONFDIR}/rollback/rollback.toml")
  file(INSTALL DESTINATION "${SYSCONFDIR}/rollback" TYPE FILE FILES "${staging}/rollback.toml")
endif()
if(NOT EXISTS "$ENV{DESTDIR}${SYSCONFDIR}/default/rollback")
  file(INSTALL DESTINATION "${SYSCONFDIR}/default" TYPE FILE FILES "${staging}/rollback")
endif()
