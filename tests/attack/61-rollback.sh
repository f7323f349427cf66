#!/usr/bin/env bash
# 61-rollback — the chain cannot lose its head (issue: deleting the newest
# generation records, with or without cutting the audit log's tail, passed
# every check, and `rotate` then copied an older generation as "the newest"
# over a disk that held a newer one). A rotation pins on the disk each data
# set's head and the audit log's length; the primary is then rolled back
# three ways — its newest record deleted and the log cut, the whole
# repository replaced by a copy taken before the last backup, and history
# rewritten beside the pin (another ds:3 sealed on the old copy). Each time
# `rotate` is refused and leaves the disk byte for byte as it was, `verify
# --media` fails, and `status` says NON-COMPLIANT, naming the disk and what
# is missing.
. "$(dirname "$0")/../e2e/lib.sh"

D=$WORK/data
MNT=$WORK/usb
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: true
    rotate_every: 7d
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 5 }
    copy_to: [usb-a]
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --policy "$POL"
for i in 1 2; do
    echo "version $i" >"$D/f"
    ok "$BKP" backup --policy "$POL" ds
done
cp -a "$REPO" "$WORK/before-last" # an older copy of the primary, taken before the last backup
echo "version 3" >"$D/f"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
[ -f "$MNT/BKP-PIN" ] || flunk "the rotation left no pin on usb-a"
ok "$BKP" verify --media usb-a --policy "$POL"
cp -a "$REPO" "$WORK/good"

# refused WHAT...: rotate, verify --media and status each see the primary behind
# (or beside) usb-a, say so, and the disk is not touched.
refused() {
    repo_digest "$MNT" >"$WORK/disk-before"
    check_exit 1 "$BKP" rotate usb-a --policy "$POL" || true
    output_has "rotation to usb-a refused" "rotate must refuse a primary behind the disk"
    for w in "$@"; do output_has "$w"; done
    output_has "restore it from usb-a" "the message must say what to do"
    if grep -q "another repository history" <<<"$ERR"; then
        flunk "the message still blames another repository history"
    fi
    repo_digest "$MNT" >"$WORK/disk-after"
    diff -q "$WORK/disk-before" "$WORK/disk-after" >/dev/null || flunk "a refused rotation changed usb-a"
    check_exit 1 "$BKP" verify --media usb-a --policy "$POL" || true
    for w in "$@"; do output_has "$w" "verify --media must name what is missing"; done
    check_exit 1 "$BKP" status --policy "$POL" || true
    output_has "NON-COMPLIANT" "status must not call a rolled-back primary compliant"
    output_has "usb-a" "status must name the medium"
    for w in "$@"; do output_has "$w" "status must say what is missing"; done
    repo_digest "$MNT" >"$WORK/disk-after"
    diff -q "$WORK/disk-before" "$WORK/disk-after" >/dev/null || flunk "verify or status changed usb-a"
}

# 1. The newest record deleted and the audit log's tail cut.
rm -f "$REPO/generations/ds/0000000003.gen"
head -n 3 "$REPO/audit/log.jsonl" >"$WORK/cut" && cat "$WORK/cut" >"$REPO/audit/log.jsonl"
refused "ds:3, pinned on usb-a, is missing" "usb-a pinned 8; records"

# 2. Only the record deleted (the log kept whole).
rm -rf "$REPO" && cp -a "$WORK/good" "$REPO"
rm -f "$REPO/generations/ds/0000000003.gen"
refused "ds:3, pinned on usb-a, is missing" "behind usb-a"

# 3. The whole primary replaced by the copy taken before the last backup.
rm -rf "$REPO" && cp -a "$WORK/before-last" "$REPO"
refused "ds:3, pinned on usb-a, is missing" "the primary may have been rolled back"

# 4. Beside: on the old copy another ds:3 is sealed — the same number, another record.
echo "other history" >"$D/f"
ok "$BKP" backup --policy "$POL" ds
refused "ds:3 on the primary is not the record pinned on usb-a" "beside usb-a" "rewritten"

# The good primary back: everything passes again.
rm -rf "$REPO" && cp -a "$WORK/good" "$REPO"
ok "$BKP" verify --media usb-a --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
finish
