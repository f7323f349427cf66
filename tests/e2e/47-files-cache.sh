#!/bin/bash
# 47-files-cache — the files cache spares every unchanged file, and a cache that
# is damaged or replaced costs reading, never correctness.
#
# A tree of 8,000 files in 800 folders (a cache of two segments): the second
# backup reads no file content. Then the cache is cut short, has a byte
# flipped, is replaced by garbage, by a symbolic link to /etc/passwd and by a
# FIFO: each backup still succeeds, warns about the files cache on stderr and
# in `--json` (files_cache_problem), seals a generation that restores exactly
# (bsdtar mtree and diff -r against the source), leaves the link's target
# alone, and the backup after it reads nothing again. A renamed file, a
# chmod'ed folder, a new xattr on a folder, a touched file and a file
# rewritten with its size and mtime kept are each in the next generation.
# And a policy whose roots are listed out of walk order gets a cache that
# works (its second backup reads nothing).
. "$(dirname "$0")/lib.sh"
need_root
need_tool bsdtar diff sha256sum mkfifo timeout

SRC=$WORK/src/tree
REPO=$WORK/repo
CACHE=$REPO/cache/files-t
mkdir -p "$SRC"

# ---------------------------------------------------------------------------
# 400 patient folders, each with a subfolder; names that sort differently
# bytewise than in walk order (b, b-c, b.txt beside the folder b/).
cd "$SRC"
for p in $(seq -w 1 400); do
    mkdir -p "p$p/b"
    for f in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
        printf 'patient %s note %s\n' "$p" "$f" >"p$p/n$f.txt"
    done
    printf 'inner %s\n' "$p" >"p$p/b/inner"
    printf 'dash %s\n' "$p" >"p$p/b-c"
    printf 'dot %s\n' "$p" >"p$p/b.txt"
done
head -c 300000 /dev/urandom >p001/scan.bin
NFILES=$(find "$SRC" -type f | wc -l)
cd "$WORK"

ok "$BKP" init --repo "$REPO"
# Files changed less than 2 s before a capture are read again next time (their
# timestamps could hide a change within the same tick): let the tree age.
sleep 2.5

backup() { # backup [check_exit args]: one backup of the tree, --json
    check_exit 0 timeout 300 "$BKP" backup --repo "$REPO" --dataset t --json "$SRC"
}

# A backup that reads no file content and names no cache problem.
expect_all_cached() {
    local what=$1
    backup || return 0
    [ "$(json_num bytes_read)" = 0 ] || flunk "$what: bytes_read $(json_num bytes_read), want 0"
    [ "$(json_num files_unchanged)" = "$(json_num files)" ] ||
        flunk "$what: files_unchanged $(json_num files_unchanged) of $(json_num files)"
    grep -q '"files_cache_problem": null' <<<"$OUT" ||
        flunk "$what: files_cache_problem is not null: $(grep files_cache_problem <<<"$OUT")"
    if grep -qi 'files cache' <<<"$ERR"; then
        flunk "$what: a warning about the files cache: $ERR"
    fi
}

# Restore the latest generation and compare it with the source.
expect_restores() {
    local what=$1 dst=$WORK/restore-$2
    check_exit 0 "$BKP" restore --repo "$REPO" t:latest "$dst" || return 0
    same_mtree "$SRC" "$dst$SRC" "$what"
    if ! diff -r --no-dereference "$SRC" "$dst$SRC" >"$WORK/.diff" 2>&1; then
        head -n 10 "$WORK/.diff" >&2
        flunk "$what: diff -r finds differences"
    fi
    rm -rf "$dst"
}

backup || fail "first backup"
FILES=$(json_num files)
[ "$FILES" -ge "$NFILES" ] || flunk "first backup: $FILES files, the tree has $NFILES"
[ "$(json_num bytes_read)" -gt 300000 ] || flunk "first backup read $(json_num bytes_read) bytes"
[ -f "$CACHE" ] || fail "no files cache after the first backup"
# Several segments (FORMAT.md §8: 24 bytes of header, then u32 length ||
# sealed segment), so that a cut can leave a whole one in front of it.
# A saved cache ends with its stamp (sealed || u32 length || "BKPFCV01"),
# which is not a segment: its length, or 0.
stamp_of() {
    local f=$1 size
    size=$(stat -c %s "$f")
    if [ "$(tail -c 8 "$f")" = BKPFCV01 ]; then
        echo $(($(od -An -tu4 -j $((size - 12)) -N4 "$f" | tr -d ' ') + 12))
    else
        echo 0
    fi
}
segments_of() {
    local f=$1 off=24 size n=0 len
    size=$(($(stat -c %s "$f") - $(stamp_of "$f")))
    while [ "$off" -lt "$size" ]; do
        len=$(od -An -tu4 -j "$off" -N4 "$f" | tr -d ' ')
        off=$((off + 4 + len))
        n=$((n + 1))
    done
    echo "$n"
}
[ "$(segments_of "$CACHE")" -ge 2 ] || flunk "the cache has $(segments_of "$CACHE") segment(s), want 2 or more"
expect_all_cached "second backup"
expect_restores "second backup" 2

# ---------------------------------------------------------------------------
# Damaged or replaced caches.
PASSWD_SUM=$(sha256sum /etc/passwd)
flip() { # flip one bit of the byte at offset $1 of the cache
    local b
    b=$(od -An -tu1 -j "$1" -N1 "$CACHE" | tr -d ' ')
    printf "\\$(printf %03o $((b ^ 4)))" | dd of="$CACHE" bs=1 seek="$1" conv=notrunc status=none
}
damage() {
    local how=$1 size
    size=$(($(stat -c %s "$CACHE") - $(stamp_of "$CACHE"))) # the segments' end
    case $how in
    truncated) truncate -s $((size - 100)) "$CACHE" ;;
    flipped-last) flip $((size - 50)) ;;
    flipped-first) flip 40 ;;
    garbage) rm -f "$CACHE" && head -c 70000 /dev/urandom >"$CACHE" ;;
    symlink) rm -f "$CACHE" && ln -s /etc/passwd "$CACHE" ;;
    fifo) rm -f "$CACHE" && mkfifo -m 600 "$CACHE" ;;
    esac
}
for how in truncated flipped-last flipped-first garbage symlink fifo; do
    damage "$how"
    backup || continue
    grep -q '"files_cache_problem": "' <<<"$OUT" ||
        flunk "$how cache: files_cache_problem is not set: $(grep files_cache_problem <<<"$OUT")"
    grep -qi 'files cache' <<<"$ERR" || flunk "$how cache: no warning about the files cache on stderr"
    [ "$(json_num files)" = "$FILES" ] || flunk "$how cache: $(json_num files) files, want $FILES"
    if [ "$how" = truncated ] || [ "$how" = flipped-last ]; then
        # The whole segments in front of the damage still spare their files.
        u=$(json_num files_unchanged)
        [ "$u" -gt 0 ] && [ "$u" -lt "$FILES" ] ||
            flunk "$how cache: $u files unchanged of $FILES, want some but not all"
        [ "$how" = flipped-last ] || output_has "cut short" "a cut cache should say so"
    else
        [ "$(json_num files_unchanged)" = 0 ] ||
            flunk "$how cache: $(json_num files_unchanged) files taken from it"
    fi
    [ -f "$CACHE" ] && [ ! -L "$CACHE" ] || flunk "$how cache: not replaced by a regular file"
    [ "$(sha256sum /etc/passwd)" = "$PASSWD_SUM" ] || fail "$how cache: /etc/passwd changed"
    expect_restores "backup over a $how cache" "$how"
    expect_all_cached "backup after the $how cache"
done

# ---------------------------------------------------------------------------
# Changes the cache must not hide.
mv "$SRC/p005/n3.txt" "$SRC/p005/n3-renamed.txt"
chmod 700 "$SRC/p010"
touch "$SRC/p030/n1.txt"
# Same size, same mtime, new content: only the ctime tells.
m=$(stat -c %y "$SRC/p040/n2.txt")
printf 'patient 040 NOTE 2\n' >"$SRC/p040/n2.txt"
touch -d "$m" "$SRC/p040/n2.txt"
HAVE_XATTR=0
if command -v setfattr >/dev/null && command -v getfattr >/dev/null &&
    setfattr -n user.ward -v cardiology "$SRC/p020" 2>/dev/null; then
    HAVE_XATTR=1
else
    echo "note [$TEST_NAME]: no user xattrs here; the folder xattr check is skipped" >&2
fi
sleep 2.5
backup || fail "backup after the changes"
grep -q '"files_cache_problem": null' <<<"$OUT" || flunk "changes: files_cache_problem set: $OUT"
[ "$(json_num bytes_read)" -gt 0 ] || flunk "changes: nothing was read"
[ "$(json_num files_unchanged)" -ge $((FILES - 5)) ] ||
    flunk "changes: only $(json_num files_unchanged) of $FILES files unchanged"
DST=$WORK/restore-changes
ok "$BKP" restore --repo "$REPO" t:latest "$DST"
same_mtree "$SRC" "$DST$SRC" "generation after the changes"
diff -r --no-dereference "$SRC" "$DST$SRC" >/dev/null 2>&1 || flunk "changes: diff -r finds differences"
[ -f "$DST$SRC/p005/n3-renamed.txt" ] && [ ! -e "$DST$SRC/p005/n3.txt" ] ||
    flunk "the renamed file is not under its new name only"
[ "$(stat -c %a "$DST$SRC/p010")" = 700 ] || flunk "the chmod'ed folder is $(stat -c %a "$DST$SRC/p010")"
[ "$(stat -c %y "$DST$SRC/p030/n1.txt")" = "$(stat -c %y "$SRC/p030/n1.txt")" ] ||
    flunk "the touched file keeps its old mtime"
grep -q NOTE "$DST$SRC/p040/n2.txt" || flunk "the rewritten file (same size and mtime) has its old content"
if [ "$HAVE_XATTR" = 1 ]; then
    v=$(getfattr --absolute-names --only-values -n user.ward "$DST$SRC/p020" 2>&1) || true
    [ "$v" = cardiology ] || flunk "the folder's new xattr is not restored: '$v'"
fi
rm -rf "$DST"
expect_all_cached "backup after the changes were taken"

# ---------------------------------------------------------------------------
# Roots listed out of walk order ("b-c" sorts before "b/inner" bytewise, after
# it in a walk): the cache is written and merged across them all the same.
TWO=$WORK/two
mkdir -p "$TWO/zeta" "$TWO/b/inner" "$TWO/b-c"
for i in $(seq 1 200); do
    printf 'z %s\n' "$i" >"$TWO/zeta/f$i"
    printf 'i %s\n' "$i" >"$TWO/b/inner/f$i"
    printf 'c %s\n' "$i" >"$TWO/b-c/f$i"
done
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: two
    paths: [$TWO/zeta, $TWO/b-c, $TWO/b/inner]
    schedule: daily 02:00
    retention: { keep_last: 3 }
YAML
sleep 2.5
ok timeout 300 "$BKP" backup --policy "$POL" two --json
[ "$(json_num files)" -ge 600 ] || flunk "policy backup: $(json_num files) files, want 600"
ok timeout 300 "$BKP" backup --policy "$POL" two --json
[ "$(json_num bytes_read)" = 0 ] || flunk "roots out of order: second backup read $(json_num bytes_read) bytes"
[ "$(json_num files_unchanged)" = "$(json_num files)" ] ||
    flunk "roots out of order: $(json_num files_unchanged) of $(json_num files) files unchanged"

finish
