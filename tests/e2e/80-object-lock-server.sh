#!/usr/bin/env bash
# The object store of the object-medium scenarios (tests/support/rgw.sh) starts
# on loopback and enforces what bkp's non-editable copy rests on: a version
# under COMPLIANCE retention cannot be deleted (not even with the governance
# bypass), a plain DELETE only hides it behind a delete marker, and its
# retention can be extended but never shortened. The same requests succeed
# where no lock applies, so a refusal here is the lock and nothing else.
. "$(dirname "$0")/lib.sh"

need_tool openssl sha256sum base64
start_rgw
GW=$RGW_DIR
[ "$RGW_ENDPOINT" = "$(cat "$GW/endpoint")" ] || flunk "start printed '$RGW_ENDPOINT', the endpoint file says otherwise"
case $RGW_ENDPOINT in http://127.0.0.1:[0-9]*) ;; *) flunk "endpoint not on loopback: $RGW_ENDPOINT" ;; esac
[ "$(stat -c %a "$GW/credentials")" = 600 ] || flunk "credentials file is not mode 0600"
grep -q '^\[default\]$' "$GW/credentials" && grep -q '^aws_access_key_id = ' "$GW/credentials" \
    && grep -q '^aws_secret_access_key = ' "$GW/credentials" \
    || flunk "credentials file is not in the AWS shared-credentials format"
for p in $(cat "$GW/pids"); do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF "$GW/ceph.conf" \
        || flunk "process $p does not run on the scenario's own configuration"
done

# req WANT PATH CURL-ARGS...: one signed request; flunk unless the HTTP status
# is WANT (and carry on). The body is left in $BODY, the headers in $HDRS.
BODY=
HDRS=
req() {
    local want=$1 path=$2 code
    shift 2
    code=$(bash "$RGW_SH" s3 "$GW" "$path" -o "$WORK/.body" -D "$WORK/.hdrs" -w '%{http_code}' "$@" \
           2>"$WORK/.curl-err" || true)
    BODY=$(cat "$WORK/.body" 2>/dev/null || true)
    HDRS=$(tr -d '\r' <"$WORK/.hdrs" 2>/dev/null || true)
    if [ "$code" != "$want" ]; then
        flunk "$* $path: HTTP $code, expected $want: $BODY $(cat "$WORK/.curl-err")"
    fi
    return 0
}
header() { # NAME: the value of a response header of the last request
    sed -n "s/^$1: //Ip" <<<"$HDRS" | head -n 1
}
iso_in() { # SECONDS: a UTC timestamp that far ahead
    date -u -d "+$1 sec" +%Y-%m-%dT%H:%M:%SZ
}
retention_xml() { # MODE DATE
    printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' "$1" "$2"
}
md5_of() { openssl dgst -md5 -binary "$1" | base64; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# A bucket with Object Lock has versioning on.
ok bash "$RGW_SH" mkbucket "$GW" locked-bucket
req 200 '/locked-bucket?object-lock='
grep -q '<ObjectLockEnabled>Enabled<' <<<"$BODY" \
    || flunk "Object Lock is not enabled on the bucket: $BODY"
req 200 '/locked-bucket?versioning='
grep -q '<Status>Enabled<' <<<"$BODY" \
    || flunk "versioning is not enabled on the lock bucket: $BODY"
ok bash "$RGW_SH" mkbucket "$GW" plain-bucket --no-lock
req 404 '/plain-bucket?object-lock='

# A version locked in COMPLIANCE mode for a minute (Content-MD5 and the real
# payload hash sent, as bkp sends them).
printf 'pack %s\n' "$(date +%s%N)" >"$WORK/pack"
until1=$(iso_in 60)
req 200 /locked-bucket/packs/p1 -T "$WORK/pack" \
    -H "Content-MD5: $(md5_of "$WORK/pack")" \
    -H "x-amz-content-sha256: $(sha256_of "$WORK/pack")" \
    -H 'x-amz-object-lock-mode: COMPLIANCE' \
    -H "x-amz-object-lock-retain-until-date: $until1"
v1=$(header x-amz-version-id)
[ -n "$v1" ] || fail "no version id for the locked upload: $BODY"
req 200 "/locked-bucket/packs/p1?retention=&versionId=$v1"
grep -q '<Mode>COMPLIANCE<' <<<"$BODY" || flunk "retention not COMPLIANCE: $BODY"

# Deleting the version is refused, with or without the governance bypass.
req 403 "/locked-bucket/packs/p1?versionId=$v1" -X DELETE
req 403 "/locked-bucket/packs/p1?versionId=$v1" -X DELETE -H 'x-amz-bypass-governance-retention: true'
req 200 "/locked-bucket/packs/p1?versionId=$v1"
[ "$BODY" = "$(cat "$WORK/pack")" ] || flunk "the locked version changed after the refused deletes"

# A plain DELETE adds a delete marker; the version stays readable by its id.
req 204 /locked-bucket/packs/p1 -X DELETE
[ "$(header x-amz-delete-marker)" = true ] || flunk "a plain DELETE did not answer with a delete marker"
req 404 /locked-bucket/packs/p1
req 200 "/locked-bucket/packs/p1?versionId=$v1"
[ "$BODY" = "$(cat "$WORK/pack")" ] || flunk "the locked version is not readable after a plain DELETE"

# The retention can be extended, never shortened (not with the bypass either).
retention_xml COMPLIANCE "$(iso_in 120)" >"$WORK/longer.xml"
req 200 "/locked-bucket/packs/p1?retention=&versionId=$v1" -X PUT \
    -H "Content-MD5: $(md5_of "$WORK/longer.xml")" --data-binary @"$WORK/longer.xml"
retention_xml COMPLIANCE "$(iso_in 30)" >"$WORK/shorter.xml"
req 403 "/locked-bucket/packs/p1?retention=&versionId=$v1" -X PUT \
    -H "Content-MD5: $(md5_of "$WORK/shorter.xml")" --data-binary @"$WORK/shorter.xml"
req 403 "/locked-bucket/packs/p1?retention=&versionId=$v1" -X PUT \
    -H 'x-amz-bypass-governance-retention: true' \
    -H "Content-MD5: $(md5_of "$WORK/shorter.xml")" --data-binary @"$WORK/shorter.xml"
retention_xml GOVERNANCE "$(iso_in 300)" >"$WORK/governance.xml"
req 403 "/locked-bucket/packs/p1?retention=&versionId=$v1" -X PUT \
    -H "Content-MD5: $(md5_of "$WORK/governance.xml")" --data-binary @"$WORK/governance.xml"
req 200 "/locked-bucket/packs/p1?retention=&versionId=$v1"
longer=$(sed -n 's/.*<RetainUntilDate>\([^<]*\)<.*/\1/p' "$WORK/longer.xml")
grep -qF "<RetainUntilDate>${longer%Z}" <<<"$BODY" \
    || flunk "the retention is not the extended date $longer: $BODY"
req 403 "/locked-bucket/packs/p1?versionId=$v1" -X DELETE

# Controls: where no lock applies the same deletes succeed.
req 200 /locked-bucket/scratch -T "$WORK/pack"
v2=$(header x-amz-version-id)
req 204 "/locked-bucket/scratch?versionId=$v2" -X DELETE
req 404 "/locked-bucket/scratch?versionId=$v2"
req 200 /plain-bucket/scratch -T "$WORK/pack"
req 204 /plain-bucket/scratch -X DELETE
req 404 /plain-bucket/scratch

# A wrong payload hash or Content-MD5 is caught by the server.
req 400 /locked-bucket/bad -T "$WORK/pack" -H "x-amz-content-sha256: $(sha256_of "$WORK/longer.xml")"
req 400 /locked-bucket/bad -T "$WORK/pack" -H "Content-MD5: $(md5_of "$WORK/longer.xml")"

# Stop: every process is gone.
pids=$(cat "$GW/pids")
ok bash "$RGW_SH" stop "$GW"
for p in $pids; do
    if kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then
        flunk "process $p still running after stop"
    fi
done
finish
