#!/usr/bin/env bash
# 70-drill-sandbox — drill commands are confined (issue: "a step can create a
# folder outside the sandbox (through a symlink restored by an earlier step)
# before the check that refuses it"; "they run as root with the whole
# environment"; "hooks inherit BKP_PASSPHRASE_COMMAND").
#
#  1. A generation holds `evil -> OUTSIDE` (an absolute link out of the
#     sandbox). A runbook's first restore lays it down in the sandbox; its
#     second restore targets a folder through it: refused, and nothing is
#     made in OUTSIDE — not even the folder.
#  2. The same through a relative link (`up -> ../../../..`): refused.
#  3. A run step that prints its environment sees no BKP_PASSPHRASE_*, none
#     of the caller's variables beyond the allowlist, its own env and the
#     BKP_* drill variables.
#  4. run_as: nobody — `id -u` in the step is not 0; a run_as naming no user
#     is refused before anything runs (exit 2).
#  5. A policy's before hook (`bkp run`, passphrase from passphrase_command)
#     does not see BKP_PASSPHRASE_COMMAND, nor the caller's variables.
. "$(dirname "$0")/../e2e/lib.sh"
need_root
id nobody >/dev/null 2>&1 || { echo "SKIP [$TEST_NAME]: no 'nobody' user" >&2; exit 77; }

export TMPDIR=$WORK/tmp # drill sandboxes go here
mkdir -p "$TMPDIR"
D=$WORK/ward
OUTSIDE=$WORK/outside # a folder outside every sandbox, that root could write into
REPO=$WORK/repo
POL=$WORK/policy.yaml
RB=$WORK/runbooks
mkdir -p "$D/docs" "$OUTSIDE" "$RB" "$WORK/hook-out"
chmod 777 "$WORK/hook-out" # where the after hook, as nobody, may write
echo "chart" >"$D/docs/f01.txt"
ln -s "$OUTSIDE" "$D/evil"
ln -s ../../../.. "$D/up" # from sandbox/var/restore/ward: the sandbox's parent
cat >"$POL" <<YAML
repository: $REPO
passphrase_command: "cat $PASSFILE"
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: ward
    paths: [$D]
    before: { command: "env >$WORK/hook-env.txt", env: ["HOOK_OWN=1"] }
    after: { command: "id -u >$WORK/hook-out/uid", run_as: nobody }
    schedule: daily 03:00
    runbook: ward
YAML
chmod 600 "$POL"
unset BKP_PASSPHRASE_FILE # the policy says how to get the passphrase
export SECRET_OF_THE_CALLER=leaked PGPASSWORD=leaked LD_LIBRARY_PATH=/nonexistent
ok "$BKP" init --policy "$POL"

# ---------- 5. a hook's environment ----------
ok "$BKP" run --policy "$POL"
[ -f "$WORK/hook-env.txt" ] || fail "the before hook did not run"
grep -q '^HOOK_OWN=1$' "$WORK/hook-env.txt" || flunk "the hook did not get its own env"
if grep -E '^(BKP_PASSPHRASE|SECRET_OF_THE_CALLER|PGPASSWORD|LD_LIBRARY_PATH)' "$WORK/hook-env.txt"; then
    flunk "the before hook inherited a passphrase source or the caller's variables"
fi
# A hook with run_as runs as that user.
[ "$(cat "$WORK/hook-out/uid" 2>/dev/null)" = "$(id -u nobody)" ] ||
    flunk "the after hook with run_as: nobody did not run as nobody"

# ---------- 1, 2. links out of the sandbox ----------
# through NAME: a runbook whose first restore lays down the tree (with its
# links), and whose second restores into a folder through link NAME.
through() {
    cat >"$RB/through-$1.yaml" <<YAML
title: "link $1"
datasets: [ward]
steps:
  - { who: "システム担当", select: { dataset: ward } }
  - { who: "システム担当", restore: { dataset: ward, to: /var/restore/ward } }
  - { who: "システム担当", restore: { dataset: ward, to: /var/restore/ward/$1/planted } }
YAML
}
through evil
through up
for link in evil up; do
    rm -rf "$WORK/sbx-$link"
    expect_exit 1 "$BKP" drill --policy "$POL" "$RB/through-$link.yaml" --sandbox "$WORK/sbx-$link" \
        --keep --report "$WORK/reports-$link"
    output_has "refused" "a restore through the link '$link' must be refused"
    [ -L "$WORK/sbx-$link/var/restore/ward/$link" ] ||
        flunk "the first restore did not lay down the link '$link' (the test proves nothing)"
    [ -f "$WORK/sbx-$link/var/restore/ward/docs/f01.txt" ] || flunk "the first restore did not restore"
done
[ -z "$(ls -A "$OUTSIDE")" ] || flunk "a drill made something outside its sandbox: $(ls -A "$OUTSIDE")"
[ ! -e "$WORK/planted" ] || flunk "a drill made $WORK/planted through a relative link"
# The drill reports (they name data sets and people) are private.
for f in "$WORK"/reports-evil/*; do
    m=$(stat -c %a "$f")
    [ "$m" = 600 ] || [ "$m" = 640 ] || flunk "drill report $f has mode $m"
done

# ---------- 3. a run step's environment ----------
cat >"$RB/env.yaml" <<YAML
title: "environment"
datasets: [ward]
steps:
  - { who: "システム担当", select: { dataset: ward } }
  - { who: "システム担当", restore: { dataset: ward, to: /var/restore/ward } }
  - { who: "システム担当", run: "env >\"\$BKP_SANDBOX/env.txt\"", env: ["STEP_OWN=1"] }
YAML
export BKP_PASSPHRASE_COMMAND="cat $PASSFILE" # as cron might have it
export TZ=Asia/Tokyo
ok "$BKP" drill --policy "$POL" "$RB/env.yaml" --sandbox "$WORK/sbx-env" --keep --report "$WORK/reports"
unset BKP_PASSPHRASE_COMMAND
E=$WORK/sbx-env/env.txt
[ -f "$E" ] || fail "the run step wrote no env.txt"
grep -q '^STEP_OWN=1$' "$E" || flunk "the run step did not get its own env"
grep -q "^BKP_TARGET=$WORK/sbx-env/var/restore/ward\$" "$E" || flunk "no BKP_TARGET in the step's environment"
grep -q '^BKP_DRILL=1$' "$E" || flunk "no BKP_DRILL=1 in the step's environment"
grep -q '^TZ=Asia/Tokyo$' "$E" || flunk "TZ (allowlisted) did not reach the step"
grep -q '^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$' "$E" || flunk "PATH is not the fixed one"
# Every name: the allowlist, the shell's own, the step's env, BKP_* drill variables.
extra=$(sed 's/=.*//' "$E" | grep -vxE 'PATH|LANG|LANGUAGE|LC_[A-Z_]+|TZ|HOME|USER|LOGNAME|TMPDIR|PWD|OLDPWD|SHLVL|_|STEP_OWN|BKP_(TARGET|SANDBOX|DRILL|DATASET|GENERATION|RUNBOOK)' || true)
[ -z "$extra" ] || flunk "the run step saw variables beyond the allowlist: $extra"
if grep -E '^(BKP_PASSPHRASE|SECRET_OF_THE_CALLER|PGPASSWORD|LD_LIBRARY_PATH)' "$E"; then
    flunk "a run step saw a passphrase source or the caller's variables"
fi

# ---------- 4. run_as ----------
cat >"$RB/as-nobody.yaml" <<YAML
title: "unprivileged"
datasets: [ward]
run_as: nobody
steps:
  - { who: "システム担当", select: { dataset: ward } }
  - { who: "システム担当", restore: { dataset: ward, to: /var/restore/ward } }
  - { who: "システム担当", check: "test \"\$(id -u)\" -ne 0 && test \"\$(id -un)\" = nobody && test \"\$USER\" = nobody" }
  - { who: "システム担当", check: "cat \"\$BKP_TARGET/docs/f01.txt\" >/dev/null" }
  - { who: "システム担当", check: "! touch /root/bkp-drill-as-nobody 2>/dev/null" }
YAML
ok "$BKP" drill --policy "$POL" "$RB/as-nobody.yaml" --report "$WORK/reports"
[ ! -e /root/bkp-drill-as-nobody ] || { rm -f /root/bkp-drill-as-nobody; flunk "a run_as: nobody step wrote as root"; }
sed 's/run_as: nobody/run_as: no-such-user-bkp/' "$RB/as-nobody.yaml" >"$RB/as-missing.yaml"
echo '  - { who: "システム担当", run: "touch '"$WORK"'/ran-anyway" }' >>"$RB/as-missing.yaml"
expect_exit 2 "$BKP" drill --policy "$POL" "$RB/as-missing.yaml" --report "$WORK/reports"
output_has "no-such-user-bkp" "the missing user must be named"
[ ! -e "$WORK/ran-anyway" ] || flunk "a runbook naming a missing user ran anyway"
[ -z "$(ls -A "$TMPDIR")" ] || flunk "drills left sandboxes behind: $(ls -A "$TMPDIR")"
finish
