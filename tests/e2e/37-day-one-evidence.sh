#!/usr/bin/env bash
# 37-day-one-evidence — a clinic that did everything on its first day gets
# はい from `bkp audit report`, with its name and the lines to sign.
#
# Within the hour: init, three backups, the off-line off-site disk and the
# archive folder rotated, an attended drill with the disk connected. Then:
#  1. `bkp audit report --lang ja` answers はい: the period starts at the
#     repository's creation (said), not 30 days before it, so the off-line
#     gap is minutes, not 30 days; the facility's name is in the title; the
#     drill is told apart as attended, with who attested; the signature
#     lines (作成者 / 確認者 / 承認者) are there; key operations are in
#     Japanese (no raw "format md; lang ja").
#  2. In Tokyo time, `--from` today's local date is accepted (it was refused
#     before 09:00 JST when days were UTC).
#     A rotation refused for want of the disk records why, as refused; the
#     annex keeps the last good exchange; the report's table says why.
#  3. Without a runbook named, the answer is no and the part not met is
#     explained with what to do.
. "$(dirname "$0")/lib.sh"
need_tool jq

DATA=$WORK/data
kit_fixture 100000 5
mkdir -p "$WORK/usb" "$WORK/arch" "$WORK/reports"
REPO=$WORK/repo
POL=$WORK/policy.yaml
policy() { # policy COPY_TO
    cat >"$POL" <<YAML
facility: "さくら診療所"
language: ja
repository: $REPO
passphrase_file: $PASSFILE
media:
  - { name: usb, type: removable, path: $WORK/usb, location: offsite, offline: true, rotate_every: 7d }
  - { name: arch, type: archive, path: $WORK/arch, location: onsite, offline: true, rotate_every: 30d }
datasets:
  - name: emr
    paths: [$DATA/emr]
    copy_to: [$1]
    runbook: emr
YAML
}
policy "usb, arch"
export BKP_POLICY=$POL
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
ok "$BKP" init
output_has "fingerprint" "init should print the repository key's fingerprint"
output_has "bkp key export --paper" "init should say the next steps"
ok "$BKP" policy check
for k in "facility: さくら診療所" "language of what is written for people: ja" "notify: none" "status page: none"; do
    output_has "$k" "policy check should echo every key it applied"
done
# As cron runs it (no terminal, no language asked for): in the policy's
# language, which the staff who read cron's mail read.
ok env -u LANGUAGE "$BKP" policy check
output_has "施設: さくら診療所" "without a terminal the policy's language (ja) should be spoken"
output_has "人が読む文書の言語: ja" "without a terminal the policy's language (ja) should be spoken"
ok "$BKP" media label "$WORK/usb" --name usb
ok "$BKP" media label "$WORK/arch" --name arch
for i in 1 2 3; do
    echo "visit $i" >>"$DATA/emr/notes/n1.txt"
    ok "$BKP" backup emr
done
ok "$BKP" key export --paper -o "$WORK/paper.md"
ok "$BKP" rotate usb
ok "$BKP" rotate arch
ok answering 'y\ny\ny\ny\ny\ny\ny\ny\n' "$BKP" drill emr --attest "山田 (システム担当)" --report "$WORK/reports"

# 1. はい, in Japanese, for the facility.
ok "$BKP" audit report --json
[ "$(jq -r .statement.answer <<<"$OUT")" = true ] ||
    flunk "a day-one install that did everything should answer true: $(jq -c '.statement.parts[] | select(.ok == false)' <<<"$OUT")"
[ "$(jq -r .period.since_creation <<<"$OUT")" = true ] || flunk "the period should start at the repository's creation"
gap=$(jq -r '.datasets[0].offline_longest_gap_seconds' <<<"$OUT")
[ "$gap" -lt 3600 ] || flunk "on day one the off-line gap is minutes, not $gap s"
ok "$BKP" audit report
R=$OUT
grep -q "^# バックアップと復旧の証跡 — チェックリスト項目 3-② — さくら診療所" <<<"$R" ||
    flunk "the report should be in the policy's language with the facility's name: $(head -3 <<<"$R")"
grep -q "回答: はい" <<<"$R" || flunk "the report should answer はい"
grep -q "リポジトリの作成から。このリポジトリの記録はそこから始まります" <<<"$R" || flunk "the report should say the period starts at the repository's creation, where its records begin"
grep -q "バックアップの対象がありません" <<<"$R" && flunk "the report should not claim nothing was backed up before the repository (a new one after a loss)"
grep -q "立会いあり（確認者 山田 (システム担当)）" <<<"$R" || flunk "the drill should be told apart as attended, with who attested"
for role in 作成者 確認者 承認者; do
    grep -q "| $role |" <<<"$R" || flunk "the report should have a line for the $role to sign"
done
grep -q "format md" <<<"$R" && flunk "the key operations should be in Japanese: $(grep -n 'format' <<<"$R")"
grep -q "形式 md" <<<"$R" || flunk "the paper sheet's printing should be listed in Japanese"
grep -q "(UTC)" <<<"$R" && flunk "times for people are local with their zone, not '(UTC)'"
printf '%s\n' "$R" >"$WORK/report.ja.md"

# 2. Local days.
TODAY=$(TZ=Asia/Tokyo date +%Y-%m-%d)
TZ=Asia/Tokyo check_exit 0 "$BKP" audit report --from "$TODAY" --json
[ "$(jq -r .statement.answer <<<"$OUT")" = true ] || flunk "--from today (JST) should report the same day one"
# A period before the repository was made has nothing to show: refused, not
# answered with today's state; a period after today, or a day mistyped, too.
check_exit 2 "$BKP" audit report --from 2001-01-01 --to 2001-01-31
output_has "after this period ended" "a period before the repository should be refused"
check_exit 2 "$BKP" audit report --from 2099-01-01
output_has "after today" "a period after today should be refused"
check_exit 2 "$BKP" audit report --from 2026-13-01
output_has "'2026-13-01' is not a day" "a mistyped day should be named"
check_exit 2 "$BKP" audit report --lang jp
output_has "--lang jp: write ja or en" "a language bkp does not have should be refused"

# 2b. A rotation refused because the disk is not there says why, and is not
# taken for a failed exchange: the annex still shows the last good one.
mv "$WORK/usb" "$WORK/usb-away"
mkdir -p "$WORK/usb"
check_exit 1 "$BKP" rotate usb
ok "$BKP" audit show --json
last=$(jq -c '[.[] | select(.op == "rotate" and .medium == "usb")] | last' <<<"$OUT")
jq -e '.outcome == "failed" and .figures.refused == true and (.error | test("no medium at"))' <<<"$last" >/dev/null ||
    flunk "a rotation refused for want of the disk should record why: $last"
ok "$BKP" policy print --regulation --lang en
grep -E "^\| usb \|" <<<"$OUT" | grep -q "$(date -u +%Y-%m-%d).*refused: nothing written" ||
    flunk "the annex should show the last good exchange and the refused attempt: $(grep -E '^\| usb' <<<"$OUT")"
ok "$BKP" audit report --lang en
grep -q "refused, nothing written: no medium at" <<<"$OUT" || flunk "the report's rotation table should say why: $(grep -n refused <<<"$OUT")"
rmdir "$WORK/usb" && mv "$WORK/usb-away" "$WORK/usb"

# 3. The runbook no longer named in the policy: no, with the fix.
sed -i '/runbook: emr/d' "$POL"
ok "$BKP" audit report --lang en
grep -q "Answer: no" <<<"$OUT" || flunk "without a runbook the answer should be no: $(grep -A3 Statement <<<"$OUT")"
grep -q "Not met — The recovery procedure is written: Write a runbook for each data set" <<<"$OUT" ||
    flunk "a part not met should be explained with its fix: $(grep -n 'Not met' <<<"$OUT")"

finish
