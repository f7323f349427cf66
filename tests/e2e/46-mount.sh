#!/usr/bin/env bash
# 46-mount — generations browsed as read-only folders (`bkp mount`, FUSE):
# every data set, one data set, or one generation at the root; each file
# read back through the mount is the original byte for byte (empty, a few
# bytes, several chunks, sparse, odd names), with its stored mode, owner,
# time and size; symbolic links keep their targets; writes are refused as
# read-only; `cp -a` copies a folder out; umount and SIGTERM end the
# program with exit 0; a prune waits while a mount holds the repository; a
# mount and a restore run at once; a byte flipped in a pack makes reading
# the damaged file fail (EIO) while the other files still read.
. "$(dirname "$0")/lib.sh"
need_tool cmp truncate stat mountpoint umount
if [ ! -c /dev/fuse ]; then
    echo "SKIP [$TEST_NAME]: no /dev/fuse here: FUSE cannot work (modprobe fuse)" >&2
    exit 77
fi
if [ "$(id -u)" != 0 ] && ! command -v fusermount3 >/dev/null; then
    echo "SKIP [$TEST_NAME]: neither root nor fusermount3 (Debian package fuse3)" >&2
    exit 77
fi

D=$WORK/data
mkdir -p "$D/letters" "$D/scans" "$D/日本語 フォルダ"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
export BKP_REPO=$REPO
: >"$D/empty"
printf 'abc' >"$D/small"
head -c 9000000 /dev/urandom >"$D/scans/ct.dcm"
head -c 300000 /dev/urandom >"$D/scans/x-ray.jpg"
truncate -s 20M "$D/scans/sparse.img"
printf 'middle' | dd of="$D/scans/sparse.img" bs=1 seek=10000000 conv=notrunc status=none
echo "紹介状" >"$D/日本語 フォルダ/紹介状 2024年.txt"
echo "letter v1" >"$D/letters/tuesday letter.txt"
chown 1234:5678 "$D/letters/tuesday letter.txt"
chmod 640 "$D/letters/tuesday letter.txt"
touch -d '2024-01-02 03:04:05' "$D/letters/tuesday letter.txt"
ln -s "letters/tuesday letter.txt" "$D/link"
ln -s /nowhere "$D/dangling"
ln "$D/scans/x-ray.jpg" "$D/scans/x-ray (link).jpg" # shown as a separate file
ok "$BKP" backup --dataset docs "$D"
cp "$D/letters/tuesday letter.txt" "$WORK/tuesday.v1"
echo "letter v2" >"$D/letters/tuesday letter.txt"
touch -d '2024-01-09 03:04:05' "$D/letters/tuesday letter.txt"
ok "$BKP" backup --dataset docs "$D"

MNT=$WORK/mnt
mkdir "$MNT"
MPID=
SUPP=$(cd "$(dirname "$0")/../support" && pwd)/lsan-libfuse.supp
# start_mount [GEN|DATASET]: bkp mount in the background, until it is mounted.
start_mount() {
    # libfuse3's own allocations left at a signal are not bkp's (the file says why).
    LSAN_OPTIONS="suppressions=$SUPP${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        "$BKP" mount "$@" "$MNT" >"$WORK/mount.out" 2>"$WORK/mount.err" &
    MPID=$!
    for _ in $(seq 200); do
        mountpoint -q "$MNT" && MOUNTED_ONCE=1 && return 0
        kill -0 "$MPID" 2>/dev/null || break
        sleep 0.1
    done
    # The first mount tells whether this machine lets FUSE mount at all (a
    # container without the right to mount does not): then skip, saying why.
    if [ -z "${MOUNTED_ONCE:-}" ] && grep -q "cannot mount at" "$WORK/mount.err"; then
        echo "SKIP [$TEST_NAME]: FUSE cannot mount here: $(cat "$WORK/mount.err")" >&2
        exit 77
    fi
    cat "$WORK/mount.err" >&2
    fail "bkp mount $* did not mount"
}
# stop_mount [SIGNAL]: umount (or the signal), then the program exits 0.
stop_mount() {
    if [ -n "${1:-}" ]; then
        kill "-$1" "$MPID"
    else
        umount "$MNT" 2>/dev/null || fusermount3 -u "$MNT" || flunk "umount failed"
    fi
    local rc=0
    wait "$MPID" || rc=$?
    [ "$rc" = 0 ] || flunk "bkp mount exited $rc after ${1:-umount}: $(cat "$WORK/mount.err")"
    mountpoint -q "$MNT" && flunk "still mounted after ${1:-umount}"
    MPID=
}

# Every data set: docs/ with docs:1, docs:2 and latest → docs:2.
start_mount
[ "$(ls "$MNT")" = docs ] || flunk "the root should hold docs: $(ls "$MNT")"
[ "$(ls "$MNT/docs" | tr '\n' ' ')" = "docs:1 docs:2 latest " ] ||
    flunk "docs/ should hold its generations: $(ls "$MNT/docs")"
[ "$(readlink "$MNT/docs/latest")" = "docs:2" ] || flunk "latest should point at docs:2"
G=$MNT/docs/latest$D
# Every file, byte for byte, and every path's metadata.
n=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    fmt='%a %u %g %Y' # a folder's size is the file system's
    if [ -f "$D/$f" ] && [ ! -L "$D/$f" ]; then
        cmp -s "$D/$f" "$G/$f" || flunk "$f read through the mount differs from the original"
        fmt="$fmt %s"
    fi
    want=$(stat -c "$fmt" "$D/$f")
    got=$(stat -c "$fmt" "$G/$f" 2>&1) || { flunk "stat $f through the mount: $got"; continue; }
    [ "$got" = "$want" ] || flunk "$f: stored '$want', mounted '$got'"
done < <(cd "$D" && find . -mindepth 1 -print0)
[ "$n" -ge 12 ] || flunk "only $n paths compared"
[ "$(readlink "$G/link")" = "letters/tuesday letter.txt" ] || flunk "a symbolic link's target"
[ "$(readlink "$G/dangling")" = /nowhere ] || flunk "a dangling link's target"
[ "$(cat "$G/link")" = "letter v2" ] || flunk "a link inside the generation should resolve"
cmp -s "$MNT/docs/docs:1$D/letters/tuesday letter.txt" "$WORK/tuesday.v1" ||
    flunk "docs:1 should hold the first version of the letter"
[ "$(stat -c %s "$G/scans/sparse.img")" = 20971520 ] || flunk "the sparse file's size"
ls -l "$G/scans" >/dev/null || flunk "ls -l"
# Read-only: every kind of write refused as such.
for try in "echo x >'$G/small'" "touch '$G/new'" "mkdir '$G/d'" "rm '$G/small'" \
    "chmod 600 '$G/small'" "mv '$G/small' '$G/s2'"; do
    if bash -c "$try" 2>"$WORK/w.err"; then
        flunk "a write went through: $try"
    fi
    grep -qi "read-only" "$WORK/w.err" || flunk "$try: not refused as read-only: $(cat "$WORK/w.err")"
done
cmp -s "$D/small" "$G/small" || flunk "small changed"
# cp -a a folder out: contents, modes, owners and times kept.
mkdir "$WORK/out"
cp -a "$G/letters" "$G/日本語 フォルダ" "$WORK/out/" || flunk "cp -a out of the mount"
[ "$(stat -c '%a %u %g %Y' "$WORK/out/letters/tuesday letter.txt")" = \
    "$(stat -c '%a %u %g %Y' "$D/letters/tuesday letter.txt")" ] || flunk "cp -a lost metadata"
cmp -s "$WORK/out/日本語 フォルダ/紹介状 2024年.txt" "$D/日本語 フォルダ/紹介状 2024年.txt" ||
    flunk "cp -a of the Japanese folder"
# A prune must not delete packs under a mount: it finds the repository in use.
printf 'repository: %s\ndatasets:\n  - name: docs\n    paths: [%s]\n    retention: { keep_last: 1 }\n' \
    "$REPO" "$D" >"$WORK/policy.yaml"
chmod 600 "$WORK/policy.yaml"
expect_exit 3 "$BKP" prune --policy "$WORK/policy.yaml"
stop_mount

# One data set; ended by SIGTERM.
start_mount docs
[ "$(ls "$MNT" | tr '\n' ' ')" = "docs:1 docs:2 latest " ] || flunk "mount docs: $(ls "$MNT")"
stop_mount TERM
# One generation at the root; ended by SIGINT.
start_mount docs:1
cmp -s "$MNT$D/letters/tuesday letter.txt" "$WORK/tuesday.v1" || flunk "mount docs:1"
stop_mount INT
# Usage errors.
expect_exit 2 "$BKP" mount docs:9 "$MNT"
expect_exit 2 "$BKP" mount docs "$WORK/no-such-folder"
output_has "is not a folder"

# A mount while a restore of the same repository runs.
"$BKP" restore docs:latest "$WORK/restored" >"$WORK/restore.out" 2>&1 &
RPID=$!
start_mount
cmp -s "$D/scans/ct.dcm" "$G/scans/ct.dcm" || flunk "reading during a restore"
rc=0
wait "$RPID" || rc=$?
[ "$rc" = 0 ] || flunk "the restore beside the mount exited $rc: $(cat "$WORK/restore.out")"
cmp -s "$D/scans/ct.dcm" "$WORK/restored$D/scans/ct.dcm" || flunk "the restore beside the mount"
stop_mount

# --allow-other never grants more than the original tree did: a 0644 file in
# a folder whose 0700 parent was not captured stays out of another user's
# reach (folders above the captured paths are shown 0700 root).
mkdir -p "$WORK/private/inner"
chmod 700 "$WORK/private"
chmod 755 "$WORK/private/inner"
echo "not for everyone" >"$WORK/private/inner/file"
chmod 644 "$WORK/private/inner/file"
ok "$BKP" backup --dataset priv "$WORK/private/inner"
start_mount priv --allow-other
P=$MNT/latest$WORK/private
[ "$(stat -c '%a %u' "$P")" = "700 0" ] || flunk "a folder above the captured path is shown $(stat -c '%a %u' "$P"), not 700 root"
cat "$P/inner/file" >/dev/null || flunk "root cannot read through its own mount"
if setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$P/inner/file" >"$WORK/other.out" 2>&1; then
    flunk "another user read a file of a 0700 folder through --allow-other"
fi
grep -q "Permission denied" "$WORK/other.out" || flunk "another user's read: $(cat "$WORK/other.out")"
stop_mount

# A byte flipped inside a large pack: the one file whose chunk it hits fails
# to read (EIO, every time), every other file still reads whole. Which file
# that is depends on how the workers filled the packs, so it is found by
# reading each.
pack=$(find "$REPO/packs" -type f -size +4M | head -n 1)
[ -n "$pack" ] || fail "no large pack"
chmod u+w "$pack"
chattr -i "$pack" 2>/dev/null || true
b=$(od -An -tu1 -j 4000000 -N1 "$pack" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$pack" bs=1 seek=4000000 conv=notrunc status=none
start_mount
damaged=()
while IFS= read -r -d '' f; do
    rel=${f#"$D"/}
    if ! cat "$G/$rel" >"$WORK/partial" 2>"$WORK/cat.err"; then
        damaged+=("$rel")
        grep -q "Input/output error" "$WORK/cat.err" || flunk "$rel: not EIO: $(cat "$WORK/cat.err")"
        cat "$G/$rel" >/dev/null 2>&1 && flunk "a second read of the damaged $rel succeeded"
    elif ! cmp -s "$f" "$WORK/partial"; then
        flunk "$rel read through the damaged mount differs from the source"
    fi
done < <(find "$D" -type f -print0)
[ "${#damaged[@]}" = 1 ] || flunk "one file should fail to read, not ${#damaged[@]}: ${damaged[*]}"
stop_mount
[ "$(grep -c 'cannot be read' "$WORK/mount.err")" = 1 ] ||
    flunk "the damage should be said once: $(cat "$WORK/mount.err")"

finish
