#!/usr/bin/env bash
# 70-prune — retention applied: a dry run changes nothing; prune deletes what
# the policy lets go and the packs nothing needs, and what remains verifies and
# restores exactly; lock_days and the suspicious hold keep generations; prune
# and writers exclude each other (exit 3); prune killed at several points
# leaves a repository that verifies, restores, and is finished by the next run;
# --recompress shrinks an LZ4 repository, safely under kills too.
. "$(dirname "$0")/lib.sh"

D=$WORK/data
mkdir -p "$D"
REPO=$WORK/repo
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 2 }
  - name: locked
    paths: [$D]
    retention: { keep_last: 1, lock_days: 7 }
YAML
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
# Five generations, each with 12 MiB of its own data (so each has its own packs).
for i in 1 2 3 4 5; do
    head -c $((12 << 20)) /dev/urandom >"$D/part-$i.bin"
    rm -f "$D/part-$((i - 1)).bin"
    ok "$BKP" backup --policy "$POL" ds
    cp -a "$D" "$WORK/copy-$i"
done
ok "$BKP" backup --policy "$POL" locked
ok "$BKP" backup --policy "$POL" locked

# 1. A dry run lists the plan and changes nothing.
repo_digest "$REPO" >"$WORK/before"
ok "$BKP" prune --policy "$POL" --dry-run
output_has "would delete 3 generation(s)" "the dry run should count what would go"
output_has "Retention on the server's repository:" "the table should say which repository it is of"
repo_digest "$REPO" >"$WORK/after"
diff -q "$WORK/before" "$WORK/after" >/dev/null || flunk "prune --dry-run changed the repository"

# 2. Prune: ds keeps its last two, locked keeps both (lock_days).
packs_before=$(find "$REPO/packs" -type f | wc -l)
ok "$BKP" prune --policy "$POL" --json
output_has '"generations_deleted": 3' "prune should delete ds:1..3"
packs_after=$(find "$REPO/packs" -type f | wc -l)
[ "$packs_after" -lt "$packs_before" ] || flunk "prune deleted no pack ($packs_before -> $packs_after)"
ok "$BKP" generations --policy "$POL"
for g in ds:4 ds:5 locked:1 locked:2; do
    grep -q "^$g " <<<"$OUT" || flunk "$g should have been kept: $OUT"
done
grep -q '^ds:[123] ' <<<"$OUT" && flunk "ds:1..3 should be gone: $OUT"
ok "$BKP" verify --policy "$POL" --read-data
for i in 4 5; do
    ok "$BKP" restore --policy "$POL" "ds:$i" "$WORK/r$i"
    diff -r "$WORK/copy-$i" "$WORK/r$i$D" >/dev/null || flunk "ds:$i does not restore exactly after prune"
done
check_exit 2 "$BKP" restore --policy "$POL" ds:2 "$WORK/r2" || true
output_has "deleted by prune" "a pruned generation should be named as pruned"

# 3. Prune and writers exclude each other. A lock is live while its flock is
#    held (flock(1) stands in for the other process); without it, it is stale.
need_tool flock
hold() { # hold FILE: a live holder of lock FILE, in the background
    printf 'host=%s pid=%s user=root time=x command=test\n' "$(hostname)" "$$" >"$1"
    flock -o "$1" sleep 60 >/dev/null 2>&1 </dev/null &
    HOLDER=$!
    for _ in $(seq 50); do flock -n "$1" true 2>/dev/null || break; sleep 0.1; done
}
release() { pkill -P "$HOLDER" 2>/dev/null || true; kill "$HOLDER" 2>/dev/null || true; wait "$HOLDER" 2>/dev/null || true; }
hold "$REPO/locks/prune"
check_exit 3 "$BKP" backup --policy "$POL" ds || true
output_has "prune is running" "a backup during prune should say why it stops"
# Readers too: prune deletes packs, so a restore or a check waits for it.
check_exit 3 "$BKP" verify --policy "$POL" || true
check_exit 3 "$BKP" restore ds:latest "$WORK/during-prune" --policy "$POL" || true
[ ! -e "$WORK/during-prune" ] || flunk "a restore during prune wrote its target"
release
rm -f "$REPO/locks/prune"
hold "$REPO/locks/write-otherhost-1"
check_exit 3 "$BKP" prune --policy "$POL" || true
output_has "another command is writing to the repository" "prune during a backup should say why it stops"
# The prune of a cron run that another writer keeps from running (a
# rotation a person started) is told once, with its words, and waits for
# the next run: never unsaid, never every quarter hour.
check_exit 1 "$BKP" run --policy "$POL" --force || true
output_has "pruning after the run waits" "a prune kept from running should be told"
output_has "another command is writing to the repository" "the prune's own words should be said with it"
check_exit 1 "$BKP" run --policy "$POL" --force || true
output_lacks "pruning after the run" "a prune kept from running again was told again"
output_lacks "another command is writing"
release
# The same files without a holder are stale: taken over, with a warning.
check_exit 0 "$BKP" prune --policy "$POL" || true
output_has "ended without finishing: its lock is removed" "a stale writer lock should be removed with a warning"
[ ! -e "$REPO/locks/write-otherhost-1" ] || flunk "a stale writer lock was left"
check_exit 0 "$BKP" run --policy "$POL" --force || true
output_has "pruning after the run succeeds again" "the prune running again should be told"
# One dead run leaves two locks (the run's, named "bkp run", and the writer's,
# "run"): said once, as `bkp run`.
for l in run write-"$(hostname)"-999999; do
    printf 'host=%s pid=999999 user=root time=2026-01-01T00:00:00Z command=%s\n' "$(hostname)" \
        "$([ "$l" = run ] && echo 'bkp run' || echo run)" >"$REPO/locks/$l"
done
check_exit 0 "$BKP" run --policy "$POL" --force
[ "$(grep -c 'ended without finishing' <<<"$ERR")" = 1 ] ||
    flunk "a dead run's two locks should be said once: $ERR"
output_has 'an earlier `bkp run` (process 999999'
output_lacks "bkp bkp"

# 4. Killed at several points: what remains verifies and restores, and the
#    next prune finishes the job.
for i in 6 7 8 9 10 11; do
    head -c $((12 << 20)) /dev/urandom >"$D/part-$i.bin"
    rm -f "$D/part-$((i - 1)).bin"
    ok "$BKP" backup --policy "$POL" ds
done
cp -a "$D" "$WORK/copy-last"
for delay in 0.02 0.05 0.1 0.2 0.4; do
    R=$WORK/kill-$delay
    cp -a "$REPO" "$R"
    sed "s|repository: $REPO|repository: $R|" "$POL" >"$WORK/p-$delay.yaml"
    "$BKP" prune --policy "$WORK/p-$delay.yaml" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_exit 0 "$BKP" verify --policy "$WORK/p-$delay.yaml" --read-data || true
    check_exit 0 "$BKP" restore --policy "$WORK/p-$delay.yaml" ds:latest "$WORK/rk-$delay" || true
    diff -r "$WORK/copy-last" "$WORK/rk-$delay$D" >/dev/null || flunk "ds:latest differs after prune was killed at $delay s"
    check_exit 0 "$BKP" prune --policy "$WORK/p-$delay.yaml" || true
    check_exit 0 "$BKP" verify --policy "$WORK/p-$delay.yaml" --read-data || true
    [ ! -e "$R/locks/prune-intent" ] || flunk "a prune intent was left after the next prune ($delay s)"
    n=$("$BKP" generations --policy "$WORK/p-$delay.yaml" ds | grep -c '^ds:')
    [ "$n" = 2 ] || flunk "after the next prune ds should keep 2 generations, has $n ($delay s)"
    rm -rf "$R" "$WORK/rk-$delay"
done

# 4b. Mostly empty packs are repacked: a big file and a small one captured
#     together, then the big one deleted: after prune the packs hold about the
#     small one only, and everything verifies and restores.
M=$WORK/mixed
mkdir -p "$M"
head -c $((16 << 20)) /dev/urandom >"$M/big.bin"
head -c $((512 << 10)) /dev/urandom >"$M/small.bin"
cat >"$WORK/pm.yaml" <<YAML
repository: $WORK/repo3
passphrase_file: $PASSFILE
datasets:
  - name: m
    paths: [$M]
    retention: { keep_last: 1 }
YAML
ok "$BKP" init --policy "$WORK/pm.yaml"
ok "$BKP" backup --policy "$WORK/pm.yaml" m
rm "$M/big.bin"
ok "$BKP" backup --policy "$WORK/pm.yaml" m
ok "$BKP" prune --policy "$WORK/pm.yaml"
bytes=$(find "$WORK/repo3/packs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
[ "$bytes" -lt $((4 << 20)) ] || flunk "packs still hold $bytes bytes after the big file's generation was pruned"
ok "$BKP" verify --policy "$WORK/pm.yaml" --read-data
ok "$BKP" restore --policy "$WORK/pm.yaml" m:latest "$WORK/rm"
cmp "$M/small.bin" "$WORK/rm$M/small.bin" || flunk "the small file does not restore exactly after repacking"

# 4c. --recompress: a repository written with LZ4 shrinks. The dry run
#     changes nothing; the prune rewrites the packs as the default seals
#     them, kills at several points leave every generation restorable, and the
#     next prune finds nothing more to do.
T=$WORK/notes
mkdir -p "$T"
for i in $(seq 1 30); do
    for k in $(seq 1 400); do echo "patient $i visit $k: blood pressure normal, follow-up in $((k % 9)) weeks, dose 5 mg daily"; done >"$T/note-$i.txt"
done
cat >"$WORK/pz.yaml" <<YAML
repository: $WORK/repo4
passphrase_file: $PASSFILE
datasets:
  - name: n
    paths: [$T]
    compression: lz4
YAML
ok "$BKP" init --policy "$WORK/pz.yaml"
ok "$BKP" backup --policy "$WORK/pz.yaml" n
echo "one more line" >>"$T/note-1.txt"
ok "$BKP" backup --policy "$WORK/pz.yaml" n
cp -a "$T" "$WORK/notes-copy"
packs_size() { find "$1/packs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
lz4_bytes=$(packs_size "$WORK/repo4")
repo_digest "$WORK/repo4" >"$WORK/before"
ok "$BKP" prune --policy "$WORK/pz.yaml" --recompress --dry-run
output_has "would recompress" "the dry run should say what it would recompress"
repo_digest "$WORK/repo4" >"$WORK/after"
diff -q "$WORK/before" "$WORK/after" >/dev/null || flunk "prune --recompress --dry-run changed the repository"
for delay in 0.05 0.2; do
    R=$WORK/kill-z-$delay
    cp -a "$WORK/repo4" "$R"
    sed "s|repository: $WORK/repo4|repository: $R|" "$WORK/pz.yaml" >"$WORK/pz-$delay.yaml"
    "$BKP" prune --policy "$WORK/pz-$delay.yaml" --recompress >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_exit 0 "$BKP" verify --policy "$WORK/pz-$delay.yaml" --read-data || true
    check_exit 0 "$BKP" restore --policy "$WORK/pz-$delay.yaml" n:latest "$WORK/rz-$delay" || true
    diff -r "$WORK/notes-copy" "$WORK/rz-$delay$T" >/dev/null || flunk "n:latest differs after prune --recompress was killed at $delay s"
    check_exit 0 "$BKP" prune --policy "$WORK/pz-$delay.yaml" --recompress || true
    check_exit 0 "$BKP" verify --policy "$WORK/pz-$delay.yaml" --read-data || true
    # What the killed one wrote is not kept beside what the next one wrote.
    check_exit 0 "$BKP" prune --policy "$WORK/pz-$delay.yaml" || true
    echo "$delay $(packs_size "$R")" >>"$WORK/kill-z-sizes"
    rm -rf "$R" "$WORK/rz-$delay"
done
ok "$BKP" prune --policy "$WORK/pz.yaml" --recompress --json
output_has '"packs_recompressed": ' "prune --recompress --json should count the packs"
grep -q '"packs_recompressed": 0' <<<"$OUT" && flunk "prune --recompress rewrote no pack of an LZ4 repository: $OUT"
zstd_bytes=$(packs_size "$WORK/repo4")
[ "$zstd_bytes" -lt "$lz4_bytes" ] || flunk "recompressed packs hold $zstd_bytes bytes, the LZ4 ones held $lz4_bytes"
while read -r delay bytes; do
    [ "$bytes" -le $((zstd_bytes + zstd_bytes / 20)) ] ||
        flunk "after a recompression killed at $delay s and the next prunes, the packs hold $bytes bytes, not about $zstd_bytes"
done <"$WORK/kill-z-sizes"
ok "$BKP" verify --policy "$WORK/pz.yaml" --read-data
for g in n:1 n:2; do
    ok "$BKP" restore --policy "$WORK/pz.yaml" "$g" "$WORK/rz-$g"
done
diff -r "$WORK/notes-copy" "$WORK/rz-n:2$T" >/dev/null || flunk "n:2 does not restore exactly after recompression"
ok "$BKP" prune --policy "$WORK/pz.yaml" --recompress --json
output_has '"packs_recompressed": 0' "a second recompression should find nothing"
output_has '"packs_lz4_left": 0' "a second recompression should leave nothing"
[ "$(packs_size "$WORK/repo4")" = "$zstd_bytes" ] || flunk "a second recompression changed the packs"
ok "$BKP" audit show --policy "$WORK/pz.yaml" --json
output_has '"packs_recompressed"' "the audit log should record what was recompressed"

# 5. The suspicious hold: the generations before an uncleared suspicious one stay.
S=$WORK/sus
mkdir -p "$S"
for i in $(seq 1 40); do echo "record $i" >"$S/f$i.txt"; done
cat >"$WORK/ps.yaml" <<YAML
repository: $WORK/repo2
passphrase_file: $PASSFILE
datasets:
  - name: s
    paths: [$S]
    retention: { keep_last: 1 }
YAML
# marked_third POLICY NAME DIR: a repository of POLICY, data set NAME of DIR
# backed up twice, then every file rewritten at random: the third is marked.
marked_third() {
    ok "$BKP" init --policy "$1"
    sleep 2.5
    ok "$BKP" backup --policy "$1" "$2"
    echo "one more" >>"$3/f1.txt"
    sleep 2.5
    ok "$BKP" backup --policy "$1" "$2"
    for i in $(seq 1 40); do head -c 4096 /dev/urandom >"$3/f$i.txt"; done
    sleep 2.5
    check_exit 1 "$BKP" backup --policy "$1" "$2" || true
    output_has "SUSPICIOUS" "the mass rewrite should be marked"
}
marked_third "$WORK/ps.yaml" s "$S"
ok "$BKP" prune --policy "$WORK/ps.yaml"
ok "$BKP" generations --policy "$WORK/ps.yaml" s
[ "$(printf '%s\n' "$OUT" | grep -c '^s:')" = 3 ] || flunk "the generations before a suspicious one were pruned: $OUT"
ok "$BKP" generations --policy "$WORK/ps.yaml" --clear-suspicious s:3
ok "$BKP" prune --policy "$WORK/ps.yaml"
ok "$BKP" generations --policy "$WORK/ps.yaml" s
[ "$(printf '%s\n' "$OUT" | grep -c '^s:')" = 1 ] || flunk "after clearing, keep_last 1 should apply: $OUT"

# 6. The files really were encrypted: restored from before the mark, backed up
# again (marked too: they changed back) and that one cleared. The clearance
# settles the earlier mark, which then holds no history: keep_last 1 applies.
E=$WORK/enc
mkdir -p "$E"
for i in $(seq 1 40); do echo "record $i" >"$E/f$i.txt"; done
sed "s|repo2|repo6|; s|name: s|name: e|; s|\[$S\]|[$E]|" "$WORK/ps.yaml" >"$WORK/pe.yaml"
marked_third "$WORK/pe.yaml" e "$E"
ok "$BKP" restore --policy "$WORK/pe.yaml" e:2 "$WORK/re"
cp "$WORK/re$E"/* "$E"/
sleep 2.5
check_exit 1 "$BKP" backup --policy "$WORK/pe.yaml" e
output_has "SUSPICIOUS" "the files changed back: the backup after the restore should be marked too"
ok "$BKP" generations --policy "$WORK/pe.yaml" --clear-suspicious e:4
ok "$BKP" prune --policy "$WORK/pe.yaml"
ok "$BKP" generations --policy "$WORK/pe.yaml" e
[ "$(printf '%s\n' "$OUT" | grep -c '^e:')" = 1 ] || flunk "a settled mark should hold no history: $OUT"
output_has "e:4" "the cleared generation is the one kept"

finish
