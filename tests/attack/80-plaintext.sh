#!/usr/bin/env bash
# 80-plaintext — plaintext leaves without protection no more (issue: "`restore
# --to-archive FILE` writes the decrypted tar with mode 0644 and follows a
# planted symlink (it overwrote the link's target)"), and a restore whose
# item list is damaged says how much was lost (it said "1 file(s)" when 300
# were).
#
#  1. --to-archive onto a planted symlink: refused (exit 2), the link's target
#     unchanged, the link still a link; with --force too.
#  2. --to-archive onto an existing regular file: refused without --force,
#     the file unchanged; with --force replaced by the tar. A hard link to a
#     file elsewhere, given with --force: the other file is unchanged.
#  3. The file made is mode 0600, even under umask 000.
#  4. A generation of 300 empty files whose item list (its only tree blob)
#     is damaged: restore exits 1 and names the true number of items not
#     restored — as many as the generation records — never "1 file(s)".
#  5. A restore to a tar killed part way leaves no file under the name
#     given (a partial tar there would pass for a whole one): only a
#     temporary file, mode 0600, which the next restore does not mind.
. "$(dirname "$0")/../e2e/lib.sh"
need_tool od dd bsdtar

D=$WORK/data
REPO=$WORK/repo
mkdir -p "$D"
echo "patient record" >"$D/chart.txt"
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset ds "$D"
{ repo_digest "$REPO/packs"; repo_digest "$REPO/generations"; } >"$WORK/repo-before"

# ---------- 1. a planted symlink ----------
VICTIM=$WORK/victim # say, /etc/shadow
echo "root:precious:19000::::::" >"$VICTIM"
cp "$VICTIM" "$WORK/victim.orig"
ln -s "$VICTIM" "$WORK/out.tar"
for force in "" --force; do
    expect_exit 2 "$BKP" restore --repo "$REPO" ds:1 --to-archive "$WORK/out.tar" $force
    output_has "symbolic link" "the refusal must say the file is a link"
    cmp -s "$VICTIM" "$WORK/victim.orig" || flunk "restore --to-archive $force wrote through a planted link"
    [ -L "$WORK/out.tar" ] || flunk "the planted link was replaced ($force): it should be refused, not touched"
done

# ---------- 2. an existing regular file ----------
echo "yesterday's export" >"$WORK/exists.tar"
cp "$WORK/exists.tar" "$WORK/exists.orig"
expect_exit 2 "$BKP" restore --repo "$REPO" ds:1 --to-archive "$WORK/exists.tar"
output_has "--force" "the refusal must say how to replace the file"
cmp -s "$WORK/exists.tar" "$WORK/exists.orig" || flunk "an existing file was overwritten without --force"
ok "$BKP" restore --repo "$REPO" ds:1 --to-archive "$WORK/exists.tar" --force
bsdtar -tf "$WORK/exists.tar" | grep -q 'chart.txt$' || flunk "--force did not replace the file with the tar"
# A hard link to another file: the other file is not written.
echo "another file" >"$WORK/other"
cp "$WORK/other" "$WORK/other.orig"
ln "$WORK/other" "$WORK/hard.tar"
ok "$BKP" restore --repo "$REPO" ds:1 --to-archive "$WORK/hard.tar" --force
cmp -s "$WORK/other" "$WORK/other.orig" || flunk "--force wrote the tar into a hard-linked file"

# ---------- 3. the mode ----------
(umask 000 && "$BKP" restore --repo "$REPO" ds:1 --to-archive "$WORK/new.tar") ||
    flunk "restore --to-archive into a new file failed"
m=$(stat -c %a "$WORK/new.tar")
[ "$m" = 600 ] || flunk "the decrypted tar has mode $m, not 600"
m=$(stat -c %a "$WORK/exists.tar")
[ "$m" = 600 ] || flunk "the tar made with --force has mode $m, not 600"
bsdtar -xOf "$WORK/new.tar" | grep -q "patient record" || flunk "the tar does not hold the data"
{ repo_digest "$REPO/packs"; repo_digest "$REPO/generations"; } >"$WORK/repo-after"
cmp -s "$WORK/repo-before" "$WORK/repo-after" || flunk "restore --to-archive changed the packs or records"

# ---------- 4. a damaged item list ----------
M=$WORK/many
R2=$WORK/repo2
mkdir -p "$M/ward"
for i in $(seq 1 300); do : >"$M/ward/f$i"; done # empty: the new pack holds the tree alone
ok "$BKP" init --repo "$R2"
ok "$BKP" backup --repo "$R2" --dataset many "$M"
items=$(find "$M" | wc -l)
PACK=$(find "$R2/packs" -type f ! -name '.tmp-*')
[ "$(printf '%s\n' "$PACK" | wc -l)" = 1 ] || fail "expected one pack (the tree), found: $PACK"
off=$(($(stat -c %s "$PACK") / 2))
v=$(od -An -tu1 -j "$off" -N 1 "$PACK" | tr -d ' ')
chmod u+w "$PACK"
printf '%b' "$(printf '\\%03o' $((v ^ 0x5a)))" | dd of="$PACK" bs=1 seek="$off" conv=notrunc status=none
expect_exit 1 "$BKP" restore --repo "$R2" many:1 "$WORK/restored"
output_has "$items of the $items items" "the restore must say how many items were not restored"
if grep -q '^bkp: error: 1 file(s)' <<<"$ERR"; then
    flunk "a damaged item list of $items items is reported as 1 file"
fi
expect_exit 1 "$BKP" restore --repo "$R2" many:1 --to-archive "$WORK/many.tar"
output_has "$items of the $items items" "the restore to a tar must say how many items were not restored"

# ---------- 5. killed part way ----------
B=$WORK/big
R3=$WORK/repo3
TARS=$WORK/out5
mkdir -p "$B" "$TARS"
for i in 1 2 3 4; do head -c 48M /dev/urandom >"$B/scan$i.dcm"; done
ok "$BKP" init --repo "$R3"
ok "$BKP" backup --repo "$R3" --dataset big "$B"
"$BKP" restore --repo "$R3" big:1 --to-archive "$TARS/big.tar" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 400); do
    t=$(find "$TARS" -name '.tmp-*' -size +1M | head -n 1)
    [ -n "$t" ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -n "$t" ] || flunk "no temporary file was seen while the tar was being written"
[ ! -e "$TARS/big.tar" ] || flunk "a restore killed part way left a partial tar under the name given"
m=$(stat -c %a "$t")
[ "$m" = 600 ] || flunk "the temporary tar has mode $m, not 600"
ok "$BKP" restore --repo "$R3" big:1 --to-archive "$TARS/big.tar"
bsdtar -tf "$TARS/big.tar" | grep -q 'scan4.dcm$' || flunk "the tar after a killed restore is not whole"
finish
