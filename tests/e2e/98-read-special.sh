#!/usr/bin/env bash
# 98-read-special — a disk's contents as a data set (read_special: true): a
# block device, or a symbolic link to one as LVM makes them, read as a file.
#
# A 64 MiB disk image attached as a loop device (read-only), holding 5 MiB of
# data at its start, 3 MiB at 40 MiB, zeros elsewhere; a link to it as
# /dev/vg0/root-snap would be.
#  1. With read_special the link's device is stored as one regular file of
#     64 MiB: restored as an image file with the same bytes, sparse (its
#     zero blocks were not stored: the new bytes are about 8 MiB); `bkp ls`
#     shows a file, not a device or a link.
#  2. The next backup after 1 MiB of the disk changed reads it again and
#     stores the chunks around the change only (under 6 MiB new).
#  3. Without read_special the same paths store the link, and the device
#     itself a device node, as tar does; a stream with read_special is
#     refused by the policy at its line.
. "$(dirname "$0")/lib.sh"
need_root
need_tool cmp

IMG=$WORK/disk.img
truncate -s 64M "$IMG"
head -c 5M /dev/urandom | dd of="$IMG" conv=notrunc status=none
head -c 3M /dev/urandom | dd of="$IMG" bs=1M seek=40 conv=notrunc status=none
DEV=$(attach_loop "$IMG")
mkdir -p "$WORK/vg0"
ln -s "$DEV" "$WORK/vg0/root-snap"

REPO=$WORK/repo
POL=$WORK/policy.yaml
write_policy() { # EXTRA-LINE
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: system
    paths: [$WORK/vg0/root-snap]
$1
YAML
}
write_policy "    read_special: true"
export BKP_POLICY=$POL
ok "$BKP" init --repo "$REPO"

# ---- 1. the device as an image file ----
ok "$BKP" backup system --json
NEW=$(json_num bytes_new)
[ "$NEW" -ge $((8 * 1024 * 1024)) ] && [ "$NEW" -lt $((10 * 1024 * 1024)) ] ||
    flunk "the zero blocks should not be stored: $NEW new bytes for 8 MiB of data"
ok "$BKP" ls system:latest
grep -q '^-.*root-snap' <<<"$OUT" || flunk "the device should be listed as a regular file: $OUT"
ok "$BKP" restore system:latest "$WORK/back"
GOT=$WORK/back$WORK/vg0/root-snap
[ -f "$GOT" ] && [ ! -L "$GOT" ] || fail "the restore should write an image file at $GOT"
cmp "$IMG" "$GOT" || flunk "the image should hold the device's bytes"
[ "$(stat -c %s "$GOT")" = $((64 * 1024 * 1024)) ] || flunk "the image should be 64 MiB"
[ "$(du -k "$GOT" | cut -f1)" -lt 20000 ] || flunk "the image should be sparse: $(du -k "$GOT")"

# ---- 2. the next day: one MiB changed ----
losetup -d "$DEV"
head -c 1M /dev/urandom | dd of="$IMG" bs=1M seek=20 conv=notrunc,fsync status=none
DEV=$(attach_loop "$IMG")
ln -sfn "$DEV" "$WORK/vg0/root-snap"
ok "$BKP" backup system --json
NEW=$(json_num bytes_new)
[ "$NEW" -lt $((6 * 1024 * 1024)) ] || flunk "the chunks around the change should be new, not $NEW bytes"
ok "$BKP" restore system:latest "$WORK/back2"
cmp "$IMG" "$WORK/back2$WORK/vg0/root-snap" || flunk "the second image should hold the changed bytes"

# ---- 3. without read_special: the link, and a device node ----
write_policy ""
sed -i "s|paths: \[.*\]|paths: [$WORK/vg0/root-snap, $DEV]|" "$POL"
ok "$BKP" backup system
ok "$BKP" ls system:latest
grep -q '^l.*root-snap' <<<"$OUT" || flunk "without read_special the link should be stored: $OUT"
grep -q "^b.*$(basename "$DEV")" <<<"$OUT" || flunk "without read_special the device should be a node: $OUT"
cat >"$WORK/bad.yaml" <<YAML
repository: $REPO
datasets:
  - name: db
    stream: { command: "pg_dump emr", name: emr.dump }
    read_special: true
YAML
expect_exit 2 "$BKP" policy check --policy "$WORK/bad.yaml"
grep -q "bad.yaml:3:.*read_special are for paths" <<<"$ERR" || flunk "a stream with read_special should be refused at its line: $ERR"
finish
