#!/usr/bin/env bash
# 20-planted-intent — a file planted on a medium is data, never an instruction
# (issue: "`bkp rotate usb-a` with a planted intent deleted a file on the host,
# as root, and every pack of the off-line copy"). An unsigned prune intent
# whose old_segments climb out of the repository ("../../../victim") and whose
# packs name every pack of the copy is planted on a disk's copy; `bkp rotate`,
# `bkp run` (the disk on-line) and `bkp verify --media` delete nothing, crash
# not, and say what they found; the writable ones set it aside, the read-only
# one changes no byte. A genuine intent of the primary (signed, left by a
# prune that could not finish) planted on the copy is refused there too, while
# on the primary the next writable open still finishes it.
. "$(dirname "$0")/../e2e/lib.sh"
need_root

D=$WORK/data
MNT=$WORK/mnt # the disk: MNT/repo is its copy, so MNT/repo/index/../../../victim is WORK/victim
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D" "$MNT"
write_policy() { # write_policy OFFLINE
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $MNT
    location: offsite
    offline: $1
    rotate_every: 7d
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 1 }
    copy_to: [usb-a]
YAML
    chmod 600 "$POL"
}
write_policy true
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$MNT" --name usb-a --type removable --policy "$POL"
head -c 300000 /dev/urandom >"$D/a.bin"
ok "$BKP" backup --policy "$POL" ds
head -c 300000 /dev/urandom >"$D/b.bin"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" rotate usb-a --policy "$POL"
COPY=$MNT/repo
[ -n "$(packs_of "$COPY")" ] || fail "the rotation put no pack on the copy"

echo "a file of the host that no backup tool may delete" >"$WORK/victim"
plant() { # plant: the attacker's intent on the copy, naming every pack and segment
    local packs segs
    packs=$(find "$COPY/packs" -type f ! -name '.*' -printf '"%f",' | sed 's/,$//')
    segs=$(find "$COPY/index" -type f ! -name '.*' -printf '"%f",' | sed 's/,$//')
    printf '{"packs":[%s],"old_segments":["../../../victim",%s],"new_segments":[],"index_written":true}\n' \
        "$packs" "$segs" >"$COPY/locks/prune-intent"
}
# Nothing the copy held before may be gone after (a rotation may add).
objects() { (cd "$1" && find packs index generations -type f ! -name '.*' | sort); }
kept_all() { # kept_all BEFORE-LIST WHEN
    local gone
    gone=$(objects "$COPY" | comm -23 "$1" -)
    [ -z "$gone" ] || flunk "$2: objects of the copy were deleted: $gone"
    [ -f "$WORK/victim" ] || flunk "$2: the host file outside the repository was deleted"
}
not_signal() { # not_signal WHEN: the documented exit codes, never a crash
    [ "$CODE" -le 3 ] || flunk "$2: exit $CODE (a signal?)"
}

# ---- 1. bkp rotate usb-a (writable open of the copy) ----
plant
objects "$COPY" >"$WORK/before-rotate"
check_exit 0 "$BKP" rotate usb-a --policy "$POL" || true
kept_all "$WORK/before-rotate" "rotate"
output_has "not a valid prune intent" "rotate must say that it refused the intent"
[ ! -e "$COPY/locks/prune-intent" ] || flunk "rotate left the rejected intent in place"
ls "$COPY/locks/" | grep -q '^prune-intent\.rejected-' || flunk "rotate did not set the intent aside"
ok "$BKP" audit show --policy "$POL" --json
output_has '"intent-rejected"' "the refused intent must be on record in the audit log"
ok "$BKP" audit verify --policy "$POL"

# ---- 2. bkp verify --media usb-a (read-only): reports, changes no byte ----
rm -f "$COPY"/locks/prune-intent.rejected-*
plant
repo_digest "$COPY" >"$WORK/digest-before"
"$BKP" verify --media usb-a --policy "$POL" >"$WORK/.out" 2>"$WORK/.err" && CODE=0 || CODE=$?
OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
not_signal "verify --media"
repo_digest "$COPY" >"$WORK/digest-after"
cmp -s "$WORK/digest-before" "$WORK/digest-after" || flunk "verify --media changed the copy"
[ -f "$WORK/victim" ] || flunk "verify --media deleted the host file"
output_has "not a valid prune intent" "verify --media must report the planted intent"

# ---- 3. bkp run, the disk on-line: the unattended path ----
write_policy false
objects "$COPY" >"$WORK/before-run"
echo "more" >"$D/c.txt"
"$BKP" run --policy "$POL" --force >"$WORK/.out" 2>"$WORK/.err" && CODE=0 || CODE=$?
OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
not_signal "run"
kept_all "$WORK/before-run" "run"
output_has "not a valid prune intent" "run must say that it refused the intent"
[ ! -e "$COPY/locks/prune-intent" ] || flunk "run left the rejected intent in place"
write_policy true

# ---- 4. A genuine intent of the primary, planted on the copy ----
# A prune that cannot delete (its pack folders made immutable) leaves its
# signed intent after its new index was written.
if chattr +i "$REPO/packs" 2>/dev/null && chattr -i "$REPO/packs"; then
    rm -f "$D/a.bin" "$D/b.bin" "$D/c.txt"
    head -c 300000 /dev/urandom >"$D/d.bin"
    ok "$BKP" backup --policy "$POL" ds
    for p in "$REPO"/packs/*/; do chattr +i "$p"; done
    check_exit 1 "$BKP" prune --policy "$POL" || true
    for p in "$REPO"/packs/*/; do chattr -i "$p"; done
    [ -f "$REPO/locks/prune-intent" ] || fail "the failed prune left no intent to finish"
    cp "$REPO/locks/prune-intent" "$WORK/genuine-intent"

    # Planted on the copy: refused there, while the same rotation's open of
    # the primary finishes it where it belongs.
    cp "$WORK/genuine-intent" "$COPY/locks/prune-intent"
    objects "$COPY" >"$WORK/before-genuine"
    check_exit 0 "$BKP" rotate usb-a --policy "$POL" || true
    kept_all "$WORK/before-genuine" "rotate with the primary's intent"
    output_has "not a valid prune intent" "the primary's intent must be refused on the copy"
    output_has "finished a prune" "the genuine intent should be finished on the primary"
    [ ! -e "$REPO/locks/prune-intent" ] || flunk "the genuine intent was not finished on the primary"
    ok "$BKP" verify --media usb-a --policy "$POL"
    ok "$BKP" verify --policy "$POL" --read-data
else
    note "no immutable attribute here: the genuine-intent part is skipped"
fi
finish
