#!/usr/bin/env bash
# 94-connected-medium — an off-line disk left plugged in is noticed.
#
# The disk is an ext4 image mounted at the medium's path (a file system of
# its own, as a USB disk is).
#  1. Labelled and never written, or right after its rotation, the disk is
#     not "left connected": it waits for its first copy; the person has an
#     hour to unmount it and carry it away.
#  2. Two hours later (the test clock), still mounted: `bkp status` says so
#     (terminal, --json "connected", the page's "what to do today") and
#     counts its copy neither off-line nor non-editable; `bkp
#     run` tells the notify command once ("connected"), not at every run.
#     Past its due date, still plugged in, it is still said, never cleared,
#     and the next step rotates it (`--unmount`), never "connect usb".
#  3. `bkp rotate usb --unmount` unmounts it once the rotation succeeded
#     (with --json, stdout stays the JSON document).
#  4. Away: status says nothing, counts it off-line again, and the next run
#     clears the alert once.
#  5. A medium whose path is no mount point: --unmount warns, unmounts
#     nothing and the rotation still exits 0. A medium on the repository's
#     own file system is never called "connected".
#  6. A disk of another repository at the medium's path (an old disk after
#     a new start): status says so and to unmount it (terminal, --json
#     "other_repository", the page), and does not call its pin forged.
. "$(dirname "$0")/lib.sh"
need_root
need_test_clock
need_tool mount umount losetup mkfs.ext4 mountpoint jq

DATA=$WORK/data
mkdir -p "$DATA" "$WORK/usb" "$WORK/arch"
echo "カルテ" >"$DATA/a.txt"
IMG=$WORK/usb.img
truncate -s 64M "$IMG"
mkfs.ext4 -q -F "$IMG"
if ! mount -o loop "$IMG" "$WORK/usb" 2>"$WORK/mount.err"; then
    echo "SKIP [$TEST_NAME]: cannot loop-mount an image here: $(cat "$WORK/mount.err")" >&2
    exit 77
fi
_umount_usb() { mountpoint -q "$WORK/usb" && umount "$WORK/usb" || true; }
at_exit _umount_usb

cat >"$WORK/notify-cmd" <<SH
#!/bin/sh
{ cat; echo; } >>"$WORK/events.jsonl"
SH
chmod 755 "$WORK/notify-cmd"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
notify:
  command: { command: "$WORK/notify-cmd", timeout: 30s }
media:
  - { name: usb, type: removable, path: $WORK/usb, offline: true, rotate_every: 7d }
  - { name: arch, type: archive, path: $WORK/arch, offline: true, rotate_every: 7d }
datasets:
  - name: ds
    paths: [$DATA]
    copy_to: [usb, arch]
    schedule: daily 00:00
YAML
export BKP_POLICY=$POL
T0=$(date +%s)
export BKP_NOW=$T0
ok "$BKP" init
ok "$BKP" media label "$WORK/usb" --name usb
# Labelled before any backup: a rotation has nothing yet, and says why (not
# "no data set of the policy is copied to it", which is not so).
ok "$BKP" rotate usb --dry-run
output_has "nothing yet: the data sets copied to it have no generation"
output_lacks "no data set of the policy is copied to it"
# 0. The repository's first day: a disk not yet written is not alerted as due
# (its first rotation is part of the setting up); it is from the second day.
"$BKP" run >/dev/null 2>&1 || true
[ ! -f "$WORK/events.jsonl" ] || [ "$(jq -rs '[.[] | select(.key | startswith("due:"))] | length' "$WORK/events.jsonl")" = 0 ] ||
    flunk "no medium is due on the repository's first day: $(cat "$WORK/events.jsonl")"
ok "$BKP" media label "$WORK/arch" --name arch
# Labelled, never written: it waits for its first copy, which status asks
# for; it is not also told to be unmounted and taken away empty.
"$BKP" status >"$WORK/s0" 2>&1 || true
grep -q "still connected" "$WORK/s0" && flunk "a disk never written is told to be taken away: $(cat "$WORK/s0")"
ok "$BKP" backup ds
ok "$BKP" rotate usb
ok "$BKP" rotate arch

events() { jq -rs '[.[] | select(.key == "connected:usb") | .event] | join(",")' "$WORK/events.jsonl" 2>/dev/null; }

# 1. Within the hour after the rotation: not left connected.
"$BKP" status >"$WORK/s1" 2>&1 || true
grep -q "still connected" "$WORK/s1" && flunk "a disk just rotated is not yet left connected: $(cat "$WORK/s1")"

# 2. Two hours later, still mounted.
export BKP_NOW=$((T0 + 7200))
"$BKP" status >"$WORK/s2" 2>&1 || true
grep -q "usb is still connected at $WORK/usb" "$WORK/s2" ||
    flunk "status should say usb is still connected: $(cat "$WORK/s2")"
grep -q "arch is still connected" "$WORK/s2" &&
    flunk "a folder on the repository's own file system is not a disk left plugged in"
LANGUAGE=ja LANG=C.UTF-8 "$BKP" status >"$WORK/s2ja" 2>&1 || true
grep -q "usb が .* に接続されたまま" "$WORK/s2ja" || flunk "status in Japanese should say so: $(cat "$WORK/s2ja")"
"$BKP" status --json >"$WORK/s2.json" 2>/dev/null || true
[ "$(jq -r '.connected[0].medium' "$WORK/s2.json")" = usb ] ||
    flunk "status --json should list usb under connected: $(jq -c .connected "$WORK/s2.json")"
# Within reach of the server, it is not counted off-line: only arch is.
[ "$(jq -r '.datasets[0].counted.offline' "$WORK/s2.json")" = 1 ] ||
    flunk "a disk left plugged in is not an off-line copy: $(jq -c '.datasets[0].counted' "$WORK/s2.json")"
[ "$(jq -r '.datasets[0].copies_on_media[] | select(.medium == "usb") | "\(.offline) \(.non_editable)"' "$WORK/s2.json")" = "false false" ] ||
    flunk "usb's copy should be neither off-line nor non-editable while plugged in: $(jq -c ".datasets[0].copies_on_media" "$WORK/s2.json")"
"$BKP" status --format html -o "$WORK/page.html" >/dev/null 2>&1 || true
grep -q 'data-connected="usb"' "$WORK/page.html" || flunk "the status page should say usb is still connected"
"$BKP" run >/dev/null 2>&1 || true
"$BKP" run >/dev/null 2>&1 || true
[ "$(events)" = raised ] || flunk "two runs should tell 'usb still connected' once: $(events)"

# 2b. Past its due date and still plugged in: still said, never cleared.
export BKP_NOW=$((T0 + 8 * 86400))
"$BKP" status >"$WORK/s2b" 2>&1 || true
grep -q "usb is still connected" "$WORK/s2b" || flunk "a disk left plugged in past its due date is still connected: $(cat "$WORK/s2b")"
# ... and its rotation is the step before taking it away: one instruction,
# never "take it away" beside "run bkp rotate".
grep -q "due for its rotation: run \`bkp rotate usb\`, then unmount it and take it away" "$WORK/s2b" ||
    flunk "a plugged-in disk that is due should be told to be rotated first: $(cat "$WORK/s2b")"
grep -q "unmount it and take it away (\`umount" "$WORK/s2b" &&
    flunk "a due disk is told to be taken away before its copy: $(cat "$WORK/s2b")"
# The next step knows it is here: not "connect usb".
grep -q "rotate usb --unmount\`, then take it away — 1 day overdue" "$WORK/s2b" ||
    flunk "the next step should rotate the disk that is plugged in: $(cat "$WORK/s2b")"
grep -q "connect usb and run" "$WORK/s2b" && flunk "a disk plugged in is told to be connected: $(cat "$WORK/s2b")"
"$BKP" status --format html -o "$WORK/page2b.html" >/dev/null 2>&1 || true
grep -q 'data-waiting="usb"' "$WORK/page2b.html" || flunk "the page should ask for usb's copy"
grep -q 'data-connected="usb"\|data-bring="usb"' "$WORK/page2b.html" &&
    flunk "the page should neither send usb away nor ask to bring it: $(grep -o 'data-[a-z]*="usb"' "$WORK/page2b.html")"
"$BKP" run >/dev/null 2>&1 || true
case "$(events)" in *cleared*) flunk "a disk still plugged in when due must not be told 'no longer connected': $(events)" ;; esac

# 3. --unmount.
ok "$BKP" rotate usb --unmount --json
jq . <<<"$OUT" >/dev/null || flunk "rotate --json --unmount should print JSON alone on stdout: $OUT"
output_has "unmounted $WORK/usb; disconnect it and take it away: it is kept on-site, off-line"
mountpoint -q "$WORK/usb" && flunk "rotate --unmount left the disk mounted"
# How the rotation left the disk's files, for the inspector's report: ext4
# takes the immutable attribute.
ok "$BKP" media list --json
[ "$(jq -r '.. | objects | select(.name? == "usb" or .label?.name? == "usb") | .sealed // empty' <<<"$OUT" | head -1)" = immutable ] ||
    flunk "the registry should say usb's files were made immutable: $OUT"

# 4. Away: nothing said, the alert cleared once.
"$BKP" status >"$WORK/s4" 2>&1 || true
grep -q "still connected" "$WORK/s4" && flunk "an unmounted disk is not connected: $(cat "$WORK/s4")"
"$BKP" status --json >"$WORK/s4.json" 2>/dev/null || true
[ "$(jq -r '.datasets[0].counted.offline' "$WORK/s4.json")" = 2 ] ||
    flunk "taken away, usb counts off-line again: $(jq -c '.datasets[0].counted' "$WORK/s4.json")"
"$BKP" run >/dev/null 2>&1 || true
"$BKP" run >/dev/null 2>&1 || true
[ "$(events | tr ',' '\n' | grep -c cleared)" = 1 ] && [ "$(events | sed 's/.*,//')" = cleared ] ||
    flunk "the runs after should clear the alert once: $(events)"

# 4b. A new disk, never labelled, mounted where usb goes: said as such, with
# how to take it in usb's place (not "no medium is here").
truncate -s 8M "$WORK/new.img"
mkfs.ext4 -q -F "$WORK/new.img" >/dev/null 2>&1
mount -o loop "$WORK/new.img" "$WORK/usb" || fail "cannot mount the new disk's image"
{
    expect_exit 1 "$BKP" rotate usb
    output_has "the disk mounted at $WORK/usb has no label"
    output_has "bkp media label $WORK/usb --name usb --force"
    output_lacks "no medium is at"
    umount "$WORK/usb"
}
expect_exit 1 "$BKP" rotate usb
output_has "no medium is at $WORK/usb"

# 4c. No notify: in the policy: what cron mails is all there is. A disk
# plugged in again past its hour is said on stderr once, not at every run,
# and so is its turn once it is overdue.
sed '/^notify:/,/^  command:/d' "$POL" >"$WORK/quiet.yaml"
export BKP_NOW=$((T0 + 8 * 86400 + 3 * 3600))
mount -o loop "$IMG" "$WORK/usb" || fail "cannot mount the disk's image again"
"$BKP" run --policy "$WORK/quiet.yaml" </dev/null >"$WORK/c1.out" 2>"$WORK/c1.err" || true
grep -q "usb is still connected at $WORK/usb: unmount it" "$WORK/c1.err" ||
    flunk "cron (no notify:) should be told the disk is left plugged in: $(cat "$WORK/c1.err" "$WORK/c1.out")"
"$BKP" run --policy "$WORK/quiet.yaml" </dev/null >"$WORK/c2.out" 2>"$WORK/c2.err" || true
grep -q "usb is still connected" "$WORK/c2.err" "$WORK/c2.out" &&
    flunk "cron should be told once, not at every run: $(cat "$WORK/c2.err")"
# A passphrase added while usb is plugged in past its hour: the disk opens
# with the passphrases of before, so its rotation comes before it is taken
# away (not "unmount it").
printf 'the passphrase of the new deputy\n' >"$WORK/p-deputy"
chmod 600 "$WORK/p-deputy"
ok "$BKP" key add --policy "$WORK/quiet.yaml" --new-passphrase-file "$WORK/p-deputy" --label deputy
"$BKP" status --policy "$WORK/quiet.yaml" >"$WORK/s4d" 2>&1 || true
grep -q "usb is still connected at $WORK/usb and due for its rotation" "$WORK/s4d" ||
    flunk "a plugged-in disk behind the key change should be rotated before it goes: $(cat "$WORK/s4d")"
grep -q "unmount it and take it away (\`umount" "$WORK/s4d" &&
    flunk "a plugged-in disk behind the key change is told to go as it is: $(cat "$WORK/s4d")"
umount "$WORK/usb"
export BKP_NOW=$((T0 + 17 * 86400))
"$BKP" run --policy "$WORK/quiet.yaml" </dev/null >"$WORK/c3.out" 2>"$WORK/c3.err" || true
grep -q "usb is overdue for its rotation" "$WORK/c3.err" ||
    flunk "cron (no notify:) should be told the disk is overdue: $(cat "$WORK/c3.err" "$WORK/c3.out")"

# 5. No mount point: a warning, exit 0.
ok "$BKP" rotate arch --unmount
output_has "not a mount point"

# 6. Another repository's disk where usb goes: an old disk after the server
# was lost and a new repository made.
mkdir -p "$WORK/old"
ok env -u BKP_POLICY "$BKP" init --repo "$WORK/old/repo"
truncate -s 16M "$WORK/old.img"
mkfs.ext4 -q -F "$WORK/old.img"
mount -o loop "$WORK/old.img" "$WORK/usb" || fail "cannot mount the old disk's image"
ok env -u BKP_POLICY "$BKP" media label "$WORK/usb" --name usb --type removable --location offsite --repo "$WORK/old/repo"
echo "not a pin of ours" >"$WORK/usb/BKP-PIN"
run_any "$BKP" status --policy "$WORK/quiet.yaml"
output_has "The disk at $WORK/usb is not usb: its label is of another repository"
output_lacks "forged" "another repository's pin should not be called forged"
run_any "$BKP" status --policy "$WORK/quiet.yaml" --json
jq -e '.media[] | select(.medium == "usb") | .other_repository | length == 36' <<<"$OUT" >/dev/null ||
    flunk "status --json should name the other repository of the disk at usb's path: $OUT"
run_any "$BKP" status --policy "$WORK/quiet.yaml" --format html -o "$WORK/other.html"
grep -q 'data-other-repository="usb"' "$WORK/other.html" || flunk "the page should say the disk at usb's path is another repository's"
# Not mounted, a folder with such a label is no disk to unmount.
umount "$WORK/usb"
mkdir -p "$WORK/usb"
ok env -u BKP_POLICY "$BKP" media label "$WORK/usb" --name usb --type removable --location offsite --force --repo "$WORK/old/repo"
run_any "$BKP" status --policy "$WORK/quiet.yaml"
output_lacks "is not usb"

finish
