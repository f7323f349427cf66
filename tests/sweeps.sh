#!/usr/bin/env bash
# The long sweeps in full (CI runs them in a short form):
#   tests/e2e/31-full-disk.sh with BKP_SWEEP=full — the primary's disk left with
#   every 4 KiB step from 0 to 1 MiB free before each of backup, prune, rotate,
#   restore, verify and the key commands.
# Usage: bash tests/sweeps.sh [BUILD]   (BUILD: a build folder with bkp in it;
# by default build-test, made as tests/run-tests.sh makes it). As root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-test}
if [ ! -x "$build/bkp" ]; then
    bash "$top/tests/install-deps.sh"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DBKP_SANITIZE=ON -DBKP_WERROR=ON \
          -DBKP_TEST_CLOCK=ON >/dev/null
    cmake --build "$build" -j"$(nproc)"
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
BKP=$build/bkp BKP_SWEEP=full bash "$top/tests/e2e/31-full-disk.sh"
