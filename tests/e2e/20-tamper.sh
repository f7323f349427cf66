#!/bin/bash
# 20-tamper — damaged, missing and forged repository objects are detected and named;
# restore fails the affected files loudly and restores the rest; a wrong passphrase
# or a badly protected passphrase file is refused and nothing is written.
#
# Each case works on a fresh copy of one repository holding two generations.
. "$(dirname "$0")/lib.sh"
need_tool cmp od dd truncate

D=$WORK/data # the data set; stored as ${D#/}
REPO=$WORK/repo
mkdir -p "$D/sub"
head -c 4000000 /dev/urandom >"$D/a"
head -c 4000000 /dev/urandom >"$D/b"
head -c 4000000 /dev/urandom >"$D/sub/c"
seq 1 100000 >"$D/t.txt"
echo small >"$D/sub/small"

ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset ds "$D"
packs_of "$REPO" >"$WORK/packs1"
cp -a "$D" "$WORK/snap1" # the data as generation ds:1 holds it

head -c 3000000 /dev/urandom >"$D/new"
echo "one more line" >>"$D/t.txt"
ok "$BKP" backup --repo "$REPO" --dataset ds "$D"
packs_of "$REPO" >"$WORK/packs2"
ok "$BKP" verify --repo "$REPO" --read-data

# The biggest pack of each backup holds its file data.
biggest() { xargs -r ls -S | head -n 1; }
PACK1=$(biggest <"$WORK/packs1")
PACK2=$(comm -13 "$WORK/packs1" "$WORK/packs2" | biggest)
[ -n "$PACK2" ] || fail "the second backup wrote no new pack"
PACK1_ID=$(basename "$PACK1")
PACK2_ID=$(basename "$PACK2")
PACK1_REL=${PACK1#"$REPO"/}
PACK2_REL=${PACK2#"$REPO"/}
GEN1_REL=generations/ds/0000000001.gen
GEN2_REL=generations/ds/0000000002.gen
[ -f "$REPO/$GEN2_REL" ] || fail "no $GEN2_REL in the repository"

fresh() { # NAME: a fresh copy of the repository; prints its path
    cp -a "$REPO" "$WORK/$1"
    echo "$WORK/$1"
}

flip_byte() { # FILE OFFSET
    local f=$1 off=$2 v
    v=$(od -An -tu1 -j "$off" -N 1 "$f" | tr -d ' ')
    chmod u+w "$f"
    printf '%b' "$(printf '\\%03o' $((v ^ 0x5a)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
    chmod u-w "$f"
}

# check_partial_restore REPO GEN SNAPSHOT: restore GEN; it must exit 1; every file of
# SNAPSHOT is either restored identical or named in the error output (and then absent),
# and at least one is named. Sets DAMAGED to the names of the damaged files.
check_partial_restore() {
    local repo=$1 gen=$2 snap=$3 t f rel
    t=$(mktemp -d "$WORK/restore.XXXXXX")
    rmdir "$t"
    check_exit 1 "$BKP" restore --repo "$repo" "$gen" "$t" || return 0
    DAMAGED=
    while IFS= read -r f; do
        rel=${f#"$snap"/}
        if cmp -s "$f" "$t$D/$rel"; then
            continue
        fi
        if grep -qF "${D#/}/$rel" <<<"$ERR"; then
            DAMAGED="$DAMAGED $rel"
            # A damaged file must not be left looking like a restored one.
            [ ! -e "$t$D/$rel" ] || flunk "restore of $gen left the damaged file $rel in the target"
        else
            flunk "restore of $gen: $rel is not restored identical, and the errors do not name it"
        fi
    done < <(find "$snap" -type f | sort)
    [ -n "$DAMAGED" ] || flunk "restore of $gen exited 1 but every file came back identical"
}

# ---------------------------------------------------------------------------
# 1. One flipped byte in the middle of the first backup's pack.
R=$(fresh flip1)
flip_byte "$R/$PACK1_REL" $(($(stat -c %s "$R/$PACK1_REL") / 2))
check_exit 1 "$BKP" verify --repo "$R" --read-data || true
output_has "$PACK1_ID" "verify --read-data must name the damaged pack"
output_has "ds:1" "verify --read-data must name the generation that uses the pack"
check_partial_restore "$R" ds:1 "$WORK/snap1"
# ds:2 shares the damage through its unchanged files; its own new data is intact.
want=1
[ "${DAMAGED# }" != t.txt ] || want=0 # (t.txt changed in ds:2)
check_exit $want "$BKP" restore --repo "$R" ds:2 "$WORK/flip1-r2" || true
cmp -s "$D/new" "$WORK/flip1-r2$D/new" || flunk "restore of ds:2 after damage to ds:1's pack lost 'new'"
cmp -s "$D/t.txt" "$WORK/flip1-r2$D/t.txt" || flunk "restore of ds:2 after damage to ds:1's pack lost 't.txt'"

# 2. One flipped byte in the middle of the second backup's pack: only ds:2 is hit.
R=$(fresh flip2)
flip_byte "$R/$PACK2_REL" $(($(stat -c %s "$R/$PACK2_REL") / 2))
check_exit 1 "$BKP" verify --repo "$R" --read-data || true
output_has "$PACK2_ID" "verify --read-data must name the damaged pack"
output_has "ds:2" "verify --read-data must name the generation that uses the pack"
if printf '%s\n%s\n' "$OUT" "$ERR" | grep -q 'ds:1\b'; then
    flunk "verify blames ds:1 for damage in a pack only ds:2 uses: $(printf '%s\n' "$ERR" | head -5)"
fi
check_partial_restore "$R" ds:2 "$D"
check_exit 0 "$BKP" restore --repo "$R" ds:1 "$WORK/flip2-r1" || true
diff -r "$WORK/snap1" "$WORK/flip2-r1$D" >/dev/null 2>&1 ||
    flunk "ds:1 does not restore exactly after damage to a pack only ds:2 uses"

# 3. A truncated pack.
R=$(fresh trunc)
chmod u+w "$R/$PACK1_REL"
truncate -s $(($(stat -c %s "$R/$PACK1_REL") / 2)) "$R/$PACK1_REL"
check_exit 1 "$BKP" verify --repo "$R" --read-data || true
output_has "$PACK1_ID" "verify --read-data must name the truncated pack"
# A pack that lost only its last bytes (its trailer).
R=$(fresh trunc-tail)
chmod u+w "$R/$PACK1_REL"
truncate -s $(($(stat -c %s "$R/$PACK1_REL") - 16)) "$R/$PACK1_REL"
check_exit 1 "$BKP" verify --repo "$R" --read-data || true
output_has "$PACK1_ID" "verify --read-data must name the pack that lost its tail"

# 4. A deleted pack: found without reading data.
R=$(fresh delete)
rm -f "$R/$PACK1_REL"
check_exit 1 "$BKP" verify --repo "$R" || true
output_has "$PACK1_ID" "verify must name the missing pack"
output_has "ds:1" "verify must name the generations that need the missing pack"
check_partial_restore "$R" ds:2 "$D"
case " $DAMAGED " in
*" new "*) flunk "restore of ds:2 calls 'new' damaged, though its pack is intact" ;;
esac

# 5. One edited byte inside the JSON of generation 2's record (still valid JSON).
R=$(fresh gen-edit)
g=$R/$GEN2_REL
hit=$(grep -obUa '"host": *"' "$g" | head -n 1) || fail "no \"host\" field in $GEN2_REL"
start=${hit%%:*}
match=${hit#*:}
off=$((start + ${#match})) # the first character of the host name
c=$(dd if="$g" bs=1 skip="$off" count=1 status=none)
new_c=X
[ "$c" != X ] || new_c=Y
chmod u+w "$g"
printf '%s' "$new_c" | dd of="$g" bs=1 seek="$off" conv=notrunc status=none
chmod u-w "$g"
check_exit 1 "$BKP" verify --repo "$R" || true
output_has "0000000002" "verify must name the damaged generation record"
check_exit 0 "$BKP" generations --repo "$R" || true
grep -qi 'damaged' <<<"$OUT" || flunk "generations does not show the edited record as damaged: $OUT"
check_exit 0 "$BKP" generations --repo "$R" --json || true
grep -q '"status": *"damaged"' <<<"$OUT" ||
    flunk "generations --json does not give the edited record status \"damaged\""
check_exit 0 "$BKP" restore --repo "$R" ds:1 "$WORK/gen-edit-r1" || true
diff -r "$WORK/snap1" "$WORK/gen-edit-r1$D" >/dev/null 2>&1 ||
    flunk "ds:1 does not restore exactly next to a damaged ds:2 record"

# 6. Generation 2's record replaced by a copy of generation 1's (a replay).
R=$(fresh gen-replay)
chmod u+w "$R/$GEN2_REL"
cp "$R/$GEN1_REL" "$R/$GEN2_REL"
check_exit 1 "$BKP" verify --repo "$R" || true
output_has "0000000002" "verify must name the replaced generation record"

# 7. Wrong passphrase: exit 4, a clear message, nothing written anywhere.
printf '%s\n' 'this is not the passphrase' >"$WORK/wrong"
chmod 600 "$WORK/wrong"
repo_digest "$REPO" >"$WORK/digest-before"
for cmd in "generations" "ls ds:1" "diff ds:1 ds:2" "verify" "verify --read-data" \
    "backup --dataset ds $D" "backup --dataset other $D" "restore ds:1 $WORK/wrong-target"; do
    # shellcheck disable=SC2086
    check_exit 4 "$BKP" $cmd --repo "$REPO" --passphrase-file "$WORK/wrong" || true
    output_has "passphrase" "the error for a wrong passphrase should say so ($cmd)"
done
BKP_PASSPHRASE_FILE=$WORK/wrong check_exit 4 "$BKP" generations --repo "$REPO" || true
repo_digest "$REPO" >"$WORK/digest-after"
diff "$WORK/digest-before" "$WORK/digest-after" >&2 ||
    flunk "commands with a wrong passphrase changed the repository"
[ ! -e "$WORK/wrong-target" ] || flunk "restore with a wrong passphrase created its target"

# A missing key file is refused the same way.
R=$(fresh nokey)
rm -f "$R/keys/key"
repo_digest "$R" >"$WORK/digest-before"
check_exit 2 "$BKP" backup --repo "$R" --dataset ds "$D" || true
check_exit 2 "$BKP" generations --repo "$R" || true
repo_digest "$R" >"$WORK/digest-after"
diff "$WORK/digest-before" "$WORK/digest-after" >&2 || flunk "commands without a key file changed the repository"

# 8. A passphrase file readable by others is refused, with the fix in the message.
repo_digest "$REPO" >"$WORK/digest-before"
cp "$PASSFILE" "$WORK/loose"
chmod 644 "$WORK/loose"
check_exit 2 "$BKP" generations --repo "$REPO" --passphrase-file "$WORK/loose" || true
output_has "chmod" "a mode-0644 passphrase file: the error should say to chmod it"
BKP_PASSPHRASE_FILE=$WORK/loose check_exit 2 "$BKP" verify --repo "$REPO" || true
output_has "chmod" "a mode-0644 passphrase file in BKP_PASSPHRASE_FILE: the error should say to chmod it"
check_exit 2 "$BKP" init --repo "$WORK/loose-repo" --passphrase-file "$WORK/loose" || true
output_has "chmod" "init with a mode-0644 passphrase file: the error should say to chmod it"
[ ! -e "$WORK/loose-repo" ] || flunk "init with a mode-0644 passphrase file created the repository"
repo_digest "$REPO" >"$WORK/digest-after"
diff "$WORK/digest-before" "$WORK/digest-after" >&2 ||
    flunk "commands with a mode-0644 passphrase file changed the repository"

# 9. The index is rebuildable from the packs: deleted or damaged segments cost
#    nothing but a warning that names them.
R=$(fresh noindex)
rm -f "$R"/index/*
check_exit 0 "$BKP" verify --repo "$R" --read-data || true
check_exit 0 "$BKP" restore --repo "$R" ds:2 "$WORK/noindex-r2" || true
diff -r "$D" "$WORK/noindex-r2$D" >/dev/null 2>&1 || flunk "ds:2 does not restore exactly without an index"
R=$(fresh badindex)
seg=$(find "$R/index" -type f | head -n 1)
flip_byte "$seg" $(($(stat -c %s "$seg") / 2))
check_exit 0 "$BKP" restore --repo "$R" ds:2 "$WORK/badindex-r2" || true
output_has "$(basename "$seg")" "a damaged index segment should be named in a warning"
diff -r "$D" "$WORK/badindex-r2$D" >/dev/null 2>&1 || flunk "ds:2 does not restore exactly with a damaged index segment"

# A missing object is damage (exit 1), a generation that does not exist is a
# usage error (exit 2): the two are never told apart by the same code.
R=$(fresh nopacks)
find "$R/packs" -type f -delete
check_exit 1 "$BKP" diff --repo "$R" ds:1 ds:2 || true
output_has "missing" "diff must say an object is missing"
check_exit 1 "$BKP" ls --repo "$R" ds:1 || true
output_has "incomplete" "ls must say the file list is incomplete"
check_exit 2 "$BKP" diff --repo "$R" ds:1 ds:9 || true
check_exit 2 "$BKP" ls --repo "$R" ds:9 || true

# The untouched original still verifies completely.
check_exit 0 "$BKP" verify --repo "$REPO" --read-data || true

finish
