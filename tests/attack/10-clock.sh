#!/usr/bin/env bash
# 10-clock — time is not an input (issue: "BKP_NOW in the release build made
# `bkp prune` delete generations inside lock_days, and dated signed audit
# records in 2099"). Against a release build: $BKP_NOW far in the future
# changes neither what prune deletes nor the time a record carries. A test
# build, whose clock the variable does move, skips.
. "$(dirname "$0")/../e2e/lib.sh"
if "$BKP" --version | grep -q 'test clock'; then
    echo "SKIP [$TEST_NAME]: a test build reads \$BKP_NOW by design; this runs on the release build" >&2
    exit 77
fi

D=$WORK/data
mkdir -p "$D"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 1, lock_days: 30 }
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
for i in 1 2 3; do
    echo "version $i" >"$D/f"
    ok "$BKP" backup --policy "$POL" ds
done
repo_digest "$REPO/generations" >"$WORK/before"

# Sixty days on, by the variable only: nothing is outside lock_days.
export BKP_NOW=$(($(date +%s) + 60 * 86400))
ok "$BKP" prune --policy "$POL" --json
output_has '"generations_deleted": 0' "prune must not believe \$BKP_NOW in a release build"
ok "$BKP" generations --policy "$POL"
for g in ds:1 ds:2 ds:3; do
    grep -q "^$g " <<<"$OUT" || flunk "$g was deleted inside lock_days under a forged clock"
done

# A record written now carries today's date, not the variable's.
export BKP_NOW=2099-01-01T00:00:00Z
ok "$BKP" audit show --policy "$POL" --json
if grep -q '"time": "2099' <<<"$OUT"; then
    flunk "a signed audit record was dated by \$BKP_NOW"
fi
ok "$BKP" verify --policy "$POL"
ok "$BKP" audit show --policy "$POL" --json
year=$(date -u +%Y)
grep -q "\"time\": \"$year" <<<"$OUT" || flunk "no audit record carries this year's date"
grep -q '"time": "2099' <<<"$OUT" && flunk "a verify record was dated 2099"
finish
