#!/usr/bin/env bash
# 96-governance-to-compliance — a medium locked in GOVERNANCE mode is shown
# as editable, and the probe tells the operator to use `mode: compliance`.
# Doing so must work: the next rotation, which reuses packs uploaded under
# GOVERNANCE, must succeed and leave them COMPLIANCE-locked. Today the
# server refuses the change of mode and every later rotation fails; whoever
# holds the credentials can cause the same on a COMPLIANCE medium by
# planting a GOVERNANCE-locked version over a pack. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket gov-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
head -c 300000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo "{ copies: 2, media_types: 1, offline: 0, offsite: 1, immutable: 1 }" governance gov-bkp
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# The operator follows the advice: compliance from now on.
sed -i 's/mode: governance/mode: compliance/' "$WORK/policy.yaml"
echo "note" >"$DATA/emr/n.txt"
ok "$BKP" backup emr
check_exit 0 "$BKP" rotate cloud ||
    flunk "after the medium's mode is changed from governance to compliance (the probe's advice), every rotation fails"

# The packs the second generation reuses are COMPLIANCE-locked now.
s3 "/gov-bkp?prefix=repo%2Fpacks%2F&versions=" -o "$WORK/v.xml" || fail "listing versions"
python3 - "$WORK/v.xml" <<'PY' >"$WORK/versions"
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
for v in ET.parse(sys.argv[1]).getroot().findall("s:Version", ns):
    print(v.find("s:Key", ns).text, v.find("s:VersionId", ns).text)
PY
[ -s "$WORK/versions" ] || fail "no pack in the bucket"
while read -r key vid; do
    mode=$(s3 "/gov-bkp/$key?versionId=$vid" -I | tr -d '\r' | sed -n 's/^x-amz-object-lock-mode: //Ip')
    [ "$mode" = COMPLIANCE ] || flunk "$key ($vid) is still $mode-locked after a COMPLIANCE rotation"
done <"$WORK/versions"

finish
