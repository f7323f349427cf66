#!/usr/bin/env bash
# 84-object-medium — an off-site copy in an S3 bucket with Object Lock (a real
# Ceph RADOS Gateway on loopback, started and stopped here): the medium is
# labelled (a bucket without Object Lock is refused, saying how to make one),
# its lock is proven by a probe, three generations are rotated to it, a
# DELETE of a locked version through the S3 API is refused, a rotation killed
# in the middle of its uploads is completed by the next, a pack overwritten in
# the bucket by a newer version is passed over for its locked original, and
# with the primary gone a generation restores exactly from the bucket alone;
# `verify --media` reports the forged version and `--repair-from` a disk puts
# a good one back; a pack damaged on the disk is repaired from the bucket;
# in Japanese, the rotation's report and its refusals (a wrong secret key, a
# missing bucket) are Japanese.
# Skipped when Ceph is not installed.
. "$(dirname "$0")/lib.sh"

start_bucket hosp-bkp plain-bkp --no-lock
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

DATA=$WORK/data
mkdir -p "$DATA/emr/notes" "$DATA/emr/images"
head -c 3000000 /dev/urandom >"$DATA/emr/images/ct-1.dcm"
for i in $(seq 1 40); do echo "note $i: 患者 $RANDOM" >"$DATA/emr/notes/n$i.txt"; done
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 3, media_types: 2, offline: 0, offsite: 1, immutable: 1 }
media:
$(object_medium cloud hosp-bkp compliance 1)
    rotate_every: 1d
  - name: nolock
    type: object
    endpoint: $(cat "$GW/endpoint")
    bucket: plain-bkp
    region: $(cat "$GW/region")
    credentials_file: $GW/credentials
    location: offsite
  - name: usb
    type: removable
    path: $WORK/usb
    offline: true
datasets:
  - name: emr
    paths: [$DATA/emr]
    schedule: daily 02:00
    retention: { keep_daily: 7 }
    copy_to: [cloud, usb]
YAML
unset BKP_PASSPHRASE_FILE
export BKP_POLICY=$POL
ok "$BKP" init --policy "$POL"
# What the bucket's lock will cost is said before anything is uploaded:
# keep_daily 7 keeps a generation 7 days, longer than the lock's 1.
ok "$BKP" policy check
output_has "in bucket hosp-bkp (cloud): each generation stays locked 7 days from its backup"
mkdir -p "$WORK/usb"
ok "$BKP" media label "$WORK/usb" --name usb

# 1. Labelling: a bucket without Object Lock is refused with the way to make one.
expect_exit 2 "$BKP" media label --name nolock
output_has "Object Lock" "the refusal should name what the bucket lacks"
ok "$BKP" media label --name cloud
output_has "labelled"
# The label, config and key file are in the bucket, locked.
code=$(s3 "/hosp-bkp/BKP-LABEL" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || flunk "no label object in the bucket (HTTP $code)"

# 2. Nothing counts as non-editable before the probe; the probe proves the lock.
ok "$BKP" backup emr
ok "$BKP" rotate cloud
expect_exit 1 "$BKP" status --json # NON-COMPLIANT: no non-editable copy yet
grep -q '"non_editable": false' <<<"$OUT" || flunk "an unproven bucket counted as non-editable"
# What the bucket stores after the rotation, every version counted: at
# least the packs of the one generation it holds, and the small objects.
packs=$(find "$REPO/packs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
python3 - "$OUT" "$packs" <<'PY' || flunk "status --json should carry the bucket's size (at least $packs bytes): $OUT"
import json, sys
media = {m["medium"]: m for m in json.loads(sys.argv[1])["media"]}
assert media["cloud"]["type"] == "object" and media["cloud"]["bytes"] > int(sys.argv[2]), media
assert media["usb"]["bytes"] is None, media  # never rotated
PY
output_has "no non-editable copy"
ok "$BKP" media probe cloud
output_has "the lock holds"
ok "$BKP" status
output_has "non-editable (proven on" "status should show the proven lock and its date"
ok "$BKP" audit show
output_has "media-probe" "the probe should be in the audit log"

# 3. Two more generations, rotated after each backup: three in the bucket.
for i in 2 3; do
    echo "visit $i" >>"$DATA/emr/notes/n1.txt"
    head -c 400000 /dev/urandom >"$DATA/emr/images/mr-$i.dcm"
    ok "$BKP" backup emr
    if [ "$i" = 2 ]; then
        # A dry run reads the bucket's records and writes nothing: no new
        # object version in the bucket, nothing changed in the primary.
        s3 "/hosp-bkp?versions=" -o "$WORK/before.xml" || fail "listing versions"
        primary_before=$(repo_digest "$REPO")
        ok "$BKP" rotate cloud --dry-run --json
        python3 - "$OUT" <<'PY' || flunk "the bucket's plan is not what it should be: $OUT"
import json, sys
p = json.loads(sys.argv[1])
assert p["listed"] is True and p["copy"] == ["emr:2"] and p["there"] == [], p
assert p["prune"] == [], p
assert set(p["lock_until"]) == {"emr:2"}, p  # the date the copy will lock it until
PY
        s3 "/hosp-bkp?versions=" -o "$WORK/after.xml" || fail "listing versions"
        cmp -s "$WORK/before.xml" "$WORK/after.xml" || flunk "rotate --dry-run wrote to the bucket"
        [ "$(repo_digest "$REPO")" = "$primary_before" ] || flunk "rotate --dry-run changed the primary"
    fi
    ok "$BKP" rotate cloud --json
done
ok "$BKP" media show cloud --json
grep -q '"generations": 3' <<<"$OUT" || flunk "the bucket should hold three generations: $OUT"

# 4. A locked version cannot be deleted through the S3 API, not even with the bypass.
# (the query canonical: sorted, every name with "=", "/" as %2F)
s3 "/hosp-bkp?prefix=repo%2Fpacks%2F&versions=" -o "$WORK/versions.xml" || fail "listing versions"
# The largest pack: it holds ct-1.dcm, which every generation shares, so the
# disk rotated in step 8 (the newest generation only) holds it too.
read -r key vid < <(python3 - "$WORK/versions.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
vs = [v for v in ET.parse(sys.argv[1]).getroot().findall("s:Version", ns)
      if v.find("s:Key", ns).text.startswith("repo/packs/")]
v = max(vs, key=lambda v: int(v.find("s:Size", ns).text))
print(v.find("s:Key", ns).text, v.find("s:VersionId", ns).text)
PY
)
[ -n "$key" ] && [ -n "$vid" ] || fail "no pack version in the bucket"
for bypass in "" "-H x-amz-bypass-governance-retention:true"; do
    # shellcheck disable=SC2086
    code=$(s3 "/hosp-bkp/$key?versionId=$vid" -X DELETE $bypass -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 403 ] || flunk "a DELETE of a locked pack version ${bypass:+with the bypass }returned HTTP $code, not 403"
done

# 5. A rotation killed during its uploads: the next one completes the copy.
head -c 40000000 /dev/urandom >"$DATA/emr/images/big.dcm"
ok "$BKP" backup emr
"$BKP" rotate cloud >"$WORK/killed.out" 2>&1 &
pid=$!
sleep 1.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
ok "$BKP" rotate cloud --json
ok "$BKP" media show cloud --json
grep -q '"generations": 4' <<<"$OUT" || flunk "after the killed rotation the bucket should hold four generations"
[ ! -e "$REPO/cache/bucket-cloud" ] || flunk "the rotation's working folder was left behind"

# 5b. More rotations than the versions a reader tries of an object: each
# writes the audit log's copy anew, and those versions are bkp's own
# history, never said to be someone else's (below, at the fetch).
for _ in 1 2 3 4 5 6 7 8; do
    ok "$BKP" rotate cloud
done
n_audit=$(s3 "/hosp-bkp?versions=" | tr '<' '\n' | grep -c '^Key>repo/audit/primary.jsonl$' || true)
[ "$n_audit" -gt 8 ] || fail "the audit log's copy should have more than 8 versions by now, has $n_audit"

# 6. A pack overwritten in the bucket (a newer version over the locked one) is
# passed over: the fetch takes the locked original.
echo "forged" >"$WORK/forged"
code=$(s3 "/hosp-bkp/$key" -X PUT -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
       --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "uploading a forged version: HTTP $code"

# 7. The primary is gone: the newest generation restores from the bucket alone.
mv "$REPO" "$WORK/repo.gone"
ok "$BKP" restore emr:latest "$WORK/out" --from cloud -v
output_has "forged" "the forged current version should be reported"
output_lacks "than bkp ever tries" "the audit copy's own versions ($n_audit) are said to be someone else's"
same_mtree "$DATA/emr" "$WORK/out$DATA/emr" "restored from the bucket"
# fetched_bytes: what the last fetch says it fetched, in bytes.
fetched_bytes() {
    python3 -c '
import re, sys
m = re.search(r"fetched \d+ pack\(s\), ([\d.]+) (B|KiB|MiB|GiB)", sys.stdin.read())
print(int(float(m.group(1)) * 1024 ** ["B", "KiB", "MiB", "GiB"].index(m.group(2))) if m else "")
' <<<"$OUT$ERR"
}
latest=$(fetched_bytes)
# The first generation needs only its own packs: not the 40 MB image of the fourth.
ok "$BKP" restore emr:1 "$WORK/out1" --from cloud -v
output_has "those the generations asked for need"
first=$(fetched_bytes)
[ -n "$first" ] && [ -n "$latest" ] || fail "no fetch figures: '$first' '$latest'"
[ "$((first * 4))" -lt "$latest" ] ||
    flunk "restoring emr:1 fetched $first bytes, emr:latest $latest: the first should fetch only its own packs"
[ -f "$WORK/out1$DATA/emr/images/ct-1.dcm" ] && [ ! -e "$WORK/out1$DATA/emr/images/big.dcm" ] ||
    flunk "emr:1 restored from the bucket is not the first generation"
expect_exit 2 "$BKP" restore emr:99 "$WORK/out99" --from cloud
output_has "emr:99"
# Which generations the bucket holds, and what one of them holds, are read
# from the bucket alone too: the list from its signed records (no pack is
# fetched), a generation's files from its own packs. Nothing is left behind.
ok "$BKP" generations emr --from cloud -v
output_has "emr:1"
output_has "emr:4"
output_lacks "pack(s)"
ok "$BKP" generations --from cloud --json
python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [g["seq"] for g in v if g["dataset"] == "emr"] == [1, 2, 3, 4], v
assert all(g["status"] == "sealed" for g in v), v
' <<<"$OUT" || flunk "generations --from cloud --json: $OUT"
ok "$BKP" ls emr:1 --from cloud -v
output_has "ct-1.dcm"
output_lacks "big.dcm"
output_has "those the generations asked for need"
# When the attack began: what changed between two generations, which of
# them hold a file, and one file's content, from the bucket too.
ok "$BKP" diff emr:3 emr:4 --from cloud
output_has "+ ${DATA#/}/emr/images/big.dcm"
ok "$BKP" find ct-1.dcm --from cloud
output_has "emr:4"
"$BKP" dump emr:1 "$DATA/emr/images/ct-1.dcm" --from cloud >"$WORK/dumped" ||
    flunk "dump --from cloud failed"
cmp -s "$WORK/dumped" "$DATA/emr/images/ct-1.dcm" || flunk "dump --from cloud gave other bytes"
# diff fetched the packs of its two generations alone, not the bucket's.
ok "$BKP" diff emr:1 emr:2 --from cloud -v
output_lacks "big.dcm"
output_has "those the generations asked for need"
expect_exit 2 "$BKP" generations --from cloud --clear-suspicious emr:1
output_has "leave out --from"
# A generation the bucket lacks: the hint names the bucket, not the staging
# folder, which is gone with the command like every failed fetch's.
expect_exit 2 "$BKP" ls emr:99 --from cloud
output_has "bkp generations --from cloud"
output_lacks "bkp-fetch-"
[ -z "$(ls -A "$TMPDIR" | grep bkp-fetch || true)" ] ||
    flunk "a listing from the bucket left its staging behind: $(ls "$TMPDIR")"
mv "$WORK/repo.gone" "$REPO"

# 7b. A drill from the bucket alone (--medium cloud): the newest generation is
# fetched, verified and restored into a sandbox, and the check passes.
mkdir -p "$WORK/runbooks"
cat >"$WORK/runbooks/emr.yaml" <<YAML
title: "電子カルテ 復旧手順 (クラウド)"
datasets: [emr]
steps:
  - { who: "システム担当", select: { dataset: emr } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: emr, to: /var/restore/emr } }
  - { who: "システム担当", check: "test -f \"\$BKP_TARGET/images/big.dcm\"" }
YAML
ok "$BKP" drill emr --medium cloud --report "$WORK/drill"
report=$(ls "$WORK"/drill/*.json | head -n 1)
[ -n "$report" ] || flunk "the drill from the bucket wrote no report"
python3 - "$report" <<'PY' || flunk "the drill report should say ok, from cloud"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True, r["ok"]
assert "cloud" in json.dumps(r), "no step names cloud"
PY
[ -z "$(ls -A "$TMPDIR" | grep bkp-fetch || true)" ] || flunk "the drill left its fetch staging behind: $(ls "$TMPDIR")"

# 7c. The bad day with the paper alone: the server, its policy and the disk
# are gone; the printed procedure gives the policy that reaches the bucket
# and the command to type, and they restore the data.
ok "$BKP" runbook print emr --lang en
printf '%s\n' "$OUT" >"$WORK/paper-procedure.md"
# -o writes the same page, readable by whoever prints it whatever the umask.
(umask 077 && "$BKP" runbook print emr --lang en -o "$WORK/paper-o.md" >"$WORK/print.out" 2>&1) ||
    flunk "runbook print -o failed: $(cat "$WORK/print.out")"
[ "$(stat -c %a "$WORK/paper-o.md")" = 644 ] || flunk "the procedure written with -o should be readable by all"
grep -q "From a bucket" "$WORK/paper-o.md" || flunk "the procedure written with -o lacks the bucket's part"
grep -q "recovery procedure: $WORK/paper-o.md" "$WORK/print.out" || flunk "runbook print -o should say where: $(cat "$WORK/print.out")"
mkdir -p "$WORK/new-machine"
python3 - "$WORK/paper-procedure.md" "$WORK/new-machine" "$WORK/out-paper" <<'PY' || flunk "the printed procedure gives no policy or command for the bucket: $(cat "$WORK/paper-procedure.md")"
import shlex, sys
text, where, dest = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
after = text.split("From a bucket", 1)[1]
yaml = after.split("```\n", 2)[1]
assert "type: object" in yaml and "bucket:" in yaml, yaml
open(where + "/recovery.yaml", "w").write(yaml)
rows = [l for l in after.splitlines() if l.startswith("| cloud |") and "bkp restore" in l]
assert rows, "no restore row for cloud"
cmd = shlex.split(rows[0].split("|")[3].replace("\\|", "|"))
assert cmd[:2] == ["bkp", "restore"] and "--policy" in cmd, cmd
cmd[3] = dest  # the live folder's place, here a scratch one
open(where + "/command", "w").write("\n".join(cmd[1:]) + "\n")
PY
mv "$REPO" "$WORK/repo.gone"
mapfile -t paper_cmd <"$WORK/new-machine/command"
(cd "$WORK/new-machine" && env -u BKP_POLICY "$BKP" "${paper_cmd[@]}" --passphrase-file "$PASSFILE") \
    >"$WORK/.out" 2>"$WORK/.err" || flunk "the command on the paper failed: $(cat "$WORK/.err")"
diff -r "$DATA/emr" "$WORK/out-paper" >/dev/null ||
    flunk "the paper's command restored other files than the data set's: $(diff -r "$DATA/emr" "$WORK/out-paper" | head -n 5)"
# ... and by the runbook, with the bucket the one source left: it is read
# only when named, and the refusal says how to name it.
cat >"$WORK/runbooks/emr-here.yaml" <<YAML
title: "電子カルテ 復旧手順 (クラウド、ここへ)"
datasets: [emr]
steps:
  - { who: "システム担当", select: { dataset: emr } }
  - { who: "システム担当", verify: {} }
  - { who: "システム担当", restore: { dataset: emr, to: $WORK/by-runbook } }
YAML
# (In the scenario's folder: with no primary open, what it does is recorded
# in a journal in the current folder.)
cd "$WORK"
# verify --media needs the server's repository: without it, what does.
check_exit 5 "$BKP" verify --media cloud || true
output_has "--from cloud --verify" "verify --media without the server's repository should say what checks the bucket"
expect_exit 1 "$BKP" restore --runbook emr-here --attest 山田 </dev/null
output_has "bkp restore --runbook NAME --from cloud" "a restore by runbook without the bucket should say to name it"
mv "$WORK/repo.gone" "$REPO"
ok "$BKP" key fingerprint
fp=$(sed -n '/fingerprint:/{n;N;p}' <<<"$OUT" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')
[ -n "$fp" ] || fail "no fingerprint in: $OUT"
mv "$REPO" "$WORK/repo.gone"
# A medium named by a path is not one of the runbook's sources: said as --from.
expect_exit 2 "$BKP" restore --runbook emr-here --from "$WORK/usb" --attest 山田 </dev/null
output_has "--from $WORK/usb: the policy has no medium of that name"
ok "$BKP" restore --runbook emr-here --from cloud --key-fingerprint "$fp" --attest 山田 -v </dev/null
output_has "under the key you gave"
cd - >/dev/null
diff -r "$DATA/emr" "$WORK/by-runbook" >/dev/null ||
    flunk "the restore by runbook from the bucket restored other files: $(diff -r "$DATA/emr" "$WORK/by-runbook" | head -n 5)"
mv "$WORK/repo.gone" "$REPO"

# 8. verify --media finds the forged version; a repair from the disk uploads a
# good one (checked first), and the bucket verifies clean again.
ok "$BKP" rotate usb
expect_exit 1 "$BKP" verify --media cloud --read-data
output_has "forged"
ok "$BKP" verify --media cloud --read-data --repair-from usb
output_has "uploaded from usb"
ok "$BKP" verify --media cloud --read-data
grep -q "forged" <<<"$ERR" && flunk "the repaired pack is still reported"

# 8b. A config put in front of the bucket's: one with a byte changed (its MAC
# no longer checks), one naming another signing key (so that neither the key
# file nor any record is signed by it) and, where the chunks are named by
# HMAC-SHA-256, the genuine one stripped back to format 2. The open refuses each and takes the
# older, genuine version: a restore from the bucket alone still works, and
# verify --media reports the config until a repair puts ours back in front.
put_config() { # FILE: a new current version of the bucket's config
    local code
    code=$(s3 "/hosp-bkp/repo/config" -X PUT -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" \
           --data-binary @"$1" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "uploading a config version: HTTP $code"
}
python3 - "$REPO/config" "$WORK/config-edited" "$WORK/config-v2" "$WORK/config-otherkey" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
e = dict(c, created="2020-01-01T00:00:00Z")
open(sys.argv[2], "w").write(json.dumps(e, indent=2, sort_keys=True) + "\n")
o = dict(c, sign_public=os.urandom(32).hex())
open(sys.argv[4], "w").write(json.dumps(o, indent=2, sort_keys=True) + "\n")
if c.get("chunk_id") == "hmac-sha256":
    for k in ("mac", "chunk_id"):
        del c[k]
    c["version"] = 2
    open(sys.argv[3], "w").write(json.dumps(c, indent=2, sort_keys=True) + "\n")
PY
ok "$BKP" key export --paper --policy "$POL" -o "$WORK/paper.md"
forged_configs=("$WORK/config-edited" "$WORK/config-otherkey")
[ -f "$WORK/config-v2" ] && forged_configs+=("$WORK/config-v2")
for forged in "${forged_configs[@]}"; do
    put_config "$forged"
    expect_exit 1 "$BKP" verify --media cloud
    output_has "repo/config (version" \
        "verify --media should fall back to the genuine config ($forged)"
    mv "$REPO" "$WORK/repo.gone"
    rm -rf "$WORK/out-config"
    ok "$BKP" restore emr:latest "$WORK/out-config" --from cloud -v
    output_has "repo/config is hidden by a delete marker or a newer version" "the restore should say which config it used ($forged)"
    same_mtree "$DATA/emr" "$WORK/out-config$DATA/emr" "restored from the bucket past a forged config ($forged)"
    mv "$WORK/repo.gone" "$REPO"
    # A wrong passphrase is not the config's doing: no older config is
    # fetched for it (they all name the same key), and it is said as such.
    if [ "$forged" = "$WORK/config-edited" ]; then
        printf 'not the passphrase\n' >"$WORK/wrong-pass"
        chmod 600 "$WORK/wrong-pass"
        expect_exit 4 "$BKP" restore emr:latest "$WORK/out-wrong" --from cloud --passphrase-file "$WORK/wrong-pass"
        output_has "wrong passphrase" "a wrong passphrase should be said as such"
        grep -q "an older version is tried" <<<"$ERR" && flunk "a wrong passphrase made the bucket be fetched: $ERR"
        # The bad day: the server is gone, the policy came without its
        # passphrase file, the administrator types it at the terminal and
        # slips once. It is asked for again, as for a repository, not the
        # whole command (which would fetch again).
        mv "$REPO" "$WORK/repo.gone"
        sed "s#^passphrase_file: .*#passphrase_file: $WORK/not-here#" "$POL" >"$WORK/policy-typed.yaml"
        rm -rf "$WORK/out-typed"
        rc=0
        pty_type "$WORK/typed.out" 2 "not the passphrase" "$(cat "$PASSFILE")" \
            "$BKP" restore emr:latest "$WORK/out-typed" --from cloud \
            --policy "$WORK/policy-typed.yaml" || rc=$?
        [ "$rc" = 0 ] || flunk "a passphrase typed again did not restore from the bucket (exit $rc): $(tr -d '\r' <"$WORK/typed.out")"
        grep -q "type it again" "$WORK/typed.out" ||
            flunk "a wrong passphrase typed for the bucket was not asked for again: $(tr -d '\r' <"$WORK/typed.out")"
        same_mtree "$DATA/emr" "$WORK/out-typed$DATA/emr" "restored from the bucket with a passphrase typed twice"
        mv "$WORK/repo.gone" "$REPO"
    fi
    # The same with the key sheets instead of the passphrase.
    rm -rf "$WORK/out-config"
    ok "$BKP" restore emr:latest "$WORK/out-config" --from cloud --key-from "$WORK/paper.md" </dev/null
    output_has "repo/config is hidden by a delete marker or a newer version" "a restore by the sheets should pass over it too ($forged)"
    same_mtree "$DATA/emr" "$WORK/out-config$DATA/emr" "restored by the sheets past a forged config ($forged)"
done
# A label naming another repository, with a config of that repository, put
# in front: the label is not signed, so it hides none of ours.
s3 "/hosp-bkp/BKP-LABEL" -o "$WORK/label-genuine" || fail "reading the bucket's label"
python3 - "$WORK/label-genuine" "$REPO/config" "$WORK/label-other" "$WORK/config-other" <<'PY'
import json, sys, uuid
other = str(uuid.uuid4())
label = json.load(open(sys.argv[1]))
label["repository"] = other
open(sys.argv[3], "w").write(json.dumps(label, indent=2, sort_keys=True) + "\n")
c = json.load(open(sys.argv[2]))
c["id"] = other
open(sys.argv[4], "w").write(json.dumps(c, indent=2, sort_keys=True) + "\n")
label["uuid"] = str(uuid.uuid4())  # another repository's own label, as its bkp would make it
open(sys.argv[3] + "-own", "w").write(json.dumps(label, indent=2, sort_keys=True) + "\n")
PY
put_object() { # KEY FILE
    local code
    code=$(s3 "/hosp-bkp/$1" -X PUT -H "x-amz-content-sha256: $(sha256sum "$2" | cut -d' ' -f1)" \
           --data-binary @"$2" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "uploading a version of $1: HTTP $code"
}
put_object BKP-LABEL "$WORK/label-other"
put_config "$WORK/config-other"
mv "$REPO" "$WORK/repo.gone"
rm -rf "$WORK/out-config"
ok "$BKP" restore emr:latest "$WORK/out-config" --from cloud
output_has "repo/config is hidden by a delete marker or a newer version" "a label put in front should not hide our config"
same_mtree "$DATA/emr" "$WORK/out-config$DATA/emr" "restored from the bucket past a forged label"
mv "$WORK/repo.gone" "$REPO"
# Beside the primary, the registered label is known: the planted copy is
# passed over and reported, and the copy is still taken for the copy it is
# (nothing else is reported than the label and the config put in front).
expect_exit 1 "$BKP" verify --media cloud --json
output_has "BKP-LABEL is hidden by a delete marker or a newer version" "verify --media should say the label in front is not ours"
problems=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["problems"])' <<<"$OUT") ||
    flunk "verify --media --json printed no problem count: $OUT"
[ "$problems" -le 2 ] || flunk "a planted label made verify --media report $problems problems: $OUT $ERR"
# A rotation puts the registered label back in front; labelling the bucket
# again, with the copy planted once more, does the same.
ok "$BKP" rotate cloud
output_has "the bucket's label was hidden" "the rotation should put the registered label back in front"
label_repo() { s3 "/hosp-bkp/BKP-LABEL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["repository"])'; }
our_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$REPO/config")
[ "$(label_repo)" = "$our_id" ] || flunk "the bucket's label still names another repository"
put_object BKP-LABEL "$WORK/label-other"
ok "$BKP" media label --name cloud
[ "$(label_repo)" = "$our_id" ] || flunk "labelling again left the planted label in front"
put_object BKP-LABEL "$WORK/label-other-own" # a label of its own uuid, with ours behind
ok "$BKP" media label --name cloud
[ "$(label_repo)" = "$our_id" ] || flunk "labelling again left another repository's label in front of ours"
# What it put back is the registered label itself, not a new one, and the
# registry noted the version id the bucket gave it. Seventeen labels of
# another repository put in front (more than any listing looks at) hide it
# from no one: labelling again, a rotation and a fetch find it by that id.
label_is_registered() {
    s3 "/hosp-bkp/BKP-LABEL" -o "$WORK/label-now" || fail "reading the bucket's label"
    python3 - "$WORK/label-genuine" "$WORK/label-now" "$REPO/media/cloud.json" <<'PY'
import json, sys
genuine, now, entry = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if genuine == now == entry["label"] and entry.get("label_version") else 1)
PY
}
label_is_registered || flunk "the label in front is not the registered one, or the registry noted no version of it"
plant_labels() { for _ in $(seq 1 17); do put_object BKP-LABEL "$WORK/label-other-own"; done; }
plant_labels
ok "$BKP" media label --name cloud
label_is_registered || flunk "17 labels put in front hid ours from labelling again"
plant_labels
ok "$BKP" rotate cloud
output_has "the bucket's label was hidden" "a rotation should find the registered label behind 17 others"
label_is_registered || flunk "17 labels put in front hid ours from the rotation"
plant_labels
expect_exit 1 "$BKP" verify --media cloud
output_has "none of its newest 8 versions is the registered label" "a fetch beside the registry should say the registered label is hidden behind 17 others"
ok "$BKP" rotate cloud
label_is_registered || flunk "the rotation did not put the registered label back"
# Labelling uploads the config too; a config forged once more is repaired.
put_config "$WORK/config-edited"
expect_exit 1 "$BKP" verify --media cloud
ok "$BKP" verify --media cloud --repair-from usb
output_has "uploaded from usb"
ok "$BKP" verify --media cloud
grep -q "an older version is tried" <<<"$ERR" && flunk "the repaired config is still refused: $ERR"

# 9. The other way: a byte flipped in the disk's largest pack is repaired from
# the bucket (fetched, every pack checked, the good one copied back).
big=$(find "$WORK/usb/repo/packs" -type f -name '[0-9a-f]*' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
[ -n "$big" ] || fail "no pack on the disk"
chattr -i "$big" 2>/dev/null || true
chmod u+w "$big"
b=$(od -An -tu1 -j 1000 -N1 "$big" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$big" bs=1 seek=1000 conv=notrunc status=none
expect_exit 1 "$BKP" verify --media usb --read-data
ok "$BKP" verify --media usb --read-data --repair-from cloud
output_has "replaced from cloud"
ok "$BKP" verify --media usb --read-data

# 10. In Japanese (LANGUAGE=ja): a rotation to the bucket says what it copied
# and how long it is locked; a wrong secret key and a bucket that is not
# there are refused, saying what to check, without an English sentence.
ja() { LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$@"; }
echo "カルテ 追記" >"$DATA/emr/notes/ja.txt"
ok "$BKP" backup emr
ja ok "$BKP" rotate cloud
output_has "世代をバケット hosp-bkp に複製しました" "a rotation to a bucket should be said in Japanese"
output_has "ロックされています（COMPLIANCE）" "the lock of what was copied should be said in Japanese"
sed 's/^\(aws_secret_access_key = \).*/\1wrong-secret-0000000000/' "$GW/credentials" >"$WORK/wrong.cred"
chmod 600 "$WORK/wrong.cred"
sed "0,/credentials_file: .*/s||credentials_file: $WORK/wrong.cred|" "$POL" >"$WORK/wrong.yaml"
ja expect_exit 1 "$BKP" rotate cloud --policy "$WORK/wrong.yaml"
output_has "サーバーが認証情報を受け付けません（HTTP 403 SignatureDoesNotMatch）" \
    "a wrong secret key should be said in Japanese"
output_has "認証情報ファイルのキー ID と秘密鍵" "what to check should be said in Japanese"
sed "s|bucket: hosp-bkp|bucket: no-such-bkp|" "$POL" >"$WORK/gone.yaml"
ja expect_exit 2 "$BKP" rotate cloud --policy "$WORK/gone.yaml"
output_has "バケット no-such-bkp が $(cat "$GW/endpoint") にありません（HTTP 404 NoSuchBucket）" \
    "a missing bucket should be said in Japanese"
! grep -Eq "is not there|check the|label it" <<<"$ERR" || flunk "English sentences in Japanese: $ERR"
# A credentials file that cannot work stops the rotation before any request,
# unrecorded, but the bucket's attempt is noted: the status says why its
# copies stopped (the run's alert sends the reader there).
printf 'this is not a credentials file\n' >"$WORK/bad.cred"
chmod 600 "$WORK/bad.cred"
sed "0,/credentials_file: .*/s||credentials_file: $WORK/bad.cred|" "$POL" >"$WORK/bad.yaml"
n=$(grep -c '"op":"rotate"' "$REPO/audit/log.jsonl")
expect_exit 2 "$BKP" rotate cloud --policy "$WORK/bad.yaml"
output_has "not a \`[section]\` or \`name = value\` line"
[ "$(grep -c '"op":"rotate"' "$REPO/audit/log.jsonl")" = "$n" ] || flunk "a rotation stopped by its settings should not be recorded"
run_any env LANG=C "$BKP" status --policy "$WORK/bad.yaml"
output_has "the policy's settings for it cannot work" "the status should say why the bucket's copies stopped"

# 11. A registry written by an earlier bkp may hold a copy of the label that
# names another repository (one put in front, taken for ours then): it is
# never written back, and only --force replaces it, with a label of ours.
python3 - "$REPO/media/cloud.json" <<'PY'
import json, sys, uuid
e = json.load(open(sys.argv[1]))
e["label"]["repository"] = str(uuid.uuid4())
open(sys.argv[1], "w").write(json.dumps(e, indent=2, sort_keys=True) + "\n")
PY
expect_exit 2 "$BKP" media label --name cloud
output_has "names another repository" "a registered label of another repository should be refused"
ok "$BKP" media label --name cloud --force
[ "$(label_repo)" = "$our_id" ] || flunk "--force did not write a label of this repository"
ok "$BKP" rotate cloud

finish
