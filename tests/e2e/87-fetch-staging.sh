#!/usr/bin/env bash
# 87-fetch-staging — a restore from a bucket fetches the copy into a staging
# folder under $TMPDIR, and that folder holds the repository's key file. A
# restore killed with -9 in the middle of its fetch cannot remove it; the
# next fetch must: nothing of a fetch whose process is gone stays behind,
# and a live fetch's folder, or a look-alike planted by someone else (a link,
# another mode), is left alone. Skipped when Ceph is not installed.
. "$(dirname "$0")/lib.sh"

start_bucket hosp-bkp
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

DATA=$WORK/data
mkdir -p "$DATA/emr"
head -c 20000000 /dev/urandom >"$DATA/emr/scan.dcm"
echo "note" >"$DATA/emr/n.txt"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud

# A look-alike that is not ours to remove: a link to a folder elsewhere.
mkdir -p "$WORK/elsewhere"
echo keep >"$WORK/elsewhere/keep"
echo 1 >"$WORK/elsewhere/pid"
ln -s "$WORK/elsewhere" "$TMPDIR/bkp-fetch-AAAAAA"

# Killed in the middle of its fetch: its staging folder stays, with the key.
"$BKP" restore emr:latest "$WORK/out1" --from cloud >"$WORK/r1.txt" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    ls "$TMPDIR"/bkp-fetch-*/repo/packs 2>/dev/null | grep -q . && break
    [ -n "$(find "$TMPDIR" -path '*bkp-fetch-*/repo/keys/key' 2>/dev/null)" ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
left=$(find "$TMPDIR" -maxdepth 1 -name 'bkp-fetch-??????' -type d | wc -l)
[ "$left" -ge 1 ] || fail "the premise: the killed restore should leave its staging folder"

# The next fetch removes it, and leaves the look-alike.
check_exit 0 "$BKP" restore emr:latest "$WORK/out2" --from cloud || true
left=$(find "$TMPDIR" -maxdepth 1 -name 'bkp-fetch-*' -type d | wc -l)
[ "$left" = 0 ] || flunk "$left staging folder(s) of fetches whose process is gone are left in \$TMPDIR"
[ -z "$(find "$TMPDIR" -name key -path '*keys*' 2>/dev/null)" ] ||
    flunk "a copy of the key file is left in \$TMPDIR"
[ -L "$TMPDIR/bkp-fetch-AAAAAA" ] && [ -f "$WORK/elsewhere/keep" ] ||
    flunk "a look-alike link in \$TMPDIR was followed or removed"
same_mtree "$DATA/emr" "$WORK/out2$DATA/emr" "the restore after the killed one"

# ---- The bucket with credentials that only read ----
# What a recovery machine is given: keys that cannot write. A restore and a
# check from the bucket need nothing more: the bucket is the same afterwards.
ok bash "$RGW" reader "$GW"
printf 'x' >"$WORK/probe"
code=$(RGW_CREDENTIALS=$GW/credentials-read s3 /hosp-bkp/probe-object -o /dev/null -w '%{http_code}' \
    -X PUT --data-binary @"$WORK/probe" || true)
[ "$code" = 403 ] || fail "the premise: a PUT with the read-only keys answered $code, not 403"
versions() { s3 '/hosp-bkp?versions=' | tr '<' '\n' | grep -E '^(Key|VersionId|ETag)>' | sort; }
before=$(versions)
sed "s|credentials_file: .*|credentials_file: $GW/credentials-read|" "$WORK/policy.yaml" >"$WORK/policy-read.yaml"
chmod 600 "$WORK/policy-read.yaml"
ok "$BKP" restore emr:latest "$WORK/out-read" --from cloud --policy "$WORK/policy-read.yaml"
same_mtree "$DATA/emr" "$WORK/out-read$DATA/emr" "the restore with read-only keys"
ok "$BKP" verify --media cloud --read-data --policy "$WORK/policy-read.yaml"
# The bad day: the primary gone, the paper sheet, the read-only keys.
ok "$BKP" key export --paper -o "$WORK/paper.md"
mv "$REPO" "$WORK/repo.away"
sed '/^passphrase_file:/d' "$WORK/policy-read.yaml" >"$WORK/policy-day.yaml"
chmod 600 "$WORK/policy-day.yaml"
ok "$BKP" restore emr:latest "$WORK/out-day/emr" --from cloud --policy "$WORK/policy-day.yaml" \
    --key-from "$WORK/paper.md" </dev/null
same_mtree "$DATA/emr" "$WORK/out-day/emr$DATA/emr" "the restore with the paper sheet and read-only keys"
grep -q '"op":"restore"' "$WORK/out-day"/bkp-journal-*.jsonl 2>/dev/null ||
    flunk "the restore from the bucket with no primary was not recorded beside its target"
mv "$WORK/repo.away" "$REPO"
[ "$(versions)" = "$before" ] || flunk "reading the bucket with read-only keys changed it: $(diff <(echo "$before") <(versions) | head -n 5)"
finish
