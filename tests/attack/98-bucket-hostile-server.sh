#!/usr/bin/env bash
# 98-bucket-hostile-server — a tampered bucket (a malicious or broken S3
# server, or anyone holding the credentials adding versions; for the
# second, anything on the network path that can slow a TCP stream, TLS or
# not) must not cost unbounded memory or time:
#  1. it answers the listing of the label's versions with page after page
#     of versions: here 200 pages of 1000, all of BKP-LABEL, each page's
#     marker new. A restore from it must end with a clear error without
#     costing hundreds of MB of memory (the threat model: a crafted medium
#     must not cost gigabytes; a server that never stops would);
#  2. it answers a GET with a length and then 2 bytes a second. `bkp rotate`
#     must give up within 4 minutes: `bkp run` holds the run lock while it
#     copies to the bucket, and a rotation that never ends stops every later
#     `bkp run` (exit 3, locked) — every backup of the hospital — until
#     someone finds and kills it. (This part takes 4 minutes on the current
#     code.)
# No Ceph needed: a fake server on loopback.
. "$(dirname "$0")/../e2e/lib.sh"

cat >"$WORK/fake.py" <<'PY'
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
PAGES, PER = 200, 1000
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def trickle(self):
        self.send_response(200)
        self.send_header("Content-Length", "3000")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"  ")
                self.wfile.flush()
                time.sleep(1)
        except Exception:
            pass
    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_HEAD(self):
        self.do_GET()
    def do_GET(self):
        p = self.path
        if p.startswith("/slow-bkp"):
            return self.trickle()
        if "versions=" in p and "prefix=BKP-LABEL" in p:
            page = 0
            if "version-id-marker=v" in p:
                page = int(p.split("version-id-marker=v")[1].split("&")[0].split("-")[0]) + 1
            more = page + 1 < PAGES
            items = "".join(
                "<Version><Key>BKP-LABEL</Key><VersionId>v%d-%d</VersionId><IsLatest>%s</IsLatest>"
                "<LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>\"0\"</ETag>"
                "<Size>10</Size></Version>" % (page, i, "true" if page == 0 and i == 0 else "false")
                for i in range(PER))
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult %s>'
                    "<IsTruncated>%s</IsTruncated>%s%s</ListVersionsResult>" % (
                        NS, "true" if more else "false",
                        "<NextKeyMarker>BKP-LABEL</NextKeyMarker><NextVersionIdMarker>v%d-%d"
                        "</NextVersionIdMarker>" % (page, PER - 1) if more else "", items))
            return self.send(200, body.encode())
        if "versions=" in p:
            return self.send(200, ('<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult %s>'
                                   "<IsTruncated>false</IsTruncated></ListVersionsResult>" % NS).encode())
        self.send(404, b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
                       b"<Message>no</Message></Error>")
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$WORK/fake.py" "$WORK/port" &
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "the fake server did not start"

printf '[default]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = fakefakefake\n' >"$WORK/creds"
chmod 600 "$WORK/creds"
mkdir -p "$WORK/data"
cat >"$WORK/policy.yaml" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
media:
  - name: cloud
    type: object
    endpoint: http://127.0.0.1:$(cat "$WORK/port")
    bucket: hosp-bkp
    region: us-east-1
    credentials_file: $WORK/creds
    location: offsite
    lock: { mode: compliance, days: 1 }
datasets:
  - name: emr
    paths: [$WORK/data]
    retention: { keep_last: 3 }
    copy_to: [cloud]
YAML
unset BKP_PASSPHRASE_FILE
export BKP_POLICY=$WORK/policy.yaml
export TMPDIR=$WORK/tmp BKP_S3_BACKOFF_MS=50
mkdir -p "$TMPDIR"

rc=0
# The sanitizer build keeps freed memory in quarantine (256 MB by default),
# which is not what the program holds: keep that small here.
ASAN_OPTIONS="quarantine_size_mb=8${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
timeout 300 /usr/bin/time -f '%M' -o "$WORK/rss" "$BKP" restore emr:latest "$WORK/out" --from cloud \
    >"$WORK/out.txt" 2>&1 || rc=$?
head -c 600 "$WORK/out.txt" >&2
[ "$rc" = 124 ] && fail "a restore from an endlessly listed bucket did not end within 5 minutes"
[ "$rc" = 1 ] || [ "$rc" = 2 ] || flunk "the restore exited $rc (want 1: the bucket holds no copy)"
rss=$(tail -1 "$WORK/rss")
[ "$rss" -lt 102400 ] ||
    flunk "listing 200000 versions of one key cost $((rss / 1024)) MB of memory; a server that never stops listing costs without limit"

# 2. A server that trickles: every request ends (a rotation of a medium
#    never labelled stops before asking the server anything, so the label
#    command, which asks it first, stands in for any request).
sed -i 's/bucket: hosp-bkp/bucket: slow-bkp/' "$WORK/policy.yaml"
ok "$BKP" init
t0=$SECONDS
rc=0
timeout 240 "$BKP" media label --name cloud >"$WORK/rot.txt" 2>&1 || rc=$?
[ "$rc" = 124 ] &&
    flunk "bkp against a server that sends 2 bytes a second was still waiting after $((SECONDS - t0)) s; in \`bkp run\` it would hold the run lock, and every later run would exit 3"
[ "$rc" = 124 ] || [ "$rc" = 1 ] || flunk "media label exited $rc: $(head -c 400 "$WORK/rot.txt")"

finish
