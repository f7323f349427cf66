#!/usr/bin/env bash
# 88-bucket-hidden-versions — whoever holds the bucket's credentials cannot
# delete a locked version, but may hide it: a plain DELETE adds a delete
# marker over the current version, and a PUT adds a forged version in front
# of it. The genuine versions stay locked underneath. Hidden that way, the
# label, the records and the packs, and forged in front, the key file and
# the config: with the primary gone, the newest generation must still
# restore exactly from the bucket (not an older one, not nothing), and
# verify --media must not call the copy clean. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
head -c 300000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud
# The second generation differs from the first: restoring the first is wrong.
echo "visit 2" >>"$DATA/emr/n1.txt"
head -c 200000 /dev/urandom >"$DATA/emr/mr-2.dcm"
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# 1. Only the newest record hidden: `latest` must not silently be the first.
code=$(s3 "/hosp-bkp/repo/generations/emr/0000000002.gen" -X DELETE -o /dev/null -w '%{http_code}' || true)
[ "$code" = 204 ] || fail "hiding the second record: HTTP $code"
mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
check_exit 0 "$BKP" restore emr:latest "$WORK/out1" --from cloud || true
same_mtree "$DATA/emr" "$WORK/out1$DATA/emr" "latest restored with its record hidden"
mv "$WORK/repo.gone" "$REPO"
unset TMPDIR

# 2. Every current key hidden or forged (the listing's query canonical).
s3 "/hosp-bkp?list-type=2" -o "$WORK/list.xml" || fail "listing the bucket"
grep -o '<Key>[^<]*</Key>' "$WORK/list.xml" | sed 's/<[^>]*>//g' >"$WORK/keys"
grep -q "^repo/keys/key$" "$WORK/keys" || fail "no key file in the bucket"
while read -r key; do
    case $key in
    repo/keys/key | repo/config)
        # A forged version of the same size in front of the genuine one.
        size=$(s3 "/hosp-bkp/$key" -I | tr -d '\r' | sed -n 's/^content-length: //Ip')
        head -c "$size" /dev/urandom >"$WORK/forged"
        code=$(s3 "/hosp-bkp/$key" -X PUT \
               -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
               --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
        [ "$code" = 200 ] || fail "forging $key: HTTP $code" ;;
    *)
        # A delete marker over it: allowed under COMPLIANCE, the version stays.
        code=$(s3 "/hosp-bkp/$key" -X DELETE -o /dev/null -w '%{http_code}' || true)
        [ "$code" = 204 ] || fail "hiding $key: HTTP $code" ;;
    esac
done <"$WORK/keys"

# 3. verify --media beside the primary must not call the copy clean.
check_exit 1 "$BKP" verify --media cloud --read-data || true

# 4. The primary is gone: the newest generation restores exactly.
mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
check_exit 0 "$BKP" restore emr:latest "$WORK/out" --from cloud || true
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "the newest generation restored from the hidden versions"
[ -z "$(ls -A "$TMPDIR")" ] || flunk "the staging folder was left behind: $(ls -A "$TMPDIR")"
mv "$WORK/repo.gone" "$REPO"

finish
