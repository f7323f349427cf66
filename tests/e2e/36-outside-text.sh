#!/usr/bin/env bash
# 36-outside-text — names chosen by someone else never steer the terminal:
# a file named with an escape sequence (one that printed "ALL BACKUPS
# VERIFIED OK" in red), a newline, a right-to-left override and bytes that
# are not UTF-8 is backed up and restored exactly, and `ls`, `find`, `diff`,
# `generations` and the messages of a failed restore show it escaped — no
# ESC, no bare control byte, no forged line reaches standard output or
# standard error; --json keeps the exact bytes.
. "$(dirname "$0")/lib.sh"

D=$WORK/data
mkdir -p "$D"
EVIL=$(printf 'x\033[31mALL BACKUPS VERIFIED OK\033[0m')
NL=$(printf 'two\nlines')
RLO=$(printf 'report\xe2\x80\xaetxt.exe')
BAD=$(printf 'bad\x9b31m')
for n in "$EVIL" "$NL" "$RLO" "$BAD" plain; do
    printf 'data of %s\n' "$n" >"$D/$n"
done
REPO=$WORK/repo
export BKP_REPO=$REPO
ok "$BKP" init
ok "$BKP" backup --dataset docs "$D"
echo more >"$D/plain"
ok "$BKP" backup --dataset docs "$D"

# clean WHAT: nothing in $OUT or $ERR that a terminal acts on.
clean() {
    if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177\233]')" "$WORK/.out" "$WORK/.err"; then
        flunk "$1 printed a control byte: $(cat -v "$WORK/.out" "$WORK/.err" | grep -m 3 '\^\|M-')"
    fi
    if grep -q '^lines' "$WORK/.out"; then
        flunk "$1 let a name's newline start a line of its own"
    fi
}

ok "$BKP" ls docs:latest
clean "bkp ls"
output_has 'x\x1b[31mALL BACKUPS VERIFIED OK\x1b[0m'
output_has 'two\nlines'
output_has 'report\u{202e}txt.exe'
output_has 'bad\x9b31m'
ok "$BKP" find 'x*'
clean "bkp find"
ok "$BKP" find 'two*'
clean "bkp find"
ok "$BKP" diff docs:1 docs:2
clean "bkp diff"
ok "$BKP" generations
clean "bkp generations"

# --json keeps the name's exact bytes (JSON escapes them its own way).
ok "$BKP" ls docs:latest --json
clean "bkp ls --json"
grep -qi '\\u001b\[31mALL BACKUPS' "$WORK/.out" || flunk "--json lost the name's bytes: $(cat -v "$WORK/.out" | head -n 5)"

# A message that names it: a dump of a path the generation does not hold.
expect_exit 1 "$BKP" dump docs:latest "$D/$EVIL.nosuch"
clean "a failed dump's message"
grep -q 'x\\x1b\[31mALL BACKUPS VERIFIED OK' "$WORK/.err" || flunk "the message did not name the file: $(cat -v "$WORK/.err")"

# And it comes back exactly.
ok "$BKP" restore docs:latest "$WORK/out"
diff -r "$D" "$WORK/out$D" || flunk "the odd names did not restore exactly"
finish
