#!/usr/bin/env bash
# 80-audit — the tamper-evident audit log: every state-changing command leaves
# a signed record; edited, deleted, swapped and forged records are each caught,
# naming the position; a log cut short is caught against a copy; concurrent
# writers never fork the chain.
. "$(dirname "$0")/lib.sh"

D=$WORK/data
mkdir -p "$D"
echo one >"$D/a"
REPO=$WORK/repo
LOG=$REPO/audit/log.jsonl
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset docs "$D"
echo two >>"$D/a"
ok "$BKP" backup --repo "$REPO" --dataset docs "$D"
ok "$BKP" verify --repo "$REPO" --read-data
ok "$BKP" restore --repo "$REPO" docs:1 "$WORK/out"
check_exit 2 "$BKP" restore --repo "$REPO" docs:1 "$WORK/out" || true # refused: recorded or not, never a success
ok "$BKP" audit verify --repo "$REPO"
ok "$BKP" audit show --repo "$REPO" --json
for op in init backup verify restore; do
    grep -q "\"op\": \"$op\"" <<<"$OUT" || flunk "no audit record for $op"
done
ok "$BKP" audit show --repo "$REPO" --dataset docs
output_has "docs:2" "audit show should list the second backup"
output_has "files=" "audit show should give a record's figures as name=value"
output_lacks '{"' "audit show should not print a record's figures as JSON"
# --since is a local day or minute, as every time shown is; what is not one is
# refused rather than showing nothing.
ok env TZ=JST-9 "$BKP" audit show --repo "$REPO" --since "$(TZ=JST-9 date +%F)"
output_has "docs:2" "--since today (local) should list today's records"
ok env TZ=JST-9 "$BKP" audit show --repo "$REPO" --since "$(TZ=JST-9 date -d '-1 min' '+%F %H:%M')"
output_has "docs:2" "--since a minute ago should list the records just made"
ok env TZ=JST-9 "$BKP" audit show --repo "$REPO" --since "$(TZ=JST-9 date -d tomorrow +%F)"
grep -q "docs:2" <<<"$OUT" && flunk "--since tomorrow listed a record"
check_exit 2 "$BKP" audit show --repo "$REPO" --since 28/11/2026 || true
output_has "is not a day"
# One record, as a report cites it (#3): whole, a field a line.
ok env LANG=C "$BKP" audit show --repo "$REPO" '#3'
output_has "record #3 of the audit log"
grep -Eq "^  generation +docs:2$" <<<"$OUT" || flunk "audit show 3 should give the second backup's generation: $OUT"
output_has "    files = " "audit show 3 should give its figures, one a line"
ok "$BKP" audit show --repo "$REPO" 3 --json
[ "$(jq -r '.[0].seq' <<<"$OUT")" = 3 ] || flunk "audit show 3 --json should give record 3: $OUT"
check_exit 2 "$BKP" audit show --repo "$REPO" 999 || true
output_has "has no record #999"
check_exit 2 "$BKP" audit show --repo "$REPO" 3x || true
output_has "is not a record number"
n=$(wc -l <"$LOG")
[ "$n" -ge 5 ] || flunk "expected at least 5 records, found $n"

tamper() { # tamper NAME: a copy of the repository to damage
    rm -rf "$WORK/t-$1"
    cp -a "$REPO" "$WORK/t-$1"
    chmod u+w "$WORK/t-$1/audit/log.jsonl"
    echo "$WORK/t-$1"
}
expect_bad() { # expect_bad REPO POSITION WHAT
    check_exit 1 "$BKP" audit verify --repo "$1" || true
    output_has "record $2 " "$3 should be reported at record $2"
}

# Edit a field of record 2 (its file count).
T=$(tamper edit)
sed -i '2s/"files":1/"files":9/' "$T/audit/log.jsonl"
expect_bad "$T" 2 "an edited field"
# Delete record 3.
T=$(tamper delete)
sed -i '3d' "$T/audit/log.jsonl"
expect_bad "$T" 3 "a deleted record"
# Swap records 2 and 3.
T=$(tamper swap)
awk 'NR==2{two=$0; next} NR==3{print; print two; next} {print}' "$LOG" >"$T/audit/log.jsonl"
expect_bad "$T" 2 "swapped records"
# Replace the last record with a validly chained but unsigned one.
T=$(tamper unsigned)
last=$(wc -l <"$LOG")
sed -i "${last}s/\"sig\":\"[0-9a-f]*\"/\"sig\":\"$(printf '0%.0s' $(seq 128))\"/" "$T/audit/log.jsonl"
expect_bad "$T" "$last" "an unsigned last record"
# Truncate the tail: the chain that remains is valid, but its signed head
# marker shows what is missing, and so does a copy.
T=$(tamper truncate)
sed -i '$d' "$T/audit/log.jsonl"
check_exit 1 "$BKP" audit verify --repo "$T" || true
output_has "missing at the end" "a log cut short should be caught by its head marker"
check_exit 1 "$BKP" audit verify --repo "$T" --against "$LOG" || true
output_has "missing at the end" "a log cut short should be caught against a copy"

# Concurrent writers: four backups at once, then one chain without gaps.
for i in 1 2 3 4; do
    mkdir -p "$WORK/c$i" && echo "$i" >"$WORK/c$i/f"
    "$BKP" backup --repo "$REPO" --dataset "c$i" "$WORK/c$i" >/dev/null 2>&1 &
done
wait
ok "$BKP" audit verify --repo "$REPO"
seqs=$(grep -o '"seq":[0-9]*' "$LOG" | cut -d: -f2 | tr '\n' ' ')
[ "$seqs" = "$(seq -s ' ' 1 "$(wc -l <"$LOG")") " ] || flunk "sequence numbers are not 1..n: $seqs"
[ "$(grep -c '"op":"backup"' "$LOG")" -ge 6 ] || flunk "a concurrent backup left no record"

finish
