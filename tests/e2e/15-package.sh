#!/usr/bin/env bash
# The Debian package, as an operator gets it: built by CPack from a release
# build with prefix /usr, installed with dpkg, checked as installed (the
# program, the man pages, the systemd units, /etc/bkp, the completion), then
# purged.
#
# THIS TEST CHANGES THE SYSTEM: it installs the package `bkp` into /usr and
# /etc/bkp and purges it at the end (also when it fails). It runs as root
# only, never beside another test (ctest RUN_SERIAL: while it is installed,
# /etc/bkp/policy.yaml is the default policy of every bkp), and it refuses a
# machine where bkp is installed or /etc/bkp exists: purging would remove
# that machine's policy.
#
# Before that, without root: the man pages name every command and option
# the program has (`bkp CMD --help`, from its one table of options) and every
# key the policy and runbook readers accept.
source "$(dirname "$0")/lib.sh"
SRC=${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$SRC/docs/man

# ---- the man pages do not drift from the program ----
commands=$("$BKP" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
                                on && /^  [a-z]/ { print $1 }')
[ "$(wc -w <<<"$commands")" -ge 15 ] || flunk "bkp --help lists only: $commands"
all_options="--version"
# The options every command takes: listed once, by `bkp --help`.
for opt in $("$BKP" --help | sed -n '/^options every command takes:/,/^$/p' |
    sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'); do
    grep -qF -- "*$opt*" "$MAN/bkp.1.scd" || flunk "bkp(1) does not describe $opt (bkp --help)"
    all_options="$all_options $opt"
done
for cmd in $commands; do
    grep -q "^## $cmd\$" "$MAN/bkp.1.scd" || flunk "bkp(1) has no section for the command $cmd"
    for opt in $("$BKP" "$cmd" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'); do
        grep -qF -- "*$opt*" "$MAN/bkp.1.scd" || flunk "bkp(1) does not describe $opt (bkp $cmd --help)"
        all_options="$all_options $opt"
    done
done
# ... and describes no option the program does not have.
for opt in $(grep -o '\*--[a-z][a-z-]*\*' "$MAN/bkp.1.scd" | tr -d '*' | sort -u); do
    [[ " $all_options " == *" $opt "* ]] || flunk "bkp(1) describes $opt, which no command takes"
done
# The keys of each mapping, as the readers list them (`static const char
# *const ...keys[] = {...}`).
keys_of() {
    awk '/static const char \*const [a-z]*keys\[\] = \{/ { on = 1 } on { print } on && /\};/ { on = 0 }' "$@" |
        grep -o '"[a-z_0-9]*"' | tr -d '"' | sort -u
}
for key in $(keys_of "$SRC"/policies/policy*.c); do
    grep -qF -- "*$key" "$MAN/bkp-policy.5.scd" || flunk "bkp-policy(5) does not describe the key $key"
done
for key in $(keys_of "$SRC/restore/runbook.c"); do
    grep -qF -- "*$key" "$MAN/bkp-runbook.5.scd" || flunk "bkp-runbook(5) does not describe the key $key"
done

# ---- the package ----
need_root
# tests/install-deps.sh installs these: a missing one fails, not skips.
for t in cmake cpack dpkg dpkg-shlibdeps file man systemd-analyze scdoc; do
    command -v "$t" >/dev/null || fail "$t is missing: run bash tests/install-deps.sh"
done
if dpkg-query -W -f='${Status}' bkp 2>/dev/null | grep -q 'installed' || [ -e /etc/bkp ] ||
    [ -e /usr/bin/bkp ]; then
    echo "SKIP: bkp is installed on this machine (or /etc/bkp or /usr/bin/bkp exists);" \
        "this test would replace and purge it" >&2
    exit 77
fi

installed=false
# On any exit: purge what was installed, then lib.sh's clean-up, which takes
# the exit status from $? (so no errexit here, or a failure would stop it).
purge() {
    local rc=$?
    set +e
    if $installed; then
        dpkg --purge bkp >/dev/null 2>&1
    fi
    (exit "$rc")
    _cleanup
}
trap purge EXIT

B=$WORK/build
ok cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DBKP_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
output_has "Build files have been written"
ok nice cmake --build "$B" -j2 # the program and the man pages
cd "$B"
ok cpack -G DEB
cd - >/dev/null
deb=$(ls "$B"/bkp_*_*.deb)
[ -f "$deb" ] || fail "cpack made no bkp_*.deb in $B"
ok dpkg-deb --info "$deb"
output_has "Section: admin"
output_has " conffiles"

installed=true
ok dpkg -i "$deb"
ok dpkg -s bkp
output_has "Status: install ok installed"
# Computed by dpkg-shlibdeps from the program's libraries, with versions.
output_has "Depends: " "the package has dependencies"
output_has "libsodium23 (>= " "the dependencies are computed"
# Loaded when a bucket is first used (bkp/s3/s3_lib.c): named by hand.
output_has "libcurl4 (>= 7.88)" "the package depends on libcurl4, which bkp loads for buckets"
output_has "libxml2 (>= 2.9)"
output_has "libyaml-0-2"

ok /usr/bin/bkp --version
output_has "bkp "
ok man -w bkp
output_has "/usr/share/man/man1/bkp.1.gz"
ok man -w 5 bkp-policy
output_has "/usr/share/man/man5/bkp-policy.5.gz"
ok man -w 5 bkp-runbook
ok env MANPAGER=cat MANWIDTH=80 man bkp
output_has "EXIT STATUS"
output_has "BKP_PASSPHRASE_COMMAND"
[ "$(gzip -dc /usr/share/man/man1/bkp.1.gz | head -c 2)" != "" ] || flunk "bkp.1.gz is empty"

# The units name the installed program, and systemd (with man, for their
# Documentation=) accepts them.
units=/usr/lib/systemd/system
grep -Eq "^ExecStart=/usr/bin/bkp run( |$)" "$units/bkp.service" || flunk "bkp.service does not run /usr/bin/bkp"
grep -q "^OnFailure=bkp-failure@%n.service" "$units/bkp.service" || flunk "bkp.service has no OnFailure="
grep -q "^ProtectSystem=full" "$units/bkp.service" || flunk "bkp.service is not hardened"
ok systemd-analyze verify "$units/bkp.service" "$units/bkp.timer" "$units/bkp-failure@.service"
[ -z "$OUT$ERR" ] || flunk "systemd-analyze verify warns: $OUT$ERR"
grep -q "root BKP_POLICY=/etc/bkp/policy.yaml /usr/bin/bkp run" /usr/share/doc/bkp/cron/bkp ||
    flunk "the cron line does not run /usr/bin/bkp"

# /etc/bkp: the example policy, root's alone, accepted as it stands.
[ "$(stat -c '%a %U' /etc/bkp/policy.yaml)" = "600 root" ] ||
    flunk "/etc/bkp/policy.yaml is $(stat -c '%a %U' /etc/bkp/policy.yaml), not 600 root"
ok /usr/bin/bkp policy check --policy /etc/bkp/policy.yaml
# The default policy is every command's, runbook print's too: the procedure
# names the repository it describes.
ok env -u BKP_POLICY /usr/bin/bkp runbook print clinic --lang ja
output_has "/var/lib/bkp/repo" "runbook print should use the default policy /etc/bkp/policy.yaml"
# The recovery kit the installed program writes: at most 24 MiB, its own
# loader and C library, no HTTP, XML or ICU stack (none of which a restore
# from a disk or tape needs).
mkdir -p "$WORK/kit/data" "$WORK/kit/usb"
echo "patient" >"$WORK/kit/data/a"
cat >"$WORK/kit/policy.yaml" <<YAML
repository: $WORK/kit/repo
passphrase_file: $PASSFILE
media:
  - { name: usb-a, type: removable, path: $WORK/kit/usb, location: offsite, offline: true }
datasets:
  - { name: ds, paths: [$WORK/kit/data], copy_to: [usb-a] }
YAML
chmod 600 "$WORK/kit/policy.yaml"
ok /usr/bin/bkp init --policy "$WORK/kit/policy.yaml"
ok /usr/bin/bkp media label "$WORK/kit/usb" --name usb-a --type removable --policy "$WORK/kit/policy.yaml"
ok /usr/bin/bkp backup ds --policy "$WORK/kit/policy.yaml"
ok /usr/bin/bkp rotate usb-a --policy "$WORK/kit/policy.yaml"
kit_bytes=$(du -sb "$WORK/kit/usb/bkp-recovery" | cut -f1)
[ "$kit_bytes" -le $((24 << 20)) ] || flunk "the recovery kit is $kit_bytes bytes, over 24 MiB"
ls "$WORK/kit/usb/bkp-recovery/lib" | grep -Eq '^(libicu|libxml2|libcurl|libssl|libgnutls)' &&
    flunk "the recovery kit carries $(ls "$WORK/kit/usb/bkp-recovery/lib" | grep -E '^(libicu|libxml2|libcurl|libssl|libgnutls)' | tr '\n' ' ')"
ls "$WORK/kit/usb/bkp-recovery/lib" | grep -q '^libc\.so' || flunk "the recovery kit brings no C library"
echo "recovery kit of the package: $kit_bytes bytes" >&2
for rb in clinic emr-db emr-db-remote scans; do
    [ -f /etc/bkp/runbooks/$rb.yaml ] || flunk "no runbook template /etc/bkp/runbooks/$rb.yaml"
    # Its steps run as root and its env: may hold a password: root's alone.
    [ "$(stat -c '%a %U' /etc/bkp/runbooks/$rb.yaml)" = "600 root" ] ||
        flunk "/etc/bkp/runbooks/$rb.yaml is $(stat -c '%a %U' /etc/bkp/runbooks/$rb.yaml), not 600 root"
done
ok dpkg-query -W -f='${Conffiles}\n' bkp
output_has "/etc/bkp/policy.yaml"
for doc in README.md FORMAT.md SECURITY.md operator-guide.md operator-guide.ja.md checklist-3-2.md; do
    [ -f /usr/share/doc/bkp/$doc ] || flunk "no /usr/share/doc/bkp/$doc"
done

# The completion, in a shell as an operator's: commands, and each command's
# options as the installed program lists them.
complete_words() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c '
        [ -f /usr/share/bash-completion/bash_completion ] &&
            . /usr/share/bash-completion/bash_completion
        . /usr/share/bash-completion/completions/bkp
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _bkp bkp "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
[ "$(complete_words bkp ver)" = "verify" ] || flunk "bkp ver<TAB> gives: $(complete_words bkp ver)"
complete_words bkp verify --rep | grep -qx -- --repair-from ||
    flunk "bkp verify --rep<TAB> gives: $(complete_words bkp verify --rep)"
[ "$(complete_words bkp verify --repa)" = "--repair-from" ] ||
    flunk "bkp verify --repa<TAB> gives: $(complete_words bkp verify --repa)"
[ "$(complete_words bkp rotate usb | tr '\n' ' ')" = "usb-a usb-b " ] ||
    flunk "bkp rotate usb<TAB> gives: $(complete_words bkp rotate usb)"

# ---- purged: nothing is left ----
ok dpkg --purge bkp
installed=false
for f in /usr/bin/bkp /etc/bkp /usr/share/man/man1/bkp.1.gz /usr/lib/systemd/system/bkp.service \
    /usr/share/bash-completion/completions/bkp /usr/share/doc/bkp; do
    [ ! -e "$f" ] || flunk "$f is left after dpkg --purge"
done
check_exit 1 dpkg -s bkp || true

# ---- never over a live policy; nothing in /etc from a /usr/local install ----
live=$WORK/live
mkdir -p "$live/etc/bkp"
echo "# the operator's policy" >"$live/etc/bkp/policy.yaml"
chmod 600 "$live/etc/bkp/policy.yaml"
ok env DESTDIR="$live" cmake --install "$B"
output_has "Keeping: $live/etc/bkp/policy.yaml"
[ "$(cat "$live/etc/bkp/policy.yaml")" = "# the operator's policy" ] || flunk "cmake --install replaced a live policy"
[ -f "$live/etc/bkp/runbooks/clinic.yaml" ] || flunk "cmake --install did not add the missing runbooks"

ok cmake -S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr/local
output_has "the /etc/bkp skeleton is not installed"
ok nice cmake --build "$B" -j2
ok env DESTDIR="$WORK/local" cmake --install "$B"
[ -x "$WORK/local/usr/local/bin/bkp" ] || flunk "no /usr/local/bin/bkp"
[ ! -e "$WORK/local/etc" ] && [ ! -e "$WORK/local/usr/local/etc" ] ||
    flunk "a /usr/local install wrote configuration: $(find "$WORK/local" -path '*etc*' | head -3)"
grep -Eq "^ExecStart=/usr/local/bin/bkp run( |$)" "$WORK/local/usr/local/lib/systemd/system/bkp.service" ||
    flunk "the /usr/local unit does not run /usr/local/bin/bkp"
cd "$B"
check_exit 1 cpack -G DEB && output_has "a Debian package installs under /usr"
cd - >/dev/null
finish
