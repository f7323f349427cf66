#!/usr/bin/env bash
# 31-full-disk — a full disk and a crash are bad days, never attacks.
#
# 1. An ENOSPC sweep: the primary repository on a small tmpfs, left with
#    0, 4 KiB, 8 KiB, ... free before each of backup, prune, rotate,
#    restore, verify --read-data, key add, key export --paper and key split,
#    from the same starting state each time. Whatever a command does with the
#    room it has: nothing is called tampered or rewritten; a command that
#    only reads (restore, verify) exits 0 and restores exactly; once the
#    space is freed, `audit verify` and `verify` pass and the same command
#    succeeds with no command of a person.
# 2. The issue's night: the disk full, restore after restore until the log
#    itself cannot grow. Each restore exits 0 with its files; each record not
#    written is said; once space is freed the nightly backup runs, and its
#    record counts the records missed.
# 3. kill -9 between the audit log's append and its head marker's update
#    (gdb stops the process there, three times in a row): the log runs
#    three records past its marker, which every command accepts, and the
#    next append moves the marker on. A record put after the marker's that
#    is not signed, or a log cut before it, is still tampering.
#
# CI runs a short sweep; BKP_SWEEP=full (tests/sweeps.sh) steps every 4 KiB
# up to 1 MiB.
. "$(dirname "$0")/lib.sh"
need_root
need_tool mount umount fallocate gdb

S=$WORK/small # the primary's file system, filled for each step
D=$WORK/data
POL=$WORK/policy.yaml
USB=$WORK/usb
mkdir -p "$S" "$D/sub" "$USB"
cleanup_mounts() {
    mountpoint -q "$S" 2>/dev/null && umount -l "$S"
    return 0
}
at_exit cleanup_mounts
if ! mount -t tmpfs -o size=48m,mode=0755 tmpfs "$S" 2>"$WORK/mount.err"; then
    echo "SKIP [$TEST_NAME]: cannot mount a tmpfs here: $(cat "$WORK/mount.err")" >&2
    exit 77
fi

REPO=$S/repo
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
media:
  - name: usb-a
    type: removable
    path: $USB
    location: offsite
    offline: true
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 2 }
    copy_to: [usb-a]
YAML
chmod 600 "$POL"
export BKP_POLICY=$POL
printf 'another passphrase for the sweep\n' >"$WORK/new-pass"
printf 'a third passphrase for the sweep\n' >"$WORK/new-pass-2"
chmod 600 "$WORK/new-pass" "$WORK/new-pass-2"

head -c 400000 /dev/urandom >"$D/a"
seq 1 20000 >"$D/sub/list.txt"
ok "$BKP" init
ok "$BKP" media label "$USB" --name usb-a --type removable
for i in 1 2 3; do
    echo "change $i" >>"$D/sub/list.txt"
    ok "$BKP" backup ds
done
ok "$BKP" rotate usb-a
cp -a "$D" "$WORK/snap" # what ds:latest holds
# New data for the swept backups: a generation with 300 KB to write.
head -c 300000 /dev/urandom >"$D/b"
ok "$BKP" audit verify
cp -a "$REPO" "$WORK/base-repo"
cp -a "$USB" "$WORK/base-usb"

reset_state() {
    chattr -R -i "$REPO" "$USB" 2>/dev/null || true
    rm -rf "$REPO" "$USB" "$S/filler"
    cp -a "$WORK/base-repo" "$REPO"
    cp -a "$WORK/base-usb" "$USB"
}

# leave_free BYTES: fill the tmpfs until BYTES are left.
leave_free() {
    local avail
    avail=$(df --output=avail -B1 "$S" | tail -n 1)
    if [ "$avail" -gt "$1" ]; then
        fallocate -l $((avail - $1)) "$S/filler"
    fi
}

TAMPER='rewritten|removed from its end|emptied|tamper|forged|not signed by|altered|was cut'
# no_alarm WHAT: the last command said nothing of tampering.
no_alarm() {
    if grep -Eiq "$TAMPER" "$WORK/.err"; then
        flunk "$1 was taken for tampering: $(grep -Ei "$TAMPER" "$WORK/.err" | head -n 2)"
    fi
}

# run_cmd KIND ARGS...: the command of the sweep; KIND is "reader" or "writer".
STEP=0
run_swept() {
    local kind=$1
    shift
    local rc=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" </dev/null || rc=$?
    no_alarm "$* with a full disk"
    if [ "$kind" = reader ] && [ "$rc" != 0 ]; then
        flunk "$* exited $rc with a full disk (a read must not depend on writing): $(head -n 3 "$WORK/.err")"
    fi
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        flunk "$* exited $rc with a full disk: $(head -n 3 "$WORK/.err")"
    fi
    return 0
}

# after_freed ARGS...: space back; the repository checks and the command runs.
after_freed() {
    rm -f "$S/filler"
    check_exit 0 "$BKP" audit verify && no_alarm "audit verify after a full disk"
    check_exit 0 "$BKP" verify && no_alarm "verify after a full disk"
    # The same command again (a key added again needs a passphrase of its own).
    check_exit 0 "${@//\/new-pass/\/new-pass-2}" && no_alarm "$* once space was freed"
}

if [ "${BKP_SWEEP:-short}" = full ]; then
    STEPS=$(seq 0 256) # every 4 KiB up to 1 MiB
else
    STEPS="0 1 3 16 80"
fi

sweep() {
    local kind=$1 name=$2
    shift 2
    local k
    for k in $STEPS; do
        reset_state
        leave_free $((k * 4096))
        run_swept "$kind" "$@"
        if [ "$name" = restore ] && [ -d "$WORK/out" ]; then
            diff -r "$WORK/snap" "$WORK/out$D" >/dev/null 2>&1 ||
                flunk "restore with $((k * 4)) KiB free restored other data"
        fi
        rm -rf "$WORK/out" "$WORK/paper.md" "$WORK/shares"
        after_freed "$@"
        rm -rf "$WORK/out" "$WORK/paper.md" "$WORK/shares"
    done
}

# The restore and the backup compare with the data set as it is now.
sweep writer backup "$BKP" backup ds
sweep writer prune "$BKP" prune
sweep writer rotate "$BKP" rotate usb-a
sweep reader restore "$BKP" restore ds:latest "$WORK/out"
sweep reader verify "$BKP" verify --read-data
sweep writer key-add "$BKP" key add --label sweep --new-passphrase-file "$WORK/new-pass"
sweep writer key-export "$BKP" key export --paper -o "$WORK/paper.md"
sweep writer key-split "$BKP" key split --shares 3 --threshold 2 -o "$WORK/shares"

# After all of it, the data set restores exactly.
reset_state
ok "$BKP" backup ds
ok "$BKP" restore ds:latest "$WORK/final"
diff -r "$D" "$WORK/final$D" >/dev/null || flunk "the last generation restores other data"
rm -rf "$WORK/final"

# ---- 2. Restore after restore on a full disk, until the log cannot grow ----
reset_state
leave_free 0
unrecorded=0
for i in $(seq 1 16); do
    "$BKP" restore ds:latest "$WORK/night-$i" >"$WORK/.out" 2>"$WORK/.err" </dev/null ||
        flunk "restore $i on a full disk exited $?: $(head -n 2 "$WORK/.err")"
    no_alarm "restore $i on a full disk"
    diff -r "$WORK/snap" "$WORK/night-$i$D" >/dev/null 2>&1 || flunk "restore $i on a full disk restored other data"
    if grep -q "is not recorded in the audit log" "$WORK/.err"; then
        unrecorded=$((unrecorded + 1))
        grep -q "says how many were missed" "$WORK/.err" ||
            flunk "restore $i was not recorded and not counted: $(cat "$WORK/.err")"
    fi
    rm -rf "$WORK/night-$i"
done
[ "$unrecorded" -gt 0 ] || flunk "the log never filled up: the scenario tested nothing"
rm -f "$S/filler"
ok "$BKP" backup ds # the nightly backup, with no command of a person
no_alarm "the backup after the full disk"
LOG=$REPO/audit/log.jsonl
missed=$(grep '"missed"' "$LOG" | tail -n 1 | grep -o '"count":[0-9]*' | cut -d: -f2)
[ "${missed:-0}" = "$unrecorded" ] ||
    flunk "the next record counts ${missed:-no} missed record(s), $unrecorded were said not recorded"
ls "$REPO/audit"/missed-* >/dev/null 2>&1 && flunk "the notes of missed records stayed after they were counted"
ok "$BKP" audit verify

# ---- 3. kill -9 between the log's append and its marker's update ----
reset_state
HEAD=$REPO/audit/head
cp "$HEAD" "$WORK/head.before"
for what in "restore ds:latest $WORK/k1" "verify" "backup ds"; do
    # shellcheck disable=SC2086
    gdb -q -batch -ex 'set breakpoint pending on' -ex 'break bkp_audit_head_write' -ex run \
        -ex 'kill' --args "$BKP" $what </dev/null >"$WORK/gdb.out" 2>&1 || true
    grep -q "Breakpoint 1," "$WORK/gdb.out" || fail "gdb did not stop $what at the marker's update: $(tail -n 5 "$WORK/gdb.out")"
done
cmp -s "$HEAD" "$WORK/head.before" || flunk "the marker moved although every update was killed"
records=$(wc -l <"$LOG")
ok "$BKP" audit verify
no_alarm "audit verify of a log three records past its marker"
ok "$BKP" verify
no_alarm "verify of a log three records past its marker"
ok "$BKP" backup ds
no_alarm "the backup after three kills"
cmp -s "$HEAD" "$WORK/head.before" && flunk "the next append did not move the marker on"
[ "$(wc -l <"$LOG")" -gt "$records" ] || flunk "the next backup was not recorded"

# Still tampering: a line after the marker's record that the key did not
# sign — in its place (the next seq) and chained to the last record, only
# its signature wrong.
cp "$LOG" "$WORK/log.good"
cp "$HEAD" "$WORK/head.good"
tail -n 1 "$LOG" | python3 -c '
import hashlib, json, sys
last = sys.stdin.buffer.read().rstrip(b"\n")
r = json.loads(last)
r["seq"] += 1
r["prev"] = hashlib.blake2b(last, digest_size=32).hexdigest()
r["op"] = "verify"
print(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False))' >"$WORK/forged"
cp "$WORK/head.before" "$HEAD" # the marker behind, as a kill leaves it
chmod u+w "$LOG"
cat "$WORK/forged" >>"$LOG"
expect_exit 1 "$BKP" audit verify
expect_exit 1 "$BKP" backup ds
output_has "disagrees with its signed head marker"
# ... and a log cut before its marker's record.
cp "$WORK/log.good" "$LOG"
cp "$WORK/head.good" "$HEAD"
head -n "$((records - 1))" "$WORK/log.good" >"$LOG"
expect_exit 1 "$BKP" audit verify
expect_exit 1 "$BKP" backup ds
output_has "records were removed from its end"
finish
