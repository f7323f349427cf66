#!/usr/bin/env bash
# Install what bkp needs to build and test, from Debian packages, if missing.
set -euo pipefail

packages=(build-essential cmake pkg-config
          libarchive-dev libsodium-dev liblz4-dev uuid-dev libjansson-dev libyaml-dev
          # libarchive is linked statically (CMakeLists.txt): the shared
          # libraries of the parts of it bkp uses.
          libacl1-dev libzstd-dev nettle-dev liblzma-dev libbz2-dev zlib1g-dev
          libqrencode-dev libgfshare-dev
          libcurl4-openssl-dev libxml2-dev libssl-dev
          libcmocka-dev libarchive-tools attr acl procps
          postgresql e2fsprogs
          # Source servers over SSH (tests/e2e/97-hosts.sh): the client bkp
          # runs, and sshd for the test's own source servers on loopback.
          openssh-client openssh-server
          # The man pages (written in scdoc) and the package scenario
          # (tests/e2e/15-package.sh): cpack's dependency list (dpkg-shlibdeps,
          # file), man -w, systemd-analyze verify, the bash completion.
          scdoc dpkg-dev file man-db systemd bash-completion
          # The message catalogue: compiled and checked (msgfmt, xgettext);
          # libc's own Japanese for system errors (strerror).
          gettext libc-l10n
          # The object store of the object-medium tests (tests/support/rgw.sh):
          # a single-node Ceph run from these programs, no service started.
          ceph-mon ceph-osd radosgw ceph-common ceph-base curl openssl
          # bkp mount (FUSE): the library, and fusermount3 for the scenario.
          libfuse3-dev fuse3
          # The full-disk and crash sweeps (tests/e2e/31-full-disk.sh): a kill
          # at one exact point (gdb), a small file system to fill (mount).
          gdb mount util-linux
          # A machine with no C library for the recovery kit to run on
          # (tests/e2e/lib.sh, bare_root): a static busybox.
          busybox-static
          # The status page's browser test (tests/e2e/45-status-page.sh): headless
          # Chromium, and a Japanese font so that its screenshots can be read.
          chromium fonts-ipafont-gothic
          # A medium's label sheet: its QR code drawn and read back
          # (tests/e2e/90-media.sh).
          librsvg2-bin zbar-tools
          # What the test scripts read JSON and forge records with, and the
          # system-call trace of the scenarios that count them.
          jq python3 strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 2
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
