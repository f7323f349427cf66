#!/usr/bin/env bash
# 60-time — time is not an input (issue: "a generation whose capture time is
# not after its predecessor's, or lies in the future, is refused or marked
# suspicious"; the attack on restic's append-only mode, restic #22057: a
# compromised host adds backdated or far-future snapshots so that
# `forget --keep-last` removes the genuine ones). Three good daily
# generations fill keep_last 3; the host, its clock in its hands, then seals
# generations dated three years ahead and a year back. prune deletes no good
# generation and says why it keeps the forged ones; rotate copies the newest
# good one, not the forged "newest"; the backdated one is marked suspicious
# at seal; `audit verify` reports the log's times going backwards.
. "$(dirname "$0")/../e2e/lib.sh"
need_test_clock

T0=$(date -u -d 2026-11-02T09:00:00Z +%s)
DAY=86400
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
    retention: { keep_last: 3 }
    copy_to: [usb-a]
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE
export BKP_NOW=$T0
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --policy "$POL"
for i in 0 1 2; do
    export BKP_NOW=$((T0 + i * DAY))
    echo "good $i" >"$D/f"
    ok "$BKP" backup --policy "$POL" ds
done
repo_digest "$REPO/generations" | grep -E '000000000[123]\.gen' >"$WORK/good-before"

# The compromised host: generations dated three years ahead, one a year back,
# another far ahead.
echo "junk" >"$D/f"
for at in $((T0 + 1000 * DAY)) $((T0 - 400 * DAY)) $((T0 + 2000 * DAY)); do
    export BKP_NOW=$at
    ok "$BKP" backup --policy "$POL" ds
done
export BKP_NOW=$((T0 + 1000 * DAY))
ok "$BKP" generations --policy "$POL" --json
grep -q '"suspicious": true' <<<"$OUT" || flunk "the backdated generation was not marked suspicious at seal: $OUT"

# Back to the real time of the site.
export BKP_NOW=$((T0 + 3 * DAY))
ok "$BKP" prune --policy "$POL" --dry-run
for g in ds:4 ds:5 ds:6; do
    grep "^$g " <<<"$OUT" | grep "keep" >/dev/null || flunk "$g should be kept (and never counted): $OUT"
done
output_has "time out of order" "prune should say why it keeps the forged generations"
ok "$BKP" prune --policy "$POL"
ok "$BKP" generations --policy "$POL"
for g in ds:1 ds:2 ds:3; do
    grep -q "^$g " <<<"$OUT" || flunk "prune deleted the good generation $g: $OUT"
done
repo_digest "$REPO/generations" | grep -E '000000000[123]\.gen' >"$WORK/good-after"
diff -q "$WORK/good-before" "$WORK/good-after" >/dev/null || flunk "a good generation's record changed or went"

# Rotation copies the newest good generation, not a forged "newest".
ok "$BKP" rotate usb-a --policy "$POL"
output_has "ds:3" "rotate should copy the newest good generation"
if grep -qE 'copied.*ds:[456]' <<<"$OUT"; then
    flunk "rotate copied a forged generation: $OUT"
fi
output_has "out of order" "rotate should say why it passed over the forged ones"

# A later genuine backup is in order again; prune still keeps the good ones.
export BKP_NOW=$((T0 + 4 * DAY))
echo "good 4" >"$D/f"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" prune --policy "$POL"
ok "$BKP" generations --policy "$POL"
for g in ds:2 ds:3 ds:7; do
    grep -q "^$g " <<<"$OUT" || flunk "$g should be kept: $OUT"
done

# The audit log's times went backwards with the backdated seal.
check_exit 1 "$BKP" audit verify --policy "$POL" || true
output_has "times go backwards" "audit verify should report records dated before earlier ones"
finish
