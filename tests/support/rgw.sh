#!/usr/bin/env bash
# A throw-away S3 object store with Object Lock for the tests: a single-node
# Ceph (one monitor, one OSD on the in-memory object store, the RADOS Gateway)
# on loopback, living entirely inside one directory.
#
#   rgw.sh start DIR            start it; prints the endpoint (http://127.0.0.1:PORT)
#   rgw.sh stop DIR             stop every process that `start DIR` started, and wait
#   rgw.sh mkbucket DIR NAME [--no-lock]
#                               create a bucket, with Object Lock (and so versioning)
#                               unless --no-lock
#   rgw.sh s3 DIR PATH [CURL-ARGS...]
#                               one signed S3 request to the endpoint + PATH ("/bucket/key?query")
#                               (with RGW_CREDENTIALS=FILE, signed with that file's keys)
#   rgw.sh reader DIR           a second key pair that may only read (a subuser with
#                               access "read"): DIR/credentials-read
#
# After `start`, DIR holds:
#   endpoint      http://127.0.0.1:PORT
#   credentials   the S3 user's keys, AWS shared-credentials format, mode 0600
#   region        the region to sign with
#   pids          the processes to stop
#   log/          every daemon's log (radosgw's first when something fails)
# Nothing is written outside DIR (no /etc/ceph, no /var/lib/ceph, no systemd).
#
# Environment:
#   RGW_WATCH_PID     if set, a watchdog stops the cluster when that process ends
#                     (a test passes $$, so a test killed on timeout leaks nothing)
#   RGW_MEMSTORE_MB   the in-memory store's capacity (default 1024)
#   RGW_START_TIMEOUT seconds to wait for the gateway (default 120)
#   RGW_DEBUG         if set, the gateway logs at debug_rgw=20 (the signature checks)
#
# Exit status: 0 ok; 77 when the Ceph programs are not installed (the test suite's
# "skipped"); 1 on any failure, with the tail of the relevant log on stderr.
#
# Requests are signed by curl itself (--aws-sigv4); see s3_curl below for the two
# things curl 7.88 leaves to its caller.
set -euo pipefail

REGION=us-east-1
SELF=$(readlink -f "$0")
CEPH_PROGS=(ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool osdmaptool)

die() {
    echo "rgw.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '5,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_ceph() {
    local p missing=()
    for p in "${CEPH_PROGS[@]}" curl python3; do
        command -v "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -ne 0 ]; then
        echo "rgw.sh: not installed: ${missing[*]}" \
             "(apt-get install ceph-mon ceph-osd radosgw ceph-common ceph-base curl)" >&2
        exit 77
    fi
}

# A TCP port on 127.0.0.1 that is free now: a random one below the kernel's
# ephemeral range (so that no outgoing connection takes it before the daemon
# binds it) and above the ports Ceph's daemons pick for themselves (6800-7300);
# random, so that tests starting at once do not race for the same one.
free_port() {
    python3 -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port")'
}

# The tail of a log, for an error message.
log_tail() {
    local f=$1
    if [ -s "$f" ]; then
        echo "--- last lines of $f" >&2
        tail -n "${2:-25}" "$f" >&2
    fi
}

write_conf() {
    local dir=$1 fsid=$2 mon_port=$3 rgw_port=$4
    local debug_rgw=1
    [ -n "${RGW_DEBUG:-}" ] && debug_rgw=20
    cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
crash dir = $dir/crash
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
log to stderr = false
err to stderr = false
log to syslog = false
# One OSD: every pool keeps one copy, and placement never looks for a second host.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon warn on insecure global id reclaim allowed = false
# Propose map changes at once: the gateway creates its pools one after the
# other at start-up, each waiting for a new OSD map.
paxos propose interval = 0.1
paxos min wait = 0.01
mgr initial modules =

[mon]
mon data = $dir/mon
mon initial members = a

[osd]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = $((${RGW_MEMSTORE_MB:-1024} * 1024 * 1024))
osd op num shards = 2
osd op num threads per shard = 1

[client]
admin socket =
log file = $dir/log/\$name.log

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw thread pool size = 16
rgw dns name =
debug rgw = $debug_rgw
log file = $dir/log/radosgw.log
EOF
}

pid_of() { # DIR NAME: the pid that the daemon wrote, once it wrote it
    local f="$1/run/$2.pid"
    [ -s "$f" ] && cat "$f"
}

# Wait until FILE (a pid file) appears, at most N tenths of a second.
wait_pidfile() {
    local f=$1 n=$2
    while [ "$n" -gt 0 ]; do
        [ -s "$f" ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# A signed S3 request: curl signs it with --aws-sigv4, which leaves two things
# to its caller (curl 7.88):
# - Without an x-amz-content-sha256 header curl signs the SHA-256 of the body
#   but does not send it, and the gateway, seeing no header, signs with
#   "UNSIGNED-PAYLOAD" instead: the signatures never match. So the header is
#   always sent (curl then signs it and uses its value): UNSIGNED-PAYLOAD, unless
#   the caller passes the body's real hash, which the gateway then checks.
# - curl signs the query string as written, where the gateway signs its
#   canonical form; PATH must therefore carry it canonical already: parameters
#   sorted by name, each with "=" (also "?versioning="), values percent-encoded
#   with upper-case hex ("prefix=a%2Fb").
s3_curl() {
    local dir=$1 path=$2
    shift 2
    local key secret endpoint a hash=(-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    for a in "$@"; do
        case ${a,,} in x-amz-content-sha256:*) hash=() ;; esac
    done
    local creds=${RGW_CREDENTIALS:-$dir/credentials}
    key=$(sed -n 's/^aws_access_key_id = //p' "$creds")
    secret=$(sed -n 's/^aws_secret_access_key = //p' "$creds")
    endpoint=$(cat "$dir/endpoint")
    curl -sS --aws-sigv4 "aws:amz:$REGION:s3" --user "$key:$secret" \
         "${hash[@]}" "$@" "$endpoint$path"
}

cmd_start() {
    local dir=$1
    need_ceph
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -n "$(daemons_of "$dir")" ]; then
        die "$dir already has a running cluster (rgw.sh stop $dir first)"
    fi
    rm -rf "$dir/mon" "$dir/osd" "$dir/run" "$dir/log" "$dir/rgw" "$dir/crash"
    mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log" "$dir/rgw" "$dir/crash"
    : >"$dir/pids"
    local t0=$SECONDS
    local fsid mon_port rgw_port conf
    fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    mon_port=$(free_port)
    rgw_port=$(free_port)
    while [ "$rgw_port" = "$mon_port" ]; do rgw_port=$(free_port); done
    write_conf "$dir" "$fsid" "$mon_port" "$rgw_port"
    conf=(-c "$dir/ceph.conf")

    # Keys: the monitor imports every entity of this keyring at mkfs, so the
    # admin, the OSD and the gateway exist with their capabilities from the start.
    local kr="$dir/keyring"
    ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
                  --cap mgr 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
                  --cap mgr 'allow profile osd' >/dev/null
    ceph-authtool "$kr" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' \
                  --cap mgr 'allow rw' >/dev/null
    chmod 600 "$kr"

    # The initial maps: one monitor, and an OSD map that already holds osd.0
    # (so no round trip to create it).
    monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
               "$dir/monmap" >/dev/null 2>"$dir/log/monmaptool.log" \
        || { log_tail "$dir/log/monmaptool.log"; die "monmaptool failed"; }
    osdmaptool --createsimple 1 --clobber "$dir/osdmap" >/dev/null 2>"$dir/log/osdmaptool.log" \
        || { log_tail "$dir/log/osdmaptool.log"; die "osdmaptool failed"; }
    ceph-mon "${conf[@]}" --mkfs -i a --monmap "$dir/monmap" --osdmap "$dir/osdmap" \
             --keyring "$kr" >"$dir/log/mon-mkfs.log" 2>&1 \
        || { log_tail "$dir/log/mon-mkfs.log"; die "ceph-mon --mkfs failed"; }

    # Watchdog first, so that whatever starts below is stopped if the owner
    # dies: it ends this script too (should it still be starting daemons) and
    # gives a daemon just launched a moment to write its pid file.
    if [ -n "${RGW_WATCH_PID:-}" ]; then
        local starter=$$
        (
            trap '' HUP
            while kill -0 "$RGW_WATCH_PID" 2>/dev/null && [ -e "$dir/pids" ]; do sleep 1; done
            if [ -e "$dir/pids" ]; then
                kill -KILL "$starter" 2>/dev/null || true
                sleep 1
                bash "$SELF" stop "$dir" >/dev/null 2>&1
            fi
        ) </dev/null >/dev/null 2>&1 &
        disown $! 2>/dev/null || true
    fi

    ceph-mon "${conf[@]}" -i a >>"$dir/log/mon-start.log" 2>&1 \
        || { log_tail "$dir/log/mon.a.log"; cmd_stop "$dir"; die "ceph-mon failed to start"; }
    wait_pidfile "$dir/run/mon.a.pid" 100 || { cmd_stop "$dir"; die "ceph-mon wrote no pid"; }
    pid_of "$dir" mon.a >>"$dir/pids"

    ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$(python3 -c 'import uuid; print(uuid.uuid4())')" \
             >"$dir/log/osd-mkfs.log" 2>&1 \
        || { log_tail "$dir/log/osd.0.log"; log_tail "$dir/log/osd-mkfs.log"; cmd_stop "$dir";
             die "ceph-osd --mkfs failed"; }
    ceph-osd "${conf[@]}" -i 0 >>"$dir/log/osd-start.log" 2>&1 \
        || { log_tail "$dir/log/osd.0.log"; cmd_stop "$dir"; die "ceph-osd failed to start"; }
    wait_pidfile "$dir/run/osd.0.pid" 100 || { cmd_stop "$dir"; die "ceph-osd wrote no pid"; }
    pid_of "$dir" osd.0 >>"$dir/pids"

    radosgw "${conf[@]}" -n client.rgw.a >>"$dir/log/rgw-start.log" 2>&1 \
        || { log_tail "$dir/log/radosgw.log"; cmd_stop "$dir"; die "radosgw failed to start"; }
    wait_pidfile "$dir/run/client.rgw.a.pid" 100 || { cmd_stop "$dir"; die "radosgw wrote no pid"; }
    pid_of "$dir" client.rgw.a >>"$dir/pids"

    local endpoint="http://127.0.0.1:$rgw_port"
    echo "$endpoint" >"$dir/endpoint"
    echo "$REGION" >"$dir/region"

    # The gateway answers an anonymous request once it has set up its pools.
    local limit=$((SECONDS + ${RGW_START_TIMEOUT:-120})) code=000 p
    while :; do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$endpoint/" || true)
        [ "$code" = 200 ] && break
        [ -e "$dir/pids" ] || die "stopped from outside during start-up"
        for p in $(cat "$dir/pids"); do
            alive_pid "$p" && continue
            log_tail "$dir/log/radosgw.log" 40
            log_tail "$dir/log/osd.0.log"
            log_tail "$dir/log/mon.a.log"
            cmd_stop "$dir"
            die "a Ceph daemon (pid $p) died during start-up; logs in $dir/log"
        done
        if [ "$SECONDS" -ge "$limit" ]; then
            log_tail "$dir/log/radosgw.log" 40
            log_tail "$dir/log/osd.0.log"
            cmd_stop "$dir"
            die "the gateway did not answer S3 at $endpoint within ${RGW_START_TIMEOUT:-120} s" \
                "(last HTTP status $code); logs in $dir/log"
        fi
        sleep 0.5
    done

    # The S3 user, with keys we choose (no JSON to parse).
    local key secret
    key=$(python3 -c 'import secrets, string
print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)))')
    secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30)[:40])')
    radosgw-admin "${conf[@]}" user create --uid=bkp-test --display-name="bkp test" \
                  --access-key="$key" --secret-key="$secret" \
                  >"$dir/log/user-create.log" 2>&1 \
        || { log_tail "$dir/log/user-create.log"; cmd_stop "$dir"; die "radosgw-admin user create failed"; }
    (
        umask 077
        printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
               "$key" "$secret" >"$dir/credentials"
    )
    chmod 600 "$dir/credentials"

    # A signed request must work before we say the store is ready.
    code=$(s3_curl "$dir" / -o "$dir/log/check.xml" -w '%{http_code}' || true)
    if [ "$code" != 200 ]; then
        log_tail "$dir/log/check.xml"
        log_tail "$dir/log/radosgw.log"
        cmd_stop "$dir"
        die "a signed request was refused (HTTP $code)"
    fi
    echo "rgw.sh: gateway ready at $endpoint in $((SECONDS - t0)) s" >&2
    echo "$endpoint"
}

# A process counts as alive while it exists and is not a zombie (the daemons
# are not our children, so whether their zombie is reaped is not up to us).
alive_pid() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
    [ "$st" != Z ]
}

# The pids of the processes that run on DIR's configuration.
daemons_of() {
    local dir=$1 f p
    for f in /proc/[0-9]*/cmdline; do
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "-c $dir/ceph.conf " || continue
        p=${f#/proc/}
        echo "${p%/cmdline}"
    done
}

cmd_stop() {
    local dir=$1 p f n alive pids
    [ -e "$dir/pids" ] || return 0
    dir=$(cd "$dir" && pwd)
    # Every process that runs on this directory's configuration: the recorded
    # ones and any daemon of a start interrupted before it was recorded. A pid
    # is never killed on the strength of the pids file alone (it may be stale,
    # and its number reused by now).
    pids=$(daemons_of "$dir")
    # Killed outright: the store is in memory and nothing in it is wanted again
    # (a clean stop would only make memstore write every object to disk).
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    n=100
    while [ "$n" -gt 0 ]; do
        alive=0
        for p in $pids; do alive_pid "$p" && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
        n=$((n - 1))
    done
    [ "$alive" = 0 ] || echo "rgw.sh: processes" $pids "still alive after SIGKILL" >&2
    rm -f "$dir/pids"
    rm -rf "$dir/osd" "$dir/mon"
}

# A subuser of the test user whose keys may only read (GET, HEAD, list):
# the credentials a hospital gives a recovery machine.
cmd_reader() {
    local dir=$1 key secret
    dir=$(cd "$dir" && pwd)
    key=$(python3 -c 'import secrets, string
print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)))')
    secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30)[:40])')
    radosgw-admin -c "$dir/ceph.conf" subuser create --uid=bkp-test --subuser=bkp-test:reader \
                  --access=read --key-type=s3 --access-key="$key" --secret-key="$secret" \
                  >"$dir/log/subuser-create.log" 2>&1 \
        || { log_tail "$dir/log/subuser-create.log"; die "radosgw-admin subuser create failed"; }
    (
        umask 077
        printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
               "$key" "$secret" >"$dir/credentials-read"
    )
}

cmd_mkbucket() {
    local dir=$1 name=$2 lock=1 code
    if [ "${3:-}" = --no-lock ]; then lock=0; fi
    local hdr=()
    [ "$lock" = 1 ] && hdr=(-H 'x-amz-bucket-object-lock-enabled: true')
    code=$(s3_curl "$dir" "/$name" -o "$dir/log/mkbucket.xml" -w '%{http_code}' -X PUT "${hdr[@]}" || true)
    if [ "$code" != 200 ]; then
        log_tail "$dir/log/mkbucket.xml"
        die "creating bucket $name failed (HTTP $code)"
    fi
}

[ $# -ge 2 ] || usage
case $1 in
    start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
    stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
    mkbucket)
        case $#:${4:-} in 3:|4:--no-lock) ;; *) usage ;; esac
        cmd_mkbucket "$2" "$3" "${4:-}" ;;
    s3) dir=$2; shift 2; s3_curl "$dir" "$@" ;;
    reader) [ $# -eq 2 ] || usage; cmd_reader "$2" ;;
    *) usage ;;
esac
