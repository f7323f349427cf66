#!/usr/bin/env bash
# 83-bucket-key-passwd — a passphrase leaked, and `bkp key passwd` retired
# it. The key file keeps its size, so a rotation that compares sizes alone
# leaves the bucket's current key file opening with the retired passphrase
# only: on the day the primary is lost, the new passphrase must open the
# off-site copy. (The older versions of the key file stay locked in the
# bucket until their date: a retired passphrase still opens them, the newest
# generation too, which docs/SECURITY.md must say and a restore says as
# that, not as a key file someone hid.) Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 5); do echo "note $i" >"$DATA/emr/n$i.txt"; done
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud

NEW=$WORK/new-passphrase
printf 'the passphrase after the leak\n' >"$NEW"
chmod 600 "$NEW"
cp "$REPO/keys/key" "$WORK/key.before"
ok "$BKP" key passwd --passphrase-file "$PASSFILE" --new-passphrase-file "$NEW"
echo "visit 2" >>"$DATA/emr/n1.txt"
ok "$BKP" backup emr --passphrase-file "$NEW"
ok "$BKP" rotate cloud --passphrase-file "$NEW"

mv "$REPO" "$WORK/repo.gone"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
check_exit 0 "$BKP" restore emr:latest "$WORK/out" --from cloud --passphrase-file "$NEW" || true
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from the bucket with the new passphrase"
# The retired passphrase opens the older key file the bucket keeps under its
# lock, and with it the newest generation too: said as that, never as a
# key file someone hid (the newer versions are the repository's own lists).
check_exit 0 "$BKP" restore emr:latest "$WORK/old" --from cloud --passphrase-file "$PASSFILE" || true
same_mtree "$DATA/emr" "$WORK/old$DATA/emr" "restored from the bucket with the retired passphrase"
output_has "opens only an older version of the bucket's"
grep -q "hidden by a delete marker\|Someone holding the credentials" <<<"$OUT$ERR" &&
    flunk "a retired passphrase was taken for someone hiding the key file: $ERR"
# The old list put back in front by someone holding the credentials: the
# new passphrase still opens the list behind it, and the replay is said as
# what it is, never as the new passphrase being retired.
s3_put "hosp-bkp/repo/keys/key" "$WORK/key.before"
check_exit 0 "$BKP" restore emr:latest "$WORK/replayed" --from cloud --passphrase-file "$NEW" || true
same_mtree "$DATA/emr" "$WORK/replayed$DATA/emr" "restored from the bucket past a replayed key list"
output_has "Someone holding the credentials did it"
output_lacks "opens only an older version of the bucket's"
mv "$WORK/repo.gone" "$REPO"
# With the server's repository here, which the retired passphrase no longer
# opens: the bucket is read all the same, with no "wrong passphrase" for a
# repository that was only asked for what its registry pins.
s3_put "hosp-bkp/repo/keys/key" "$REPO/keys/key"
check_exit 0 "$BKP" restore emr:latest "$WORK/old2" --from cloud --passphrase-file "$PASSFILE" || true
same_mtree "$DATA/emr" "$WORK/old2$DATA/emr" "restored from the bucket, the server's repository here"
output_lacks "wrong passphrase"

finish
