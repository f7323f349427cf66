#!/usr/bin/env bash
# 82-bucket-false-repair — the bucket's key file is forged (a version of the
# same size put in front of the locked one). `verify --media cloud` finds it;
# `--repair-from usb` must then either put a good key file back or say that
# the problem stays — never report success (exit 0) over a copy that the
# next verify still finds broken. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr" "$WORK/usb"
echo "note" >"$DATA/emr/n.txt"
head -c 100000 /dev/urandom >"$DATA/emr/scan.dcm"
cat >"$WORK/policy.yaml" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 1 }
media:
$(object_medium cloud hosp-bkp compliance 1)
  - name: usb
    type: removable
    path: $WORK/usb
datasets:
  - name: emr
    paths: [$DATA/emr]
    retention: { keep_last: 3 }
    copy_to: [cloud, usb]
YAML
unset BKP_PASSPHRASE_FILE
export BKP_POLICY=$WORK/policy.yaml
ok "$BKP" init
ok "$BKP" media label --name cloud
ok "$BKP" media label "$WORK/usb" --name usb
ok "$BKP" backup emr
ok "$BKP" rotate cloud
ok "$BKP" rotate usb

size=$(stat -c %s "$WORK/repo/keys/key")
head -c "$size" /dev/urandom >"$WORK/forged"
code=$(s3 "/hosp-bkp/repo/keys/key" -X PUT \
       -H "x-amz-content-sha256: $(sha256sum "$WORK/forged" | cut -d' ' -f1)" \
       --data-binary @"$WORK/forged" -o /dev/null -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "forging the key file: HTTP $code"

expect_exit 1 "$BKP" verify --media cloud
rc=0
"$BKP" verify --media cloud --repair-from usb >"$WORK/repair.out" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
    rc2=0
    "$BKP" verify --media cloud >"$WORK/after.out" 2>&1 || rc2=$?
    [ "$rc2" = 0 ] || flunk "--repair-from reported success (exit 0: $(head -c 300 "$WORK/repair.out")), yet the next verify still fails (exit $rc2)"
fi

finish
