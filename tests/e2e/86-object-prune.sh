#!/usr/bin/env bash
# 86-object-prune — pruning an Object Lock bucket (a real Ceph RADOS Gateway):
# a generation that retention lets go stays while its lock holds, and goes —
# a tombstone first — once it has passed, with the packs that only it used;
# what is kept restores exactly from the bucket alone and verifies clean.
# The test build's lock day is 10 seconds ($BKP_TEST_LOCK_DAY), so that locks
# pass within the test. Skipped without Ceph or the test clock.
. "$(dirname "$0")/lib.sh"
need_test_clock

start_bucket prune-bkp
export BKP_TEST_LOCK_DAY=10
# The keys (of every version) under a prefix; the query written canonical.
keys() {
    s3 "/prune-bkp?prefix=${1//\//%2F}&versions=" -o "$WORK/keys.xml" || fail "listing $1"
    grep -o '<Key>[^<]*</Key>' "$WORK/keys.xml" | sed 's/<[^>]*>//g' | sort -u
}

DATA=$WORK/data
mkdir -p "$DATA/emr"
bucket_repo "" compliance prune-bkp

# Each generation has a file of its own (its own pack) and a shared one.
echo "shared" >"$DATA/emr/shared.txt"
gen() {
    rm -f "$DATA/emr"/own-*
    head -c 1500000 /dev/urandom >"$DATA/emr/own-$1.bin"
    ok "$BKP" backup emr
    ok "$BKP" rotate cloud
}
t0=$SECONDS
for i in 1 2 3 4; do gen "$i"; done
# 1. Retention lets generation 1 go, but its lock (3 lock days: keep_last 3
# of a data set without schedule) has not passed: it stays, said so.
keys repo/generations/emr/ >"$WORK/k1"
if [ $((SECONDS - t0)) -lt 25 ]; then # (a machine this slow sees the lock pass already)
    grep -q '0000000001.gen' "$WORK/k1" || flunk "generation 1 was deleted while locked"
    ok "$BKP" audit show --json
    grep -Eq '"versions_locked": [1-9]' <<<"$OUT" || flunk "the prune should record what stayed locked"
fi
keys repo/packs/ >"$WORK/packs-before"

# 2. Once the locks have passed, the next rotation prunes: generations 1 and
# 2 go (tombstones in their place), the packs that only they used, and the
# superseded versions of the audit copy.
sleep 32
gen 5
keys repo/generations/emr/ >"$WORK/k2"
for s in 1 2; do
    grep -q "000000000$s.gen" "$WORK/k2" && flunk "generation $s is still in the bucket"
    grep -q "000000000$s.pruned" "$WORK/k2" || flunk "generation $s has no tombstone"
done
grep -q '0000000005.gen' "$WORK/k2" || flunk "the new generation is missing"
# A pack only generation 2 needed (its own file) is gone; the first one,
# which holds the shared file every generation needs, stays.
keys repo/packs/ >"$WORK/packs-after"
[ -n "$(comm -23 "$WORK/packs-before" "$WORK/packs-after")" ] || flunk "no pack was pruned"
ok "$BKP" media show cloud --json
grep -q '"generations": 3' <<<"$OUT" || flunk "the bucket should hold three generations: $OUT"
# The audit copy's older versions (one per rotation, each a prefix of the
# next) go once their locks have passed: the current one is left, and it is
# the host's log.
s3 "/prune-bkp?prefix=repo%2Faudit%2F&versions=" -o "$WORK/audit.xml" || fail "listing the audit copy"
naudit=$(grep -o '<Key>repo/audit/primary.jsonl</Key>' "$WORK/audit.xml" | wc -l)
[ "$naudit" = 1 ] || flunk "the audit copy should be left with one version, not $naudit"
ok "$BKP" audit show --json
grep -Eq '"audit_versions_deleted": [1-9]' <<<"$OUT" || flunk "the prune should record the audit versions it deleted"

# 3. What is kept verifies and restores exactly from the bucket alone.
ok "$BKP" verify --media cloud --read-data
mv "$REPO" "$WORK/repo.gone"
ok "$BKP" restore emr:latest "$WORK/out" --from cloud
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from the pruned bucket"
mv "$WORK/repo.gone" "$REPO"

finish
