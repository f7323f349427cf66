#!/bin/bash
# 13-plain-files — plain regular files, made by descriptor, come back exactly.
#
# A restore makes most regular files itself (no xattrs, ACLs or late flags: created new
# by name in their folder, written, then owner, mode, flags and times set on the
# descriptor) and leaves the rest to archive_write_disk. This tree has what that path
# must get right: owners (by number and by a name this host knows), modes from 0000 to
# 7777 with setuid/setgid/sticky, a file in a setgid folder of another group, times to
# the nanosecond (atime too), empty files, small sparse files (holes at the start and
# the end, all hole), a file flag (nodump) where the file system has them, and files
# beside the fast path (an xattr). Restored with --workers 1 and 2, compared with
# bsdtar's mtree (sha256, mode, owner, mtime); then restored with --force over a
# target where other things hold the names: a file hard-linked to a file outside, a
# link to a file outside, a FIFO, an empty folder — all replaced, nothing outside
# written — and a folder with something in it, which is reported (exit 1).
. "$(dirname "$0")/lib.sh"
need_root
need_tool bsdtar du stat truncate dd mkfifo

SRC=$WORK/src/plain
REPO=$WORK/repo
OUTSIDE=$WORK/outside
mkdir -p "$SRC/f" "$SRC/sgid-dir" "$OUTSIDE"
cd "$SRC"

n=0
for m in 0000 0400 0600 0640 0644 0755 0777 1755 2755 4755 6755 7777 4700 2711; do
    n=$((n + 1))
    head -c $((n * 811)) /dev/urandom >"f/mode-$m"
    chmod "$m" "f/mode-$m"
done
head -c 3000 /dev/urandom >f/owned-num
chown 1234:5678 f/owned-num
head -c 3000 /dev/urandom >f/owned-suid
chown 1234:5678 f/owned-suid
chmod 6750 f/owned-suid
head -c 100 /dev/urandom >f/owned-name
chown nobody:"$(id -gn nobody 2>/dev/null || echo 65534)" f/owned-name 2>/dev/null ||
    chown 65534:65534 f/owned-name
chown root:1234 sgid-dir
chmod 2775 sgid-dir
head -c 1000 /dev/urandom >sgid-dir/in-sgid
chown 4321:4321 sgid-dir/in-sgid
: >f/empty
: >f/empty-0400
chmod 0400 f/empty-0400
head -c 4096 /dev/urandom >f/one-block
# Small sparse files: a hole at the start and at the end; nothing but a hole.
truncate -s 600K f/sparse
dd if=/dev/urandom of=f/sparse bs=4K seek=40 count=8 conv=notrunc status=none
truncate -s 300K f/hole
# Beside the fast path: an xattr, where the file system takes one.
printf 'x' >f/with-xattr
setfattr -n user.kept -v yes f/with-xattr 2>/dev/null || true
# A file flag (nodump), where the file system has them.
printf 'dump me not' >f/nodump
HAVE_FLAGS=0
if chattr +d f/nodump 2>/dev/null && lsattr -d f/nodump 2>/dev/null | cut -d' ' -f1 | grep -q d; then
    HAVE_FLAGS=1
fi
touch -m -d '2003-03-03 03:03:03.123456789' f/mode-0644 f/empty f/sparse
touch -a -d '2004-04-04 04:04:04.987654321' f/mode-0644
find . -depth -type d -exec touch -d '2012-12-12 12:12:12.121212121' {} +
cd "$WORK"

ok "$BKP" init --repo "$REPO"
sleep 2.5 # files changed within 2 s of a capture are read again next time: let them age
ok "$BKP" backup --repo "$REPO" --dataset plain "$SRC"

# Times first, before anything reads the files (reading moves their atimes).
a=$(stat -c '%x %y' "$SRC/f/mode-0644")
for n in 1 2; do
    T=$WORK/restore-w$n
    v=$([ "$n" = 2 ] && echo --verify || true)
    check_exit 0 "$BKP" restore --repo "$REPO" --workers "$n" $v plain:latest "$T" || continue
    R=$T$SRC
    if [ "$n" = 1 ]; then
        b=$(stat -c '%x %y' "$R/f/mode-0644" 2>&1) || true
        [ "$a" = "$b" ] || flunk "atime/mtime of f/mode-0644: original '$a', restored '$b'"
    fi
    same_mtree "$SRC" "$R" "restore with --workers $n"
    for f in owned-name owned-suid mode-6755; do
        a=$(stat -c '%a %U %G' "$SRC/f/$f")
        b=$(stat -c '%a %U %G' "$R/f/$f" 2>&1) || true
        [ "$a" = "$b" ] || flunk "--workers $n: f/$f: original '$a', restored '$b'"
    done
    [ "$(du -k "$R/f/hole" | cut -f1)" -le 4 ] || flunk "--workers $n: f/hole restored dense"
    [ "$(du -k "$R/f/sparse" | cut -f1)" -le 64 ] || flunk "--workers $n: f/sparse restored dense"
    if [ "$HAVE_FLAGS" = 1 ]; then
        lsattr -d "$R/f/nodump" | cut -d' ' -f1 | grep -q d || flunk "--workers $n: the nodump flag is lost"
    fi
    if getfattr -n user.kept "$SRC/f/with-xattr" >/dev/null 2>&1; then
        getfattr -n user.kept "$R/f/with-xattr" >/dev/null 2>&1 || flunk "--workers $n: xattr lost"
    fi
done

# ---------- --force over names held by other things ----------
echo "outside, hard-linked" >"$OUTSIDE/linked"
echo "outside, pointed at" >"$OUTSIDE/pointed"
before=$(repo_digest "$OUTSIDE")
T=$WORK/force
R=$T$SRC
mkdir -p "$R/f" "$R/f/mode-0755"
ln "$OUTSIDE/linked" "$R/f/mode-0644"
ln -s "$OUTSIDE/pointed" "$R/f/mode-0600"
ln -s "$OUTSIDE/pointed" "$R/f/empty"
mkfifo "$R/f/owned-num"
# (A FIFO opened for writing would block: a time limit turns that into a failure.)
check_exit 0 timeout 300 "$BKP" restore --repo "$REPO" --workers 2 --force plain:latest "$T" || true
[ "$(repo_digest "$OUTSIDE")" = "$before" ] ||
    flunk "--force: the restore wrote through a name into $OUTSIDE: $(cat "$OUTSIDE"/*)"
# (Folders that were there keep the times of the restore, as before: left out.)
same_mtree "$SRC" "$R" "restore --force over other things" '^\.(/f)? .*type=dir'
[ -f "$R/f/mode-0644" ] && [ ! -L "$R/f/mode-0600" ] && [ -f "$R/f/owned-num" ] &&
    [ -f "$R/f/mode-0755" ] || flunk "--force: a name is not a restored regular file"

# A folder with something in it where a file goes: that file is reported, the rest is
# restored, and the exit code says so.
T=$WORK/force-full
R=$T$SRC
mkdir -p "$R/f/mode-0640/inside"
check_exit 1 "$BKP" restore --repo "$REPO" --workers 2 --force plain:latest "$T" || true
output_has "f/mode-0640" "the file a full folder stands in for is named"
cmp -s "$SRC/f/mode-0644" "$R/f/mode-0644" || flunk "--force: the other files are not restored"
[ -d "$R/f/mode-0640/inside" ] || flunk "--force: the folder in the way lost its contents"

finish
