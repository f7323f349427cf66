#!/usr/bin/env bash
# 91-bucket-preplanted-pack — root on the host reads the repository and the
# bucket's credentials. Between a backup and its rotation it plants, under
# the name of each new pack, an object of the same size and other bytes.
# The rotation must not take those for the packs: it must upload the
# genuine ones (and lock them) before the record that needs them, so that
# with the primary gone the generation restores from the bucket alone.
# Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
head -c 400000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr

# The attack: a same-size impostor under every pack's key, before the rotation.
n=0
while IFS= read -r -d '' pack; do
    id=$(basename "$pack")
    size=$(stat -c %s "$pack")
    head -c "$size" /dev/urandom >"$WORK/forged"
    code=$(s3 "/hosp-bkp/repo/packs/${id:0:2}/$id" -X PUT \
           -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
           --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "planting an impostor for pack $id: HTTP $code"
    n=$((n + 1))
done < <(find "$REPO/packs" -type f -name '[0-9a-f]*' -size +0 -print0)
[ "$n" -gt 0 ] || fail "no pack in the repository after the backup"

# The rotation either uploads the genuine packs or refuses; if it says the
# copy is made, the bucket must hold it.
rc=0
"$BKP" rotate cloud >"$WORK/rot.out" 2>&1 || rc=$?
cat "$WORK/rot.out" >&2
if [ "$rc" = 0 ]; then
    mv "$REPO" "$WORK/repo.gone"
    export TMPDIR=$WORK/tmp
    mkdir -p "$TMPDIR"
    check_exit 0 "$BKP" restore emr:1 "$WORK/out" --from cloud ||
        flunk "the rotation exited 0 and locked record 1, but no version of its packs in the bucket is genuine: the generation cannot be restored from the bucket"
    [ -d "$WORK/out$DATA/emr" ] && same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from the bucket"
    mv "$WORK/repo.gone" "$REPO"
    unset TMPDIR
fi

finish
