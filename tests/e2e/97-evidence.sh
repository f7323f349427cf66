#!/usr/bin/env bash
# 97-evidence — the evidence report for checklist item 3-② (`bkp audit
# report`) over ten weeks of a real policy, with an injected clock (BKP_NOW):
# one data set copied to an off-line, off-site USB disk rotated weekly and to
# an archive medium (tape) rotated once, a written runbook beside the policy,
# weekly backups of changed data and one drill in week 3.
#
#  1. Weeks 0–4: the statement answers true; every part is met; the drill part
#     cites the drill's audit record (#seq), the off-line part every
#     rotation's, with a longest gap of 7 days (≤ 8).
#  2. A period that ends before the drill: the answer is false, the drill part
#     alone not met.
#  3. The reports for people: Markdown in Japanese says はい / いいえ as the
#     JSON does; HTML in English is a whole document with the statement table.
#  4. Weeks 5–7 without a rotation of usb-a: the off-line part is not met
#     (21 days without a fresh off-line copy; the rotation of day 49 cited).
#  5. One byte of one record of the audit log changed (in a copy of the
#     repository): the audit part is not met and the answer is いいえ / false.
#  6. Weekly rotations with no backup behind them copy nothing new: the
#     off-line copy ages past the limit, and the off-line part is not met.
#  7. A runbook that covers two data sets (as the shipped clinic.yaml does):
#     one drill of it confirms the procedure of both.
#  8. A restore by that runbook people attended confirms the procedure as
#     an attended drill does, cited as what it was; a restore by hand, or
#     by the runbook with nobody attending, is not cited.
. "$(dirname "$0")/lib.sh"
need_test_clock

T0=$(date -u -d 2026-03-02T00:00:00Z +%s) # a Monday
DAY=86400
at() { # at DAY HOUR: the injected clock
    BKP_NOW=$((T0 + $1 * DAY + $2 * 3600))
    export BKP_NOW
}
date_of() { # date_of DAY: its UTC date, as --from/--to take it
    date -u -d "@$((T0 + $1 * DAY))" +%Y-%m-%d
}

EMR=$WORK/emr
REPO=$WORK/repo
POL=$WORK/etc/policy.yaml
USB=$WORK/usb-a
TAPE=$WORK/tape
export TMPDIR=$WORK/tmp # drill sandboxes
mkdir -p "$EMR" "$USB" "$TAPE" "$WORK/etc/runbooks" "$TMPDIR" "$WORK/reports"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
# rule_321 at its defaults: 3 copies, 2 media types, 1 off-line, 1 off-site, offline_max_age 8d
media:
  - { name: usb-a, type: removable, path: $USB, location: offsite, offline: true, rotate_every: 7d }
  - { name: tape, type: archive, path: $TAPE, location: onsite, offline: true, rotate_every: 30d }
datasets:
  - name: emr
    description: "電子カルテ"
    priority: 1
    paths: [$EMR]
    schedule: weekly mon 08:00
    retention: { keep_last: 10 }
    copy_to: [usb-a, tape]
    runbook: emr
YAML
# The runbook, in runbooks/ beside the policy.
cat >"$WORK/etc/runbooks/emr.yaml" <<'YAML'
title: "電子カルテ 復旧手順"
datasets: [emr]
owner: "医療情報システム安全管理責任者"
rto: 4h
passphrase_note: "事務長室の金庫"
steps:
  - { who: "システム担当", confirm: "感染端末をネットワークから切り離した" }
  - { who: "システム担当", select: { dataset: emr, newest: verified, not: suspicious } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: emr, to: /var/restore/emr } }
  - { who: "DB管理者", check: 'test -f "$BKP_TARGET/emr.sql" && test -f "$BKP_TARGET/formulary.txt"' }
YAML

# ---- the evidence JSON, read without jq (2-space indent, sorted keys) ----
# parts: one line a part of the statement: "PART<TAB>OK<TAB>EVIDENCE-EN".
parts() {
    printf '%s\n' "$OUT" | awk '
        /^  "statement": \{/ { s = 1 }
        s && /^          "en": / { en = $0; sub(/^          "en": "/, "", en); sub(/",?$/, "", en) }
        s && /^        "ok": / { ok = $2; sub(/,$/, "", ok) }
        s && /^        "part": / { p = $2; gsub(/[",]/, "", p); print p "\t" ok "\t" en }'
}
answer() { printf '%s\n' "$OUT" | sed -n 's/^    "answer": \([a-z]*\),\{0,1\}$/\1/p'; }
part_ok() { parts | awk -F'\t' -v p="$1" '$1 == p { print $2 }'; }
part_en() { parts | awk -F'\t' -v p="$1" '$1 == p { print $3 }'; }
# The sequence number of the last audit record with op OP (and outcome ok).
last_seq_of() {
    "$BKP" audit show --json --policy "$POL" | awk -v want="$1" '
        /^  \{/ { op = ""; oc = ""; seq = "" }
        /^    "op": /      { op = $2; gsub(/[",]/, "", op) }
        /^    "outcome": / { oc = $2; gsub(/[",]/, "", oc) }
        /^    "seq": /     { seq = $2; gsub(/[",]/, "", seq) }
        /^  \}/ { if (op == want && oc == "ok") last = seq }
        END { print last }'
}
# report PERIOD-FROM-DAY PERIOD-TO-DAY [POLICY]: the JSON evidence into $OUT.
report() {
    check_exit 0 "$BKP" audit report --from "$(date_of "$1")" --to "$(date_of "$2")" --json \
        --policy "${3:-$POL}" || flunk "bkp audit report --from day $1 --to day $2 failed (above)"
}
# want_parts WHAT PART=ok... : the ok flag of every part, and the answer.
want_parts() {
    local what=$1 spec all=true got p w
    shift
    for spec in "$@"; do
        p=${spec%%=*}
        w=${spec#*=}
        [ "$w" = true ] || all=false
        got=$(part_ok "$p")
        [ "$got" = "$w" ] || flunk "$what: part $p should be ok $w, is '${got:-missing}': $(part_en "$p")"
    done
    [ "$(parts | wc -l)" = "$#" ] || flunk "$what: the statement should have $# parts: $(parts | cut -f1 | tr '\n' ' ')"
    [ "$(answer)" = "$all" ] || flunk "$what: the answer should be $all, is '$(answer)'"
    return 0
}

SEQ=0
backup_week() { # backup_week DAY: change the data, back up emr at 08:00
    at "$1" 8
    SEQ=$((SEQ + 1))
    {
        echo "-- emr dump of day $1"
        seq 1 500 | sed "s/^/INSERT INTO visits VALUES ($SEQ, /; s/\$/, 'ok');/"
    } >"$EMR/emr.sql"
    [ -f "$EMR/formulary.txt" ] || head -c 20000 /dev/urandom | base64 >"$EMR/formulary.txt"
    head -c 2000 /dev/urandom >"$EMR/scan-$SEQ.pdf"
    ok "$BKP" backup emr --policy "$POL"
}
rotate() { # rotate MEDIUM DAY HOUR
    at "$2" "$3"
    check_exit 0 "$BKP" rotate "$1" --policy "$POL" || flunk "day $2: bkp rotate $1 failed (above)"
    ROT_SEQS="$ROT_SEQS $(last_seq_of rotate)"
}

# ============ 1. Weeks 0–4: everything holds ============
at 0 5
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$USB" --name usb-a --policy "$POL"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
ROT_SEQS=
backup_week 0
rotate usb-a 0 9
backup_week 7
rotate usb-a 7 9
rotate tape 7 10
[ -n "$(find "$TAPE" -name 'emr@*.tar' -print -quit)" ] || flunk "the rotation of tape wrote no archive: $(ls -A "$TAPE")"
backup_week 14
rotate usb-a 14 9
backup_week 21
rotate usb-a 21 9
at 21 11
check_exit 0 "$BKP" drill emr --policy "$POL" --report "$WORK/reports" || flunk "the drill of week 3 failed (above)"
DRILL_SEQ=$(last_seq_of drill)
[ -n "$DRILL_SEQ" ] || flunk "no audit record op drill outcome ok after the drill"
backup_week 28
rotate usb-a 28 9
at 28 12
ok "$BKP" status --policy "$POL" --json
grep -q '"verdict": "COMPLIANT"' <<<"$OUT" ||
    flunk "day 28: emr should be COMPLIANT (usb-a off-site and off-line, tape a second media type): $(printf '%s\n' "$OUT" | grep -A3 reasons | tr -s ' \n' ' ')"

report 0 28
want_parts "weeks 0-4" generations=true offline=true immutable=true media=true offsite=true rule=true procedure=true drill=true audit=true
ev=$(part_en drill)
grep -q "emr: drill #$DRILL_SEQ ($(date_of 21), " <<<"$ev" ||
    flunk "the drill part should cite the drill's record #$DRILL_SEQ of $(date_of 21): $ev"
ev=$(part_en offline)
[ "$(printf '%s\n' "$ROT_SEQS" | wc -w)" = 6 ] || flunk "six rotations should have left records, found: '$ROT_SEQS'"
for s in $ROT_SEQS; do
    grep -q "#$s (" <<<"$ev" || flunk "the off-line part should cite rotation #$s: $ev"
done
grep -q "tape)" <<<"$ev" || flunk "the off-line part should cite the rotation of tape: $ev"
gap=$(json_num offline_longest_gap_seconds)
[ -n "$gap" ] && [ "$gap" -le $((8 * DAY)) ] && [ "$gap" -ge $((6 * DAY)) ] ||
    flunk "weeks 0-4: the longest off-line gap should be about 7 days (≤ 8), is '$gap' s"
grep -q 'longest time without a fresh off-line copy 7.0 days (at most 8)' <<<"$ev" ||
    flunk "the off-line part should say the longest gap was 7.0 days of at most 8: $ev"
grep -q '"offline_gap_ok": true' <<<"$OUT" || flunk "weeks 0-4: offline_gap_ok should be true"
[ "$(json_num generations_kept)" = 5 ] || flunk "five weekly generations should be kept, the report says $(json_num generations_kept)"
grep -qF 'emr: runbook emr \"電子カルテ 復旧手順\" (5 steps)' <<<"$(part_en procedure)" ||
    flunk "the procedure part should name the runbook beside the policy: $(part_en procedure)"
# Backups: five in the period, each a record.
[ "$(printf '%s\n' "$OUT" | sed -n '/^      "backups": {/,/^      }/p' | grep -c '"seq":')" = 5 ] ||
    flunk "the report should list the five backups of the period: $(printf '%s\n' "$OUT" | sed -n '/"backups"/,/^      }/p' | head -n 12)"

# ============ 2. A period that ends before the drill ============
report 0 20
want_parts "a period ending on day 20, before the drill" generations=true offline=true immutable=true media=true offsite=true rule=true \
    procedure=true drill=false audit=true
grep -q 'emr: no successful drill in the period' <<<"$(part_en drill)" ||
    flunk "the drill part should say there was no successful drill in the period: $(part_en drill)"
grep -q "#$DRILL_SEQ" <<<"$(part_en drill)" &&
    flunk "a period before the drill cites the drill #$DRILL_SEQ: $(part_en drill)"

# ============ 3. The reports for people (weeks 0-4, and before the drill) ============
check_exit 0 "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 28)" --lang ja --policy "$POL" || true
JA=$OUT
check_exit 0 "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 20)" --lang ja --policy "$POL" || true
JA_NO=$OUT
check_exit 0 "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 28)" --format html --lang en --policy "$POL" || true
HTML=$OUT
has() { # has TEXT-VAR WHAT STRING...
    local text=$1 what=$2 s
    shift 2
    for s in "$@"; do
        grep -qF -- "$s" <<<"$text" || flunk "$what should contain '$s'"
    done
    return 0
}
has "$JA" "the Japanese report of weeks 0-4" "# バックアップと復旧の証跡 — チェックリスト 3-②" \
    "| 3-② への回答 | はい |" "| 期間内の訓練（または手順書による復元）で復旧手順を確認した | はい | emr: 訓練 #$DRILL_SEQ（$(date_of 21)、" \
    "| 監査記録が改ざんされていない | はい |" "回答: はい" "| #$DRILL_SEQ | " "## データセット emr — 電子カルテ"
# The weekly backups its schedule asked for, each made (the row an inspector reads for a missed night).
grep -F '| 予定されたバックアップ（現在のスケジュールで） |' <<<"$JA" | grep -q '回（すべて実施）' ||
    flunk "the report should count the scheduled weekly backups, all made: $(grep -F '予定された' <<<"$JA")"
grep -q 'いいえ' <<<"$JA" && flunk "the Japanese report of weeks 0-4 (all met) says いいえ: $(printf '%s\n' "$JA" | grep 'いいえ')"
has "$JA_NO" "the Japanese report of days 0-20" "| 3-② への回答 | いいえ |" \
    "| 期間内の訓練（または手順書による復元）で復旧手順を確認した | いいえ | emr: 期間内に成功した訓練なし |" "回答: いいえ"
[ "$(printf '%s\n' "$JA_NO" | grep -c '| はい |')" = 8 ] ||
    flunk "days 0-20: eight parts should be はい: $(printf '%s\n' "$JA_NO" | grep '| はい |\|| いいえ |')"
has "$HTML" "the English HTML report" "<!DOCTYPE html>" '<meta charset="utf-8">' "</body></html>" \
    "<h2>Statement for checklist item 3-②</h2>" "<tr><th>Part</th><th>Met</th><th>Evidence</th></tr>" \
    "<tr><td>The procedure was confirmed by a drill, or a restore by it, in the period</td><td>yes</td><td>emr: drill #$DRILL_SEQ" \
    "<tr><td>Answer for item 3-②</td><td>yes</td></tr>" "<p>Answer: yes</p>"
for tag in table tr h2; do
    [ "$(printf '%s\n' "$HTML" | grep -o "<$tag>" | wc -l)" = "$(printf '%s\n' "$HTML" | grep -o "</$tag>" | wc -l)" ] ||
        flunk "the HTML report opens and closes <$tag> a different number of times"
done
[ "$(printf '%s\n' "$HTML" | grep -o '<td>' | wc -l)" = "$(printf '%s\n' "$HTML" | grep -o '</td>' | wc -l)" ] ||
    flunk "the HTML report's cells do not close"
grep -q '電子カルテ 復旧手順' <<<"$HTML" || flunk "the HTML report should name the runbook's title"
# -o FILE: the same report, whole, its format from the name (.html); in the
# report's language (lang="en"); a folder for FILE is refused, nothing written.
check_exit 0 "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 28)" --lang en --policy "$POL" \
    -o "$WORK/evidence.html" || true
[ "$(cat "$WORK/evidence.html")" = "$HTML" ] || flunk "audit report -o evidence.html differs from --format html on standard output"
grep -q '<html lang="en">' "$WORK/evidence.html" || flunk "the English HTML report should say lang=\"en\""
# The file written is recorded by its SHA-256 in a signed record: audit
# check tells the inspector it is the report as made, and that an edited
# one (an answer changed) is not.
check_exit 0 "$BKP" audit check "$WORK/evidence.html" --policy "$POL" || true
output_has "unchanged — the evidence report for"
# The default period (30 days back) starts at the repository's creation: the
# record says the period the report shows, not the one asked for.
check_exit 0 "$BKP" audit report --lang en --policy "$POL" -o "$WORK/default.md" || true
period=$(grep -m1 '^| Period |' "$WORK/default.md")
check_exit 0 "$BKP" audit check "$WORK/default.md" --policy "$POL" || true
start=$(sed -n 's/.*the evidence report for \(.*\) to .*/\1/p' <<<"$OUT")
[ -n "$start" ] && grep -qF "| Period | $start —" <<<"$period" ||
    flunk "audit check names another period ($start) than the report's: $period"
# On the inspector's machine: no repository, no policy, a copy of the log
# and the key written down.
mkdir -p "$WORK/inspector"
cp "$REPO/audit/log.jsonl" "$WORK/inspector/log.jsonl"
cp "$WORK/evidence.html" "$WORK/inspector/"
FP=$("$BKP" key fingerprint --policy "$POL" | sed -n '3,4p' | tr -d ' \n')
check_exit 0 env -u BKP_REPO -u BKP_POLICY "$BKP" audit check "$WORK/inspector/evidence.html" \
    --journal "$WORK/inspector/log.jsonl" --public-key "$FP" || true
output_has "unchanged — the evidence report for"
output_has "checked with the public key you gave"
python3 - "$WORK/evidence.html" <<'PY'
import sys
p = sys.argv[1]
t = open(p, encoding="utf-8").read()
assert ">yes<" in t, "no answer to edit"
open(p, "w", encoding="utf-8").write(t.replace(">yes<", ">no<", 1))
PY
check_exit 1 "$BKP" audit check "$WORK/evidence.html" --policy "$POL" || true
output_has "CHANGED since it was written"
grep -q '<html lang="ja">' <(cd "$WORK" && "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 28)" \
    --lang ja --format html --policy "$POL") || flunk "the Japanese HTML report should say lang=\"ja\""
mkdir "$WORK/evidence-dir"
check_exit 2 "$BKP" audit report --policy "$POL" -o "$WORK/evidence-dir/"
grep -q 'names a folder' <<<"$ERR" || flunk "-o FOLDER/ should say it names a folder: $ERR"
[ -z "$(ls -A "$WORK/evidence-dir")" ] || flunk "-o FOLDER/ wrote into the folder: $(ls -A "$WORK/evidence-dir")"
# -o is the report's alone: another audit command refuses it, writing nothing.
check_exit 2 "$BKP" audit show --policy "$POL" -o "$WORK/show.txt"
[ ! -e "$WORK/show.txt" ] || flunk "audit show -o wrote a file"

# ============ 4. Weeks 5–7: usb-a forgotten for three weeks ============
backup_week 35
backup_week 42
at 44 9
check_exit 0 "$BKP" status --policy "$POL" --json || true
grep -q '"verdict": "AT RISK"' <<<"$OUT" && grep -q '^        ".*usb-a.*"' <<<"$OUT" ||
    flunk "day 44: usb-a's copy is 16 days old; status should say AT RISK naming usb-a: $(printf '%s\n' "$OUT" | sed -n '/"reasons"/,/\]/p' | tr -s ' \n' ' ')"
backup_week 49
ROT_SEQS=
rotate usb-a 49 9
LATE_ROT=$ROT_SEQS
at 49 12
report 29 49
# The checklist asks whether it is done: at the period's end usb-a's copy is
# fresh, so the part is met, and the 21 days are said beside it.
want_parts "days 29-49, usb-a not rotated for 21 days" generations=true offline=true immutable=true media=true offsite=true rule=true \
    procedure=true drill=false audit=true
gap=$(json_num offline_longest_gap_seconds)
# The copy on usb-a is as old as the generation it holds: captured day 28 08:00,
# replaced by the rotation of day 49 09:00.
[ "$gap" = $((21 * DAY + 3600)) ] || flunk "days 29-49: the longest gap should be 21 days 1 hour (day 28 08:00, when the copy's generation was captured, to day 49 09:00), is '$gap' s"
grep -q '"offline_gap_ok": false' <<<"$OUT" || flunk "days 29-49: offline_gap_ok should be false"
grep -q '"offline_at_end_ok": true' <<<"$OUT" || flunk "days 29-49: offline_at_end_ok should be true"
[ "$(json_num offline_lapses)" = 1 ] || flunk "days 29-49: one lapse, the report counts '$(json_num offline_lapses)'"
ev=$(part_en offline)
grep -q "within 8 days at the period's end; in the period it was older 1 time(s), the longest 21.0 days, until $(date_of 49) 09:00 UTC; rotations #${LATE_ROT# } ($(date_of 49), usb-a)" <<<"$ev" ||
    flunk "the off-line part should give the lapse of 21.0 days until day 49 and cite the rotation #${LATE_ROT# } of day 49: $ev"
# A period with no rotation in it at all: none cited, still judged by the copy it started with.
report 29 42
[ "$(part_ok offline)" = false ] || flunk "days 29-42 (no rotation): the off-line part should not be met"
has "$OUT" "days 29-42" '"offline_at_end_ok": false'
grep -q 'rotations none to an off-line medium in the period' <<<"$(part_en offline)" ||
    flunk "days 29-42: the off-line part should say no rotation was in the period: $(part_en offline)"

# ============ 5. One byte of the audit log changed ============
at 49 13
cp -a "$REPO" "$WORK/repo-t"
sed "s|^repository: .*|repository: $WORK/repo-t|" "$POL" >"$WORK/etc/policy-t.yaml"
LOG=$WORK/repo-t/audit/log.jsonl
chmod -R u+w "$WORK/repo-t/audit"
command -v chattr >/dev/null 2>&1 && chattr -i "$LOG" 2>/dev/null || true
# The third record's outcome "ok" becomes "oK": one byte.
line=3
off=$(head -n $((line - 1)) "$LOG" | wc -c)
rel=$(sed -n "${line}p" "$LOG" | grep -bo '"outcome":"ok"' | head -n 1 | cut -d: -f1)
[ -n "$rel" ] || fail "record $line of the audit log has no \"outcome\":\"ok\": $(sed -n "${line}p" "$LOG" | cut -c1-200)"
printf 'K' | dd of="$LOG" bs=1 seek=$((off + rel + 12)) conv=notrunc status=none
[ "$(cmp -l "$REPO/audit/log.jsonl" "$LOG" | wc -l)" = 1 ] || fail "the copy of the log should differ by one byte"
check_exit 1 "$BKP" audit verify --policy "$WORK/etc/policy-t.yaml" || true
report 0 28 "$WORK/etc/policy-t.yaml"
want_parts "weeks 0-4, one byte of record $line changed" generations=true offline=true immutable=true media=true offsite=true rule=true \
    procedure=true drill=true audit=false
grep -q 'record' <<<"$(part_en audit)" || flunk "the audit part should name the bad record: $(part_en audit)"
check_exit 0 "$BKP" audit report --from "$(date_of 0)" --to "$(date_of 28)" --lang ja --policy "$WORK/etc/policy-t.yaml" || true
has "$OUT" "the Japanese report of a tampered log" "| 監査記録が改ざんされていない | いいえ |" "| 3-② への回答 | いいえ |" "回答: いいえ" "対応目標日"
# The untouched repository still answers yes.
report 0 28
[ "$(answer)" = true ] || flunk "the untouched repository should still answer true for weeks 0-4"

# ============ 6. Rotations that copy nothing new ============
# No backup after day 49; usb-a is still rotated weekly, but each rotation
# finds emr:8 (day 49) already there: by day 70 the copy held off-line is
# 21 days old, as bkp status says, and the off-line part cannot be met.
for d in 56 63 70; do
    at "$d" 9
    check_exit 0 "$BKP" rotate usb-a --policy "$POL" || flunk "day $d: bkp rotate usb-a failed (above)"
done
at 70 12
check_exit 0 "$BKP" status --policy "$POL" --json || true
grep -q 'off-line copy is 21 days old' <<<"$OUT" ||
    flunk "day 70: status should say the freshest off-line copy is 21 days old: $(printf '%s\n' "$OUT" | sed -n '/"reasons"/,/\]/p' | tr -s ' \n' ' ')"
report 50 70
[ "$(part_ok offline)" = false ] ||
    flunk "days 50-70: every rotation re-copied emr:8 of day 49, so the off-line copy was 21 days old by day 70 (bkp status says so), yet the off-line part is met: $(part_en offline)"

# ============ 7. One drill of a runbook that covers two data sets ============
at 56 10
REPO2=$WORK/repo2
POL2=$WORK/etc2/policy.yaml
mkdir -p "$WORK/etc2/runbooks" "$WORK/karte" "$WORK/scans"
cat >"$POL2" <<YAML
repository: $REPO2
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - { name: karte, priority: 1, paths: [$WORK/karte], schedule: daily 02:00, runbook: clinic }
  - { name: scans, priority: 2, paths: [$WORK/scans], schedule: daily 03:00, runbook: clinic }
YAML
# Restored into this scenario's folder on the real day (section 8).
cat >"$WORK/etc2/runbooks/clinic.yaml" <<YAML
title: "診療所 復旧手順"
datasets: [karte, scans]
steps:
  - { who: "院長", select: { dataset: karte } }
  - { who: "院長", verify: {} }
  - { who: "院長", restore: { dataset: karte, to: $WORK/restored/karte } }
  - { who: "院長", check: 'test -f "\$BKP_TARGET/k.txt"' }
  - { who: "院長", select: { dataset: scans } }
  - { who: "院長", verify: {} }
  - { who: "院長", restore: { dataset: scans, to: $WORK/restored/scans } }
  - { who: "院長", check: 'test -f "\$BKP_TARGET/s.txt"' }
YAML
echo karte >"$WORK/karte/k.txt"
echo scans >"$WORK/scans/s.txt"
ok "$BKP" init --policy "$POL2"
ok "$BKP" backup karte --policy "$POL2"
ok "$BKP" backup scans --policy "$POL2"
check_exit 0 "$BKP" drill clinic --policy "$POL2" --report "$WORK/reports" || flunk "the drill of clinic failed (above)"
check_exit 0 "$BKP" audit report --from "$(date_of 56)" --to "$(date_of 56)" --json --policy "$POL2" || true
ev=$(part_en drill)
if [ "$(part_ok drill)" != true ]; then
    flunk "one successful drill of runbook clinic (data sets karte and scans) should confirm the procedure of both; the drill part is not met: $ev"
fi
for d in karte scans; do
    grep -q "$d: drill #" <<<"$ev" || flunk "the drill part should cite the drill of clinic for $d: $ev"
done
# Its report is named by both records of that drill, one a data set.
check_exit 0 "$BKP" audit check "$(ls "$WORK"/reports/drill-clinic-*.en.md | head -n 1)" --policy "$POL2" || true
output_has "in the signed audit records #"
output_has "(one for each data set)"

# ============ 8. A restore by the runbook that people attended ============
# The procedure followed for real, attended, confirms it as an attended
# drill does: a period with no drill, only that restore of day 57, is met
# and cites it; a restore by hand, or by the runbook with nobody attending
# (a script's), the same day is not cited.
at 57 10
ok "$BKP" restore karte:latest "$WORK/by-hand" --policy "$POL2"
ok "$BKP" restore --runbook clinic --policy "$POL2" </dev/null
rm -rf "$WORK/restored"
ok "$BKP" restore --runbook clinic --attest 佐藤 --policy "$POL2" </dev/null
[ -f "$WORK/restored/karte/k.txt" ] && [ -f "$WORK/restored/scans/s.txt" ] ||
    flunk "the restore by runbook did not restore both data sets: $(find "$WORK/restored" | head)"
REAL_SEQ=$(POL=$POL2 last_seq_of restore)
check_exit 0 "$BKP" audit report --from "$(date_of 57)" --to "$(date_of 57)" --json --policy "$POL2" || true
ev=$(part_en drill)
[ "$(part_ok drill)" = true ] ||
    flunk "the real day's restore by runbook should confirm the procedure; the drill part is not met: $ev"
grep -q "scans: the restore by runbook #$REAL_SEQ ($(date_of 57), attended, not a drill)" <<<"$ev" ||
    flunk "the drill part should cite the restore by runbook #$REAL_SEQ: $ev"
grep -q '"kind": "recovery"' <<<"$OUT" || flunk "the evidence document should list the restore by runbook as kind recovery"
[ "$(grep -c '"kind": "recovery"' <<<"$OUT")" = 2 ] ||
    flunk "only the attended restore by runbook (one record a data set) should be listed, not the restore by hand nor the unattended one: $(grep -c '"kind": "recovery"' <<<"$OUT")"

finish
