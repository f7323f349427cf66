#!/usr/bin/env bash
# Install what is missing, build with AddressSanitizer + UndefinedBehaviorSanitizer
# and warnings as errors, and run every test (unit and end-to-end) through ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tests/install-deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DBKP_SANITIZE=ON -DBKP_WERROR=ON >/dev/null
cmake --build build-test -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-test
ctest --output-on-failure -j2 "$@"
