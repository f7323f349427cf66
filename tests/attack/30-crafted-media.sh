#!/usr/bin/env bash
# 30-crafted-media — a crafted medium must not crash bkp or cost gigabytes
# (issue: "a BKP-LABEL without name (or with "name": 5) gives SIGSEGV in
# rotate and drill; sizes read from a medium (pack trailer, audit copy,
# key-file cost parameters) allow allocations and Argon2 work up to 4 GiB";
# "a flipped byte in config is not detected"), and the medium's cache/ folder,
# which the open of a copy must neither read nor follow nor change.
#
# Each crafted file is planted and the command that reads it must refuse it:
# exit 1 or 2 (never a signal), a message naming what is wrong, nothing
# deleted, and — where an allocation was the attack — a peak RSS under
# 200 MB.
. "$(dirname "$0")/../e2e/lib.sh"
need_root

D=$WORK/data
MNT=$WORK/mnt
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT" "$WORK/runbooks"
echo "patient record" >"$D/f"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: true
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 3 }
    copy_to: [usb-a]
    runbook: rb
YAML
cat >"$WORK/runbooks/rb.yaml" <<YAML
title: "ds"
datasets: [ds]
steps:
  - { who: "admin", select: { dataset: ds } }
  - { who: "admin", verify: {} }
  - { who: "admin", restore: { dataset: ds, to: /var/restore/bkp-attack-30 } }
  - { who: "admin", check: "test -f \"\$BKP_TARGET/f\"" }
YAML
chmod 600 "$POL" "$WORK/runbooks/rb.yaml"
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" media label "$MNT" --name usb-a --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
cp "$MNT/BKP-LABEL" "$WORK/label.good"

# refused WHAT CMD...: exit 1 or 2, never a signal or a sanitizer's report.
refused() {
    local what=$1
    shift
    RC=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
    if [ "$RC" != 1 ] && [ "$RC" != 2 ]; then
        flunk "$what: expected exit 1 or 2, got $RC: $(head -c 600 "$WORK/.err")"
    fi
    if grep -q 'Sanitizer' "$WORK/.err"; then
        flunk "$what: the sanitizer reported: $(grep -m1 'ERROR' "$WORK/.err")"
    fi
}
# small_rss WHAT CMD...: run CMD under /usr/bin/time; flunk unless it stays
# under 200 MB and exits 1 or 2. (Sanitizer builds reserve shadow memory but
# their RSS stays small.)
small_rss() {
    local what=$1
    shift
    refused "$what" /usr/bin/time -f 'maxrss %M' -o "$WORK/.rss" "$@"
    local kb
    kb=$(sed -n 's/^maxrss \([0-9]*\)$/\1/p' "$WORK/.rss")
    [ -n "$kb" ] || flunk "$what: no peak RSS measured: $(cat "$WORK/.rss")"
    if [ -n "$kb" ] && [ "$kb" -gt 204800 ]; then
        flunk "$what: peak RSS $kb KiB, more than 200 MB"
    fi
}
digests() {
    repo_digest "$REPO" | grep -v '\./\(locks\|audit\|media\|cache\|reports\)'
    repo_digest "$MNT/repo" | grep -v '\./\(locks\|audit\)'
}
digests >"$WORK/before"
same_as_before() {
    digests >"$WORK/now"
    diff -q "$WORK/before" "$WORK/now" >/dev/null || flunk "$1: the repository or the medium changed: $(diff "$WORK/before" "$WORK/now" | head -n 5 | tr '\n' ' ')"
}

# ---- 1. Labels: no name, "name": 5, a non-object, huge, a bad UUID ----
uuid=$(sed -n 's/^  "uuid": "\(.*\)",$/\1/p' "$WORK/label.good")
repo=$(sed -n 's/^  "repository": "\(.*\)",$/\1/p' "$WORK/label.good")
[ -n "$uuid" ] && [ -n "$repo" ] || fail "cannot read the label written by bkp: $(cat "$WORK/label.good")"
common='"format": "bkp-label", "version": 1, "type": "removable", "location": "offsite", "created": "2026-01-01T00:00:00Z"'
printf '{%s, "uuid": "%s", "repository": "%s"}\n' "$common" "$uuid" "$repo" >"$WORK/l.noname"
printf '{%s, "uuid": "%s", "repository": "%s", "name": 5}\n' "$common" "$uuid" "$repo" >"$WORK/l.name5"
printf '[1, 2, 3]\n' >"$WORK/l.array"
printf '{%s, "uuid": "%s", "repository": 5, "name": "usb-a"}\n' "$common" "$uuid" >"$WORK/l.repo5"
printf '{%s, "uuid": "not-a-uuid", "repository": "%s", "name": "usb-a"}\n' "$common" "$repo" >"$WORK/l.uuid"
{
    printf '{%s, "uuid": "%s", "repository": "%s", "name": "usb-a", "pad": "' "$common" "$uuid" "$repo"
    head -c $((8 << 20)) /dev/zero | tr '\0' x
    printf '"}\n'
} >"$WORK/l.huge"
for l in noname name5 array repo5 uuid huge; do
    cp "$WORK/l.$l" "$MNT/BKP-LABEL"
    refused "rotate with label $l" "$BKP" rotate usb-a --policy "$POL"
    output_has "is not a bkp label" "rotate must say the label ($l) is not one"
    refused "verify --media with label $l" "$BKP" verify --media usb-a --policy "$POL"
    output_has "is not a bkp label"
    # drill: the medium is not connected as far as it can tell; the primary serves.
    RC=0
    "$BKP" drill rb --policy "$POL" --medium usb-a >"$WORK/.out" 2>"$WORK/.err" || RC=$?
    [ "$RC" -le 3 ] || flunk "drill with label $l: exit $RC (a signal?): $(head -c 400 "$WORK/.err")"
    grep -q Sanitizer "$WORK/.err" && flunk "drill with label $l: sanitizer report"
    same_as_before "label $l"
done
# A FIFO in the label's place must not hang the read.
rm -f "$MNT/BKP-LABEL"
mkfifo "$MNT/BKP-LABEL"
refused "rotate with a FIFO label" timeout 60 "$BKP" rotate usb-a --policy "$POL"
output_has "is not a bkp label"
rm -f "$MNT/BKP-LABEL"
cp "$WORK/label.good" "$MNT/BKP-LABEL"
rm -rf /var/restore/bkp-attack-30

# ---- 2. A registry entry with wrong types: ignored with a warning ----
cp "$REPO/media/usb-a.json" "$WORK/entry.good"
printf '{"label": {"name": 5}, "path": 7, "held": "all of them", "last_write": []}\n' >"$REPO/media/usb-a.json"
printf '{"label": 1}\n' >"$REPO/media/..json"
for cmd in "media list" "media show usb-a" "status"; do
    RC=0
    # shellcheck disable=SC2086
    "$BKP" $cmd --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
    [ "$RC" -le 3 ] || flunk "$cmd with a crafted registry entry: exit $RC"
    grep -q Sanitizer "$WORK/.err" && flunk "$cmd: sanitizer report"
    grep -q "not a valid registry entry" "$WORK/.err" ||
        flunk "$cmd must warn that the registry entry is not valid: $(head -c 400 "$WORK/.err")"
done
rm -f "$REPO/media/..json"
cp "$WORK/entry.good" "$REPO/media/usb-a.json"

# ---- 3. A copy of the repository whose key file asks Argon2 for 4 GiB ----
COPY=$WORK/copy
cp -r "$MNT/repo" "$COPY"
chattr -R -i "$COPY" 2>/dev/null || true
chmod -R u+w "$COPY"
# memlimit: 8 bytes little-endian at offset 20 = 4 GiB
printf '\x00\x00\x00\x00\x01\x00\x00\x00' | dd of="$COPY/keys/key" bs=1 seek=20 conv=notrunc status=none
small_rss "a key file asking for 4 GiB" "$BKP" verify --repo "$COPY" --passphrase-file "$PASSFILE"
cp "$REPO/keys/key" "$COPY/keys/key.good"
mv -f "$COPY/keys/key.good" "$COPY/keys/key"

# ---- 4. A pack whose footer claims a 4 GiB trailer (a sparse file) ----
P=$COPY/packs/ff/ff00000000000000000000000000000000000000000000000000000000000000
mkdir -p "$(dirname "$P")"
printf 'BKPPACK1' >"$P"
truncate -s $((5 << 30)) "$P"
printf '\xf0\xff\xff\xffBKPTRLR1' | dd of="$P" bs=1 seek=$(((5 << 30) - 12)) conv=notrunc status=none
RC=0
/usr/bin/time -f 'maxrss %M' -o "$WORK/.rss" "$BKP" verify --repo "$COPY" --passphrase-file "$PASSFILE" >"$WORK/.out" 2>"$WORK/.err" || RC=$?
ERR=$(cat "$WORK/.err")
[ "$RC" -le 3 ] || flunk "a pack with a 4 GiB trailer: exit $RC"
kb=$(sed -n 's/^maxrss \([0-9]*\)$/\1/p' "$WORK/.rss")
[ -n "$kb" ] && [ "$kb" -le 204800 ] || flunk "a pack with a 4 GiB trailer: peak RSS ${kb:-?} KiB"
output_has "its trailer is unreadable" "the crafted pack must be reported"
[ -f "$P" ] || flunk "the crafted pack was deleted by a read-only verify"
rm -f "$P"

# ---- 5. A huge audit log copy on the medium ----
A=$MNT/repo/audit/primary.jsonl
cp "$A" "$WORK/audit.good"
truncate -s $((2 << 30)) "$A"
small_rss "a 2 GiB audit copy" "$BKP" audit verify --against usb-a --policy "$POL"
output_has "larger than an audit log can be"
{
    cat "$WORK/audit.good"
    head -c $((1 << 20)) /dev/zero | tr '\0' '['
    echo
} >"$A"
refused "an audit copy with a 1 MiB line" "$BKP" audit verify --against usb-a --policy "$POL"
output_has "holds a line of more than"
cp "$WORK/audit.good" "$A"
ok "$BKP" audit verify --against usb-a --policy "$POL"

# ---- 6. A flipped byte in config: created, then a chunker size ----
cp "$REPO/config" "$WORK/config.good"
sed -i 's/"created": "20/"created": "21/' "$REPO/config"
cmp -s "$REPO/config" "$WORK/config.good" && fail "the config has no created field to change"
refused "a changed created" "$BKP" verify --policy "$POL"
output_has "does not match the repository key"
refused "a changed created (backup)" "$BKP" backup --policy "$POL" ds
cp "$WORK/config.good" "$REPO/config"
sed -i 's/"min": 262144/"min": 262145/' "$REPO/config"
cmp -s "$REPO/config" "$WORK/config.good" && fail "the config has no chunker min to change"
refused "a changed chunker size" "$BKP" backup --policy "$POL" ds
output_has "does not match the repository key"
sed -i 's/"min": 262145/"min": 16/' "$REPO/config"
refused "a chunker size out of range" "$BKP" backup --policy "$POL" ds
output_has "chunker sizes outside their range"
cp "$WORK/config.good" "$REPO/config"
same_as_before "config"

# ---- 7. A re-read state out of shape is discarded, not trusted ----
printf '{"last_run": "soon", "../../etc/passwd": 1, "%s": 99999999999}\n' "$(printf 'a%.0s' $(seq 64))" >"$REPO/cache/reread.json"
ok "$BKP" verify --sample 100 --policy "$POL"
output_has "is not a valid re-read state"

# ---- 8. A medium's cache/ is never read, followed or changed ----
# The blob index tables, their manifest and the checked-segments list live in
# a repository's cache/ (FORMAT §5a); on a medium they are whatever its holder
# put there. Planted: a manifest with its magic, a FIFO as a table, a checked
# list of noise, the lock a link to the host's config, and FIFOs named as a
# stale temporary file of this host (a clean-up pass would open them) in
# cache/ and index/. Reads show in the access times (the first read after a
# write updates them, even under relatime), an open of a FIFO as a hang.
C=$MNT/repo/cache
stale=".tmp-$(hostname | tr /- __)-2147483000-0011223344556677"
{
    printf 'BKPILV01\001\000\000\000'
    head -c 56 /dev/urandom
} >"$C/index-levels"
head -c 300 /dev/urandom >"$C/index-checked"
mkfifo "$C/index-table-0123456789abcdef0123456789abcdef" "$C/$stale" "$MNT/repo/index/$stale"
ln -s "$REPO/config" "$C/index-lock"
# (The folder's own access time is left out: listing it reads it.)
cache_listing() {
    (cd "$C" && find . -maxdepth 0 -printf '%p %i %T@ %C@\n' &&
        find . -mindepth 1 -printf '%p %y %s %i %A@ %T@ %C@\n' | sort)
}
cache_listing >"$WORK/cache.before"
check_exit 0 timeout 120 "$BKP" verify --media usb-a --policy "$POL" || true
[ "$RC" = 124 ] && flunk "verify --media hung on the medium's cache/"
grep -q "index table" <<<"$OUT$ERR" && flunk "verify --media read the medium's cache/: $ERR"
check_exit 0 timeout 120 "$BKP" restore ds:1 "$WORK/out-cache" --from "$MNT" --policy "$POL" || true
cmp -s "$D/f" "$WORK/out-cache$D/f" || flunk "restore --from a medium with a planted cache/ is not right"
echo "another record" >"$D/g"
ok "$BKP" backup --policy "$POL" ds
check_exit 0 timeout 120 "$BKP" rotate usb-a --policy "$POL" || true
[ "$RC" = 124 ] && flunk "rotate hung on a FIFO planted on the medium"
grep -q "index table" <<<"$OUT$ERR" && flunk "rotate read the medium's cache/: $ERR"
cache_listing >"$WORK/cache.after"
diff -u "$WORK/cache.before" "$WORK/cache.after" >"$WORK/cache.diff" ||
    flunk "the medium's cache/ was read or changed: $(tail -n +3 "$WORK/cache.diff" | head -n 6 | tr '\n' ' ')"
[ -p "$MNT/repo/index/$stale" ] || flunk "a FIFO named as a temporary file in index/ was removed"
rm -f "$C"/index-* "$C/$stale" "$MNT/repo/index/$stale"

ok "$BKP" verify --policy "$POL"
ok "$BKP" verify --media usb-a --policy "$POL"
finish
