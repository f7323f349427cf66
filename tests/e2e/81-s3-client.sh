#!/usr/bin/env bash
# 81-s3-client — the S3 client against a real object store with Object Lock
# (a single-node Ceph RADOS Gateway on loopback, started and stopped here):
# buckets with and without Object Lock, a multi-MiB upload from a file read
# back exactly, retention extended but never shortened, a locked version that
# cannot be deleted, listings over several pages, a bucket default retention
# that does not override an explicit one, wrong credentials and a dead
# endpoint reported as such. Skipped when Ceph is not installed.
. "$(dirname "$0")/lib.sh"

S3_TRY=${BKP_S3_TRY:-$(dirname "$BKP")/tests/s3_try}
[ -x "$S3_TRY" ] || { echo "SKIP: no s3_try tool ($S3_TRY)" >&2; exit 77; }
RGW=${BKP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/support/rgw.sh
[ -f "$RGW" ] || { echo "SKIP: no $RGW" >&2; exit 77; }

GW=$WORK/gw
stop_gw() { bash "$RGW" stop "$GW" >/dev/null 2>&1 || true; }
# Stop the gateway, then lib.sh's clean-up with the test's own exit status.
at_exit stop_gw
rc=0
RGW_WATCH_PID=$$ bash "$RGW" start "$GW" >"$WORK/rgw.out" 2>"$WORK/rgw.err" || rc=$?
if [ "$rc" = 77 ]; then
    echo "SKIP: Ceph is not installed: $(cat "$WORK/rgw.err")" >&2
    exit 77
elif [ "$rc" != 0 ]; then
    # A machine that cannot run the gateway (no memory, no loopback) is not a
    # failure of the client; say why and skip.
    echo "SKIP: the gateway did not start:" >&2
    tail -n 20 "$WORK/rgw.err" >&2
    exit 77
fi

ok bash "$RGW" mkbucket "$GW" bkp-locked
ok bash "$RGW" mkbucket "$GW" bkp-plain --no-lock
ok bash "$RGW" mkbucket "$GW" bkp-default

# A default retention on the third bucket (GOVERNANCE, 1 day).
cfg='<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>'
md5=$(printf '%s' "$cfg" | openssl dgst -md5 -binary | base64)
code=$(bash "$RGW" s3 "$GW" "/bkp-default?object-lock=" -X PUT -H "Content-MD5: $md5" \
       --data-binary "$cfg" -o "$WORK/lockcfg.out" -w '%{http_code}' || true)
[ "$code" = 200 ] || fail "setting a default retention: HTTP $code: $(cat "$WORK/lockcfg.out")"

mkdir -m 700 "$WORK/s3"
export BKP_S3_BACKOFF_MS=50
check_exit 0 "$S3_TRY" "$(cat "$GW/endpoint")" "$(cat "$GW/region")" "$GW/credentials" \
    bkp-locked bkp-plain bkp-default "$WORK/s3" || true
printf '%s\n' "$OUT"
[ "$RC" = 0 ] || { printf '%s\n' "$ERR" | tail -n 20 >&2; }
output_has "all S3 client checks passed"

# The lock is the server's, not the client's word: a DELETE of the locked
# version through the S3 API directly is refused too.
vid=$(printf '%s\n' "$OUT" | sed -n 's/.*COMPLIANCE until +600 s: version \([^ ]*\) .*/\1/p')
[ -n "$vid" ] || flunk "no version id in the output"
code=$(bash "$RGW" s3 "$GW" "/bkp-locked/data/00/pack%201%2B%C3%A9?versionId=$vid" -X DELETE \
       -o /dev/null -w '%{http_code}' || true)
[ "$code" = 403 ] || flunk "a DELETE of the locked version through the S3 API: HTTP $code, not 403"

stop_gw
finish
