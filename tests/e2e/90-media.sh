#!/usr/bin/env bash
# 90-media — media, rotation and the 3-2-1 verdict, with an injected clock
# (BKP_NOW): two removable disks that take turns at one mount point (swapped by
# renaming directories) are labelled; a second label without --force and the
# wrong disk are refused without writing it; eight weeks of backups and
# rotations keep the verdict COMPLIANT, a skipped rotation makes it AT RISK
# naming the overdue disk, each disk keeps three generations and verifies on
# its own; a disk alone restores the data; a full medium (a small tmpfs) fails
# cleanly and succeeds once it has room; a rotation killed mid-copy is finished
# by the next one (status says each did not finish until then); and the audit log's copy on a disk catches a log cut short.
. "$(dirname "$0")/lib.sh"
need_test_clock

T0=$(date -u -d 2026-11-02T00:00:00Z +%s) # a Monday
KEEP=3                                    # emr's keep_last; on a medium at least 3 stay
at() { # at DAY HOUR: the injected clock
    BKP_NOW=$((T0 + $1 * 86400 + $2 * 3600))
    export BKP_NOW
}
iso() { # iso DAY HOUR
    date -u -d "@$((T0 + $1 * 86400 + $2 * 3600))" +%Y-%m-%dT%H:%M:%SZ
}

# ---- JSON read from the pretty-printed output (one key per line, sorted keys) ----
# A field of the (only) data set in `bkp status --json`: it sits at six spaces.
ds_field() {
    printf '%s\n' "$OUT" | sed -n 's/^      "'"$1"'": "\(.*\)",\{0,1\}$/\1/p' | head -n 1
}
top_verdict() {
    printf '%s\n' "$OUT" | sed -n 's/^  "verdict": "\(.*\)",\{0,1\}$/\1/p' | head -n 1
}
ds_reasons() {
    printf '%s\n' "$OUT" | sed -n '/^      "reasons": \[/,/^      \]/p' | sed -n 's/^ *"\(.*\)",\{0,1\}$/\1/p' | paste -sd ';' -
}
# The sequence numbers of the generations in $OUT (media show's held[] or generations --json).
seqs() {
    printf '%s\n' "$OUT" | sed -n 's/^ *"seq": *\([0-9][0-9]*\).*/\1/p' | sort -n | paste -sd ' ' -
}

MNT=$WORK/mnt # the mount point both removable disks use, in turn
EMR=$WORK/emr
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$WORK/shelf-a" "$WORK/shelf-b" "$EMR" "$WORK/snap"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
# rule_321 left at its defaults: 3 copies, 2 media types, 1 off-line, 1 off-site, offline_max_age 8d
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    kept_at: 院長宅の金庫
    offline: true
    rotate_every: 7d
  - name: usb-b
    type: removable
    path: $MNT
    location: offsite
    offline: true
    rotate_every: 7d
datasets:
  - name: emr
    priority: 1
    paths: [$EMR]
    schedule: weekly mon 08:00
    retention: { keep_last: $KEEP }
    copy_to: [usb-a, usb-b]
YAML

PLUGGED= # which disk is at $MNT: a, b or nothing
plug() { # plug a|b: put the disk in the drawer back, connect the other
    if [ -n "$PLUGGED" ]; then
        mv "$MNT" "$WORK/shelf-$PLUGGED"
    fi
    mv "$WORK/shelf-$1" "$MNT"
    PLUGGED=$1
}
disk() { # disk a|b: where that disk is now
    if [ "$PLUGGED" = "$1" ]; then echo "$MNT"; else echo "$WORK/shelf-$1"; fi
}

# The data: a dump rewritten each week, a file that never changes, a scan added weekly.
SEQ=0
backup_week() { # backup_week DAY HOUR: change the data, back up emr, keep a snapshot
    at "$1" "$2"
    SEQ=$((SEQ + 1))
    {
        echo "-- emr dump of day $1 hour $2"
        seq 1 3000 | sed "s/^/INSERT INTO visits VALUES ($SEQ, /; s/\$/, 'ok');/"
    } >"$EMR/emr.sql"
    [ -f "$EMR/formulary.txt" ] || head -c 200000 /dev/urandom | base64 >"$EMR/formulary.txt"
    head -c 3000 /dev/urandom >"$EMR/scan-$SEQ.pdf"
    [ "$SEQ" -le 4 ] || rm -f "$EMR/scan-$((SEQ - 4)).pdf" # old scans move to the archive
    ok "$BKP" backup emr --policy "$POL"
    rm -rf "$WORK/snap/$SEQ"
    cp -a "$EMR" "$WORK/snap/$SEQ"
}

# status_is EXIT VERDICT WHEN: emr's verdict (and the overall one) in `bkp status --json`.
status_is() {
    check_exit "$1" "$BKP" status --policy "$POL" --json || true
    local v t
    v=$(ds_field verdict)
    t=$(top_verdict)
    if [ "$v" != "$2" ] || [ "$t" != "$2" ]; then
        flunk "$3: emr should be $2; status says '$v' (overall '$t'); reasons: $(ds_reasons); action: $(ds_field action)"
    fi
}

rotate_ok() { # rotate_ok MEDIUM WHEN
    check_exit 0 "$BKP" rotate "$1" --policy "$POL" || flunk "$2: bkp rotate $1 failed (output above)"
    return 0
}

# ============ 1. Labels ============
ok "$BKP" init --policy "$POL"
at 0 5
plug a
ok "$BKP" media label "$MNT" --name usb-a --policy "$POL"
[ -f "$MNT/BKP-LABEL" ] || flunk "media label wrote no BKP-LABEL on usb-a"
[ -f "$MNT/repo/config" ] && [ -f "$MNT/repo/keys/key" ] || flunk "media label made no repository copy on usb-a"
cmp -s "$MNT/repo/config" "$REPO/config" || flunk "the copy's config differs from the primary's"
grep -q '"name": "usb-a"' "$MNT/BKP-LABEL" || flunk "usb-a's label does not name it: $(cat "$MNT/BKP-LABEL")"
grep -q '"type": "removable"' "$MNT/BKP-LABEL" || flunk "the policy's type (removable) is not on the label"
grep -q '"location": "offsite"' "$MNT/BKP-LABEL" || flunk "the policy's location (offsite) is not on the label"
cp "$MNT/BKP-LABEL" "$WORK/label-a"
# What a person writes on the paper label: the name and the key's short
# fingerprint (the first four groups of `bkp key fingerprint`); the label
# sheet carries it in large letters and the whole one in a QR code.
LABEL_OUT=$OUT
ok "$BKP" key fingerprint --json --policy "$POL"
short=$(jq -r .short <<<"$OUT")
[ "$short" = "$(jq -r .fingerprint <<<"$OUT" | cut -c1-19)" ] || flunk "the short fingerprint is the first four groups: $short"
grep -q "usb-a  $short" <<<"$LABEL_OUT" || flunk "media label should say the name and the short fingerprint: $LABEL_OUT"
ok "$BKP" media sheet usb-a --format html --lang ja --policy "$POL"
grep -q "<p class=\"fp\">$short</p>" <<<"$OUT" || flunk "the label sheet should show the short fingerprint"
grep -q "<svg" <<<"$OUT" || flunk "the label sheet should carry a QR code"
grep -q "$(jq -r .fingerprint "$WORK/label-a")" <<<"$OUT" || flunk "the label sheet carries the whole fingerprint too"
grep -q '<html lang="ja">' <<<"$OUT" && grep -q "可搬ディスク" <<<"$OUT" || flunk "the Japanese sheet should name the type in Japanese"
if command -v zbarimg >/dev/null && command -v rsvg-convert >/dev/null; then
    sed -n 's/.*\(<svg.*<\/svg>\).*/\1/p' <<<"$OUT" >"$WORK/qr.svg"
    rsvg-convert -w 400 "$WORK/qr.svg" >"$WORK/qr.png"
    zbarimg -q --raw "$WORK/qr.png" | grep -q "fingerprint $(jq -r .fingerprint "$WORK/label-a")" ||
        flunk "the QR code should read back as the medium's identity"
elif [ -n "${CI:-}" ]; then
    flunk "zbarimg and rsvg-convert are needed to read the QR code back (tests/install-deps.sh installs them)"
fi
# Where it is kept, as the policy says; -o writes the page to print, readable
# by whoever prints it whatever the umask.
grep -q "院長宅の金庫" <<<"$OUT" || flunk "the label sheet should say where the disk is kept"
(umask 077 && "$BKP" media sheet usb-a --format html -o "$WORK/usb-a-label.html" --policy "$POL" >"$WORK/sheet.out" 2>&1) ||
    flunk "media sheet -o failed: $(cat "$WORK/sheet.out")"
[ "$(stat -c %a "$WORK/usb-a-label.html")" = 644 ] || flunk "the label sheet should be readable by all: $(stat -c %a "$WORK/usb-a-label.html")"
grep -q "<p class=\"fp\">$short</p>" "$WORK/usb-a-label.html" || flunk "the sheet written with -o lacks the fingerprint"
ok "$BKP" media show usb-a --policy "$POL"
output_has "$short"
check_exit 2 "$BKP" media sheet usb-b --policy "$POL" || true
ok "$BKP" media list --policy "$POL" --json
[ "$(printf '%s\n' "$OUT" | grep -c '"labelled": false')" = 1 ] ||
    flunk "media list --json: usb-b, never labelled, should say so: $OUT"
plug b
ok "$BKP" media label "$MNT" --name usb-b --policy "$POL"
grep -q '"name": "usb-b"' "$MNT/BKP-LABEL" || flunk "usb-b's label does not name it"
# Labelling a labelled disk again, under its own name or another, needs --force.
check_exit 1 "$BKP" media label "$MNT" --name usb-b --policy "$POL" || true
output_has "already labelled usb-b" "relabelling without --force should be refused, naming the label"
check_exit 1 "$BKP" media label "$MNT" --name usb-a --policy "$POL" || true
output_has "already labelled usb-b" "labelling usb-b's disk as usb-a without --force should be refused"
grep -q '"name": "usb-b"' "$MNT/BKP-LABEL" || flunk "a refused relabel changed usb-b's label"
plug a
cmp -s "$MNT/BKP-LABEL" "$WORK/label-a" || flunk "usb-a's label changed while usb-b was labelled"
ok "$BKP" media list --policy "$POL" --json
for m in usb-a usb-b; do
    grep -q "^    \"name\": \"$m\"" <<<"$OUT" || flunk "media list --json does not show $m: $OUT"
done
[ "$(printf '%s\n' "$OUT" | grep -c '"labelled": true')" = 2 ] ||
    flunk "media list --json should show both disks labelled: $OUT"
[ "$(printf '%s\n' "$OUT" | grep -c '"type": "removable"')" -ge 2 ] || flunk "media list: both are removable: $OUT"
# What the policy says of each, and when it is due: never written, due now.
for f in '"in_policy": true' '"offline": true' '"rotate_every": 604800' '"location": "offsite"' \
    '"generations": 0' '"next_due": "20' "\"path\": \"$MNT\""; do
    [ "$(printf '%s\n' "$OUT" | grep -c "^    $f")" = 2 ] || flunk "media list --json: both media should say $f: $OUT"
done

# ============ 3 (start). Week 0: three backups; no off-line copy yet ============
backup_week 0 6
backup_week 0 7
backup_week 0 8
at 0 9
status_is 1 NON-COMPLIANT "three backups and no rotation yet"
grep -q "off-line" <<<"$(ds_reasons)" ||
    flunk "week 0: the reasons should say that there is no off-line copy: $(ds_reasons)"
ds_field action | grep -q 'bkp rotate usb-' ||
    flunk "week 0: the action should be to rotate a disk: $(ds_field action)"
rotate_ok usb-a "week 0"
output_has "disconnect" "rotate should tell the operator to disconnect the disk"
output_has "it is kept off-site (院長宅の金庫)" "rotate should say where the disk is kept, as the policy names it"
output_has "usb-b" "rotate should name the disk due next"
status_is 0 COMPLIANT "week 0, after rotating usb-a"
[ "$(json_num copies)" = 3 ] || flunk "week 0: 3 copies expected (live, primary, usb-a), counted $(json_num copies)"
[ "$(json_num offline)" = 1 ] && [ "$(json_num offsite)" = 1 ] ||
    flunk "week 0: usb-a should count as off-line and off-site: $OUT"
ok "$BKP" media show usb-b --policy "$POL" --json
grep -q "\"next_due\": \"$(iso 7 9)\"" <<<"$OUT" ||
    flunk "usb-b should be due a week after usb-a's rotation ($(iso 7 9)): $OUT"
ok "$BKP" media show usb-a --policy "$POL" --json
grep -q "\"last_write\": \"$(iso 0 9)\"" <<<"$OUT" || flunk "usb-a's last_write should be the rotation time: $OUT"
# The rotation checked the copy ("signatures, chains and objects checked"): the registry says so.
grep -q "\"last_verify\": \"$(iso 0 9)\"" <<<"$OUT" &&
    grep -q '"verify_ok": true' <<<"$OUT" ||
    flunk "the rotation verified usb-a's copy, but media show has no last_verify $(iso 0 9) / verify_ok true: $(printf '%s\n' "$OUT" | grep -E '"(last_verify|verify_ok|last_write)"' | tr -s ' \n' ' ')"
[ "$(seqs)" = "3" ] || flunk "usb-a should hold emr:3 after week 0, holds: $(seqs)"

# ============ 2. The wrong disk: usb-a is still plugged in when usb-b is due ============
backup_week 7 8
at 7 9
repo_digest "$MNT" >"$WORK/wrong-before"
check_exit 1 "$BKP" rotate usb-b --policy "$POL" || true
output_has "usb-a" "a wrong disk should be refused naming the disk that is plugged in"
printf '%s\n' "$ERR" | grep -Eq 'due[^.]{0,20}usb-b' ||
    flunk "the refusal should name the medium that is due (usb-b): $ERR"
repo_digest "$MNT" >"$WORK/wrong-after"
diff -q "$WORK/wrong-before" "$WORK/wrong-after" >/dev/null ||
    flunk "a refused rotation wrote to the disk: $(diff "$WORK/wrong-before" "$WORK/wrong-after" | head -n 5)"
ok "$BKP" media show usb-a --policy "$POL" --json
[ "$(seqs)" = "3" ] || flunk "a refused rotation of usb-b changed what usb-a holds: $(seqs)"

# ============ 3. Weeks of backups and rotations ============
plug b
# The right disk, the wrong command: the refusal leads with the disk that is due.
check_exit 1 "$BKP" rotate usb-a --policy "$POL" || true
output_has 'The disk plugged in is the one due next: run `bkp rotate usb-b`' \
    "rotating usb-a with usb-b (due) plugged in should say to rotate usb-b"
rotate_ok usb-b "week 1"
status_is 0 COMPLIANT "week 1, after rotating usb-b"

backup_week 14 8
at 14 9
plug a
# A dry run says what the rotation will copy and prune, and writes nothing:
# no file and no name of the primary or of the disk changes.
primary_before=$(repo_digest "$REPO")
disk_before=$(repo_digest "$MNT")
check_exit 0 "$BKP" rotate usb-a --policy "$POL" --dry-run --json ||
    flunk "week 2: bkp rotate usb-a --dry-run --json failed"
PLAN=$OUT
python3 - "$PLAN" <<'PY' || flunk "week 2: the dry run's plan is not what it should be: $PLAN"
import json, sys
p = json.loads(sys.argv[1])
assert p["dry_run"] is True and p["listed"] is True, p
assert p["copy"] == ["emr:5"], p  # the week's newest, not on usb-a yet
assert p["there"] == [] and p["prune"] == [], p  # usb-a holds one: it keeps at least three
PY
check_exit 0 "$BKP" rotate usb-a --policy "$POL" --dry-run
output_has "nothing was written" "the dry run should say that it wrote nothing"
output_has "copy    emr:5" "the dry run should list what it copies"
[ "$(repo_digest "$REPO")" = "$primary_before" ] || flunk "rotate --dry-run changed the primary"
[ "$(repo_digest "$MNT")" = "$disk_before" ] || flunk "rotate --dry-run changed the disk"
note "rotate --dry-run: the plan, and nothing written"
# With --json, one JSON document: the medium's prune prints none of its own.
check_exit 0 "$BKP" rotate usb-a --policy "$POL" --json || flunk "week 2: bkp rotate usb-a --json failed"
python3 - "$PLAN" "$OUT" <<'PY' || flunk "week 2: the rotation did not do what its plan said: $OUT"
import json, sys
plan, done = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert done["generations"] == plan["copy"] + plan["there"], (plan, done)
PY
status_is 0 COMPLIANT "week 2, after rotating usb-a"
# What the disk holds after it, as `bkp status` tells the operator: every
# file on it, counted as the rotation ended.
on_disk=$(find "$MNT" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
check_exit 0 "$BKP" status --policy "$POL" --json || true
python3 - "$OUT" "$on_disk" <<'PY' || flunk "week 2: status --json should carry usb-a's size ($on_disk bytes): $OUT"
import json, sys
doc, want = json.loads(sys.argv[1]), int(sys.argv[2])
media = {m["medium"]: m for m in doc["media"]}
assert media["usb-a"]["bytes"] == want, (media, want)
assert media["usb-a"]["type"] == "removable" and media["usb-a"]["last_write"], media
PY
check_exit 0 "$BKP" status --policy "$POL" || true
output_has "usb-a held " "bkp status should say what usb-a held after its rotation"
# What the repository takes, against its generations copied whole: a share
# under 100 % (against the newest alone it passed 500 %).
share=$(sed -n 's/.* generation(s) of 1 data set(s) kept: .*, \([0-9.]*\) % of that$/\1/p' <<<"$OUT")
[ -n "$share" ] && python3 -c "import sys; sys.exit(not 0 < float('$share') < 100)" ||
    flunk "bkp status should give the storage as a share under 100 % of the generations copied whole: $OUT"

# Week 3: the backup runs, the operator forgets usb-b.
backup_week 21 8
at 21 9
status_is 0 COMPLIANT "week 3, usb-b due today"
ds_field action | grep -q 'bkp rotate usb-b' || flunk "week 3: the action should be to rotate usb-b: $(ds_field action)"
# Two days later the freshest off-line copy (emr:5, day 14 08:00) is over 8 days old.
at 23 9
status_is 0 "AT RISK" "day 23, usb-b two days overdue"
ds_field action | grep -q 'bkp rotate usb-b' ||
    flunk "day 23: the action should name the overdue disk (bkp rotate usb-b): $(ds_field action)"
ds_reasons | grep -q 'usb-b' || flunk "day 23: the reasons should name usb-b: $(ds_reasons)"
ds_reasons | grep -q 'off-line copy' || flunk "day 23: the reasons should say the off-line copy is too old: $(ds_reasons)"
plug b
rotate_ok usb-b "day 23"
status_is 0 COMPLIANT "day 23, after rotating usb-b"

for w in 4 5 6; do
    backup_week $((w * 7)) 8
    at $((w * 7)) 9
    if [ "$PLUGGED" = a ]; then plug b; else plug a; fi
    if [ "$w" = 6 ]; then # usb-a holds emr:3, 5, 7: the copy of emr:9 lets emr:3 go
        check_exit 0 "$BKP" rotate usb-a --policy "$POL" --dry-run
        output_has "copy    emr:9" "week 6: the dry run should list what it copies"
        output_has "prune   emr:3" "week 6: the dry run should list what the disk's retention lets go"
    fi
    rotate_ok "usb-$PLUGGED" "week $w"
    status_is 0 COMPLIANT "week $w, after rotating usb-$PLUGGED"
done
ok "$BKP" generations emr --policy "$POL"
[ "$(printf '%s\n' "$OUT" | grep -c '^emr:')" -ge 3 ] || flunk "the primary should hold 3+ generations: $OUT"
# A passphrase added after the disks' rotations: each opens with the
# passphrases of before until its next one, named by the status; the one
# rotated since is not.
printf 'the passphrase of the new deputy\n' >"$WORK/p-deputy"
chmod 600 "$WORK/p-deputy"
ok "$BKP" key add --policy "$POL" --new-passphrase-file "$WORK/p-deputy" --label deputy
"$BKP" status --policy "$POL" >"$WORK/status.keys" 2>&1 || true
for d in a b; do
    grep -q "usb-$d holds the key slots of before the key change" "$WORK/status.keys" ||
        flunk "the status should name usb-$d, behind the key change: $(cat "$WORK/status.keys")"
done
rotate_ok "usb-$PLUGGED" "after the key change"
"$BKP" status --policy "$POL" >"$WORK/status.keys" 2>&1 || true
grep -q "usb-$PLUGGED holds the key slots of before" "$WORK/status.keys" &&
    flunk "the disk rotated after the key change is still said to be behind: $(cat "$WORK/status.keys")"

# usb-a was written in weeks 0, 2, 4, 6 (emr:3, 5, 7, 9), usb-b in weeks 1, 3, 5 (emr:4, 6, 8).
for d in a b; do
    want="5 7 9"
    [ "$d" = b ] && want="4 6 8"
    ok "$BKP" media show "usb-$d" --policy "$POL" --json
    n=$(json_num generations)
    [ -n "$n" ] && [ "$n" -ge 3 ] && [ "$n" -le "$KEEP" ] ||
        flunk "usb-$d should hold between 3 and $KEEP generations after 7 weeks, the registry says '$n'"
    [ "$(seqs)" = "$want" ] || flunk "usb-$d should hold emr $want (the newest, pruned to keep_last), registry says: $(seqs)"
    check_exit 0 "$BKP" generations --repo "$(disk "$d")/repo" --json || true
    [ "$(seqs)" = "$want" ] || flunk "the copy on usb-$d should hold emr $want, it lists: $(seqs)"
    check_exit 0 "$BKP" verify --repo "$(disk "$d")/repo" --read-data ||
        flunk "usb-$d's copy does not verify on its own"
done
# The copy's folder copied off the disk without its label is no medium's copy:
# the tombstones of the disk's own prunes are said as such (not "damaged"),
# and the missing log says the folder looks like a disk's copy and what to do.
cp -a "$(disk a)/repo" "$WORK/copied-off"
check_exit 0 "$BKP" generations --repo "$WORK/copied-off" || true
output_has "NOT COUNTED (a tombstone of the copy on medium"
grep -q "DAMAGED" <<<"$OUT" && flunk "a disk's own tombstones read as damaged off the disk: $OUT"
output_has "as a backup disk's copy does"
chattr -R -i "$WORK/copied-off" 2>/dev/null || true
rm -rf "$WORK/copied-off"
# A sample of a copy named by its path reads it: no writer's open, so no
# clean-up pass runs there (a dead writer's temporary file planted in its
# packs/ stays), and nothing at all is written on the disk: not the sample's
# state, not its record (which goes to a journal beside, off the disk).
CP=$(disk a)/repo
touch "$CP/packs/.tmp-$(hostname)-999999-planted"
before=$(cd "$CP" && find . -print0 | sort -z | xargs -0r stat -c '%n %s %Y' && find . -type f -print0 | sort -z | xargs -0r sha256sum)
check_exit 0 "$BKP" verify --repo "$CP" --sample 50 || flunk "a sample of usb-a's copy failed"
after=$(cd "$CP" && find . -print0 | sort -z | xargs -0r stat -c '%n %s %Y' && find . -type f -print0 | sort -z | xargs -0r sha256sum)
[ "$before" = "$after" ] || flunk "a sample of a copy by its path changed the copy: $(diff <(echo "$before") <(echo "$after"))"
rm -f "$CP/packs/.tmp-$(hostname)-999999-planted"

# ============ 4. Restore from a disk alone ============
# usb-b is in the drawer; its newest generation is emr:8 (the primary's is emr:9).
mv "$REPO" "$WORK/repo.away"
rm -rf "$WORK/restored"
check_exit 0 "$BKP" restore emr:latest "$WORK/restored" --repo "$(disk b)/repo" || true
if [ -d "$WORK/restored$EMR" ]; then
    diff -r "$WORK/snap/8" "$WORK/restored$EMR" >"$WORK/restore.diff" 2>&1 ||
        flunk "emr:latest restored from usb-b alone differs from emr:8: $(head -n 5 "$WORK/restore.diff")"
else
    flunk "restore from usb-b alone produced no $WORK/restored$EMR: $(find "$WORK/restored" | head -n 5)"
fi
[ ! -e "$REPO" ] || flunk "restoring from a disk recreated the primary repository"
grep -q '"op":"restore"' "$WORK"/bkp-journal-*.jsonl 2>/dev/null ||
    flunk "a restore from usb-b alone should be recorded in the journal beside its target"
grep -q '"op":"restore"' "$(disk b)/repo/audit/log.jsonl" 2>/dev/null &&
    flunk "a restore from usb-b wrote its record on the disk it read"
mv "$WORK/repo.away" "$REPO"

# ============ 5. A medium that fills up (a 2 MiB tmpfs) ============
# Parts 5 and 6 use a second repository, with on-line disks.
REPO2=$WORK/repo2
POL2=$WORK/policy2.yaml
SMALL=$WORK/small
CRASH=$WORK/crash
mkdir -p "$SMALL" "$CRASH" "$WORK/scans" "$WORK/images"
cat >"$POL2" <<YAML
repository: $REPO2
passphrase_file: $PASSFILE
rule_321: { copies: 3, media_types: 1, offline: 0, offsite: 0 }
media:
  - name: small
    type: disk
    path: $SMALL
    location: onsite
    offline: false
  - name: crash
    type: disk
    path: $CRASH
    location: onsite
    offline: false
  - name: tight
    type: disk
    path: $WORK/tight
    location: onsite
    offline: false
datasets:
  - name: scans
    paths: [$WORK/scans]
    schedule: daily 03:00
    copy_to: [small]
  - name: images
    paths: [$WORK/images]
    schedule: daily 04:00
    copy_to: [crash]
  - name: notes
    paths: [$WORK/notes]
    schedule: daily 05:00
    copy_to: [tight]
    retention: { keep_last: 3 }
YAML
unset BKP_NOW
ok "$BKP" init --policy "$POL2"
for i in 1 2 3; do head -c 2M /dev/urandom >"$WORK/scans/s$i.pdf"; done
ok "$BKP" backup scans --policy "$POL2"

MOUNTED=
_unmount() {
    if [ -n "$MOUNTED" ]; then
        umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" 2>/dev/null || true
        MOUNTED=
    fi
}
# Unmount before lib.sh's _cleanup removes $WORK; _cleanup reads the exit status from $?.
_media_exit() {
    set +e
    _unmount
    (exit "$1")
    _cleanup
}
trap '_media_exit $?' EXIT
if ! mount -t tmpfs -o size=2m tmpfs "$SMALL" 2>"$WORK/mount.err"; then
    echo "SKIP [$TEST_NAME] part 5 (full medium): cannot mount a tmpfs at $SMALL: $(cat "$WORK/mount.err")" >&2
else
    MOUNTED=$SMALL
    ok "$BKP" media label "$SMALL" --name small --policy "$POL2"
    repo_digest "$SMALL" >"$WORK/small-before"
    check_exit 1 "$BKP" rotate small --policy "$POL2" || true
    printf '%s\n%s\n' "$OUT" "$ERR" | grep -qi 'full' ||
        flunk "a full medium should be reported as full: $ERR"
    repo_digest "$SMALL" >"$WORK/small-after"
    lost=$(grep -vxFf "$WORK/small-after" "$WORK/small-before" || true)
    [ -z "$lost" ] || flunk "the failed rotation changed or removed what the medium held before: $lost"
    ok "$BKP" media show small --policy "$POL2" --json
    [ "$(json_num generations)" = 0 ] || flunk "a failed rotation registered generations on small: $OUT"
    grep -q '"last_write"' <<<"$OUT" && flunk "a failed rotation set small's last_write: $OUT"
    check_exit 0 "$BKP" verify --repo "$SMALL/repo" || flunk "a copy left by a failed rotation (full medium) does not verify"
    # Status and the page say it, with what to do: the disk is not current.
    run_any "$BKP" status --policy "$POL2"
    output_has "small: its last rotation" "status should say small's rotation failed"
    output_has "FAILED: the medium is full"
    output_has "small is full: \`bkp rotate small --dry-run\`"
    output_has "run \`bkp rotate small\` again"
    run_any "$BKP" status --policy "$POL2" --format html -o "$WORK/page.html"
    grep -q 'data-unfinished="small"' "$WORK/page.html" || flunk "the status page does not say small's copy did not finish"
    # In Japanese, the reason is in Japanese too: the audit log, the status.
    run_any env LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$BKP" audit show --policy "$POL2"
    output_has "媒体が一杯です" "audit show in Japanese should give the rotation's reason in Japanese"
    run_any env LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$BKP" status --policy "$POL2"
    output_has "媒体が一杯です" "status in Japanese should give the rotation's reason in Japanese"
    # --prune-first on a disk with nothing to let go: said, and status then
    # asks for a larger disk, not for --prune-first again.
    check_exit 1 "$BKP" rotate small --prune-first --policy "$POL2" || true
    output_has "its retention let no generation go before the copy"
    output_lacks "were deleted before the copy"
    run_any "$BKP" status --policy "$POL2"
    output_has "small is too small even after its old generations went"
    output_lacks "small is full: "
    tmps=$(find "$SMALL" -name '.tmp-*')
    [ -z "$tmps" ] || flunk "temporary files remain on the full medium after the next open: $tmps"
    # Give it room: the same disk, now large enough.
    if mount -o remount,size=64m "$SMALL"; then
        check_exit 0 "$BKP" rotate small --policy "$POL2" || flunk "rotation failed on the medium with room"
        run_any "$BKP" status --policy "$POL2" --json
        grep -q '"unfinished"' <<<"$OUT" && flunk "a rotation that worked still leaves one unfinished: $OUT"
        check_exit 0 "$BKP" verify --repo "$SMALL/repo" --read-data || flunk "small's copy does not verify after the rotation"
        check_exit 0 "$BKP" generations --repo "$SMALL/repo" --json || true
        [ "$(seqs)" = 1 ] || flunk "small should hold scans:1 after the second rotation: $(seqs)"
        [ -z "$(find "$SMALL" -name '.tmp-*')" ] || flunk "temporary files remain on small: $(find "$SMALL" -name '.tmp-*')"
    else
        flunk "cannot remount $SMALL with size=64m"
    fi
    _unmount
fi

# ============ 5b. A disk full of old generations: --prune-first ============
# Three generations of 1 MiB each fill the disk; the fourth does not fit. The
# rotation fails, says how to make room; --prune-first deletes notes:1 (what
# retention lets go once notes:4 is there) before the copy, which then fits.
TIGHT=$WORK/tight
mkdir -p "$TIGHT" "$WORK/notes"
if mount -t tmpfs -o size=64m tmpfs "$TIGHT" 2>"$WORK/mount.err"; then
    MOUNTED=$TIGHT
    ok "$BKP" media label "$TIGHT" --name tight --policy "$POL2"
    for i in 1 2 3; do
        rm -f "$WORK"/notes/*
        head -c 1M /dev/urandom >"$WORK/notes/n$i"
        ok "$BKP" backup notes --policy "$POL2"
        ok "$BKP" rotate tight --policy "$POL2"
    done
    used=$(df -k --output=used "$TIGHT" | tail -n 1 | tr -d ' ')
    mount -o remount,size=$((used + 512))k "$TIGHT" || flunk "cannot shrink $TIGHT"
    rm -f "$WORK"/notes/*
    head -c 1M /dev/urandom >"$WORK/notes/n4"
    ok "$BKP" backup notes --policy "$POL2"
    check_exit 1 "$BKP" rotate tight --policy "$POL2" || true
    output_has "tight is full"
    output_has "bkp rotate tight --prune-first"
    check_exit 0 "$BKP" rotate tight --dry-run --policy "$POL2" || true
    output_has "notes:1"
    # What the copy needs beside what the disk has, and that it does not fit.
    output_has "needs   at least 1 pack(s)"
    output_has "tight has"
    output_has "the copy does not fit"
    output_has "bkp rotate tight --prune-first"
    check_exit 0 "$BKP" rotate tight --dry-run --json --policy "$POL2" || true
    jq -e '.needs.bytes > .needs.free_bytes' <<<"$OUT" >/dev/null || flunk "--dry-run --json should give what the copy needs: $OUT"
    check_exit 0 "$BKP" rotate tight --prune-first --policy "$POL2" ||
        flunk "--prune-first did not make room: $(df -k "$TIGHT" | tail -n 1)"
    output_has "tight: deleted before the copy, to make room: notes:1"
    # Nearly full after it: said before the next one fails, and again each
    # day by `bkp status` (terminal, --json, the page), not only to whoever rotated.
    output_has "the next one may not fit"
    run_any "$BKP" status --policy "$POL2"
    output_has "tight had "
    output_has "the next rotation may not fit"
    run_any "$BKP" status --policy "$POL2" --json
    jq -e '.media[] | select(.medium == "tight") | .free_after < .wrote' <<<"$OUT" >/dev/null ||
        flunk "status --json should carry tight's room and what its rotation wrote: $OUT"
    run_any "$BKP" status --policy "$POL2" --format html -o "$WORK/tight.html"
    grep -q 'data-tight="tight"' "$WORK/tight.html" || flunk "the status page should say tight may not fit"
    check_exit 0 "$BKP" generations --repo "$TIGHT/repo" --json || true
    [ "$(seqs)" = "2 3 4" ] || flunk "after --prune-first tight should hold notes 2 3 4: $(seqs)"
    check_exit 0 "$BKP" verify --repo "$TIGHT/repo" --read-data || flunk "tight's copy does not verify after --prune-first"
    # Too large even then: the prune runs, the copy fails, and both are said;
    # the registry lists what the disk holds after the prune.
    rm -f "$WORK"/notes/*
    head -c 3M /dev/urandom >"$WORK/notes/n5"
    ok "$BKP" backup notes --policy "$POL2"
    check_exit 1 "$BKP" rotate tight --prune-first --policy "$POL2" || true
    output_has "notes:2 were deleted before the copy, which then failed"
    ok "$BKP" media show tight --policy "$POL2" --json
    grep -q '"seq": 2' <<<"$OUT" && flunk "the registry still lists notes:2, deleted by the prune: $OUT"
    run_any "$BKP" status --policy "$POL2"
    output_has "tight: its last rotation"
    output_has "It does not hold the newest backups"
    output_lacks "connect tight and run"
    # A larger disk (the same one, given room): the next rotation completes.
    mount -o remount,size=64m "$TIGHT" || flunk "cannot grow $TIGHT"
    check_exit 0 "$BKP" rotate tight --policy "$POL2" || flunk "the rotation after room was made failed"
    _unmount
    # A new disk seeded: its first copy writes everything, the next only a
    # day's backups. One with room for those but not for a second whole copy
    # is not said to be too small (it was, when the first copy was the
    # measure). The clock of the test build spreads the backups over days.
    SEEDPOL=$WORK/seed.yaml
    mkdir -p "$WORK/seeddata"
    printf 'repository: %s\npassphrase_file: %s\nrule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }\nmedia:\n  - { name: fresh, type: disk, path: %s, location: onsite, offline: false }\ndatasets:\n  - { name: records, paths: [%s], schedule: daily 03:00, copy_to: [fresh] }\n' \
        "$WORK/seedrepo" "$PASSFILE" "$TIGHT" "$WORK/seeddata" >"$SEEDPOL"
    ok "$BKP" init --policy "$SEEDPOL"
    T0=$(date +%s)
    head -c 4M /dev/urandom >"$WORK/seeddata/base"
    BKP_NOW=$T0 ok "$BKP" backup records --policy "$SEEDPOL"
    for d in 1 2; do
        head -c 100K /dev/urandom >"$WORK/seeddata/day$d"
        BKP_NOW=$((T0 + d * 86400)) ok "$BKP" backup records --policy "$SEEDPOL"
    done
    seed_on() { # seed_on SIZE: a fresh disk of SIZE, labelled and seeded
        mount -t tmpfs -o "size=$1" tmpfs "$TIGHT" && MOUNTED=$TIGHT
        BKP_NOW=$((T0 + 2 * 86400 + 60)) ok "$BKP" media label "$TIGHT" --name fresh --force --policy "$SEEDPOL"
        BKP_NOW=$((T0 + 2 * 86400 + 120)) check_exit 0 "$BKP" rotate fresh --policy "$SEEDPOL" || true
    }
    seed_on 64m
    used=$(df -k --output=used "$TIGHT" | tail -n 1 | tr -d ' ')
    _unmount
    seed_on $((used + 1536))k
    output_lacks "may not fit"
    BKP_NOW=$((T0 + 2 * 86400 + 180)) run_any "$BKP" status --policy "$SEEDPOL"
    output_lacks "may not fit"
    _unmount
else
    echo "SKIP [$TEST_NAME] part 5b (--prune-first): cannot mount a tmpfs at $TIGHT: $(cat "$WORK/mount.err")" >&2
fi

# ============ 6. A rotation killed mid-copy ============
for i in 1 2 3 4; do head -c 50M /dev/urandom >"$WORK/images/i$i.raw"; done
ok "$BKP" backup images --policy "$POL2"
# Labelled through a relative path: the same directory as the policy's path.
check_exit 0 bash -c 'cd "$1" && "$2" media label crash --name crash --policy "$3"' - "$WORK" "$BKP" "$POL2" || true
grep -q 'expects' <<<"$ERR" &&
    flunk "labelling $CRASH through the relative path 'crash' warned that the policy expects it elsewhere: $ERR"
# kill_rotate WHAT FIND-ARGS...: start `bkp rotate crash`, kill -9 it once
# `find $CRASH/repo/packs FIND-ARGS` names a file. Returns 1 when the
# rotation finished before it could be killed (a busy machine, a fast copy).
kill_rotate() {
    local what=$1 pid found= rc=0
    shift
    # Only a file this rotation wrote: one the killed rotation before it
    # left would stop this one before it began (its attempt not yet noted).
    touch "$WORK/crash.start"
    "$BKP" rotate crash --policy "$POL2" >"$WORK/crash.out" 2>&1 &
    pid=$!
    for _ in $(seq 20000); do
        if [ -n "$(find "$CRASH/repo/packs" "$@" -newer "$WORK/crash.start" -print -quit 2>/dev/null)" ]; then
            found=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
    done
    # Stopped mid-copy, it still holds its writer lock: status says it runs.
    if [ -n "$found" ] && kill -STOP "$pid" 2>/dev/null; then
        run_any "$BKP" status --policy "$POL2" --json
        grep -q '"state": "running"' <<<"$OUT" ||
            flunk "status should say the rotation stopped mid-copy is running: $(grep -A3 '"unfinished"' <<<"$OUT")"
    fi
    kill -9 "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || rc=$?
    if [ -z "$found" ] || [ "$rc" != 137 ]; then
        echo "[$TEST_NAME] note: the rotation could not be killed $what (file seen: ${found:-no}, exit $rc): $(head -c 200 "$WORK/crash.out")" >&2
        return 1
    fi
    [ ! -e "$CRASH/repo/generations/images/0000000001.gen" ] ||
        echo "[$TEST_NAME] note: the rotation killed $what had already written the record" >&2
}
# First as soon as a pack is being written (a temporary file), then once a
# whole pack is on the disk but not yet in its index. A try whose rotation
# ran to the end before the kill starts again on a freshly labelled disk.
killed=
for try in 1 2 3; do
    if kill_rotate "at its first temporary file" -type f &&
        kill_rotate "after its first complete pack" -mindepth 2 -type f ! -name '.tmp-*'; then
        killed=1
        break
    fi
    chattr -R -i "$CRASH" 2>/dev/null || true
    rm -rf "$CRASH" && mkdir -p "$CRASH"
    check_exit 0 "$BKP" media label "$CRASH" --name crash --force --policy "$POL2" || true
done
[ -n "$killed" ] || flunk "the rotation could not be killed mid-copy in three tries; this part proves nothing"
# Nothing recorded the killed rotation; status still says it never ended.
run_any "$BKP" status --policy "$POL2" --json
grep -q '"state": "cut_off"' <<<"$OUT" || flunk "status --json does not show the killed rotation as cut off: $OUT"
run_any "$BKP" status --policy "$POL2"
output_has "crash: its last rotation" "status should say crash's rotation never ended"
output_has "never ended"
check_exit 0 "$BKP" rotate crash --policy "$POL2" || flunk "the rotation after a killed one failed"
check_exit 0 "$BKP" verify --repo "$CRASH/repo" --read-data || flunk "the copy does not verify after a killed rotation"
tmps=$(find "$CRASH" -name '.tmp-*')
[ -z "$tmps" ] || flunk "temporary files of the killed rotation remain: $tmps"
check_exit 0 "$BKP" generations --repo "$CRASH/repo" --json || true
[ "$(seqs)" = 1 ] || flunk "the copy should hold images:1 after the rotation that followed the killed one: $(seqs)"
ok "$BKP" media show crash --policy "$POL2" --json
[ "$(json_num generations)" = 1 ] || flunk "the registry should show crash holding one generation: $OUT"
grep -q '"attempt"' <<<"$OUT" || flunk "the registry does not note crash's last rotation: $OUT"
run_any "$BKP" status --policy "$POL2" --json
grep -q '"unfinished"' <<<"$OUT" && flunk "the rotation after the killed one still leaves one unfinished: $OUT"

# ============ 7. The audit log's copy catches a log cut short ============
backup_week 49 8
at 49 9
plug b
rotate_ok usb-b "week 7"
LOG=$REPO/audit/log.jsonl
ACOPY=$MNT/repo/audit/primary.jsonl
if [ ! -f "$ACOPY" ]; then
    flunk "no copy of the audit log on usb-b after a rotation ($ACOPY); the truncation check cannot run"
elif ! cmp -s "$LOG" "$ACOPY"; then
    flunk "the audit log's copy on usb-b is not the primary's log right after the rotation (did it fail? see above); the truncation check cannot run"
else
    cp -p "$LOG" "$WORK/log.full"
    cp -p "$ACOPY" "$WORK/acopy.before"
    n=$(wc -l <"$LOG")
    chmod u+w "$LOG"
    head -n $((n - 2)) "$WORK/log.full" >"$LOG"
    check_exit 1 "$BKP" audit verify --policy "$POL" --against "$ACOPY" || true
    output_has "missing" "a log cut short should be reported as missing records against the disk's copy"
    at 49 10
    check_exit 1 "$BKP" rotate usb-b --policy "$POL" || true
    output_has "disagrees" "the rotation should say that the host's log disagrees with the disk's copy"
    cmp -s "$ACOPY" "$WORK/acopy.before" || flunk "a rotation replaced the disk's copy of the audit log with a log cut short"
fi

# ============ 8. A disk labelled anew keeps its identity ============
# usb-a's copy holds tombstones bound to its label ("not copied" for the
# records rotated to usb-b, "pruned" for those its prune deleted). Labelled
# again under another name (--force), the disk keeps its label's identity, so
# those tombstones still count there and the copy verifies as before.
[ -f "$WORK/log.full" ] && cp -p "$WORK/log.full" "$LOG" # section 7 cut it short
A=$(disk a)
uuid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uuid"])' "$A/BKP-LABEL")
grep -alq '"medium"' "$A"/repo/generations/emr/*.pruned 2>/dev/null ||
    flunk "usb-a's copy holds no tombstone bound to it; this part proves nothing"
ok "$BKP" media label "$A" --name spare --type removable --location offsite --force --policy "$POL"
grep -q '"name": "spare"' "$A/BKP-LABEL" || flunk "the disk was not relabelled spare: $(cat "$A/BKP-LABEL")"
grep -q "\"uuid\": \"$uuid\"" "$A/BKP-LABEL" ||
    flunk "relabelling usb-a's disk as spare gave it a new identity; its tombstones no longer count there"
ok "$BKP" verify --repo "$A/repo" --read-data

finish
