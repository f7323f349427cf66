#!/bin/bash
# 14-plain-folders — folders made by descriptor come back exactly, and never through a link.
#
# A restore makes plain folders itself (mkdirat by name in the folder before it, mode
# 0700 until the end, then owner, mode, flags and times set by descriptor, children
# first) and leaves the rest to archive_write_disk (an xattr, a flag a folder does not
# get by itself). This tree has what that path must get right: modes from 0000 to 3777
# (a folder of mode 0000 and one of 0311 with things in them), setgid folders of another
# group, owners by number and by name, nanosecond times (atime too), a chain of 80
# nested folders (more than the folders kept open), plain folders inside folders made
# by archive_write_disk and the other way round, empty folders. Restored with
# --workers 1 and 2 and with --path (parents not in the list), compared with bsdtar's
# mtree (mode, owner, times, link counts, sha256); then with --force over a target
# where a file, a link to a folder outside, and a folder hold the folders' names: the
# file and the link are replaced, nothing outside is written.
. "$(dirname "$0")/lib.sh"
need_root
need_tool bsdtar stat setfattr

SRC=$WORK/src/tree
REPO=$WORK/repo
OUTSIDE=$WORK/outside
mkdir -p "$SRC" "$OUTSIDE"
cd "$SRC"

for m in 0000 0311 0500 0555 0700 0711 0750 0755 0777 1777 2775 3777; do
    mkdir -p "m$m/sub/deeper"
    printf 'in %s\n' "$m" >"m$m/sub/file"
    printf 'top %s\n' "$m" >"m$m/file"
    chmod "$m" "m$m"
done
chown root:1234 m2775
mkdir -p owned/by-number owned/by-name empty/a/b/c
chown 1234:5678 owned/by-number
chown nobody:"$(id -gn nobody 2>/dev/null || echo 65534)" owned/by-name 2>/dev/null ||
    chown 65534:65534 owned/by-name
# Beside the fast path: a folder with an xattr (archive_write_disk's), holding plain
# folders, inside a plain one.
mkdir -p plain/xattr/plain-in-xattr/again
echo x >plain/xattr/plain-in-xattr/again/f
HAVE_XATTR=0
setfattr -n user.kept -v yes plain/xattr 2>/dev/null && HAVE_XATTR=1
# A chain deeper than the folders a restore keeps open.
p=chain
for i in $(seq 1 80); do p=$p/d$i; done
mkdir -p "$p"
echo bottom >"$p/f"
find . -depth -type d ! -name m0000 -exec touch -m -d '2011-11-11 11:11:11.111111111' {} +
touch -a -d '2010-10-10 10:10:10.101010101' m0755 chain/d1
touch -m -d '2009-09-09 09:09:09.090909090' m0000 owned/by-name chain/d1
cd "$WORK"

# Before the backup reads the folder (reading it moves its atime).
a=$(stat -c '%x %y' "$SRC/m0755")
ok "$BKP" init --repo "$REPO"
sleep 2.5 # files changed within 2 s of a capture are read again next time
ok "$BKP" backup --repo "$REPO" --dataset tree "$SRC"

for n in 1 2; do
    T=$WORK/restore-w$n
    check_exit 0 "$BKP" restore --repo "$REPO" --workers "$n" tree:latest "$T" || continue
    R=$T$SRC
    if [ "$n" = 1 ]; then
        b=$(stat -c '%x %y' "$R/m0755" 2>&1) || true
        [ "$a" = "$b" ] || flunk "atime/mtime of m0755: original '$a', restored '$b'"
    fi
    same_mtree "$SRC" "$R" "restore with --workers $n"
    for d in m2775 m3777 owned/by-number owned/by-name m0000; do
        a2=$(stat -c '%a %U %G %y' "$SRC/$d")
        b2=$(stat -c '%a %U %G %y' "$R/$d" 2>&1) || true
        [ "$a2" = "$b2" ] || flunk "--workers $n: $d: original '$a2', restored '$b2'"
    done
    if [ "$HAVE_XATTR" = 1 ]; then
        getfattr -n user.kept "$R/plain/xattr" >/dev/null 2>&1 ||
            flunk "--workers $n: the folder's xattr is lost"
    fi
done

# Only a part: its parents are not in the list, and are entered from the target.
T=$WORK/restore-path
check_exit 0 "$BKP" restore --repo "$REPO" --path "${SRC#/}/plain" tree:latest "$T" || true
same_mtree "$SRC/plain" "$T$SRC/plain" "restore --path plain"

# ---------- --force over names held by other things ----------
mkdir -p "$OUTSIDE/victim"
echo "outside" >"$OUTSIDE/victim/keep"
before=$(repo_digest "$OUTSIDE")
T=$WORK/force
R=$T$SRC
mkdir -p "$R/m0755/sub"
echo "in the way" >"$R/m0700"
ln -s "$OUTSIDE/victim" "$R/owned"
ln -s "$OUTSIDE/victim" "$R/m0755/sub/deeper"
check_exit 0 "$BKP" restore --repo "$REPO" --workers 2 --force tree:latest "$T" || true
[ "$(repo_digest "$OUTSIDE")" = "$before" ] ||
    flunk "--force: the restore wrote through a link into $OUTSIDE: $(ls -la "$OUTSIDE/victim")"
[ -d "$R/m0700" ] && [ ! -L "$R/owned" ] && [ -d "$R/owned/by-name" ] &&
    [ ! -L "$R/m0755/sub/deeper" ] || flunk "--force: a folder's name does not hold a folder"
same_mtree "$SRC" "$R" "restore --force over other things"

finish
