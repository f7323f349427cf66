#!/usr/bin/env bash
# 60-guard — the change-rate guard on real captures: the benchmark's nightly
# 1 % mutation raises no alarm; rewriting half the files with random bytes
# (what ransomware does) seals the generation but marks it SUSPICIOUS and makes
# `bkp run` exit 1 saying what jumped; an operator clears the mark, signed and
# recorded; a clearance copied onto another generation does not count.
. "$(dirname "$0")/lib.sh"
need_tool cc jq
[ -n "${BKP_SOURCE_DIR:-}" ] || { echo "SKIP: BKP_SOURCE_DIR is not set" >&2; exit 77; }

cc -O2 -o "$WORK/gen-data" "$BKP_SOURCE_DIR/bench/gen-data.c" || fail "cannot build bench/gen-data"
D=$WORK/data
"$WORK/gen-data" generate --size 40M "$D" >/dev/null
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$WORK/notify-cmd" <<SH
#!/bin/sh
{ cat; echo; } >>"$WORK/events.jsonl"
SH
chmod 755 "$WORK/notify-cmd"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
# These tests are about running; the 3-2-1 rule (tests/e2e/90-media.sh) is relaxed.
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
notify:
  command: { command: "$WORK/notify-cmd", timeout: 30s }
datasets:
  - name: clinic
    paths: [$D]
    schedule: hourly
YAML
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
sleep 2.5 # files younger than 2 s are re-read next time: let the new tree age
ok "$BKP" run --policy "$POL" --force

# Three nights of the benchmark's 1 % mutation: no alarm.
for step in 1 2 3; do
    "$WORK/gen-data" mutate --size 40M --step "$step" "$D" >/dev/null
    sleep 2.5
    ok "$BKP" run --policy "$POL" --force --json
    grep -q SUSPICIOUS <<<"$OUT" && flunk "the 1 % mutation (step $step) raised the alarm: $OUT"
done
ok "$BKP" generations --policy "$POL"
grep -qi 'suspicious' <<<"$OUT" && flunk "a normal generation is marked suspicious: $OUT"

# Half the files rewritten with random bytes, same names and sizes.
n=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    [ $((n % 2)) -eq 0 ] || continue
    head -c "$(stat -c %s "$f")" /dev/urandom >"$f.enc" && mv "$f.enc" "$f"
done < <(find "$D" -type f -print0 | sort -z)
check_exit 1 "$BKP" run --policy "$POL" --force || true
output_has "SUSPICIOUS" "a mass rewrite should be reported as suspicious"
output_has "of the files changed" "the message should say what jumped"
output_has "--clear-suspicious clinic:5" "the message should say how to clear the mark"
ok "$BKP" generations --policy "$POL"
output_has "SUSPICIOUS" "generations should show the mark"
# Told as what it is, once: not also as a failed backup (whose advice,
# "run bkp backup", is not the step).
[ "$(jq -rs '[.[] | select(.key == "backup:clinic" and .state == "failed")] | length' "$WORK/events.jsonl")" = 0 ] ||
    flunk "a suspicious generation was told as a failed backup: $(cat "$WORK/events.jsonl")"
[ "$(jq -rs '[.[] | select(.event == "event" and (.summary | test("clinic:5 was sealed as suspicious.*--clear-suspicious clinic:5")))] | length' "$WORK/events.jsonl")" = 1 ] ||
    flunk "the suspicious generation should be told once with how to clear it: $(cat "$WORK/events.jsonl")"
# Status says it, with the step, until someone clears it: a good night
# after it does not make it go away.
status_names_it() {
    "$BKP" status --policy "$POL" >"$WORK/st" 2>&1 || true
    grep -q "clinic:5 was sealed as suspicious and nobody has cleared it" "$WORK/st" ||
        flunk "status $1 should say clinic:5 is not cleared: $(cat "$WORK/st")"
    grep -q "bkp generations --clear-suspicious clinic:5" "$WORK/st" ||
        flunk "status $1 should say how to clear it: $(cat "$WORK/st")"
    grep -q "the last backup failed" "$WORK/st" && flunk "a suspicious backup is not a failed one: $(cat "$WORK/st")"
    true
}
status_names_it "after the seal"
grep -q "the latest was sealed as SUSPICIOUS" "$WORK/st" || flunk "status should say the last backup was sealed as suspicious: $(cat "$WORK/st")"
grep -q "connect no off-line disk to this server yet" "$WORK/st" || flunk "status should hold the off-line disks away: $(cat "$WORK/st")"
sleep 2.5
ok "$BKP" run --policy "$POL" --force
status_names_it "after a good night"
ok "$BKP" generations --policy "$POL" --json clinic
grep -q '"reason": "50% of the files changed' <<<"$OUT" || flunk "generations --json lacks the guard's reason: $OUT"
# The suspicious generation is sealed and restorable all the same.
ok "$BKP" verify --policy "$POL"

# Clearing is recorded, signed, and shown.
ok "$BKP" generations --policy "$POL" --clear-suspicious clinic:5
[ -f "$REPO/generations/clinic/0000000005.cleared" ] || flunk "no clearance record was written"
ok "$BKP" generations --policy "$POL"
output_has "suspicious (cleared)" "a cleared mark should show as cleared"
"$BKP" status --policy "$POL" >"$WORK/st" 2>&1 || true
grep -q "sealed as suspicious" "$WORK/st" && flunk "status still names a cleared generation: $(cat "$WORK/st")"
check_exit 2 "$BKP" generations --policy "$POL" --clear-suspicious clinic:2 || true
output_has "not marked suspicious" "clearing a normal generation should be refused"

# Another mass rewrite, and the old clearance copied onto it: not accepted.
while IFS= read -r -d '' f; do
    head -c "$(stat -c %s "$f")" /dev/urandom >"$f.enc" && mv "$f.enc" "$f"
done < <(find "$D" -type f -print0)
# This time read in Japanese: the guard's reason is too (the record keeps
# the English, as the audit does).
check_exit 1 env LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$BKP" run --policy "$POL" --force || true
output_has "ファイルの 100% が変わりました" "the guard's reason should be Japanese for a Japanese reader"
grep -q "of the files changed" <<<"$OUT$ERR" && flunk "the guard's reason was English in Japanese: $ERR"
ok "$BKP" generations --policy "$POL" --json clinic
grep -q '"reason": "100% of the files changed' <<<"$OUT" || flunk "the record should keep the English reason: $OUT"
cp "$REPO/generations/clinic/0000000005.cleared" "$REPO/generations/clinic/0000000007.cleared"
ok "$BKP" generations --policy "$POL"
grep '^clinic:7 ' <<<"$OUT" | grep 'SUSPICIOUS' >/dev/null ||
    flunk "a clearance copied from another generation cleared clinic:7: $OUT"
grep '^clinic:5 ' <<<"$OUT" | grep 'suspicious (cleared)' >/dev/null ||
    flunk "clinic:5 lost its clearance: $OUT"

finish
