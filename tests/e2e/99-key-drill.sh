#!/usr/bin/env bash
# 99-key-drill — the key-recovery drill, what reminds of it and the key
# operations in the evidence report, with an injected clock (BKP_NOW):
#
#  1. `bkp status` reminds that no key-recovery drill was ever held (text and
#     --json "key_drill": due), without changing the verdict or the exit code.
#  2. `bkp drill rb --key-from` with 3 of 5 share sheets on an off-line disk,
#     with no passphrase anywhere (the policy's file is gone): it succeeds and
#     restores from the disk, not from the primary, which is still there; a
#     passphrase given as well (option or environment) is refused, exit 2; an
#     on-line disk is refused as the medium of a key-recovery drill, exit 2.
#  3. The drill's record says key_recovery, which sheets (shares 3 of 5) and
#     no secret; the status reminder is gone — until key_drill_every (here
#     30d) has passed again, when `bkp run` tells it once (not on the next run).
#  4. `bkp audit report` lists every key operation of the period: the paper
#     sheet printed (key-export), the split (key-split), each use of the
#     sheets (key-from) and the key-recovery drill, in English and Japanese,
#     with their figures; the JSON has them under key_operations.
. "$(dirname "$0")/lib.sh"
need_test_clock
need_tool jq

T0=$(date -u -d 2026-03-02T00:00:00Z +%s)
DAY=86400
at() { # at DAY: the injected clock, at 09:00 of that day
    BKP_NOW=$((T0 + $1 * DAY + 9 * 3600))
    export BKP_NOW
}
D=$WORK/data
MNT=$WORK/usb
NAS=$WORK/nas
REPO=$WORK/repo
POL=$WORK/etc/policy.yaml
export TMPDIR=$WORK/tmp
mkdir -p "$D/sub" "$MNT" "$NAS" "$TMPDIR" "$WORK/etc/runbooks" "$WORK/reports"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
key_drill_every: 30d
media:
  - { name: usb-a, type: removable, path: $MNT, location: offsite, offline: true }
  - { name: nas, type: disk, path: $NAS, location: onsite }
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 3 }
    copy_to: [usb-a, nas]
    runbook: rb
YAML
cat >"$WORK/etc/runbooks/rb.yaml" <<YAML
title: "ds"
datasets: [ds]
steps:
  - { who: "admin", select: { dataset: ds } }
  - { who: "admin", verify: {} }
  - { who: "admin", restore: { dataset: ds, to: $WORK/drill-target } }
  - { who: "admin", check: "test -f \"\$BKP_TARGET/sub/b.txt\"" }
YAML
chmod 600 "$POL" "$WORK/etc/runbooks/rb.yaml"
unset BKP_PASSPHRASE_FILE
P=(--policy "$POL")

at 0
ok "$BKP" init "${P[@]}"
ok "$BKP" media label "$MNT" --name usb-a --type removable "${P[@]}"
ok "$BKP" media label "$NAS" --name nas --type disk "${P[@]}"
head -c 100000 /dev/urandom >"$D/a"
echo "患者 記録" >"$D/sub/b.txt"
ok "$BKP" backup "${P[@]}" ds
ok "$BKP" rotate usb-a "${P[@]}"
ok "$BKP" rotate nas "${P[@]}"
ok "$BKP" key export --paper "${P[@]}" -o "$WORK/paper.md"
ok "$BKP" key split "${P[@]}" --shares 5 --threshold 3 -o "$WORK/shares"
S=$WORK/shares/share
SHEETS=(--key-from "$S-2-of-5.md" --key-from "$S-4-of-5.md" --key-from "$S-5-of-5.md")

# 1. Never held: not on the repository's first days; once key_drill_every
# has passed since its creation, status reminds, in text and JSON, and
# judges nothing by it. (`status` writes nothing: the clock may go back.)
at 1
expect_exit 0 "$BKP" status "${P[@]}"
grep -q "key-recovery drill" <<<"$OUT" && flunk "a repository one day old is reminded of a key-recovery drill: $OUT"
at 31
expect_exit 0 "$BKP" status "${P[@]}"
output_has "key-recovery drill: never held"
ok "$BKP" status --json "${P[@]}"
output_has '"key_drill": {'
printf '%s\n' "$OUT" | grep -A3 '"key_drill"' | grep -q '"due": true' ||
    flunk "status --json does not say a key-recovery drill is due"
LC_ALL= LANG=C.UTF-8 LANGUAGE=ja check_exit 0 "$BKP" status "${P[@]}" || true
output_has "鍵の復旧訓練: 未実施"

# 2. The drill, with the shares alone. A passphrase given too is refused
#    before anything is read, by option or by the environment.
expect_exit 2 "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" --passphrase-file "$PASSFILE" --report "$WORK/reports"
output_has "reads no passphrase"
expect_exit 2 env BKP_PASSPHRASE_FILE="$PASSFILE" "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" --report "$WORK/reports"
output_has "reads no passphrase"
expect_exit 2 env BKP_PASSPHRASE_COMMAND="cat $PASSFILE" "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" --report "$WORK/reports"
output_has "reads no passphrase"
# An on-line disk is not what is left after a fire.
expect_exit 2 "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" --medium nas --report "$WORK/reports"
output_has "on-line disk"
# No passphrase anywhere: the policy's file is gone during the drill.
ok "$BKP" key fingerprint "${P[@]}" --json
PK=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")
mv "$PASSFILE" "$WORK/passphrase.away"
at 2
ok "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" --report "$WORK/reports" </dev/null
output_has "key recovery: opened with 3 of 5 share sheets"
# Its record went where no primary was open for it: `audit check` finds it
# there (the journal beside the reports, or the log), with the public key.
KD=$(ls "$WORK"/reports/drill-rb-*.ja.md | head -n 1)
check_exit 0 "$BKP" audit check "$KD" --repo "$REPO" --public-key "$PK" </dev/null || true
output_has "unchanged — the report of the drill of runbook rb"
[ -e "$PASSFILE" ] && flunk "the passphrase file came back"
# Without --report, its report goes where every drill's goes: the primary's
# reports/ (the drill opened no primary, but one is there).
ok "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" </dev/null
ls "$REPO"/reports/drill-rb-*.ja.md >/dev/null 2>&1 || flunk "a key-recovery drill without --report kept no report: $ERR"
printf '%s\n' "$ERR" | grep -q "could not be written" && flunk "the drill report was not written: $ERR"
# A link planted in place of reports/ is not followed: the primary's layout
# refuses it, and the report is not kept anywhere else (said).
mv "$REPO/reports" "$WORK/reports.kept"
mkdir "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$REPO/reports"
"$BKP" drill rb "${P[@]}" "${SHEETS[@]}" </dev/null >"$WORK/linked.out" 2>&1 || true
[ -z "$(ls -A "$WORK/elsewhere")" ] || flunk "a key-recovery drill wrote its report through a planted link"
grep -q "report was not kept" "$WORK/linked.out" || flunk "the unkept report was not said: $(cat "$WORK/linked.out")"
rm "$REPO/reports"
mv "$WORK/reports.kept" "$REPO/reports"
mv "$WORK/passphrase.away" "$PASSFILE"
export BKP_PASSPHRASE_FILE=$PASSFILE

# 3. Its record: a key-recovery drill, from the off-line disk, with which
#    sheets and no secret.
ok "$BKP" audit show --json "${P[@]}"
printf '%s\n' "$OUT" | grep -q '"key_recovery": true' || flunk "the drill record does not say key_recovery"
output_has '"medium": "usb-a"'
output_has '"read_from": "key_recovery"'
output_has '"threshold": 3'
SECRET=$(sed -n 's/^1: \([0-9A-Z ]*\)  ...*$/\1/p' "$S-2-of-5.md" | tr -d ' ' | head -n 1)
[ -n "$SECRET" ] || flunk "no line of characters found on the share sheet"
printf '%s\n' "$OUT" | tr -d ' ' | grep -q "$SECRET" && flunk "a share's characters are in the audit log"
grep -rq "$SECRET" "$REPO/audit" "$MNT" && flunk "a share's characters were written somewhere"

# The reminder is gone, and comes back once key_drill_every has passed.
at 3
ok "$BKP" status "${P[@]}"
printf '%s\n' "$OUT" | grep -q "key-recovery drill" && flunk "status reminds right after a key-recovery drill"
ok "$BKP" status --json "${P[@]}"
printf '%s\n' "$OUT" | grep -A3 '"key_drill"' | grep -q '"due": false' ||
    flunk "status --json says a key-recovery drill is due right after one"
at 40
ok "$BKP" status "${P[@]}"
output_has "key-recovery drill: none since"
# bkp run tells it once, as every alert (warning and event), and then not
# again the same day: cron mails once.
ok "$BKP" run "${P[@]}"
printf '%s\n' "$ERR" | grep -q "no key-recovery drill within 30 days" ||
    flunk "bkp run does not tell that the key drill is overdue: $ERR"
ok "$BKP" run "${P[@]}"
printf '%s\n' "$OUT$ERR" | grep -q "key-recovery drill within" && flunk "bkp run told the key drill twice"

# 4. The evidence report lists the key operations of the period.
ok "$BKP" audit report "${P[@]}" --from 2026-03-01 --to 2026-03-31 --json
output_has '"key_operations": ['
KO=$(printf '%s\n' "$OUT" | sed -n '/"key_operations": \[/,/^  \]/p')
for op in '"op": "key-export"' '"op": "key-split"' '"op": "key-from"' '"op": "drill"' \
    '"key_recovery"' '"threshold": 3'; do
    grep -qF -- "$op" <<<"$KO" || flunk "key_operations lacks $op"
done
grep -qF '"op": "backup"' <<<"$KO" && flunk "key_operations lists a backup"
ok "$BKP" audit report "${P[@]}" --from 2026-03-01 --to 2026-03-31 --lang en
output_has "## Key operations"
output_has "the key printed on a paper sheet"
output_has "the key split into share sheets"
output_has "opened with the key sheets"
output_has "key-recovery drill"
output_has "sheets needed 3" "the split's figures, in words"
ok "$BKP" audit report "${P[@]}" --from 2026-03-01 --to 2026-03-31 --lang ja
output_has "## 鍵の操作"
output_has "鍵を分割シートに分割"
output_has "鍵の復旧訓練"
# A period without any: said so (asked for once it is over).
at 70
ok "$BKP" audit report "${P[@]}" --from 2026-04-20 --to 2026-04-30 --lang en
output_has "No key operation in the period."

# 5. The shares split again (a holder left): a key-recovery drill with the
#    old split's sheets opens the key (they still go together) but does not
#    count, and the status says why; the new split's sheets count. The
#    records name each split's and each use's sheet checksums.
at 80
ok "$BKP" key split "${P[@]}" --shares 5 --threshold 3 -o "$WORK/shares2"
S2=$WORK/shares2/share
SHEETS2=(--key-from "$S2-1-of-5.md" --key-from "$S2-3-of-5.md" --key-from "$S2-5-of-5.md")
"$BKP" status "${P[@]}" >"$WORK/status.resplit" 2>&1 || true
grep -q "the share sheets were split again on" "$WORK/status.resplit" ||
    flunk "a split after the last key drill should make one due: $(cat "$WORK/status.resplit")"
mv "$PASSFILE" "$WORK/passphrase.away"
ok env -u BKP_PASSPHRASE_FILE "$BKP" drill rb "${P[@]}" "${SHEETS[@]}" </dev/null
mv "$WORK/passphrase.away" "$PASSFILE"
"$BKP" status "${P[@]}" >"$WORK/status.old-split" 2>&1 || true
grep -q "share sheets of an older split than the newest" "$WORK/status.old-split" ||
    flunk "a key drill with the old split's sheets should be said: $(cat "$WORK/status.old-split")"
"$BKP" status --json "${P[@]}" 2>/dev/null | jq -e '.key_drill.old_split | type == "string"' >/dev/null ||
    flunk "status --json should carry key_drill.old_split"
# The clerk's page and the inspector's report say the same.
ok "$BKP" status "${P[@]}" --format html --lang ja -o "$WORK/page.html"
grep -q 'data-key-drill="old-split"' "$WORK/page.html" ||
    flunk "the status page should say the key drill with old sheets does not count"
grep -q "古い分割の分割シートで鍵を開きました" "$WORK/page.html" ||
    flunk "the status page should say so in Japanese"
ok "$BKP" audit report "${P[@]}" --from 2026-05-01 --to 2026-05-21 --lang en
output_has "ok, with sheets of a split older than #" "the report marks the drill with old sheets"
output_has "not counted as a key-recovery drill"
ok "$BKP" audit report "${P[@]}" --from 2026-05-01 --to 2026-05-21 --json
jq -e '[.key_operations[] | select(.op == "drill")] | last | .older_split > 0' <<<"$OUT" >/dev/null ||
    flunk "the report's --json should name the newer split: $OUT"
ok "$BKP" audit show --json "${P[@]}"
jq -e '[.[] | select(.op == "key-split")] | last | .figures.sums | length == 5' <<<"$OUT" >/dev/null ||
    flunk "the split's record should name its five sheets' checksums"
jq -e '[.[] | select(.op == "drill")] | last | .figures.key_sheets.sums | length == 3' <<<"$OUT" >/dev/null ||
    flunk "the drill's record should name the checksums of the sheets it took"
mv "$PASSFILE" "$WORK/passphrase.away"
ok env -u BKP_PASSPHRASE_FILE "$BKP" drill rb "${P[@]}" "${SHEETS2[@]}" </dev/null
mv "$WORK/passphrase.away" "$PASSFILE"
"$BKP" status "${P[@]}" >"$WORK/status.new-split" 2>&1 || true
grep -q "older split\|split again" "$WORK/status.new-split" &&
    flunk "a key drill with the new split's sheets should clear it: $(cat "$WORK/status.new-split")"
finish
