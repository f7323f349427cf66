#!/usr/bin/env bash
# 31-media-links-fifos — a medium made of links and FIFOs (a review of the
# fixes for the issue's findings 1 and 2 found these):
#   1. a FIFO in place of a pack, a record, an index segment, the config, the
#      key file, the pin or the audit copy: every command that reads the
#      medium answers at once (exit 1 or 2), none hangs;
#   2. a folder of the copy replaced by a link to a folder of the host, or to
#      the primary's own records: rotate writes and deletes nothing through
#      it (before, it wrote packs and records onto the host and deleted the
#      primary's records), and verify --media does not pass it;
#   3. the whole copy a link to an empty host folder: nothing is created there;
#   4. a pack padded to 900 MB on the medium costs no more memory to repair
#      from than a real one.
. "$(dirname "$0")/../e2e/lib.sh"
need_root

D=$WORK/data
MNT=$WORK/mnt
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT"
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
    retention: { keep_last: 1 }
    copy_to: [usb-a]
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE

# quick SECONDS CMD...: run CMD with a time limit; RC its exit (124: it hung).
quick() {
    local t=$1
    shift
    set +e
    timeout "$t" "$@" >"$WORK/.out" 2>"$WORK/.err"
    RC=$?
    set -e
    OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
}
answered() { # WHAT: the last command neither hung nor died, and refused
    case "$RC" in
    1 | 2) ;;
    124) flunk "$1 hung (killed after its time limit)" ;;
    *) flunk "$1 ended with exit $RC: $ERR" ;;
    esac
}
unseal() { chattr -R -i "$@" 2>/dev/null || true; chmod -R u+w "$@"; }

ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --type removable --policy "$POL"
head -c 300000 /dev/urandom >"$D/a"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
unseal "$MNT"
cp -a "$MNT" "$WORK/mnt.good"
restore_medium() { unseal "$MNT"; rm -rf "$MNT" && cp -a "$WORK/mnt.good" "$MNT"; }

# ---- 1. FIFOs in place of what the medium holds ----
pack=$(cd "$MNT" && find repo/packs -type f | head -n 1)
seg=$(cd "$MNT" && find repo/index -type f | head -n 1)
for f in "$pack" "$seg" repo/generations/ds/0000000001.gen repo/config repo/keys/key BKP-PIN \
    repo/audit/primary.jsonl; do
    restore_medium
    [ -e "$MNT/$f" ] || fail "the medium has no $f to replace"
    rm -f "$MNT/$f" && mkfifo "$MNT/$f"
    quick 60 "$BKP" verify --media usb-a --read-data --policy "$POL"
    [ "$RC" = 124 ] && flunk "verify --media hung on a FIFO in place of $f"
    case "$RC" in 0 | 1 | 2) ;; *) flunk "verify --media with a FIFO as $f: exit $RC" ;; esac
    quick 60 "$BKP" restore ds:1 "$WORK/out-$RANDOM" --from "$MNT" --policy "$POL"
    [ "$RC" = 124 ] && flunk "restore --from hung on a FIFO in place of $f"
    case "$RC" in 0 | 1 | 2) ;; *) flunk "restore --from with a FIFO as $f: exit $RC" ;; esac
    quick 60 "$BKP" rotate usb-a --policy "$POL"
    [ "$RC" = 124 ] && flunk "rotate hung on a FIFO in place of $f"
    case "$RC" in 0 | 1 | 2 | 3) ;; *) flunk "rotate with a FIFO as $f: exit $RC" ;; esac
done
restore_medium

# An audit copy on the medium that no bkp wrote (8 GiB) is evidence: the
# rotation fails and says so, and leaves it as it is.
truncate -s 8G "$MNT/repo/audit/primary.jsonl"
quick 120 "$BKP" rotate usb-a --policy "$POL"
answered "rotate onto a medium with an 8 GiB audit copy"
grep -q "cannot be read" <<<"$ERR" || flunk "rotate should say the audit copy cannot be read: $ERR"
[ "$(stat -c %s "$MNT/repo/audit/primary.jsonl")" = 8589934592 ] || flunk "rotate replaced the unreadable audit copy"
restore_medium

# ---- 2. folders of the copy replaced by links ----
mkdir -p "$WORK/hostpacks" "$WORK/hostgen"
cp -a "$MNT/repo/packs/." "$WORK/hostpacks/"
rm -rf "$MNT/repo/packs" && ln -s "$WORK/hostpacks" "$MNT/repo/packs"
cp -a "$MNT/repo/generations/ds/." "$WORK/hostgen/"
rm -rf "$MNT/repo/generations/ds" && ln -s "$WORK/hostgen" "$MNT/repo/generations/ds"
find "$WORK/hostpacks" "$WORK/hostgen" | sort >"$WORK/host.before"
head -c 300000 /dev/urandom >"$D/b"
ok "$BKP" backup --policy "$POL" ds
quick 120 "$BKP" rotate usb-a --policy "$POL"
answered "rotate onto a copy whose folders are links"
grep -q "symbolic link" <<<"$ERR" || flunk "rotate should name the link: $ERR"
find "$WORK/hostpacks" "$WORK/hostgen" | sort >"$WORK/host.after"
cmp -s "$WORK/host.before" "$WORK/host.after" ||
    flunk "rotate wrote through a link onto the host: $(comm -13 "$WORK/host.before" "$WORK/host.after" | tr '\n' ' ')"
quick 60 "$BKP" verify --media usb-a --policy "$POL"
answered "verify --media of a copy whose folders are links"

# the copy's record folder a link to the primary's: nothing of the primary goes
restore_medium
for i in 3 4 5; do
    head -c 100000 /dev/urandom >"$D/c$i"
    ok "$BKP" backup --policy "$POL" ds
done
ls "$REPO/generations/ds" >"$WORK/primary.before"
rm -rf "$MNT/repo/generations/ds" && ln -s "$REPO/generations/ds" "$MNT/repo/generations/ds"
quick 120 "$BKP" rotate usb-a --policy "$POL"
answered "rotate onto a copy whose record folder is the primary's"
ls "$REPO/generations/ds" >"$WORK/primary.after"
cmp -s "$WORK/primary.before" "$WORK/primary.after" ||
    flunk "rotate changed the primary's records through a link: $(tr '\n' ' ' <"$WORK/primary.after")"
ok "$BKP" verify --policy "$POL"

# ---- 3. the whole copy a link to an empty folder of the host ----
restore_medium
rm -rf "$MNT/repo" && mkdir "$WORK/hostrepo" && ln -s "$WORK/hostrepo" "$MNT/repo"
quick 120 "$BKP" rotate usb-a --policy "$POL"
answered "rotate onto a copy that is a link"
[ -z "$(ls -A "$WORK/hostrepo")" ] || flunk "rotate made a repository through a link: $(ls "$WORK/hostrepo")"

# ---- 4. a padded pack to repair from ----
restore_medium
unseal "$REPO"
pack=$(cd "$MNT" && find repo/packs -type f | head -n 1)
cp "$MNT/$pack" "$WORK/pack"
rm "$MNT/$pack" && truncate -s 900M "$MNT/$pack" && cat "$WORK/pack" >>"$MNT/$pack"
rm -f "$REPO/${pack#repo/}"
set +e
/usr/bin/time -f '%M' -o "$WORK/rss" timeout 120 "$BKP" verify --repair-from usb-a --policy "$POL" \
    >/dev/null 2>&1
RC=$?
set -e
answered "verify --repair-from a padded pack"
rss=$(tail -n 1 "$WORK/rss")
[ "$rss" -lt 300000 ] || flunk "repair from a padded pack took $rss KB"
finish
