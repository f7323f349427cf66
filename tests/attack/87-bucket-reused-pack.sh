#!/usr/bin/env bash
# 87-bucket-reused-pack — whoever holds the bucket's credentials puts a new
# version over a pack (same size, other bytes, no lock). The next generation
# reuses that pack: its rotation must lock the pack's genuine version at
# least as long as the new record, never just the forged version that is
# current. Otherwise the genuine version's lock passes first, the holder of
# the credentials deletes it, and a locked record points at a pack the
# bucket no longer has. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp
# key version-id size, one line per version under a prefix (query canonical).
versions() {
    s3 "/hosp-bkp?prefix=${1//\//%2F}&versions=" -o "$WORK/v.xml" || fail "listing $1"
    python3 - "$WORK/v.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
for v in ET.parse(sys.argv[1]).getroot().findall("s:Version", ns):
    print(v.find("s:Key", ns).text, v.find("s:VersionId", ns).text, v.find("s:Size", ns).text)
PY
}
# The retain-until (seconds since the epoch) of a version; 0 when none.
until_of() {
    local d
    d=$(s3 "/hosp-bkp/$1${2:+?versionId=$2}" -I | tr -d '\r' |
        sed -n 's/^x-amz-object-lock-retain-until-date: //Ip')
    [ -n "$d" ] && date -u -d "$d" +%s || echo 0
}

DATA=$WORK/data
mkdir -p "$DATA/emr"
head -c 600000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud
versions repo/packs/ >"$WORK/genuine"
[ -s "$WORK/genuine" ] || fail "no pack in the bucket after the first rotation"

# The attack: a forged version of the same size over every pack.
while read -r key vid size; do
    head -c "$size" /dev/urandom >"$WORK/forged"
    code=$(s3 "/hosp-bkp/$key" -X PUT \
           -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
           --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "planting a forged version of $key: HTTP $code"
done <"$WORK/genuine"

# A second generation, later (so locked later), reusing those packs.
sleep 2
echo "one more note" >"$DATA/emr/note.txt"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
rec=$(until_of repo/generations/emr/0000000002.gen)
[ "$rec" -gt 0 ] || fail "the second record is not locked in the bucket"
while read -r key vid size; do
    got=$(until_of "$key" "$vid")
    [ "$got" -ge "$rec" ] ||
        flunk "$key: its genuine version ($vid) is locked until $(date -u -d "@$got" +%FT%TZ), before the record that needs it ($(date -u -d "@$rec" +%FT%TZ)); only the forged current version's lock was extended"
done <"$WORK/genuine"

# And the copy restores exactly from the bucket alone.
mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
check_exit 0 "$BKP" restore emr:2 "$WORK/out" --from cloud || true
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from the bucket"
[ -z "$(ls -A "$TMPDIR")" ] || flunk "the staging folder was left behind: $(ls -A "$TMPDIR")"
mv "$WORK/repo.gone" "$REPO"

finish
