#!/usr/bin/env python3
"""A fake S3 endpoint on loopback that misbehaves on purpose, for the S3
client's fault tests (tests/e2e/82-s3-faults.sh). Signatures are not checked.

usage: s3-fault-server.py PORTFILE LOGFILE

Each bucket name is one behaviour:
  /slow?versioning=     503 SlowDown twice, then Enabled
  /slow?object-lock=    Object Lock enabled
  /down?...             500 always
  /html?versioning=     200 with an HTML page
  /obj/etag   (PUT)       200 with an ETag that is not the body's MD5
  /obj/flaky  (GET)       first answer cut short (connection closed), then whole
  /obj/big    (GET)       10000 bytes
  /loop?list-type=2...  a truncated page whose token never moves on
  /xxe?versioning=      an answer with a DOCTYPE naming a local file (XXE)
  /huge?list-type=2...  a listing of 5 MiB
  /skew?versioning=     403 RequestTimeTooSkewed
  /obj/full (PUT)       403 QuotaExceeded
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
counts = {}
lock = threading.Lock()
FLAKY = bytes((i * 7) % 251 for i in range(1000))


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code):
        self.answer(status, ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code>'
                             '<Message>injected</Message></Error>' % code).encode())

    def do_GET(self):
        p = self.path
        if p == "/slow?versioning=":
            if count(p) <= 2:
                return self.error(503, "SlowDown")
            return self.answer(200, ('<VersioningConfiguration %s><Status>Enabled</Status>'
                                     '</VersioningConfiguration>' % NS).encode())
        if p == "/slow?object-lock=":
            return self.answer(200, b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                                    b"</ObjectLockEnabled></ObjectLockConfiguration>")
        if p.startswith("/down"):
            return self.error(500, "InternalError")
        if p == "/html?versioning=":
            return self.answer(200, b"<html><body>Please log in to the proxy</body></html>")
        if p == "/obj/flaky":
            if count(p) == 1:
                self.send_response(200)
                self.send_header("Content-Length", str(len(FLAKY)))
                self.end_headers()
                self.wfile.write(FLAKY[:500])
                self.wfile.flush()
                self.close_connection = True
                return
            return self.answer(200, FLAKY)
        if p == "/obj/big":
            return self.answer(200, b"x" * 10000)
        if p.startswith("/loop?"):
            return self.answer(200, ('<ListBucketResult %s><IsTruncated>true</IsTruncated>'
                                     '<NextContinuationToken>same</NextContinuationToken>'
                                     '</ListBucketResult>' % NS).encode())
        if p == "/skew?versioning=":
            return self.error(403, "RequestTimeTooSkewed")
        if p == "/xxe?versioning=":
            return self.answer(200, b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM '
                                    b'"file:///etc/passwd">]><VersioningConfiguration>'
                                    b'<Status>&x;</Status></VersioningConfiguration>')
        if p.startswith("/huge?"):
            item = (b"<Contents><Key>k</Key><LastModified>2026-11-23T20:40:00Z</LastModified>"
                    b"<ETag>e</ETag><Size>1</Size></Contents>")
            return self.answer(200, b"<ListBucketResult><IsTruncated>false</IsTruncated>" +
                               item * (5 * 1024 * 1024 // len(item)) + b"</ListBucketResult>")
        return self.error(404, "NoSuchKey")

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        if self.path == "/obj/etag":
            return self.answer(200, headers=[("ETag", '"00000000000000000000000000000000"'),
                                             ("x-amz-version-id", "v1")])
        if self.path == "/obj/full":
            return self.error(403, "QuotaExceeded")
        return self.error(404, "NoSuchBucket")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
