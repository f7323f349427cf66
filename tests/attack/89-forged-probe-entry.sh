#!/usr/bin/env bash
# 89-forged-probe-entry — an insider (or root) edits the media registry so
# that a bucket whose lock was never proven reads "proven". The status and
# the evidence report must not count it as a non-editable copy on that
# word: the probe's result is evidence, and evidence is the signed audit
# log, not a file anyone with write access can edit. Skipped without Ceph.
. "$(dirname "$0")/../e2e/lib.sh"

start_bucket hosp-bkp

DATA=$WORK/data
mkdir -p "$DATA/emr"
echo "note" >"$DATA/emr/n.txt"
bucket_repo "{ copies: 2, media_types: 1, offline: 0, offsite: 1, immutable: 1 }"
ok "$BKP" backup emr
ok "$BKP" rotate cloud
expect_exit 1 "$BKP" status --json
grep -q '"non_editable": false' <<<"$OUT" || fail "a bucket never probed counted as non-editable"

# The forgery: a proven probe written into the registry entry, no probe run.
entry=$REPO/media/cloud.json
[ -f "$entry" ] || fail "no registry entry $entry"
python3 - "$entry" <<'PY'
import json, sys
p = sys.argv[1]
j = json.load(open(p))
j["probe"] = {"when": "2026-01-05T00:00:00Z", "proven": True, "detail": "written by hand"}
json.dump(j, open(p, "w"))
PY
check_exit 1 "$BKP" status --json || true
grep -q '"non_editable": false' <<<"$OUT" ||
    flunk "a probe result written into the registry by hand made the bucket count as non-editable"
"$BKP" status >"$WORK/status.txt" 2>&1 || true
grep -q "proven on" "$WORK/status.txt" &&
    flunk "status shows a proven lock that no probe proved: $(grep 'proven on' "$WORK/status.txt")"

finish
