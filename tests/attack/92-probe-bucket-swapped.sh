#!/usr/bin/env bash
# 92-probe-bucket-swapped — the medium `cloud` is proven on its Object Lock
# bucket. Root on the host then points the policy's `cloud` at another
# bucket, one without Object Lock, and copies the label there. `bkp status`
# and the evidence report must not go on calling `cloud` a proven
# non-editable copy: the bucket they now name was never probed, and its
# objects can be deleted by anyone holding the credentials. Skipped without
# Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp plain-bkp --no-lock

DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "note" >"$DATA/emr/n.txt"
bucket_repo "{ copies: 2, media_types: 1, offline: 0, offsite: 1, immutable: 1 }"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
ok "$BKP" media probe cloud
"$BKP" status --json >"$WORK/before.json" 2>&1 || true
grep -q '"non_editable": true' "$WORK/before.json" ||
    fail "the premise: the proven bucket should count as non-editable: $(head -c 600 "$WORK/before.json")"

# The swap: the label copied to a bucket without Object Lock, the policy edited.
s3 "/hosp-bkp/BKP-LABEL" -o "$WORK/label" || fail "reading the label"
code=$(s3 "/plain-bkp/BKP-LABEL" -X PUT \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/label" | cut -d' ' -f1)" \
       --data-binary @"$WORK/label" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "copying the label: HTTP $code"
sed -i 's/bucket: hosp-bkp/bucket: plain-bkp/' "$WORK/policy.yaml"
grep -q 'bucket: plain-bkp' "$WORK/policy.yaml" || fail "editing the policy"

"$BKP" status --json >"$WORK/after.json" 2>&1 || true
if grep -q '"non_editable": true' "$WORK/after.json"; then
    flunk "status calls cloud a proven non-editable copy while the policy points it at plain-bkp, a bucket without Object Lock that was never probed"
fi
"$BKP" status >"$WORK/after.txt" 2>&1 || true
grep -q 'non-editable (proven' "$WORK/after.txt" &&
    flunk "status says: $(grep 'non-editable (proven' "$WORK/after.txt")"

finish
