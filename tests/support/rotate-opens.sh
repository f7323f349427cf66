#!/usr/bin/env bash
# rotate-opens.sh — how many times one disk rotation opens the primary's
# generation records and its audit log. Two data sets, two on-line disks,
# each rotated once before (so each holds a pin); then one more backup of
# each data set and `bkp rotate disk-a` under strace. Prints
# "records N log M" (opens of generations/*/*.{gen,pruned,cleared} of the
# primary, and of audit/log.jsonl, reads and appends) and exits 0;
# ROTATE_OPENS_SHOW=1 lists those opens.
#   BKP=build/bkp BKP_SOURCE_DIR=. bash tests/support/rotate-opens.sh
. "${BKP_SOURCE_DIR:-.}/tests/e2e/lib.sh"
need_tool strace
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$WORK/emr" "$WORK/scans" "$WORK/disk-a" "$WORK/disk-b"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - { name: disk-a, type: disk, path: $WORK/disk-a, location: onsite, rotate_every: 1d }
  - { name: disk-b, type: disk, path: $WORK/disk-b, location: offsite, rotate_every: 1d }
datasets:
  - { name: emr, paths: [$WORK/emr], schedule: daily 02:00, copy_to: [disk-a, disk-b] }
  - { name: scans, paths: [$WORK/scans], schedule: daily 03:00, copy_to: [disk-a, disk-b] }
YAML
backup() {
    echo "$1" >"$WORK/emr/t.txt"
    echo "$1" >"$WORK/scans/s.txt"
    ok "$BKP" backup emr --policy "$POL"
    ok "$BKP" backup scans --policy "$POL"
}
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$WORK/disk-a" --name disk-a --policy "$POL"
ok "$BKP" media label "$WORK/disk-b" --name disk-b --policy "$POL"
backup 1
ok "$BKP" rotate disk-a --policy "$POL"
ok "$BKP" rotate disk-b --policy "$POL"
backup 2
# The leak checker does not run under a tracer.
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat -o "$WORK/trace" \
    "$BKP" rotate disk-a --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" ||
    fail "the traced rotation failed: $(cat "$WORK/.err")"
rec=$(grep -v ENOENT "$WORK/trace" | grep -F "\"$REPO/generations/" |
    grep -Ec '\.(gen|pruned|cleared)"')
log=$(grep -v ENOENT "$WORK/trace" | grep -cF "\"$REPO/audit/log.jsonl\"")
echo "records $rec log $log"
[ -z "${ROTATE_OPENS_SHOW:-}" ] || grep -F "$REPO/" "$WORK/trace" | grep -E 'generations/|audit/log' | sed "s|$WORK|W|"
finish
