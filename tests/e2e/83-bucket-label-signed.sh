#!/usr/bin/env bash
# 83-bucket-label-signed — a bucket labelled by an earlier bkp holds a label
# of version 1, unsigned, and the registry holds the same (made here by
# copying a bucket's objects into another, the label as version 1). Before anything
# is done about it, the bad day must still work: with the primary gone, the
# passphrase alone restores from the bucket (the key is then named by the
# config, and that is said). The next rotation signs the label, says so,
# and puts the signed one in front and in the registry; from then on a
# restore by the passphrase alone, and one by the key sheets, find the key
# through the signed label. A dry run says it would sign and writes nothing.
# Skipped without Ceph.
. "$(dirname "$0")/lib.sh"

start_bucket hosp-bkp old-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
head -c 200000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud
ok "$BKP" key export --paper -o "$WORK/paper.md"

# What an earlier bkp wrote: the same label, version 1, without a signature,
# in the bucket and in the registry.
python3 - "$REPO/media/cloud.json" "$WORK/label-v1" <<'PY' || fail "making the old label"
import json, sys
e = json.load(open(sys.argv[1]))
lab = {k: v for k, v in e["label"].items() if k != "signature"}
lab["version"] = 1
e["label"] = lab
e.pop("label_version", None)
json.dump(e, open(sys.argv[1], "w"), indent=2, sort_keys=True)
open(sys.argv[2], "w").write(json.dumps(lab, indent=2, sort_keys=True) + "\n")
PY
s3 "/hosp-bkp?list-type=2" -o "$WORK/list.xml" || fail "listing the bucket"
grep -o '<Key>[^<]*</Key>' "$WORK/list.xml" | sed 's/<[^>]*>//g' | grep -v '^probe/' >"$WORK/keys"
while read -r key; do
    if [ "$key" = BKP-LABEL ]; then
        s3_put "old-bkp/$key" "$WORK/label-v1"
    else
        s3 "/hosp-bkp/$key" -o "$WORK/object" || fail "reading $key"
        s3_put "old-bkp/$key" "$WORK/object"
    fi
done <"$WORK/keys"
sed -i 's/hosp-bkp/old-bkp/' "$WORK/policy.yaml"

restore_alone() { # NAME ARGS...: the primary gone, restore emr:latest from the bucket
    local name=$1
    shift
    mv "$REPO" "$WORK/repo.gone"
    rm -rf "$WORK/out-$name"
    check_exit 0 "$BKP" restore emr:latest "$WORK/out-$name" --from cloud -v "$@" ||
        flunk "restore from the bucket alone ($name)"
    [ -d "$WORK/out-$name$DATA/emr" ] && same_mtree "$DATA/emr" "$WORK/out-$name$DATA/emr" "restored ($name)"
    mv "$WORK/repo.gone" "$REPO"
}
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# 1. The old label: the bad day still works, and says how the key was found.
restore_alone old-label
output_has "named by its config" "a restore past an unsigned label should say the config named the key"
output_has "the next \`bkp rotate cloud\` signs it"

# 2. A dry run says it would sign, and leaves the bucket's label as it is.
before=$(s3 "/old-bkp/BKP-LABEL" | sha256sum)
ok "$BKP" rotate cloud --dry-run
output_has "the rotation will sign it"
[ "$(s3 "/old-bkp/BKP-LABEL" | sha256sum)" = "$before" ] || flunk "a dry run changed the bucket's label"

# 3. The rotation signs it, in the bucket and in the registry.
ok "$BKP" rotate cloud
output_has "it is signed now"
s3 "/old-bkp/BKP-LABEL" -o "$WORK/label-now" || fail "reading the bucket's label"
python3 - "$WORK/label-now" "$REPO/media/cloud.json" "$WORK/label-v1" <<'PY' ||
import json, sys
now, entry, old = (json.load(open(p)) for p in sys.argv[1:])
assert now["version"] == 2 and len(now["signature"]) == 128, now
assert entry["label"] == now, "the registry does not hold the signed label"
assert entry.get("label_version"), "the registry noted no version of the signed label"
for k in ("uuid", "name", "type", "location", "repository", "created"):
    assert now[k] == old[k], k
PY
    flunk "the rotation did not put the signed label in front and in the registry"
ok "$BKP" rotate cloud
grep -q "is signed now" <<<"$ERR" && flunk "a second rotation signed the label again"

# 4. From now on the signed label names the key, by passphrase and by sheets.
restore_alone passphrase
output_has "named by its signed label"
restore_alone sheets --key-from "$WORK/paper.md" </dev/null
output_has "named by its signed label"
unset TMPDIR

finish
