#!/usr/bin/env bash
# 50-chain-head — the chain cannot lose its head (issue: "deleting the newest
# generation record(s), with or without cutting the audit log's tail, passes
# verify and audit verify; the next backup reuses the deleted sequence
# number; a deleted or emptied audit log is silently started again at record
# 1, even by a read-only verify; a `not copied` tombstone from an archive
# hides a deleted record"). On real files, against the build under test:
#  1. the newest record deleted: verify and audit verify fail naming it; the
#     next backup takes the number after it, never its number;
#  2. the log's tail cut as well: caught by the log's signed head marker,
#     without any copy of the log;
#  3. the log deleted, or emptied: every command reports it, none starts it
#     again at record 1 (a read-only verify creates nothing), and only an
#     explicit `bkp audit restart REASON` continues it, with a signed record;
#  4. a `not copied` tombstone taken from an archive put in place of a
#     deleted record: verify exit 1, inside lock_days;
#  5. the log is private (0600).
. "$(dirname "$0")/../e2e/lib.sh"
need_tool tar

D=$WORK/data
REPO=$WORK/repo
TAPE=$WORK/tape
POL=$WORK/policy.yaml
mkdir -p "$D" "$TAPE"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: tape
    type: archive
    path: $TAPE
    location: offsite
    offline: true
    rotate_every: 30d
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 10, lock_days: 30 }
    copy_to: [tape]
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE

# no_signal WHAT: the last command ended with a documented exit code.
no_signal() {
    case "$RC" in 0 | 1 | 2 | 3) ;; *) flunk "$1 ended with exit $RC (a signal or an undocumented code)" ;; esac
}

ok "$BKP" init --policy "$POL"
LOG=$REPO/audit/log.jsonl
mode=$(stat -c %a "$LOG")
[ "$mode" = 600 ] || flunk "the audit log is created mode $mode, not 0600"
[ -f "$REPO/audit/head" ] || flunk "init wrote no head marker beside the audit log"
for i in 1 2 3; do
    echo "version $i" >"$D/f"
    ok "$BKP" backup --policy "$POL" ds
done
ok "$BKP" verify --policy "$POL"
ok "$BKP" audit verify --policy "$POL"
cp -a "$REPO" "$WORK/pristine"

# ---- 1. the newest record deleted ----
GEN3=$REPO/generations/ds/0000000003.gen
chmod u+w "$REPO/generations/ds"
chattr -i "$GEN3" 2>/dev/null || true
rm -f "$GEN3"
check_exit 1 "$BKP" verify --policy "$POL" || true
no_signal "verify after the newest record was deleted"
output_has "ds:3" "verify should name the deleted newest generation"
check_exit 1 "$BKP" audit verify --policy "$POL" || true
no_signal "audit verify after the newest record was deleted"
# No medium pinned ds:3 yet, but the primary's own log knows it was sealed:
# rotation must not copy ds:2 as "the newest".
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
check_exit 1 "$BKP" rotate tape --policy "$POL" || true
no_signal "rotate after the newest record was deleted"
output_has "disagree" "rotate should say the log and the generations disagree"
[ -z "$(ls -A "$TAPE" | grep '\.tar$')" ] || flunk "rotate wrote an archive of an older head: $(ls "$TAPE")"
rm -rf "${TAPE:?}"/* # section 4 labels it afresh
# The next backup: a new number, never the deleted one.
echo "version 4" >"$D/f"
check_exit 0 "$BKP" backup --policy "$POL" ds || flunk "a backup after the deletion failed"
[ ! -e "$GEN3" ] || flunk "the next backup reused the deleted sequence number 3"
[ -e "$REPO/generations/ds/0000000004.gen" ] || flunk "the next backup did not take number 4: $(ls "$REPO/generations/ds")"
check_exit 1 "$BKP" verify --policy "$POL" || true
output_has "ds:3" "verify should still name the deleted generation after the next backup"

# ---- 2. the newest record deleted and the log's tail cut ----
rm -rf "$REPO" && cp -a "$WORK/pristine" "$REPO"
chmod u+w "$REPO/generations/ds"
chattr -i "$GEN3" 2>/dev/null || true
rm -f "$GEN3"
# Cut every record from the one that sealed ds:3 on.
cut=$(grep -n '"generation":"ds:3"' "$LOG" | head -n 1 | cut -d: -f1)
[ -n "$cut" ] || fail "no audit record of the backup of ds:3"
head -n $((cut - 1)) "$LOG" >"$WORK/cut" && cat "$WORK/cut" >"$LOG"
repo_digest "$REPO" >"$WORK/before"
check_exit 1 "$BKP" audit verify --policy "$POL" || true
no_signal "audit verify of a log cut short"
output_has "missing at the end" "a log cut short should be caught by its head marker, without a copy"
check_exit 1 "$BKP" verify --policy "$POL" || true
no_signal "verify of a repository whose log was cut short"
output_has "audit log" "verify should report the audit log cut short"
"$BKP" generations --policy "$POL" >/dev/null 2>"$WORK/gen.err" || true
grep -q "head marker" "$WORK/gen.err" || flunk "a read-only command should report the log cut short"
repo_digest "$REPO" >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || flunk "a verify of a log cut short changed the repository"
# Nothing appends to it any more: a backup is refused, the log stays as it is.
echo "version 5" >"$D/f"
check_exit 1 "$BKP" backup --policy "$POL" ds || true
no_signal "backup onto a log cut short"
output_has "head marker" "a backup onto a log cut short should say why it cannot record"
cmp -s "$WORK/cut" "$LOG" || flunk "a command appended to a log cut short as if nothing happened"

# ---- 3. the log deleted, then emptied ----
rm -rf "$REPO" && cp -a "$WORK/pristine" "$REPO"
rm -f "$LOG"
check_exit 1 "$BKP" verify --policy "$POL" || true
no_signal "verify without an audit log"
output_has "missing" "verify should report the missing audit log"
[ ! -e "$LOG" ] || flunk "a read-only verify created the audit log again"
check_exit 1 "$BKP" audit verify --policy "$POL" || true
output_has "missing" "audit verify should report the missing log"
"$BKP" generations --policy "$POL" >/dev/null 2>"$WORK/gen.err" || true
grep -q "missing" "$WORK/gen.err" || flunk "bkp generations should report the missing audit log"
[ ! -e "$LOG" ] || flunk "bkp generations created the audit log again"
echo "version 6" >"$D/f"
check_exit 1 "$BKP" backup --policy "$POL" ds || true
no_signal "backup without an audit log"
output_has "audit restart" "a backup without its log should say how to continue it"
[ ! -e "$LOG" ] || flunk "a backup started the deleted audit log again at record 1"
: >"$WORK/empty"
cp "$WORK/empty" "$LOG"
check_exit 1 "$BKP" verify --policy "$POL" || true
output_has "empty" "verify should report the emptied audit log"
[ ! -s "$LOG" ] || flunk "a read-only verify wrote into the emptied audit log"
check_exit 1 "$BKP" backup --policy "$POL" ds || true
[ ! -s "$LOG" ] || flunk "a backup started the emptied audit log again at record 1"
# The operator's answer: a signed record of the loss, naming the last head.
check_exit 2 "$BKP" audit restart --policy "$POL" || true
ok "$BKP" audit restart --policy "$POL" "test: the log was emptied"
grep -q '"op":"log_restarted"' "$LOG" || flunk "audit restart wrote no log_restarted record"
grep -q '"last_known_head"' "$LOG" || flunk "the restart record does not name the last head known"
ok "$BKP" audit verify --policy "$POL"
output_has "restarted" "audit verify should say the log was restarted"
ok "$BKP" backup --policy "$POL" ds
[ -e "$REPO/generations/ds/0000000004.gen" ] || flunk "the backup after a restart did not take number 4"

# ---- 4. a tombstone from an archive in place of a deleted record ----
rm -rf "$REPO" && cp -a "$WORK/pristine" "$REPO"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
ok "$BKP" rotate tape --policy "$POL"
A=$TAPE/ds@0000000003.tar
[ -f "$A" ] || fail "rotate tape wrote no $A: $(ls -A "$TAPE" | tr '\n' ' ')"
tar -xOf "$A" ds@0000000003/generations/ds/0000000002.pruned >"$WORK/tomb" ||
    fail "no tombstone of ds:2 in the archive"
grep -aq '"reason":"not copied"' "$WORK/tomb" || fail "the archive's tombstone of ds:2 is not a 'not copied' one"
grep -aq '"medium":' "$WORK/tomb" || flunk "the archive's 'not copied' tombstone is not bound to its medium"
GEN2=$REPO/generations/ds/0000000002.gen
chmod u+w "$REPO/generations/ds"
chattr -i "$GEN2" 2>/dev/null || true
rm -f "$GEN2"
cp "$WORK/tomb" "$REPO/generations/ds/0000000002.pruned"
check_exit 1 "$BKP" verify --policy "$POL" || true
no_signal "verify with a planted tombstone"
output_has "ds:2" "verify should name the generation hidden by a planted tombstone"
output_has "not copied" "verify should say the tombstone was written for a copy"
# Planted on the primary with a label from the same archive beside it: the
# primary's signed head marker still says what it is.
tar -xOf "$A" ds@0000000003/BKP-LABEL >"$REPO/BKP-LABEL"
check_exit 1 "$BKP" verify --policy "$POL" || true
output_has "ds:2" "a label planted beside the primary must not make its planted tombstone count"
rm -f "$REPO/BKP-LABEL"
# The same tombstone read from its own medium's archive counts there.
check_exit 0 "$BKP" verify --media tape --policy "$POL" || flunk "the archive's own tombstones no longer verify on it"

# ---- 5. the log and its marker put back from an earlier day ----
# Without the key nothing locally can tell an older consistent log from the
# present one (docs/SECURITY.md §4); what a medium was given still counts:
# ds:3 went into the tape's archive, so its number is never given again.
rm -rf "$REPO" && cp -a "$WORK/pristine" "$REPO"
chattr -R -i "$TAPE" 2>/dev/null || true
rm -rf "${TAPE:?}"/*
cut=$(grep -n '"generation":"ds:3"' "$LOG" | head -n 1 | cut -d: -f1)
head -n $((cut - 1)) "$LOG" >"$WORK/old-log"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
ok "$BKP" rotate tape --policy "$POL"
cp -a "$REPO/audit" "$WORK/audit-after"
# Put back a log that ends before ds:3 was sealed, with a marker signed for
# it (a log from that day and its marker): make them by cutting and letting
# an operator's restart re-anchor, as the simplest consistent pair.
chmod u+w "$REPO/generations/ds"
chattr -i "$GEN3" 2>/dev/null || true
rm -f "$GEN3"
cat "$WORK/old-log" >"$LOG"
ok "$BKP" audit restart "test: an older log put back" --policy "$POL"
echo "version 5" >"$D/f"
check_exit 0 "$BKP" backup --policy "$POL" ds || flunk "a backup after the old log was put back failed"
[ ! -e "$GEN3" ] || flunk "ds:3, given to the tape, was sealed again after the log was put back"
check_exit 1 "$BKP" rotate tape --policy "$POL" || true
no_signal "rotate after the log was put back"

finish
