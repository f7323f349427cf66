#!/usr/bin/env bash
# 38-exit-codes — the exit codes and their documentation agree.
#
#  1. The codes of the README's "Exit codes:" line, of the operator guide's
#     table (section 10) and of the man page's EXIT STATUS are the same set,
#     0 to 5, each with a meaning.
#  2. Each code is what the program exits with in the guide's examples:
#     0 success; 1 damage found; 2 a bad option, no such generation, a
#     target not empty; 3 locked (another run holds the lock); 4 a wrong
#     passphrase, too few share sheets; 5 no repository at the path.
. "$(dirname "$0")/lib.sh"

SRC=${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# 1. The documents.
readme=$(sed -n '/^Exit codes:/,/^$/p' "$SRC/README.md" | tr '\n' ' ')
guide=$(sed -n '/^## 10\. Exit codes/,/^## 11/p' "$SRC/docs/operator-guide.md")
man=$(sed -n '/^# EXIT STATUS/,/^# [A-Z]/p' "$SRC/docs/man/bkp.1.scd")
[ -n "$readme" ] && [ -n "$guide" ] || fail "the README's exit codes or the guide's section 10 are missing"
for code in 0 1 2 3 4 5; do
    grep -Eq "(^|[ ,:])$code [a-z]" <<<"$readme" || flunk "the README does not give exit code $code: $readme"
    grep -Eq "^\| $code \| [a-z]" <<<"$guide" || flunk "the guide's table has no row for exit code $code"
    if [ -n "$man" ]; then
        grep -Eq "^\*?$code\*?( |$)" <<<"$man" || flunk "the man page's EXIT STATUS does not give $code"
    fi
done
for extra in 6 7 8 9; do
    grep -Eq "^\| $extra \|" <<<"$guide" && flunk "the guide names an exit code $extra the program does not have"
done

# 2. The program.
DATA=$WORK/data
mkdir -p "$DATA"
echo "カルテ" >"$DATA/a.txt"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset ds "$DATA"
check_exit 0 "$BKP" generations --repo "$REPO"

# 2: a bad option; no such generation; a target not empty.
check_exit 2 "$BKP" generations --repo "$REPO" --no-such-option
check_exit 2 "$BKP" restore ds:99 "$WORK/out" --repo "$REPO"
mkdir -p "$WORK/full" && echo x >"$WORK/full/x"
check_exit 2 "$BKP" restore ds:1 "$WORK/full" --repo "$REPO"
# The refusal in --json says why in both languages, as the audit record keeps it.
check_exit 2 "$BKP" restore ds:1 "$WORK/full" --repo "$REPO" --json
output_has '"error_ja":' "restore --json should say a refused target's reason in Japanese too"

# 5: nothing initialised there.
check_exit 5 "$BKP" generations --repo "$WORK/nowhere"

# 4: a wrong passphrase; too few share sheets. The options every command
# takes may come before the command too.
printf 'not the passphrase\n' >"$WORK/wrong" && chmod 600 "$WORK/wrong"
check_exit 4 "$BKP" generations --repo "$REPO" --passphrase-file "$WORK/wrong"
check_exit 4 "$BKP" --passphrase-file "$WORK/wrong" -q generations --repo "$REPO"
check_exit 0 "$BKP" -v --passphrase-file="$PASSFILE" generations --repo "$REPO"
check_exit 2 "$BKP" --passphrase-file "$WORK/wrong"
output_has "no command after --passphrase-file"
ok "$BKP" key split --repo "$REPO" --shares 3 --threshold 2 -o "$WORK/sheets"
(
    unset BKP_PASSPHRASE_FILE BKP_PASSPHRASE_COMMAND
    check_exit 4 "$BKP" generations --repo "$REPO" --key-from "$WORK/sheets/share-1-of-3.md" </dev/null
    output_has "fewer shares"
    check_exit 0 "$BKP" generations --repo "$REPO" --key-from "$WORK/sheets/share-1-of-3.md" \
        --key-from "$WORK/sheets/share-3-of-3.md" </dev/null
    exit "$FLUNKED"
) || FLUNKED=$((FLUNKED + 1))

# 3: another run holds the lock (its hook sleeps).
cat >"$WORK/policy.yaml" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: ds
    paths: [$DATA]
    schedule: daily 02:00
    before: { command: "sleep 4", timeout: 30s }
YAML
"$BKP" run --force --policy "$WORK/policy.yaml" >/dev/null 2>&1 &
holder=$!
sleep 1.5
check_exit 3 "$BKP" run --force --policy "$WORK/policy.yaml"
wait "$holder" || true

# 1: damage found.
cp -a "$REPO" "$WORK/damaged"
pack=$(find "$WORK/damaged/packs" -type f | head -n 1)
chmod u+w "$pack"
flip_byte "$pack" 100
check_exit 1 "$BKP" verify --read-data --repo "$WORK/damaged"

finish
