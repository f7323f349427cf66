#!/usr/bin/env bash
# 82-s3-faults — the S3 client against an endpoint that fails on purpose
# (tests/support/s3-fault-server.py): SlowDown retried, a server that keeps
# failing given up on after a few seconds, answers that are not S3's refused,
# an ETag that is not the MD5 sent refused, a download cut short retried from
# the start, a listing that never ends stopped, an oversized answer refused,
# a DOCTYPE (XXE) refused; clock skew and a full quota reported with the fix.
. "$(dirname "$0")/lib.sh"

S3_TRY=${BKP_S3_TRY:-$(dirname "$BKP")/tests/s3_try}
[ -x "$S3_TRY" ] || { echo "SKIP: no s3_try tool ($S3_TRY)" >&2; exit 77; }
need_tool python3
SERVER=${BKP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/support/s3-fault-server.py

python3 "$SERVER" "$WORK/port" "$WORK/requests.log" &
server=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "the fake S3 server did not start"

mkdir -m 700 "$WORK/s3"
printf '[default]\naws_access_key_id = AKIDFAKE\naws_secret_access_key = fake\n' >"$WORK/s3/credentials"
chmod 600 "$WORK/s3/credentials"
export BKP_S3_BACKOFF_MS=20
check_exit 0 "$S3_TRY" --faults "http://127.0.0.1:$(cat "$WORK/port")" "$WORK/s3/credentials" \
    "$WORK/s3" || true
printf '%s\n' "$OUT"
output_has "all S3 fault checks passed"

# What the server saw: SlowDown retried twice, the failing server tried five
# times, the download asked for twice.
n=$(grep -c '^GET /slow?versioning=$' "$WORK/requests.log" || true)
[ "$n" = 3 ] || flunk "SlowDown: $n requests, not 3"
n=$(grep -c '^GET /down?versioning=$' "$WORK/requests.log" || true)
[ "$n" = 5 ] || flunk "a failing server: $n attempts, not 5"
n=$(grep -c '^GET /obj/flaky$' "$WORK/requests.log" || true)
[ "$n" = 2 ] || flunk "a download cut short: $n requests, not 2"
kill "$server" && wait "$server" 2>/dev/null || true
finish
