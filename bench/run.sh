#!/usr/bin/env bash
# bench/run.sh — measures bkp, restic and borg side by side on the same
# data sets (profiles: a deterministic hospital-like set, many small files, a
# copy of a real system tree, a folder-heavy tree, one million small files;
# bench/profiles.sh), in one run, with the care small VMs need: interleaved
# tools with a rotated order per round, a fixed wait before each timed step,
# inputs re-read (or caches dropped) right before each timed step, no timed
# file creation within a minute of a mass delete, medians with min–max and
# ratios against bkp.
#
# Usage: bench/run.sh [options]   (bench/run.sh --help)
# shellcheck disable=SC2016  # single-quoted sh -c scripts expand $1 in the inner shell
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

ROUNDS=3
WAIT=10            # seconds before every timed step (memory given back to the host, see BENCHMARKING.md §1)
# Seconds between a mass delete and the next timed restore (§3). On ext4 without
# a journal a deleted inode is not handed out again for 60 s, or for 360 s while
# its inode table block is dirty, which a restore's own new inodes make it: each
# new file then scans past every recently deleted one (ialloc.c, recently_deleted).
SETTLE=370
WORK=/var/tmp/bkp-bench
SIZE=2G            # the hospital profile's size
FILES=""           # file count of smallfiles, folders, million, source (empty: each its default)
SEED=1
PROFILES=hospital
STEPS=""           # empty: every profile's default steps
SYSTREE_SRC="/usr/share /usr/lib"
MUTATION=1         # which gen-data mutation is applied (the same one every round)
BKP=""
COLD=0
CHECK=1            # compare every restored tree with the data set (untimed)
TOOLS="bkp,restic,borg"
BKP_KEY=machine    # how bkp's timed steps open the key: machine (key add --machine-key) or passphrase
RESTORE_SYNC=0     # 1: restic's and borg's restores end with sync -f of the target, as bkp's does

STEPS_ALL_HELP="read,initial,nochange,mutated,restore,verify"
usage() {
    cat <<EOF
usage: bench/run.sh [options]
  --profile LIST  comma-separated data sets, run one after the other (default $PROFILES):
                    hospital    generated hospital-like set of --size bytes
                    smallfiles  ~100k files of 1-8 KiB in patient/date folders
                    systree     a cp -a copy of --systree (machine-dependent)
                    folders     20k folders of one small note each
                    million     1M files of 64-600 bytes in 2,000 folders
                    source      80k source-code files (200 B-120 KiB, 1.4 GB)
                                in folders 2-7 deep
  --steps LIST    comma-separated subset of $STEPS_ALL_HELP
                  (default all; million: all but verify); initial is always run
  --files N       file count of smallfiles, folders, million and source (smoke runs)
  --systree DIRS  space-separated directories the systree profile copies
                  (default "$SYSTREE_SRC")
  --rounds N      rounds (default $ROUNDS); tool order rotates every round
  --wait S        fixed wait before each timed step, every tool (default $WAIT)
  --settle S      minimum seconds between a mass delete and a timed restore (default $SETTLE)
  --work DIR      data, repositories and restores live here (default $WORK)
  --size SIZE     hospital data set size, e.g. 2G, 200M (default $SIZE)
  --seed N        data set seed (default $SEED)
  --bkp PATH      bkp binary (default build/bkp in the repository, else bkp on PATH)
  --tools LIST    comma-separated subset of bkp,restic,borg (default $TOOLS); each may
                  name its compression after @, several of one tool in the same run:
                  bkp@lz4, bkp@zstd:3, bkp@auto (--compression), restic@max,
                  restic@auto (--compression), borg@lz4, borg@zstd.3 (borg's
                  --compression zstd,3; a dot for the comma). Without one: bkp its
                  default, restic auto, borg lz4. Ratios are against the first bkp.
  --bkp-key KIND  how bkp's timed steps open the repository: machine (a machine key,
                  as unattended runs should) or passphrase (Argon2id) (default $BKP_KEY)
  --cold          drop the page cache before each timed step instead of re-reading inputs
  --no-check      do not compare restored trees with the data set
  --restore-sync  end restic's and borg's restores with `sync -f` of the target, so
                  that every tool's restore is timed until its files are on the disk
                  (bkp's restore flushes them itself before it says "restored")
EOF
}

while (($#)); do
    case $1 in
    --profile) PROFILES=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --systree) SYSTREE_SRC=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --wait) WAIT=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --bkp) BKP=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --bkp-key) BKP_KEY=$2; shift 2 ;;
    --cold) COLD=1; shift ;;
    --no-check) CHECK=0; shift ;;
    --restore-sync) RESTORE_SYNC=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $WAIT =~ ^[0-9]+$ && $SETTLE =~ ^[0-9]+$ && $SEED =~ ^[0-9]+$ ]] ||
    { echo "run.sh: --rounds, --wait, --settle and --seed take whole numbers" >&2; exit 2; }
[[ -z $FILES || $FILES =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --files takes a whole number" >&2; exit 2; }
[[ $BKP_KEY == machine || $BKP_KEY == passphrase ]] || { echo "run.sh: --bkp-key is machine or passphrase" >&2; exit 2; }

# shellcheck source=bench/profiles.sh
source "$SCRIPT_DIR/profiles.sh"

IFS=, read -r -a PROFILE_LIST <<<"$PROFILES"
for p in "${PROFILE_LIST[@]}"; do
    [[ " $PROFILES_KNOWN " == *" $p "* ]] ||
        { echo "run.sh: unknown profile $p (choose from ${PROFILES_KNOWN// /,})" >&2; exit 2; }
done
for st in ${STEPS//,/ }; do
    [[ " $STEPS_ALL " == *" $st "* ]] || { echo "run.sh: unknown step $st (choose from $STEPS_ALL_HELP)" >&2; exit 2; }
done

# has_step STEP — whether STEP runs for the current profile.
has_step() { [[ " $RUN_STEPS " == *" $1 "* ]]; }

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- work dir

# The work dir is ours alone: a marker file proves it, and nothing outside it
# is ever deleted.
WORK=$(realpath -m -- "$WORK")
case $WORK in / | /bin* | /boot* | /dev* | /etc* | /lib* | /proc* | /sbin* | /sys* | /usr* | "$HOME")
    die "refusing to use $WORK as work dir" ;;
esac
if [[ -d $WORK && ! -e $WORK/.bkp-bench ]] && [[ -n $(ls -A "$WORK") ]]; then
    die "$WORK is not empty and was not created by this script; choose another --work"
fi
mkdir -p "$WORK"
touch "$WORK/.bkp-bench"

safe_rm() {
    local p
    for p in "$@"; do
        p=$(realpath -m -- "$p")
        [[ $p == "$WORK"/?* ]] || die "internal error: refusing to delete $p (outside $WORK)"
        rm -rf -- "$p"
    done
}

# Creating many files soon after deleting many is slow on journal-less ext4;
# remember when we last deleted a lot, and let that settle before timing.
LAST_DELETE=0
mass_delete() {
    safe_rm "$@"
    sync
    LAST_DELETE=$(date +%s)
}
settle_after_delete() {
    local left=$((LAST_DELETE + SETTLE - $(date +%s)))
    if ((left > 0)); then
        log "  waiting ${left}s after the last mass delete"
        sleep "$left"
    fi
}

# --------------------------------------------------------------- tools

# Installs a Debian package when one of its commands is missing.
need_pkg() {
    local cmd=$1 pkg=$2
    [[ -x $cmd ]] || command -v "$cmd" >/dev/null 2>&1 && return 0
    log "installing $pkg (for $cmd)"
    if [[ -z ${APT_UPDATED:-} ]]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
}
need_pkg /usr/bin/time time
need_pkg lz4 lz4
command -v cc >/dev/null || die "a C compiler (cc) is needed for bench/gen-data.c"

if [[ -z $BKP ]]; then
    if [[ -x $REPO_ROOT/build/bkp ]]; then BKP=$REPO_ROOT/build/bkp
    else BKP=$(command -v bkp || echo "$REPO_ROOT/build/bkp"); fi
elif [[ $BKP == */* ]]; then
    BKP=$(realpath -m -- "$BKP")  # a path; a bare name is looked up on PATH
fi

IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
declare -A TOOL_BIN=([bkp]=$BKP [restic]=restic [borg]=borg)
declare -A TOOL_PKG=([restic]=restic [borg]=borgbackup)
declare -A MISSING=()
REF=""   # the tool the ratios are against: the first bkp
for t in "${TOOL_LIST[@]}"; do
    b=${t%%@*}
    [[ -n ${TOOL_BIN[$b]:-} ]] || die "unknown tool $t (choose from bkp,restic,borg, each with @COMPRESSION)"
    [[ $t == *[!A-Za-z0-9@:.]* ]] && die "tool $t: letters, digits, '@', ':' and '.' only"
    if [[ $b == bkp && -z $REF ]]; then REF=$t; fi
    # The peers come from Debian (restic 0.14, borg 1.2 on Debian 12), as root.
    if [[ -n ${TOOL_PKG[$b]:-} && $(id -u) -eq 0 ]]; then
        need_pkg "${TOOL_BIN[$b]}" "${TOOL_PKG[$b]}" || log "WARNING: cannot install ${TOOL_PKG[$b]}"
    fi
    if ! command -v "${TOOL_BIN[$b]}" >/dev/null 2>&1; then
        MISSING[$t]=1
        log "WARNING: $t not found (${TOOL_BIN[$b]}): its cells will show FAIL"
    fi
done
REF=${REF:-bkp}

tool_version() {
    case ${1%%@*} in
    bkp) local v; v=$("$BKP" --version 2>/dev/null | head -n1) || true; echo "${v:-$BKP}" ;;
    restic) restic version | head -n1 ;;
    borg) borg --version ;;
    esac
}

# -------------------------------------------------------------- cleanup

CHILD=""
on_exit() {
    local rc=$?
    if [[ -n $CHILD ]]; then
        # The timed command runs in its own session: end its whole group.
        kill -TERM -- "-$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((COLD)); then
    sync
    { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null || die "--cold needs a writable /proc/sys/vm/drop_caches (root, not in a container)"
fi

# ---------------------------------------------------------------- data

GEN=$WORK/bin/gen-data
DATA=$WORK/data
PASSFILE=$WORK/passphrase

mkdir -p "$WORK/bin"
# gen-data.c includes the gen-*.h headers: rebuild when any of them changed.
stale=0
for f in "$SCRIPT_DIR"/gen-data.c "$SCRIPT_DIR"/gen-*.h; do
    [[ $f -nt $GEN ]] && stale=1
done
if [[ ! -x $GEN || $stale == 1 ]]; then
    cc -O2 -o "$GEN" "$SCRIPT_DIR/gen-data.c"
fi

if [[ ! -e $PASSFILE ]]; then
    (umask 077 && printf 'bench-passphrase-%s\n' "$(date +%s%N | sha256sum | cut -c1-24)" >"$PASSFILE")
fi
chmod 600 "$PASSFILE"

# Free space and inodes: per tool a repository and a restore of the data set.
check_space() {
    local avail iavail need ineed
    avail=$(df -B1 --output=avail "$WORK" | tail -n1)
    iavail=$(df --output=iavail "$WORK" | tail -n1)
    need=$((DATA_DISK * 2 * ${#TOOL_LIST[@]}))
    ineed=$(((DATA_FILES + DATA_DIRS + DATA_OTHER) * ${#TOOL_LIST[@]}))
    ((avail > need)) || log "WARNING: $WORK has $((avail >> 20)) MiB free, about $((need >> 20)) MiB may be needed"
    ((iavail > ineed)) || log "WARNING: $WORK has $iavail inodes free, about $ineed may be needed"
}

# ------------------------------------------------------------- results

RUN_ID=$(date +%Y%m%d-%H%M%S)
RESULTS=$SCRIPT_DIR/results
LOGDIR=$WORK/logs/$RUN_ID
mkdir -p "$RESULTS" "$LOGDIR"
CSV=$RESULTS/$RUN_ID.csv
MD=$RESULTS/$RUN_ID.md
echo "run,profile,round,position,tool,step,status,wall_s,user_s,sys_s,max_rss_kib,data_bytes,mb_per_s,repo_bytes,exit_code" >"$CSV"

# record TOOL STEP STATUS WALL USER SYS RSS BYTES REPO RC
record() {
    local mbps=""
    [[ $3 == ok ]] && mbps=$(awk -v b="$8" -v w="$4" 'BEGIN { printf "%.1f", (w > 0 ? b / w / 1e6 : 0) }')
    echo "$RUN_ID,$PROFILE,$ROUND,$POSITION,$1,$2,$3,$4,$5,$6,$7,$8,$mbps,$9,${10}" >>"$CSV"
}

# ----------------------------------------------------------- timing

# Right before a timed step: settle after deletes, wait the same fixed time for
# every tool, then either re-read the step's inputs (so "warm" is really warm)
# or drop the page cache (--cold).
before_timed() {
    # Only a restore makes many files; the backups before it in the round
    # overlap the settle time.
    if [[ ${step:-} == restore ]]; then settle_after_delete; fi
    # What the previous step left dirty in the page cache (another tool's
    # restore: 2 GiB) is written back now, not during the next tool's step.
    sync
    sleep "$WAIT"
    if ((COLD)); then
        echo 3 >/proc/sys/vm/drop_caches
    else
        local d
        for d in "$@"; do
            if [[ -d $d ]]; then find "$d" -type f -print0 | xargs -0 -r cat >/dev/null; fi
        done
    fi
}

# timed TOOL STEP BYTES CMD... — runs CMD under /usr/bin/time in a session of
# its own (so an interrupt can end it and its children), records the numbers.
# Sets TIMED_OK=1 on success.
timed() {
    local tool=$1 step=$2 bytes=$3
    shift 3
    local out="$LOGDIR/$PROFILE-r$ROUND-$tool-$step.log" tf="$LOGDIR/$PROFILE-r$ROUND-$tool-$step.time" rc=0
    setsid /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >"$out" 2>&1 </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    local wall user sys rss
    read -r wall user sys rss < <(tail -n1 "$tf" 2>/dev/null) || true
    # borg exits with 1 for warnings (the backup is complete).
    if ((rc == 0)) || { [[ ${tool%%@*} == borg ]] && ((rc == 1)); }; then
        TIMED_OK=1
        TIMED=("$wall" "$user" "$sys" "$rss")
        ((rc == 0)) || log "  note: borg $step ended with warnings, see $out"
    else
        TIMED_OK=0
        record "$tool" "$step" FAIL "${wall:-}" "${user:-}" "${sys:-}" "${rss:-}" "$bytes" "" "$rc"
        log "  FAIL: $tool $step exited with status $rc — log: $out"
        tail -n 5 "$out" | sed 's/^/      | /'
    fi
}

# repo_bytes TOOL — what the repository takes that a copy of it carries:
# bkp's without its folders of this host's own (cache/: the files cache and
# the index tables; locks/), as restic's cache and borg's are outside theirs.
repo_bytes() {
    local d=$ROUND_DIR/$1/repo
    if [[ ${1%%@*} == bkp ]]; then
        du -sb --exclude="$d/cache" --exclude="$d/locks" "$d" | cut -f1
    else
        du -sb "$d" | cut -f1
    fi
}

report_ok() { # report_ok TOOL STEP BYTES REPO_BYTES
    local repo_mib=""
    [[ -n $4 ]] && repo_mib=" repo $(($4 >> 20)) MiB"
    record "$1" "$2" ok "${TIMED[@]}" "$3" "$4" 0
    log "  $(printf '%-8s %-9s %8.2f s %8.1f MB/s  RSS %5d MiB' "$1" "$2" "${TIMED[0]}" \
        "$(awk -v b="$3" -v w="${TIMED[0]}" 'BEGIN { print (w > 0 ? b / w / 1e6 : 0) }')" \
        "$((TIMED[3] >> 10))")$repo_mib"
}

# ------------------------------------------------------ tool commands

# tool_cmd TOOL STEP — sets CMD to the command line of TOOL for STEP. Caches
# and configuration live in the round's tool dir, so every round starts cold
# for the tool's own state.
tool_cmd() {
    local tool=${1%%@*} comp="" step=$2 d=$ROUND_DIR/$1
    if [[ $1 == *@* ]]; then comp=${1#*@}; fi
    local envs=(env "XDG_CACHE_HOME=$d/cache" "XDG_CONFIG_HOME=$d/config")
    case $tool in
    bkp)
        # With a machine key, init adds one (untimed) and every timed step opens with it.
        local key=$PASSFILE
        if [[ $BKP_KEY == machine && $step != init ]]; then key=$d/machine.key; fi
        local a=(--repo "$d/repo" --passphrase-file "$key")
        envs+=("BKP_PASSPHRASE_FILE=$key" "$BKP")
        case $step in
        init)
            if [[ $BKP_KEY == machine ]]; then
                CMD=("${envs[@]:0:${#envs[@]}-1}" bash -c '"$1" init "${@:3}" && "$1" key add --machine-key "$2" --label bench "${@:3}"' \
                    bash "$BKP" "$d/machine.key" "${a[@]}")
            else
                CMD=("${envs[@]}" init "${a[@]}")
            fi ;;
        initial | nochange | mutated)
            CMD=("${envs[@]}" backup "${a[@]}" --dataset "$PROFILE" ${comp:+--compression "$comp"} "$DATA") ;;
        restore) CMD=("${envs[@]}" restore "${a[@]}" "$PROFILE:latest" "$d/restore") ;;
        verify) CMD=("${envs[@]}" verify "${a[@]}" --read-data) ;;
        esac ;;
    restic)
        envs+=("RESTIC_REPOSITORY=$d/repo" "RESTIC_PASSWORD_FILE=$PASSFILE" "RESTIC_CACHE_DIR=$d/cache/restic" restic)
        case $step in
        init) CMD=("${envs[@]}" init) ;;
        initial | nochange | mutated) CMD=("${envs[@]}" ${comp:+--compression "$comp"} backup --host bench "$DATA") ;;
        restore)
            if ((RESTORE_SYNC)); then
                CMD=("${envs[@]:0:${#envs[@]}-1}" sh -c '"$0" restore latest --target "$1" && sync -f "$1"' restic "$d/restore")
            else
                CMD=("${envs[@]}" restore latest --target "$d/restore")
            fi ;;
        verify) CMD=("${envs[@]}" check --read-data) ;;
        esac ;;
    borg)
        envs+=("BORG_REPO=$d/repo" "BORG_PASSCOMMAND=cat $(printf %q "$PASSFILE")" "BORG_BASE_DIR=$d/home"
            BORG_DISPLAY_PASSPHRASE=no BORG_RELOCATED_REPO_ACCESS_IS_OK=yes)
        case $step in
        init) CMD=("${envs[@]}" borg init --encryption=repokey-blake2) ;;
        initial | nochange | mutated) CMD=("${envs[@]}" borg create --compression "$(tr . , <<<"${comp:-lz4}")" "::$step" "$DATA") ;;
        # borg extracts into the current directory; the archive is named
        # after the step that made it.
        restore)
            if ((RESTORE_SYNC)); then
                CMD=("${envs[@]}" sh -c 'cd "$1" && borg extract "::$2" && sync -f .' sh "$d/restore" "$LAST_BACKUP")
            else
                CMD=("${envs[@]}" sh -c 'cd "$1" && exec borg extract "::$2"' sh "$d/restore" "$LAST_BACKUP")
            fi ;;
        verify) CMD=("${envs[@]}" borg check --verify-data) ;;
        esac ;;
    esac
}

# -------------------------------------------------------------- steps

declare -A ALIVE=()

# The data set is read by cat and by tar | lz4, for orientation.
run_references() {
    POSITION=0
    before_timed "$DATA"
    timed cat read "$BASE_BYTES" sh -c 'find "$1" -type f -print0 | xargs -0 cat >/dev/null' sh "$DATA"
    if ((TIMED_OK)); then report_ok cat read "$BASE_BYTES" ""; fi
    before_timed "$DATA"
    # tar writes to a pipe, not to /dev/null, so it really reads every file.
    timed tar+lz4 read "$BASE_BYTES" sh -c 'tar -cf - -C "$1" . | lz4 -1 >/dev/null' sh "$DATA"
    if ((TIMED_OK)); then report_ok tar+lz4 read "$BASE_BYTES" ""; fi
}

init_tools() {
    local tool
    for tool in "${ORDER[@]}"; do
        ALIVE[$tool]=""
        if [[ -n ${MISSING[$tool]:-} ]]; then continue; fi
        mkdir -p "$ROUND_DIR/$tool"
        tool_cmd "$tool" init
        if "${CMD[@]}" >"$LOGDIR/$PROFILE-r$ROUND-$tool-init.log" 2>&1 </dev/null; then
            ALIVE[$tool]=1
        else
            log "  FAIL: $tool init — log: $LOGDIR/$PROFILE-r$ROUND-$tool-init.log"
            tail -n 5 "$LOGDIR/$PROFILE-r$ROUND-$tool-init.log" | sed 's/^/      | /'
        fi
    done
}

# run_step STEP BYTES — STEP for every tool, in this round's order.
run_step() {
    local step=$1 bytes=$2 tool pos=0 inputs
    log "$PROFILE round $ROUND: $step"
    case $step in initial | nochange | mutated) LAST_BACKUP=$step ;; esac
    for tool in "${ORDER[@]}"; do
        POSITION=$((++pos))
        if [[ -z ${ALIVE[$tool]} ]]; then
            record "$tool" "$step" FAIL "" "" "" "" "$bytes" "" ""
            continue
        fi
        tool_cmd "$tool" "$step"
        case $step in
        initial | nochange | mutated) inputs=("$DATA") ;;
        *) inputs=("$ROUND_DIR/$tool/repo" "$ROUND_DIR/$tool/cache" "$ROUND_DIR/$tool/home") ;;
        esac
        if [[ ${tool%%@*} == borg && $step == restore ]]; then mkdir -p "$ROUND_DIR/$tool/restore"; fi
        before_timed "${inputs[@]}"
        timed "$tool" "$step" "$bytes" "${CMD[@]}"
        if ((!TIMED_OK)); then
            # Without a first backup the later steps would not mean anything.
            if [[ $step == initial ]]; then ALIVE[$tool]=""; fi
            continue
        fi
        case $step in
        initial | nochange | mutated)
            report_ok "$tool" "$step" "$bytes" "$(repo_bytes "$tool")" ;;
        restore)
            # Untimed: the restored tree must equal the data set as backed up last.
            if ((CHECK)) && ! check_restore "$ROUND_DIR/$tool/restore$DATA" \
                "$LOGDIR/$PROFILE-r$ROUND-$tool-restore.diff"; then
                record "$tool" "$step" FAIL "${TIMED[@]}" "$bytes" "" 0
                log "  FAIL: $tool restore differs from the data set — $LOGDIR/$PROFILE-r$ROUND-$tool-restore.diff"
                head -n 5 "$LOGDIR/$PROFILE-r$ROUND-$tool-restore.diff" | sed 's/^/      | /'
            else
                report_ok "$tool" "$step" "$bytes" ""
            fi ;;
        *) report_ok "$tool" "$step" "$bytes" "" ;;
        esac
    done
}

# ------------------------------------------------------------ summary

# Markdown tables from the CSV: step x tool with median (min–max) seconds,
# MB/s, peak RSS and repository size, then ratios against bkp.
summarize() {
    awk -F, -v profile="$PROFILE" -v tools="${TOOL_LIST[*]} cat tar+lz4" -v ref="$REF" -v steps="read initial nochange mutated restore verify" '
    function sortv(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    }
    function med(a, n) { sortv(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    # stat(kind, key): median of the kind of value collected for key; sets LO, HI.
    function stat(kind, key,   i, n, a) {
        n = cnt[kind, key]; if (!n) return ""
        for (i = 1; i <= n; i++) a[i] = val[kind, key, i]
        m = med(a, n); LO = a[1]; HI = a[n]; return m
    }
    function add(kind, key, v) { if (v == "") return; val[kind, key, ++cnt[kind, key]] = v + 0 }
    function ratio(x, y) { return (x == "" || y == "" || y == 0) ? "–" : sprintf("%.2f", x / y) }
    # One ratio cell: FAIL when either side failed every round, – when absent.
    function rcell(key, kind, bv, bkey) {
        if (!(key in seen) || !(bkey in seen)) return "–"
        if (!ok[key] || !ok[bkey]) return "FAIL"
        return ratio(stat(kind, key), bv)
    }
    NR == 1 || $2 != profile { next }
    {
        key = $6 SUBSEP $5; seen[key] = 1
        if ($7 != "ok") { fails[key]++; next }
        ok[key]++
        add("wall", key, $8); add("rss", key, $11 / 1024); add("mbps", key, $13)
        if ($14 != "") add("repo", key, $14 / 1048576)
    }
    END {
        nt = split(tools, T, " "); ns = split(steps, S, " ")
        print "| step | tool | seconds, median (min–max) | MB/s | peak RSS MiB | repo MiB | time ÷ bkp |"
        print "|---|---|---|---|---|---|---|"
        for (s = 1; s <= ns; s++) for (t = 1; t <= nt; t++) {
            key = S[s] SUBSEP T[t]; if (!(key in seen)) continue
            if (!ok[key]) { printf "| %s | %s | FAIL | FAIL | FAIL | FAIL | FAIL |\n", S[s], T[t]; continue }
            w = stat("wall", key); cell = sprintf("%.2f (%.2f–%.2f)", w, LO, HI)
            if (fails[key]) cell = cell sprintf(", %d FAIL", fails[key])
            mb = stat("mbps", key); rs = stat("rss", key); rp = stat("repo", key)
            b = S[s] SUBSEP ref; bw = ok[b] ? stat("wall", b) : ""
            printf "| %s | %s | %s | %.0f | %.0f | %s | %s |\n", S[s], T[t], cell, mb, rs,
                (rp == "" ? "" : sprintf("%.0f", rp)), (T[t] == "cat" || T[t] == "tar+lz4") ? "" : ratio(w, bw)
        }
        if (!(("initial", ref) in seen) || !((("initial", "restic") in seen) || (("initial", "borg") in seen))) exit
        print ""
        print "Ratios against bkp (medians; above 1 means bkp is faster, smaller or leaner):"
        print ""
        print "| step | restic/bkp time | borg/bkp time | restic/bkp RSS | borg/bkp RSS | restic/bkp repo | borg/bkp repo |"
        print "|---|---|---|---|---|---|---|"
        for (s = 2; s <= ns; s++) {
            b = S[s] SUBSEP ref; r = S[s] SUBSEP "restic"; g = S[s] SUBSEP "borg"
            if (!(b in seen) && !(r in seen) && !(g in seen)) continue
            line = "| " S[s]
            split("wall rss repo", K, " ")
            for (k = 1; k <= 3; k++) {
                bv = ok[b] ? stat(K[k], b) : ""
                line = line " | " rcell(r, K[k], bv, b) " | " rcell(g, K[k], bv, b)
            }
            print line " |"
        }
    }' "$CSV"
}

# ---------------------------------------------------------------- main

log "bench: profiles=$PROFILES rounds=$ROUNDS seed=$SEED wait=${WAIT}s settle=${SETTLE}s cache=$( ((COLD)) && echo cold || echo warm) work=$WORK"
for t in "${TOOL_LIST[@]}"; do
    if [[ -z ${MISSING[$t]:-} ]]; then log "  $t: $(tool_version "$t")"; fi
done

# Leftovers of an interrupted run are deleted once, up front.
for old in "$WORK"/round-*; do
    if [[ -e $old ]]; then mass_delete "$old"; fi
done

{
    echo "# bkp benchmark $RUN_ID"
    echo
    echo "$ROUNDS round(s), wait ${WAIT}s, settle ${SETTLE}s," \
        "$( ((COLD)) && echo "cold cache (dropped before each step)" || echo "warm cache (inputs re-read before each step)")."
    for t in "${TOOL_LIST[@]}"; do
        if [[ -z ${MISSING[$t]:-} ]]; then echo "${t}: $(tool_version "$t")"; fi
    done
    echo "restic: default repository format (v2 since 0.14), compression auto unless @ names one; borg: repokey-blake2, lz4 unless @ names one; bkp: its default compression unless @ names one. Ratios against $REF."
    if ((RESTORE_SYNC)); then
        echo "Restores are timed until the files are on the disk: restic's and borg's end with \`sync -f\` of the target; bkp's restore flushes its files itself."
    else
        echo "Restores: bkp's is timed until its files are on the disk (it flushes them before it says \"restored\"); restic's and borg's until they exit, their files possibly still in the page cache (\`--restore-sync\` times both the same way)."
    fi
    echo "bkp opens its key with: $BKP_KEY ($([[ $BKP_KEY == machine ]] && echo "bkp key add --machine-key, no Argon2id" || echo "the passphrase file, Argon2id 3 passes over 64 MiB")); restic and borg with the passphrase file."
} >"$MD"

# profile_header — what the table of the current profile measured.
profile_header() {
    local what
    case $PROFILE in
    hospital) what="generated hospital-like set, --size $SIZE, seed $SEED" ;;
    systree) what="cp -a copy of $SYSTREE_SRC on $(hostname), $DATA_OTHER other entries (links and the like)" ;;
    *) what="generated, seed $SEED" ;;
    esac
    echo
    echo "## Profile $PROFILE: $DATA_FILES files, $DATA_DIRS folders, $DATA_SIZE bytes"
    echo
    echo "Data set: $what. Steps: $RUN_STEPS; restores checked: $( ((CHECK)) && echo "$CHECK_KIND" || echo no)."
    echo
}

for PROFILE in "${PROFILE_LIST[@]}"; do
    profile_select "$PROFILE"
    RUN_STEPS=${STEPS:+${STEPS//,/ }}
    RUN_STEPS=${RUN_STEPS:-$PROFILE_STEPS}
    # Every later step needs the first backup.
    has_step initial || RUN_STEPS="initial $RUN_STEPS"
    data_base
    data_stats
    log "profile $PROFILE: $DATA_FILES files, $DATA_DIRS folders, $DATA_OTHER other, $DATA_SIZE bytes in $DATA; steps: $RUN_STEPS"
    check_space

    for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
        ROUND_DIR=$WORK/round-$ROUND
        # Rotate the order so that no tool always runs first or last.
        ORDER=()
        n=${#TOOL_LIST[@]}
        for ((i = 0; i < n; i++)); do ORDER+=("${TOOL_LIST[$(((i + ROUND - 1) % n))]}"); done
        log "$PROFILE round $ROUND of $ROUNDS: order ${ORDER[*]}"

        data_base
        BASE_BYTES=$(data_bytes)
        mkdir -p "$ROUND_DIR"
        if has_step read; then run_references; fi
        init_tools
        run_step initial "$BASE_BYTES"
        if has_step nochange; then run_step nochange "$BASE_BYTES"; fi
        BYTES=$BASE_BYTES
        if has_step mutated; then
            data_mutate
            BYTES=$(data_bytes)
            run_step mutated "$BYTES"
        fi
        if has_step restore; then run_step restore "$BYTES"; fi
        if has_step verify; then run_step verify "$BYTES"; fi

        # Restores stay until the round is over; the delete is followed by the
        # settle time before the next timed step (BENCHMARKING.md §3).
        data_base
        mass_delete "$ROUND_DIR"
    done

    { profile_header; summarize; } >>"$MD"
done

echo
cat "$MD"
echo
log "raw numbers: $CSV"
log "logs: $LOGDIR"
