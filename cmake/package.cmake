# Installing bkp and packaging it for Debian (included by CMakeLists.txt).
#
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build && (cd build && cpack -G DEB)      # bkp_VERSION_ARCH.deb
#
# The program, its man pages (scdoc sources in docs/man, built here), bash
# completion, the systemd units and the cron line with the prefix filled in,
# the /etc/bkp skeleton (with prefix /usr only) and the documents.
include(GNUInstallDirs)

install(TARGETS bkp RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---- man pages: bkp(1), bkp-policy(5), bkp-runbook(5) ----
# Written in scdoc, built at build time and gzipped without a name or time
# stamp (-n), so that two builds of one source give the same bytes. Without
# scdoc the program still builds; the package refuses to (CPackChecks).
find_program(BKP_SCDOC scdoc)
set(BKP_MAN_DIR ${CMAKE_CURRENT_BINARY_DIR}/man)
set(BKP_HAVE_MAN OFF)
if(BKP_SCDOC)
  set(BKP_HAVE_MAN ON)
  set(pages)
  foreach(page bkp.1 bkp-policy.5 bkp-runbook.5 bkp-agent.5)
    set(src ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/${page}.scd)
    add_custom_command(OUTPUT ${BKP_MAN_DIR}/${page}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${BKP_MAN_DIR}
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${BKP_SCDOC} ${src} ${BKP_MAN_DIR}/${page}
      COMMAND gzip -9nf ${BKP_MAN_DIR}/${page}
      DEPENDS ${src}
      COMMENT "Writing the man page ${page}"
      VERBATIM)
    list(APPEND pages ${BKP_MAN_DIR}/${page}.gz)
    string(REGEX MATCH "[0-9]$" section ${page})
    install(FILES ${BKP_MAN_DIR}/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${pages})
else()
  message(STATUS "scdoc not found: building without the man pages "
                 "(apt install scdoc, then configure again; the Debian package needs them)")
  add_custom_target(man COMMAND ${CMAKE_COMMAND} -E echo
                    "no man pages: scdoc was not found when configuring (apt install scdoc)"
                    VERBATIM)
endif()

# ---- the message catalogue (bkp/io/i18n.h) ----
# po/LANG.po compiled (and its format strings checked against the English
# ones) into the build tree's locale/, where the program finds it beside
# itself, and installed under the system's locale folder.
find_program(BKP_MSGFMT msgfmt)
if(BKP_MSGFMT)
  set(catalogues)
  foreach(lang ja)
    set(mo ${CMAKE_CURRENT_BINARY_DIR}/locale/${lang}/LC_MESSAGES/bkp.mo)
    add_custom_command(OUTPUT ${mo}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/locale/${lang}/LC_MESSAGES
      COMMAND ${BKP_MSGFMT} --check -o ${mo} ${CMAKE_CURRENT_SOURCE_DIR}/po/${lang}.po
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/po/${lang}.po
      COMMENT "Compiling the ${lang} message catalogue"
      VERBATIM)
    list(APPEND catalogues ${mo})
    install(FILES ${mo} DESTINATION ${CMAKE_INSTALL_LOCALEDIR}/${lang}/LC_MESSAGES)
  endforeach()
  add_custom_target(catalogues ALL DEPENDS ${catalogues})
  # The program speaks Japanese from its build tree too: built with it,
  # also when only `--target bkp` is asked for.
  add_dependencies(bkp catalogues)
else()
  message(STATUS "msgfmt not found: building without the Japanese messages (apt install gettext)")
endif()
target_compile_definitions(bkpcore PRIVATE BKP_LOCALEDIR="${CMAKE_INSTALL_FULL_LOCALEDIR}")

# ---- shell completion ----
install(FILES docs/completion/bkp DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# ---- systemd units and the cron line, naming the installed program ----
# Units go to PREFIX/lib/systemd/system (not LIBDIR, which is multiarch on
# Debian); systemd reads /usr/lib/... and /usr/local/lib/... alike.
foreach(unit bkp.service bkp-failure@.service)
  configure_file(docs/systemd/${unit}.in ${CMAKE_CURRENT_BINARY_DIR}/systemd/${unit} @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/systemd/${unit} DESTINATION lib/systemd/system)
endforeach()
install(FILES docs/systemd/bkp.timer DESTINATION lib/systemd/system)
# The cron line is a document, not /etc/cron.d/bkp: the operator chooses
# cron or the timer once the policy is written, and never both.
configure_file(docs/cron/bkp.in ${CMAKE_CURRENT_BINARY_DIR}/cron/bkp @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cron/bkp DESTINATION ${CMAKE_INSTALL_DOCDIR}/cron)

# ---- documents ----
install(FILES README.md docs/FORMAT.md docs/operator-guide.md docs/operator-guide.ja.md
              docs/checklist-3-2.md docs/SECURITY.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(DIRECTORY policies/examples policies/runbooks DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- /etc/bkp: an example policy (mode 0600) and the runbook templates ----
# bkp reads /etc/bkp whatever its prefix. GNUInstallDirs puts the
# configuration in /etc only for prefix /usr (the package); with /usr/local
# it would be /usr/local/etc, which bkp never reads, so nothing is installed
# there and the examples in the doc folder are copied by hand. Even with
# prefix /usr, `cmake --install` never replaces a file already there: a live
# policy is the operator's (the package marks these files as conffiles, and
# dpkg asks before replacing an edited one).
set(BKP_ETC_FILES policy.yaml runbooks/clinic.yaml runbooks/emr-db.yaml runbooks/emr-db-remote.yaml
    runbooks/scans.yaml)
if(CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "/etc")
  configure_file(cmake/install-etc.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/install-etc.cmake @ONLY)
  install(SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/install-etc.cmake)
  list(TRANSFORM BKP_ETC_FILES PREPEND "/etc/bkp/" OUTPUT_VARIABLE conffiles)
  list(JOIN conffiles "\n" conffiles)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles "${conffiles}\n")
  set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles)
else()
  message(STATUS "Configuration in ${CMAKE_INSTALL_FULL_SYSCONFDIR}: the /etc/bkp skeleton is "
                 "not installed (prefix /usr installs it); copy it from "
                 "${CMAKE_INSTALL_FULL_DOCDIR}/examples")
endif()

# ---- the Debian package: cpack -G DEB ----
set(BKP_PACKAGE_MAINTAINER "bkp maintainers <root@localhost>"
    CACHE STRING "The Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bkp)
set(CPACK_PACKAGE_CONTACT "${BKP_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "off-line backups with immutable generations, for hospitals and clinics")
set(CPACK_PACKAGE_DESCRIPTION
    "bkp backs up the data a hospital or clinic needs to keep treating patients, and
proves it can be restored, as Japan's hospital cybersecurity checklist (item 3-2)
asks: three generations or more, two kinds of media, one copy off-line and
non-editable, one off-site, and a rehearsed recovery procedure.

Data is chunked, compressed, encrypted and authenticated into an encrypted
repository; each backup is a signed generation chained to the previous one.
A strict policy file says what to back up, when and where the copies go;
USB disks are rotated and read back, archives and S3 Object Lock buckets are
supported, runbooks are printed for paper and rehearsed by timed drills, and
every action is recorded in a signed audit log.

This package holds the bkp program, its man pages, bash completion, systemd
units (not enabled), a cron line, an example policy commented in Japanese in
/etc/bkp, runbook templates and the operator guides in English and Japanese.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded when a bucket is first used (bkp/s3/s3_lib.c), so not in the shared
# libraries dpkg-shlibdeps sees: named here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.88), libxml2 (>= 2.9)")
# libfuse3-3 (bkp mount) comes with the shared libraries' dependencies;
# fusermount3 (fuse3) only matters to a user other than root.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, cron | systemd-sysv, fuse3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openssh-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Absolute destinations (/etc/bkp) go into the package's tree, never onto
# the machine that builds it.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
configure_file(cmake/CPackChecks.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/CPackChecks.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_BINARY_DIR}/CPackChecks.cmake)
include(CPack)
