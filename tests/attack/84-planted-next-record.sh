#!/usr/bin/env bash
# 84-planted-next-record — whoever holds the bucket's credentials plants an
# object under the name the next generation's record will take, locked in
# COMPLIANCE mode so that no one can delete it. It is no record of this
# repository (it does not check). The next rotation must not take it for a
# rolled-back primary and stop every later off-site copy: the genuine record
# goes in front of it, and that generation restores from the bucket alone.
# Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 5); do echo "note $i" >"$DATA/emr/n$i.txt"; done
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# The plant: the next record's name, locked for a year.
echo "not a record" >"$WORK/plant"
until=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
code=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -X PUT \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/plant" | cut -d' ' -f1)" \
       -H "Content-MD5: $(openssl md5 -binary "$WORK/plant" | base64)" \
       -H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $until" \
       --data-binary @"$WORK/plant" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "planting the next record's name: HTTP $code"

echo "visit 2" >>"$DATA/emr/n1.txt"
ok "$BKP" backup emr
check_exit 0 "$BKP" rotate cloud || true

# The second generation restores from the bucket alone.
mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
check_exit 0 "$BKP" restore emr:2 "$WORK/out" --from cloud || true
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "the second generation restored from the bucket"
mv "$WORK/repo.gone" "$REPO"

finish
