#!/usr/bin/env bash
# 52-edited-log — root edits one record in the middle of the audit log (a
# figure of an old backup). Everyone who reads it is told what happened,
# first, and what to do, not a consequence of it:
#  1. `audit verify` names the edited record before anything else, says the
#     tombstones after it cannot be checked in one line (not one error a
#     tombstone), and points at an off-line disk's copy;
#  2. `audit verify --against usb` says the disk's copy holds the record as
#     written;
#  3. `bkp status` says it first and exits 1; the status page asks the clerk
#     to tell the system officer today, never "nothing is due";
#  4. the nightly run's re-read tells it as the log's problem, with `bkp
#     audit verify`, not as damaged data to repair from a medium;
#  5. `audit check` of an evidence report made before: the file is the
#     report as made, and the log is said not to be whole;
#  6. the log cut back and restarted, then a record after the restart
#     edited: the disk's copy, of the history before, is not taken for the
#     record as written.
. "$(dirname "$0")/../e2e/lib.sh"

D=$WORK/data
REPO=$WORK/repo
USB=$WORK/usb
POL=$WORK/policy.yaml
mkdir -p "$D" "$USB"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
media:
  - { name: usb, type: removable, path: $USB, offline: true, rotate_every: 7d }
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 2 }
    copy_to: [usb]
    schedule: daily 00:00
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE
export BKP_POLICY=$POL

ok "$BKP" init
ok "$BKP" media label "$USB" --name usb
for i in 1 2 3 4; do
    echo "version $i" >"$D/f"
    ok "$BKP" backup ds
done
ok "$BKP" prune
ok "$BKP" rotate usb
ok "$BKP" audit verify
ok "$BKP" audit report --lang en -o "$WORK/evidence.md"

# The figures of the first backup, one byte changed.
LOG=$REPO/audit/log.jsonl
n=$(grep -n '"op":"backup"' "$LOG" | head -1 | cut -d: -f1)
[ -n "$n" ] || fail "no backup record in the log"
sed -i "${n}s/\"files\":1,/\"files\":2,/" "$LOG"
grep -q '"files":2,' "$LOG" || fail "the edit did not take"

# ---- 1. audit verify ----
expect_exit 1 "$BKP" audit verify
first=$(printf '%s\n' "$ERR" | head -1)
case "$first" in
*"record $n is not signed"*) ;;
*) flunk "audit verify should name the edited record first: $first" ;;
esac
output_has "record $n was changed after it was written"
output_has "bkp audit verify --against usb"
output_has "tombstone(s) cannot be checked against the audit log: it is not whole from record $n"
output_lacks "is not backed by a prune record"

# ---- 2. against the disk's copy ----
expect_exit 1 "$BKP" audit verify --against usb
output_has "holds record $n as it was written"

# ---- 3. status and its page ----
expect_exit 1 "$BKP" status
first=$(printf '%s\n' "$OUT" | head -1)
case "$first" in
"audit log: NOT intact: record $n"*) ;;
*) flunk "status should say the log is not intact first: $first" ;;
esac
"$BKP" status --format html -o "$WORK/page.html" >/dev/null 2>&1 || true
grep -q 'data-audit="damaged">Tell the system officer today' "$WORK/page.html" ||
    flunk "the page should ask the clerk to tell the system officer"
grep -q 'Nothing is due today' "$WORK/page.html" && flunk "the page says nothing is due beside an edited log"

# ---- 4. the nightly run ----
# Under cron (nobody watching) the alert says it; with a person watching,
# the re-read's own words, as it happens. Either way as the log's problem.
check_exit 1 "$BKP" run --force </dev/null || true
output_has "the rolling re-read found the audit log changed"
output_lacks "--repair-from"
check_exit 1 "$BKP" run --force -v </dev/null || true
output_has "the rolling re-read found the audit log of the repository changed"
output_lacks "--repair-from"

# ---- 5. a report made before ----
expect_exit 0 "$BKP" audit check "$WORK/evidence.md"
output_has "unchanged — the evidence report for"
output_has "is not whole from record $n"

# ---- 6. another history on the disk ----
sed -i "${n}s/\"files\":2,/\"files\":1,/" "$LOG"
ok "$BKP" audit verify
head -n 5 "$LOG" >"$WORK/cut" && cat "$WORK/cut" >"$LOG"
sleep 1.1 # the restart a second after the prunes it loses: their tombstones are older
ok "$BKP" audit restart "the log was cut back for the test"
for i in 5 6; do
    echo "version $i" >"$D/f"
    ok "$BKP" backup ds
done
m=$(grep -n '"op":"backup"' "$LOG" | tail -1 | cut -d: -f1)
[ "$m" -gt 6 ] || fail "no backup after the restart"
sed -i "${m}s/\"files\":1,/\"files\":2,/" "$LOG"
expect_exit 1 "$BKP" audit verify --against usb
output_has "does not hold record $m as this log's history had it"
output_lacks "holds record $m as it was written"
sed -i "${m}s/\"files\":2,/\"files\":1,/" "$LOG"
ok "$BKP" audit verify

finish
