#!/usr/bin/env bash
# 46-planted-tree — what a user of the backed-up host can plant below a root
# must not make the backup miss data, fail every night or lose its files
# cache: a chain of folders deeper than the descriptor limit (anyone can
# `mkdir` a thousand levels, and 1024 is the usual soft limit of a service or
# a cron job), a link and a FIFO at a path longer than PATH_MAX, names that
# sort around '/' ('a', 'a b', 'a.b', 'a-b', a newline, bytes >= 0x80), more
# files than one segment of the cache holds. A files cache cut short, or a
# backup with --no-cache, reads everything again without the change-rate
# guard taking the re-read for a mass change. And a path of the policy that
# is not there is named, with exit 1, not silently skipped.
. "$(dirname "$0")/../e2e/lib.sh"
need_tool mkfifo

D=$WORK/data
REPO=$WORK/repo
mkdir -p "$D"
ok "$BKP" init --repo "$REPO"

# Run bkp with the soft descriptor limit a service usually has.
low_fds() {
    bash -c 'ulimit -Sn 1024 && exec "$@"' low_fds "$@"
}

# ---------------------------------------------------------------------------
# 1. A root that is not there: named, exit 1, the other root sealed.
mkdir -p "$D/here"
echo here >"$D/here/f"
check_exit 1 "$BKP" backup --repo "$REPO" --dataset gone "$D/here" "$D/gone" || true
output_has "$D/gone" "the missing root is named"
check_exit 0 "$BKP" ls --repo "$REPO" gone:latest || true
grep -q 'here/f$' <<<"$OUT" || flunk "the root that exists is not in the generation: $OUT"

# ---------------------------------------------------------------------------
# 2. A chain of 1,100 folders, a file at the bottom, under 1024 descriptors.
mkdir "$D/deep"
(cd "$D/deep" && for _ in $(seq 1100); do mkdir d && cd d || exit 1; done && echo bottom >f) ||
    fail "cannot make the deep tree"
check_exit 0 low_fds "$BKP" backup --repo "$REPO" --dataset deep "$D/deep" || true
[ "$RC" -lt 128 ] || flunk "backup of the deep tree died of a signal ($RC)"
check_exit 0 "$BKP" ls --repo "$REPO" deep:latest || true
grep -q '/d/f$' <<<"$OUT" || flunk "the file 1,100 folders down is not in the generation"
[ "$(grep -c '/d$' <<<"$OUT")" = 1100 ] || flunk "not every folder of the deep tree is in the generation"

# ---------------------------------------------------------------------------
# 3. A link and a FIFO at a path of about 5,000 bytes (20 names of 250).
NAME=$(printf 'n%.0s' $(seq 250))
mkdir "$D/long"
(cd "$D/long" && for _ in $(seq 20); do mkdir "$NAME" && cd "$NAME" || exit 1; done &&
    echo data >f && ln -s f link && mkfifo fifo) || fail "cannot make the long path"
check_exit 0 timeout 120 "$BKP" backup --repo "$REPO" --dataset long "$D/long" || true
check_exit 0 "$BKP" ls --repo "$REPO" long:latest || true
for n in f link fifo; do
    grep -qE "$NAME/$n( -> f)?\$" <<<"$OUT" || flunk "$n at a path longer than PATH_MAX is not in the generation"
done

# ---------------------------------------------------------------------------
# 4. Names around '/' and beyond ASCII, and 20,000 files (several segments of
#    the files cache): the second backup finds every file unchanged. Under a
#    policy, so the change-rate guard judges each capture.
S=$D/sorted
mkdir -p "$S/a" "$S/a b" "$S/a.b" "$S/a-b" "$S/a/x" "$S/many"
for d in a "a b" a.b a-b a/x; do echo "$d" >"$S/$d/f"; done
printf 'newline\n' >"$S/$(printf 'nl\nname')"
printf 'latin1\n' >"$S/$(printf 'caf\xe9')"
printf 'utf8\n' >"$S/$(printf 'caf\xc3\xa9')"
(cd "$S/many" && seq -f 'patient-%05g' 1 20000 | xargs touch) || fail "cannot make 20,000 files"
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: sorted
    paths: [$S]
    schedule: hourly
YAML
chmod 600 "$POL"
sleep 3 # past the window in which a file is too new to be remembered
ok "$BKP" backup --policy "$POL" sorted --json
check_exit 0 "$BKP" backup --policy "$POL" sorted --json || true
files=$(json_num files)
unchanged=$(json_num files_unchanged)
[ "$files" = 20008 ] || flunk "the second backup counted ${files:-?} files, not 20008"
[ "$unchanged" = "$files" ] ||
    flunk "the second backup found ${unchanged:-?} of ${files:-?} files unchanged (the cache was not read whole)"
output_has '"files_cache_problem": null' "the cache is read without a problem"

# ---------------------------------------------------------------------------
# 5. The cache cut inside its second segment, then --no-cache: everything
#    is read again, with a warning, and neither is taken for a mass change.
CACHE=$REPO/cache/files-sorted
first=$(od -An -tu4 -j24 -N4 "$CACHE" | tr -d ' ')
[ -n "$first" ] && [ $((24 + 4 + first + 100)) -lt "$(stat -c %s "$CACHE")" ] ||
    fail "the files cache of 20,000 files has no second segment"
truncate -s $((24 + 4 + first + 100)) "$CACHE"
check_exit 0 "$BKP" backup --policy "$POL" sorted --json || true
output_has "could be used only in part" "a cache cut short is reported"
grep -q SUSPICIOUS <<<"$OUT$ERR" && flunk "a cache cut short made the guard cry wolf: $ERR"
check_exit 0 "$BKP" backup --policy "$POL" sorted --no-cache --json || true
grep -q SUSPICIOUS <<<"$OUT$ERR" && flunk "a backup with --no-cache made the guard cry wolf: $ERR"

finish
