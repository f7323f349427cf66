#!/usr/bin/env bash
# 88-recovery-kit — a disk restores on a bare machine with nothing but the
# disk: a rotation puts bkp-recovery/ beside the copy (the program, its
# libraries with its own loader and C library, no ICU or libcurl, a
# launcher, README, FORMAT.md, the procedures in Japanese and English,
# SHA256SUMS); the audit record names the hash of SHA256SUMS; a rotation
# that changes nothing leaves the kit alone; and the kit's launcher, run in
# a root that holds no C library at all (a static busybox) and the disk (a
# chroot in a mount namespace), restores a generation exactly. Nothing
# planted beside the kit runs: a library under a name glibc provides, a
# message catalogue, a link stop the launcher before anything of the kit
# starts, and LD_PRELOAD never reaches the program. A kit altered on the
# disk fails `sha256sum -c` and `verify --media` (which names the file), and
# the next rotation puts it right, also when the kit was replaced by a link
# to somewhere else. A folder of archives carries the kit as well.
. "$(dirname "$0")/lib.sh"
need_root
need_tool unshare chroot sha256sum busybox file cc

DATA=$WORK/data
kit_fixture 300000 20
mkdir -p "$WORK/usb" "$WORK/arch"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
media:
  - name: usb
    type: removable
    path: $WORK/usb
    offline: true
  - name: arch
    type: archive
    path: $WORK/arch
datasets:
  - name: emr
    paths: [$DATA/emr]
    copy_to: [usb, arch]
    runbook: emr
YAML
export BKP_POLICY=$POL
ok "$BKP" init
ok "$BKP" media label "$WORK/usb" --name usb
ok "$BKP" backup emr
ok "$BKP" rotate usb -v
output_has "recovery kit written"

# 1. What the kit holds, and that it checks.
KIT=$WORK/usb/bkp-recovery
for f in bkp lib/bkp README.txt FORMAT.md procedure-emr.ja.md procedure-emr.en.md SHA256SUMS; do
    [ -f "$KIT/$f" ] || flunk "the kit has no $f"
done
[ -x "$KIT/bkp" ] && [ -x "$KIT/lib/bkp" ] || flunk "the launcher and the program should be executable"
cmp -s "$KIT/lib/bkp" "$BKP" || flunk "the kit's program is not the running one"
ls "$KIT/lib" | grep -q '^libsodium' || flunk "the kit lacks libsodium: $(ls "$KIT/lib")"
for l in 'libc\.so\.6' 'ld-linux'; do
    ls "$KIT/lib" | grep -Eq "^$l" || flunk "the kit does not bring its own $l: $(ls "$KIT/lib")"
done
ls "$KIT/lib" | grep -Eq '^(libicu|libxml2|libcurl|libgnutls|libssl)' &&
    flunk "the kit carries what a restore does not need: $(ls "$KIT/lib" | grep -E '^(libicu|libxml2|libcurl|libgnutls|libssl)')"
grep -q "復旧キット" "$KIT/README.txt" && grep -q "recovery kit" "$KIT/README.txt" ||
    flunk "the README should be in Japanese and English"
grep -q "電子カルテ 復旧手順" "$KIT/procedure-emr.ja.md" || flunk "the procedure is not in the kit"
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) || flunk "the kit does not check against its SHA256SUMS"
sums=$(sha256sum "$KIT/SHA256SUMS" | cut -d' ' -f1)
ok "$BKP" audit show --json
grep -q "\"kit_sha256\": \"$sums\"" <<<"$OUT" || flunk "the rotate record should name the kit's hash $sums"
# ... and the printed procedure, for the person to compare on the bad day.
ok "$BKP" runbook print emr --lang ja
output_has "復旧キットの指紋"
output_has "${sums:0:16} ${sums:16:16} ${sums:32:16} ${sums:48:16}" "the printed procedure should carry the kit's fingerprint"

# A rotation by the kit's own program (started by the kit's loader) writes
# no kit: its program file would be the loader. It says so; the disk's kit
# stays as it was.
cp -a "$KIT" "$WORK/kit-copy"
echo "visit 0" >>"$DATA/emr/notes/n1.txt"
ok "$BKP" backup emr
"$WORK/kit-copy/bkp" rotate usb --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || true
grep -q "recovery kit: not written by a bkp run from a recovery kit" "$WORK/.err" ||
    flunk "a rotation run from a kit should refuse to write a kit: $(cat "$WORK/.err")"
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) || flunk "a rotation run from a kit damaged the disk's kit"
cmp -s "$KIT/lib/bkp" "$BKP" || flunk "the disk's kit lost its program"
chmod -R u+w "$WORK/kit-copy"
rm -rf "$WORK/kit-copy"

# 2. A rotation that changes nothing of the kit does not rewrite it.
ino=$(stat -c %i "$KIT")
echo "visit" >>"$DATA/emr/notes/n1.txt"
ok "$BKP" backup emr
ok "$BKP" rotate usb -v
grep -q "recovery kit written" <<<"$OUT$ERR" && flunk "an unchanged kit was written again"
[ "$(stat -c %i "$KIT")" = "$ino" ] || flunk "an unchanged kit was replaced"

# 3. A bare root: no C library, a static shell and the disk. The kit's
# launcher restores with the kit's own loader and libraries.
ROOT=$WORK/root
bare_root "$ROOT"
cp "$PASSFILE" "$ROOT/pass"
chmod 600 "$ROOT/pass"
unshare --mount --fork sh -c "
    mount --bind '$WORK/usb' '$ROOT/medium' &&
    mount -t proc proc '$ROOT/proc' &&
    exec env -i "$(command -v chroot)" '$ROOT' /medium/bkp-recovery/bkp restore emr:latest /out --from /medium --passphrase-file /pass
" >"$WORK/bare.out" 2>&1 || fail "the kit did not restore in a bare root: $(cat "$WORK/bare.out")"
same_mtree "$DATA/emr" "$ROOT/out$DATA/emr" "restored by the kit in a bare root"
# The kit carries the message catalogue: Japanese there too.
[ -f "$KIT/lib/locale/ja/LC_MESSAGES/bkp.mo" ] || flunk "the kit has no message catalogue"
printf 'not it\n' >"$ROOT/wrong" && chmod 600 "$ROOT/wrong"
unshare --mount --fork sh -c "
    mount --bind '$WORK/usb' '$ROOT/medium' &&
    mount -t proc proc '$ROOT/proc' &&
    exec env -i LANG=C.UTF-8 LANGUAGE=ja \"\$(command -v chroot)\" '$ROOT' /medium/bkp-recovery/bkp generations --repo /medium/repo --passphrase-file /wrong
" >"$WORK/bare-ja.out" 2>&1 && flunk "a wrong passphrase opened the repository in the bare root"
grep -q "パスフレーズが違います" "$WORK/bare-ja.out" || flunk "the kit did not speak Japanese: $(cat "$WORK/bare-ja.out")"
# Nothing planted beside the kit runs. A library that would leave a mark
# when loaded, under a name glibc provides, in lib/; a catalogue that would
# win over the kit's; a link: each stops the launcher before anything of the
# kit starts, and says what it found. The same library preloaded never
# reaches the program.
cat >"$WORK/evil.c" <<'C'
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void)
{
    int fd = open("/tmp/PLANTED-CODE-RAN", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
}
C
cc -shared -fPIC -o "$WORK/evil.so" "$WORK/evil.c" || fail "cannot build the planted library"
kit_run() { # kit_run OUT ARGS...: the kit's launcher in the bare root, with env -i and $KIT_ENV
    local out=$1
    shift
    unshare --mount --fork sh -c "
        mount --bind '$WORK/usb' '$ROOT/medium' &&
        mount -t proc proc '$ROOT/proc' &&
        exec env -i \${KIT_ENV:-} \"\$(command -v chroot)\" '$ROOT' /medium/bkp-recovery/bkp \"\$@\"
    " sh "$@" >"$out" 2>&1
}
plant() { # plant REL FILE: put FILE at the kit's REL, as someone writing to the disk would
    chmod -R u+w "$KIT"
    chattr -R -i "$KIT" 2>/dev/null || true
    mkdir -p "$(dirname "$KIT/$1")"
    cp "$2" "$KIT/$1"
}
# Beside the kit (a name it does not list), or in place of one of its own
# libraries (libpthread.so.0, which it lists).
cp -a "$KIT/lib/libpthread.so.0" "$WORK/libpthread.genuine"
for planted in lib/libnss_files.so.2 lib/libpthread.so.0 lib/locale/ja_JP.UTF-8/LC_MESSAGES/bkp.mo; do
    plant "$planted" "$WORK/evil.so"
    rm -f "$ROOT/tmp/PLANTED-CODE-RAN"
    KIT_ENV="LANG=ja_JP.UTF-8 LANGUAGE=ja" kit_run "$WORK/planted.out" generations --repo /medium/repo --passphrase-file /pass &&
        flunk "the kit started beside a planted $planted"
    grep -q "$planted" "$WORK/planted.out" || flunk "the launcher did not name the planted $planted: $(cat "$WORK/planted.out")"
    [ ! -e "$ROOT/tmp/PLANTED-CODE-RAN" ] || flunk "code planted as $planted ran"
    rm -rf "$KIT/lib/libnss_files.so.2" "$KIT/lib/locale/ja_JP.UTF-8"
    cp -a "$WORK/libpthread.genuine" "$KIT/lib/libpthread.so.0"
done
ln -s /etc/passwd "$KIT/lib/libevil.so.1"
kit_run "$WORK/planted.out" generations --repo /medium/repo --passphrase-file /pass &&
    flunk "the kit started beside a planted link"
rm -f "$KIT/lib/libevil.so.1"
cp "$WORK/evil.so" "$ROOT/tmp/evil.so"
rm -f "$ROOT/tmp/PLANTED-CODE-RAN"
KIT_ENV="LD_PRELOAD=/tmp/evil.so LD_LIBRARY_PATH=/tmp GCONV_PATH=/tmp LOCPATH=/tmp NLSPATH=/tmp/%N" \
    kit_run "$WORK/preload.out" generations --repo /medium/repo --passphrase-file /pass ||
    flunk "the kit did not start with a hostile environment: $(cat "$WORK/preload.out")"
[ ! -e "$ROOT/tmp/PLANTED-CODE-RAN" ] || flunk "LD_PRELOAD reached the kit's program"
rm -f "$ROOT/tmp/evil.so"
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) || flunk "the kit no longer checks after the plantings were removed"

# Nothing but the restored tree and the record of the restore (a journal
# beside its target: no primary here, and nothing is written on the disk)
# was written into the bare root.
ls "$ROOT"/bkp-journal-*.jsonl >/dev/null 2>&1 || flunk "the kit's restore was not recorded beside its target"
[ -z "$(find "$ROOT" -newer "$ROOT/pass" -type f ! -path "$ROOT/out/*" ! -name wrong ! -name 'bkp-journal-*.jsonl' | head -n 1)" ] ||
    flunk "the kit wrote outside its target: $(find "$ROOT" -newer "$ROOT/pass" -type f ! -path "$ROOT/out/*" ! -name wrong ! -name 'bkp-journal-*.jsonl')"

# 4. A kit altered on the disk does not check.
chmod u+w "$KIT/lib/bkp"
printf 'X' | dd of="$KIT/lib/bkp" bs=1 seek=4096 conv=notrunc status=none
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1 && flunk "an altered kit still checks"
# verify --media finds it, names the file and what to do.
expect_exit 1 "$BKP" verify --media usb
output_has "recovery kit's file lib/bkp is not the one its SHA256SUMS lists" \
    "verify --media should name the kit's altered program"
output_has "bkp rotate usb" "verify --media should say that a rotation writes the kit again"
expect_exit 1 "$BKP" verify --media usb --json
output_has '"ok": false' "verify --media --json should fail on an altered kit"
# And the next rotation puts it right.
ok "$BKP" rotate usb -v
output_has "recovery kit written"
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) || flunk "the rotation did not put the kit right"
ok "$BKP" verify --media usb

# 5. A kit replaced by a link to a folder elsewhere (and a planted work
# folder): the rotation writes a real kit and touches nothing behind them.
mkdir -p "$WORK/elsewhere"
echo "keep me" >"$WORK/elsewhere/canary"
chmod -R u+w "$KIT"
rm -rf "$KIT"
ln -s "$WORK/elsewhere" "$KIT"
ln -s "$WORK/elsewhere" "$WORK/usb/.bkp-recovery.new"
ok "$BKP" rotate usb -v
output_has "recovery kit written"
[ -d "$KIT" ] && [ ! -L "$KIT" ] || flunk "the kit is not a real folder again"
[ "$(cat "$WORK/elsewhere/canary" 2>/dev/null)" = "keep me" ] || flunk "the rotation wrote through a planted link"
(cd "$KIT" && sha256sum --quiet -c SHA256SUMS) || flunk "the kit written over a link does not check"


# 6. A folder of archives carries the kit too, beside the archives.
ok "$BKP" media label "$WORK/arch" --name arch
ok "$BKP" rotate arch -v
output_has "recovery kit written"
(cd "$WORK/arch/bkp-recovery" && sha256sum --quiet -c SHA256SUMS) || flunk "the archive folder's kit does not check"
ok "$BKP" restore emr:latest "$WORK/from-arch" --from "$WORK/arch"
same_mtree "$DATA/emr" "$WORK/from-arch$DATA/emr" "restored from the archive folder beside its kit"

finish
