#!/usr/bin/env bash
# 85-crafted-bucket — whoever holds the bucket's credentials (root on the
# host reads them) plants objects in an Object Lock bucket: keys that climb
# out of the staging folder, names of the wrong shape, an oversized record, a
# forged record, and a label of another repository. A restore from the bucket
# must take only what its layout allows, write nothing outside its target
# and staging folder, report what it left out, and still restore exactly;
# a bucket labelled for another repository is refused. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp other-bkp
# PUT the file $2 as key $1 exactly as written (no dot segments squashed).
plant() {
    local sum code
    sum=$(sha256sum "$2" | cut -d' ' -f1)
    code=$(bash "$RGW" s3 "$GW" "/$3/$1" --path-as-is -X PUT -H "x-amz-content-sha256: $sum" \
           --data-binary @"$2" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "planting $1 in $3: HTTP $code"
}

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 20); do echo "record $i" >"$DATA/emr/r$i.txt"; done
head -c 500000 /dev/urandom >"$DATA/emr/scan.pdf"
medium() {
    cat <<YAML
$(object_medium $1 $2 compliance 1)
YAML
}
policy() {
    cat <<YAML
repository: $1
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
media:
$(medium cloud hosp-bkp)
$(medium other other-bkp)
datasets:
  - name: emr
    paths: [$DATA/emr]
    retention: { keep_last: 3 }
    copy_to: [cloud, other]
YAML
}
policy "$WORK/repo" >"$WORK/policy.yaml"
policy "$WORK/repo2" >"$WORK/policy2.yaml"
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$WORK/policy.yaml"
ok "$BKP" init --policy "$WORK/policy2.yaml"
ok "$BKP" backup emr --policy "$WORK/policy.yaml"
ok "$BKP" media label --name cloud --policy "$WORK/policy.yaml"
ok "$BKP" rotate cloud --policy "$WORK/policy.yaml"

# 1. Another repository's bucket: labelled by the second repository, refused
# by the first (nothing of the first is written there).
ok "$BKP" media label --name other --policy "$WORK/policy2.yaml"
expect_exit 2 "$BKP" media label --name other --policy "$WORK/policy.yaml"
output_has "another repository"

# 2. Planted objects.
echo "x" >"$WORK/x"
head -c 70000 /dev/zero >"$WORK/big"
plant "repo/../../escaped" "$WORK/x" hosp-bkp
plant "repo/generations/emr/../../../../escaped.gen" "$WORK/x" hosp-bkp
plant "repo/packs/zz/notapack" "$WORK/x" hosp-bkp
plant "repo/packs/00/$(printf 'ab%.0s' $(seq 1 32))" "$WORK/x" hosp-bkp
plant "repo/generations/emr/0000000009.pruned" "$WORK/big" hosp-bkp
plant "repo/generations/emr/0000000002.gen" "$WORK/x" hosp-bkp
plant "elsewhere/BKP-LABEL" "$WORK/x" hosp-bkp

# 3. The primary is gone: the restore takes only the layout, says what it left
# out, and restores exactly; nothing lands outside the target and staging.
mv "$WORK/repo" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
check_exit 0 "$BKP" restore emr:1 "$WORK/out" --from cloud --policy "$WORK/policy.yaml" || true
output_has "left out" "the oversized tombstone should be reported"
output_has "no part of a bkp copy" "the keys of the wrong shape should be reported"
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from a bucket with planted objects"
# The climbing keys would land in $TMPDIR (two levels up from staging/repo)
# or in $WORK (four up from staging/repo/generations/emr).
for f in "$TMPDIR/escaped" "$WORK/escaped.gen" "$WORK/escaped"; do
    [ ! -e "$f" ] || flunk "a planted key was written outside the staging folder: $f"
done
[ -z "$(ls -A "$TMPDIR")" ] || flunk "the staging folder was left behind: $(ls -A "$TMPDIR")"
mv "$WORK/repo.gone" "$WORK/repo"

finish
