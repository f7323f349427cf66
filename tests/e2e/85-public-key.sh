#!/usr/bin/env bash
# 85-public-key — the auditor's key: with no key file and no passphrase
# anywhere, `audit verify --public-key` and `verify --public-key` check what
# the repository key signed (the audit log and its head marker, the
# generation records and their chains, the pins kept for media) with the key
# pinned off the machine; an edited log, a tampered record or pin, and a
# repository whose key is not the pinned one (another repository, or a
# config and key file swapped on the host) each fail with exit 1 and say
# why; nothing is written.
. "$(dirname "$0")/lib.sh"

REPO=$WORK/repo
MNT=$WORK/usb
D=$WORK/docs
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - { name: usb-a, type: removable, path: $MNT, location: offsite, offline: true, rotate_every: 7d }
datasets:
  - { name: docs, paths: [$D], schedule: daily 02:00, retention: { keep_last: 5 }, copy_to: [usb-a] }
YAML
echo one >"$D/a"
ok "$BKP" init --policy "$POL"
ok "$BKP" backup docs --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
echo two >>"$D/a"
ok "$BKP" backup docs --policy "$POL"
[ -f "$REPO/media/usb-a.pin" ] || flunk "the rotation kept no pin of usb-a in the primary"

# What the auditor writes down, off the machine: the public key.
ok "$BKP" key fingerprint --repo "$REPO" --json
PK=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")
FP=$(sed -n 's/^ *"fingerprint": "\([0-9a-f ]*\)".*/\1/p' <<<"$OUT")
[ "${#PK}" = 64 ] || fail "key fingerprint --json printed no public key: $OUT"
[ "$(tr -d ' ' <<<"$FP")" = "$PK" ] || flunk "the fingerprint is not the public key's digits"
printf '  %s  \n' "$PK" >"$WORK/pinned.key"

# Another repository, whose key an auditor might be handed by mistake.
ok "$BKP" init --repo "$WORK/other"
ok "$BKP" key fingerprint --repo "$WORK/other" --json
OTHER=$(sed -n 's/^ *"public_key": "\([0-9a-f]*\)".*/\1/p' <<<"$OUT")

# The fingerprint is on the medium's label, as printed; a label naming
# another key (the disk, or the primary's config and key, were replaced) is
# not written to.
grep -q "\"fingerprint\": \"$FP\"" "$MNT/BKP-LABEL" || flunk "the label of usb-a does not carry the fingerprint"
cp "$MNT/BKP-LABEL" "$WORK/label.kept"
OTHER_FP=$(sed 's/..../& /g; s/ $//' <<<"$OTHER")
sed -i "s/\"fingerprint\": \"[0-9a-f ]*\"/\"fingerprint\": \"$OTHER_FP\"/" "$MNT/BKP-LABEL"
check_exit 1 "$BKP" rotate usb-a --policy "$POL" || true
output_has "were replaced" "a label of another key should be refused"
cp "$WORK/label.kept" "$MNT/BKP-LABEL"
# A label from before labels carried the fingerprint is still read.
grep -v '"fingerprint"' "$WORK/label.kept" >"$MNT/BKP-LABEL"
ok "$BKP" rotate usb-a --policy "$POL"
cp "$WORK/label.kept" "$MNT/BKP-LABEL"

# ... and in the evidence report, for the inspector's file.
ok "$BKP" audit report --policy "$POL"
output_has "$FP" "the evidence report should carry the key's fingerprint"

# No secret from here on: the key file is gone and no passphrase source is left.
mv "$REPO/keys/key" "$WORK/key.away"
mv "$PASSFILE" "$WORK/passphrase.away"
unset BKP_PASSPHRASE_FILE BKP_PASSPHRASE_COMMAND
audit() { "$BKP" audit verify --repo "$1" --public-key "$2" </dev/null; }
verify() { "$BKP" verify --repo "$1" --public-key "$2" </dev/null; }

# A clean repository verifies, with the key as hex, as printed, or in a file,
# and the output says what was not checked; nothing is written.
before=$(repo_digest "$REPO")
ok audit "$REPO" "$PK"
output_has "head marker intact" "audit verify --public-key should say the log verified"
output_has "not checked" "audit verify --public-key should say what it did not check"
ok verify "$REPO" "$PK"
output_has "2 generation record(s)" "verify --public-key should count the records it checked"
output_has "1 pin(s)" "verify --public-key should check the pin kept for usb-a"
output_has "not checked: the contents of the packs" "verify --public-key should say packs were not checked"
ok verify "$REPO" "$FP"
ok audit "$REPO" "$WORK/pinned.key"
ok "$BKP" verify --repo "$REPO" --public-key "$WORK/pinned.key" --json </dev/null
grep -q '"mode": "public-key"' <<<"$OUT" || flunk "verify --public-key --json should name its mode"
[ "$(repo_digest "$REPO")" = "$before" ] || flunk "a check with the public key changed the repository"
# The copy on the medium, by its folder: its records and chains.
ok verify "$MNT/repo" "$PK"
output_has "copy on the medium" "the medium's copy should be checked as a copy"

tamper() { # tamper NAME: a copy of the repository to damage
    rm -rf "$WORK/t-$1"
    cp -a "$REPO" "$WORK/t-$1"
    echo "$WORK/t-$1"
}

# One field of one audit record edited: both checks fail at that record.
T=$(tamper log)
chmod u+w "$T/audit/log.jsonl"
sed -i '2s/"op":"[a-z-]*"/"op":"verify"/' "$T/audit/log.jsonl"
cmp -s "$T/audit/log.jsonl" "$REPO/audit/log.jsonl" && fail "the log edit changed nothing"
check_exit 1 audit "$T" "$PK" || true
output_has "record 2 " "audit verify --public-key should name the edited record"
output_has "NOT verified" "audit verify --public-key should say it did not verify"
check_exit 1 verify "$T" "$PK" || true
output_has "record 2 " "verify --public-key should name the edited audit record"

# One byte of a generation record changed (its host name): signature fails.
T=$(tamper record)
R=$T/generations/docs/0000000001.gen
chmod u+w "$R"
grep -q '"host"' "$R" || fail "no host field in $R"
sed -i 's/"host":"\(.\)/"host":"X/' "$R"
check_exit 1 verify "$T" "$PK" || true
output_has "damaged or forged" "verify --public-key should name the forged record"
output_has "NOT verified" "verify --public-key should say it did not verify"

# The pin kept for usb-a, edited: not the key holder's.
T=$(tamper pin)
chmod u+w "$T/media/usb-a.pin"
printf 'x' | dd of="$T/media/usb-a.pin" bs=1 seek=20 conv=notrunc 2>/dev/null
check_exit 1 verify "$T" "$PK" || true
output_has "usb-a.pin is damaged or forged" "verify --public-key should refuse an edited pin"

# The newest record deleted: the log and the pin still hold what it was.
T=$(tamper deleted)
rm -f "$T/generations/docs/0000000002.gen"
check_exit 1 audit "$T" "$PK" || true
output_has "docs:2" "audit verify --public-key should name the deleted generation"

# Another repository's key: not the repository the auditor pinned.
check_exit 1 audit "$REPO" "$OTHER" || true
output_has "not the repository whose key you pinned" "a wrong key should be named as such"
check_exit 1 verify "$REPO" "$OTHER" || true
output_has "not the repository whose key you pinned" "a wrong key should be named as such"
output_lacks "differ in only"
# One digit copied wrong from the paper: the same refusal, and the slip named.
TYPO=$(sed 's/.$/x/; s/x$/'"$( [ "${PK: -1}" = 0 ] && echo 1 || echo 0 )"'/' <<<"$PK")
check_exit 1 audit "$REPO" "$TYPO" || true
output_has "not the repository whose key you pinned"
output_has "the two keys differ in only 1 digit(s)"
# A host that swapped config and key file for another pair: the pinned key
# is not the config's, whatever the records are signed with now.
T=$(tamper swapped)
chmod u+w "$T/config"
cp "$WORK/other/config" "$T/config"
check_exit 1 verify "$T" "$PK" || true
output_has "not the repository whose key you pinned" "a swapped config should be caught"

# Usage: a secret beside the public key, a malformed key, what needs the key.
check_exit 2 "$BKP" verify --repo "$REPO" --public-key "$PK" --passphrase-file "$WORK/passphrase.away" || true
check_exit 2 "$BKP" audit verify --repo "$REPO" --public-key "$PK" --key-from "$WORK/pinned.key" || true
check_exit 2 verify "$REPO" "${PK:0:63}" || true
output_has "neither a public key" "a short key should be refused as such"
printf '%s\n%s\n' "$PK" "$PK" >"$WORK/two.key"
check_exit 2 verify "$REPO" "$WORK/two.key" || true
check_exit 2 "$BKP" verify --repo "$REPO" --public-key "$PK" --read-data || true
# Showing the log needs no secret either (it checks nothing: `audit verify` does).
check_exit 0 "$BKP" audit show --repo "$REPO" --public-key "$PK" || true
output_has "backup"
check_exit 2 "$BKP" backup docs --repo "$REPO" --public-key "$PK" || true
# Without the key file and a passphrase, the ordinary check cannot run.
check_exit 2 "$BKP" audit verify --repo "$REPO" </dev/null || true
[ "$(repo_digest "$REPO")" = "$before" ] || flunk "a refused check changed the repository"

# The same fingerprint typed from the key sheet pins a restore from a copy:
# a copy under another key is refused (exit 4), ours restores.
mv "$WORK/passphrase.away" "$PASSFILE"
P3=$WORK/p3.yaml
cat >"$P3" <<YAML
repository: $WORK/repo3
passphrase_file: $PASSFILE
datasets:
  - { name: docs, paths: [$D], schedule: daily 02:00 }
YAML
ok "$BKP" init --policy "$P3"
ok "$BKP" backup docs --policy "$P3"
ok "$BKP" key fingerprint --policy "$P3" --json
FP3=$(sed -n 's/^ *"fingerprint": "\([0-9a-f ]*\)".*/\1/p' <<<"$OUT")
cp -a "$WORK/repo3" "$WORK/copy3"
check_exit 4 "$BKP" restore docs:latest "$WORK/out-other" --from "$WORK/copy3" --policy "$P3" \
    --key-fingerprint "$OTHER" || true
output_has "is under the key" "a restore pinned to another key should say whose key the copy is under"
[ -n "$(ls -A "$WORK/out-other" 2>/dev/null)" ] && flunk "a refused copy was restored"
check_exit 0 "$BKP" restore docs:latest "$WORK/out-ours" --from "$WORK/copy3" --policy "$P3" \
    --key-fingerprint "$FP3" || true
same_mtree "$D" "$WORK/out-ours$D" "restored from the copy under the key given"

finish
