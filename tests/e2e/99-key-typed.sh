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
#  6. The passphrase typed: asked again when wrong, three tries, Enter stops.
#  7. Ctrl-C at the passphrase prompt leaves the terminal echoing.
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
    echo
    line "$S-1-of-5.md" 0
    sheet "$S-5-of-5.md"
} >"$WORK/typed-shares"
cmp -s <(typo "$S-3-of-5.md" 2) <(line "$S-3-of-5.md" 2) && fail "the typo was not made"
want=0 typed "$WORK/typed-shares" "$BKP" restore ds:1 "$WORK/out-typed" --repo "$REPO" --key-from -
[ "$RC" = 0 ] || flunk "typing 3 shares did not restore (exit $RC)"
output_has "A typing mistake on line 2"
output_has "a share numbered 1 was typed already"
# A blank line between sheets is no header: not refused as a sheet given twice.
[ "$(grep -c "Not taken" <<<"$OUT$ERR")" = 1 ] || flunk "a blank line was taken for a sheet: $OUT$ERR"
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

# 3b. The same sheet in two files, beside three others: used once, said, and
#     the three distinct ones open the key.
cp "$S-1-of-5.md" "$WORK/copy-of-1.md"
ok "$BKP" restore ds:1 "$WORK/out-dup" --repo "$REPO" --key-from "$S-1-of-5.md" \
    --key-from "$WORK/copy-of-1.md" --key-from "$S-3-of-5.md" --key-from "$S-4-of-5.md" </dev/null
output_has "share 1 was given twice; it is used once"
diff -r "$D" "$WORK/out-dup$D" || flunk "the shares with one given twice restored other data"

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
# 6. The passphrase typed at the terminal: a wrong one is asked for again
#    (not the whole command), three tries in all (exit 4), and Enter alone
#    stops without a try. Each line is typed once its prompt is up (a prompt
#    flushes what was typed ahead).
# gens OUT LINE...: `bkp generations` on a terminal, LINEs typed (pty_type).
gens() {
    local out=$1
    shift
    pty_type "$out" $# "$@" "$BKP" generations --repo "$REPO"
}
PASS=$(cat "$WORK/passphrase.away")
rc=0
gens "$WORK/retry.out" "not the passphrase at all" "$PASS" || rc=$?
[ "$rc" = 0 ] || flunk "a passphrase typed again did not open the repository (exit $rc): $(tr -d '\r' <"$WORK/retry.out")"
grep -q "type it again" "$WORK/retry.out" || flunk "a wrong passphrase was not asked for again: $(tr -d '\r' <"$WORK/retry.out")"
grep -q "ds:1" "$WORK/retry.out" || flunk "the generations were not listed after the passphrase typed again"
rc=0
gens "$WORK/three.out" "wrong one" "wrong two" "wrong three" || rc=$?
[ "$rc" = 4 ] || flunk "three wrong passphrases should end with exit 4, got $rc"
[ "$(grep -c "passphrase: " "$WORK/three.out")" = 3 ] || flunk "not three tries: $(tr -d '\r' <"$WORK/three.out")"
rc=0
gens "$WORK/empty.out" "" || rc=$?
[ "$rc" = 2 ] || flunk "Enter alone should stop (exit 2), got $rc"
grep -q "no passphrase typed" "$WORK/empty.out" || flunk "Enter alone was not said: $(tr -d '\r' <"$WORK/empty.out")"
# 7. Ctrl-C at the prompt ends bkp as an interrupt does, and leaves the
#    terminal echoing what is typed (the shell's own line is not typed blind).
python3 - "$BKP" "$REPO" <<'PY' || flunk "Ctrl-C at the passphrase prompt: see above"
import fcntl, os, select, signal, subprocess, sys, termios, time
bkp, repo = sys.argv[1], sys.argv[2]
master, slave = os.openpty()
def own_terminal():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
child = subprocess.Popen([bkp, "generations", "--repo", repo], stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True, preexec_fn=own_terminal)
seen, deadline = b"", time.time() + 60
while b"passphrase: " not in seen and time.time() < deadline:
    if select.select([master], [], [], 1)[0]:
        seen += os.read(master, 4096)
os.write(master, b"half a pass")
time.sleep(0.3)
os.write(master, b"\x03")
try:
    rc = child.wait(timeout=30)
except subprocess.TimeoutExpired:
    child.kill()
    sys.exit("bkp went on after Ctrl-C at the prompt: " + seen.decode(errors="replace"))
echo = termios.tcgetattr(slave)[3] & termios.ECHO
if rc != -signal.SIGINT:
    sys.exit(f"Ctrl-C at the prompt: bkp ended with {rc}, not by SIGINT")
if not echo:
    sys.exit("Ctrl-C at the prompt left the terminal's echo off")
PY

finish
