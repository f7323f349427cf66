#!/usr/bin/env bash
# 50-run — `bkp run`, the cron entry, driven by a policy: what is due runs in
# priority order, a failing or hanging before hook fails its data set and the
# others still run, a second run at once exits 3 (with --lock-wait it waits
# its turn), a dead run's lock is taken
# over, nothing runs twice in one slot, --force runs anyway, the metrics file
# is complete, and a malformed policy never runs.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/emr" "$WORK/scans" "$WORK/other"
echo "patients" >"$WORK/emr/table.txt"
echo "scan" >"$WORK/scans/s1.pdf"
echo "keep me" >"$WORK/other/a.txt"
echo "skip me" >"$WORK/other/b.tmp"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
# These tests are about running; the 3-2-1 rule (tests/e2e/90-media.sh) is relaxed.
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: scans
    priority: 2
    paths: [$WORK/scans]
    schedule: daily 03:00
    retention: { keep_last: 1 }
  - name: emr
    priority: 1
    paths: [$WORK/emr]
    before: { command: "echo dumped > $WORK/emr/dump.sql", timeout: 30s }
    after: { command: "touch $WORK/after-ran" }
    schedule: daily 02:00
  - name: other
    priority: 3
    paths: [$WORK/other]
    exclude: ["*.tmp"]
    schedule: hourly
YAML
unset BKP_PASSPHRASE_FILE # the policy names the passphrase file
ok "$BKP" init --policy "$POL"
[ -f "$REPO/config" ] || fail "init --policy did not create the policy's repository"

# 1. First run: everything is due (never run), in priority order; quiet off a terminal.
# `other` is hourly, on the real clock: runs 1 and 2 must fall in one hour,
# so not in its last two minutes (a second run at 12:00:03 is due anew).
while [ $(($(date +%s) % 3600)) -ge 3480 ]; do sleep 5; done
ok "$BKP" run --policy "$POL" --metrics "$WORK/metrics.prom"
[ -z "$OUT" ] || flunk "a successful run printed to stdout off a terminal: $OUT"
ok "$BKP" generations --policy "$POL" --json
for ds in emr scans other; do
    grep -q "\"dataset\": \"$ds\"" <<<"$OUT" || flunk "run did not back up $ds"
done
[ -f "$WORK/after-ran" ] || flunk "the after hook did not run"
ok "$BKP" ls --policy "$POL" emr:latest
output_has "dump.sql" "the before hook's output should be in the generation"
ok "$BKP" ls --policy "$POL" other:latest
grep -q 'b.tmp' <<<"$OUT" && flunk "an excluded file (*.tmp) was captured"
output_has "a.txt" "a file not excluded should be captured"
grep -q '^bkp_last_success_timestamp_seconds{dataset="emr"} [1-9]' "$WORK/metrics.prom" ||
    flunk "metrics lack a last-success time for emr: $(cat "$WORK/metrics.prom")"
grep -q '^bkp_last_run_failed{dataset="scans"} 0' "$WORK/metrics.prom" || flunk "metrics lack scans' status"
grep -q '^bkp_generations{dataset="other"} 1' "$WORK/metrics.prom" || flunk "metrics lack generation counts"
grep -q '^bkp_last_drill_failed{dataset="other"} 0' "$WORK/metrics.prom" || flunk "metrics lack whether the last drill failed"
# Prometheus' naming (the unit last) and the status of every data set.
for m in 'bkp_run_duration_seconds [0-9]' 'bkp_verdict{dataset="emr",verdict="COMPLIANT"} [01]' \
    'bkp_offline_copy_age_seconds{dataset="emr"} -1' 'bkp_last_run_read_bytes{dataset="emr"} [0-9]' \
    'bkp_newest_generation_suspicious{dataset="emr"} 0' 'bkp_audit_head_ok 1'; do
    grep -q "^$m" "$WORK/metrics.prom" || flunk "metrics lack $m: $(cat "$WORK/metrics.prom")"
done
grep -q 'bkp_last_run_bytes_read\|bkp_run_seconds ' "$WORK/metrics.prom" && flunk "old metric names are still written"
# Each family is declared once.
[ -z "$(grep '^# TYPE' "$WORK/metrics.prom" | sort | uniq -d)" ] || flunk "a metric family is declared twice"
ok "$BKP" status --policy "$POL" --metrics "$WORK/status.prom"
grep -q '^bkp_verdict{dataset="scans",verdict="COMPLIANT"}' "$WORK/status.prom" || flunk "status --metrics wrote no verdicts"

# 2. Run again at once: nothing is due (the slots were served), nothing new.
# The policy may name the metrics file (metrics:), as the cron line and the
# unit run without --metrics: written at every run, due or not.
printf 'metrics: %s\n' "$WORK/policy.prom" >>"$POL"
ok "$BKP" run --policy "$POL" --json
grep -q '^bkp_audit_head_ok 1' "$WORK/policy.prom" || flunk "the policy's metrics file was not written"
[ "$(printf '%s' "$OUT" | grep -c '"result": "not due"')" = 3 ] ||
    flunk "a second run in the same slot ran something: $OUT"
# --force runs regardless; --dataset limits it to one.
ok "$BKP" run --policy "$POL" --force --dataset scans --json
output_has '"result": "sealed"' "--force --dataset scans should seal scans"
[ "$(printf '%s' "$OUT" | grep -c '"dataset"')" -ge 1 ] || flunk "no result for scans"
# Retention after the run: scans keeps its last generation only.
ok "$BKP" generations --policy "$POL" scans
[ "$(printf '%s\n' "$OUT" | grep -c '^scans:')" = 1 ] || flunk "run did not apply retention to scans: $OUT"
grep -q '^scans:2 ' <<<"$OUT" || flunk "the newest scans generation should be the one kept: $OUT"

# 3. A failing and a hanging before hook: that data set fails, the others still run.
sed -i "s|echo dumped > $WORK/emr/dump.sql|exit 3|" "$POL"
check_exit 1 "$BKP" run --policy "$POL" --force --json || true
output_has "before hook exited with status 3" "a failing hook should be reported with its status"
grep -q '"dataset": "scans"' <<<"$OUT" || flunk "scans did not run after emr's hook failed"
sed -i "s|exit 3\", timeout: 30s|sleep 60\", timeout: 2s|" "$POL"
start=$(date +%s)
check_exit 1 "$BKP" run --policy "$POL" --force --dataset emr || true
output_has "killed after 2s" "a hanging hook should be killed at its timeout"
[ $(($(date +%s) - start)) -lt 20 ] || flunk "a hanging hook held the run for $(($(date +%s) - start)) s"

# 4. Two runs at once: the second exits 3 and names the holder; under cron
# (nobody watching) a run the one before it still holds (a long first
# backup) is no news, said with -v.
sed -i "s|sleep 60\", timeout: 2s|sleep 3\", timeout: 30s|" "$POL"
"$BKP" run --policy "$POL" --force --dataset emr >/dev/null 2>&1 &
first=$!
for _ in $(seq 50); do [ -e "$REPO/locks/run" ] && break; sleep 0.1; done
check_exit 3 "$BKP" run --policy "$POL" --force || true
[ -z "$ERR" ] || flunk "a cron run finding the one before it still going mailed it: $ERR"
check_exit 3 "$BKP" run --policy "$POL" --force -v || true
output_has "pid=$first" "the refusal should name the process that holds the lock"
wait "$first" || flunk "the first of two concurrent runs failed"
[ ! -e "$REPO/locks/run" ] || flunk "the lock was left behind after the run"
# With --lock-wait the second waits for the first, quietly, and then runs;
# a wait too short still exits 3, naming the holder.
"$BKP" run --policy "$POL" --force --dataset emr >/dev/null 2>&1 &
first=$!
for _ in $(seq 50); do [ -e "$REPO/locks/run" ] && break; sleep 0.1; done
check_exit 3 "$BKP" run --policy "$POL" --force --dataset emr --lock-wait 1s || true
output_has "pid=$first" "after a short --lock-wait the refusal should name the holder"
start=$(date +%s)
ok "$BKP" run --policy "$POL" --force --dataset emr --lock-wait 60s
grep -q "another bkp holds" <<<"$ERR" && flunk "a run that waited should not report the lock as an error: $ERR"
[ $(($(date +%s) - start)) -lt 30 ] || flunk "--lock-wait waited $(($(date +%s) - start)) s for a 3 s run"
wait "$first" || flunk "the run waited for failed"
expect_exit 2 "$BKP" run --policy "$POL" --lock-wait soon
output_has "--lock-wait soon"

# 5. A lock left by a dead process on this host is taken over, with a warning.
printf 'host=%s pid=999999 user=root time=2026-01-01T00:00:00Z command=bkp run\n' "$(hostname)" >"$REPO/locks/run"
ok "$BKP" run --policy "$POL" --dataset scans
output_has "taking over" "a stale lock should be taken over with a warning"

# 6. A malformed policy never runs, and says where.
printf 'repository: %s\ndatasets:\n  - name: x\n    paths: [/tmp]\n    schedule: daily 25:00\n' "$REPO" >"$WORK/bad.yaml"
repo_digest "$REPO" >"$WORK/before"
check_exit 2 "$BKP" run --policy "$WORK/bad.yaml" || true
output_has "bad.yaml:5:" "a malformed policy should be refused with its line"
repo_digest "$REPO" >"$WORK/after"
diff -q "$WORK/before" "$WORK/after" >/dev/null || flunk "a malformed policy changed the repository"


# 7. The metric of the audit log says 0 once the log is cut short, and once it
# is deleted (what ransomware would do), not only when it cannot be read.
chmod u+w "$REPO/audit/log.jsonl"
sed -i '$d' "$REPO/audit/log.jsonl"
"$BKP" status --policy "$POL" --metrics "$WORK/cut.prom" >/dev/null 2>&1 || true
grep -q '^bkp_audit_head_ok 0' "$WORK/cut.prom" || flunk "a log cut short left bkp_audit_head_ok at: $(grep audit_head "$WORK/cut.prom")"
rm -f "$REPO/audit/log.jsonl"
"$BKP" status --policy "$POL" --metrics "$WORK/gone.prom" >/dev/null 2>&1 || true
grep -q '^bkp_audit_head_ok 0' "$WORK/gone.prom" || flunk "a deleted log left bkp_audit_head_ok at: $(grep audit_head "$WORK/gone.prom")"
# A backup with the log gone is made all the same, and what is said of the
# log does not read as if the backup had not been (it is sealed).
before=$("$BKP" generations scans --policy "$POL" --json 2>/dev/null | jq length)
check_exit 1 "$BKP" backup scans --policy "$POL" || true
after=$("$BKP" generations scans --policy "$POL" --json 2>/dev/null | jq length)
[ "$after" = $((before + 1)) ] || flunk "the backup with the log gone should be sealed all the same: $before then $after"
output_has "This command's record was not written to it"
output_lacks "Nothing was recorded"

# 8. Nobody watching (cron, a timer; no notify:): a failure is said once per
# change, not at every run. The first run prints the hook's output and the
# alert; the same failure again prints nothing (the exit status says it,
# syslog has the words); another cause (another exit status, then the
# capture's own error) is said at once; -v says it as it happens.
mkdir -p "$WORK/quiet/lab"
echo "result" >"$WORK/quiet/lab/r.txt"
QPOL=$WORK/quiet/policy.yaml
cat >"$QPOL" <<YAML
repository: $WORK/quiet/repo
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: lab
    paths: [$WORK/quiet/lab]
    before: { command: "echo 'pg_dump: connection refused' >&2; exit 4" }
    schedule: hourly
YAML
ok "$BKP" init --policy "$QPOL"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "pg_dump: connection refused" "the first failure should print the hook's output"
output_has "the backup of lab failed: before hook exited with status 4" "the first failure should be alerted"
output_has "bkp: error: the backup of lab failed" "a failed backup is an error, not a warning"
# The status says it too (the hook kept the capture from running), and to
# run it again with its hook, not `bkp backup` (which runs none).
run_any "$BKP" status --policy "$QPOL"
output_has "the latest attempt FAILED" "a before hook's failure should stand in the status"
output_has "bkp run --dataset lab --force" "the next step should run the data set with its hooks"
for i in 1 2; do
    check_exit 1 "$BKP" run --policy "$QPOL" --force || true
    [ -z "$OUT$ERR" ] || flunk "the same failure again (run $i) printed, so cron mails it every run: $ERR"
done
check_exit 1 "$BKP" run --policy "$QPOL" --force -v || true
output_has "before hook exited with status 4" "-v should say the failure as it happens"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "a run with -v made the same failure news to cron: $ERR"
# What a hook prints may change at every run (a temporary file's name, a
# time): the same failure all the same. A run a person watches (-v) leaves
# cron as quiet as before.
sed -i "s|echo 'pg_dump: connection refused' >\&2; exit 4|echo pg_dump: could not write \$(mktemp -u) >\&2; exit 4|" "$QPOL"
for i in 1 2; do
    check_exit 1 "$BKP" run --policy "$QPOL" --force || true
    [ -z "$OUT$ERR" ] || flunk "a hook's changing words made the same failure news (run $i): $ERR"
done
sed -i 's|before: .*|before: { command: "echo '"'"'pg_dump: connection refused'"'"' >\&2; exit 4" }|' "$QPOL"
sed -i 's|exit 4|exit 5|' "$QPOL"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "before hook exited with status 5" "a failure of another cause should be said at once"
output_has "pg_dump: connection refused" "a failure of another cause should print the hook's output"
jq -e '.["backup:lab"].cause | startswith("before-hook:")' "$WORK/quiet/repo/cache/notify.json" >/dev/null ||
    flunk "the alert's state should keep the cause: $(cat "$WORK/quiet/repo/cache/notify.json")"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the new failure again printed: $ERR"
sed -i 's|before: .*|before: { command: "true" }|' "$QPOL"
mv "$WORK/quiet/lab" "$WORK/quiet/lab.away"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "none of the paths of lab could be read" "the capture's own words are news with a new cause"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the capture's failure again printed: $ERR"
# An after hook that fails hides no failure of the capture before it: the
# capture's failing, then not, then again, is said each time.
sed -i 's|before: .*|before: { command: "true" }\n    after: { command: "echo cleanup failed >\&2; exit 3" }|' "$QPOL"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "after hook exited with status 3" "the after hook's failure should be said"
output_has "none of its paths could be read; after hook exited" "both failures should be in the alert"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the same two failures again printed: $ERR"
mv "$WORK/quiet/lab.away" "$WORK/quiet/lab"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "the backup of lab failed: after hook exited with status 3" "the after hook alone is another cause"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the after hook's failure again printed: $ERR"
mv "$WORK/quiet/lab" "$WORK/quiet/lab.away"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "none of the paths of lab could be read" "the capture failing behind a failing after hook was hidden"
mv "$WORK/quiet/lab.away" "$WORK/quiet/lab"
sed -i '/after: /d' "$QPOL"
# A path that cannot be read is said once; another path that cannot, at
# once, though its name differs only in a digit.
sed -i "s|paths: \[$WORK/quiet/lab\]|paths: [$WORK/quiet/lab, $WORK/quiet/ward1]|" "$QPOL"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "ward1" "an unreadable path should be named"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the same unreadable path again printed: $ERR"
sed -i "s|$WORK/quiet/ward1|$WORK/quiet/ward2|" "$QPOL"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "ward2" "another unreadable path is news"
# The next day's reminder says it again, words and all (reminders come at
# the first run after 00:00 UTC, for what was told half a day before: two
# days on, whatever the hour now).
BKP_NOW=$(($(date +%s) + 2 * 86400)) check_exit 1 "$BKP" run --policy "$QPOL" --force || true
output_has "ward2" "the daily reminder should print the failure's words"
sed -i "s|, $WORK/quiet/ward2||" "$QPOL"
check_exit 0 "$BKP" run --policy "$QPOL" --force || true
jq -e 'has("backup:lab") | not' "$WORK/quiet/repo/cache/notify.json" >/dev/null ||
    flunk "the failure's end should clear its alert: $(cat "$WORK/quiet/repo/cache/notify.json")"
output_has "the backup of lab succeeded again" "cron's mail should say the failure ended"
check_exit 0 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "a run after the mended one printed: $OUT$ERR"
# A person at a terminal who sends the output to a file still sees the
# failure told before: only stderr decides whether anyone watches.
if command -v script >/dev/null; then
    mv "$WORK/quiet/lab" "$WORK/quiet/lab.away"
    "$BKP" run --policy "$QPOL" --force >/dev/null 2>&1 || true
    script -qec "'$BKP' run --policy '$QPOL' --force >'$WORK/quiet/out.txt'" "$WORK/quiet/tty.txt" >/dev/null 2>&1 || true
    grep -q "none of the paths of lab could be read" "$WORK/quiet/tty.txt" ||
        flunk "a run on a terminal with its output to a file said nothing on the terminal: $(cat "$WORK/quiet/tty.txt")"
    mv "$WORK/quiet/lab.away" "$WORK/quiet/lab"
    check_exit 0 "$BKP" run --policy "$QPOL" --force || true
fi

# An on-line disk not mounted (a NAS away): said once, not at every run,
# and once only in a run (the re-read passes it over).
mkdir -p "$WORK/quiet/nas"
printf 'media:\n  - { name: nas, type: disk, path: %s }\n' "$WORK/quiet/nas" >>"$QPOL"
sed -i "s|    schedule: hourly|    schedule: hourly\n    copy_to: [nas]|" "$QPOL"
ok "$BKP" media label "$WORK/quiet/nas" --name nas --policy "$QPOL"
check_exit 0 "$BKP" run --policy "$QPOL" --force || true
mv "$WORK/quiet/nas" "$WORK/quiet/nas.away"
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ "$(grep -c 'no medium is at' <<<"$ERR")" = 1 ] || flunk "the NAS away should be said once in the run: $ERR"
output_has "copying to an on-line medium failed"
rotations=$(grep -c '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl")
check_exit 1 "$BKP" run --policy "$QPOL" --force || true
[ -z "$OUT$ERR" ] || flunk "the NAS still away was said again: $ERR"
# Nor recorded again: the log says when it began, and when it ends.
[ "$(grep -c '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl")" = "$rotations" ] ||
    flunk "the NAS still away was recorded again: $(grep '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl" | tail -2)"
run_any "$BKP" status --policy "$QPOL"
output_has "nas: its last rotation" "a NAS away should stand in the status"
output_has "no medium at" "the status should say why the NAS copy failed"
# The page asks the clerk for the system officer today, not to copy to it
# "before it is taken away": nobody takes a NAS away.
run_any "$BKP" status --policy "$QPOL" --format html -o "$WORK/quiet/page.html"
grep -q 'data-unfinished="nas">The last copy to nas did not finish.*look at it today' "$WORK/quiet/page.html" ||
    flunk "the page should ask for the NAS to be looked at: $(grep -o 'data-unfinished[^<]*' "$WORK/quiet/page.html")"
grep -q 'before it is taken away' "$WORK/quiet/page.html" && flunk "the page asks to keep a NAS until a copy"
run_any "$BKP" status --policy "$QPOL" --json
jq -e '.media[] | select(.medium == "nas") | .online' <<<"$OUT" >/dev/null ||
    flunk "status --json should say the NAS is kept on-line: $OUT"
mv "$WORK/quiet/nas.away" "$WORK/quiet/nas"
check_exit 0 "$BKP" run --policy "$QPOL" --force || true
jq -e 'has("copy-online") | not' "$WORK/quiet/repo/cache/notify.json" >/dev/null ||
    flunk "the NAS back should clear its alert: $(cat "$WORK/quiet/repo/cache/notify.json")"
# A quiet run (nothing due, the NAS holding every generation, the re-read
# sampled a moment ago) adds nothing to the audit log: at every quarter of
# an hour it would bury the nights' records. (No schedule: an hourly one
# may come due while the test runs.)
sed -i '/    schedule: hourly/d' "$QPOL"
check_exit 0 "$BKP" run --policy "$QPOL" || true # the policy's change is recorded
records=$(wc -l <"$WORK/quiet/repo/audit/log.jsonl")
check_exit 0 "$BKP" run --policy "$QPOL" || true
[ -z "$OUT$ERR" ] || flunk "a quiet run printed: $OUT$ERR"
[ "$(wc -l <"$WORK/quiet/repo/audit/log.jsonl")" = "$records" ] ||
    flunk "a quiet run added records: $(tail -n +$((records + 1)) "$WORK/quiet/repo/audit/log.jsonl" | jq -c "{op,dataset,medium,outcome}")"
# A key changed: the next run brings the NAS's key file up to date (a
# retired passphrase leaves the disk within the quarter hour, not at the
# next backup).
ok "$BKP" key add --label cron --machine-key "$WORK/quiet/machine.key" --policy "$QPOL"
cmp -s "$WORK/quiet/repo/keys/key" "$WORK/quiet/nas/repo/keys/key" && flunk "the key file changed nowhere"
check_exit 0 "$BKP" run --policy "$QPOL" || true
cmp -s "$WORK/quiet/repo/keys/key" "$WORK/quiet/nas/repo/keys/key" ||
    flunk "the run left the NAS's key file behind the repository's key slots"
# A NAS that fails in the middle of its copy (its packs folder cannot take
# more, as a full disk) is recorded once, not at every quarter hour.
if chattr +i "$WORK/quiet/nas/repo/packs" 2>/dev/null; then
    echo more >"$WORK/quiet/lab/more.txt"
    check_exit 1 "$BKP" run --policy "$QPOL" --force || true
    rotations=$(grep -c '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl")
    check_exit 1 "$BKP" run --policy "$QPOL" || true
    check_exit 1 "$BKP" run --policy "$QPOL" || true
    [ "$(grep -c '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl")" = "$rotations" ] ||
        flunk "a NAS failing alike was recorded again: $(grep '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl" | tail -2)"
    chattr -i "$WORK/quiet/nas/repo/packs"
    check_exit 0 "$BKP" run --policy "$QPOL" || true
    grep '"op":"rotate"' "$WORK/quiet/repo/audit/log.jsonl" | tail -1 | grep -q '"outcome":"ok"' ||
        flunk "the NAS mended should be copied to and recorded"
fi

finish
