#!/usr/bin/env bash
# 91-archive-kit — one recovery kit per archive medium, never one per
# archive. A folder of archives carries bkp-recovery/ beside them and none
# inside (a rotation that adds a generation writes that archive alone, a
# few bytes); a tape (here a loop block device) carries it in the first
# archive of each rotation: bkp-recovery/ as its first members (the
# launcher, the program and its loader mode 0555, the rest 0444), the same
# program as the folder's kit, its SHA256SUMS named in the audit record. A clerk
# with only the tape extracts bkp-recovery/ with tar (or bsdtar) and its
# launcher, run in a root with no C library, restores a generation from the
# tape exactly. bkp's own reader checks the kit's members and skips them:
# an archive whose bkp-recovery/ holds a symlink, a hard link, a folder, a
# name that climbs out (../), an over-long name or size, or a kit member
# after the data is refused, and nothing is written for it.
. "$(dirname "$0")/lib.sh"
need_root
need_tool unshare chroot sha256sum busybox tar bsdtar python3 losetup

DATA=$WORK/data
kit_fixture 200000 10
mkdir -p "$WORK/tape"
truncate -s 128M "$WORK/tape.img"
TAPE=$(losetup -f --show "$WORK/tape.img") || { echo "SKIP [$TEST_NAME]: no loop device" >&2; exit 77; }
at_exit 'losetup -d "$TAPE" 2>/dev/null'
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
media:
  - { name: arch, type: archive, path: $WORK/tape, offline: true }
  - { name: lto, type: archive, path: $TAPE, offline: true }
datasets:
  - { name: emr, paths: [$DATA/emr], copy_to: [arch, lto], runbook: emr }
YAML
export BKP_POLICY=$POL
ok "$BKP" init
ok "$BKP" media label "$WORK/tape" --name arch
# A folder of archives the policy calls off-line, on the repository's own
# disk: the check says it is not off-line there (a tape device is not a
# folder: not said of it).
ok "$BKP" policy check
output_has "medium arch is called off-line, but its folder $WORK/tape, with its label, is on the same disk as the repository"
output_lacks "medium lto is called off-line"
ok "$BKP" backup emr
ok "$BKP" rotate arch
# A tape has no label file: it is labelled once by its device, and a
# rotation to a device without one is refused (nothing it wrote could be
# noted as the medium's).
expect_exit 1 "$BKP" rotate lto
output_has "is not labelled"
ok "$BKP" media label "$TAPE" --name lto --type archive
ok "$BKP" rotate lto
F=$WORK/tape/emr@0000000001.tar
[ -f "$F" ] || fail "the rotation wrote no $F: $(ls -A "$WORK/tape" | tr '\n' ' ')"
# The folder's archives carry no kit: it lies beside them.
tar -tf "$F" | grep -q '^bkp-recovery/' && flunk "an archive in a folder carries a kit of its own"
(cd "$WORK/tape/bkp-recovery" && sha256sum --quiet -c SHA256SUMS) || flunk "the folder's kit does not check"
# What each holds, as `bkp status --json` says: the folder every file bkp
# keeps there (storage.h: label, pins, kit, archives; the procedures printed
# beside them are documents, not counted); a tape is not measured (null),
# never a guess.
in_folder=$(find "$WORK/tape" -type f ! -path "$WORK/tape/procedure-*" -printf '%s\n' |
    awk '{s += $1} END {print s + 0}')
check_exit 0 "$BKP" status --json || true
python3 - "$OUT" "$in_folder" <<'PY' || flunk "status --json: arch should hold $in_folder bytes, lto none said: $OUT"
import json, sys
media = {m["medium"]: m for m in json.loads(sys.argv[1])["media"]}
assert media["arch"]["bytes"] == int(sys.argv[2]), media
assert media["lto"]["bytes"] is None and media["lto"]["last_write"], media
PY
# The tape's stream, as a file for the checks below.
A=$WORK/stream.tar
cat "$TAPE" >"$A"

# 1. The kit comes first, with the modes a clerk needs.
tar -tf "$A" >"$WORK/members" || fail "tar cannot list $A"
head -n 1 "$WORK/members" | grep -q '^bkp-recovery/' ||
    flunk "the archive should begin with the kit: $(head -n 3 "$WORK/members" | tr '\n' ' ')"
last_kit=$(grep -n '^bkp-recovery/' "$WORK/members" | tail -n 1 | cut -d: -f1)
first_data=$(grep -n '^emr@0000000001/' "$WORK/members" | head -n 1 | cut -d: -f1)
[ "$last_kit" -lt "$first_data" ] || flunk "kit members come after the data"
for f in bkp lib/bkp README.txt FORMAT.md procedure-emr.ja.md procedure-emr.en.md SHA256SUMS; do
    grep -qxF "bkp-recovery/$f" "$WORK/members" || flunk "the archive's kit has no $f"
done
grep -q '^bkp-recovery/lib/libsodium' "$WORK/members" || flunk "the archive's kit lacks libsodium"
# The tape's procedure: the printed one with this medium as its copy, never a
# medium "holding nothing" nor a mount of the device.
tar -xOf "$A" bkp-recovery/procedure-emr.en.md >"$WORK/tape-proc.md" || flunk "cannot read the tape kit's procedure"
grep -q "holds no generation" "$WORK/tape-proc.md" && flunk "the tape's procedure says the tape holds nothing: $(cat "$WORK/tape-proc.md")"
grep -q "mount -o ro" "$WORK/tape-proc.md" && flunk "the tape's procedure mounts the device"
check_exit 0 tar -tvf "$A"
PROGS=' bkp-recovery/((lib/)?bkp|lib/ld-linux[^/]*)$' # the launcher, the program, its loader
grep -E "$PROGS" <<<"$OUT" | awk '$1 != "-r-xr-xr-x"' | grep -q . &&
    flunk "the launcher, the program and its loader should be mode 0555: $(grep -E "$PROGS" <<<"$OUT")"
odd=$(grep -Ev "$PROGS" <<<"$OUT" | awk '$1 != "-r--r--r--" || $2 !~ /^root\//' | head -n 3)
[ -z "$odd" ] || flunk "other members should be regular files, mode 0444, owner root: $odd"
# The kit the audit record names, with the folder's program.
KIT=$WORK/x-tar
mkdir -p "$KIT"
tar -xf "$A" -C "$KIT" bkp-recovery || fail "tar -x of bkp-recovery/ failed"
(cd "$KIT/bkp-recovery" && sha256sum --quiet -c SHA256SUMS) || flunk "the archive's kit does not check"
cmp -s "$KIT/bkp-recovery/lib/bkp" "$WORK/tape/bkp-recovery/lib/bkp" ||
    flunk "the tape's kit carries another program than the folder's"
cmp -s "$KIT/bkp-recovery/lib/bkp" "$BKP" || flunk "the archive's program is not the running one"
sums=$(sha256sum "$KIT/bkp-recovery/SHA256SUMS" | cut -d' ' -f1)
ok "$BKP" audit show --json
grep -q "\"kit_sha256\": \"$sums\"" <<<"$OUT" || flunk "the rotate record should name the kit's hash $sums"
mkdir -p "$WORK/x-bsdtar"
bsdtar -xf "$A" -C "$WORK/x-bsdtar" || fail "bsdtar -x of the archive failed"
(cd "$WORK/x-bsdtar/bkp-recovery" && sha256sum --quiet -c SHA256SUMS) ||
    flunk "the kit extracted by bsdtar does not check"
[ -x "$WORK/x-bsdtar/bkp-recovery/bkp" ] || flunk "bsdtar gave a launcher that does not run"

# 2. A bare root with the tape alone: the kit out of it by tar, then its
# launcher restores from the tape.
ROOT=$WORK/root
bare_root "$ROOT"
mkdir -p "$WORK/tapecopy"
cp "$A" "$WORK/tapecopy/stream.tar"
cp "$PASSFILE" "$ROOT/pass"
chmod 600 "$ROOT/pass"
tar -xf "$A" -C "$ROOT" bkp-recovery || fail "tar -x into the bare root failed"
unshare --mount --fork sh -c "
    mount --bind '$WORK/tapecopy' '$ROOT/medium' &&
    mount -t proc proc '$ROOT/proc' &&
    exec env -i TMPDIR=/tmp \"\$(command -v chroot)\" '$ROOT' /bkp-recovery/bkp restore emr:latest /out --from /medium/stream.tar --passphrase-file /pass
" >"$WORK/bare.out" 2>&1 || fail "the archive's kit did not restore in a bare root: $(cat "$WORK/bare.out")"
same_mtree "$DATA/emr" "$ROOT/out$DATA/emr" "restored by the archive's kit in a bare root"

# 3. bkp's reader checks the kit's members and skips them; a crafted one is
# refused and writes nothing.
craft() { # craft OUT KIND: the archive with a crafted kit member
    python3 - "$A" "$1" "$2" <<'PY'
import io, sys, tarfile
src, out, kind = sys.argv[1:]
members = []
with tarfile.open(src) as t:
    for m in t:
        members.append((m, t.extractfile(m).read()))
with open(out, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as t:
    def put(name, data=b"x", **kw):
        ti = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(ti, k, v)
        ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    if kind == "symlink":
        put("bkp-recovery/lib/libevil.so.1", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    elif kind == "climb":
        put("bkp-recovery/../escaped.txt")
    elif kind == "climb-lib":
        put("bkp-recovery/lib/../../escaped.txt")
    elif kind == "long-name":
        put("bkp-recovery/" + "a" * 300 + ".md")
    elif kind == "folder":
        put("bkp-recovery/lib/sub", type=tarfile.DIRTYPE)
    elif kind == "hardlink":
        put("bkp-recovery/README.txt", type=tarfile.LNKTYPE, linkname="/etc/shadow")
    elif kind == "huge":
        # A header claiming 300 MiB first, and the stream ending there.
        ti = tarfile.TarInfo("bkp-recovery/lib/libhuge.so.1")
        ti.size = 300 << 20
        t.fileobj.write(ti.tobuf(tarfile.PAX_FORMAT))
        t.fileobj.write(b"\0" * 4096)
        members = []
    for m, data in members:
        t.addfile(m, io.BytesIO(data))
    if kind == "after":
        put("bkp-recovery/README.txt")
PY
}
for kind in symlink climb climb-lib long-name folder hardlink huge after; do
    X=$WORK/crafted-$kind.tar
    craft "$X" "$kind" || fail "could not craft the $kind archive"
    rm -rf "$WORK/T-$kind"
    check_exit 1 "$BKP" restore emr:latest "$WORK/T-$kind" --from "$X" || true
    output_has "$X" "a crafted kit ($kind) should be refused, naming the archive"
    if [ "$kind" = after ]; then
        output_has "is not part of a bkp archive" "a kit member after the data is out of place"
    else
        output_has "is not part of a recovery kit" "a crafted kit member ($kind)"
    fi
    [ ! -e "$WORK/T-$kind$DATA" ] || flunk "a restore from a crafted kit ($kind) wrote data"
done
[ ! -e "$WORK/escaped.txt" ] && [ ! -e "$WORK/tape/escaped.txt" ] && [ ! -e escaped.txt ] ||
    flunk "a kit member climbed out of its folder"
# The kit itself is never written by bkp's reader: a restore from the real
# archive leaves no bkp-recovery/ in its staging or its target.
ok "$BKP" restore emr:latest "$WORK/T-ok" --from "$A"
same_mtree "$DATA/emr" "$WORK/T-ok$DATA/emr" "restored from the archive carrying the kit"
[ ! -e "$WORK/T-ok/bkp-recovery" ] || flunk "the restore wrote the kit into the target"

# A second rotation that adds a generation: the folder takes that archive
# alone (a few bytes, no kit); the tape's first archive of the rotation
# brings the kit again.
echo "one more note" >"$DATA/emr/notes/late.txt"
ok "$BKP" backup emr
ok "$BKP" rotate arch
F2=$WORK/tape/emr@0000000002.tar
[ -f "$F2" ] || fail "the second rotation wrote no $F2"
[ "$(stat -c %s "$F2")" -lt $((2 << 20)) ] || flunk "an archive adding a few bytes is $(stat -c %s "$F2") bytes"
tar -tf "$F2" | grep -q '^bkp-recovery/' && flunk "the second archive carries a kit"

finish
