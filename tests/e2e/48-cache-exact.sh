#!/bin/bash
# 48-cache-exact — what the files cache spares changes nothing in what is
# sealed: a backup that takes its files from the cache seals the very item
# stream a full read seals (the same tree blob IDs, so byte for byte), before
# and after a change.
#
# The tree mixes what the cache handles differently: small files, a file of
# several chunks, a sparse file, an empty file, hard links, a file and a
# folder with an extended attribute (opened for their metadata, their content
# still from the cache), a symbolic link, a FIFO and an empty folder.
# Generation 2 is taken from the cache, 3 with --no-cache (every file read and
# hashed), 4 from the cache again: all three have the same tree blobs and the
# same `bkp ls`. Then about one file in a hundred is rewritten, a few are
# touched, added and deleted, and the cached backup after it again equals a
# --no-cache one. And a cache that cannot be written for a full disk is a
# warning and a problem in --json. (A folder's atime is part of its item, and relatime moves
# it on the first read after a change, so the folders are listed once
# before.)
. "$(dirname "$0")/lib.sh"
need_root

SRC=$WORK/src
REPO=$WORK/repo
mkdir -p "$SRC"
cd "$SRC"
for d in $(seq -w 1 60); do
    mkdir -p "d$d/sub"
    for f in $(seq 1 15); do
        printf 'patient %s note %s\n' "$d" "$f" >"d$d/n$f.txt"
    done
    printf 'inner %s\n' "$d" >"d$d/sub/inner"
done
head -c 5000000 /dev/urandom >d01/scan.bin # several chunks
truncate -s 30M d02/sparse.img
printf 'middle' | dd of=d02/sparse.img bs=1 seek=15000000 conv=notrunc status=none
: >d03/empty
ln d04/n1.txt d04/link-a
ln d04/n2.txt d05/link-b
ln -s ../d01/n1.txt d06/sym
mkfifo d07/fifo
mkdir d08/empty-folder
HAVE_XATTR=0
if command -v setfattr >/dev/null && setfattr -n user.ward -v icu d09/n1.txt 2>/dev/null &&
    setfattr -n user.ward -v icu d09; then
    HAVE_XATTR=1
fi
cd "$WORK"

ok "$BKP" init --repo "$REPO"
# Files changed less than 2 s before a capture are read again next time.
sleep 2.5

backup() { # backup [--no-cache]
    expect_exit 0 "$BKP" backup --repo "$REPO" --dataset t --json "$@" "$SRC"
}
# The tree blob IDs of generation $1, one a line.
tree_of() {
    "$BKP" generations --repo "$REPO" --json | awk -v want="$1" '
        /"seq":/ { s = $0; gsub(/[^0-9]/, "", s); seq = s }
        /"blobs": \[/ { inb = 1; next }
        inb && /\]/ { inb = 0 }
        inb && seq == want { gsub(/[ ",]/, ""); print }'
}
same_tree() { # same_tree SEQ_A SEQ_B WHAT
    local a b
    a=$(tree_of "$1")
    b=$(tree_of "$2")
    [ -n "$a" ] || flunk "$3: generation $1 has no tree blobs"
    [ "$a" = "$b" ] || flunk "$3: generations $1 and $2 have different tree blobs"
    "$BKP" ls --repo "$REPO" "t:$1" >"$WORK/ls-$1" 2>&1 || flunk "ls t:$1"
    "$BKP" ls --repo "$REPO" "t:$2" >"$WORK/ls-$2" 2>&1 || flunk "ls t:$2"
    if ! diff "$WORK/ls-$1" "$WORK/ls-$2" >"$WORK/.lsdiff"; then
        head -n 10 "$WORK/.lsdiff" >&2
        flunk "$3: bkp ls differs"
    fi
}

backup
[ "$(json_num bytes_read)" -gt 5000000 ] || flunk "first backup read $(json_num bytes_read) bytes"
backup
[ "$(json_num bytes_read)" = 0 ] || flunk "second backup read $(json_num bytes_read) bytes, want 0"
FILES=$(json_num files)
[ "$(json_num files_unchanged)" = "$FILES" ] ||
    flunk "second backup: $(json_num files_unchanged) of $FILES files unchanged"
backup --no-cache
[ "$(json_num bytes_read)" -gt 5000000 ] || flunk "--no-cache read $(json_num bytes_read) bytes"
backup
[ "$(json_num bytes_read)" = 0 ] || flunk "fourth backup read $(json_num bytes_read) bytes, want 0"
same_tree 2 3 "cached and full"
same_tree 2 4 "cached before and after a full read"

# About 1 % changed: rewritten (one at the same size and mtime), touched,
# added, deleted; the big file rewritten in its middle.
cd "$SRC"
for d in 11 22 33 44 55; do
    printf 'patient %s NOTE changed\n' "$d" >"d$d/n3.txt"
    touch "d$d/n4.txt"
    printf 'new\n' >"d$d/new.txt"
    rm "d$d/n5.txt"
done
m=$(stat -c %y d12/n2.txt)
printf 'patient 12 NOTE 2\n' >d12/n2.txt
touch -d "$m" d12/n2.txt
printf 'CHANGED' | dd of=d01/scan.bin bs=1 seek=2500000 conv=notrunc status=none
cd "$WORK"
# A folder's atime is in its item, and reading a folder whose atime is older
# than its mtime moves it (relatime): the backup after the change would move
# it for the next one. Read them now, so both see the same atimes.
ls -R "$SRC" >/dev/null
sleep 2.5
backup
[ "$(json_num bytes_read)" -gt 0 ] || flunk "the backup after the change read nothing"
[ "$(json_num files_unchanged)" -gt $((FILES - 30)) ] ||
    flunk "after the change: only $(json_num files_unchanged) of $FILES unchanged"
backup --no-cache
same_tree 5 6 "cached and full after a change"

# A cache that cannot be written (its disk full while the segments are
# written) is a warning and a problem in --json, never a silent full read
# next time; the backup itself is sealed. Needs a loop mount: skipped where
# there is none.
IMG=$WORK/small.img
if command -v mkfs.ext2 >/dev/null && dd if=/dev/zero of="$IMG" bs=1k count=512 status=none &&
    mkfs.ext2 -q -F "$IMG" >/dev/null 2>&1 && mount -o loop "$IMG" "$REPO/cache" 2>/dev/null; then
    chmod 700 "$REPO/cache"
    # Leave far less room than the cache takes.
    dd if=/dev/zero of="$REPO/cache/fill" bs=1k count=2048 status=none 2>/dev/null || true
    check_exit 0 "$BKP" backup --repo "$REPO" --dataset t --json --no-cache "$SRC"
    output_has "cannot save the files cache" "a cache that cannot be written is a warning"
    grep -q '"files_cache_problem": "' <<<"$OUT" || flunk "an unwritten cache is not in --json"
    rm -f "$REPO/cache/fill"
    umount "$REPO/cache" || umount -l "$REPO/cache"
else
    note "no loop mount here; the full-disk cache was not exercised"
fi
[ "$HAVE_XATTR" = 1 ] || note "no user xattrs here; the xattr entries were not exercised"
finish
