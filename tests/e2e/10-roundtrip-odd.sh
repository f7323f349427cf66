#!/bin/bash
# 10-roundtrip-odd — a tree full of awkward files survives backup and restore exactly.
#
# Oracles, all independent of bkp: bsdtar's mtree listing (type, mode, owner, size,
# mtime to the nanosecond, link target, sha256, link count), diff -r, stat, getfattr,
# getfacl, du (holes stay holes). Also: --to-archive produces a tar that bsdtar lists
# and extracts to the same content, --path restores only a subtree, and a second backup
# after a one-file change reads little and diffs to exactly that file.
. "$(dirname "$0")/lib.sh"
need_root
need_tool bsdtar setfattr getfattr diff du stat truncate mkfifo dd

SRC=$WORK/src/data # the data set; stored as ${SRC#/}
REPO=$WORK/repo
mkdir -p "$SRC"

# ---------------------------------------------------------------------------
# Build the tree.
cd "$SRC"

: >empty-file
printf 'x' >one-byte
head -c 307200 /dev/urandom >random-300k
head -c 9437184 /dev/urandom >random-9m
# Large files are written past the page cache: one a whole number of the
# writer's 4 MiB buffers, one a byte over, one with an owner, a mode and an
# xattr that must still be set on it.
head -c 8388608 /dev/urandom >exact-8m
head -c 4194305 /dev/urandom >4m-and-1
head -c 2000001 /dev/urandom >big-owned
chown 1234:5678 big-owned
chmod 0440 big-owned
setfattr -n user.big -v large big-owned 2>/dev/null || true
mkdir -p nested/a/b/c/d nested/a/empty-inner empty-dir
seq 1 20000 >nested/a/b/c/d/numbers.txt
echo hello >nested/a/b/file

ln -s a/b/file nested/rel-link
ln -s ../no/such/target dangling-link
ln -s /nonexistent/absolute/target abs-dangling-link

head -c 100000 /dev/urandom >hard1
ln hard1 nested/hard2
ln hard1 nested/a/hard3

# 64 MiB apparent, 256 KiB of data at 16 MiB and at 40 MiB; the rest is holes.
truncate -s 64M sparse
dd if=/dev/urandom of=sparse bs=64K seek=256 count=2 conv=notrunc status=none
dd if=/dev/urandom of=sparse bs=64K seek=640 count=2 conv=notrunc status=none

printf 'xattr payload' >xattr-file
HAVE_XATTR=0
if setfattr -n user.binary -v 0x00ff0a7f80fe00 xattr-file 2>/dev/null; then
    setfattr -n user.text -v 'hello world' xattr-file
    setfattr -n user.dir -v 0x01 nested
    HAVE_XATTR=1
fi

HAVE_ACL=0
printf 'acl' >acl-file
mkdir acl-dir
if command -v setfacl >/dev/null 2>&1 && setfacl -m u:1234:rw-,g:5678:r-- acl-file 2>/dev/null; then
    setfacl -m u:1234:rwx acl-dir
    setfacl -d -m u:1234:rwx,g:5678:r-x acl-dir
    HAVE_ACL=1
else
    echo "note [$TEST_NAME]: POSIX ACLs not supported here; ACL checks skipped" >&2
fi

printf 'owned' >owned

# A file flag (chattr +d, "no dump"): kept by a restore, and by a second
# backup that takes the unchanged file from the files cache without reading it.
printf 'flagged' >flagged
HAVE_FLAGS=0
if command -v lsattr >/dev/null 2>&1 && chattr +d flagged 2>/dev/null; then
    HAVE_FLAGS=1
else
    echo "note [$TEST_NAME]: file flags not supported here; flag checks skipped" >&2
fi
chown 1234:5678 owned
mkdir owned-dir
chown 1234:5678 owned-dir
ln -s owned owned-link
chown -h 1234:5678 owned-link
printf 'secret' >mode600
chmod 600 mode600
printf '#!/bin/sh\necho hi\n' >mode755
chmod 755 mode755
printf '#!/bin/sh\n' >setuid
chmod 4755 setuid
printf '#!/bin/sh\n' >setuid-other
chown 1234:5678 setuid-other
chmod 6750 setuid-other # after chown, which clears the set-id bits
printf 'nobody may read me' >mode000
chmod 000 mode000
mkdir sgid-dir sticky-dir
chmod 2775 sgid-dir
chmod 1777 sticky-dir

mkfifo a-fifo
chmod 640 a-fifo

printf 'spaces' >'name with spaces'
printf 'newline' >$'new\nline'
printf 'not utf-8' >$'\xff\xfe-bytes'
mkdir $'dir \xff with\ttab'
printf 'inside' >$'dir \xff with\ttab/inner'
printf 'dash' >./-dash
printf 'utf-8' >'電子カルテ.txt'
LONG=$(printf 'L%.0s' $(seq 255))
printf 'long name' >"$LONG"

# A directory chain longer than PATH_MAX: 40 x (120 + 1) bytes. Its deepest levels
# get an unusual mode and owner, so that metadata there is checked too.
DNAME=$(printf 'd%.0s' $(seq 120))
mkdir deep
(
    cd deep
    for i in $(seq 40); do
        mkdir "$DNAME"
        if [ "$i" -gt 30 ]; then
            chmod 750 "$DNAME"
            chown 1234:5678 "$DNAME"
        fi
        cd "$DNAME"
    done
    echo "bottom of the deep chain" >file-at-the-bottom
    chown 1234:5678 file-at-the-bottom
    chmod 640 file-at-the-bottom
)

# Times to the nanosecond; directories last, deepest first.
touch -h -d '2001-02-03 04:05:06.123456789' one-byte
touch -h -d '1999-12-31 23:59:59.999999999' random-300k
touch -h -d '2038-01-19 03:14:09.500000001' random-9m
touch -h -d '2003-03-03 03:03:03.000000003' big-owned
touch -h -d '1985-06-07 08:09:10.000000042' nested/rel-link
touch -h -d '2020-02-29 12:00:00.000000001' empty-file hard1
find . -depth -type d -execdir touch -d '2010-05-06 07:08:09.987654321' {} +
touch -d '2011-11-11 11:11:11.111111111' nested empty-dir
cd "$WORK"

# ---------------------------------------------------------------------------
ok "$BKP" init --repo "$REPO"
# Files changed less than 2 s before a capture are always read again next time
# (their timestamps could hide a change within the same tick): let the tree age.
sleep 2.5
ok "$BKP" backup --repo "$REPO" --dataset odd --json "$SRC"
[ "$(json_num files)" -ge 20 ] || flunk "backup --json reports too few files: $OUT"

T1=$WORK/restore1
# --verify reads every restored file back (past PATH_MAX too) and compares it.
check_exit 0 "$BKP" restore --repo "$REPO" --verify odd:latest "$T1" || true
R1=$T1$SRC
[ -d "$R1" ] || fail "restore did not create $R1 (paths should be stored without the leading /)"

# Oracle 1: mtree listing of both trees; the chain beyond PATH_MAX on its own.
same_mtree "$SRC" "$R1" "restore of odd:latest" '^\./deep/'
same_mtree "$SRC/deep" "$R1/deep" "restore of odd:latest, directory chain beyond PATH_MAX"

# Oracle 2: diff -r (it cannot walk past PATH_MAX, and calls two fifos different).
if ! diff -r --no-dereference -x deep -x a-fifo "$SRC" "$R1" >"$WORK/diff-r" 2>&1; then
    shorten <"$WORK/diff-r" | head -n 20 >&2
    flunk "diff -r --no-dereference finds differences after restore"
fi
[ -p "$R1/a-fifo" ] || flunk "a-fifo is not a fifo after restore"
bottom=$(cd "$R1/deep" && for _ in $(seq 40); do cd "$DNAME"; done && cat file-at-the-bottom) || true
[ "$bottom" = "bottom of the deep chain" ] || flunk "file at the bottom of the deep chain: '$bottom'"

# Oracle 3: stat spot checks.
for f in one-byte random-9m exact-8m 4m-and-1 big-owned owned owned-dir owned-link mode600 mode755 setuid setuid-other mode000 \
    sgid-dir sticky-dir a-fifo empty-file empty-dir nested nested/rel-link dangling-link "$LONG" \
    $'new\nline' $'\xff\xfe-bytes'; do
    a=$(stat -c '%F %a %u %g %s %y %h' "$SRC/$f")
    b=$(stat -c '%F %a %u %g %s %y %h' "$R1/$f" 2>&1) || true
    [ "$a" = "$b" ] || flunk "stat of $(printf %q "$f" | shorten) differs: original '$a', restored '$b'"
done
[ "$(readlink "$R1/nested/rel-link")" = a/b/file ] || flunk "relative symlink target changed"
[ "$(readlink "$R1/dangling-link")" = ../no/such/target ] || flunk "dangling symlink target changed"
[ "$(readlink "$R1/abs-dangling-link")" = /nonexistent/absolute/target ] ||
    flunk "absolute symlink target changed"

# Hard links: one inode, three names.
i1=$(stat -c '%i %h' "$R1/hard1" 2>&1) || true
i2=$(stat -c '%i %h' "$R1/nested/hard2" 2>&1) || true
i3=$(stat -c '%i %h' "$R1/nested/a/hard3" 2>&1) || true
[ "$i1" = "$i2" ] && [ "$i2" = "$i3" ] && [ "${i1#* }" = 3 ] ||
    flunk "hard links not restored as one inode with 3 names: '$i1' '$i2' '$i3'"

# Sparse: same content (mtree), and the holes stay holes.
src_du=$(du -k "$SRC/sparse" | cut -f1)
dst_du=$(du -k "$R1/sparse" | cut -f1)
[ "$src_du" -lt 4096 ] || note "the source filesystem did not keep sparse holes ($src_du KiB)"
[ "$dst_du" -le $((src_du + 1024)) ] ||
    flunk "sparse file restored dense: du $dst_du KiB, original $src_du KiB (64 MiB apparent)"

# xattrs and ACLs, every file of the tree (blocks of getfattr output, sorted).
# (getfattr cannot walk past PATH_MAX: the deep chain, which has no xattrs, is left out.)
xattrs_of() {
    (cd "$1" && find . -path ./deep -prune -o -print0 |
        xargs -0 getfattr -h -d -m "$2" -e hex --absolute-names) |
        awk 'BEGIN { RS = ""; ORS = "\n" } { gsub("\n", " | "); print }' | sort
}
same_xattrs() { # ORIG COPY PATTERN WHAT
    xattrs_of "$1" "$3" >"$WORK/.xa-a"
    xattrs_of "$2" "$3" >"$WORK/.xa-b" || true
    diff "$WORK/.xa-a" "$WORK/.xa-b" >"$WORK/.xa-diff" || {
        shorten <"$WORK/.xa-diff" | head -n 20 >&2
        flunk "$4"
    }
}
if [ "$HAVE_XATTR" = 1 ]; then
    xattrs_of "$SRC" '^user\.' | grep -q 'user.binary=0x00ff0a7f80fe00' ||
        fail "the getfattr oracle sees no xattr in the source"
    same_xattrs "$SRC" "$R1" '^user\.' "user.* xattrs differ after restore"
else
    echo "note [$TEST_NAME]: user xattrs not supported here; xattr checks skipped" >&2
fi
if [ "$HAVE_ACL" = 1 ]; then
    for f in acl-file acl-dir; do
        a=$(cd "$SRC" && getfacl -p "$f" 2>&1)
        b=$(cd "$R1" && getfacl -p "$f" 2>&1) || true
        [ "$a" = "$b" ] || flunk "ACL of $f differs: original: $a ---- restored: $b"
    done
    same_xattrs "$SRC" "$R1" '^system\.posix_acl' "POSIX ACLs differ after restore"
fi

# ---------------------------------------------------------------------------
# --to-archive: a tar that another tool lists and extracts to the same content.
TAR=$WORK/odd.tar
if check_exit 0 "$BKP" restore --repo "$REPO" odd:1 --to-archive "$TAR"; then
    if bsdtar -tvf "$TAR" >"$WORK/tar-list" 2>"$WORK/tar-err"; then
        n_tar=$(wc -l <"$WORK/tar-list")
        n_src=$(find "$SRC" -printf . | wc -c) # (one name holds a newline)
        [ "$n_tar" -ge "$n_src" ] || flunk "archive lists $n_tar entries, the tree has $n_src"
        for name in 'name with spaces' random-9m file-at-the-bottom; do
            grep -qF "$name" "$WORK/tar-list" || flunk "archive listing lacks '$name'"
        done
    else
        flunk "bsdtar -tvf cannot read the archive: $(shorten <"$WORK/tar-err" | head -5)"
    fi
    # bsdtar itself cannot extract beyond PATH_MAX, so the deep chain is checked apart.
    bottom=$(bsdtar -xOf "$TAR" '*/file-at-the-bottom' 2>&1) || true
    [ "$bottom" = "bottom of the deep chain" ] || flunk "deep file in the archive: '$bottom'"
    X=$WORK/extracted
    mkdir "$X"
    if bsdtar -xpf "$TAR" -C "$X" --numeric-owner --xattrs --acls --exclude '*/deep/*' 2>"$WORK/tar-x-err"; then
        # Whole seconds: a restricted pax archive need not carry sub-second times.
        same_mtree "$SRC" "$X$SRC" "bsdtar extraction of the --to-archive tar" '^\./deep( |/)' \
            's/\(time=[0-9]*\)\.[0-9]*/\1/'
        if [ "$HAVE_XATTR" = 1 ]; then
            same_xattrs "$SRC" "$X$SRC" '^user\.' "user.* xattrs differ in the --to-archive tar"
        fi
        if [ "$HAVE_ACL" = 1 ]; then
            same_xattrs "$SRC" "$X$SRC" '^system\.posix_acl' "POSIX ACLs differ in the --to-archive tar"
        fi
    else
        flunk "bsdtar cannot extract the --to-archive tar: $(shorten <"$WORK/tar-x-err" | head -5)"
    fi
fi

# ---------------------------------------------------------------------------
# --path restores one subtree only. This one holds two of the three hard-link names;
# the first name, hard1, lies outside it: the two inside must still be one file.
T2=$WORK/restore-path
check_exit 0 "$BKP" restore --repo "$REPO" odd:latest "$T2" --path "$SRC/nested" || true
if [ -d "$T2$SRC/nested/a/b/c/d" ]; then
    # (two of three names: the link count differs by design)
    same_mtree "$SRC/nested" "$T2$SRC/nested" "--path restore of nested/" '^$' 's/ nlink=[0-9]*//' 
    others=$(cd "$T2$SRC" && find . -mindepth 1 -maxdepth 1 ! -name nested)
    [ -z "$others" ] || flunk "--path restored files outside the subtree: $others"
    a=$(stat -c %i "$T2$SRC/nested/hard2" 2>&1) || true
    b=$(stat -c %i "$T2$SRC/nested/a/hard3" 2>&1) || true
    [ "$a" = "$b" ] || flunk "--path: nested/hard2 and nested/a/hard3 are not one inode ($a, $b)"
else
    flunk "--path did not restore the subtree nested/"
fi
# The stored form of the path (no leading /) selects a subtree too.
T3=$WORK/restore-path2
check_exit 0 "$BKP" restore --repo "$REPO" odd:latest "$T3" --path "${SRC#/}/nested/a/b" || true
[ -f "$T3$SRC/nested/a/b/file" ] && [ ! -e "$T3$SRC/nested/a/hard3" ] && [ ! -e "$T3$SRC/one-byte" ] ||
    flunk "--path with the stored (relative) path did not restore exactly nested/a/b"

# ---------------------------------------------------------------------------
# A second backup after a one-file change: the files cache avoids re-reading, and
# diff names exactly that file.
echo "one more line" >>"$SRC/nested/a/b/c/d/numbers.txt"
ok "$BKP" backup --repo "$REPO" --dataset odd --json "$SRC"
bytes=$(json_num bytes)
read2=$(json_num bytes_read)
[ -n "$bytes" ] && [ -n "$read2" ] || fail "backup --json lacks bytes/bytes_read: $OUT"
[ "$read2" -lt $((bytes / 20)) ] ||
    flunk "second backup read $read2 of $bytes bytes: the files cache did not spare unchanged files"
ok "$BKP" diff --repo "$REPO" odd:1 odd:2
want="M ${SRC#/}/nested/a/b/c/d/numbers.txt"
[ "$OUT" = "$want" ] ||
    flunk "diff odd:1 odd:2: expected exactly '$want', got: $(printf '%s\n' "$OUT" | head -20 | shorten)"
T4=$WORK/restore2
check_exit 0 "$BKP" restore --repo "$REPO" odd:2 "$T4" || true
same_mtree "$SRC" "$T4$SRC" "restore of odd:2" '^\./deep/'
# Unchanged files are taken from the files cache with no more than a stat;
# their xattrs, ACLs and flags must still be in the new generation.
extras_same() { # COPY WHAT
    if [ "$HAVE_XATTR" = 1 ]; then
        same_xattrs "$SRC" "$1" '^user\.' "user.* xattrs differ after restore of $2"
    fi
    if [ "$HAVE_ACL" = 1 ]; then
        same_xattrs "$SRC" "$1" '^system\.posix_acl' "POSIX ACLs differ after restore of $2"
    fi
    if [ "$HAVE_FLAGS" = 1 ]; then
        lsattr -d "$1/flagged" 2>/dev/null | awk '{print $1}' | grep -q d ||
            flunk "the no-dump flag of 'flagged' is lost in $2: $(lsattr -d "$1/flagged" 2>&1)"
    fi
}
extras_same "$T4$SRC" "odd:2"
# An xattr added to a file that had none changes its ctime: the next backup
# reads its metadata again.
if [ "$HAVE_XATTR" = 1 ]; then
    setfattr -n user.added -v late "$SRC/one-byte"
    setfattr -x user.text "$SRC/xattr-file"
fi
[ "$HAVE_FLAGS" = 1 ] && chattr -d "$SRC/flagged" && chattr +A "$SRC/flagged"
ok "$BKP" backup --repo "$REPO" --dataset odd --json "$SRC"
T5=$WORK/restore3
check_exit 0 "$BKP" restore --repo "$REPO" odd:3 "$T5" || true
same_mtree "$SRC" "$T5$SRC" "restore of odd:3" '^\./deep/'
if [ "$HAVE_XATTR" = 1 ]; then
    xattrs_of "$T5$SRC" '^user\.' | grep -q 'user.added=' || flunk "the xattr added before odd:3 is not restored"
fi
if [ "$HAVE_FLAGS" = 1 ]; then
    lsattr -d "$T5$SRC/flagged" 2>/dev/null | awk '{print $1}' | grep -q A ||
        flunk "the flag set before odd:3 is lost: $(lsattr -d "$T5$SRC/flagged" 2>&1)"
    HAVE_FLAGS=0
fi
extras_same "$T5$SRC" "odd:3"
check_exit 0 "$BKP" verify --repo "$REPO" --read-data || true

# ---------------------------------------------------------------------------
# Both chunk-ID functions, whatever this CPU would choose: the same tree round
# trips under each, and a format 4 config rewritten as format 2 (no MAC) by
# someone without the key is refused rather than believed.
for ids in blake2b hmac-sha256; do
    R=$WORK/repo-$ids
    ok "$BKP" init --repo "$R" --chunk-id "$ids"
    want=3; [ "$ids" = hmac-sha256 ] && want=4
    grep -q "\"version\": $want" "$R/config" || flunk "init --chunk-id $ids: config is not version $want"
    head -n 1 "$R/audit/log.jsonl" | grep -q '"chunk_id": *"'"$ids"'"' ||
        flunk "the init record does not say chunk_id $ids: $(head -n 1 "$R/audit/log.jsonl")"
    ok "$BKP" backup --repo "$R" --dataset odd "$SRC"
    check_exit 0 "$BKP" restore --repo "$R" --verify odd:latest "$WORK/restore-$ids" || true
    same_mtree "$SRC" "$WORK/restore-$ids$SRC" "restore under $ids" '^\./deep/'
    check_exit 0 "$BKP" verify --repo "$R" --read-data || true
done
R=$WORK/repo-hmac-sha256
cp "$R/config" "$WORK/config-v4"
python3 - "$R/config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for k in ("mac", "chunk_id"):
    del c[k]
c["version"] = 2
open(sys.argv[1], "w").write(json.dumps(c, indent=2, sort_keys=True) + "\n")
PY
cp "$R/config" "$WORK/config-v2"
check_exit 1 "$BKP" verify --repo "$R" || true
grep -q 'HMAC-SHA-256' <<<"$ERR" || flunk "a stripped config is not told as such: $ERR"
check_exit 1 "$BKP" backup --repo "$R" --dataset odd "$SRC" || true
cmp -s "$R/config" "$WORK/config-v2" || flunk "a stripped config was rewritten by a backup"
cp "$WORK/config-v4" "$R/config"
check_exit 0 "$BKP" verify --repo "$R" --read-data || true

finish
