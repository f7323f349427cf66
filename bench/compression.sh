#!/usr/bin/env bash
# bench/compression.sh — bkp alone, one tree, each compression: the packs'
# size after a first backup into an empty repository, and that backup's and
# a restore's wall time (medians of ROUNDS; each step after `sync` and 2 s
# idle, the tree read once first). A first look at what zstd buys; the
# comparison with restic and borg in the same run is bench/run.sh's. Last,
# "lz4 → recompress": an LZ4 repository of the tree rewritten by `bkp prune
# --recompress`, its wall time and the packs' size after.
#
#   bench/compression.sh DIR [--rounds N] [--no-restore] [--bkp PATH] [--work DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BKP=$top/build/bkp
WORK=/var/tmp/bkp-bench-compression
ROUNDS=3
RESTORE=1
DATA=${1:?usage: bench/compression.sh DIR [--rounds N] [--no-restore] [--bkp PATH] [--work DIR]}
shift
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --no-restore) RESTORE=0; shift ;;
    --bkp) BKP=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    *) echo "bench/compression.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
export BKP_PASSPHRASE_FILE=$WORK/passphrase
mkdir -p "$WORK"
printf 'bench passphrase\n' >"$WORK/passphrase"
chmod 600 "$WORK/passphrase"
now() { date +%s.%N; }
med() { printf '%s\n' "$@" | sort -n | sed -n "$(($# / 2 + 1))p"; }
echo "# $DATA: $(find "$DATA" -type f | wc -l) files, $(du -sb "$DATA" | cut -f1) bytes"
find "$DATA" -type f -print0 | xargs -0 cat >/dev/null
for comp in lz4 zstd:1 zstd:3 zstd:9 auto none; do
    bt=() rt=() size=0
    for ((i = 0; i < ROUNDS; i++)); do
        rm -rf "$WORK/repo" "$WORK/out"
        "$BKP" init --repo "$WORK/repo" >/dev/null
        sync; sleep 2
        t0=$(now); "$BKP" backup --repo "$WORK/repo" --dataset d "$DATA" --compression "$comp" >/dev/null; t1=$(now)
        bt+=("$(echo "$t1 - $t0" | bc)")
        size=$(du -sb "$WORK/repo/packs" | cut -f1)
        if [ "$RESTORE" = 1 ]; then
            sync; sleep 2
            t0=$(now); "$BKP" restore --repo "$WORK/repo" d:latest "$WORK/out" >/dev/null; t1=$(now)
            rt+=("$(echo "$t1 - $t0" | bc)")
        fi
    done
    printf '%-8s packs %7.1f MB  backup %6.2f s' "$comp" "$(echo "$size / 1000000" | bc -l)" "$(med "${bt[@]}")"
    [ "$RESTORE" = 1 ] && printf '  restore %6.2f s' "$(med "${rt[@]}")"
    printf '\n'
done
pt=() size=0
for ((i = 0; i < ROUNDS; i++)); do
    rm -rf "$WORK/repo" "$WORK/out"
    "$BKP" init --repo "$WORK/repo" >/dev/null
    "$BKP" backup --repo "$WORK/repo" --dataset d "$DATA" --compression lz4 >/dev/null
    sync; sleep 2
    t0=$(now); "$BKP" prune --repo "$WORK/repo" --recompress >/dev/null; t1=$(now)
    pt+=("$(echo "$t1 - $t0" | bc)")
    size=$(du -sb "$WORK/repo/packs" | cut -f1)
done
printf 'lz4 → recompress  packs %7.1f MB  prune --recompress %6.2f s\n' "$(echo "$size / 1000000" | bc -l)" "$(med "${pt[@]}")"
rm -rf "$WORK/repo" "$WORK/out"
