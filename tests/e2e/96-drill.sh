#!/usr/bin/env bash
# 96-drill — a real database drill, and the drill's choices of generation.
#
#  1. PostgreSQL 15 (a server of our own, trust auth, socket only): a data set
#     emr-db whose before hook pg_dumps database emr; `bkp drill emr-db` (the
#     four pre-restore confirms, select, verify, restore, pg_restore into a
#     scratch database, a row count check, a note) exits 0; the scratch
#     database has every row; reports in Japanese and English, Markdown and
#     HTML, and JSON (ok, seconds, generation, per-step status: confirms "not
#     rehearsed" when unattended, the rest "done"); nothing is written to the
#     live path; an audit record op "drill" outcome ok; status shows last_drill.
#  2. --attest 山田: the confirms are "done", attested by 山田.
#  3. A check that fails: exit 1, ok false, failed_step, later steps "not
#     reached", "FAILED at step K" / 失敗（手順 K） in the reports.
#  4. Suspicious generations are passed over by select; once cleared, the
#     newest is restored. --sandbox DIR --keep: the data is under
#     DIR/<to>, and commands see BKP_TARGET, BKP_SANDBOX, BKP_DATASET,
#     BKP_GENERATION, BKP_RUNBOOK, BKP_DRILL=1.
#  5. A damaged pack in the newest generation: `fallback: older` restores the
#     older generation (fallbacks ≥ 1); `fallback: none` fails at verify.
#  6. `bkp runbook print` in Japanese (Markdown) and English (HTML): title
#     (escaped in HTML), who, one box a step, the passphrase note, never the
#     passphrase; the printed restore command and BKP_TARGET, followed by
#     hand, put the dump where the printed run step reads it.
. "$(dirname "$0")/lib.sh"
need_root
need_tool od dd comm

# Drill sandboxes (when no --sandbox is given) go here; none may be left.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

start_postgres
ROWS=347
sql postgres "create database emr" >/dev/null || fail "cannot create database emr"
sql emr "create table patients (id int primary key, name text not null, ward int);
         insert into patients select g, '患者 ' || g, g % 7 from generate_series(1, $ROWS) g" >/dev/null ||
    fail "cannot fill emr.patients"
[ "$(sql emr 'select count(*) from patients')" = "$ROWS" ] || fail "emr.patients does not have $ROWS rows"
drop_scratch() {
    # shellcheck disable=SC2086
    PGOPTIONS='-c client_min_messages=warning' "$PGBIN/dropdb" $CONN --if-exists emr_restore ||
        fail "cannot drop emr_restore"
}

# ---------- the policy and runbooks ----------
DUMP=$WORK/dump
WARD=$WORK/ward
SCANS=$WORK/scans
REPO=$WORK/repo
POL=$WORK/policy.yaml
RB=$WORK/runbooks
LIVE=/var/restore/emr
mkdir -p "$DUMP" "$WARD" "$SCANS" "$RB"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: emr-db
    paths: [$DUMP]
    before: { command: "$PGBIN/pg_dump -Fc $CONN -f $DUMP/emr.dump emr", timeout: 5m }
    schedule: daily 02:00
    runbook: emr-db
  - name: ward
    paths: [$WARD]
    schedule: daily 03:00
    runbook: ward
  - name: scans
    paths: [$SCANS]
    schedule: daily 04:00
    runbook: scans-older
YAML

# emr_runbook NAME EXPECTED-ROWS: the DB runbook (the template's steps); the
# title carries what HTML must escape.
emr_runbook() {
    cat >"$RB/$1.yaml" <<YAML
title: "電子カルテDB 復旧手順 <訓練> & \"test\""
datasets: [emr-db]
owner: "医療情報システム安全管理責任者"
rto: 4h
passphrase_note: "金庫の封筒 (事務長室)"
steps:
  - { who: "システム担当", confirm: "感染端末をネットワークから切り離した" }
  - { who: "システム担当", confirm: "攻撃者に無効化されたセキュリティ機能を復旧した" }
  - { who: "システム担当", confirm: "侵入に使われた脆弱性を特定し是正した" }
  - { who: "システム担当", confirm: "不正に作成・窃取されたID/パスワードを無効化した" }
  - { who: "システム担当", select: { dataset: emr-db, newest: verified, not: suspicious } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: emr-db, to: $LIVE } }
  - { who: "DB管理者", run: "$PGBIN/createdb $CONN emr_restore && $PGBIN/pg_restore $CONN -d emr_restore \$BKP_TARGET/emr.dump", timeout: 5m }
  - { who: "DB管理者", check: "test \"\$($PGBIN/psql -X $CONN -tAc 'select count(*) from patients' emr_restore)\" -eq $2" }
  - { who: "DB管理者", note: "病棟・外来へ復旧を連絡する" }
YAML
}
emr_runbook emr-db "$ROWS"
emr_runbook emr-db-wrong $((ROWS + 1))
CHECK_STEP=9 # the check step of emr_runbook
NSTEPS=10

cat >"$RB/ward.yaml" <<YAML
title: "病棟データ 復旧手順"
datasets: [ward]
steps:
  - { who: "システム担当", select: { dataset: ward } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: ward, to: /var/restore/ward } }
  - { who: "システム担当", run: "env | grep '^BKP_' | sort >\"\$BKP_SANDBOX/env.txt\"" }
  - { who: "システム担当", check: "test -f \"\$BKP_TARGET/f01.txt\"" }
YAML
# scans_runbook NAME FALLBACK
scans_runbook() {
    cat >"$RB/$1.yaml" <<YAML
title: "スキャン文書 復旧手順"
datasets: [scans]
steps:
  - { who: "システム担当", select: { dataset: scans, fallback: $2 } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: scans, to: /var/restore/scans } }
  - { who: "システム担当", check: "test -f \"\$BKP_TARGET/a.txt\" && test ! -e \"\$BKP_TARGET/unique.bin\"" }
YAML
}
# Two roles confirm: each is attested by its own person (--attest ROLE=NAME).
cat >"$RB/emr-roles.yaml" <<YAML
title: "電子カルテDB 復旧手順（役割ごとの確認）"
datasets: [emr-db]
steps:
  - { who: "院長", confirm: "復旧を始めてよいと判断した" }
  - { who: "システム担当", confirm: "感染端末をネットワークから切り離した" }
  - { who: "システム担当", select: { dataset: emr-db } }
  - { who: "システム担当", restore: { dataset: emr-db, to: $LIVE } }
  - { who: "院長", confirm: "病棟へ復旧を連絡した" }
YAML
scans_runbook scans-older older
scans_runbook scans-none none
VERIFY_STEP=2 # of scans_runbook

# ---------- helpers on the drill's report ----------
# report_of DIR: the JSON report in DIR (exactly one).
REPORT=
report_of() {
    local n
    n=$(find "$1" -maxdepth 1 -name 'drill-*.json' | wc -l)
    if [ "$n" != 1 ]; then
        flunk "$1 should hold one drill-*.json, holds $n: $(ls -A "$1" 2>/dev/null | tr '\n' ' ')"
        REPORT=/dev/null
        return 0
    fi
    REPORT=$(find "$1" -maxdepth 1 -name 'drill-*.json')
}
# top KEY: a top-level value of $REPORT (2-space indent, one key a line).
top() {
    sed -n 's/^  "'"$1"'": \(.*\)$/\1/p' "$REPORT" | sed 's/,$//; s/^"\(.*\)"$/\1/' | head -n 1
}
# step_field KEY: that key of every step, in order, one a line.
step_field() {
    sed -n 's/^      "'"$1"'": \(.*\)$/\1/p' "$REPORT" | sed 's/,$//; s/^"\(.*\)"$/\1/'
}
# want_statuses S1,S2,... WHAT: the steps' statuses, in order.
want_statuses() {
    local got
    got=$(step_field status | paste -sd, -)
    [ "$got" = "$1" ] || flunk "$2: step statuses should be [$1], are [$got] ($REPORT)"
    return 0
}
# reports_complete DIR NAME: the five report files of a drill of NAME.
reports_complete() {
    local k f
    for k in ja.md en.md ja.html en.html json; do
        f=$(find "$1" -maxdepth 1 -name "drill-$2-*.$k" | head -n 1)
        if [ -z "$f" ] || [ ! -s "$f" ]; then
            flunk "no drill-$2-TIMESTAMP.$k report in $1: $(ls -A "$1" 2>/dev/null | tr '\n' ' ')"
        fi
    done
    return 0
}
md_of() { find "$1" -maxdepth 1 -name "drill-*.$2" | head -n 1; }
sandboxes_gone() {
    local left
    left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | head -n 5)
    [ -z "$left" ] || flunk "$1: left behind in \$TMPDIR: $left"
    rm -rf "${TMPDIR:?}"/* 2>/dev/null || true
}

# The live paths (the runbooks' `to:`) must not be touched by any drill.
LIVE_PATHS="$LIVE /var/restore/ward /var/restore/scans"
live_state() {
    local p
    for p in $LIVE_PATHS; do
        if [ -e "$p" ]; then
            echo "$p exists"
            repo_digest "$p"
        else
            echo "$p absent"
        fi
    done
}
live_state >"$WORK/live-before"
live_untouched() {
    live_state >"$WORK/live-now"
    diff -q "$WORK/live-before" "$WORK/live-now" >/dev/null ||
        flunk "$1: a drill wrote a live path: $(diff "$WORK/live-before" "$WORK/live-now" | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
    return 0
}

# The data of part 4, written now so that it has aged by then.
for i in $(seq -w 1 20); do
    seq 1 200 | sed "s/^/ward $i line /" >"$WARD/f$i.txt"
done
WARD_WRITTEN=$SECONDS

# ============ 1. The database drill ============
ok "$BKP" init --policy "$POL"
# `bkp backup` does not run hooks (it says so); `bkp run` does.
# It exits 1 while the other data sets have no generation yet (NON-COMPLIANT).
RC=0
"$BKP" run --dataset emr-db --force --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
[ "$RC" -le 1 ] || fail "bkp run --dataset emr-db --force exited $RC: $(head -n 5 "$WORK/.err")"
ok "$BKP" generations emr-db --policy "$POL"
grep -q '^emr-db:1 ' <<<"$OUT" || fail "bkp run --dataset emr-db --force sealed no emr-db:1: $OUT"
[ -s "$DUMP/emr.dump" ] || fail "the before hook wrote no $DUMP/emr.dump"
SECRET=$(head -n 1 "$PASSFILE")

drop_scratch
mkdir -p "$WORK/r1"
check_exit 0 "$BKP" drill emr-db --policy "$POL" --report "$WORK/r1" || true
DRILL_OUT=$OUT
got=$(sql emr_restore 'select count(*) from patients' 2>&1 || true)
[ "$got" = "$ROWS" ] || flunk "after the drill, emr_restore.patients should have $ROWS rows, has: $got"
got=$(sql emr_restore "select name from patients where id = 42" 2>&1 || true)
[ "$got" = "患者 42" ] || flunk "emr_restore.patients row 42 should be '患者 42', is '$got'"
reports_complete "$WORK/r1" emr-db
report_of "$WORK/r1"
[ "$(top ok)" = true ] || flunk "the report of a successful drill should say ok true: $(top ok)"
secs=$(top seconds)
awk -v s="$secs" 'BEGIN { exit !(s + 0 > 0) }' || flunk "the report's seconds should be positive, is '$secs'"
[ "$(top generation)" = emr-db:1 ] || flunk "the drill should restore emr-db:1, the report says '$(top generation)'"
[ "$(top source)" = repository ] || flunk "the drill should read from the repository, the report says '$(top source)'"
[ "$(top failed_step)" = 0 ] || flunk "failed_step should be 0, is '$(top failed_step)'"
[ "$(top drill)" = true ] || flunk "the report should say drill true"
[ "$(top rto_met)" = true ] || flunk "a drill of seconds should meet the 4 h RTO: rto_met $(top rto_met)"
[ "$(top rto_target_seconds)" = 14400 ] || flunk "rto_target_seconds should be 14400, is $(top rto_target_seconds)"
[ "$(step_field n | paste -sd, -)" = "1,2,3,4,5,6,7,8,9,10" ] || flunk "the report should list steps 1..10: $(step_field n | paste -sd, -)"
want_statuses "not rehearsed,not rehearsed,not rehearsed,not rehearsed,done,done,done,done,done,done" \
    "an unattended drill"
[ "$(step_field action | paste -sd, -)" = "confirm,confirm,confirm,confirm,select,verify,restore,run,check,note" ] ||
    flunk "the report's actions: $(step_field action | paste -sd, -)"
grep -q 'unattended drill' "$REPORT" || flunk "the confirms' detail should say they were not rehearsed by a person"
SANDBOX=$(top sandbox)
case "$SANDBOX" in
"$TMPDIR"/bkp-drill-*) ;;
*) flunk "the default sandbox should be made in \$TMPDIR ($TMPDIR), the report says '$SANDBOX'" ;;
esac
step_field detail | sed -n 7p | grep -qF "$SANDBOX$LIVE" ||
    flunk "the restore step should name the re-rooted target $SANDBOX$LIVE: $(step_field detail | sed -n 7p)"
grep -q "drill emr-db: succeeded" <<<"$DRILL_OUT" || flunk "the drill should say it succeeded: $DRILL_OUT"
grep -q "4 confirm step(s) were not rehearsed" <<<"$DRILL_OUT" ||
    flunk "the drill should say 4 confirms were not rehearsed: $DRILL_OUT"
en=$(md_of "$WORK/r1" en.md)
ja=$(md_of "$WORK/r1" ja.md)
grep -q 'SUCCEEDED' "$en" || flunk "the English report should say SUCCEEDED: $(head -n 8 "$en")"
grep -q '成功' "$ja" || flunk "the Japanese report should say 成功"
grep -q '復旧訓練報告書' "$ja" || flunk "the Japanese report should be titled 復旧訓練報告書"
grep -q 'Restore drill report' "$en" || flunk "the English report should be titled Restore drill report"
grep -q '未実施（無人訓練）' "$ja" || flunk "the Japanese report should mark the confirms 未実施（無人訓練）"
grep -q 'emr-db:1' "$en" || flunk "the English report should name the generation emr-db:1"
[ "$(grep -c '^| [0-9]* | ' "$en")" = "$NSTEPS" ] || flunk "the English report should have one row per step ($NSTEPS)"
grep -q '<table>' "$(md_of "$WORK/r1" en.html)" || flunk "the English HTML report has no table"
grep -q '&lt;訓練&gt; &amp; &quot;test&quot;' "$(md_of "$WORK/r1" ja.html)" ||
    flunk "the HTML report should escape the title's <, &, \": $(grep -o '<h1>.*</h1>' "$(md_of "$WORK/r1" ja.html)")"
grep -rqF "$SECRET" "$WORK/r1" && flunk "a drill report contains the passphrase"
# The inspector's check: each report as written is named by its signed audit
# record (by SHA-256); one byte changed, it is not; a file bkp never wrote is
# named by no record. With the public key alone, as an inspector holds it.
grep -q 'bkp audit check FILE' "$en" || flunk "the report does not say how to check it"
for f in "$ja" "$en" "$(md_of "$WORK/r1" ja.html)" "$(md_of "$WORK/r1" json)"; do
    check_exit 0 "$BKP" audit check "$f" --policy "$POL" || true
    output_has "unchanged — the report of the drill of runbook emr-db"
done
cp "$ja" "$WORK/edited.ja.md"
sed -i 's/成功/失敗/' "$WORK/edited.ja.md"
mv "$WORK/edited.ja.md" "$WORK/$(basename "$ja")"
check_exit 1 "$BKP" audit check "$WORK/$(basename "$ja")" --policy "$POL" || true
output_has "CHANGED since it was written"
echo "not a report" >"$WORK/other.md"
check_exit 1 "$BKP" audit check "$WORK/other.md" --policy "$POL" --json || true
grep -q '"unchanged": false' <<<"$OUT" || flunk "a file no record names checked as unchanged: $OUT"
ok "$BKP" key fingerprint --policy "$POL" --json
PK=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")
check_exit 0 "$BKP" audit check "$ja" --repo "$REPO" --public-key "$PK" </dev/null || true
output_has "unchanged"
[ ! -e "$SANDBOX" ] || flunk "the sandbox $SANDBOX was left after the drill (no --keep)"
sandboxes_gone "after the drill"
live_untouched "after the drill"

ok "$BKP" audit show --json --policy "$POL"
# The records, one a line, as "op outcome generation".
audit_lines() {
    printf '%s\n' "$OUT" | awk '
        /^  \{/ { op = ""; oc = ""; gen = "" }
        /^    "op": /         { op = $2 }
        /^    "outcome": /    { oc = $2 }
        /^    "generation": / { gen = $2 }
        /^  \}/ { gsub(/[",]/, "", op); gsub(/[",]/, "", oc); gsub(/[",]/, "", gen); print op, oc, gen }'
}
audit_lines | grep -qx 'drill ok emr-db:1' ||
    flunk "the audit log should have an op drill, outcome ok, generation emr-db:1 record: $(audit_lines | tr '\n' ';')"
RC=0
"$BKP" status --json --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
[ "$RC" -le 1 ] || flunk "bkp status --json exited $RC: $(head -n 3 "$WORK/.err")"
# Only emr-db has been drilled: its last_drill is the one object there is.
sed -n '/"last_drill": {/,/}/p' "$WORK/.out" >"$WORK/last-drill"
grep -q '"time": "20' "$WORK/last-drill" ||
    flunk "bkp status --json should show a last_drill time: $(grep -A4 last_drill "$WORK/.out" | tr -s ' \n' ' ')"
grep -q '"outcome": "ok"' "$WORK/last-drill" ||
    flunk "bkp status --json: the last drill of emr-db succeeded: $(tr -s ' \n' ' ' <"$WORK/last-drill")"

# ============ 2. Attested ============
drop_scratch
mkdir -p "$WORK/r2"
check_exit 0 answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr-db --attest "山田" --policy "$POL" --report "$WORK/r2" || true
report_of "$WORK/r2"
want_statuses "done,done,done,done,done,done,done,done,done,done" "a drill attested by 山田"
for k in 1 2 3 4; do
    step_field detail | sed -n "${k}p" | grep -q '山田' ||
        flunk "confirm $k should be attested by 山田: $(step_field detail | sed -n "${k}p")"
done
grep -q '山田' "$(md_of "$WORK/r2" ja.md)" || flunk "the Japanese report should name 山田"
# Each step's detail is kept in Japanese too, and the Japanese report shows it.
grep -q '山田 が端末で確認（訓練）' "$(md_of "$WORK/r2" ja.md)" ||
    flunk "the Japanese report should say the confirms were attested, in Japanese"
grep -q '読み戻して照合済み' "$(md_of "$WORK/r2" ja.md)" ||
    flunk "the Japanese report should give the restore step's detail in Japanese"
grep -q 'read back and compared' "$(md_of "$WORK/r2" en.md)" ||
    flunk "the English report should give the restore step's detail in English"
grep -qF "| 未実施（無人訓練） |" "$(md_of "$WORK/r2" ja.md)" &&
    flunk "an attested drill's report should not mark steps 未実施"
grep -q 'not rehearsed' <<<"$OUT" && flunk "an attested drill says steps were not rehearsed: $OUT"
output_has "— 山田]" "each confirm should be asked of the person named, by name"
# Nobody at a terminal (a script, cron): the people named cannot be asked,
# and the drill is not claimed as theirs.
# (setsid: no controlling terminal, even when the test is run from one)
check_exit 2 setsid -w "$BKP" drill emr-db --attest "山田" --policy "$POL" --report "$WORK/r2x" </dev/null || true
output_has "each step is asked of them on the terminal"
ls "$WORK"/r2x/drill-* >/dev/null 2>&1 && flunk "a drill refused for want of a terminal left a report"
# A step the person does not confirm stops the drill.
check_exit 1 answering 'y\nn\n' "$BKP" drill emr-db --attest "山田" --policy "$POL" --report "$WORK/r2n" || true
output_has "not confirmed: the procedure stops until this is done"
live_untouched "after the attested drill"

# ============ 2b. Attested role by role ============
# The inspector's evidence of who did what: each role's confirms are
# attested by the person named for it, and the report, the record and the
# status say who stood in for which role.
drop_scratch
mkdir -p "$WORK/r2b" "$WORK/r2c"
check_exit 0 answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr-roles --attest 院長=佐藤 --attest システム担当=山田 --policy "$POL" \
    --report "$WORK/r2b" || true
report_of "$WORK/r2b"
want_statuses "done,done,done,done,done" "a drill attested role by role"
[ "$(step_field detail | sed -n 1p)" = "confirmed on the terminal by 佐藤 (rehearsed)" ] ||
    flunk "院長's confirm should be attested by 佐藤: $(step_field detail | sed -n 1p)"
[ "$(step_field detail | sed -n 2p)" = "confirmed on the terminal by 山田 (rehearsed)" ] ||
    flunk "システム担当's confirm should be attested by 山田: $(step_field detail | sed -n 2p)"
[ "$(top attested_by)" = "佐藤 (院長), 山田 (システム担当)" ] ||
    flunk "the report should name each person with their role: $(top attested_by)"
grep -qF '佐藤 (院長), 山田 (システム担当)' "$(md_of "$WORK/r2b" ja.md)" ||
    flunk "the Japanese report should name each person with their role"
ok "$BKP" audit show --policy "$POL" --dataset emr-db
grep -qF 'attested_by=佐藤 (院長), 山田 (システム担当)' <<<"$OUT" ||
    flunk "the drill's audit record should name each person with their role: $OUT"
# One role named: the other's confirms are not rehearsed, and it is said
# how to name its person.
check_exit 0 answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr-roles --attest 院長=佐藤 --policy "$POL" --report "$WORK/r2c" || true
report_of "$WORK/r2c"
want_statuses "done,not rehearsed,done,done,done" "a drill with one role of two attested"
grep -qF -- '--attest システム担当=NAME' <<<"$OUT" ||
    flunk "the unnamed role's confirm should say how to name its person: $OUT"
grep -q 'unattended' <<<"$OUT" && flunk "a drill attested in part was called unattended: $OUT"
# ... and it is not "attended" (a person confirmed every step), nor does its
# line read as one person for every step.
report_of "$WORK/r2c"
[ "$(top attended)" = false ] || flunk "a drill attested in part should not be recorded as attended"
[ "$(top attested_by)" = "佐藤 (院長)" ] || flunk "a drill attested in part should say which role was: $(top attested_by)"
# A restore by the runbook with a role unnamed would stop halfway, live data
# already changed: refused before its first step.
check_exit 2 "$BKP" restore --runbook emr-roles --attest 院長=佐藤 --policy "$POL" || true
grep -qF 'システム担当' "$WORK/.err" || flunk "a restore with a role unnamed should name it: $(cat "$WORK/.err")"
# A role the runbook does not give a confirm to is refused before anything
# runs, with the roles it has.
check_exit 2 "$BKP" drill emr-roles --attest 事務長=鈴木 --policy "$POL" --report "$WORK/r2c" || true
grep -qF '院長, システム担当' "$WORK/.err" || flunk "a mistyped role should be refused with the roles there are: $(cat "$WORK/.err")"
check_exit 2 "$BKP" drill emr-roles --attest 山田 --attest 鈴木 --policy "$POL" --report "$WORK/r2c" || true
live_untouched "after the drills attested role by role"

# ============ 3. A check that fails ============
drop_scratch
mkdir -p "$WORK/r3"
check_exit 1 "$BKP" drill emr-db-wrong --policy "$POL" --report "$WORK/r3" || true
reports_complete "$WORK/r3" emr-db-wrong
report_of "$WORK/r3"
[ "$(top ok)" = false ] || flunk "the report of a failed drill should say ok false: $(top ok)"
[ "$(top failed_step)" = "$CHECK_STEP" ] ||
    flunk "failed_step should be $CHECK_STEP (the check), is '$(top failed_step)'"
want_statuses "not rehearsed,not rehearsed,not rehearsed,not rehearsed,done,done,done,done,failed,not reached" \
    "a drill whose check fails"
step_field detail | sed -n "${CHECK_STEP}p" | grep -q 'exit 1' ||
    flunk "the failed check's detail should give its exit status: $(step_field detail | sed -n "${CHECK_STEP}p")"
grep -q "FAILED at step $CHECK_STEP" "$(md_of "$WORK/r3" en.md)" ||
    flunk "the English report should say FAILED at step $CHECK_STEP: $(grep -m1 -i 'result' "$(md_of "$WORK/r3" en.md)")"
grep -q "失敗（手順 $CHECK_STEP）" "$(md_of "$WORK/r3" ja.md)" ||
    flunk "the Japanese report should say 失敗（手順 $CHECK_STEP）: $(grep -m1 '結果' "$(md_of "$WORK/r3" ja.md)")"
grep -q '未到達' "$(md_of "$WORK/r3" ja.md)" || flunk "the Japanese report should mark the note 未到達"
ok "$BKP" audit show --json --policy "$POL"
audit_lines | grep -qx 'drill failed emr-db:1' ||
    flunk "the audit log should record the failed drill (op drill, outcome failed): $(audit_lines | tr '\n' ';')"
# The clerk's status says the last drill of the data set's runbook failed
# (emr-db's, a confirm answered no, above), as the page does, though other
# runbooks' drills came after it: emr-db-wrong, a file the policy names for
# no data set, is in its report and the log, not the data set's status.
run_any env LANG=C "$BKP" status --policy "$POL"
grep -Eq 'last drill .*FAILED: runbook emr-db\)|最終訓練 .*失敗: 手順書 emr-db）' <<<"$OUT" ||
    flunk "bkp status should say the last drill of emr-db FAILED: $(grep -E 'last drill|最終訓練' <<<"$OUT")"
sandboxes_gone "after the failed drill"
live_untouched "after the failed drill"

# ============ 4. Suspicious generations ============
# The files were written at the start: a file whose times are within 2 s of a
# capture is left out of the files cache, and the next capture counts it as
# added (see the report), which would make ward:2 look suspicious.
while [ $((SECONDS - WARD_WRITTEN)) -lt 4 ]; do sleep 0.5; done
ok "$BKP" backup ward --policy "$POL" # ward:1
echo "bed 12" >>"$WARD/f01.txt"
ok "$BKP" backup ward --policy "$POL" # ward:2
echo "bed 14" >>"$WARD/f02.txt"
ok "$BKP" backup ward --policy "$POL" # ward:3
rm -rf "$WORK/ward-3"
cp -a "$WARD" "$WORK/ward-3"
for i in $(seq -w 1 16); do
    head -c "$(stat -c %s "$WARD/f$i.txt")" /dev/urandom >"$WARD/f$i.txt.enc"
    mv "$WARD/f$i.txt.enc" "$WARD/f$i.txt"
done
RC=0
"$BKP" backup ward --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || RC=$? # ward:4, suspicious
ok "$BKP" generations ward --policy "$POL"
grep '^ward:4 ' <<<"$OUT" | grep SUSPICIOUS >/dev/null ||
    fail "rewriting 16 of 20 files with random bytes should mark ward:4 suspicious (backup exited $RC): $OUT"

mkdir -p "$WORK/r4"
check_exit 0 "$BKP" drill ward --policy "$POL" --report "$WORK/r4" --sandbox "$WORK/sbx" --keep || true
report_of "$WORK/r4"
[ "$(top generation)" = ward:3 ] ||
    flunk "select should pass over the suspicious ward:4 and restore ward:3; the report says '$(top generation)'"
step_field detail | sed -n 1p | grep -q 'suspicious' ||
    flunk "the select step should say suspicious generations were skipped: $(step_field detail | sed -n 1p)"
[ "$(top sandbox)" = "$WORK/sbx" ] || flunk "the report's sandbox should be --sandbox $WORK/sbx: $(top sandbox)"
if [ -d "$WORK/sbx/var/restore/ward" ]; then
    diff -r "$WORK/ward-3" "$WORK/sbx/var/restore/ward" >"$WORK/.diff" 2>&1 ||
        flunk "the drill's restore of ward:3 differs from the data as captured: $(head -n 5 "$WORK/.diff" | tr '\n' ' ')"
else
    flunk "with --sandbox $WORK/sbx --keep, ward should be restored under $WORK/sbx/var/restore/ward: $(find "$WORK/sbx" -maxdepth 3 | tr '\n' ' ')"
fi
if [ -f "$WORK/sbx/env.txt" ]; then
    for v in "BKP_TARGET=$WORK/sbx/var/restore/ward" "BKP_SANDBOX=$WORK/sbx" BKP_DATASET=ward \
        BKP_GENERATION=ward:3 BKP_RUNBOOK=ward BKP_DRILL=1; do
        grep -qxF "$v" "$WORK/sbx/env.txt" || flunk "the run step should see $v; it saw: $(tr '\n' ' ' <"$WORK/sbx/env.txt")"
    done
else
    flunk "the run step wrote no \$BKP_SANDBOX/env.txt"
fi
ok "$BKP" generations --clear-suspicious ward:4 --policy "$POL"
mkdir -p "$WORK/r5"
check_exit 0 "$BKP" drill ward --policy "$POL" --report "$WORK/r5" || true
report_of "$WORK/r5"
[ "$(top generation)" = ward:4 ] ||
    flunk "after --clear-suspicious ward:4 the drill should restore ward:4; the report says '$(top generation)'"
sandboxes_gone "after the drills of ward"
live_untouched "after the drills of ward"

# ============ 5. A damaged pack in the newest generation ============
# flip FILE OFFSET: invert every bit of one byte in place.
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n')
    [ -n "$b" ] || fail "flip: $1 has no byte at offset $2"
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
printf 'scan a\n' >"$SCANS/a.txt"
printf 'scan b\n' >"$SCANS/b.txt"
ok "$BKP" backup scans --policy "$POL" # scans:1
packs_of "$REPO" >"$WORK/packs-before"
head -c 300000 /dev/urandom >"$SCANS/unique.bin"
ok "$BKP" backup scans --policy "$POL" # scans:2: unique.bin's chunks in packs of their own
packs_of "$REPO" >"$WORK/packs-after"
NEWPACK=$(comm -13 "$WORK/packs-before" "$WORK/packs-after" | xargs -r stat -c '%s %n' | sort -n | tail -n 1 | cut -d' ' -f2-)
[ -n "$NEWPACK" ] || fail "the backup of scans:2 wrote no new pack"
[ "$(stat -c %s "$NEWPACK")" -gt 250000 ] || fail "the newest large pack $NEWPACK is too small to hold unique.bin"
command -v chattr >/dev/null 2>&1 && chattr -i "$NEWPACK" 2>/dev/null || true
chmod u+w "$NEWPACK"
flip "$NEWPACK" $(($(stat -c %s "$NEWPACK") / 2))

# A data set's name typed for its runbook's: told which runbook restores it,
# not to write a runbook of that name; a name the policy does not know: the
# runbooks it names.
# (Unless this machine has a runbook of that name: the package installs examples.)
if [ ! -e /etc/bkp/runbooks/scans.yaml ]; then
    check_exit 2 "$BKP" drill scans --policy "$POL" || true
    output_has "'scans' is a data set of the policy; the runbook that restores it is 'scans-older'"
    output_lacks "put scans.yaml"
fi
check_exit 2 "$BKP" drill scnas-older --policy "$POL" || true
output_has "the policy names these runbooks: emr-db, ward, scans-older"

mkdir -p "$WORK/r6"
check_exit 0 "$BKP" drill scans-older --policy "$POL" --report "$WORK/r6" || true
report_of "$WORK/r6"
[ "$(top generation)" = scans:1 ] ||
    flunk "with scans:2 damaged and fallback: older, the drill should restore scans:1; the report says '$(top generation)'"
fb=$(top fallbacks)
[ -n "$fb" ] && [ "$fb" -ge 1 ] || flunk "the report should count at least one fallback, says '$fb'"
[ "$(top ok)" = true ] || flunk "a drill that fell back to scans:1 should succeed: ok $(top ok)"
grep -q 'passed over' "$(md_of "$WORK/r6" en.md)" || flunk "the English report should say a candidate was passed over"

mkdir -p "$WORK/r7"
check_exit 1 "$BKP" drill scans-none --policy "$POL" --report "$WORK/r7" || true
report_of "$WORK/r7"
[ "$(top ok)" = false ] || flunk "with fallback: none a damaged newest generation should fail the drill"
[ "$(top failed_step)" = "$VERIFY_STEP" ] ||
    flunk "with fallback: none the drill should fail at the verify step ($VERIFY_STEP), failed_step is '$(top failed_step)'"
want_statuses "done,failed,not reached,not reached" "a drill of a damaged generation without fallback"
step_field detail | sed -n "${VERIFY_STEP}p" | grep -q 'scans:2' ||
    flunk "the verify step should name scans:2: $(step_field detail | sed -n "${VERIFY_STEP}p")"
sandboxes_gone "after the drills of scans"
live_untouched "after the drills of scans"

# ============ 6. The printable procedure ============
ok "$BKP" runbook print emr-db --lang ja --policy "$POL"
P_JA=$OUT
ok "$BKP" runbook print emr-db --lang en --format html --policy "$POL"
P_EN=$OUT
for lang in ja en; do
    if [ $lang = ja ]; then text=$P_JA; else text=$P_EN; fi
    # A here-string, not a pipe: under pipefail, grep -q leaving early would
    # make printf's SIGPIPE fail a match that was found.
    has() { grep -qF -- "$1" <<<"$text" || flunk "runbook print ($lang) should show '$1'"; }
    if [ $lang = ja ]; then
        has "# 電子カルテDB 復旧手順 <訓練> & \"test\""
        has "パスフレーズの保管場所"
        has "| ☐ | 1 | システム担当 |"
        has "| ☐ | $NSTEPS | DB管理者 |"
    else
        has "<h1>電子カルテDB 復旧手順 &lt;訓練&gt; &amp; &quot;test&quot;</h1>"
        has "Where the passphrase is kept"
        has '<td class="box">☐</td><td>1</td><td>システム担当</td>'
        has "<td>$NSTEPS</td><td>DB管理者</td>"
        grep -q '<h1>.*<訓練>' <<<"$text" && flunk "runbook print (en, html) does not escape the title"
    fi
    has "金庫の封筒 (事務長室)"
    has "感染端末をネットワークから切り離した"
    boxes=$(printf '%s\n' "$text" | grep -o '☐' | wc -l)
    [ "$boxes" = "$NSTEPS" ] || flunk "runbook print ($lang) should have $NSTEPS boxes (one per step), has $boxes"
    grep -qF "$SECRET" <<<"$text" && flunk "runbook print ($lang) prints the passphrase"
done
# The paper, followed by hand (into a scratch folder, not the live path): the
# printed restore command and `export BKP_TARGET=...` must put emr.dump where
# the run step looks for it ($BKP_TARGET/emr.dump), as the drill did.
row=$(printf '%s\n' "$P_JA" | grep '^| ☐ | 7 | ' | awk -F' [|] ' '{print $5}')
exp=$(printf '%s\n' "$P_JA" | sed -n 's/.*`export BKP_TARGET=\([^`]*\)`.*/\1/p' | head -n 1)
case "$row" in
"bkp restore emr-db:SEQ $LIVE"*) ;;
*) flunk "step 7 of the printed procedure should be 'bkp restore emr-db:SEQ $LIVE...', is '$row'" ;;
esac
[ "$exp" = "$LIVE" ] || flunk "the printed procedure should say export BKP_TARGET=$LIVE, says '$exp'"
PAPER=$WORK/paper
# shellcheck disable=SC2086
set -- ${row/SEQ/1}
shift # bkp
check_exit 0 "$BKP" "${@/#$LIVE/$PAPER$LIVE}" --policy "$POL" || true
[ -f "$PAPER$exp/emr.dump" ] ||
    flunk "following the printed procedure by hand ('$row', then export BKP_TARGET=$exp) does not put emr.dump at \$BKP_TARGET/emr.dump, where step 8 reads it: the restore wrote $(cd "$PAPER" 2>/dev/null && find . -name emr.dump | head -n 1) (the drill strips a one-folder data set's path; the printed command does not)"

check_exit 0 "$BKP" audit verify --policy "$POL" || flunk "the audit log does not verify after the drills"
live_untouched "at the end"
finish
