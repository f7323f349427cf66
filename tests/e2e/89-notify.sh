#!/usr/bin/env bash
# 89-notify — alerts once per change: a data set that is NON-COMPLIANT is
# told once to the policy's notify command (the event as JSON on stdin) and
# by mail (through sendmail, a subject in RFC 2047, Japanese and English),
# and `bkp run` warns once — not every 15 minutes; a day later, one
# reminder; a reminder the command could not take is told again at the next
# run; a change (NON-COMPLIANT to AT RISK) is told at once; once the policy
# is met, "cleared" is told once; a run's events make one mail (the
# command takes each). Every event is in the
# audit log. Runs on the test clock (BKP_NOW).
. "$(dirname "$0")/lib.sh"
need_test_clock

T0=$(date -u -d 2026-11-02T03:00:00Z +%s)
at() { export BKP_NOW=$((T0 + $1)); }
DATA=$WORK/data
mkdir -p "$DATA/emr" "$WORK/usb"
echo "note" >"$DATA/emr/n.txt"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$WORK/notify-cmd" <<SH
#!/bin/sh
[ -e "$WORK/fail" ] && exit 1
{ cat; echo; } >>"$WORK/events.jsonl"
echo "\$BKP_EVENT \$BKP_KEY \$BKP_STATE" >>"$WORK/env.txt"
SH
cat >"$WORK/sendmail" <<SH
#!/bin/sh
n=\$(ls "$WORK"/mbox/mail-* 2>/dev/null | wc -l)
echo "\$*" >"$WORK/mbox/mail-\$n.args"
id -un >"$WORK/mbox/mail-\$n.user"
cat >"$WORK/mbox/mail-\$n"
SH
chmod 755 "$WORK/notify-cmd" "$WORK/sendmail"
# sendmail runs as the policy's mail user (run_as), never root by default:
# it writes where that user may.
mkdir -m 1777 "$WORK/mbox"
policy() { # policy RULE [HOOK]
    cat >"$POL" <<YAML
facility: "さくら診療所"
language: ja
repository: $REPO
passphrase_file: $PASSFILE
rule_321: $1
notify:
  command: { command: "$WORK/notify-cmd", timeout: 30s }
  mail: { to: it@clinic.example, from: bkp@clinic.example, sendmail: $WORK/sendmail, run_as: nobody }
  remind_every: 1d
datasets:
  - name: emr
    paths: [$DATA/emr]
    schedule: daily 02:00
${2:-}
YAML
}
policy "{ copies: 2, media_types: 2, offline: 1, offsite: 0 }"
export BKP_POLICY=$POL
verdict_events() { grep -c '"key":"verdict:emr"' "$WORK/events.jsonl" 2>/dev/null || true; }

# 0. A repository's first day is its setting up: what it builds towards
# (the verdict) is shown by status, not alerted; the backup runs. (A
# repository of its own: the one below is past its first day.)
REPO=$WORK/repo-first-day
policy "{ copies: 2, media_types: 2, offline: 1, offsite: 0 }"
at -172800
ok "$BKP" init
at $((-172800 + 600))
ok "$BKP" run -v
output_has "being set up until" "the first day's run says it is setting up"
[ -s "$WORK/events.jsonl" ] && flunk "nothing is alerted on the first day: $(cat "$WORK/events.jsonl")"
grep -q "NON-COMPLIANT" <<<"$ERR" && flunk "the first day's run should not warn of the verdict: $ERR"
expect_exit 1 "$BKP" status
grep -q "NON-COMPLIANT" <<<"$OUT" || flunk "status still says the verdict on the first day: $OUT"
REPO=$WORK/repo
policy "{ copies: 2, media_types: 2, offline: 1, offsite: 0 }"
ok "$BKP" init
at 0

# 1. The first run: the backup is sealed, the policy is not met: told once.
expect_exit 1 "$BKP" run
grep -q "NON-COMPLIANT" <<<"$ERR" || flunk "the first run should warn that emr is NON-COMPLIANT: $ERR"
[ "$(verdict_events)" = 1 ] || flunk "one verdict event expected, got $(verdict_events)"
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | grep -q '"event":"raised"' || flunk "the event should be 'raised'"
grep -q "raised verdict:emr NON-COMPLIANT" "$WORK/env.txt" || flunk "the command's environment should name the event"
[ -f "$WORK/mbox/mail-0" ] || fail "no mail was sent"
[ "$(cat "$WORK/mbox/mail-0.user")" = nobody ] || flunk "sendmail ran as $(cat "$WORK/mbox/mail-0.user"), not as the policy's run_as"
grep -q -- "-i -f bkp@clinic.example -- it@clinic.example" "$WORK/mbox/mail-0.args" || flunk "sendmail arguments: $(cat "$WORK/mbox/mail-0.args")"
subject=$(sed -n 's/^Subject: =?UTF-8?B?\(.*\)?=$/\1/p' "$WORK/mbox/mail-0" | base64 -d)
grep -q "^\[bkp さくら診療所 $(hostname)\] 異常 発生: emr は不適合" <<<"$subject" ||
    grep -q "^\[bkp さくら診療所 $(hostname)\] 異常 発生: emr は 不適合" <<<"$subject" ||
    flunk "the mail's subject should name the facility and the host, in Japanese: $subject"
grep -q "bkp（さくら診療所 .*、リポジトリ $REPO）からのお知らせです" "$WORK/mbox/mail-0" &&
    grep -q "A notice from bkp" "$WORK/mbox/mail-0" ||
    flunk "the mail should be in Japanese, then English, naming the repository: $(cat "$WORK/mbox/mail-0")"
grep -q "NON-COMPLIANT" <(grep "内容:" "$WORK/mbox/mail-0") &&
    flunk "the Japanese summary should be Japanese: $(grep '内容:' "$WORK/mbox/mail-0")"
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | grep -q '"summary":"emr is NON-COMPLIANT' ||
    flunk "the event keeps the English summary for programs"
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | grep -q '"facility":"さくら診療所"' ||
    flunk "the event names the facility: $(cat "$WORK/events.jsonl")"
grep -q '"summary_ja":null\|"facility":null\|"host":null' "$WORK/events.jsonl" &&
    flunk "an event leaves out what it does not know, never null: $(cat "$WORK/events.jsonl")"

# 2. Every 15 minutes for hours: nothing told, and the run does not warn again.
for k in 1 2 3 4 5 6; do
    at $((k * 900))
    expect_exit 1 "$BKP" run
    grep -q "NON-COMPLIANT" <<<"$ERR" && flunk "run $k warned again: $ERR"
done
[ "$(verdict_events)" = 1 ] || flunk "still one verdict event expected, got $(verdict_events)"
[ ! -f "$WORK/mbox/mail-1" ] || flunk "a second mail was sent for the same condition"
# With -v the condition is still said, as told before.
expect_exit 1 "$BKP" run -v
grep -q "told before" <<<"$ERR" || flunk "-v should say the condition was told before"

# 3. A day later, one reminder — which the command cannot take this time:
# the next run tells it again.
touch "$WORK/fail"
at $((86400 + 60))
expect_exit 1 "$BKP" run
grep -q "notify command" <<<"$ERR" || flunk "a failing notify command should be reported: $ERR"
rm -f "$WORK/fail"
at $((86400 + 960))
expect_exit 1 "$BKP" run
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | tail -n 1 | grep -q '"event":"reminder"' ||
    flunk "the reminder should be told once the command takes it"
at $((86400 + 1860))
expect_exit 1 "$BKP" run
[ "$(verdict_events)" = 2 ] || flunk "one raised and one reminder expected, got $(verdict_events)"

# 4. The rule loosened: better but still at risk (two generations of the
# three asked for) — told as a change; the third generation meets it:
# cleared, once.
policy "{ copies: 2, media_types: 1, offline: 0, offsite: 0 }"
at $((86400 + 2760))
ok "$BKP" run
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | tail -n 1 | grep -q '"event":"changed".*"previous":"NON-COMPLIANT".*"state":"AT RISK"' ||
    flunk "the change to AT RISK should be told: $(tail -n 1 "$WORK/events.jsonl")"
# With nothing to do but wait, the alert says until when (both languages).
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | tail -n 1 | grep -q '"summary":"emr is AT RISK[^"]*only 2 generations kept[^"]*; the schedule (daily at 02:00) keeps the third generation on ' ||
    flunk "the AT RISK alert should say when the schedule makes the third generation: $(tail -n 1 "$WORK/events.jsonl")"
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | tail -n 1 | grep -q '"summary_ja":"[^"]*3 世代目' ||
    flunk "the Japanese alert too: $(tail -n 1 "$WORK/events.jsonl")"
at $((2 * 86400 + 60))
ok "$BKP" run
grep '"key":"verdict:emr"' "$WORK/events.jsonl" | tail -n 1 | grep -q '"event":"cleared"' ||
    flunk "the verdict's clearing should be told: $(tail -n 1 "$WORK/events.jsonl")"
at $((2 * 86400 + 960))
ok "$BKP" run
[ "$(verdict_events)" = 4 ] || flunk "raised, reminder, changed, cleared expected, got $(verdict_events)"

# 4b. A failing hook: one notification, in Japanese, naming the host, the
# hook's last output (never the audit log: it may hold a secret) and the
# hook to run by hand (not `bkp backup`); later runs under cron do not
# print the failure again (cron mails once), the exit code still says it.
policy "{ copies: 2, media_types: 1, offline: 0, offsite: 0 }" "    before: { command: \"echo 'pg_dump: error: connection to server failed' >&2; exit 3\", timeout: 30s }"
rm -f "$WORK"/mbox/mail-*
at $((3 * 86400 + 60))
expect_exit 1 "$BKP" run --force
m=$(ls "$WORK/mbox" | grep -E '^mail-[0-9]+$' | head -n 1 || true)
[ -n "$m" ] || fail "no mail for the failing hook"
m=$WORK/mbox/$m
grep -q "バックアップに失敗" "$m" || grep -q "失敗" "$m" || flunk "the hook's mail should be in Japanese: $(cat "$m")"
grep -q "exit 3" "$m" || flunk "the hook's mail should name the hook to run by hand: $(cat "$m")"
grep -q "$(hostname)" "$m" || flunk "the hook's mail should name the host"
grep -q "run \`bkp backup\`" "$m" && flunk "a failed hook's advice is the hook, not bkp backup"
grep -q "pg_dump: error: connection to server failed" "$m" || flunk "the hook's mail should quote its last output: $(cat "$m")"
ok "$BKP" audit show --json
grep -q '"output":' <<<"$OUT" &&
    flunk "a hook's output never goes into the audit log (it may hold a secret)"
grep -q '"error": "before hook exited with status 3"' <<<"$OUT" ||
    flunk "the hook's audit record says why it failed: $(grep -A3 hook-before <<<"$OUT" | head -8)"

at $((3 * 86400 + 960))
expect_exit 1 "$BKP" run --force
grep -q "hook exited with status 3" <<<"$ERR" && flunk "a failure told once is not printed again at each run: $ERR"
[ "$(grep -c '"key":"backup:emr"' "$WORK/events.jsonl")" = 1 ] || flunk "the failing hook should be told once"

# 4c. A new data set failing in one run (its backup, its verdict; emr's
# failure of the same cause is no news): the command takes each event,
# the people one mail that tells them all ("ほか 1 件").
mkdir -p "$DATA/lab"
echo "lab" >"$DATA/lab/l.txt"
policy "{ copies: 2, media_types: 1, offline: 0, offsite: 0 }" "    before: { command: \"echo 'emr dump failed' >&2; exit 3\", timeout: 30s }
  - name: lab
    paths: [$DATA/lab]
    schedule: daily 02:00
    before: { command: \"echo 'lab export failed' >&2; exit 4\", timeout: 30s }"
rm -f "$WORK"/mbox/mail-*
events_before=$(wc -l <"$WORK/events.jsonl")
at $((3 * 86400 + 1860))
expect_exit 1 "$BKP" run --force
events_after=$(wc -l <"$WORK/events.jsonl")
[ $((events_after - events_before)) -ge 2 ] ||
    flunk "the run should tell the command each data set's failure: $(tail -n 3 "$WORK/events.jsonl")"
mails=$(ls "$WORK/mbox" | grep -cE '^mail-[0-9]+$' || true)
[ "$mails" = 1 ] || flunk "one run's alerts should make one mail, made $mails"
[ "$(grep -c '^  内容: ' "$WORK/mbox/mail-0")" = $((events_after - events_before)) ] &&
    grep -q "lab export failed" "$WORK/mbox/mail-0" && grep -q "対象: verdict:lab" "$WORK/mbox/mail-0" ||
    flunk "the one mail should tell each of the run's $((events_after - events_before)) events: $(cat "$WORK/mbox/mail-0")"
subject=$(sed -n 's/^Subject: =?UTF-8?B?\(.*\)?=$/\1/p' "$WORK/mbox/mail-0" | base64 -d)
grep -q "（ほか [1-9][0-9]* 件）$" <<<"$subject" || flunk "the mail's subject should say how many more it tells: $subject"
policy "{ copies: 2, media_types: 1, offline: 0, offsite: 0 }"

# 5. The audit log has each event, delivered or not.
ok "$BKP" audit show --json
n=$(grep -c '"op": "notify"' <<<"$OUT" || true)
[ "$n" -ge 4 ] || flunk "the audit log should hold the notify records (got $n)"

# 6. With nowhere to send them (no notify: in the policy) alerts are still
# recorded, and the audit table says they were not sent, not "ok".
policy "{ copies: 2, media_types: 1, offline: 0, offsite: 0 }" "    before: { command: \"exit 3\", timeout: 30s }"
sed -i '/^notify:/,/remind_every/d' "$POL"
at $((6 * 86400))
expect_exit 1 "$BKP" run --force
ok env LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$BKP" audit show --since "$(date -d @$((T0 + 6 * 86400 - 60)) +%F)"
grep notify <<<"$OUT" | grep -q "未送信" || flunk "an alert with no notify target should show as not sent: $OUT"
# The alert's words once, in the reader's language (the record keeps both).
grep notify <<<"$OUT" | grep -q "summary_ja=" && ! grep notify <<<"$OUT" | grep -q " summary=" ||
    flunk "a Japanese reader's table should show the alert's Japanese words alone: $(grep notify <<<"$OUT" | head -n 2)"
ok "$BKP" audit show --json
grep -q '"delivered": false' <<<"$OUT" || flunk "the record says it was not delivered"

finish
