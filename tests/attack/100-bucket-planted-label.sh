#!/usr/bin/env bash
# 100-bucket-planted-label — whoever holds the bucket's credentials puts a
# label in front of ours that names our uuid and our repository but says
# other things: another medium name, on site, another date. Once as a label
# of version 1 (unsigned, as an earlier bkp wrote them), once as a copy of
# our signed label with those fields changed (its signature no longer
# holds). Neither may be taken for ours: a rotation puts the registered
# label back in front and the registry keeps its own; labelling again keeps
# it too; with the primary gone, a restore from the bucket by the passphrase
# alone passes over the planted label, says so, and restores. Skipped
# without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
for i in $(seq 1 10); do echo "note $i" >"$DATA/emr/n$i.txt"; done
head -c 200000 /dev/urandom >"$DATA/emr/scan.dcm"
bucket_repo
ok "$BKP" backup emr
ok "$BKP" rotate cloud

s3 "/hosp-bkp/BKP-LABEL" -o "$WORK/label-genuine" || fail "reading the bucket's label"
python3 - "$WORK/label-genuine" "$WORK/planted-v1" "$WORK/planted-v2" <<'PY' || fail "making the planted labels"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["version"] == 2 and len(g["signature"]) == 128, "the bucket's label is not signed"
p = dict(g, name="cloud-x", location="onsite", created="2020-01-01T00:00:00Z")
v1 = {k: v for k, v in p.items() if k != "signature"}
v1["version"] = 1
open(sys.argv[2], "w").write(json.dumps(v1, indent=2, sort_keys=True) + "\n")
open(sys.argv[3], "w").write(json.dumps(p, indent=2, sort_keys=True) + "\n")
PY
# The label in front and the registry's are the genuine one.
genuine_everywhere() {
    s3 "/hosp-bkp/BKP-LABEL" -o "$WORK/label-now" || fail "reading the bucket's label"
    python3 - "$WORK/label-genuine" "$WORK/label-now" "$REPO/media/cloud.json" <<'PY'
import json, sys
genuine, now, entry = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if genuine == now == entry["label"] else 1)
PY
}

for planted in "$WORK/planted-v1" "$WORK/planted-v2"; do
    # A rotation: the planted label is not ours; ours goes back in front.
    s3_put hosp-bkp/BKP-LABEL "$planted"
    echo "visit $planted" >>"$DATA/emr/n1.txt"
    ok "$BKP" backup emr
    ok "$BKP" rotate cloud
    output_has "the bucket's label was hidden" "the rotation should see the planted label is not ours ($planted)"
    genuine_everywhere || flunk "after a rotation the planted label is in front or in the registry ($planted)"
    ok "$BKP" media list --json
    grep -q "cloud-x" <<<"$OUT" && flunk "the registry took the planted name: $OUT"

    # Labelling again keeps the registered label.
    s3_put hosp-bkp/BKP-LABEL "$planted"
    ok "$BKP" media label --name cloud
    genuine_everywhere || flunk "labelling again took the planted label ($planted)"

    # The bad day: the primary gone, the passphrase alone.
    s3_put hosp-bkp/BKP-LABEL "$planted"
    mv "$REPO" "$WORK/repo.gone"
    export TMPDIR=$WORK/tmp
    mkdir -p "$TMPDIR"
    rm -rf "$WORK/out"
    check_exit 0 "$BKP" restore emr:latest "$WORK/out" --from cloud -v ||
        flunk "a planted label in front stops the restore from the bucket ($planted)"
    output_has "BKP-LABEL (version" "the restore should say the label in front does not verify ($planted)"
    output_has "named by its signed label" "the restore should say the key came from the signed label ($planted)"
    [ -d "$WORK/out$DATA/emr" ] && same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored past a planted label ($planted)"
    mv "$WORK/repo.gone" "$REPO"
    unset TMPDIR
    ok "$BKP" rotate cloud
    genuine_everywhere || flunk "the last rotation left the planted label in front ($planted)"
done

finish
