#!/usr/bin/env bash
# bench/stream.sh — a database dump captured from a pipe: bkp's `stream:`
# data set beside `restic backup --stdin` and `borg create -`, on the
# hospital set's pg_dump-like SQL text (gen-data), the first day and the next
# (about 1 % of the dump changed: rows edited and inserted in the middle).
#
#   bench/stream.sh [--size SIZE] [--rounds N] [--work DIR] [--bkp PATH]
#
# SIZE is the hospital set's (the dump is about a third of it; default 1536M,
# a 522 MiB dump). Each round runs the three tools in a rotated order, each
# into a new repository: day 1, then day 2; every step timed as a whole
# process by /usr/bin/time (wall, user+system, peak RSS). Prints one line a
# step and the repository's bytes after day 2, then the medians. Needs
# restic and borg (apt-get install restic borgbackup) and /usr/bin/time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/days.sh
. "$top/bench/days.sh"
SIZE=1536M
ROUNDS=3
WORK=/var/tmp/bkp-bench-stream
BKP=$top/build/bkp
while [ $# -gt 0 ]; do
    case $1 in
    --size) SIZE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --bkp) BKP=$2; shift 2 ;;
    *) echo "usage: bench/stream.sh [--size SIZE] [--rounds N] [--work DIR] [--bkp PATH]" >&2; exit 2 ;;
    esac
done
for t in restic borg /usr/bin/time "$BKP"; do
    command -v "$t" >/dev/null || { echo "bench/stream.sh: $t is missing" >&2; exit 1; }
done
mkdir -p "$WORK"
cc -O2 -o "$WORK/gen-data" "$top/bench/gen-data.c"
"$WORK/gen-data" generate --size "$SIZE" "$WORK/data" >/dev/null
cp "$WORK/data/db/hospital_dump.sql" "$WORK/day1.sql"
"$WORK/gen-data" mutate --size "$SIZE" "$WORK/data" >/dev/null
cp "$WORK/data/db/hospital_dump.sql" "$WORK/day2.sql"
export BKP_PASSPHRASE_FILE=$WORK/passphrase RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
printf 'bench passphrase\n' >"$WORK/passphrase"
chmod 600 "$WORK/passphrase"

run_tool() { # TOOL
    local r=$WORK/repo-$1 d
    rm -rf "$r"
    case $1 in
    bkp)
        "$BKP" init --repo "$r" >/dev/null
        for d in day1 day2; do
            printf 'repository: %s\npassphrase_file: %s\ndatasets:\n  - name: db\n    stream: { command: "cat %s", name: emr.sql }\n' \
                "$r" "$WORK/passphrase" "$WORK/$d.sql" >"$WORK/policy.yaml"
            chmod 600 "$WORK/policy.yaml"
            timed "bkp $d" "$BKP" backup db --policy "$WORK/policy.yaml"
        done ;;
    restic)
        restic init -q -r "$r"
        for d in day1 day2; do
            timed "restic $d" sh -c "cat '$WORK/$d.sql' | restic -q -r '$r' backup --stdin --stdin-filename emr.sql"
        done ;;
    borg)
        borg init -e repokey "$r" >/dev/null 2>&1
        for d in day1 day2; do
            timed "borg $d" sh -c "cat '$WORK/$d.sql' | borg create --compression lz4 '$r::$d' -"
        done ;;
    esac
    repo_size "$1" "$r"
}
days_run
