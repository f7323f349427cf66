#!/usr/bin/env bash
# 97-bucket-prune-hidden-record — on a medium retention keeps at least three
# generations of a data set, more than the primary (keep_last 1). Whoever
# holds the bucket's credentials puts a forged version in front of the
# record of generation 2, which the bucket keeps and the primary has pruned.
# The next rotation must not delete the packs generation 2 needs: it is
# still among the three the bucket keeps, its genuine record locked in the
# bucket. The test build's lock day is 10 seconds, so that locks pass within
# the test. Skipped without Ceph or the test clock.
. "$(dirname "$0")/../e2e/lib.sh"
need_test_clock

start_bucket hosp-bkp
export BKP_TEST_LOCK_DAY=10

DATA=$WORK/data
mkdir -p "$DATA/emr"
bucket_repo "" compliance hosp-bkp 1

# Each generation has a file of its own, so a pack of its own.
gen() {
    rm -f "$DATA/emr"/own-*
    head -c 1500000 /dev/urandom >"$DATA/emr/own-$1.bin"
    packs_of "$REPO" >"$WORK/before"
    ok "$BKP" backup emr
    packs_of "$REPO" | comm -13 "$WORK/before" - >"$WORK/own-$1"
    ok "$BKP" rotate cloud
}
gen 1
gen 2
gen 3
[ -s "$WORK/own-2" ] || fail "generation 2 wrote no pack of its own"
ok "$BKP" prune # the primary keeps emr:3 alone; the bucket keeps all three
[ -e "$REPO/generations/emr/0000000002.gen" ] && fail "the premise: the primary should have pruned emr:2"

# The attack: a forged version in front of record 2 (its genuine one is locked).
echo "not a record" >"$WORK/forged"
code=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -X PUT \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
       --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "forging record 2: HTTP $code"

# Once the locks have passed, a rotation (and its prune) runs. The bucket's
# three newest are 2, 3 and 4 (1 may go): 2's packs must stay.
sleep 12
echo "a shared note" >"$DATA/emr/note.txt"
gen 4
while read -r p; do
    id=$(basename "$p")
    s3 "/hosp-bkp?prefix=repo%2Fpacks%2F${id:0:2}%2F$id&versions=" -o "$WORK/v.xml" ||
        fail "listing the versions of $id"
    grep -q '<Version>' "$WORK/v.xml" ||
        flunk "pack $id, which emr:2 needs, was deleted from the bucket while the bucket keeps emr:2 (its genuine record is still there)"
done <"$WORK/own-2"
s3 "/hosp-bkp?prefix=repo%2Fgenerations%2Femr%2F0000000002.gen&versions=" -o "$WORK/r.xml" ||
    fail "listing record 2"
[ "$(grep -o '<Version>' "$WORK/r.xml" | wc -l)" -ge 2 ] ||
    note "record 2's genuine version is gone too (pruned with a tombstone)"

finish
