#!/usr/bin/env bash
# 55-swapped-key — an insider edits the evidence without the repository key
# (docs/SECURITY.md §2: "an insider editing the evidence must not make
# `audit verify` with the public key alone accept the edit"). Not holding the
# key, they cannot re-sign an edited record, so they replace the whole
# repository — config, key file, audit log and its head marker, generation
# records — with one of their own making, whose log says what they want, and
# give the auditor their own passphrase. The ordinary check, run with that
# passphrase, passes; the auditor's check, with the key written down at
# installation and no secret, refuses it (exit 1, naming the reason) and
# writes nothing. Their edit of a single record, kept under the real key, is
# refused as well.
. "$(dirname "$0")/../e2e/lib.sh"

D=$WORK/data
mkdir -p "$D"
echo "ward 3, 2026-11" >"$D/census"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset emr "$D"
ok "$BKP" verify --repo "$REPO"
ok "$BKP" key fingerprint --repo "$REPO" --json
PINNED=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")
[ "${#PINNED}" = 64 ] || fail "no public key printed: $OUT"

# The forgery: a repository of the insider's own, with a history of their choosing.
printf '%s\n' 'the insider chose this one' >"$WORK/insider.pass"
chmod 600 "$WORK/insider.pass"
export BKP_PASSPHRASE_FILE=$WORK/insider.pass
ok "$BKP" init --repo "$WORK/forged"
ok "$BKP" backup --repo "$WORK/forged" --dataset emr "$D"
ok "$BKP" backup --repo "$WORK/forged" --dataset emr "$D"
chmod -R u+w "$REPO"
find "$REPO" -mindepth 1 -delete
cp -a "$WORK/forged/." "$REPO/"
# With the passphrase the insider hands over, everything looks sound.
ok "$BKP" audit verify --repo "$REPO"
ok "$BKP" verify --repo "$REPO"

# The auditor: no passphrase, no key file of theirs, the key from paper.
unset BKP_PASSPHRASE_FILE BKP_PASSPHRASE_COMMAND
before=$(repo_digest "$REPO")
for cmd in "audit verify" verify; do
    # shellcheck disable=SC2086 # two words on purpose
    check_exit 1 "$BKP" $cmd --repo "$REPO" --public-key "$PINNED" </dev/null || true
    output_has "not the repository whose key you pinned" "$cmd --public-key should refuse a swapped key"
done
[ "$(repo_digest "$REPO")" = "$before" ] || flunk "the auditor's check wrote to the repository"

# Under the real key: one field of one record edited, nothing re-signed.
REAL=$WORK/real
export BKP_PASSPHRASE_FILE=$PASSFILE
ok "$BKP" init --repo "$REAL"
ok "$BKP" backup --repo "$REAL" --dataset emr "$D"
ok "$BKP" key fingerprint --repo "$REAL" --json
KEY=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")
unset BKP_PASSPHRASE_FILE
chmod u+w "$REAL/audit/log.jsonl"
sed -i '2s/"outcome":"ok"/"outcome":"failed"/' "$REAL/audit/log.jsonl"
rm -f "$REAL/keys/key"
before=$(repo_digest "$REAL")
check_exit 1 "$BKP" audit verify --repo "$REAL" --public-key "$KEY" </dev/null || true
output_has "record 2 is not signed" "an edited record should be named"
[ "$(repo_digest "$REAL")" = "$before" ] || flunk "the auditor's check wrote to the repository"

finish
