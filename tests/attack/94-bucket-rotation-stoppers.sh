#!/usr/bin/env bash
# 94-bucket-rotation-stoppers — 84 showed that garbage locked under the next
# record's name must not stop every later rotation. Two more single writes
# by whoever holds the credentials do:
#  1. a forged version of repo/audit/primary.jsonl put in front of the
#     genuine one and locked for years (nobody can take it away): every
#     rotation exits 1 after uploading its record, so the registry and
#     status never learn of the new generations, the bucket is never
#     pruned again and the audit copy never updated;
#  2. a plain DELETE of BKP-LABEL (allowed under COMPLIANCE: a delete marker
#     over the locked label): every rotation exits 2, and labelling again
#     is refused without --force, which gives the bucket a new label and so
#     drops its proof of the lock.
# The rotations must go on, and say what was forged or hidden. Skipped
# without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "note 1" >"$DATA/emr/n.txt"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# 1. A forged audit copy, locked.
echo '{"forged": true}' >"$WORK/forged"
until=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
code=$(s3 "/hosp-bkp/repo/audit/primary.jsonl" -X PUT \
       -H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $until" \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
       --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "putting a forged audit copy in front: HTTP $code"
echo "note 2" >>"$DATA/emr/n.txt"
ok "$BKP" backup emr
check_exit 0 "$BKP" rotate cloud ||
    flunk "a forged audit copy (locked) makes every rotation to the bucket fail (exit 1): the registry and status never learn of the new generations, the bucket is never pruned again, the audit copy never updated"
s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -I -o /dev/null ||
    flunk "the second generation is not in the bucket"

# 2. The label hidden by a delete marker.
code=$(s3 "/hosp-bkp/BKP-LABEL" -X DELETE -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || fail "hiding the label: HTTP $code"
echo "note 3" >>"$DATA/emr/n.txt"
ok "$BKP" backup emr
check_exit 0 "$BKP" rotate cloud ||
    flunk "a delete marker over the (locked) label stops every rotation to the bucket"
check_exit 0 "$BKP" media label --name cloud ||
    flunk "labelling the bucket again without --force is refused while its locked label is only hidden"

finish
