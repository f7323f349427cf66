#!/usr/bin/env bash
# 88-recovery-kit — a disk restores on a bare machine with nothing but the
# disk: a rotation puts bkp-recovery/ beside the copy (the program, its
# libraries with its own loader and C library, no ICU or libcurl, a
# launcher, README, FORMAT.md, SHA256SUMS) and, beside it, the procedures
# in Japanese and English listing the generations the disk holds, with the
# commands of a machine that has never seen bkp; the audit record names the
# hash of SHA256SUMS; a rotation that changes nothing of the kit leaves it
# alone but brings the procedures up to date; and the kit's launcher, run in
# a root that holds no C library at all (a static busybox) and the disk (a
# chroot in a mount namespace), restores a generation exactly; so do the
# disk's own procedure's commands, as written, with the paper key typed into
# a file and the disk bind-mounted read-only where the procedure says. Nothing
# planted beside the kit runs: a library under a name glibc provides, a
# message catalogue, a link stop the launcher before anything of the kit
# starts, and LD_PRELOAD never reaches the program. A kit altered on the
# disk fails `sha256sum -c` and `verify --media` (which names the file), and
# the next rotation puts it right, also when the kit was replaced by a link
# to somewhere else. A folder of archives carries the kit as well.
. "$(dirname "$0")/lib.sh"
need_root
need_tool unshare chroot sha256sum busybox file cc jq

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
for f in bkp lib/bkp README.txt FORMAT.md SHA256SUMS; do
    [ -f "$KIT/$f" ] || flunk "the kit has no $f"
done
for f in procedure-emr.ja.md procedure-emr.en.md; do
    [ -f "$WORK/usb/$f" ] || flunk "the disk has no $f beside its kit"
    [ "$(stat -c %a "$WORK/usb/$f")" = 444 ] || flunk "$f should be 0444 whatever the umask"
done
[ -e "$KIT/procedure-emr.ja.md" ] && flunk "the procedures should be beside the kit, not in it"
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
P=$WORK/usb/procedure-emr.ja.md
grep -q "電子カルテ 復旧手順" "$P" || flunk "the procedure is not on the disk"
grep -q "この媒体にある世代" "$P" || flunk "the disk's procedure should list what it holds: $(cat "$P")"
grep -q "| emr:1 |" "$P" || flunk "the disk's procedure should list emr:1"
grep -Fq "mount -o ro DEVICE $WORK/usb" "$P" || flunk "the procedure should mount the disk read-only first"
grep -Fq "$WORK/usb/bkp-recovery/bkp restore emr:1 " "$P" ||
    flunk "the procedure should restore with the disk's kit: $(grep restore "$P")"
grep -Fq -- "--from $WORK/usb --verify" "$P" || flunk "the procedure's restore should read the disk, asking for the passphrase"
grep -Fq -- "\`--key-from KEY\`" "$P" || flunk "the procedure should say how to open with the key sheet instead"
grep -q "bkp restore --runbook" "$P" && flunk "the disk's procedure names a runbook a fresh machine does not have"
grep -Fq "List them: $WORK/usb/bkp-recovery/bkp generations --repo $WORK/usb/repo" "$WORK/usb/procedure-emr.en.md" ||
    flunk "the English procedure should list the disk's generations with the kit"
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
newest=$("$BKP" generations emr --json | jq -r '[.[] | .seq] | max')
grep -q "| emr:$newest |" "$P" && grep -q "| emr:1 |" "$P" ||
    flunk "the procedure should now list emr:$newest and emr:1: $(cat "$P")"
grep -Fq "bkp restore emr:$newest " "$P" || flunk "the procedure should restore the newest, emr:$newest"

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
# With no primary named it says so, and how one still standing is named,
# not that the primary is missing.
grep -q "no primary repository was named" "$WORK/bare.out" ||
    flunk "the kit should say no primary was named and where its record went: $(cat "$WORK/bare.out")"
# The bad day by the procedure on the disk: the disk mounted read-only where
# the procedure says, the paper key typed into a file, the procedure's own
# select and restore commands as written (with `--key-from` that file, as
# its step 3 says for the key sheet), run in
# the bare root; the kit's fingerprint on the paper procedure is what step 2
# has the person compare.
ok "$BKP" key export --paper -o "$WORK/paper.md"
cp "$WORK/paper.md" "$ROOT/sheet.md" && chmod 600 "$ROOT/sheet.md"
EN=$WORK/usb/procedure-emr.en.md
sel=$(grep -o "List them: [^|]*" "$EN" | sed 's/^List them: //; s/ *$//')
res=$(grep -o "$WORK/usb/bkp-recovery/bkp restore [^|]*" "$EN" | sed 's/ *$//')
[ -n "$sel" ] && [ -n "$res" ] || flunk "the procedure's commands were not found: $(cat "$EN")"
ok "$BKP" runbook print emr
sums=$(sha256sum "$KIT/SHA256SUMS" | cut -d' ' -f1)
output_has "${sums:0:16} ${sums:16:16}" "the paper procedure's kit fingerprint is the disk's"
# The paper carries the disk's commands too: a new machine has no policy
# that knows the disk's name.
output_has "If this server and its policy are gone" "the paper should say what to do without the server"
grep -Fq -- "$res" <<<"$OUT" || flunk "the paper should carry the disk's restore command ($res): $OUT"
grep -Fq -- "$sel" <<<"$OUT" || flunk "the paper should carry the disk's listing command ($sel): $OUT"
mkdir -p "$ROOT$WORK/usb"
img_before=$(cd "$WORK/usb" && find . -type f -exec sha256sum {} + | sort | sha256sum)
for cmd in "$sel" "$res"; do
    cmd="$cmd --key-from /sheet.md"
    unshare --mount --fork sh -c "
        mount --bind '$WORK/usb' '$ROOT$WORK/usb' && mount -o remount,bind,ro '$ROOT$WORK/usb' &&
        mount -t proc proc '$ROOT/proc' &&
        exec env -i \"\$(command -v chroot)\" '$ROOT' $cmd
    " >"$WORK/proc.out" 2>&1 || flunk "the procedure's command failed in a bare root: $cmd: $(cat "$WORK/proc.out")"
done
# (--folder restores into the folder the person made: its contents compared)
diff -r "$DATA/emr" "$ROOT/srv/restore/emr" >"$WORK/proc.diff" 2>&1 ||
    flunk "restored by the disk's procedure, as written, in a bare root, differs: $(head -5 "$WORK/proc.diff")"
rm -rf "$ROOT/sheet.md" "$ROOT/srv" "$ROOT$WORK"
[ "$(cd "$WORK/usb" && find . -type f -exec sha256sum {} + | sort | sha256sum)" = "$img_before" ] ||
    flunk "following the procedure changed the disk"
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
A=$WORK/arch/procedure-emr.en.md
[ -f "$A" ] && [ ! -e "$WORK/arch/bkp-recovery/procedure-emr.en.md" ] ||
    flunk "a folder of archives should carry its procedures beside its kit"
grep -q "| emr:$newest |" "$A" || flunk "the folder's procedure should list emr:$newest: $(cat "$A")"
grep -Fq "$WORK/arch/bkp-recovery/bkp restore emr:$newest /srv/restore/emr" "$A" && grep -Fq -- "--from $WORK/arch --verify" "$A" ||
    flunk "the folder's procedure should restore from the folder with its kit: $(grep restore "$A")"
grep -q "generations --repo" "$A" && flunk "a folder of archives has no repository copy to list"
# A procedure of a runbook no longer copied there goes; other files stay.
touch "$WORK/arch/procedure-old.ja.md" "$WORK/arch/notes.md"
echo "visit arch" >>"$DATA/emr/notes/n1.txt"
ok "$BKP" backup emr
ok "$BKP" rotate arch
[ -e "$WORK/arch/procedure-old.ja.md" ] && flunk "a stale procedure stayed on the medium"
[ -e "$WORK/arch/notes.md" ] || flunk "a file that is not a procedure was removed"
grep -q "| emr:$((newest + 1)) |" "$A" || flunk "the folder's procedure was not brought up to date"
ok "$BKP" restore emr:latest "$WORK/from-arch" --from "$WORK/arch"
same_mtree "$DATA/emr" "$WORK/from-arch$DATA/emr" "restored from the archive folder beside its kit"

finish
