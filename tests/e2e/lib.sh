# shellcheck shell=bash
# Helpers for the end-to-end scenarios; sourced by tests/e2e/NN-*.sh.
#
# Environment (set by ctest, see tests/CMakeLists.txt):
#   BKP             path to the bkp binary (required)
#   BKP_SOURCE_DIR  repository root (optional)
#   BKP_E2E_KEEP    if non-empty, keep the work directory and print its path
#
# Provides:
#   WORK                    a fresh temporary directory, removed on exit
#   PASSFILE                a mode-0600 passphrase file; BKP_PASSPHRASE_FILE points at it
#   fail MSG...             print "FAIL: MSG" and exit 1
#   flunk MSG...            print "FAIL: MSG", carry on, and make `finish` exit 1
#   finish                  exit 0, or 1 if anything flunked
#   expect_exit N CMD...    run CMD, demand exit status N; its output is left in
#                           $OUT / $ERR (and the files $WORK/.out, $WORK/.err)
#   check_exit N CMD...     the same, but on mismatch flunk and return 1 (so use it
#                           in `if` or with `|| true` to carry on)
#   output_has STR [WHY]    flunk unless $OUT or $ERR contains STR
#   ok CMD...               expect_exit 0 CMD...
#   need_root / need_tool / need_test_clock
#                           exit 77 (skipped) when the requirement is not met
#   mtree_of DIR            sorted bsdtar mtree listing of DIR, relative to DIR
#   same_mtree A B WHAT [EXCLUDE-ERE [SED]]  flunk unless both trees list the same
#   repo_digest DIR         sha256 of every file under DIR (detects any write)
#   json_num KEY            first numeric value of "KEY" in $OUT (pretty-printed JSON)
#   start_rgw               start the test object store (tests/support/rgw.sh) in
#                           $RGW_DIR, or skip; sets $RGW_ENDPOINT; stopped on exit

set -euo pipefail
export LC_ALL=C
# English asked for: a policy's `language` is then not taken up by a
# command run without a terminal (as the tests' are; cron's are too).
export LANGUAGE=en

if [ -z "${BKP:-}" ] || [ ! -x "$BKP" ]; then
    echo "SKIP: \$BKP must point at the bkp binary (got '${BKP:-}')" >&2
    exit 77
fi
BKP=$(readlink -f "$BKP")
export BKP

# Sanitizer builds: report leaks as failures, but keep the output readable.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bkp-e2e-$TEST_NAME.XXXXXX")
chmod 755 "$WORK"

# at_exit CMD: run CMD (a shell string) when the test ends, however it ends,
# before the work folder goes (unmount what it mounted, stop a server); the
# test's exit status is kept whatever CMD returns.
_AT_EXIT=()
at_exit() { _AT_EXIT+=("$1"); }

_cleanup() {
    local rc=$?
    local hook
    for hook in "${_AT_EXIT[@]}"; do
        eval "$hook" || true
    done
    # Kill any background job we started and that is still around.
    local p
    for p in $(jobs -p 2>/dev/null); do
        kill -9 "$p" 2>/dev/null || true
    done
    if [ -n "${PG_STARTED:-}" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" stop -m immediate -w >/dev/null 2>&1 || true
    fi
    if [ -e "$WORK/.loops" ]; then # loop devices a test attached (attach_loop)
        while read -r p; do losetup -d "$p" 2>/dev/null || true; done <"$WORK/.loops"
    fi
    for p in "$WORK"/sshd-*/pid; do
        [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    if [ -n "${RGW_DIR:-}" ] && [ -e "$RGW_DIR/pids" ]; then
        bash "$RGW_SH" stop "$RGW_DIR" >/dev/null 2>&1 || true
    fi
    if [ -n "${BKP_E2E_KEEP:-}" ]; then
        echo "work directory kept: $WORK" >&2
    else
        # Test trees contain mode-000 files and read-only objects.
        chmod -R u+rwX "$WORK" 2>/dev/null || true
        rm -rf "$WORK" 2>/dev/null || true
        if [ -e "$WORK" ] && command -v chattr >/dev/null 2>&1; then
            chattr -R -i "$WORK" 2>/dev/null || true
            rm -rf "$WORK" || true
        fi
    fi
    exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

PASSFILE="$WORK/passphrase"
printf '%s\n' 'correct horse battery staple 42' >"$PASSFILE"
chmod 600 "$PASSFILE"
export BKP_PASSPHRASE_FILE="$PASSFILE"
unset BKP_PASSPHRASE_COMMAND BKP_REPO BKP_POLICY || true

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

FLUNKED=0
flunk() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    FLUNKED=$((FLUNKED + 1))
}

finish() {
    if [ "$FLUNKED" != 0 ]; then
        echo "FAIL [$TEST_NAME]: $FLUNKED check(s) failed" >&2
        exit 1
    fi
    exit 0
}

note() {
    if [ -n "${BKP_E2E_VERBOSE:-}" ]; then
        echo "[$TEST_NAME] $*" >&2
    fi
}

# answering ANSWERS CMD... — run CMD on a pseudo-terminal of its own (script(1)),
# as a person at a terminal: the questions it asks on /dev/tty are answered
# by the lines of ANSWERS (printf's format, "y\ny\n"). Its output (stdout
# and stderr, both on the terminal) comes on stdout without the terminal's
# carriage returns; its exit status is CMD's. For check_exit and ok.
# script(1) runs CMD with $SHELL, /bin/sh when unset (as under CI): the
# quoting of printf %q ($'...' for bytes outside the locale) is bash's.
answering() {
    local answers=$1 rc=0
    shift
    # shellcheck disable=SC2059
    printf "$answers" | SHELL=$BASH script -qefc "$(printf '%q ' "$@")" /dev/null >"$WORK/.tty" 2>&1 || rc=$?
    tr -d '\r' <"$WORK/.tty"
    return $rc
}

# check_exit N CMD... — run CMD with errexit off, capture its output in $OUT/$ERR;
# on a different exit status, report it and return 1 (the caller may carry on).
OUT=
ERR=
RC=0
check_exit() {
    local want=$1
    shift
    RC=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
    if [ "$RC" != "$want" ]; then
        {
            echo "FAIL [$TEST_NAME]: expected exit $want, got $RC from:"
            printf ' %q' "$@" | shorten
            echo
            echo "--- stdout (first 40 lines)"
            head -n 40 "$WORK/.out" | shorten
            echo "--- stderr (first 40 lines)"
            head -n 40 "$WORK/.err" | shorten
        } >&2
        FLUNKED=$((FLUNKED + 1))
        return 1
    fi
}

# run_any CMD... — the same capture, whatever its exit status (left in $RC):
# for a command whose output is checked, not its verdict.
run_any() {
    RC=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
}

# expect_exit N CMD... — the same, but a different exit status ends the test.
expect_exit() {
    check_exit "$@" || exit 1
}

ok() {
    expect_exit 0 "$@"
}

# output_has STRING [WHY]: flunk unless $OUT or $ERR contains STRING.
output_has() {
    local what=$1 msg=${2:-}
    # A here-string, not a pipe: grep -q stops at the first match, and the
    # writer's SIGPIPE would then fail the pipeline under pipefail.
    if ! grep -qF -- "$what" <<<"$OUT"$'\n'"$ERR"; then
        {
            echo "FAIL [$TEST_NAME]: output does not mention '$what'${msg:+ ($msg)}"
            echo "--- stdout (first 40 lines)"
            printf '%s\n' "$OUT" | head -n 40 | shorten
            echo "--- stderr (first 40 lines)"
            printf '%s\n' "$ERR" | head -n 40 | shorten
        } >&2
        FLUNKED=$((FLUNKED + 1))
    fi
    return 0
}

# output_lacks STRING [WHY]: flunk when $OUT or $ERR contains STRING.
output_lacks() {
    local what=$1 msg=${2:-}
    if grep -qF -- "$what" <<<"$OUT"$'\n'"$ERR"; then
        {
            echo "FAIL [$TEST_NAME]: output mentions '$what'${msg:+ ($msg)}"
            echo "--- stdout (first 40 lines)"
            printf '%s\n' "$OUT" | head -n 40 | shorten
        } >&2
        FLUNKED=$((FLUNKED + 1))
    fi
    return 0
}

need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP [$TEST_NAME]: needs root" >&2
        exit 77
    fi
}

# The scenarios that rehearse weeks with $BKP_NOW need a test build's clock
# (cmake -DBKP_TEST_CLOCK=ON); a release build ignores the variable.
need_test_clock() {
    if ! "$BKP" --version | grep -q 'test clock'; then
        echo "SKIP [$TEST_NAME]: needs a build with -DBKP_TEST_CLOCK=ON" >&2
        exit 77
    fi
}

need_tool() {
    local t
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "SKIP [$TEST_NAME]: needs '$t' (apt-get install libarchive-tools attr acl diffutils util-linux)" >&2
            exit 77
        fi
    done
}

# Sorted mtree listing of DIR, paths relative to DIR. Atime is left out.
MTREE_KEYS='!all,type,mode,uid,gid,size,time,link,sha256,nlink'
mtree_of() {
    (cd "$1" && bsdtar -cf - --format=mtree --options="$MTREE_KEYS" .) | grep -v '^#' | sort
}

# Shorten long path components for messages (a 4 KiB path helps nobody).
# Components of 100+ bytes become "dddddddddddd...", and a repeated component "/X{x40}".
shorten() {
    perl -pe 's{([^/ \n]{12})[^/ \n]{88,}}{$1...}g;
              s{(/[^/ \n]+)((?:\1)+)}{$1 . "{x" . (1 + length($2) / length($1)) . "}"}ge' | cut -c1-400
}

# same_mtree A B WHAT [EXCLUDE-ERE [SED-EXPR]]: compare the mtree listings of two trees,
# leaving out lines that match EXCLUDE-ERE and editing lines with SED-EXPR; print a
# short diff and flunk on difference.
same_mtree() {
    local a=$1 b=$2 what=$3 ex=${4:-^\$} ed=${5:-}
    mtree_of "$a" | grep -Ev -- "$ex" | sed -e "$ed" >"$WORK/.mtree-a" || true
    mtree_of "$b" | grep -Ev -- "$ex" | sed -e "$ed" >"$WORK/.mtree-b" || true
    [ -s "$WORK/.mtree-a" ] || fail "$what: empty mtree listing of $a"
    if ! diff "$WORK/.mtree-a" "$WORK/.mtree-b" >"$WORK/.mtree-diff"; then
        {
            echo "FAIL [$TEST_NAME]: $what: mtree listings differ (< original, > restored):"
            shorten <"$WORK/.mtree-diff" | head -n 40
        } >&2
        FLUNKED=$((FLUNKED + 1))
    fi
    return 0
}

# sha256 of every file under DIR, with names: changes if anything is written.
# keys/used (when each key slot last opened the repository to write) is a
# note for `bkp key list`, not content: it is left out.
repo_digest() {
    (cd "$1" && find . -type f ! -path ./keys/used -print0 | sort -z | xargs -0r sha256sum
        find . ! -path ./keys/used -print0 | sort -z | tr '\0' '\n')
}

# json_num KEY — the first `"KEY": NUMBER` in $OUT. bkp prints --json output with
# one key per line, so this needs neither jq nor python.
json_num() {
    printf '%s\n' "$OUT" | sed -n 's/^ *"'"$1"'": *\([0-9][0-9]*\).*/\1/p' | head -n 1
}

# The pack files of a repository, one path per line.
# flip_byte FILE OFFSET: invert every bit of one byte in place (writing 0xff
# would change nothing where the byte is 0xff already: one run in 256).
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n')
    [ -n "$b" ] || fail "flip_byte: $1 has no byte at offset $2"
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

packs_of() {
    find "$1/packs" -type f ! -name '.tmp-*' | sort
}

# start_rgw — a single-node Ceph RADOS Gateway on loopback for this scenario
# (tests/support/rgw.sh), in $RGW_DIR: credentials in $RGW_DIR/credentials,
# logs in $RGW_DIR/log. Skips (77) when Ceph is not installed; stopped on exit,
# and by its watchdog should this shell be killed.
RGW_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)/rgw.sh"
start_rgw() {
    RGW_DIR="$WORK/rgw"
    local rc=0
    RGW_ENDPOINT=$(RGW_WATCH_PID=$$ bash "$RGW_SH" start "$RGW_DIR") || rc=$?
    if [ "$rc" = 77 ]; then
        echo "SKIP [$TEST_NAME]: needs Ceph (apt-get install ceph-mon ceph-osd radosgw ceph-common ceph-base)" >&2
        exit 77
    fi
    [ "$rc" = 0 ] || fail "the test object store did not start (logs above)"
}

# start_postgres: a PostgreSQL 15 server of the test's own (trust auth, a
# socket in $WORK/pg/sock only, fsync off), stopped when the test ends. Sets
# PGBIN, PGDATA, CONN (the psql/pg_dump options that reach it) and defines
# as_pg (run as postgres) and sql DB QUERY (one value, unaligned). Skips
# (77) without PostgreSQL 15 or a postgres user.
start_postgres() {
    PGBIN=/usr/lib/postgresql/15/bin
    local t
    for t in initdb pg_ctl pg_dump pg_restore psql createdb dropdb; do
        if [ ! -x "$PGBIN/$t" ]; then
            echo "SKIP [$TEST_NAME]: PostgreSQL 15 is not installed ($PGBIN/$t missing; apt-get install postgresql)" >&2
            exit 77
        fi
    done
    id postgres >/dev/null 2>&1 || { echo "SKIP [$TEST_NAME]: no 'postgres' system user" >&2; exit 77; }
    need_tool runuser
    PG=$WORK/pg
    PGDATA=$PG/data
    local sock=$PG/sock port=$((54329 + RANDOM % 1000))
    mkdir -p "$sock"
    chown -R postgres: "$PG"
    chmod 755 "$PG" # root reaches the socket; postgres owns the folder
    as_pg "$PGBIN/initdb" -D "$PGDATA" --auth=trust -U postgres -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 ||
        fail "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
    PG_STARTED=1
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG/server.log" -w -t 30 \
        -o "-k $sock -p $port -c listen_addresses='' -c fsync=off" start >"$WORK/pg_ctl.log" 2>&1 ||
        fail "pg_ctl start failed: $(tail -n 5 "$WORK/pg_ctl.log") $(tail -n 5 "$PG/server.log" 2>/dev/null)"
    CONN="-h $sock -p $port -U postgres"
}
as_pg() { (cd "$PG" && runuser -u postgres -- "$@"); }
sql() {
    # shellcheck disable=SC2086
    "$PGBIN/psql" -X $CONN -d "$1" -v ON_ERROR_STOP=1 -tAc "$2"
}

# attach_loop FILE [--read-only]: FILE as a loop block device, detached when
# the test ends; prints the device. Skips (77) where loop devices cannot be
# made (a container without them).
attach_loop() {
    local dev
    need_tool losetup
    dev=$(losetup -f --show "$@" 2>"$WORK/.losetup") || {
        echo "SKIP [$TEST_NAME]: no loop device: $(cat "$WORK/.losetup")" >&2
        exit 77
    }
    echo "$dev" >>"$WORK/.loops"
    echo "$dev"
}

# start_sshd NAME ADDRESS: an sshd of the test's own on ADDRESS (a loopback
# address) and a free port, with its own host key and config, whose
# authorized_keys is $WORK/sshd-NAME/authorized_keys for every user (root
# too, with a key only; the test writes the forced command there). PAM, as
# Debian's sshd has it: a system user with no password may log in by key. Sets SSHD_PORT and
# SSHD_KEY (the host key's public line, "TYPE BASE64"). Stopped when the
# test ends. Skips (77) without sshd.
start_sshd() {
    local name=$1 address=$2 dir="$WORK/sshd-$1" try
    [ -x /usr/sbin/sshd ] || { echo "SKIP [$TEST_NAME]: no sshd (apt-get install openssh-server)" >&2; exit 77; }
    mkdir -p "$dir" /run/sshd
    chmod 755 /run/sshd
    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/host_key" || fail "ssh-keygen failed"
    : >"$dir/authorized_keys"
    for try in 1 2 3 4 5; do
        SSHD_PORT=$((20000 + RANDOM % 20000))
        cat >"$dir/sshd_config" <<CONF
ListenAddress $address:$SSHD_PORT
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/pid
StrictModes no
UsePAM yes
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding no
X11Forwarding no
LogLevel VERBOSE
CONF
        rm -f "$dir/pid"
        /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/log" && {
            for _ in $(seq 50); do [ -s "$dir/pid" ] && break; sleep 0.1; done
            [ -s "$dir/pid" ] && break
        }
    done
    [ -s "$dir/pid" ] || fail "sshd $name did not start: $(tail -n 5 "$dir/log")"
    SSHD_KEY=$(cut -d' ' -f1,2 "$dir/host_key.pub")
}

# object_medium NAME BUCKET [MODE] [DAYS]: the policy lines (a list item under
# `media:`) of an object medium in BUCKET of the gateway start_rgw started.
object_medium() {
    cat <<YAML
  - name: $1
    type: object
    endpoint: $(cat "$RGW_DIR/endpoint")
    bucket: $2
    region: $(cat "$RGW_DIR/region")
    credentials_file: $RGW_DIR/credentials
    location: offsite
    lock: { mode: ${3:-compliance}, days: ${4:-1} }
YAML
}

# bucket_repo [RULE] [MODE] [BUCKET] [KEEP]: a repository $WORK/repo whose
# data set emr ($DATA/emr, made by the caller; keep_last KEEP, default 3) is
# copied to the object medium cloud (BUCKET, default hosp-bkp, of the gateway
# start_rgw started, lock MODE, default compliance); the policy
# $WORK/policy.yaml (rule_321 RULE) is exported as BKP_POLICY; the repository
# is made and the bucket labelled.
bucket_repo() {
    REPO=$WORK/repo
    cat >"$WORK/policy.yaml" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: ${1:-"{ copies: 2, media_types: 1, offline: 0, offsite: 0 }"}
media:
$(object_medium cloud "${3:-hosp-bkp}" "${2:-compliance}" 1)
datasets:
  - name: emr
    paths: [$DATA/emr]
    retention: { keep_last: ${4:-3} }
    copy_to: [cloud]
YAML
    unset BKP_PASSPHRASE_FILE
    export BKP_POLICY=$WORK/policy.yaml
    ok "$BKP" init
    ok "$BKP" media label --name cloud
}

# start_bucket BUCKET [--no-lock]...: start_rgw, then make each BUCKET (with
# Object Lock unless followed by --no-lock); sets GW and RGW, and s3 PATH
# CURL-ARGS sends one signed request to the gateway.
start_bucket() {
    start_rgw
    GW=$RGW_DIR
    RGW=$RGW_SH
    while [ $# -gt 0 ]; do
        if [ "${2:-}" = --no-lock ]; then
            ok bash "$RGW" mkbucket "$GW" "$1" --no-lock
            shift 2
        else
            ok bash "$RGW" mkbucket "$GW" "$1"
            shift
        fi
    done
    export BKP_S3_BACKOFF_MS=50
}
s3() { bash "$RGW_SH" s3 "$RGW_DIR" "$@"; }
# s3_put BUCKET/KEY FILE — a new version of KEY (unlocked), as anyone holding
# the bucket's credentials can put one; the test fails unless it is taken.
s3_put() {
    local code
    code=$(s3 "/$1" -X PUT -H "x-amz-content-sha256: $(sha256sum "$2" | cut -d' ' -f1)" \
           --data-binary @"$2" -o /dev/null -w '%{http_code}' || true)
    [ "$code" = 200 ] || fail "putting a version of $1: HTTP $code"
}

# bare_root ROOT — a machine that has never seen bkp, and has no C library
# at all: a static busybox as /bin/sh and the few tools a person and the
# kit's launcher use (sha256sum, find, sed, sort, env, cat, ls, tar), /dev/null
# and empty /medium, /proc, /tmp and /out: the recovery kit must bring its own
# loader and libraries. Run a kit in it with chroot inside a mount namespace.
bare_root() {
    local root=$1 t bb
    bb=$(command -v busybox) || fail "bare_root needs a static busybox (package busybox-static)"
    file -L "$bb" | grep -q 'statically linked' || fail "$bb is not statically linked (busybox-static)"
    mkdir -p "$root/bin" "$root/medium" "$root/proc" "$root/tmp" "$root/out" "$root/dev"
    chmod 1777 "$root/tmp"
    mknod -m 666 "$root/dev/null" c 1 3 || fail "bare_root: cannot make $root/dev/null"
    cp "$bb" "$root/bin/busybox"
    for t in sh sha256sum find sed sort env cat ls tar printf; do
        ln -s busybox "$root/bin/$t"
    done
}

# kit_fixture BYTES NOTES — the data set and runbook of the recovery-kit
# scenarios: $WORK/data/emr (a scan of BYTES random bytes and NOTES notes in
# notes/) and the runbook emr in runbooks/ beside the policy, whose printed
# procedure every kit carries.
kit_fixture() {
    local i
    mkdir -p "$WORK/data/emr/notes" "$WORK/runbooks"
    head -c "$1" /dev/urandom >"$WORK/data/emr/scan.pdf"
    for i in $(seq 1 "$2"); do echo "note $i: 患者 $RANDOM" >"$WORK/data/emr/notes/n$i.txt"; done
    cat >"$WORK/runbooks/emr.yaml" <<'YAML'
title: "電子カルテ 復旧手順"
datasets: [emr]
steps:
  - { who: "システム担当", select: { dataset: emr } }
  - { who: "システム担当", restore: { dataset: emr, to: /srv/restore/emr } }
YAML
}

# pty_type OUT N LINE1..LINEN CMD...: run CMD on a pseudo-terminal, typing
# each LINE when a "passphrase: " prompt waits at the end of what it showed
# (a prompt flushes what was typed ahead); what it showed into OUT; its exit
# status is returned.
# Killed after 120 s stuck at a prompt, so that the suite never hangs.
pty_type() {
    python3 - "$@" <<'PY'
import os, pty, select, signal, sys, time
out, n = sys.argv[1], int(sys.argv[2])
lines, cmd = sys.argv[3:3 + n], sys.argv[3 + n:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
seen, typed, answered = b"", 0, 0
deadline = time.time() + 120
while time.time() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    # Only at a prompt waiting for its line: a message that holds the
    # words is not one, and a line typed ahead is flushed by the prompt.
    if seen.endswith(b"passphrase: ") and len(seen) > answered and typed < len(lines):
        os.write(fd, lines[typed].encode() + b"\n")
        typed += 1
        answered = len(seen)
open(out, "wb").write(seen)
if time.time() >= deadline:
    os.kill(pid, signal.SIGKILL)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}
