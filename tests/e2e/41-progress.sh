#!/usr/bin/env bash
# 41-progress — on a terminal, backup, restore, verify and rotate show a
# progress line with the share done of a known total and the rate (the time
# left, computed the same way, is unit-tested: test_progress); off a
# terminal (cron) they print none of it.
. "$(dirname "$0")/lib.sh"
need_tool script

DATA=$WORK/data
mkdir -p "$DATA" "$WORK/usb"
head -c 150000000 /dev/urandom >"$DATA/big.bin"
for i in $(seq 1 300); do echo "note $i" >"$DATA/n$i.txt"; done
cat >"$WORK/policy.yaml" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
media:
  - { name: usb, type: removable, path: $WORK/usb, offline: true }
datasets:
  - { name: emr, paths: [$DATA], copy_to: [usb] }
YAML
export BKP_POLICY=$WORK/policy.yaml
ok "$BKP" init
ok "$BKP" media label "$WORK/usb" --name usb
ok "$BKP" backup emr
grep -q $'\r' <<<"$ERR" && flunk "a backup off a terminal drew progress: $ERR"

# on_tty CMD...: run CMD with a terminal for its output; the lines it drew in $TTY.
on_tty() {
    local cmd
    printf -v cmd '%q ' "$@"
    TTY=$(BKP_POLICY=$BKP_POLICY script -qec "$cmd" /dev/null </dev/null | tr '\r' '\n')
}
echo "changed" >>"$DATA/n1.txt"
on_tty "$BKP" backup emr --no-cache --workers 1
grep -Eq '^.*emr: [0-9]+ % \([0-9]+ of 301 files\), [0-9.]+ ([KMG]i)?B at [0-9.]+ ([KMG]i)?B/s' <<<"$TTY" ||
    flunk "backup on a terminal: no progress against the previous generation's 301 files: $TTY"
on_tty "$BKP" restore emr:latest "$WORK/out" --workers 1
grep -Eq 'restoring: [0-9]+ % \([0-9.]+ ([KMG]i)?B of 143\.1 MiB\) at [0-9.]+ ([KMG]i)?B/s' <<<"$TTY" ||
    flunk "restore on a terminal: no progress against the generation's size: $TTY"
on_tty "$BKP" verify --read-data --workers 1
grep -Eq 'verifying: [0-9]+ % \([0-9]+ of [0-9]+ packs\)' <<<"$TTY" || flunk "verify on a terminal: no progress: $TTY"
on_tty "$BKP" rotate usb
grep -Eq 'copying: [0-9]+ % \([0-9]+ of [0-9]+ packs\)' <<<"$TTY" || flunk "rotate on a terminal: no progress: $TTY"
same_mtree "$DATA" "$WORK/out$DATA" "restored under a terminal"

finish
