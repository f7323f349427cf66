#!/usr/bin/env bash
# 86-governance-probe — a GOVERNANCE lock yields to whoever may bypass it.
# Here the credentials bkp holds (root on the host reads them) are denied the
# bypass by a bucket policy, so the probe's canary resists every attempt —
# and the same credentials then take the policy away and delete the locked
# records. A governance lock must never count as a proven non-editable copy.
# Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket gov-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "note" >"$DATA/emr/n.txt"
bucket_repo "{ copies: 2, media_types: 1, offline: 0, offsite: 1, immutable: 1 }" governance gov-bkp
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# The bypass denied by a bucket policy (the query canonical: "policy=").
cat >"$WORK/deny.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:BypassGovernanceRetention"],"Resource":["arn:aws:s3:::gov-bkp/*"]}]}
JSON
code=$(s3 "/gov-bkp?policy=" -X PUT -H "x-amz-content-sha256: $(sha256sum "$WORK/deny.json" | cut -d' ' -f1)" \
       --data-binary @"$WORK/deny.json" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || [ "$code" = 200 ] || fail "setting the bucket policy: HTTP $code"

# The probe may refuse a governance medium (2) or find it editable (1).
rc=0
"$BKP" media probe cloud >"$WORK/probe.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || [ "$rc" = 2 ] ||
    flunk "the probe of a GOVERNANCE bucket exited $rc: $(head -c 400 "$WORK/probe.out")"
"$BKP" status --json >"$WORK/status.json" 2>&1 || true
grep -q '"non_editable": true' "$WORK/status.json" &&
    flunk "a GOVERNANCE bucket counted as a proven non-editable copy"

# Why: the same credentials lift the policy and delete a locked record.
code=$(s3 "/gov-bkp?policy=" -X DELETE -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || [ "$code" = 200 ] || fail "removing the bucket policy: HTTP $code"
s3 "/gov-bkp?prefix=repo%2Fgenerations%2F&versions=" -o "$WORK/v.xml" || fail "listing versions"
vid=$(python3 - "$WORK/v.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
for v in ET.parse(sys.argv[1]).getroot().findall("s:Version", ns):
    if v.find("s:Key", ns).text == "repo/generations/emr/0000000001.gen":
        print(v.find("s:VersionId", ns).text); break
PY
)
[ -n "$vid" ] || fail "no record version in the bucket"
code=$(s3 "/gov-bkp/repo/generations/emr/0000000001.gen?versionId=$vid" -X DELETE \
       -H "x-amz-bypass-governance-retention: true" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || fail "the premise: a governance-locked record should yield to the bypass (HTTP $code)"

finish
