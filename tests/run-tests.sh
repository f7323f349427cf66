#!/usr/bin/env bash
# Install what is missing, build with AddressSanitizer + UndefinedBehaviorSanitizer
# and warnings as errors, and run every test (unit and end-to-end) through ctest;
# then replay the attack scenarios against a release build, whose clock no
# environment variable moves.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tests/install-deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DBKP_SANITIZE=ON -DBKP_WERROR=ON \
      -DBKP_TEST_CLOCK=ON >/dev/null
cmake --build build-test -j"$(nproc)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBKP_WERROR=ON >/dev/null
cmake --build build-release -j"$(nproc)" --target bkp
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-test && ctest --output-on-failure -j2 "$@")
echo "== the attack scenarios against the release build"
cd build-release
ctest --output-on-failure -j2 -L attack
