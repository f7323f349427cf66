#!/usr/bin/env bash
# 95-archive-repair — archive media, restore from an archive alone, damage and
# repair, the rolling re-read, and `bkp run` copying to an on-line disk.
#
#  1. An archive medium (a folder): `bkp rotate tape` writes DATASET@SEQ.tar,
#     read-only, whose `tar` listing is the recovery kit (bkp-recovery/, e2e
#     91) then a one-generation repository under DATASET@SEQ/ (config, key file and record byte for byte, tombstones
#     for the records before it); archives and sealed objects on media are
#     mode 0444 and, where the file system allows, immutable; a second
#     rotation writes nothing (write-once); a new generation adds a new file
#     and leaves the old one untouched.
#  2. With the primary repository gone, restores from the medium's name, from
#     the archive folder and from one archive file give the data exactly as it
#     was captured; no staging folder is left in $TMPDIR.
#  3. A byte flipped in an archive: a restore from it fails, `bkp verify
#     --media tape` catches the damaged archive on the medium.
#  4. A byte flipped in the primary's largest pack: `verify --read-data`
#     names it, `verify --repair-from usb-a` puts it back (the damaged file
#     kept as .damaged-ID); a pack deleted on usb-a's copy is put back from
#     the primary's path, sealed like the rest.
#  5. `verify --sample 50` reads about half of the packs, the next sample the
#     others first; `--sample 150` is a usage error.
#  6. `bkp run` copies to an on-line disk (nas), re-reads a sample, and its
#     exit status agrees with the 3-2-1 verdict.
. "$(dirname "$0")/lib.sh"
need_tool tar bsdtar diff dd od sha256sum python3
need_test_clock

# Staging folders (restores and checks of archives) go here; it must stay empty.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

EMR=$WORK/emr
REPO=$WORK/repo
POL=$WORK/policy.yaml
TAPE=$WORK/tape
USB=$WORK/usb
NAS=$WORK/nas
SNAP=$WORK/snap
mkdir -p "$EMR" "$TAPE" "$USB" "$NAS" "$SNAP" "$WORK/scratch"

# write_policy [with-nas]
write_policy() {
    local nas_medium='' nas_copy=''
    if [ -n "${1:-}" ]; then
        nas_medium="  - name: nas
    type: disk
    path: $NAS
    location: onsite
    offline: false"
        nas_copy=', nas'
    fi
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $USB
    location: offsite
    offline: true
    rotate_every: 7d
  - name: tape
    type: archive
    path: $TAPE
    location: offsite
    offline: true
    rotate_every: 30d
$nas_medium
datasets:
  - name: emr
    priority: 1
    paths: [$EMR]
    schedule: daily 02:00
    copy_to: [usb-a, tape$nas_copy]
YAML
}
write_policy

# Sealed objects on a medium carry the immutable attribute where the file
# system and privileges allow (FORMAT §9c); find out whether they do here.
IMMUTABLE=
if command -v chattr >/dev/null 2>&1 && command -v lsattr >/dev/null 2>&1; then
    : >"$WORK/probe"
    if chattr +i "$WORK/probe" 2>/dev/null; then
        IMMUTABLE=1
        chattr -i "$WORK/probe"
    fi
    rm -f "$WORK/probe"
fi
is_immutable() {
    lsattr -d "$1" 2>/dev/null | awk '{print $1}' | grep -q i
}
# sealed FILE WHAT [ro]: mode 0444 (with ro: at least no write bit, e.g. 0400
# for the key file) and, where possible, immutable.
sealed() {
    local mode
    mode=$(stat -c %a "$1" 2>/dev/null || echo missing)
    if [ "${3:-}" = ro ]; then
        [ -n "$(find "$1" -maxdepth 0 ! -perm /222 2>/dev/null)" ] ||
            flunk "$2 ($1) is a sealed object on a medium and should be read-only (FORMAT §9c: mode 0444), is $mode"
    else
        [ "$mode" = 444 ] || flunk "$2 ($1) should be mode 0444, is $mode"
    fi
    if [ -n "$IMMUTABLE" ] && ! is_immutable "$1"; then
        flunk "$2 ($1) should carry the immutable attribute (the file system takes it): $(lsattr -d "$1" 2>&1)"
    fi
    return 0
}
# unseal FILE: what an operator (or a fault) must do before changing a sealed file.
unseal() {
    if [ -n "$IMMUTABLE" ]; then chattr -i "$1" 2>/dev/null || true; fi
    chmod u+w "$1"
}

# The pack files of a repository (not the temporary or set-aside ones), one path a line.
packs() {
    find "$1/packs" -type f ! -name '.*' | sort
}

# staging_empty WHEN: nothing may be left in $TMPDIR.
staging_empty() {
    local left
    left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | head -n 5)
    [ -z "$left" ] || flunk "$1: staging left behind in \$TMPDIR: $left"
    rm -rf "${TMPDIR:?}"/* 2>/dev/null || true
}

# same_data SNAPSHOT RESTORE-TARGET WHAT: the restored data set equals the snapshot.
same_data() {
    local got=$2$EMR
    if [ ! -d "$got" ]; then
        flunk "$3: nothing restored at $got: $(find "$2" 2>/dev/null | head -n 5 | tr '\n' ' ')"
        return 0
    fi
    diff -r --no-dereference "$1" "$got" >"$WORK/.diff" 2>&1 ||
        flunk "$3: the restored data differs from the data as captured: $(head -n 5 "$WORK/.diff" | tr '\n' ' ')"
    same_mtree "$1" "$got" "$3 (metadata)"
    [ -L "$got/link-to-dump" ] && [ "$(readlink "$got/link-to-dump")" = emr.sql ] ||
        flunk "$3: the symlink link-to-dump -> emr.sql was not restored as a symlink"
    return 0
}

# The sequence numbers in $OUT (generations --json).
seqs() {
    printf '%s\n' "$OUT" | sed -n 's/^ *"seq": *\([0-9][0-9]*\).*/\1/p' | sort -n | paste -sd ' ' -
}

# The data: a dump that changes each time, a large file that never does (the
# largest pack), a subfolder, a symlink, a name with spaces, an empty file.
SEQ=0
backup_snap() {
    SEQ=$((SEQ + 1))
    {
        echo "-- emr dump $SEQ"
        seq 1 2000 | sed "s/^/INSERT INTO visits VALUES ($SEQ, /; s/\$/);/"
    } >"$EMR/emr.sql"
    head -c 2000 /dev/urandom >"$EMR/sub/deeper/scan-$SEQ.pdf"
    ok "$BKP" backup emr --policy "$POL"
    rm -rf "${SNAP:?}/$SEQ"
    cp -a "$EMR" "$SNAP/$SEQ"
}
mkdir -p "$EMR/sub/deeper" "$EMR/empty dir"
head -c 3000000 /dev/urandom >"$EMR/images.bin"
printf 'ward 3\n' >"$EMR/file with spaces.txt"
printf 'notes\n' >"$EMR/sub/notes.txt"
: >"$EMR/sub/empty"
ln -s emr.sql "$EMR/link-to-dump"

# ============ 1. Archive media round trip ============
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
[ -f "$TAPE/BKP-LABEL" ] || flunk "media label wrote no BKP-LABEL in the archive folder"
grep -q '"type": "archive"' "$TAPE/BKP-LABEL" || flunk "the tape's label does not say archive: $(cat "$TAPE/BKP-LABEL")"
[ ! -e "$TAPE/repo" ] || flunk "labelling an archive medium made a repository copy in it ($TAPE/repo)"

backup_snap # emr:1
printf 'ward 3, bed 12\n' >"$EMR/file with spaces.txt"
backup_snap # emr:2
# A dry run: emr:2 would be archived, nothing is written to the folder.
repo_digest "$TAPE" >"$WORK/tape-before"
ok "$BKP" rotate tape --policy "$POL" --dry-run
output_has "copy    emr:2" "the dry run should list the archive it would write"
repo_digest "$TAPE" | diff -q "$WORK/tape-before" - >/dev/null || flunk "rotate --dry-run wrote to the archive folder"
ok "$BKP" rotate tape --policy "$POL"
A2=$TAPE/emr@0000000002.tar
if [ ! -f "$A2" ]; then
    fail "bkp rotate tape wrote no $A2; the folder holds: $(ls -A "$TAPE" | tr '\n' ' ')"
fi
[ "$(find "$TAPE" -maxdepth 1 -name '*.tar' | wc -l)" = 1 ] ||
    flunk "the first rotation should write exactly one archive (emr:2, the newest): $(ls -A "$TAPE" | tr '\n' ' ')"
sealed "$A2" "the archive of emr:2"
check_exit 0 tar -tvf "$A2" || flunk "tar cannot list the archive"
# Regular files only, mode 0444, owner root (FORMAT §9c); the recovery kit's
# launcher and program 0555 (e2e 91 checks the kit).
odd=$(printf '%s\n' "$OUT" | grep -Ev ' bkp-recovery/(lib/)?bkp$' |
    awk '$1 != "-r--r--r--" || $2 !~ /^root\//' | head -n 3)
[ -z "$odd" ] || flunk "archive members should be regular files, mode 0444, owner root: $odd"
tar -tf "$A2" >"$WORK/members" 2>&1 || flunk "tar -tf $A2 failed: $(head -n 3 "$WORK/members")"
TOP=emr@0000000002
for m in BKP-LABEL config keys/key generations/emr/0000000002.gen generations/emr/0000000001.pruned \
    audit/primary.jsonl; do
    grep -qxF "$TOP/$m" "$WORK/members" || flunk "the archive does not hold $TOP/$m; it lists: $(tr '\n' ' ' <"$WORK/members")"
done
grep -Eqx "$TOP/packs/[0-9a-f]{2}/[0-9a-f]{64}" "$WORK/members" ||
    flunk "the archive holds no pack ($TOP/packs/XX/ID): $(tr '\n' ' ' <"$WORK/members")"
grep -Eqx "$TOP/index/[0-9a-f]{64}" "$WORK/members" ||
    flunk "the archive holds no index segment ($TOP/index/ID): $(tr '\n' ' ' <"$WORK/members")"
stray=$(grep -v -e "^$TOP/" -e "^bkp-recovery/" "$WORK/members" || true)
[ -z "$stray" ] || flunk "members outside $TOP/: $stray"
grep -q "generations/emr/0000000001.gen" "$WORK/members" &&
    flunk "the archive of emr:2 also holds the record of emr:1 (should be a tombstone only)"
for m in config keys/key generations/emr/0000000002.gen; do
    tar -xOf "$A2" "$TOP/$m" | cmp -s - "$REPO/$m" ||
        flunk "$TOP/$m in the archive is not the primary's $m byte for byte"
done
# A second rotation: nothing new, nothing rewritten; its plan says so.
ok "$BKP" rotate tape --policy "$POL" --dry-run
output_has "held    emr:2" "the dry run should see the archive that is there"
repo_digest "$TAPE" >"$WORK/tape-before"
check_exit 0 "$BKP" rotate tape --policy "$POL" || flunk "a second rotation (nothing due) failed"
repo_digest "$TAPE" >"$WORK/tape-after"
diff -q "$WORK/tape-before" "$WORK/tape-after" >/dev/null ||
    flunk "a second rotation with nothing new changed the archive folder (write-once): $(diff "$WORK/tape-before" "$WORK/tape-after" | head -n 5 | tr '\n' ' ')"
sha_a2=$(sha256sum <"$A2")
# A third generation: a new archive, the old one untouched.
rm -f "$EMR/sub/notes.txt"
printf 'new\n' >"$EMR/sub/added later.txt"
backup_snap # emr:3
ok "$BKP" rotate tape --policy "$POL"
A3=$TAPE/emr@0000000003.tar
[ -f "$A3" ] || flunk "the rotation after emr:3 wrote no $A3: $(ls -A "$TAPE" | tr '\n' ' ')"
sealed "$A3" "the archive of emr:3"
tar -tf "$A3" >"$WORK/members3" 2>&1 || flunk "tar -tf $A3 failed"
for m in generations/emr/0000000001.pruned generations/emr/0000000002.pruned generations/emr/0000000003.gen; do
    grep -qxF "emr@0000000003/$m" "$WORK/members3" ||
        flunk "the archive of emr:3 does not hold emr@0000000003/$m: $(tr '\n' ' ' <"$WORK/members3")"
done
[ "$(sha256sum <"$A2")" = "$sha_a2" ] || flunk "writing emr:3 changed the archive of emr:2"
[ "$(find "$TAPE" -maxdepth 1 -name '*.tar' | wc -l)" = 2 ] ||
    flunk "the tape should hold two archives after two rotations that wrote: $(ls -A "$TAPE" | tr '\n' ' ')"
ok "$BKP" media show tape --policy "$POL" --json
grep -q '"last_write": "' <<<"$OUT" || flunk "media show tape has no last_write after rotations: $OUT"
staging_empty "after the rotations to tape"

# ============ 2. Restore from the archive alone ============
mv "$REPO" "$WORK/repo.away"
check_exit 0 "$BKP" restore emr:latest "$WORK/T1" --from tape --policy "$POL" &&
    same_data "$SNAP/3" "$WORK/T1" "emr:latest from the medium tape (primary gone)"
check_exit 0 "$BKP" restore emr:2 "$WORK/T2" --from "$TAPE" --policy "$POL" &&
    same_data "$SNAP/2" "$WORK/T2" "emr:2 from the archive folder (primary gone)"
check_exit 0 "$BKP" restore emr:latest "$WORK/T3" --from "$A3" --policy "$POL" &&
    same_data "$SNAP/3" "$WORK/T3" "emr:latest from the archive file emr@0000000003.tar (primary gone)"
# Without the policy too: the archive file and the passphrase are enough.
check_exit 0 "$BKP" restore emr:2 "$WORK/T2b" --from "$A2" &&
    same_data "$SNAP/2" "$WORK/T2b" "emr:2 from its archive file, without a policy"
# An archive holds one generation: asking it for another must not restore anything.
RC=0
"$BKP" restore emr:2 "$WORK/T-wrong" --from "$A3" --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
[ "$RC" != 0 ] || flunk "restore emr:2 from the archive of emr:3 succeeded (it holds only emr:3)"
[ ! -e "$WORK/T-wrong$EMR" ] || flunk "restore emr:2 from the archive of emr:3 restored something"
# emr:2 was never pruned: it is in another archive. The archive's tombstone
# says "reason": "not copied"; the refusal must not say that prune deleted it.
tar -xOf "$A3" emr@0000000003/generations/emr/0000000002.pruned | grep -aq '"reason":"not copied"' ||
    flunk "the tombstone for emr:2 in the archive of emr:3 should give the reason \"not copied\" (FORMAT §9c)"
grep -q 'deleted by prune' "$WORK/.err" &&
    flunk "restore emr:2 --from emr@0000000003.tar says '$(grep 'deleted by prune' "$WORK/.err" | head -n 1)', but emr:2 was never pruned (the archive's tombstone says \"not copied\"; emr:2 is in emr@0000000002.tar)"
[ ! -e "$REPO" ] || flunk "restoring from the archive recreated the primary repository at $REPO"
staging_empty "after restores from the archive"
mv "$WORK/repo.away" "$REPO"

# ============ 3. A damaged archive is caught ============
cp "$A3" "$WORK/scratch/damaged.tar"
chmod u+w "$WORK/scratch/damaged.tar"
size=$(stat -c %s "$WORK/scratch/damaged.tar")
# In the generation's data, past the recovery kit the archive begins with.
data_at=$(python3 -c 'import sys, tarfile
print(next(m.offset for m in tarfile.open(sys.argv[1]) if not m.name.startswith("bkp-recovery/")))' \
    "$WORK/scratch/damaged.tar")
flip_byte "$WORK/scratch/damaged.tar" $((data_at + (size - data_at) / 2))
cmp -s "$WORK/scratch/damaged.tar" "$A3" && fail "the byte flip did not change the copy"
RC=0
"$BKP" restore emr:latest "$WORK/T4" --from "$WORK/scratch/damaged.tar" --policy "$POL" \
    >"$WORK/.out" 2>"$WORK/.err" || RC=$?
[ "$RC" != 0 ] || flunk "a restore from an archive with a flipped byte exited 0: $(head -c 300 "$WORK/.err")"
staging_empty "after a restore from a damaged archive"
check_exit 0 "$BKP" verify --media tape --policy "$POL" || flunk "verify --media tape fails on the intact archives"
cp "$WORK/scratch/damaged.tar" "$TAPE/emr@0000000009.tar"
check_exit 1 "$BKP" verify --media tape --policy "$POL" || true
output_has "emr@0000000009.tar" "verify --media tape should name the damaged archive"
ok "$BKP" media show tape --policy "$POL" --json
grep -q '"verify_ok": false' <<<"$OUT" ||
    flunk "the registry should record the failed check of tape: $(printf '%s\n' "$OUT" | grep -E 'verify' | tr -s ' \n' ' ')"
rm -f "$TAPE/emr@0000000009.tar"
check_exit 0 "$BKP" verify --media tape --policy "$POL" || flunk "verify --media tape fails after the damaged archive is removed"
[ "$(sha256sum <"$A2")" = "$sha_a2" ] || flunk "verifying the tape changed the archive of emr:2"
staging_empty "after verify --media tape"

# ============ 4. Repair ============
ok "$BKP" media label "$USB" --name usb-a --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
[ -f "$USB/repo/config" ] || fail "rotating usb-a made no repository copy at $USB/repo"
BIG=$(find "$REPO/packs" -type f ! -name '.*' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
[ -n "$BIG" ] || fail "the primary has no packs"
BIGID=$(basename "$BIG")
[ -f "$USB/repo/packs/${BIGID:0:2}/$BIGID" ] || flunk "usb-a's copy does not hold the largest pack $BIGID"
sealed "$USB/repo/packs/${BIGID:0:2}/$BIGID" "the largest pack on usb-a"
sealed "$USB/repo/config" "usb-a's config" ro
sealed "$USB/repo/keys/key" "usb-a's key file" ro
unseal "$BIG"
flip_byte "$BIG" $(($(stat -c %s "$BIG") / 2))
chmod a-w "$BIG"
cp -p "$BIG" "$WORK/damaged-pack"
check_exit 1 "$BKP" verify --read-data --policy "$POL" || true
output_has "$BIGID" "verify --read-data should name the damaged pack"
check_exit 0 "$BKP" verify --repair-from usb-a --policy "$POL" || flunk "verify --repair-from usb-a failed"
output_has "replaced" "the repair should say that packs were replaced"
check_exit 0 "$BKP" verify --read-data --policy "$POL" || flunk "verify --read-data fails after the repair"
# The damaged pack is kept for inspection under a dot name.
cmp -s "$WORK/damaged-pack" "$(dirname "$BIG")/.damaged-$BIGID" ||
    flunk "the repair should keep the damaged pack as packs/${BIGID:0:2}/.damaged-$BIGID: $(ls -A "$(dirname "$BIG")" | tr '\n' ' ')"
cmp -s "$BIG" "$USB/repo/packs/${BIGID:0:2}/$BIGID" || flunk "the repaired pack is not usb-a's pack byte for byte"
check_exit 0 "$BKP" restore emr:latest "$WORK/T5" --policy "$POL" &&
    same_data "$SNAP/3" "$WORK/T5" "emr:latest from the repaired primary"
# A pack lost on usb-a's copy, put back from the primary (named by its path).
UPACK=$USB/repo/packs/${BIGID:0:2}/$BIGID
unseal "$UPACK"
rm -f "$UPACK"
[ ! -e "$UPACK" ] || fail "could not delete $UPACK"
check_exit 1 "$BKP" verify --media usb-a --read-data --policy "$POL" || true
output_has "$BIGID" "verify --media usb-a should name the missing pack"
check_exit 0 "$BKP" verify --media usb-a --repair-from "$REPO" --policy "$POL" ||
    flunk "verify --media usb-a --repair-from $REPO failed"
[ -f "$UPACK" ] || flunk "the repair did not put $BIGID back on usb-a"
check_exit 0 "$BKP" verify --media usb-a --read-data --policy "$POL" || flunk "usb-a's copy fails verify --read-data after the repair"
cmp -s "$UPACK" "$BIG" || flunk "the repaired pack on usb-a is not the primary's pack byte for byte"
sealed "$UPACK" "the pack put back on usb-a"

# ============ 5. Rolling sample ============
rm -f "$REPO/cache/reread.json"
TOTAL=$(packs "$REPO" | wc -l)
[ "$TOTAL" -ge 2 ] || fail "the primary should have several packs by now, it has $TOTAL"
NOW=$(date +%s)
# reread_ids: the pack IDs in cache/reread.json, one a line.
reread_ids() {
    grep -o '"[0-9a-f]\{64\}":' "$REPO/cache/reread.json" 2>/dev/null | tr -d '":' | sort
}
check_exit 0 env BKP_NOW=$((NOW - 200)) "$BKP" verify --sample 50 --json --policy "$POL" || true
P1=$(json_num packs_read)
if [ -z "$P1" ] || [ "$P1" -lt 1 ] || [ "$P1" -ge "$TOTAL" ] || [ $((2 * P1)) -lt "$TOTAL" ] ||
    [ $((2 * P1)) -gt $((TOTAL + 1)) ]; then
    flunk "verify --sample 50 should read half of the $TOTAL packs (rounded up), read '$P1'"
fi
[ "$(reread_ids | wc -l)" = "$P1" ] ||
    flunk "after one sample of $P1 pack(s), cache/reread.json should list $P1: $(cat "$REPO/cache/reread.json" 2>/dev/null)"
reread_ids >"$WORK/reread-1"
check_exit 0 env BKP_NOW=$((NOW - 100)) "$BKP" verify --sample 50 --json --policy "$POL" || true
P2=$(json_num packs_read)
[ "$P2" = "$P1" ] || flunk "the second 50% sample should read $P1 pack(s) again, read '$P2'"
packs "$REPO" | xargs -n1 basename | sort >"$WORK/all-packs"
missing=$(comm -23 "$WORK/all-packs" <(reread_ids) | head -n 5)
[ -z "$missing" ] ||
    flunk "after two 50% samples every pack should have been read; never read: $missing (first sample read: $(tr '\n' ' ' <"$WORK/reread-1"))"
# The packs the first sample skipped are the ones the second read.
for id in $(comm -23 "$WORK/all-packs" "$WORK/reread-1"); do
    grep -q "\"$id\":$((NOW - 100))" "$REPO/cache/reread.json" ||
        flunk "pack $id, not read by the first sample, was not read by the second"
done
# The same on usb-a's copy, whose re-read state is kept in the registry (media show).
check_exit 0 "$BKP" verify --media usb-a --sample 50 --policy "$POL" || flunk "verify --media usb-a --sample 50 failed"
check_exit 0 "$BKP" verify --media usb-a --sample 50 --policy "$POL" || flunk "a second verify --media usb-a --sample 50 failed"
ok "$BKP" media show usb-a --policy "$POL" --json
for p in $(packs "$USB/repo"); do
    id=$(basename "$p")
    grep -q "\"$id\": [0-9]" <<<"$OUT" ||
        flunk "after two 50% samples of usb-a, its pack $id has no re-read time in the registry"
done
check_exit 2 "$BKP" verify --sample 150 --policy "$POL" || true
output_has "sample" "--sample 150 should be refused with a message about --sample"

# ============ 6. bkp run copies to an on-line disk ============
write_policy with-nas
ok "$BKP" media label "$NAS" --name nas --policy "$POL"
printf 'late entry\n' >>"$EMR/file with spaces.txt"
RC=0
"$BKP" run --policy "$POL" --force >"$WORK/run.out" 2>"$WORK/run.err" || RC=$?
RUNERR=$(cat "$WORK/run.err")
SEQ=$((SEQ + 1))
cp -a "$EMR" "$SNAP/$SEQ"
"$BKP" status --policy "$POL" --json >"$WORK/.out" 2>"$WORK/.err" || true # exit 1 when non-compliant
OUT=$(cat "$WORK/.out")
VERDICT=$(printf '%s\n' "$OUT" | sed -n 's/^  "verdict": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
REASONS=$(printf '%s\n' "$OUT" | sed -n '/^      "reasons": \[/,/^      \]/p' | sed -n 's/^ *"\(.*\)",\{0,1\}$/\1/p' | paste -sd ';' -)
case "$RC" in
0) [ "$VERDICT" != NON-COMPLIANT ] || flunk "bkp run exited 0 but status says NON-COMPLIANT: $REASONS" ;;
1)
    grep -q "NON-COMPLIANT" <<<"$RUNERR" ||
        flunk "bkp run exited 1 without a NON-COMPLIANT verdict; stderr: $(printf '%s\n' "$RUNERR" | head -n 5 | tr '\n' ' ')"
    ;;
*) flunk "bkp run exited $RC; stderr: $(printf '%s\n' "$RUNERR" | head -n 5 | tr '\n' ' ')" ;;
esac
# Primary, usb-a (off-line, off-site, rotated today), tape (archive), nas: nothing is missing.
[ "$VERDICT" = COMPLIANT ] ||
    flunk "with copies on nas, usb-a and tape, emr should be COMPLIANT; status says '$VERDICT': $REASONS; bkp run said: $(printf '%s\n' "$RUNERR" | head -n 3 | tr '\n' ' ')"
ok "$BKP" generations emr --policy "$POL" --json
NEWEST=$(seqs | awk '{print $NF}')
[ "$NEWEST" = "$SEQ" ] || flunk "bkp run --force should have sealed emr:$SEQ, the newest is emr:$NEWEST"
if [ -f "$NAS/repo/config" ]; then
    check_exit 0 "$BKP" generations --repo "$NAS/repo" --json || true
    printf ' %s \n' "$(seqs)" | grep -q " $NEWEST " ||
        flunk "nas's copy should hold emr:$NEWEST after bkp run, it holds: $(seqs)"
    check_exit 0 "$BKP" restore emr:latest "$WORK/T6" --from nas --policy "$POL" &&
        same_data "$SNAP/$SEQ" "$WORK/T6" "emr:latest from nas after bkp run"
else
    flunk "bkp run made no repository copy on nas ($NAS/repo)"
fi
ok "$BKP" media show nas --policy "$POL" --json
grep -q '"last_write": "20' <<<"$OUT" || flunk "media show nas has no last_write after bkp run: $OUT"
grep -F '"op":"verify"' "$REPO/audit/log.jsonl" | grep -F '"mode":"sample"' | grep -q ' run --policy' ||
    flunk "the audit log has no verify record with \"mode\":\"sample\" from bkp run"
staging_empty "at the end"
check_exit 0 "$BKP" audit verify --policy "$POL" || flunk "the audit log does not verify after the scenario"

finish
