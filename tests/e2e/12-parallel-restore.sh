#!/bin/bash
# 12-parallel-restore — files restored by several writers come back exactly as by one.
#
# A restore into a directory creates and writes regular files on parallel writers
# (large files in ranges, by every writer at once), while one thread makes the folders
# and links in order. This tree has what that could get wrong: many small files, hard
# links (one whose first name is deep in another folder, one to a large file still
# being written in ranges), sparse files with holes at the start and end, xattrs on a
# small and a large file, symlinks, empty files and folders, folders with unusual
# modes, owners and times. It is restored with --workers 1 and --workers 4 and
# compared with bsdtar's mtree (type, mode, owner, size, mtime to the nanosecond, link
# target, sha256, link count), plus atimes, holes and xattrs.
. "$(dirname "$0")/lib.sh"
need_root
need_tool bsdtar setfattr getfattr du stat truncate dd

SRC=$WORK/src/tree
REPO=$WORK/repo
mkdir -p "$SRC"
cd "$SRC"

# Many small files in many folders (sizes 0 to ~8 KiB).
for d in $(seq -w 1 24); do
    mkdir -p "cases/c$d"
    for f in $(seq -w 1 60); do
        head -c $(((10#$d * 131 + 10#$f * 97) % 8192)) /dev/urandom >"cases/c$d/doc$f"
    done
done
: >empty-file
: >cases/c01/empty-too
mkdir -p empty-dir deep/a/b/c/d/e/f

# A large file, written in ranges by several writers; an xattr on it; a hard link to it
# that must be made only once all its ranges are written.
head -c $((40 << 20)) /dev/urandom >large
setfattr -n user.large -v 'ranges' large 2>/dev/null || true
ln large zz-large-link

# Hard links: the first name (in walk order) deep in one folder, the others elsewhere.
head -c 70000 /dev/urandom >deep/a/b/c/d/e/f/first
ln deep/a/b/c/d/e/f/first cases/c07/second
ln deep/a/b/c/d/e/f/first zz-third
printf 'small linked' >cases/c02/small
ln cases/c02/small cases/c03/small-link

# Sparse: a large one (written in ranges) with a hole at the start, between its data and
# at its end; a small one that is nothing but a hole.
truncate -s 100M sparse-large
dd if=/dev/urandom of=sparse-large bs=1M seek=10 count=12 conv=notrunc status=none
dd if=/dev/urandom of=sparse-large bs=1M seek=50 count=12 conv=notrunc status=none
truncate -s 5M sparse-hole

# xattrs on a small file and a folder.
HAVE_XATTR=0
printf 'x' >xattr-file
if setfattr -n user.a -v 0x00ff00 xattr-file 2>/dev/null; then
    setfattr -n user.dir -v here cases/c05
    HAVE_XATTR=1
fi

# Symlinks: relative, absolute, dangling, to a folder.
ln -s cases/c01/doc01 rel-link
ln -s /nonexistent/target abs-link
ln -s ../missing dangling-link
ln -s cases dir-link

# Owners and modes on files and folders (a read-only folder still receives its files:
# its mode is set last).
chown 1234:5678 cases/c04/doc01 cases/c06
chmod 0640 cases/c04/doc01
chmod 4755 cases/c04/doc02
chmod 0555 cases/c08
chmod 0700 cases/c09
chmod 2750 cases/c10
chmod 1777 empty-dir

# Times to the nanosecond; folders last.
touch -m -d '2001-01-01 01:01:01.111111111' cases/c01/doc01 large
find . -depth -type d -exec touch -d '2012-12-12 12:12:12.121212121' {} +
touch -d '2015-05-05 05:05:05.505050505' cases/c08 empty-dir
cd "$WORK"

ok "$BKP" init --repo "$REPO"
sleep 2.5 # files changed within 2 s of a capture are read again next time: let them age
ok "$BKP" backup --repo "$REPO" --dataset tree "$SRC"

xattrs_of() {
    (cd "$1" && find . -print0 | xargs -0 getfattr -h -d -m '^user\.' -e hex --absolute-names) |
        awk 'BEGIN { RS = ""; ORS = "\n" } { gsub("\n", " | "); print }' | sort
}

for n in 1 4; do
    T=$WORK/restore-w$n
    check_exit 0 "$BKP" restore --repo "$REPO" --workers "$n" --verify tree:latest "$T" || continue
    R=$T$SRC
    same_mtree "$SRC" "$R" "restore with --workers $n"
    for f in cases/c01/doc01 large empty-file cases/c08 empty-dir; do
        a=$(stat -c '%y %a %u %g' "$SRC/$f")
        b=$(stat -c '%y %a %u %g' "$R/$f" 2>&1) || true
        [ "$a" = "$b" ] || flunk "--workers $n: mtime/mode/owner of $f: original '$a', restored '$b'"
    done
    i1=$(stat -c %i "$R/deep/a/b/c/d/e/f/first" 2>&1) || true
    i2=$(stat -c %i "$R/cases/c07/second" 2>&1) || true
    i3=$(stat -c %i "$R/zz-third" 2>&1) || true
    [ "$i1" = "$i2" ] && [ "$i2" = "$i3" ] || flunk "--workers $n: hard links are not one file: $i1 $i2 $i3"
    src_du=$(du -k "$SRC/sparse-large" | cut -f1)
    dst_du=$(du -k "$R/sparse-large" | cut -f1)
    [ "$dst_du" -le $((src_du + 1024)) ] ||
        flunk "--workers $n: sparse-large restored with its holes filled: du $dst_du KiB, original $src_du KiB"
    [ "$(du -k "$R/sparse-hole" | cut -f1)" -le 64 ] ||
        flunk "--workers $n: sparse-hole restored dense"
    if [ "$HAVE_XATTR" = 1 ]; then
        xattrs_of "$SRC" >"$WORK/xa-src"
        xattrs_of "$R" >"$WORK/xa-dst" || true
        grep -q 'user.large=' "$WORK/xa-src" || fail "the getfattr oracle sees no xattr on large"
        diff "$WORK/xa-src" "$WORK/xa-dst" >/dev/null || flunk "--workers $n: user.* xattrs differ"
    fi
done

# The two restores are the same tree, whatever the number of writers.
same_mtree "$WORK/restore-w1$SRC" "$WORK/restore-w4$SRC" "--workers 1 and --workers 4"

# --path restores a subtree with the parallel writers too: the hard link whose first
# name is outside it becomes the file.
T=$WORK/restore-path
check_exit 0 "$BKP" restore --repo "$REPO" --workers 4 tree:latest "$T" --path "$SRC/cases" || true
cmp -s "$SRC/cases/c07/second" "$T$SRC/cases/c07/second" ||
    flunk "--path: cases/c07/second (a link to a file outside the subtree) differs"
[ ! -e "$T$SRC/large" ] || flunk "--path restored files outside the subtree"

finish
