#!/usr/bin/env bash
# 99-key-typed — the key sheets typed at a terminal (`--key-from -`), for
# sheets on paper that nothing can scan. The typing goes through a real
# terminal (script(1) gives bkp a pseudo-terminal):
#
#  1. Standard input that is not a terminal is refused for `-`, exit 2, with
#     what to do instead; nothing is restored.
#  2. Three shares typed, the second with a typing mistake on its line 2: the
#     mistake is named on that line, the line typed again is taken, and the
#     restore gives back the data backed up; a share typed twice is refused
#     and another asked for. The use is recorded, with the number typed.
#  3. One share as a file and two typed: the prompt asks only for the rest.
#  4. The paper sheet typed; a sheet whose checksum does not match after every
#     line checked is asked for again from its first line.
#  5. The input ends before the sheets are complete: exit 2, nothing restored.
. "$(dirname "$0")/lib.sh"
need_tool script timeout

D=$WORK/data
REPO=$WORK/repo
mkdir -p "$D/sub"
head -c 50000 /dev/urandom >"$D/a"
echo "患者 記録" >"$D/sub/b.txt"
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset ds "$D"
ok "$BKP" key export --paper --repo "$REPO" -o "$WORK/paper.md"
ok "$BKP" key split --repo "$REPO" --shares 5 --threshold 3 -o "$WORK/shares"
S=$WORK/shares/share
unset BKP_PASSPHRASE_FILE
mv "$PASSFILE" "$WORK/passphrase.away"

# The sheet's text, as printed (from BKP-SHEET to the end of its block).
sheet() { awk '/^BKP-SHEET/{p=1} p&&/^```/{exit} p' "$1"; }
# Line N of a sheet (0: the BKP-SHEET line).
line() { sheet "$1" | sed -n "$(($2 + 1))p"; }
# The same line with its first character changed: a typing mistake.
typo() { line "$1" "$2" | sed 's/^\([0-9]*: *\)0/\1Z/;t;s/^\([0-9]*: *\)./\10/'; }
# typed FILE CMD...: run CMD on a terminal, the lines of FILE typed into it.
typed() {
    local input=$1
    shift
    check_exit "$want" timeout 120 script -qec "$(printf '%q ' "$@")" /dev/null <"$input" || true
}

# 1. Not a terminal.
expect_exit 2 "$BKP" restore ds:1 "$WORK/out-pipe" --repo "$REPO" --key-from - <"$S-1-of-5.md"
output_has "standard input is not one"
[ ! -e "$WORK/out-pipe" ] || flunk "something was restored from a pipe"

# 2. Three shares typed, a typing mistake on line 2 of the second, corrected;
#    the first share typed again on the way, refused.
{
    sheet "$S-1-of-5.md"
    line "$S-3-of-5.md" 0
    line "$S-3-of-5.md" 1
    typo "$S-3-of-5.md" 2
    line "$S-3-of-5.md" 2
    line "$S-3-of-5.md" 3
    line "$S-3-of-5.md" 4
    line "$S-1-of-5.md" 0
    sheet "$S-5-of-5.md"
} >"$WORK/typed-shares"
cmp -s <(typo "$S-3-of-5.md" 2) <(line "$S-3-of-5.md" 2) && fail "the typo was not made"
want=0 typed "$WORK/typed-shares" "$BKP" restore ds:1 "$WORK/out-typed" --repo "$REPO" --key-from -
[ "$RC" = 0 ] || flunk "typing 3 shares did not restore (exit $RC)"
output_has "A typing mistake on line 2"
output_has "this share was given already"
output_has "Sheet 3 read."
diff -r "$D" "$WORK/out-typed$D" || flunk "the typed shares restored other data"
want=0 typed /dev/null env BKP_PASSPHRASE_FILE="$WORK/passphrase.away" "$BKP" audit show --json --repo "$REPO"
output_has '"typed": 3'

# 3. One share from a file, the others typed: only two are asked for.
{ sheet "$S-2-of-5.md"; sheet "$S-4-of-5.md"; } >"$WORK/typed-two"
want=0 typed "$WORK/typed-two" "$BKP" restore ds:1 "$WORK/out-mixed" --repo "$REPO" \
    --key-from "$S-5-of-5.md" --key-from -
[ "$RC" = 0 ] || flunk "a share file and two typed did not restore (exit $RC)"
output_has "sheet 3, the BKP-SHEET line"
grep -q "sheet 4" <<<"$OUT" && flunk "a fourth sheet was asked for"
diff -r "$D" "$WORK/out-mixed$D" || flunk "the mixed sheets restored other data"

# 4. The paper sheet typed, after a first attempt whose SUM was mistyped: every
#    line checks, the sheet as a whole does not, and it is typed again.
{
    line "$WORK/paper.md" 0 | sed 's/SUM \(.\)/SUM \1\1/; s/SUM \(....\)./SUM \1/'
    sheet "$WORK/paper.md" | sed 1d
    sheet "$WORK/paper.md"
} >"$WORK/typed-paper"
want=0 typed "$WORK/typed-paper" "$BKP" restore ds:1 "$WORK/out-paper" --repo "$REPO" --key-from -
[ "$RC" = 0 ] || flunk "the typed paper sheet did not restore (exit $RC)"
output_has "but the sheet's checksum (SUM on the BKP-SHEET line) does not"
diff -r "$D" "$WORK/out-paper$D" || flunk "the typed paper sheet restored other data"

# 5. The input ends with two shares of three: nothing is opened.
{ sheet "$S-1-of-5.md"; sheet "$S-2-of-5.md"; } >"$WORK/typed-short"
want=2 typed "$WORK/typed-short" "$BKP" restore ds:1 "$WORK/out-short" --repo "$REPO" --key-from -
[ "$RC" = 2 ] || flunk "input ending early: exit $RC, not 2"
output_has "the input ended before the sheets were complete"
[ ! -e "$WORK/out-short" ] || flunk "something was restored with two shares"
# 6. The passphrase typed wrong, then right: asked again, not the whole
#    command (each prompt flushes what was typed ahead, hence the pauses).
{
    sleep 2
    echo "not the passphrase at all"
    sleep 10
    cat "$WORK/passphrase.away"
} | timeout 120 script -qec "$(printf '%q ' "$BKP" generations --repo "$REPO")" /dev/null >"$WORK/retry.out" 2>&1 ||
    flunk "a passphrase typed again did not open the repository: $(tr -d '\r' <"$WORK/retry.out")"
grep -q "type it again" "$WORK/retry.out" || flunk "a wrong passphrase was not asked for again: $(tr -d '\r' <"$WORK/retry.out")"
grep -q "ds:1" "$WORK/retry.out" || flunk "the generations were not listed after the passphrase typed again"

finish
