#!/usr/bin/env bash
# 101-bucket-audit-rollback — every rotation writes the audit log's copy in
# the bucket anew, one version a rotation. Whoever holds the credentials
# cannot remove those versions, but may put one in front: an older genuine
# one (a rollback that hides the last rotations' records), or one of their
# own. `bkp audit fetch` must take the longest copy that checks, say what
# was put in front and exit 1; a restore's fetch must say it too; the next
# rotation puts the log back in front. On the bad day, with nothing but
# the bucket, the policy and the key written down, the same. Skipped
# without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
bucket_repo
for round in 1 2 3; do
    echo "visit $round" >>"$DATA/emr/n1.txt"
    ok "$BKP" backup emr
    ok "$BKP" rotate cloud
done
FP=$("$BKP" key fingerprint | sed -n '3,4p' | tr -d ' \n')
KEY=repo/audit/primary.jsonl

# The versions of the copy, newest first.
versions() {
    s3 "/hosp-bkp?prefix=repo%2Faudit%2F&versions=" -o "$WORK/v.xml" || fail "listing versions"
    python3 - "$WORK/v.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
for v in ET.parse(sys.argv[1]).getroot().findall("s:Version", ns):
    if v.find("s:Key", ns).text == "repo/audit/primary.jsonl":
        print(v.find("s:VersionId", ns).text)
PY
}
versions >"$WORK/vids"
[ "$(wc -l <"$WORK/vids")" -ge 3 ] || fail "fewer than three versions of the audit copy"
s3 "/hosp-bkp/$KEY" -o "$WORK/newest.jsonl" || fail "fetching the current copy"
s3 "/hosp-bkp/$KEY?versionId=$(tail -n 1 "$WORK/vids")" -o "$WORK/oldest.jsonl" ||
    fail "fetching the oldest copy"
[ "$(wc -l <"$WORK/oldest.jsonl")" -lt "$(wc -l <"$WORK/newest.jsonl")" ] ||
    fail "the oldest copy is not shorter"

# 0. Untouched: the current copy, exit 0.
check_exit 0 "$BKP" audit fetch cloud -o "$WORK/clean.jsonl" || true
cmp -s "$WORK/clean.jsonl" "$WORK/newest.jsonl" || flunk "the clean fetch is not the current copy"
output_has "bkp audit verify --journal $WORK/clean.jsonl --public-key"
check_exit 2 "$BKP" audit fetch cloud -o "$WORK/clean.jsonl" || true
output_has "exists"
cmp -s "$WORK/clean.jsonl" "$WORK/newest.jsonl" || flunk "an existing file was overwritten"

# 1. A rollback: the oldest genuine copy put in front.
s3_put "hosp-bkp/$KEY" "$WORK/oldest.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/rb.jsonl" || true
output_has "rollback"
cmp -s "$WORK/rb.jsonl" "$WORK/newest.jsonl" || flunk "the rollback was taken, not the longest copy"

# 2. The bad day: no primary, no policy where bkp looks, the key from paper.
mv "$REPO" "$WORK/repo.gone"
mkdir -p "$WORK/home" "$WORK/tmp"
bad_day() {
    env -i PATH="$PATH" HOME="$WORK/home" TMPDIR="$WORK/tmp" BKP_S3_BACKOFF_MS=50 "$BKP" "$@"
}
check_exit 1 bad_day audit fetch cloud -o "$WORK/day.jsonl" --policy "$WORK/policy.yaml" \
    --public-key "$FP" || true
output_has "rollback"
cmp -s "$WORK/day.jsonl" "$WORK/newest.jsonl" || flunk "the bad day took the rollback"
check_exit 0 bad_day audit verify --journal "$WORK/day.jsonl" --public-key "$FP" || true
check_exit 0 bad_day audit show --journal "$WORK/day.jsonl" || true
output_has "rotate"
# Without the key written down, nothing here checks it: the person is told what to give.
check_exit 2 bad_day audit fetch cloud -o "$WORK/nokey.jsonl" --policy "$WORK/policy.yaml" || true
output_has '--public-key "FINGERPRINT"'
[ ! -e "$WORK/nokey.jsonl" ] || flunk "a log was written without a key to check it"
# Another key: nothing of the bucket checks under it, and nothing is written.
OTHER_FP=$(printf '%s' "$FP" | tr '0-9a-f' '1-9a-f0')
check_exit 1 bad_day audit fetch cloud -o "$WORK/other.jsonl" --policy "$WORK/policy.yaml" \
    --public-key "$OTHER_FP" || true
output_has "none of the"
[ ! -e "$WORK/other.jsonl" ] || flunk "a log that does not check was written"

# 3. A restore's fetch says it too (and still restores).
export TMPDIR=$WORK/tmp
check_exit 0 "$BKP" restore emr:latest "$WORK/out" --from cloud || true
output_has "rollback"
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored beside a rolled-back audit copy"
unset TMPDIR
mv "$WORK/repo.gone" "$REPO"

# 4. The next rotation puts the log back in front.
ok "$BKP" rotate cloud
check_exit 0 "$BKP" audit fetch cloud -o "$WORK/after.jsonl" || true
# (the copy as the rotation found the log: its own record comes after)
[ "$(wc -l <"$WORK/after.jsonl")" -gt "$(wc -l <"$WORK/newest.jsonl")" ] &&
    cmp -s "$WORK/after.jsonl" <(head -c "$(stat -c %s "$WORK/after.jsonl")" "$REPO/audit/log.jsonl") ||
    flunk "after the rotation the bucket's current copy is not the log"

# 5. A forged copy in front, longer than any: passed over, said, exit 1.
{ cat "$WORK/after.jsonl"; echo '{"seq":999,"op":"backup"}'; } >"$WORK/forged.jsonl"
s3_put "hosp-bkp/$KEY" "$WORK/forged.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/f.jsonl" || true
output_has "does not check"
cmp -s "$WORK/f.jsonl" "$WORK/after.jsonl" || flunk "the forged copy was taken"

# 6. A delete marker in front: the copy behind it is read, and the marker said.
ok "$BKP" rotate cloud
code=$(s3 "/hosp-bkp/$KEY" -X DELETE -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || fail "hiding the audit copy: HTTP $code"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/h.jsonl" || true
output_has "delete marker"
[ "$(wc -l <"$WORK/h.jsonl")" -gt "$(wc -l <"$WORK/after.jsonl")" ] ||
    flunk "the copy behind the delete marker was not taken"

# 7. Versions planted to hide the latest: eight forged copies a little
#    longer than the log, then an older genuine one in front. Each is read
#    and passed over, and the latest behind them is found.
ok "$BKP" rotate cloud
s3 "/hosp-bkp/$KEY" -o "$WORK/real.jsonl" || fail "fetching the current copy"
flood() {
    for i in $(seq "$1" "$2"); do
        { cat "$WORK/real.jsonl"; printf '{"seq":%d,"op":"forged","pad":"%d"}\n' 999 "$i"; } \
            >"$WORK/flood.one"
        s3_put "hosp-bkp/$KEY" "$WORK/flood.one"
    done
}
flood 1 8
s3_put "hosp-bkp/$KEY" "$WORK/oldest.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/flood8.jsonl" --json || true
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert not d["ok"] and d["state"] == "rolled_back" and d["failed"] == 8, d' <<<"$OUT" ||
    flunk "eight forged versions hid the latest copy: $OUT"
cmp -s "$WORK/flood8.jsonl" "$WORK/real.jsonl" || flunk "the latest copy behind eight forged ones was not taken"
#    More than a reader reads: the latest is beyond them. Never called
#    clean, never "current": what was left unread is said.
flood 9 45
s3_put "hosp-bkp/$KEY" "$WORK/oldest.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/flood.jsonl" --json || true
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert not d["ok"] and d["untried"] >= 1 and d["state"] != "current", d' <<<"$OUT" ||
    flunk "a flood of forged versions hid the latest copy and was called clean: $OUT"
output_has "not read"
check_exit 0 "$BKP" restore emr:latest "$WORK/out7" --from cloud || true
output_has "not read"
#    A rotation is not stopped by them: it puts the log back in front (and
#    its prune removes what was put there unlocked).
ok "$BKP" rotate cloud
check_exit 0 "$BKP" audit fetch cloud -o "$WORK/flood-after.jsonl" --json || true
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["state"] == "current" and d["untried"] == 0, d' <<<"$OUT" ||
    flunk "after the rotation the log is not the current copy: $OUT"

# 8. An operator's restart of the log, then a rollback to the copy just
#    after it, and to the copy from before it: the latest history is taken.
ok "$BKP" rotate cloud
head -n 3 "$REPO/audit/log.jsonl" >"$WORK/cut"
cat "$WORK/cut" >"$REPO/audit/log.jsonl"
ok "$BKP" audit restart "the disk lost the end of the log"
s3 "/hosp-bkp/$KEY" -o "$WORK/before-restart.jsonl" || fail "fetching the current copy"
for round in 1 2; do
    echo "after restart $round" >>"$DATA/emr/n2.txt"
    ok "$BKP" backup emr
    ok "$BKP" rotate cloud
    s3 "/hosp-bkp/$KEY" -o "$WORK/restart$round.jsonl" || fail "fetching the current copy"
done
check_exit 0 "$BKP" audit fetch cloud -o "$WORK/r0.jsonl" || true
cmp -s "$WORK/r0.jsonl" "$WORK/restart2.jsonl" || flunk "after a restart the latest copy was not taken"
s3_put "hosp-bkp/$KEY" "$WORK/restart1.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/r1.jsonl" || true
output_has "rollback"
cmp -s "$WORK/r1.jsonl" "$WORK/restart2.jsonl" || flunk "a rollback after a restart was taken"
ok "$BKP" rotate cloud
s3 "/hosp-bkp/$KEY" -o "$WORK/restart3.jsonl" || fail "fetching the current copy"
s3_put "hosp-bkp/$KEY" "$WORK/before-restart.jsonl"
check_exit 1 "$BKP" audit fetch cloud -o "$WORK/r2.jsonl" || true
cmp -s "$WORK/r2.jsonl" "$WORK/restart3.jsonl" ||
    flunk "the history from before the restart, put in front, was taken"

# 9. A crash in the middle of an append leaves a torn record at the end of
#    the host's log: the copy a rotation uploads ends with the last whole
#    record, so an honest bucket never holds a version that does not check.
printf '{"seq":999,"op":"torn' >>"$REPO/audit/log.jsonl"
check_exit 0 "$BKP" rotate cloud || true
echo "after the crash" >>"$DATA/emr/n3.txt"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
check_exit 0 "$BKP" audit fetch cloud -o "$WORK/torn.jsonl" --json || true
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["ok"] and d["failed"] == 0, d' <<<"$OUT" ||
    flunk "a torn record of the host's log reached the bucket: $OUT"

finish
