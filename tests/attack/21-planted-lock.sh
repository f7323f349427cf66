#!/usr/bin/env bash
# 21-planted-lock — what lies in locks/ is data: a FIFO (or a symbolic link)
# planted as the prune lock must not hang backup or prune (it counts as held, exit 3, and says to
# remove it); a lock whose text carries terminal escape sequences is judged
# by its flock alone and never echoed; the temporary lock file of a writer
# killed mid-publish (issue: "a stale .tmp-lock-* of a dead process stays in
# locks/ forever") is removed by the next lock taken, while another host's
# fresh one stays.
. "$(dirname "$0")/../e2e/lib.sh"

D=$WORK/data
REPO=$WORK/repo
POL=$WORK/policy.yaml
mkdir -p "$D"
echo one >"$D/f"
cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
datasets:
  - name: ds
    paths: [$D]
    retention: { keep_last: 1 }
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" backup --policy "$POL" ds

# 1. A FIFO as the prune lock: no hang, exit 3, a clear message.
mkfifo "$REPO/locks/prune"
for cmd in backup prune; do
    args=(--policy "$POL")
    [ "$cmd" = backup ] && args+=(ds)
    timeout 60 "$BKP" "$cmd" "${args[@]}" >"$WORK/.out" 2>"$WORK/.err" && code=0 || code=$?
    OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
    [ "$code" != 124 ] || flunk "bkp $cmd hung on a FIFO planted as the prune lock"
    [ "$code" = 3 ] || flunk "bkp $cmd with a FIFO as the prune lock: exit $code, expected 3"
    output_has "not a lock file" "bkp $cmd must say what is wrong with the lock"
done
rm -f "$REPO/locks/prune"
# A symbolic link as the lock: not followed, not removed, its target untouched.
echo "not a lock" >"$WORK/target"
ln -s "$WORK/target" "$REPO/locks/prune"
check_exit 3 "$BKP" backup --policy "$POL" ds || true
output_has "not a lock file" "a symbolic link as the prune lock must be named as such"
[ "$(cat "$WORK/target")" = "not a lock" ] || flunk "the target of a planted lock link was changed"
rm -f "$REPO/locks/prune"

# 2. A lock of escape sequences, no holder: removed, never echoed.
printf 'host=%s pid=1 user=root time=x command=\033]0;owned\007\n' "$(hostname)" >"$REPO/locks/prune"
ok "$BKP" backup --policy "$POL" ds
if printf '%s%s' "$OUT" "$ERR" | grep -q "$(printf '\033')"; then
    flunk "the contents of a planted lock reached the terminal"
fi
[ ! -e "$REPO/locks/prune" ] || flunk "a lock without a holder stayed"

# 3. Temporary lock files: a dead writer's goes (in both name forms), another
#    host's fresh one stays.
true &
dead=$!
wait "$dead"
now=$(date +%s)
host=$(hostname | tr -- '-/' '__')
touch "$REPO/locks/.tmp-lock-$dead-$now" "$REPO/locks/.tmp-lock-$host-$dead-$now" \
    "$REPO/locks/.tmp-lock-elsewhere-$dead-$now"
ok "$BKP" backup --policy "$POL" ds
[ ! -e "$REPO/locks/.tmp-lock-$dead-$now" ] || flunk "a dead writer's temporary lock file stayed"
[ ! -e "$REPO/locks/.tmp-lock-$host-$dead-$now" ] || flunk "a dead writer's temporary lock file stayed"
[ -e "$REPO/locks/.tmp-lock-elsewhere-$dead-$now" ] || flunk "another host's fresh temporary lock file was removed"
ok "$BKP" verify --policy "$POL"
finish
