#!/usr/bin/env bash
# 95-governance-window — the medium is proven with `mode: compliance`. Root
# on the host switches the policy to `mode: governance` for one backup and
# rotation, then back. The record copied in that window is locked in
# GOVERNANCE mode; the same credentials delete it with the bypass header.
# All the while `bkp status` must not call the bucket a proven non-editable
# copy of that generation. (A later rotation under COMPLIANCE fails: 96.)
# Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "note 1" >"$DATA/emr/n.txt"
bucket_repo "{ copies: 2, media_types: 1, offline: 0, offsite: 1, immutable: 1 }"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
ok "$BKP" media probe cloud

# The window: one generation copied under GOVERNANCE, then the policy put back.
sed -i 's/mode: compliance/mode: governance/' "$WORK/policy.yaml"
echo "note 2" >>"$DATA/emr/n.txt"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
sed -i 's/mode: governance/mode: compliance/' "$WORK/policy.yaml"

mode=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -I | tr -d '\r' |
       sed -n 's/^x-amz-object-lock-mode: //Ip')
[ "$mode" = GOVERNANCE ] || fail "the premise: record 2 should be GOVERNANCE-locked (got '$mode')"

"$BKP" status --json >"$WORK/status.json" 2>&1 || true
grep -q '"non_editable": true' "$WORK/status.json" &&
    flunk "status calls cloud a proven non-editable copy of emr:2, whose record is only GOVERNANCE-locked in the bucket"

# Why it matters: the same credentials delete that record with the bypass.
s3 "/hosp-bkp?prefix=repo%2Fgenerations%2Femr%2F0000000002.gen&versions=" -o "$WORK/v.xml" ||
    fail "listing versions"
vid=$(grep -o '<VersionId>[^<]*</VersionId>' "$WORK/v.xml" | head -1 | sed 's/<[^>]*>//g')
code=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen?versionId=$vid" -X DELETE \
       -H "x-amz-bypass-governance-retention: true" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || fail "the premise: the governance-locked record should yield to the bypass (HTTP $code)"

finish
