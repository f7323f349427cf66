#!/usr/bin/env bash
# 90-bucket-replayed-record — whoever holds the bucket's credentials cannot
# delete the newest record's locked version, but may PUT a new version in
# front of it: here the older generation's own signed record, replayed under
# the newest one's name. With the primary gone, `emr:latest` restored from
# the bucket must be the newest generation (its genuine version is locked
# right behind), never silently the older one, and `emr:2` must restore.
# Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
head -c 200000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud
mkdir -p "$WORK/gen1"
cp -a "$DATA/emr/." "$WORK/gen1/"
# The second generation differs: restoring the first in its place is a rollback.
echo "allergy: penicillin" >>"$DATA/emr/n1.txt"
head -c 100000 /dev/urandom >"$DATA/emr/mr-2.dcm"
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# The attack: the first record's genuine signed bytes put over the second's key.
s3 "/hosp-bkp/repo/generations/emr/0000000001.gen" -o "$WORK/rec1" || fail "reading record 1"
code=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -X PUT \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/rec1" | cut -d' ' -f1)" \
       --data-binary @"$WORK/rec1" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "replaying record 1 over record 2: HTTP $code"

mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
# latest: the newest generation, or a refusal; never the older one with exit 0.
expect_exit_any() { "$@" >"$WORK/.out" 2>"$WORK/.err"; echo $?; }
rc=$(expect_exit_any "$BKP" restore emr:latest "$WORK/out" --from cloud)
cat "$WORK/.err" >&2
if [ "$rc" = 0 ] && [ -f "$WORK/out$DATA/emr/mr-2.dcm" ]; then
    same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "emr:latest restored from the bucket"
elif [ "$rc" = 0 ]; then
    flunk "emr:latest restored the OLDER generation from the bucket with exit 0 (a rollback): the genuine newest record is locked in the bucket behind the replayed one"
fi
# The genuine record 2 is locked in the bucket: it must restore.
check_exit 0 "$BKP" restore emr:2 "$WORK/out2" --from cloud || true
[ -f "$WORK/out2$DATA/emr/mr-2.dcm" ] &&
    same_mtree "$DATA/emr" "$WORK/out2$DATA/emr" "emr:2 restored from the bucket"
mv "$WORK/repo.gone" "$REPO"
unset TMPDIR

finish
