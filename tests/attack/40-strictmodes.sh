#!/usr/bin/env bash
# 40-strictmodes — files that carry root's commands are checked, and the
# policy reader cannot be made to exhaust memory (issue: "a policy or runbook
# that anyone may write is loaded and its hooks and run/check steps are
# executed as root from cron; a passphrase file owned by another user is
# accepted if its mode is 0600"; "a 160 KiB policy whose paths repeat one
# YAML anchor 10,000 times costs 1 GB"; "the policy check accepts a relative
# repository, a medium path: null, and ignores a second YAML document";
# "policy check --json prints hook env values such as PGPASSWORD").
#
#  1. A policy writable by others (0666, 0664), owned by another user, or in
#     a folder others may write, that gains a `before` hook: backup and run
#     are refused with exit 2 naming the chmod/chown, the hook never runs, the
#     repository is untouched. A root-owned sticky folder (like /tmp) is fine.
#  2. The same for a runbook with a `run` step, and for its folder: the drill
#     is refused, the step never runs.
#  3. A passphrase file of mode 0600 owned by another user (nobody): refused,
#     from the option, the environment and the policy.
#  4. A YAML alias bomb: refused quickly, in little memory.
#  5. A relative repository, a medium `path: null`, a second document: exit 2
#     with file:line.
#  6. policy check (text and --json) shows a hook's env names, never values.
. "$(dirname "$0")/../e2e/lib.sh"
need_root
id nobody >/dev/null 2>&1 || { echo "SKIP [$TEST_NAME]: no user 'nobody'" >&2; exit 77; }

D=$WORK/data
REPO=$WORK/repo
ETC=$WORK/etc
POL=$ETC/policy.yaml
RB=$ETC/runbooks
MARK=$WORK/marker
mkdir -p "$D" "$RB"
echo "patient record" >"$D/f"

policy() { # policy [EXTRA-DATASET-LINES]: the good policy, plus what an attacker adds
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
datasets:
  - name: ds
    paths: [$D]
    schedule: daily 02:00
    retention: { keep_last: 3 }
${1:-}
drills:
  - runbook: rb
    schedule: monthly 1 04:00
YAML
    chmod 644 "$POL"
}
runbook() { # runbook [EXTRA-STEP]
    cat >"$RB/rb.yaml" <<YAML
title: "drill"
datasets: [ds]
steps:
  - { who: "operator", select: { dataset: ds, newest: verified, fallback: older } }
  - { who: "operator", restore: { dataset: ds, to: /var/restore/ds } }
${1:-}
YAML
    chmod 644 "$RB/rb.yaml"
}
policy
runbook
unset BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" backup --policy "$POL" ds
ok "$BKP" drill rb --policy "$POL"
digest() { repo_digest "$REPO/generations"; repo_digest "$REPO/packs" 2>/dev/null || true; }
digest >"$WORK/before"

no_marker() {
    if [ -e "$MARK" ]; then
        flunk "$1: the planted command ran as root"
        rm -f "$MARK"
    fi
}

# ---- 1. the policy ----
HOOK="    before: { command: \"touch $MARK\" }"
for mode in 666 664 646; do
    policy "$HOOK"
    chmod "$mode" "$POL"
    check_exit 2 "$BKP" backup --policy "$POL" ds || true
    output_has "chmod go-w $POL" "a policy of mode $mode must be refused with the chmod to run"
    no_marker "backup with a policy of mode $mode"
    check_exit 2 "$BKP" run --policy "$POL" --force || true
    no_marker "run with a policy of mode $mode"
    BKP_POLICY=$POL check_exit 2 "$BKP" generations || true
    no_marker "generations with BKP_POLICY of mode $mode"
done
policy "$HOOK"
chown nobody "$POL"
check_exit 2 "$BKP" backup --policy "$POL" ds || true
output_has "chown root $POL" "a policy owned by another user must be refused with the chown to run"
no_marker "backup with a policy owned by nobody"
chown root "$POL"

# A folder above the policy that others may write: they could put another
# policy in its place.
chmod 777 "$ETC"
check_exit 2 "$BKP" backup --policy "$POL" ds || true
output_has "chmod go-w $ETC" "a writable folder above the policy must be refused"
no_marker "backup with a policy in a folder of mode 777"
chmod 775 "$ETC"
check_exit 2 "$BKP" policy check --policy "$POL" || true
output_has "chmod go-w $ETC"
# Sticky and root's (like /tmp): no one else may rename what is ours there.
chmod 1777 "$ETC"
ok "$BKP" policy check --policy "$POL"
chmod 755 "$ETC"
# A link is judged by what it points at, and the folders on the way there.
ln -s "$POL" "$WORK/link.yaml"
ok "$BKP" policy check --policy "$WORK/link.yaml"
chmod 666 "$POL"
check_exit 2 "$BKP" backup --policy "$WORK/link.yaml" ds || true
output_has "chmod go-w $POL"
no_marker "backup through a link to a policy of mode 666"
policy
# A link in a folder others may write to: they could point it elsewhere.
mkdir -p "$WORK/open" && chmod 777 "$WORK/open"
ln -s "$POL" "$WORK/open/link.yaml"
check_exit 2 "$BKP" backup --policy "$WORK/open/link.yaml" ds || true
output_has "chmod go-w $WORK/open" "a link to the policy in a folder anyone may write must be refused"
no_marker "backup through a link in a world-writable folder"

# ---- 2. the runbook ----
runbook "  - { who: \"operator\", run: \"touch $MARK\" }"
chmod 666 "$RB/rb.yaml"
check_exit 2 "$BKP" drill rb --policy "$POL" || true
output_has "chmod go-w $RB/rb.yaml" "a runbook of mode 666 must be refused with the chmod to run"
no_marker "drill with a runbook of mode 666"
check_exit 2 "$BKP" restore --runbook rb --policy "$POL" || true
no_marker "restore --runbook with a runbook of mode 666"
chmod 644 "$RB/rb.yaml"
chmod 777 "$RB"
check_exit 2 "$BKP" drill rb --policy "$POL" || true
output_has "chmod go-w $RB" "a writable runbook folder must be refused"
no_marker "drill with a runbook folder of mode 777"
chmod 755 "$RB"
chown nobody "$RB/rb.yaml"
check_exit 2 "$BKP" drill rb --policy "$POL" || true
output_has "chown root $RB/rb.yaml"
no_marker "drill with a runbook owned by nobody"
chown root "$RB/rb.yaml"
runbook

# ---- 3. the passphrase file ----
chown nobody "$PASSFILE"
chmod 600 "$PASSFILE"
check_exit 2 "$BKP" generations --policy "$POL" || true
output_has "chown root $PASSFILE" "a passphrase file owned by another user must be refused"
check_exit 2 "$BKP" generations --repo "$REPO" --passphrase-file "$PASSFILE" || true
output_has "chown root $PASSFILE"
BKP_PASSPHRASE_FILE=$PASSFILE check_exit 2 "$BKP" ls ds:latest --repo "$REPO" || true
output_has "chown root $PASSFILE"
chown root "$PASSFILE"
chmod 640 "$PASSFILE"
check_exit 2 "$BKP" generations --policy "$POL" || true
output_has "chmod 600 $PASSFILE"
chmod 600 "$PASSFILE"
ok "$BKP" generations --policy "$POL"

# ---- 4. an alias bomb: one 100 KiB anchor named 10,000 times ----
BOMB=$ETC/bomb.yaml
{
    printf 'repository: %s\ndatasets:\n  - name: x\n    description: &p "/' "$REPO"
    head -c 102400 /dev/zero | tr '\0' a
    printf '"\n    paths: [*p'
    for _ in $(seq 9999); do printf ', *p'; done
    printf ']\n'
} >"$BOMB"
chmod 644 "$BOMB"
if [ -x /usr/bin/time ]; then
    check_exit 2 /usr/bin/time -f 'peak %M KiB' -o "$WORK/time" "$BKP" policy check --policy "$BOMB" || true
    kib=$(sed -n 's/^peak \([0-9]*\) KiB$/\1/p' "$WORK/time")
    [ -n "$kib" ] && [ "$kib" -lt 102400 ] || flunk "the alias bomb cost ${kib:-?} KiB (at most 100 MiB)"
else
    check_exit 2 "$BKP" policy check --policy "$BOMB" || true
fi
output_has "$BOMB:4: the file holds more than"
output_has "aliases"
# A 2 MiB policy is refused before it is parsed.
{ cat "$POL"; head -c $((2 << 20)) /dev/zero | tr '\0' '#'; } >"$ETC/huge.yaml"
check_exit 2 "$BKP" policy check --policy "$ETC/huge.yaml" || true
output_has "more than the 1048576"

# ---- 5. relative paths, null paths, a second document ----
bad() { # bad LINE WHAT: the policy in $ETC/bad.yaml is refused at LINE
    chmod 644 "$ETC/bad.yaml"
    check_exit 2 "$BKP" policy check --policy "$ETC/bad.yaml" || true
    output_has "$ETC/bad.yaml:$1: " "$2 must be refused with its line"
    output_has "$2"
}
sed "s|^repository: .*|repository: relative/repo|" "$POL" >"$ETC/bad.yaml"
bad 1 "is not absolute"
{ cat "$POL"; printf 'media:\n  - name: usb-a\n    type: removable\n    path: null\n'; } >"$ETC/bad.yaml"
n=$(($(wc -l <"$POL") + 4))
bad "$n" "'path' is null here"
{ cat "$POL"; printf -- '---\nrepository: /elsewhere\n'; } >"$ETC/bad.yaml"
n=$(($(wc -l <"$POL") + 1))
bad "$n" "a second YAML document"

# ---- 6. hook env values are not printed ----
policy "    before: { command: \"true\", env: { PGPASSWORD: s3cr3t-pw } }
    after: { command: \"true\", env: [ PGUSER=backup-user ] }"
ok "$BKP" policy check --policy "$POL" --json
output_has '"PGPASSWORD": "***"' "env names are kept, values redacted"
output_has '"PGUSER": "***"'
case "$OUT$ERR" in *s3cr3t-pw* | *backup-user*) flunk "policy check --json printed a hook env value" ;; esac
ok "$BKP" policy check --policy "$POL"
output_has "PGPASSWORD=***"
case "$OUT$ERR" in *s3cr3t-pw* | *backup-user*) flunk "policy check printed a hook env value" ;; esac
policy

# Nothing of the repository changed through all of this.
digest >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || flunk "the repository changed"
ok "$BKP" verify --policy "$POL"
finish
