#!/bin/bash
# 30-crash — a backup killed with SIGKILL at any point leaves the repository
# consistent: verify --read-data is clean, every sealed generation restores exactly,
# the next backup succeeds, and no temporary file survives it.
#
# Generation 1 is ~300 MiB; before each killed backup half of the data changes, so
# each killed run has ~150 MiB of new data to write. Kill points: early (50 ms), while
# a temporary file exists, after the first new pack, after the new index segment
# (just before sealing), and at fixed fractions of a full run.
. "$(dirname "$0")/lib.sh"
need_tool diff

avail_kib=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
if [ "$avail_kib" -lt $((4 * 1024 * 1024)) ]; then
    echo "SKIP [$TEST_NAME]: needs 4 GiB free in ${TMPDIR:-/tmp}" >&2
    exit 77
fi
shopt -s nullglob

D=$WORK/data # the data set; stored as ${D#/}
REPO=$WORK/repo
SNAP1=$WORK/snap1
mkdir -p "$D/random" "$D/text"

# change_half ROUND: rewrite half of the files (which half alternates).
change_half() {
    local round=$1 i
    for i in $(seq 1 10); do
        if [ $(((i + round) % 2)) = 0 ]; then
            head -c 15M /dev/urandom >"$D/random/f$i"
            seq $((round * 7 + i * 1000000)) $((round * 7 + i * 1000000 + 2000000)) >"$D/text/t$i"
        fi
    done
}
for i in $(seq 1 10); do
    head -c 15M /dev/urandom >"$D/random/f$i"
    seq $((i * 1000000)) $((i * 1000000 + 2000000)) >"$D/text/t$i"
done
mkdir "$D/empty"
echo "a small file" >"$D/small"

now() { date +%s.%N; }
ok "$BKP" init --repo "$REPO"
t0=$(now)
ok "$BKP" backup --repo "$REPO" --dataset crash "$D"
t1=$(now)
FULL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
cp -a "$D" "$SNAP1"

# running PID: the process exists and is not a zombie (kill -0 succeeds on zombies).
running() {
    local state
    read -r _ _ state _ 2>/dev/null <"/proc/$1/stat" || return 1
    [ "$state" != Z ]
}

tmp_files() { find "$REPO" -name '.tmp-*' | sed "s|^$REPO/||"; }
count_glob() { local a=("$@"); echo "${#a[@]}"; }

# restore_equals GEN TREE WHAT: GEN restores, and diff -r finds it equal to TREE.
restore_equals() {
    local t=$WORK/restored
    rm -rf "$t"
    if check_exit 0 "$BKP" restore --repo "$REPO" "$1" "$t"; then
        diff -r --no-dereference "$2" "$t$D" >"$WORK/diff-out" 2>&1 || {
            head -n 10 "$WORK/diff-out" >&2
            flunk "$3: $1 does not restore to the same tree"
        }
    fi
    rm -rf "$t"
}

# kill_backup HOW ARG: start a backup, kill -9 it at the point HOW, then check.
ROUND=0
SEALED=1
KILLED=0
kill_backup() {
    local how=$1 arg=${2:-} pid st=0 what
    ROUND=$((ROUND + 1))
    change_half "$ROUND"
    local packs0 index0
    packs0=$(count_glob "$REPO"/packs/*/*)
    index0=$(count_glob "$REPO"/index/*)
    "$BKP" backup --repo "$REPO" --dataset crash "$D" >"$WORK/bg.out" 2>&1 &
    pid=$!
    case $how in
    delay) # ARG seconds
        sleep "$arg"
        what="after $arg s"
        ;;
    tmp) # a temporary file exists (a pack being written)
        while running "$pid"; do
            t=("$REPO"/packs/.tmp-* "$REPO"/packs/*/.tmp-*)
            [ "${#t[@]}" = 0 ] || break
        done
        what="while a temporary pack file existed"
        ;;
    pack) # the first new pack is in place
        while running "$pid" && [ "$(count_glob "$REPO"/packs/*/*)" = "$packs0" ]; do
            sleep 0.005
        done
        what="after its first new pack"
        ;;
    index) # a new index segment is in place: just before the generation is sealed
        while running "$pid" && [ "$(count_glob "$REPO"/index/*)" = "$index0" ]; do
            :
        done
        what="after its index segment"
        ;;
    esac
    kill -9 "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || st=$? # (no "Killed" job notice)
    if [ "$st" = 0 ]; then
        # It finished first: still a valid crash-free run; the checks below hold.
        note "round $ROUND ($what): the backup finished before the kill"
    elif [ "$st" = 137 ]; then
        KILLED=$((KILLED + 1))
    else
        cat "$WORK/bg.out" >&2
        flunk "round $ROUND: the backup exited $st before it was killed ($what)"
    fi
    what="round $ROUND, backup killed $what"
    note "$what; left: $(tmp_files | wc -l) temporary file(s)"

    # The repository is consistent as it is, before any clean-up.
    # (A kill may land just after the seal: then there is one more generation.)
    check_exit 0 "$BKP" verify --repo "$REPO" --read-data || echo "  (in $what)" >&2
    check_exit 0 "$BKP" generations --repo "$REPO" --json || true
    if grep -q '"status": *"damaged"' <<<"$OUT"; then
        flunk "$what: generations lists a damaged generation"
    fi
    n=$(printf '%s\n' "$OUT" | grep -c '"seq":' || true)
    if [ "$n" = "$SEALED" ] || [ "$n" = $((SEALED + 1)) ]; then
        SEALED=$n
    else
        flunk "$what: generations lists $n generations, expected $SEALED or $((SEALED + 1))"
    fi
    restore_equals crash:1 "$SNAP1" "$what"

    # The next backup succeeds, leaves no temporary file, and restores exactly.
    if check_exit 0 "$BKP" backup --repo "$REPO" --dataset crash "$D"; then
        SEALED=$((SEALED + 1))
    else
        echo "  (the next backup, in $what)" >&2
    fi
    left=$(tmp_files)
    [ -z "$left" ] || flunk "$what: temporary files survive the next backup: $left"
    locks=$(find "$REPO/locks" -mindepth 1 2>/dev/null | sed "s|^$REPO/||")
    [ -z "$locks" ] || flunk "$what: lock files survive the next backup: $locks"
    restore_equals crash:latest "$D" "$what, then backed up again"
}

kill_backup delay 0.05
kill_backup tmp
kill_backup pack
kill_backup index
for frac in 0.1 0.25 0.4; do
    kill_backup delay "$(awk -v f="$FULL" -v x="$frac" 'BEGIN { printf "%.3f", f * x }')"
done

check_exit 0 "$BKP" verify --repo "$REPO" --read-data || true
# Guard against a test that kills nothing (every backup finished before its kill).
[ "$KILLED" -ge 3 ] || flunk "only $KILLED of $ROUND backups were killed before they finished"
finish
