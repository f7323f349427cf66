#!/usr/bin/env bash
# 49-guides — the operator guides name only commands, verbs and options that
# bkp has (tests/support/guides-check.sh over every `bkp …` command line of
# their code blocks and one-line code spans).
#
#  1. The guides as they are (English, Japanese, the checklist, the README)
#     pass.
#  2. A copy of each guide with planted lines — an option, a command and a verb
#     bkp does not have, and an option in a code span — fails, naming each on
#     its line, and nothing else.
. "$(dirname "$0")/lib.sh"

SRC=${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CHECK=$SRC/tests/support/guides-check.sh
GUIDES=("$SRC/docs/operator-guide.md" "$SRC/docs/operator-guide.ja.md"
    "$SRC/docs/checklist-3-2.md" "$SRC/README.md")

# The check asks `bkp CMD --help` of every command once per run: one run over
# the guides as they are and the planted copies together.
PLANTED=()
for g in operator-guide.md operator-guide.ja.md; do
    cp "$SRC/docs/$g" "$WORK/$g"
    cat >>"$WORK/$g" <<'PLANT'

```sh
bkp verify --read-everything          # no such option
bkp restor emr-db:latest /srv/x       # no such command
bkp key rotate                        # no such verb
```

Then `bkp rotate usb-a --eject` and read its output.
PLANT
    PLANTED+=("$WORK/$g")
done
expect_exit 1 bash "$CHECK" "$BKP" "${GUIDES[@]}" "${PLANTED[@]}"

# ============ 1. the guides as they are ============
for g in "${GUIDES[@]}"; do
    if grep -F "$g:" <<<"$OUT"; then
        flunk "$g names what bkp does not have (above)"
    fi
done

# ============ 2. planted lines are caught ============
for g in operator-guide.md operator-guide.ja.md; do
    n=$(wc -l <"$WORK/$g")
    output_has "$WORK/$g:$((n - 5)): bkp verify --read-everything: no such option" "$g: a planted option"
    output_has "$WORK/$g:$((n - 4)): bkp restor: no such command" "$g: a planted command"
    output_has "$WORK/$g:$((n - 3)): bkp key rotate: no such verb" "$g: a planted verb"
    output_has "$WORK/$g:$n: bkp rotate --eject: no such option" "$g: an option in a code span"
done
[ "$(grep -c ': no such ' <<<"$OUT")" = 8 ] || flunk "expected exactly the 8 planted problems: $OUT"
finish
