#!/usr/bin/env bash
# bench/remote-tree.sh — a tree of files on another server, over SSH: bkp
# pulls it through the source's agent (a data set of paths with host:),
# restic pushes it from the source over SFTP (repository sftp:) and borg
# over SSH (repository ssh://, borg serve at the other end). Three steps
# per tool: the first backup, the next with nothing changed, and one after
# about 1 % of the bytes changed (gen-data mutate). bkp-local, when asked
# for, backs the same tree up as a data set of this server's own (no host:),
# to set the backup server's cost of a pull beside a local backup's. The
# two "servers" are
# this machine: an sshd of the bench's own on 127.0.0.1, so the link costs
# encryption and copies, not a network's bandwidth or latency.
#
#   bench/remote-tree.sh [--profile hospital|smallfiles|million] [--size SIZE]
#                        [--files N] [--rounds N] [--work DIR] [--bkp PATH]
#                        [--tools LIST]   (bkp,bkp-local,restic,borg; default
#                                          bkp,restic,borg)
#
# Each step waits 10 s and reads the tree once first (BENCHMARKING.md), then
# is timed as a whole by /usr/bin/time on the side that starts it: bkp on the
# backup server (its agent and sshd on the source are not in its CPU),
# restic and borg on the source. Compare the wall times. bkp's bytes that
# crossed (its --json bytes_from_source: metadata, and the changed files'
# bytes) are listed per step. Needs restic, borg, sshd and /usr/bin/time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/days.sh
. "$top/bench/days.sh"
# shellcheck source=bench/source.sh
. "$top/bench/source.sh"
PROFILE=hospital
SIZE=1G
FILES=
ROUNDS=3
WORK=/var/tmp/bkp-bench-remote-tree
BKP=$top/build/bkp
TOOLS="bkp restic borg"
while [ $# -gt 0 ]; do
    case $1 in
    --profile) PROFILE=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --bkp) BKP=$2; shift 2 ;;
    --tools) TOOLS=${2//,/ }; shift 2 ;;
    *) echo "usage: bench/remote-tree.sh [--profile P] [--size SIZE] [--files N] [--rounds N] [--work DIR] [--bkp PATH] [--tools LIST]" >&2; exit 2 ;;
    esac
done
BKP=$(readlink -f "$BKP")
for t in restic borg /usr/bin/time /usr/sbin/sshd ssh-keygen "$BKP"; do
    command -v "$t" >/dev/null || { echo "bench/remote-tree.sh: $t is missing" >&2; exit 1; }
done
mkdir -p "$WORK"
chmod 755 "$WORK"
cc -O2 -o "$WORK/gen-data" "$top/bench/gen-data.c"
OPTS=(--profile "$PROFILE" --size "$SIZE")
[ -n "$FILES" ] && OPTS+=(--files "$FILES")
gen() { "$WORK/gen-data" "$1" "${OPTS[@]}" "$DATA" >/dev/null; }
DATA=$WORK/data
export BKP_PASSPHRASE_FILE=$WORK/passphrase RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
printf 'bench passphrase\n' >"$WORK/passphrase"
chmod 600 "$WORK/passphrase"

printf 'read: [%s]\n' "$DATA" >"$WORK/agent.yaml"
start_source

DAYS="initial nochange mutated"
# STEP: the tree as the step wants it, the same idle for every tool, then
# the tree's files read once (warm on the source, as for every tool).
prep() {
    case $1 in
    initial) gen sync ;;
    mutated) gen mutate ;;
    esac
    sleep 10
    find "$DATA" -type f -print0 | xargs -0 cat >/dev/null
}
run_tool() { # TOOL
    local r=$WORK/repo-$1 d
    rm -rf "$r"
    case $1 in
    bkp | bkp-local)
        "$BKP" init --repo "$r" >/dev/null
        cat >"$WORK/policy.yaml" <<YAML
repository: $r
passphrase_file: $WORK/passphrase
$(source_host)
datasets:
  - name: tree
$([ "$1" = bkp ] && echo "    host: source")
    paths: [$DATA]
YAML
        chmod 600 "$WORK/policy.yaml"
        for d in $DAYS; do
            prep "$d"
            timed "$1 $d" sh -c "'$BKP' backup tree --json --policy '$WORK/policy.yaml' >'$WORK/bkp.json'"
            if [ "$1" = bkp ]; then
                echo "bkp $d crossed $(sed -n 's/.*"bytes_from_source": *\([0-9]*\).*/\1/p' "$WORK/bkp.json")" >>"$WORK/crossed"
            fi
        done ;;
    restic)
        restic init -q -r "sftp:root@127.0.0.1:$r" -o sftp.command="$SSH_PUSH root@127.0.0.1 -s sftp"
        for d in $DAYS; do
            prep "$d"
            timed "restic $d" restic -q -r "sftp:root@127.0.0.1:$r" -o sftp.command="$SSH_PUSH root@127.0.0.1 -s sftp" backup "$DATA"
        done ;;
    borg)
        export BORG_RSH="$SSH_PUSH"
        borg init -e repokey "ssh://root@127.0.0.1:$PORT$r" >/dev/null 2>&1
        for d in $DAYS; do
            prep "$d"
            timed "borg $d" borg create --compression lz4 "ssh://root@127.0.0.1:$PORT$r::$d" "$DATA"
        done ;;
    esac
    repo_size "$1" "$r"
}
: >"$WORK/crossed"
gen generate
echo "== $PROFILE: $(find "$DATA" -type f | wc -l) files, $(du -sb "$DATA" | cut -f1) bytes"
days_run
echo "== bkp: bytes that crossed from the source (medians)"
for d in $DAYS; do
    awk -v k="bkp $d" '$1" "$2 == k { v[n++] = $4 } END { if (n) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        printf "%-14s %d\n", k, v[int(n / 2)] } }' "$WORK/crossed"
done
