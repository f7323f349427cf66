#!/usr/bin/env bash
# 92-drill-offline — drills rehearse losing the server.
#
#  1. Before the first rotation `bkp run` runs no scheduled drill, although
#     one is "due" (never held): it would only read the server's repository.
#  2. After the first rotation the scheduled drill waits for its first time
#     after the repository began (not the 1st of the month before it), then
#     runs from `bkp run`; its record and `bkp status` (terminal, JSON, page)
#     mark it unattended.
#  3. An attended `bkp drill NAME` with the off-line disk connected reads the
#     disk alone, says so on the terminal and in the report ("read_from":
#     "offline", the source usb), and its report is attended.
#  4. With the disk away it reads the server's repository, warns that this
#     is not the day it rehearses, and the report says why (no_offline).
#     The disk connected but unreadable fails the drill; no medium may be
#     named "repository".
#  5. `--medium repository` reads the primary alone, as asked (primary); an
#     attended drill is shown in the status without the mark.
#  6. An unattended drill after it does not hide the last attended one.
#  7. A scheduled drill whose runbook cannot be used is recorded as failed
#     (said once, not again at every run), the status says FAILED, and the
#     drill's alert is not cleared by the runs after it.
#  8. Under cron a drill's commands are quiet when they pass; one that fails
#     is said with the last lines it wrote, and the status (terminal and
#     page) gives it as a step to take.
#  9. A passphrase that does not open the disk connected: the key's fault.
# 10. A runbook of two data sets, the disk holding one: not started, said,
#     and recorded as failed for both.
. "$(dirname "$0")/lib.sh"
need_root
need_tool jq
need_test_clock
export TZ=UTC
# Set up on the 10th of a month; the drill's schedule is the 1st at 06:00.
BKP_NOW=$(date -u -d 2026-11-10T09:00:00Z +%s)
export BKP_NOW

DATA=$WORK/data
kit_fixture 200000 10
mkdir -p "$WORK/usb" "$WORK/reports"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
status_page: $WORK/status.html
media:
  - name: usb
    type: removable
    path: $WORK/usb
    offline: true
datasets:
  - name: emr
    paths: [$DATA/emr]
    copy_to: [usb]
    runbook: emr
    schedule: daily 00:00
drills:
  - { runbook: emr, schedule: monthly 1 06:00 }
YAML
export BKP_POLICY=$POL
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
ok "$BKP" init
ok "$BKP" media label "$WORK/usb" --name usb

drills() { "$BKP" audit show --json | jq -c '[.[] | select(.op == "drill")]'; }

# 1. No scheduled drill before the first rotation (on the repository's
# first day the run exits 0 although no off-line copy is there yet).
check_exit 0 "$BKP" run --force
[ "$(drills | jq length)" = 0 ] || flunk "a scheduled drill ran before the first rotation: $(drills)"

ok "$BKP" rotate usb

# 2. Not on the day of set-up: its first time after the repository began is
# the 1st of the next month. Then the scheduled drill, unattended.
"$BKP" run --force >"$WORK/run.out" 2>&1 || true
[ "$(drills | jq length)" = 0 ] || flunk "the monthly drill ran on the day of set-up: $(drills)"
BKP_NOW=$(date -u -d 2026-12-01T06:05:00Z +%s)
"$BKP" run --force >"$WORK/run.out" 2>&1 || true
d=$(drills | jq -c '[.[] | select(.figures.attended == false)]')
[ "$(jq length <<<"$d")" -ge 1 ] || flunk "bkp run should have held the scheduled drill, unattended: $(drills)"
ok "$BKP" status
output_has "(unattended)" "status should mark the last drill unattended"
output_has "no drill attended by a person yet"
ok "$BKP" status --json
jq -e '.datasets[0].last_drill.attended == false' <<<"$OUT" >/dev/null ||
    flunk "status --json should say the last drill was not attended: $(jq -c '.datasets[0].last_drill' <<<"$OUT")"
grep -q "unattended" "$WORK/status.html" || flunk "the status page should mark the drill unattended"

# 3. Attended, the disk connected: the disk alone.
ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田" --report "$WORK/reports/a"
output_has "read from: usb" "the drill should say it read the off-line disk"
R=$(ls "$WORK"/reports/a/drill-*.json)
[ "$(jq -r .read_from "$R")" = offline ] || flunk "the report should say read_from offline: $(jq -c . "$R")"
[ "$(jq -r '[.restored[].source] | unique | join(",")' "$R")" = usb ] ||
    flunk "an attended drill with the disk connected should restore from usb alone: $(jq -c .restored "$R")"
[ "$(jq -r .attended "$R")" = true ] || flunk "an attested drill is attended"
MD=$(ls "$WORK"/reports/a/drill-*.en.md)
grep -q "| Read from | the off-line media that were connected" "$MD" || flunk "the report should say what it read: $(cat "$MD")"
grep -q "| Attended | yes" "$MD" || flunk "the report should say it was attended"
JA=$(ls "$WORK"/reports/a/drill-*.ja.md)
grep -q "オフライン" "$JA" || flunk "the Japanese report should say it read the off-line media"

# 4. The disk away: the server's repository, said.
mv "$WORK/usb" "$WORK/usb-away"
ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田" --report "$WORK/reports/b"
output_has "no off-line medium is connected" "the drill should warn that it reads the server's repository"
R=$(ls "$WORK"/reports/b/drill-*.json)
[ "$(jq -r .read_from "$R")" = no_offline ] || flunk "the report should say read_from no_offline: $(jq -r .read_from "$R")"
[ "$(jq -r '.restored[0].source' "$R")" = repository ] || flunk "without the disk the drill reads the repository"
mv "$WORK/usb-away" "$WORK/usb"

# 4b. The disk connected but its copy unreadable: the drill fails, as the day
# of an attack would; it never rehearses from the server instead.
mv "$WORK/usb/repo" "$WORK/usb-repo-away"
check_exit 1 answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田" --report "$WORK/reports/e"
output_has "is connected but holds nothing this drill can restore"
ls "$WORK"/reports/e/drill-*.json >/dev/null 2>&1 && flunk "a drill that could not read the connected disk left a report of success"
mv "$WORK/usb-repo-away" "$WORK/usb/repo"

# 4d. No medium may be called what --medium calls the primary.
mkdir -p "$WORK/other"
check_exit 2 "$BKP" media label "$WORK/other" --name repository
output_has "names the primary repository"

# 5. The primary as asked; an attended drill is shown without the mark.
ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田" --medium repository --report "$WORK/reports/c"
R=$(ls "$WORK"/reports/c/drill-*.json)
[ "$(jq -r .read_from "$R")" = primary ] && [ "$(jq -r '.restored[0].source' "$R")" = repository ] ||
    flunk "--medium repository should read the primary alone: $(jq -c '{read_from, restored}' "$R")"
check_exit 2 "$BKP" drill emr --medium repository --key-from "$WORK/none.md"

ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田" --report "$WORK/reports/d"
ok "$BKP" status
grep -q "(unattended)" <<<"$OUT" && flunk "an attended drill is shown as unattended: $OUT"

# 6. The next scheduled drill, unattended, does not hide the one 山田 attended:
# status, its JSON and the page name it beside the unattended one.
BKP_NOW=$(date -u -d 2027-01-01T06:05:00Z +%s)
"$BKP" run --force >"$WORK/run.out" 2>&1 || true
ok "$BKP" status
output_has "(unattended)" "the January drill should be the last, unattended"
output_has "last attended drill" "status should still name the last drill a person attended"
output_has "attended by 山田"
ok "$BKP" status --json
jq -e '.datasets[0].last_attended_drill.attested_by == "山田"' <<<"$OUT" >/dev/null ||
    flunk "status --json should keep the last attended drill: $(jq -c '.datasets[0].last_attended_drill' <<<"$OUT")"
grep -q 'data-attended="last">[^<]*山田' "$WORK/status.html" ||
    flunk "the status page should name the last attended drill: $(grep -o 'data-attended[^<]*' "$WORK/status.html")"

# 7. The runbook broken before February's drill.
RB=$WORK/runbooks/emr.yaml
cp "$RB" "$WORK/emr.yaml.good"
sed -i 's/^title:/titel:/' "$RB"
BKP_NOW=$(date -u -d 2027-02-01T06:05:00Z +%s)
run_any "$BKP" run --force
[ "$RC" = 1 ] || flunk "a run whose scheduled drill could not start should exit 1, not $RC"
output_has "could not start" "the run should say the scheduled drill could not start"
output_has "bkp runbook show emr"
[ "$(drills | jq '[.[] | select(.outcome == "failed")] | length')" = 1 ] ||
    flunk "the drill that could not start should be recorded as failed: $(drills)"
"$BKP" audit show --json | jq -e '[.[] | select(.op == "notify" and .figures.key == "runbook:emr" and .figures.event == "raised")] | length == 1' >/dev/null ||
    flunk "the run should tell once that the runbook of emr cannot be used: $("$BKP" audit show --json | jq -c '[.[] | select(.op == "notify")] | map(.figures.key)')"
BKP_NOW=$(date -u -d 2027-02-01T06:20:00Z +%s)
run_any "$BKP" run
grep -q "could not start\|titel" <<<"$OUT$ERR" && flunk "the next run should not try the broken drill again: $ERR"
[ "$(drills | jq '[.[] | select(.outcome == "failed")] | length')" = 1 ] ||
    flunk "the drill that could not start was held again a quarter of an hour later: $(drills)"
"$BKP" audit show --json | jq -e '[.[] | select(.op == "notify" and .figures.key == "drill")] | last | .figures.event == "raised"' >/dev/null ||
    flunk "the drill's alert should stay raised: $("$BKP" audit show --json | jq -c '[.[] | select(.op == "notify" and .figures.key == "drill")]')"
ok env LANG=C "$BKP" status # AT RISK: exit 0
output_has "(unattended, FAILED: runbook emr)" "status should say the last drill failed, and of which runbook"
output_has "its runbook emr cannot be used" "status should say the runbook cannot be used"
output_has "bkp runbook show emr"
cp "$WORK/emr.yaml.good" "$RB"

# 8. A check that warns (a missing locale) and passes, then fails.
cat >>"$RB" <<'YAML'
  - { who: "システム担当", check: "echo 'perl: warning: Setting locale failed' >&2; test -d \"$BKP_TARGET\"" }
YAML
BKP_NOW=$(date -u -d 2027-03-01T06:05:00Z +%s)
run_any "$BKP" run --force
grep -q 'Setting locale' <<<"$OUT$ERR" && flunk "a drill step that passed under cron should be quiet: $ERR"
[ "$(drills | jq -r 'last | .outcome')" = ok ] || flunk "March's drill should succeed: $(drills | jq -c last)"
sed -i 's/test -d/test ! -d/' "$RB"
BKP_NOW=$(date -u -d 2027-04-01T06:05:00Z +%s)
run_any "$BKP" run --force
output_has "what its command wrote last: perl: warning: Setting locale failed" \
    "a drill step that failed under cron should be said with its last lines"
"$BKP" audit show --json | jq -e 'last(.[] | select(.op == "drill")) | tostring | contains("Setting locale") | not' >/dev/null ||
    flunk "a command's output must never reach the audit log"
# The failed drill is a step to take, for the officer and on the clerk's page.
run_any env LANG=C "$BKP" status
output_has "the last drill of runbook emr failed (audit record #" "status should give the failed drill's reason"
output_has "read why the drill of emr failed (\`bkp audit show" "status should give the failed drill as a step"
grep -q 'read why the drill of emr failed' "$WORK/status.html" ||
    flunk "the status page should give the failed drill as something to do today"
cp "$WORK/emr.yaml.good" "$RB"

# 9. The disk connected, a passphrase that does not open it: said as the
#    key's fault (exit 4), never as no medium being there.
printf 'not the passphrase of this repository\n' >"$WORK/wrong.pass"
chmod 600 "$WORK/wrong.pass"
check_exit 4 "$BKP" drill emr --medium usb --passphrase-file "$WORK/wrong.pass" --report "$WORK/reports/w" </dev/null || true
output_has "usb is connected, and the key given does not open it"
output_lacks "neither the repository nor any medium"

# 10. A runbook of two data sets of which the off-line disk holds one: a
#     drill of people does not start, says which and where it is, and is
#     recorded as failed for both, so that the status shows it.
mkdir -p "$DATA/lab"
echo "lab result" >"$DATA/lab/a.txt"
sed -i "/^datasets:/a\\  - { name: lab, paths: [$DATA/lab], schedule: daily 00:00 }" "$POL"
cat >"$WORK/runbooks/both.yaml" <<'YAML'
title: "Both"
datasets: [emr, lab]
owner: "IT"
steps:
  - { who: "IT", select: { dataset: emr, newest: verified } }
  - { who: "IT", restore: { dataset: emr, to: /var/restore/emr } }
  - { who: "IT", select: { dataset: lab, newest: verified } }
  - { who: "IT", restore: { dataset: lab, to: /var/restore/lab } }
YAML
ok "$BKP" backup lab
before=$(drills | jq length)
check_exit 1 "$BKP" drill both --report "$WORK/reports/both" </dev/null || true
output_has "lab is on none of the off-line media connected (usb)"
[ "$(drills | jq "length - $before")" = 2 ] ||
    flunk "the drill that did not start should be recorded for both data sets: $(drills | jq -c ".[$before:]")"
drills | jq -e ".[$before:] | all(.outcome == \"failed\" and .figures.attended == true)" >/dev/null ||
    flunk "those records should be failed, and attended: $(drills | jq -c ".[$before:]")"
# The record whole, as an inspector reads it: its figures' names in words.
ok env LANG=C "$BKP" audit show "$(drills | jq -r 'last | .seq')"
output_has "attended (a person attended) = yes"
output_has "unstarted (could not start) = yes"
# On a machine without the server's repository: recorded in a journal
# beside the reports, as a drill that ran is.
mv "$REPO" "$WORK/repo.away"
check_exit 1 "$BKP" drill both --report "$WORK/reports/away" </dev/null || true
output_has "lab is on none of the off-line media connected (usb)"
grep -l '"unstarted": *true' "$WORK/reports/away"/bkp-journal-*.jsonl >/dev/null 2>&1 ||
    flunk "the drill that did not start should be in a journal beside the reports: $(ls -A "$WORK/reports/away" 2>&1)"
mv "$WORK/repo.away" "$REPO"

finish
