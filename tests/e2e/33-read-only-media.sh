#!/usr/bin/env bash
# 33-read-only-media — the bad day's careful way: the off-line disk mounted
# read-only (a loop-mounted image, `mount -o ro`), the archive folder on
# read-only storage, a machine with no primary repository. Every reading
# command — generations, ls, find, dump, diff, verify (also --read-data),
# restore (also --runbook), drill --medium, mount — with the passphrase, the
# paper sheet and three share sheets, from this program and from the disk's
# recovery kit, exits 0 and restores exactly; what was done is recorded in a
# journal beside the target (signed, checked by `bkp audit verify
# --journal`), never on the disk, whose image is bit for bit the same
# afterwards. The same disk mounted read-write is not written either (no
# lock, no audit record), and a prune of a copy waits while it is read.
. "$(dirname "$0")/lib.sh"
need_root
need_tool mount umount losetup mkfs.ext4 sha256sum

D=$WORK/data
IMG=$WORK/usb.img
MNT=$WORK/usb
TAPE=$WORK/tape
TAPE_RO=$WORK/tape-ro
REPO=$WORK/repo
REPO_RO=$WORK/repo-ro
POL=$WORK/policy.yaml
mkdir -p "$D/sub" "$MNT" "$TAPE" "$TAPE_RO" "$WORK/runbooks"
export TMPDIR=$WORK/tmp # staging of archives
mkdir -p "$TMPDIR"
MOUNTED=
cleanup_mounts() {
    for m in "$WORK/fuse" "$MNT" "$TAPE_RO" "$REPO_RO"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m" 2>/dev/null
    done
    return 0
}
at_exit cleanup_mounts

truncate -s 400M "$IMG"
mkfs.ext4 -q -F "$IMG"
if ! mount -o loop "$IMG" "$MNT" 2>"$WORK/mount.err"; then
    echo "SKIP [$TEST_NAME]: this machine cannot loop-mount a disk image: $(cat "$WORK/mount.err")" >&2
    exit 77
fi

cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: true
  - name: tape
    type: archive
    path: $TAPE
    location: offsite
    offline: true
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 3 }
    copy_to: [usb-a, tape]
    runbook: rb
YAML
cat >"$WORK/runbooks/rb.yaml" <<YAML
title: "ds"
datasets: [ds]
steps:
  - { who: "admin", select: { dataset: ds } }
  - { who: "admin", verify: {} }
  - { who: "admin", restore: { dataset: ds, to: $WORK/by-runbook } }
  - { who: "admin", check: "test -f \"\$BKP_TARGET/sub/b.txt\"" }
YAML
chmod 600 "$POL" "$WORK/runbooks/rb.yaml"
unset BKP_PASSPHRASE_FILE

head -c 3000000 /dev/urandom >"$D/a"
echo "患者 記録 1" >"$D/sub/b.txt"
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --type removable --policy "$POL"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
cp -a "$D" "$WORK/snap1"
echo "患者 記録 2" >"$D/sub/b.txt"
head -c 200000 /dev/urandom >"$D/c"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
ok "$BKP" rotate tape --policy "$POL"
[ -x "$MNT/bkp-recovery/bkp" ] || fail "the rotation left no recovery kit on the disk"
# The disk's device, mounted, never stands for a tape: archives written
# there would destroy its file system. Nor does /dev/null, which keeps
# nothing.
DEV=$(findmnt -n -o SOURCE "$MNT")
expect_exit 1 "$BKP" media label "$DEV" --name lto --type archive --location onsite --policy "$POL"
output_has "is in use"
expect_exit 1 "$BKP" media label /dev/null --name lto --type archive --location onsite --policy "$POL"
output_has "is not a tape drive"
mkdir -m 700 "$WORK/safe"
ok "$BKP" key export --paper --policy "$POL" -o "$WORK/safe/paper.md"
ok "$BKP" key split --policy "$POL" --shares 5 --threshold 3 -o "$WORK/shares"
S=$WORK/shares/share
FP=$("$BKP" key fingerprint --policy "$POL" | sed -n '3,4p' | tr -d ' \n')
[ ${#FP} = 64 ] || fail "no fingerprint printed: $FP"
OTHER_FP=$(printf '%s' "$FP" | tr '0-9a-f' '1-9a-f0') # another key's
mkdir -p "$WORK/stage"

# ---- A read-write mount first: reading writes nothing on the disk either ----
tree_sum() { (cd "$MNT" && find . -path ./lost+found -prune -o -print0 | sort -z | xargs -0 stat -c '%n %s %Y' && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(tree_sum)
export BKP_PASSPHRASE_FILE=$PASSFILE
mkdir -p "$WORK/rw" "$WORK/home"
(cd "$WORK/rw" && ok "$BKP" verify --repo "$MNT/repo" --read-data)
(cd "$WORK/rw" && ok "$BKP" verify --repo "$MNT/repo" --sample 50)
ok "$BKP" restore ds:latest "$WORK/rw/out" --from "$MNT"
ok "$BKP" ls ds:latest --repo "$MNT/repo" --key-from "$WORK/safe/paper.md"
ok "$BKP" dump ds:1 "$D/sub/b.txt" --repo "$MNT/repo" --key-from "$WORK/safe/paper.md"
# The policy of a new server, whose repository is another one: the read is
# journalled as without one, and that repository is no error.
mkdir -p "$WORK/new"
sed "s|^repository: .*|repository: $WORK/new/repo|" "$POL" >"$WORK/new/policy.yaml"
ok env -u BKP_POLICY "$BKP" init --policy "$WORK/new/policy.yaml"
cd "$WORK/rw"
ok "$BKP" dump ds:1 "$D/sub/b.txt" --from "$MNT" --key-from "$WORK/safe/paper.md" --policy "$WORK/new/policy.yaml"
cd - >/dev/null
output_lacks "not a copy of" "a new server's repository is not an error when an old disk is read"
output_has "bkp-journal-"
# That journal checked on the new server without the old fingerprint: it
# is said to be another repository's, and how to check it.
journal=$(ls "$WORK/rw"/bkp-journal-*.jsonl | head -n 1)
check_exit 1 "$BKP" audit verify --journal "$journal" --policy "$WORK/new/policy.yaml" || true
output_has "a journal of another repository"
# No evidence report of a disk's copy: its logs are not the server's nights.
check_exit 2 "$BKP" audit report --repo "$MNT/repo" --key-from "$WORK/safe/paper.md" --policy "$WORK/new/policy.yaml" -o "$WORK/ev.md"
output_has "an evidence report is made on the server whose repository it is"
output_lacks "passphrase"
output_has "bkp audit show --repo $MNT/repo --public-key"
[ -e "$WORK/ev.md" ] && flunk "a report was written of a disk's copy"
( cd "$WORK" && ok "$BKP" verify --media usb-a --policy "$POL" )
# From a folder on the disk itself (the kit's folder, say): the journal goes
# to $HOME, never onto the disk.
(cd "$MNT/bkp-recovery" && HOME=$WORK/home ok "$BKP" verify --repo ../repo)
# A rotation's dry run reads the disk too, and writes nothing on it.
ok "$BKP" rotate usb-a --policy "$POL" --dry-run
output_has "held    ds:2" "the dry run should see what the disk holds"
ls "$WORK/home"/bkp-journal-*.jsonl >/dev/null 2>&1 || flunk "a verify run from the disk's folder kept no journal in \$HOME"
after=$(tree_sum)
[ "$before" = "$after" ] ||
    flunk "reading the disk mounted read-write changed it: $(diff <(echo "$before") <(echo "$after") | head -n 8)"

# A rotation prunes the copy only when no one reads it: the reader's flock,
# which writes nothing, keeps the prune out (said); the copy is complete.
exec 9<"$MNT/repo"
flock -s 9
ok "$BKP" rotate usb-a --policy "$POL"
output_has "is reading"
output_has "could not be pruned; the copy is complete"
exec 9<&-
# The copy is written by its rotation alone: a writer given it as --repo is
# refused before anything is asked.
expect_exit 2 "$BKP" backup ds --repo "$MNT/repo"
output_has "bkp writes to a disk's copy only when it rotates to it"

# A repository on a file system gone read-only: the writer says so, as a
# fault, and changes nothing.
mkdir -p "$REPO_RO"
mount --bind "$REPO" "$REPO_RO"
mount -o remount,bind,ro "$REPO_RO"
expect_exit 1 "$BKP" backup ds --repo "$REPO_RO"
output_has "read-only file system"
umount "$REPO_RO"

# ---- The bad day: the server is gone; the disk is write-protected ----
umount "$MNT"
SUM=$(sha256sum <"$IMG")
mount -o loop,ro "$IMG" "$MNT"
mount --bind "$TAPE" "$TAPE_RO"
mount -o remount,bind,ro "$TAPE_RO"
touch "$TAPE_RO/x" 2>/dev/null && fail "the archive folder is not read-only"
rm -rf "$REPO"
[ ! -e "$WORK/policy.yaml.gone" ] && mv "$POL" "$WORK/policy.yaml.gone"
unset BKP_PASSPHRASE_FILE BKP_POLICY BKP_REPO

# same_as SNAP DIR WHAT: DIR holds the data set as SNAP.
same_as() { diff -r "$1" "$2$D" >"$WORK/diff.out" 2>&1 || flunk "$3 differs: $(head -n 5 "$WORK/diff.out")"; }

# reads KIND ARGS...: every reading command with one kind of key, each exit 0.
reads() {
    local kind=$1
    shift
    local out=$WORK/out-$kind
    mkdir -p "$out"
    ok "$BKP" generations --repo "$MNT/repo" "$@"
    output_has "ds:2"
    ok "$BKP" generations --from "$MNT" "$@"
    output_has "ds:2"
    # A typo's hint names the copy as it was named, sheets included.
    expect_exit 2 "$BKP" ls ds:99 --from "$MNT" "$@"
    output_has "bkp generations --from $MNT"
    [[ "$*" != *--key-from* ]] || output_has "--key-from"
    ok "$BKP" ls ds:latest --from "$TAPE_RO" "$@"
    output_has "sub/b.txt"
    expect_exit 2 "$BKP" generations --from "$TAPE_RO" "$@"
    output_has "DATASET@SEQ.tar"
    # A listing holds to --key-fingerprint as a restore does, with --repo
    # too; an archive refused leaves no staging folder behind.
    expect_exit 4 "$BKP" generations --repo "$MNT/repo" --key-fingerprint "$OTHER_FP" "$@"
    # The sheets opened it: the fingerprint typed is the one to check, not the disk.
    if [[ "$*" == *--key-from* ]]; then output_has "opened with the key sheets you typed"
    else output_has "is under the key"; fi
    TMPDIR=$WORK/stage expect_exit 4 "$BKP" ls ds:latest --from "$TAPE_RO" \
        --key-fingerprint "$OTHER_FP" "$@"
    [ -z "$(ls -A "$WORK/stage")" ] || flunk "a refused archive left $(ls "$WORK/stage")"
    ok "$BKP" ls ds:latest --repo "$MNT/repo" "$@"
    output_has "sub/b.txt"
    ok "$BKP" find 'b.txt' --repo "$MNT/repo" "$@"
    output_has "ds:1"
    ok "$BKP" dump ds:1 "$D/sub/b.txt" --repo "$MNT/repo" "$@"
    output_has "患者 記録 1"
    ok "$BKP" diff ds:1 ds:2 --repo "$MNT/repo" "$@"
    output_has "c"
    # The same three from the disk named as restore names it, the copy
    # under another key refused as there.
    ok "$BKP" find 'b.txt' --from "$MNT" "$@"
    output_has "ds:2"
    ok "$BKP" dump ds:1 "$D/sub/b.txt" --from "$MNT" "$@"
    output_has "患者 記録 1"
    ok "$BKP" diff ds:1 ds:2 --from "$MNT" "$@"
    output_has "c"
    expect_exit 4 "$BKP" find 'b.txt' --from "$MNT" --key-fingerprint "$OTHER_FP" "$@"
    (cd "$out" && ok "$BKP" verify --repo "$MNT/repo" "$@")
    (cd "$out" && ok "$BKP" verify --read-data --repo "$MNT/repo" "$@")
    ok "$BKP" restore ds:latest "$out/disk" --from "$MNT" "$@"
    same_as "$D" "$out/disk" "ds:latest from the read-only disk ($kind)"
    ok "$BKP" restore ds:1 "$out/disk1" --from "$MNT/repo" "$@"
    same_as "$WORK/snap1" "$out/disk1" "ds:1 from the read-only disk ($kind)"
    ok "$BKP" restore ds:latest "$out/tape" --from "$TAPE_RO" "$@"
    same_as "$D" "$out/tape" "ds:latest from the read-only archive folder ($kind)"
    # Recorded beside each target (and the verify in its folder), never on
    # the disk: one journal in $out.
    [ "$(ls "$out"/bkp-journal-*.jsonl 2>/dev/null | wc -l)" = 1 ] || flunk "not one journal in $out ($kind)"
    [ "$(grep -c '"op":"restore"' "$out"/bkp-journal-*.jsonl)" = 3 ] || flunk "the 3 restores were not recorded ($kind)"
    [ "$(grep -c '"op":"verify"' "$out"/bkp-journal-*.jsonl)" = 2 ] || flunk "the 2 verifies were not recorded ($kind)"
}

reads pass --passphrase-file "$PASSFILE"
reads paper --key-from "$WORK/safe/paper.md"
reads shares --key-from "$S-1-of-5.md" --key-from "$S-3-of-5.md" --key-from "$S-5-of-5.md"
grep -q '"op":"key-from"' "$WORK/out-paper"/bkp-journal-*.jsonl || flunk "the paper sheet's use was not recorded"
grep -q '"kind":"shares"' "$WORK/out-shares"/bkp-journal-*.jsonl || flunk "the shares' use was not recorded"

# At a terminal, a target that holds anything is refused before any key is
# read (a wrong passphrase would be exit 4): the person is not asked to be
# refused. (Off a terminal the restore refuses it itself, with its record.)
mkdir -p "$WORK/full" && echo "受付メモ" >"$WORK/full/memo.txt"
printf 'not the passphrase 1234\n' >"$WORK/wrong" && chmod 600 "$WORK/wrong"
if command -v script >/dev/null; then
    expect_exit 2 script -qec "$(printf '%q ' "$BKP" restore ds:latest "$WORK/full" --from "$MNT" \
        --passphrase-file "$WORK/wrong")" /dev/null </dev/null
    output_has "is not empty"
fi

# What writes, or judges the server's repository, says what the disk is and
# what to do instead; nothing is asked, nothing written.
expect_exit 2 "$BKP" status --policy "$WORK/policy.yaml.gone" --repo "$MNT/repo"
output_has "is the copy on a backup disk (at $MNT)"
output_has "--from $MNT"
expect_exit 2 "$BKP" prune --repo "$MNT/repo" --passphrase-file "$PASSFILE"
output_has "bkp writes to a disk's copy only when it rotates to it"

# The journal is signed with the repository's key: checked with the public
# key alone, and an edit to it is found.
J=$(ls "$WORK/out-paper"/bkp-journal-*.jsonl)
ok "$BKP" audit verify --journal "$J" --repo "$MNT/repo" --public-key "$FP"
output_has "record(s)"
sed 's/"op":"restore"/"op":"rest0re"/' "$J" >"$WORK/edited.jsonl"
expect_exit 1 "$BKP" audit verify --journal "$WORK/edited.jsonl" --repo "$MNT/repo" --public-key "$FP"
# The inspector with the journal and the key on paper, and no repository at
# all (the day's copy came from a bucket): checked against the key alone.
ok env -u BKP_REPO -u BKP_POLICY "$BKP" audit verify --journal "$J" --public-key "$FP"
output_has "chain and signatures by the key"
expect_exit 1 env -u BKP_REPO -u BKP_POLICY "$BKP" audit verify --journal "$WORK/edited.jsonl" \
    --public-key "$FP"
# A key copied from paper with one digit wrong fails every record: the
# slip of the pen is suggested first, as with --repo.
typo=$(python3 -c 'import sys; k = sys.argv[1].replace(" ", ""); print(k[:-1] + ("0" if k[-1] != "0" else "1"))' "$FP")
expect_exit 1 env -u BKP_REPO -u BKP_POLICY "$BKP" audit verify --journal "$J" --public-key "$typo"
output_has "digit by digit"

# The server's log as the last rotation left it on the disk: checked and
# listed with the public key alone; a journal listed with nothing at all.
ok "$BKP" audit verify --repo "$MNT/repo" --public-key "$FP"
output_has "chain and signatures intact"
ok "$BKP" audit show --repo "$MNT/repo" --public-key "$FP" --json
output_has '"kit_sha256"'
ok "$BKP" audit show --journal "$J"
output_has "key-from"
# Checked with nothing but the journal (no policy, no repository): the
# refusal asks for the key written down, not for a policy.
if [ ! -e /etc/bkp/policy.yaml ]; then
    expect_exit 2 env -u BKP_POLICY -u BKP_REPO "$BKP" audit verify --journal "$J"
    output_has '--public-key "FINGERPRINT"'
    output_lacks "policy.yaml"
fi

# The disk's own program, on the disk: the paper sheet.
ok "$MNT/bkp-recovery/bkp" restore ds:latest "$WORK/out-kit/disk" --from "$MNT" \
    --key-from "$WORK/safe/paper.md"
same_as "$D" "$WORK/out-kit/disk" "ds:latest restored by the disk's kit"
ls "$WORK/out-kit"/bkp-journal-*.jsonl >/dev/null 2>&1 || flunk "the kit's restore was not recorded"

# A policy on the recovery machine that names the disk (no primary, no
# passphrase): a restore by runbook and a drill from the disk, with sheets.
sed '/^passphrase_file:/d' "$WORK/policy.yaml.gone" >"$POL"
chmod 600 "$POL"
ok "$BKP" restore --runbook rb --policy "$POL" --attest admin --key-from "$WORK/safe/paper.md" </dev/null
diff -r "$D" "$WORK/by-runbook" >"$WORK/diff.out" 2>&1 ||
    flunk "the restore by runbook differs: $(head -n 5 "$WORK/diff.out")"
mkdir -p "$WORK/reports"
ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill rb --policy "$POL" --medium usb-a --attest admin --report "$WORK/reports" \
    --key-from "$S-2-of-5.md" --key-from "$S-4-of-5.md" --key-from "$S-5-of-5.md" </dev/null
ls "$WORK/reports"/drill-rb-*.json >/dev/null 2>&1 || flunk "the drill wrote no report"
grep -q "admin (attested; run as root)" "$WORK/reports"/drill-rb-*.en.md ||
    flunk "the drill report does not name who attested: $(grep '| By' "$WORK/reports"/drill-rb-*.en.md)"
grep -q "ds:2 (usb-a)" "$WORK/reports"/drill-rb-*.en.md || flunk "the drill report does not name what it restored"
# The archive folder there, a passphrase that does not open its archives:
# said as the key's fault (exit 4), not as no medium being there.
printf 'not the passphrase of this repository\n' >"$WORK/wrong.pass"
chmod 600 "$WORK/wrong.pass"
mkdir -p "$WORK/reports-w"
check_exit 4 "$BKP" drill rb --policy "$POL" --medium tape --report "$WORK/reports-w" \
    --passphrase-file "$WORK/wrong.pass" </dev/null || true
output_has "tape is connected, and the key given does not open it"
output_lacks "neither the repository nor any medium"
# With no repository here and no --report, the drill does not start: its
# report would land wherever the command was typed.
cd "$WORK/out-kit"
expect_exit 2 "$BKP" drill rb --policy "$POL" --medium usb-a --attest admin \
    --key-from "$WORK/safe/paper.md" </dev/null
cd - >/dev/null
output_has "--report DIR"
ls "$WORK/out-kit"/drill-* >/dev/null 2>&1 && flunk "a drill wrote its report into the current folder"
grep -q '"op":"drill"' "$WORK/reports"/bkp-journal-*.jsonl || flunk "the drill was not recorded beside its reports"
# The inspector checks that report against the signed journal beside it,
# with the disk's copy and the paper sheet.
check_exit 0 "$BKP" audit check "$(ls "$WORK/reports"/drill-rb-*.ja.md | head -n 1)" --repo "$MNT/repo" \
    --key-from "$WORK/safe/paper.md" </dev/null || true
output_has "unchanged — the report of the drill of runbook rb"

# Browsing the disk's generations as folders (FUSE), with the paper sheet.
if [ -c /dev/fuse ]; then
    mkdir -p "$WORK/fuse"
    "$BKP" mount --repo "$MNT/repo" --key-from "$WORK/safe/paper.md" "$WORK/fuse" \
        </dev/null >"$WORK/mount.out" 2>"$WORK/mount.err" &
    MPID=$!
    for _ in $(seq 200); do
        mountpoint -q "$WORK/fuse" && break
        kill -0 "$MPID" 2>/dev/null || break
        sleep 0.1
    done
    if mountpoint -q "$WORK/fuse"; then
        cmp "$WORK/fuse/ds/ds:1$D/sub/b.txt" "$WORK/snap1/sub/b.txt" || flunk "the mount read another file"
        umount "$WORK/fuse"
        wait "$MPID" || flunk "bkp mount of the read-only disk ended with $?: $(cat "$WORK/mount.err")"
    else
        flunk "bkp mount of the read-only disk did not mount: $(cat "$WORK/mount.err")"
    fi
fi

# Nothing was written: the image is the same, bit for bit.
umount "$TAPE_RO"
umount "$MNT"
[ "$(sha256sum <"$IMG")" = "$SUM" ] || flunk "the write-protected disk's image changed"
finish
