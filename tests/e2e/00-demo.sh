#!/usr/bin/env bash
# The README's run command stays working: the demo round trip, on the built binary.
set -euo pipefail
dir=$(mktemp -d)
trap 'chattr -R -i "$dir" 2>/dev/null || true; rm -rf "$dir"' EXIT
BKP_DEMO_DIR=$dir/demo bash "$BKP_SOURCE_DIR/tests/demo.sh" > "$dir/log" 2>&1 || { cat "$dir/log"; exit 1; }
grep -q 'identical to the original' "$dir/log"
