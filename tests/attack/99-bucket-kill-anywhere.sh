#!/usr/bin/env bash
# 99-bucket-kill-anywhere — root on the host (or a power cut) kills
# `bkp rotate` to a bucket with -9 at ten points of ten rotations: during
# the uploads of packs, the lists of packs, the records, the audit copy and,
# in a test build whose lock day is 4 seconds, the prune that follows. The
# next rotation must complete the copy; `verify --media --read-data` must
# find it clean; and with the primary gone every generation must either
# restore exactly from the bucket or be refused as not held (never exit 0
# with other data, never damaged). (e2e 84 kills one rotation during its
# uploads.) Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp
clock=0
if "$BKP" --version | grep -q 'test clock'; then
    clock=1
    export BKP_TEST_LOCK_DAY=4
fi
DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "shared" >"$DATA/emr/shared.txt"
bucket_repo
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

i=0
for d in 0.05 0.15 0.3 0.5 0.8 1.1 1.5 2.0 2.6 3.4; do
    i=$((i + 1))
    rm -f "$DATA/emr"/own-*
    head -c 6000000 /dev/urandom >"$DATA/emr/own-$i.bin"
    echo "visit $i" >>"$DATA/emr/shared.txt"
    ok "$BKP" backup emr
    mkdir -p "$WORK/gen$i"
    cp -a "$DATA/emr/." "$WORK/gen$i/"
    "$BKP" rotate cloud >"$WORK/killed.out" 2>&1 &
    pid=$!
    sleep "$d"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
ok "$BKP" rotate cloud
if [ "$clock" = 1 ]; then
    sleep 9 # every lock passed: the next rotation prunes
    ok "$BKP" rotate cloud
fi
[ ! -e "$REPO/cache/bucket-cloud" ] || flunk "the rotation's working folder was left behind"
ok "$BKP" verify --media cloud --read-data

mv "$REPO" "$WORK/repo.gone"
restored=0
for s in $(seq 1 "$i"); do
    rc=0
    "$BKP" restore "emr:$s" "$WORK/out$s" --from cloud >"$WORK/r.out" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        same_mtree "$WORK/gen$s" "$WORK/out$s$DATA/emr" "emr:$s restored from the bucket"
        restored=$((restored + 1))
    elif [ "$rc" != 2 ] || ! grep -Eq 'not held by this copy|deleted by prune' "$WORK/r.out"; then
        flunk "emr:$s from the bucket: exit $rc: $(head -c 400 "$WORK/r.out")"
    fi
done
[ "$restored" -ge 1 ] || flunk "no generation restored from the bucket"
check_exit 0 "$BKP" restore emr:latest "$WORK/latest" --from cloud &&
    same_mtree "$WORK/gen$i" "$WORK/latest$DATA/emr" "emr:latest restored from the bucket"
[ -z "$(ls -A "$TMPDIR")" ] || flunk "a staging folder was left behind: $(ls -A "$TMPDIR")"
mv "$WORK/repo.gone" "$REPO"

finish
