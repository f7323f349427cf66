#!/usr/bin/env bash
# 99-key-disaster — the server and every passphrase are gone; what is left is
# an off-site disk, an archive and the sheets from the safe. The disk's copy
# and the archive are restored with the paper sheet and with 3 of 5 share
# sheets (--key-from), identical to what was backed up, and each use is on
# the record; 2 shares, a sheet with a typing mistake, a FIFO and the sheets
# of another repository are refused, and nothing is restored.
. "$(dirname "$0")/lib.sh"
need_root

D=$WORK/data
MNT=$WORK/mnt
TAPE=$WORK/tape
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D/sub" "$MNT" "$TAPE"
export TMPDIR=$WORK/tmp # staging of archives
mkdir -p "$TMPDIR"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: true
  - name: tape
    type: archive
    path: $TAPE
    location: offsite
    offline: true
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 1 }
    copy_to: [usb-a, tape]
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE

ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --type removable --policy "$POL"
ok "$BKP" media label "$TAPE" --name tape --policy "$POL"
head -c 300000 /dev/urandom >"$D/a"
echo "患者 記録" >"$D/sub/b.txt"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
ok "$BKP" rotate tape --policy "$POL"
ls "$TAPE"/*.tar >/dev/null 2>&1 || flunk "the rotation wrote no archive"
mkdir -m 700 "$WORK/safe"
ok "$BKP" key export --paper --policy "$POL" -o "$WORK/safe/paper.md"
ok "$BKP" key split --policy "$POL" --shares 5 --threshold 3 -o "$WORK/shares"
S=$WORK/shares/share

# A command that opens no key takes no sheets.
expect_exit 2 "$BKP" policy check --policy "$POL" --key-from "$WORK/safe/paper.md"

# The disaster: the server's repository, its policy and the passphrase are gone.
rm -rf "$REPO" "$POL" "$PASSFILE"
unset BKP_POLICY BKP_REPO BKP_PASSPHRASE_COMMAND

# Nothing opens the disk without a key.
expect_exit 2 "$BKP" restore ds:1 "$WORK/none" --from "$MNT/repo" </dev/null
[ ! -e "$WORK/none" ] || flunk "something was restored without a key"

# The paper sheet.
ok "$BKP" restore ds:1 "$WORK/out-paper" --from "$MNT/repo" --key-from "$WORK/safe/paper.md" </dev/null
diff -r "$D" "$WORK/out-paper$D" ||
    flunk "the paper sheet restored other data"

# Three of five shares, in any order.
ok "$BKP" restore ds:1 "$WORK/out-shares" --from "$MNT/repo" --key-from "$S-4-of-5.md" \
    --key-from "$S-1-of-5.md" --key-from "$S-3-of-5.md" </dev/null
diff -r "$D" "$WORK/out-shares$D" ||
    flunk "3 shares restored other data"

# The archive, with 3 other shares.
ok "$BKP" restore ds:1 "$WORK/out-tape" --from "$TAPE" --key-from "$S-2-of-5.md" \
    --key-from "$S-5-of-5.md" --key-from "$S-3-of-5.md" </dev/null
diff -r "$D" "$WORK/out-tape$D" || flunk "3 shares restored other data from the archive"
ok "$BKP" restore ds:1 "$WORK/out-tape-paper" --from "$TAPE" --key-from "$WORK/safe/paper.md" </dev/null
diff -r "$D" "$WORK/out-tape-paper$D" || flunk "the paper sheet restored other data from the archive"

# Two shares open nothing.
expect_exit 4 "$BKP" restore ds:1 "$WORK/out-two" --from "$MNT/repo" --key-from "$S-2-of-5.md" \
    --key-from "$S-5-of-5.md" </dev/null
output_has "fewer shares"
[ ! -e "$WORK/out-two" ] || flunk "something was restored with 2 shares"

# A paper sheet with one character changed on its line 2: refused, the line named.
sed '/^2: /{s/^2: 0/2: 1/;t;s/^2: [1-9A-Z]/2: 0/}' "$WORK/safe/paper.md" >"$WORK/typo.md"
cmp -s "$WORK/safe/paper.md" "$WORK/typo.md" && flunk "the typo was not made"
expect_exit 2 "$BKP" restore ds:1 "$WORK/out-typo" --from "$MNT/repo" --key-from "$WORK/typo.md" </dev/null
output_has "typo.md: a typing mistake on line 2"
[ ! -e "$WORK/out-typo" ] || flunk "something was restored from a mistyped sheet"
# Line 3 typed without its two check characters: said as that, with the counts.
sed -E '/^3: /s/ [0-9A-Z]{2}$//' "$WORK/safe/paper.md" >"$WORK/short.md"
expect_exit 2 "$BKP" restore ds:1 "$WORK/out-short" --from "$MNT/repo" --key-from "$WORK/short.md" </dev/null
output_has "short.md: line 3 of the sheet has 16 characters, the paper's has 18"
# Typed with a Japanese input method left on: full-width characters read as plain ones.
python3 -c '
import sys
t = open(sys.argv[1], encoding="utf-8").read()
w = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in t)
open(sys.argv[2], "w", encoding="utf-8").write(w)' "$WORK/safe/paper.md" "$WORK/wide.md"
chmod 600 "$WORK/wide.md"
ok "$BKP" restore ds:1 "$WORK/out-wide" --from "$MNT/repo" --key-from "$WORK/wide.md" </dev/null
diff -r "$D" "$WORK/out-wide$D" || flunk "a sheet typed in full width restored other data"

# Not a sheet file: a FIFO is refused at once, not waited on.
mkfifo "$WORK/fifo"
expect_exit 2 timeout 60 "$BKP" restore ds:1 "$WORK/out-fifo" --from "$MNT/repo" --key-from "$WORK/fifo" </dev/null
output_has "not a regular file"

# The sheets of another repository: well-formed, but they do not open this one.
export BKP_PASSPHRASE_FILE=$WORK/other-pass
printf 'another long passphrase\n' >"$BKP_PASSPHRASE_FILE"
chmod 600 "$BKP_PASSPHRASE_FILE"
ok "$BKP" init --repo "$WORK/other"
ok "$BKP" key export --paper --repo "$WORK/other" -o "$WORK/other-paper.md"
unset BKP_PASSPHRASE_FILE
expect_exit 4 "$BKP" restore ds:1 "$WORK/out-other" --from "$MNT/repo" --key-from "$WORK/other-paper.md" </dev/null
output_has "do not belong to"
[ ! -e "$WORK/out-other" ] || flunk "something was restored with another repository's sheet"

# A key-recovery drill from the disk, with the shares only: a policy that
# names no passphrase (the server's is gone), the runbook of the data set.
mkdir -p "$WORK/runbooks"
sed '/^passphrase_file:/d' >"$POL" <<YAML
repository: $REPO
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: true
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 1 }
    copy_to: [usb-a]
    runbook: rb
YAML
cat >"$WORK/runbooks/rb.yaml" <<YAML
title: "ds"
datasets: [ds]
steps:
  - { who: "admin", select: { dataset: ds } }
  - { who: "admin", verify: {} }
  - { who: "admin", restore: { dataset: ds, to: $WORK/drill-target } }
  - { who: "admin", check: "test -f \"\$BKP_TARGET/sub/b.txt\"" }
YAML
chmod 600 "$POL" "$WORK/runbooks/rb.yaml"
mkdir -p "$WORK/reports"
ok "$BKP" drill rb --policy "$POL" --medium usb-a --key-from "$S-1-of-5.md" \
    --key-from "$S-2-of-5.md" --key-from "$S-5-of-5.md" --report "$WORK/reports" </dev/null
ls "$WORK/reports"/drill-rb-*.json >/dev/null 2>&1 || flunk "the drill report was not written where --report said"
expect_exit 4 "$BKP" drill rb --policy "$POL" --medium usb-a --key-from "$S-1-of-5.md" </dev/null
output_has "fewer shares"

# Each use of the sheets is on the record, with what was used: with no
# primary, in the journal beside each target (the restores) or the reports
# (the drill), never on the disk read.
[ ! -e "$MNT/repo/audit/log.jsonl" ] || flunk "a read of the disk wrote an audit log on it"
for j in "$WORK"/bkp-journal-*.jsonl "$WORK/reports"/bkp-journal-*.jsonl; do
    ok "$BKP" audit show --journal "$j" --json </dev/null # no repository, no key: shown as it is
    cat "$WORK/.out" >>"$WORK/journals.out"
done
grep -q '"op": "key-from"' "$WORK/journals.out" || flunk "no use of the sheets in the journals"
grep -q '"kind": "shares"' "$WORK/journals.out" || flunk "no use of the share sheets in the journals"
grep -q '"kind": "paper"' "$WORK/journals.out" || flunk "no use of the paper sheet in the journals"
finish
