#!/usr/bin/env bash
# A long fuzzing run of every target (or the ones named), with libFuzzer under
# AddressSanitizer and UndefinedBehaviorSanitizer. The libraries are built with
# coverage instrumentation (-fsanitize=fuzzer-no-link, BKP_FUZZ=ON), so the
# fuzzer sees into the parsers. Each target starts from its seed corpus in
# tests/fuzz/corpus/TARGET and grows a working corpus outside the source tree.
#
#   bash tests/fuzz/run-long.sh [-t SECONDS] [-j JOBS] [TARGET...]
#
# -t: CPU-seconds per target (default 600); -j: targets run at once (default:
# the number of cores). The budget is CPU time, not wall time: each fuzzer is
# watched and stopped (SIGTERM, which libFuzzer answers with its final
# statistics) once it has used -t seconds of CPU, so a run on a busy machine,
# or one started with nice, still gives every target its whole budget.
# Prints one line per target: CPU seconds used, executions, coverage (edges),
# features, corpus size, and whether it found a crash; exits 1
# if any did (the crashing input is kept in the work folder, whose path it prints).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=600 jobs=$(nproc)
while getopts t:j: o; do
    case $o in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-j JOBS] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
command -v clang >/dev/null || { echo "needs clang (apt-get install clang)" >&2; exit 2; }

build=$top/build-fuzz
CC=clang cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBKP_FUZZ=ON \
    -DBKP_SANITIZE=ON >/dev/null
if [ $# -eq 0 ]; then
    set -- $(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi
cmake --build "$build" -j"$(nproc)" --target "$@" >/dev/null

work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/bkp-fuzz.XXXXXX")}
echo "fuzzing $# target(s), ${secs} CPU-s each, $jobs at a time; work folder $work"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cpu_of() { # user+system CPU seconds of a live process, from /proc
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) / hz) }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}

run_one() {
    local t=$1 dir=$work/$1 pid rc=0
    mkdir -p "$dir/corpus"
    cp -r "$top/tests/fuzz/corpus/$t/." "$dir/corpus/" 2>/dev/null || true
    (cd "$dir" && exec "$build/tests/$t" -max_total_time=$((secs * 20)) -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 corpus >"$dir/log" 2>&1) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        used=$(cpu_of "$pid")
        echo "$used" >"$dir/cpu"
        [ "$used" -ge "$secs" ] && { kill -TERM "$pid"; break; }
        sleep 2
    done
    wait "$pid" || rc=$?
    # 0: finished; 72: stopped by the budget (libFuzzer's exit code for an interrupt)
    case $rc in 0 | 72) echo ok ;; *) echo "crash (exit $rc)" ;; esac >"$dir/status"
}
export -f run_one cpu_of
export top build work secs
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

bad=0
printf '%-16s %8s %12s %8s %8s %8s  %s\n' target cpu-s executions cov ft corpus result
for t in "$@"; do
    dir=$work/$t
    line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$dir/log" | tail -1 || true)
    execs=$(grep -E 'stat::number_of_executed_units' "$dir/log" | awk '{print $2}' || true)
    cov=$(printf '%s' "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s' "$line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s' "$line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    st=$(cat "$dir/status")
    cpu=$(cat "$dir/cpu" 2>/dev/null || true)
    [ "$st" = ok ] || bad=1
    printf '%-16s %8s %12s %8s %8s %8s  %s\n' "$t" "${cpu:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$st"
done
exit $bad
