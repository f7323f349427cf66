#!/usr/bin/env bash
# 93-key-slots — several passphrases open one repository, and a leaked one is
# retired: key add, list, passwd, remove; the old passphrase stops opening the
# primary at once and a disk copy at its next rotation, while an archive keeps
# the slots it was written with (as documented). Every change is recorded. A
# key file of format 1 still opens and is converted by the first change; a
# key file whose list was edited, or a copy's planted one, is refused, and a
# rotation repairs the copy's.
. "$(dirname "$0")/lib.sh"
need_root

D=$WORK/data
MNT=$WORK/mnt
TAPE=$WORK/tape
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT" "$TAPE"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
cat >"$POL" <<YAML
repository: $REPO
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
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE BKP_PASSPHRASE_COMMAND
export BKP_POLICY=$POL
P1=$PASSFILE
pass() { printf '%s\n' "$2" >"$WORK/$1" && chmod 600 "$WORK/$1"; }
pass p2 "the second passphrase, for the deputy"
pass p3 "a new passphrase after the incident"
pass p4 "typed in again from the safe's paper"
pass short "too short"
P2=$WORK/p2 P3=$WORK/p3 P4=$WORK/p4
slot_of() { # the id of the slot marked current when opened with $1
    "$BKP" key list --json --passphrase-file "$1" |
        python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin)["slots"] if s["current"]][0])'
}
opens() { ok "$BKP" generations --passphrase-file "$2" --repo "$1" </dev/null; }
refused() { expect_exit 4 "$BKP" generations --passphrase-file "$2" --repo "$1" </dev/null; }

ok "$BKP" init --passphrase-file "$P1"
ok "$BKP" media label "$MNT" --name usb-a --type removable --passphrase-file "$P1"
ok "$BKP" media label "$TAPE" --name tape --passphrase-file "$P1"
echo "カルテ 1" >"$D/a"
ok "$BKP" backup ds --passphrase-file "$P1"
ok "$BKP" rotate usb-a --passphrase-file "$P1"
ok "$BKP" rotate tape --passphrase-file "$P1"
ok "$BKP" key export --paper -o "$WORK/paper.md" --passphrase-file "$P1"

# ---- add: a second passphrase opens the same repository ----
ok "$BKP" key add --label "deputy 副院長" --passphrase-file "$P1" --new-passphrase-file "$P2"
opens "$REPO" "$P1"
opens "$REPO" "$P2"
ok "$BKP" key list --passphrase-file "$P2"
output_has "deputy 副院長" "key list shows the label"
[ "$(grep -c '^[ *] [0-9a-f]\{16\} ' <<<"$OUT")" = 2 ] || flunk "key list must show 2 slots: $OUT"
S1=$(slot_of "$P1")
S2=$(slot_of "$P2")
[ -n "$S1" ] && [ -n "$S2" ] && [ "$S1" != "$S2" ] || flunk "two slots, two ids: '$S1' '$S2'"

# A short new passphrase is refused and nothing changes.
before=$(sha256sum <"$REPO/keys/key")
expect_exit 2 "$BKP" key add --passphrase-file "$P1" --new-passphrase-file "$WORK/short"
output_has "at least 13"
[ "$(sha256sum <"$REPO/keys/key")" = "$before" ] || flunk "a refused key add changed the key file"
# Without a terminal and without --new-passphrase-file there is no new passphrase.
expect_exit 2 "$BKP" key add --passphrase-file "$P1" </dev/null
output_has "--new-passphrase-file"

# ---- passwd: the leaked passphrase P1 is retired ----
# Not to a passphrase that opens a slot already: that would retire nothing.
expect_exit 2 "$BKP" key passwd --passphrase-file "$P1" --new-passphrase-file "$P1"
output_has "already opens key slot"
expect_exit 2 "$BKP" key add --passphrase-file "$P1" --new-passphrase-file "$P2"
output_has "already opens key slot"
cp -a "$REPO/keys/key" "$WORK/key.before-passwd"
ok "$BKP" key passwd --passphrase-file "$P1" --new-passphrase-file "$P3"
refused "$REPO" "$P1"
output_has "wrong passphrase"
opens "$REPO" "$P3"
opens "$REPO" "$P2"
[ "$(slot_of "$P3")" = "$S1" ] || flunk "passwd keeps the slot's id"

# The disk was not rotated since: it still opens with P1 (its list is older),
# and a read-only look at it says so without failing.
opens "$MNT/repo" "$P1"
ok "$BKP" verify -v --media usb-a --passphrase-file "$P3"
output_has "older list of key slots"
# Read now with the retired passphrase its list still holds, the disk's
# older list is no fault of the server's: the restore is recorded in the server's log, and
# nothing says its key file was put back (before, the server's newer list
# was taken for one put back, and the record went to a journal).
ok "$BKP" restore ds:1 "$WORK/behind/out" --from usb-a --passphrase-file "$P1" </dev/null
grep -q "put back\|older than" <<<"$OUT$ERR" && flunk "a disk behind the server's key list raised a false alarm: $ERR"
output_has "was opened with a passphrase that the repository $REPO no longer has"
ls "$WORK/behind"/bkp-journal-*.jsonl >/dev/null 2>&1 && flunk "the restore went to a journal, not to the server's log"
"$BKP" audit show --json --passphrase-file "$P3" | grep -q '"op": *"restore"' ||
    flunk "the restore from the disk is not in the server's log"
"$BKP" audit show --json --passphrase-file "$P3" | python3 -c '
import json, sys
recs = [r for r in json.load(sys.stdin) if r.get("op") == "restore"]
assert recs and recs[-1]["figures"].get("key_retired") is True, recs[-1:]' ||
    flunk "the restore made with a retired passphrase is not marked so in the log"
# The status names the disk that still opens with the passphrases of before.
"$BKP" status --passphrase-file "$P3" >"$WORK/status.behind" 2>&1 || true
grep -q "usb-a holds the key slots of before the key change of" "$WORK/status.behind" ||
    flunk "the status does not name the disk behind the key change: $(cat "$WORK/status.behind")"
# The new passphrase does not open the disk until its rotation, and the
# refusal says why and what opens it meanwhile.
expect_exit 4 "$BKP" restore ds:1 "$WORK/behind/new" --from usb-a --passphrase-file "$P3" </dev/null
output_has "opens it only after its next rotation"
output_has "key sheet"
# The rotation brings the disk's slots up to date: P1 no longer opens it.
echo "カルテ 2" >"$D/b"
ok "$BKP" backup ds --passphrase-file "$P3"
ok "$BKP" rotate usb-a --passphrase-file "$P3"
cmp -s "$REPO/keys/key" "$MNT/repo/keys/key" || flunk "the rotation did not bring the disk's key file up to date"
"$BKP" status --passphrase-file "$P3" >"$WORK/status.after" 2>&1 || true
grep -q "usb-a holds the key slots of before" "$WORK/status.after" && flunk "the rotated disk is still said to hold the key slots of before"
refused "$MNT/repo" "$P1"
opens "$MNT/repo" "$P3"
# The old list put back on the primary: a retired passphrase opens it again,
# which verify reports against the audit log, and no rotation spreads it
# over the disk that holds the newer list.
good=$WORK/key.good-now
cp -a "$REPO/keys/key" "$good"
chattr -i "$REPO/keys/key" 2>/dev/null || true
cp -f "$WORK/key.before-passwd" "$REPO/keys/key"
opens "$REPO" "$P1"
expect_exit 1 "$BKP" verify --passphrase-file "$P1"
output_has "was put back"
expect_exit 1 "$BKP" rotate usb-a --passphrase-file "$P1"
output_has "was put back"
expect_exit 1 "$BKP" verify --media usb-a --passphrase-file "$P1"
output_has "older than this copy's"
# Read from the disk, the restore is not recorded in a log whose key list
# was put back: said, and kept in a journal beside the target.
ok "$BKP" restore ds:1 "$WORK/putback/out" --from usb-a --passphrase-file "$P2" </dev/null
output_has "older than that of its copy"
ls "$WORK/putback"/bkp-journal-*.jsonl >/dev/null 2>&1 || flunk "the restore beside a key list put back kept no journal"
cmp -s "$good" "$MNT/repo/keys/key" || flunk "a rotation wrote the old key list over the disk's newer one"
chattr -i "$REPO/keys/key" 2>/dev/null || true
cp -f "$good" "$REPO/keys/key"
refused "$REPO" "$P1"
ok "$BKP" verify --passphrase-file "$P3"
# The archive written before keeps the slots it was written with.
ok "$BKP" restore ds:1 "$WORK/out-tape" --from "$TAPE" --passphrase-file "$P1" </dev/null
cmp -s "$D/a" "$WORK/out-tape$D/a" || flunk "the archive did not restore with its own slots"
grep -q "put back" <<<"$OUT$ERR" && flunk "an archive behind the server's key list raised a false alarm: $ERR"

# ---- remove ----
expect_exit 2 "$BKP" key remove "$S1" --passphrase-file "$P3"
output_has "opened with"
expect_exit 2 "$BKP" key remove ffff --passphrase-file "$P3"
output_has "no key slot"
ok "$BKP" key remove "${S2:0:6}" --passphrase-file "$P3"
refused "$REPO" "$P2"
expect_exit 2 "$BKP" key remove "$S1" --key-from "$WORK/paper.md"
output_has "only key slot"
opens "$REPO" "$P3"

# ---- add with the paper sheet: a repository whose passphrases are all lost ----
ok "$BKP" key add --label "from the safe" --key-from "$WORK/paper.md" --new-passphrase-file "$P4"
opens "$REPO" "$P4"

# ---- every change is on the record ----
ok "$BKP" audit show --passphrase-file "$P4"
for op in key-add key-passwd key-remove key-from; do
    output_has "$op" "the audit log records $op"
done
ok "$BKP" audit verify --passphrase-file "$P4"

# ---- an edited list is refused: a label changed in the signed file ----
cp -a "$REPO/keys/key" "$WORK/key.good"
chattr -i "$REPO/keys/key" 2>/dev/null || true
chmod u+w "$REPO/keys/key"
sed -i 's/from the safe/from the SAFE/' "$REPO/keys/key"
cmp -s "$REPO/keys/key" "$WORK/key.good" && flunk "the test did not edit the key file"
expect_exit 1 "$BKP" generations --passphrase-file "$P4" </dev/null
output_has "not signed by this repository's key"
cp -a "$WORK/key.good" "$REPO/keys/key"
opens "$REPO" "$P4"

# ---- a copy's key file of format 1, planted: a valid header, another secret ----
chattr -i "$MNT/repo/keys/key" 2>/dev/null || true
chmod u+w "$MNT/repo/keys/key"
python3 - "$MNT/repo/keys/key" <<'PY'
import os, sys
hdr = b"BKPKEY01" + (1).to_bytes(4, "little") + (3).to_bytes(8, "little") + (64 << 20).to_bytes(8, "little")
open(sys.argv[1], "wb").write(hdr + os.urandom(132 - len(hdr)))
PY
expect_exit 1 "$BKP" verify --media usb-a --passphrase-file "$P4"
output_has "key file of the copy"
# On its own the disk no longer opens with a passphrase; the key sheets open it.
expect_exit 4 "$BKP" restore ds:latest "$WORK/out-planted" --from usb-a --passphrase-file "$P4" </dev/null
ok "$BKP" restore ds:latest "$WORK/out-planted" --from usb-a --key-from "$WORK/paper.md" </dev/null
cmp -s "$D/b" "$WORK/out-planted$D/b" || flunk "the sheets did not restore from the disk"

# ---- a copy's key file planted: verify fails, a rotation repairs it ----
chattr -i "$MNT/repo/keys/key" 2>/dev/null || true
chmod u+w "$MNT/repo/keys/key"
head -c 951 /dev/urandom >"$MNT/repo/keys/key"
expect_exit 1 "$BKP" verify --media usb-a --passphrase-file "$P4"
output_has "key file of the copy"
ok "$BKP" rotate usb-a --passphrase-file "$P4"
cmp -s "$REPO/keys/key" "$MNT/repo/keys/key" || flunk "the rotation did not repair the disk's key file"
opens "$MNT/repo" "$P4"

# ---- a key file of format 1 (a repository made before slots) ----
R1=$WORK/old
ok "$BKP" init --repo "$R1" --passphrase-file "$P1"
# Its one slot, as the format-1 file it is: the 132 sealed bytes.
python3 - "$R1/keys/key" <<'PY'
import json, os, sys
b = open(sys.argv[1], "rb").read()
n = int.from_bytes(b[8:12], "little")
sealed = bytes.fromhex(json.loads(b[12:12 + n])["slots"][0]["sealed"])
os.chmod(sys.argv[1], 0o600)
open(sys.argv[1], "wb").write(sealed)
PY
[ "$(stat -c %s "$R1/keys/key")" = 132 ] || flunk "could not make a key file of format 1"
opens "$R1" "$P1"
ok "$BKP" key list --repo "$R1" --passphrase-file "$P1"
output_has "format 1"
old_id=$(grep -o '^\* [0-9a-f]\{16\}' <<<"$OUT" | cut -c3-)
ok "$BKP" key add --repo "$R1" --passphrase-file "$P1" --new-passphrase-file "$P2"
head -c 8 "$R1/keys/key" | grep -q BKPKEY02 || flunk "the first change did not write format 2"
opens "$R1" "$P1"
opens "$R1" "$P2"
ok "$BKP" key list --repo "$R1" --passphrase-file "$P1"
output_has "$old_id" "the format-1 slot keeps its id"

# ---- a machine key: a slot for unattended runs, opened without Argon2id ----
# bkp draws the secret and writes it to a new 0600 file; the slot asks for the
# least Argon2id cost in its signed header; the file opens the repository like
# a passphrase file, and a person's passphrase still opens its own slot.
MK=$WORK/etc/machine.key
mkdir -p "$WORK/etc" && chmod 700 "$WORK/etc"
expect_exit 2 "$BKP" key passwd --machine-key "$MK" --passphrase-file "$P4"
output_has "--machine-key belongs to key add"
expect_exit 2 "$BKP" key add --machine-key "$MK" --new-passphrase-file "$P3" --passphrase-file "$P4"
output_has "not both"
[ ! -e "$MK" ] || flunk "a refused key add wrote the machine key file"
# A folder others may write to is refused before any secret is drawn: later
# runs would refuse the file (the passphrase file's rules), and someone there
# could swap what the path names.
mkdir -m 777 "$WORK/open"
before=$(sha256sum <"$REPO/keys/key")
expect_exit 2 "$BKP" key add --machine-key "$WORK/open/machine.key" --passphrase-file "$P4"
output_has "writable by group or others"
[ ! -e "$WORK/open/machine.key" ] || flunk "a machine key was written into a folder others may change"
[ "$(sha256sum <"$REPO/keys/key")" = "$before" ] || flunk "a refused machine key add changed the key file"
ok "$BKP" key add --machine-key "$MK" --label "cron 夜間" --passphrase-file "$P4"
output_has "added machine key slot"
[ "$(stat -c '%a %s' "$MK")" = "600 65" ] || flunk "machine key file: $(stat -c '%a %s' "$MK")"
grep -qx '[0-9a-f]\{64\}' "$MK" || flunk "the machine key file holds 64 hex digits"
python3 - "$REPO/keys/key" <<'PY' || flunk "the machine slot's cost"
import json, sys
b = open(sys.argv[1], "rb").read()
n = int.from_bytes(b[8:12], "little")
slots = json.loads(b[12:12 + n])["slots"]
cost = {s["label"]: (int.from_bytes(bytes.fromhex(s["sealed"])[12:20], "little"),
                     int.from_bytes(bytes.fromhex(s["sealed"])[20:28], "little")) for s in slots}
assert cost["cron 夜間"] == (1, 8192), cost
assert all(c == (3, 64 << 20) for l, c in cost.items() if l != "cron 夜間"), cost
PY
ok "$BKP" key list --json --passphrase-file "$MK"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); s=[x for x in d["slots"] if x["current"]][0]; assert s["kind"]=="machine" and s["label"]=="cron 夜間", s' "$OUT" ||
    flunk "key list --json names the machine slot current: $OUT"
echo "カルテ 4" >"$D/d"
ok "$BKP" backup ds --passphrase-file "$MK"
opens "$REPO" "$P4"
# Recorded, with its kind and never its secret.
ok "$BKP" audit show --json --passphrase-file "$MK"
output_has '"kind": "machine"'
grep -qF "$(cat "$MK")" "$REPO/audit.log" 2>/dev/null && flunk "the audit log holds the machine secret"
grep -rqF "$(cat "$MK")" "$REPO" "$MNT" "$TAPE" && flunk "a repository or medium holds the machine secret"
# A file that exists is never overwritten, and the list stays as it was.
before=$(sha256sum <"$REPO/keys/key")
cp "$MK" "$WORK/mk.copy"
expect_exit 2 "$BKP" key add --machine-key "$MK" --passphrase-file "$P4"
output_has "exists already"
cmp -s "$MK" "$WORK/mk.copy" || flunk "key add overwrote an existing machine key file"
[ "$(sha256sum <"$REPO/keys/key")" = "$before" ] || flunk "a refused machine key add changed the key file"
# Opened with the machine key, `key passwd` without an ID does not reseal the
# machine slot (a person means their own passphrase's slot); with the ID it does.
expect_exit 2 "$BKP" key passwd --passphrase-file "$MK" --new-passphrase-file "$P3"
output_has "opened with the machine key"
opens "$REPO" "$MK"
# Removed, its file opens nothing.
MS=$(slot_of "$MK")
ok "$BKP" key remove "$MS" --passphrase-file "$P4"
refused "$REPO" "$MK"

finish
