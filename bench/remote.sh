#!/usr/bin/env bash
# bench/remote.sh — a database dump on another server, over SSH: bkp pulls it
# through the source's agent (a stream data set with host:), restic pushes it
# from the source over SFTP (`restic backup --stdin`, repository sftp:) and
# borg over SSH (`borg create -`, repository ssh://, borg serve at the other
# end); the hospital set's pg_dump-like SQL text (gen-data), the first day
# and the next (about 1 % changed). The two "servers" are this machine: an
# sshd of the bench's own on 127.0.0.1, so the link costs encryption and
# copies, not a network's bandwidth or latency.
#
#   bench/remote.sh [--size SIZE] [--rounds N] [--work DIR] [--bkp PATH]
#
# Each step waits 10 s and reads its input once (BENCHMARKING.md), then is
# timed as a whole by /usr/bin/time on the side that starts it
# (wall, user+system, peak RSS): bkp on the backup server (its agent, cat
# and sshd on the source are not in its CPU), restic and borg on the source
# (sshd and borg serve on the backup server are not in theirs). Compare the
# wall times. Needs restic, borg, sshd (openssh-server) and /usr/bin/time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/days.sh
. "$top/bench/days.sh"
# shellcheck source=bench/source.sh
. "$top/bench/source.sh"
SIZE=1536M
ROUNDS=3
WORK=/var/tmp/bkp-bench-remote
BKP=$top/build/bkp
while [ $# -gt 0 ]; do
    case $1 in
    --size) SIZE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --bkp) BKP=$2; shift 2 ;;
    *) echo "usage: bench/remote.sh [--size SIZE] [--rounds N] [--work DIR] [--bkp PATH]" >&2; exit 2 ;;
    esac
done
BKP=$(readlink -f "$BKP")
for t in restic borg /usr/bin/time /usr/sbin/sshd ssh-keygen "$BKP"; do
    command -v "$t" >/dev/null || { echo "bench/remote.sh: $t is missing" >&2; exit 1; }
done
mkdir -p "$WORK"
chmod 755 "$WORK"
cc -O2 -o "$WORK/gen-data" "$top/bench/gen-data.c"
"$WORK/gen-data" generate --size "$SIZE" "$WORK/data" >/dev/null
cp "$WORK/data/db/hospital_dump.sql" "$WORK/day1.sql"
"$WORK/gen-data" mutate --size "$SIZE" "$WORK/data" >/dev/null
cp "$WORK/data/db/hospital_dump.sql" "$WORK/day2.sql"
export BKP_PASSPHRASE_FILE=$WORK/passphrase RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
printf 'bench passphrase\n' >"$WORK/passphrase"
chmod 600 "$WORK/passphrase"

printf 'commands:\n  day1: "cat %s/day1.sql"\n  day2: "cat %s/day2.sql"\n' "$WORK" "$WORK" >"$WORK/agent.yaml"
start_source

prep() { # DAY: the same idle for every tool (freed memory), then the input warm
    sleep 10
    cat "$WORK/$1.sql" >/dev/null
}
run_tool() { # TOOL
    local r=$WORK/repo-$1 d
    rm -rf "$r"
    case $1 in
    bkp)
        "$BKP" init --repo "$r" >/dev/null
        for d in day1 day2; do
            cat >"$WORK/policy.yaml" <<YAML
repository: $r
passphrase_file: $WORK/passphrase
$(source_host)
datasets:
  - name: db
    host: source
    stream: { command: $d, name: emr.sql }
YAML
            chmod 600 "$WORK/policy.yaml"
            prep "$d"
            timed "bkp $d" "$BKP" backup db --policy "$WORK/policy.yaml"
        done ;;
    restic)
        restic init -q -r "sftp:root@127.0.0.1:$r" -o sftp.command="$SSH_PUSH root@127.0.0.1 -s sftp"
        for d in day1 day2; do
            prep "$d"
            timed "restic $d" sh -c "cat '$WORK/$d.sql' | restic -q -r 'sftp:root@127.0.0.1:$r' -o sftp.command='$SSH_PUSH root@127.0.0.1 -s sftp' backup --stdin --stdin-filename emr.sql"
        done ;;
    borg)
        export BORG_RSH="$SSH_PUSH"
        borg init -e repokey "ssh://root@127.0.0.1:$PORT$r" >/dev/null 2>&1
        for d in day1 day2; do
            prep "$d"
            timed "borg $d" sh -c "cat '$WORK/$d.sql' | borg create --compression lz4 'ssh://root@127.0.0.1:$PORT$r::$d' -"
        done ;;
    esac
    repo_size "$1" "$r"
}
days_run
