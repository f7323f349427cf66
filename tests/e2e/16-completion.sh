#!/usr/bin/env bash
# 16-completion — the bash completion, as an operator's shell uses it, from
# the source tree's script and the built program (15-package checks the
# installed one):
#  1. data sets, media and runbooks by name, from the policy typed on the
#     line (--policy) or in force; no file names where a name is expected
#     (`--medium`, `--media`, `rotate`, `drill`);
#  2. generations: `ls emr<TAB>` offers emr:1, emr:2, emr:latest and
#     `ls emr:<TAB>` only that data set's, the colon kept as typed;
#  3. a file name where a path is expected (`restore GEN <TAB>`);
#  4. never a prompt: with no passphrase to be had, the generations are
#     simply not offered, at once.
. "$(dirname "$0")/lib.sh"
need_tool bash timeout setsid
SRC=${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

DATA=$WORK/data
mkdir -p "$DATA/emr" "$DATA/scans" "$WORK/usb" "$WORK/runbooks" "$WORK/target"
echo a >"$DATA/emr/a.txt"
echo b >"$DATA/scans/b.txt"
sed "s/karte/emr/g" "$SRC/policies/runbooks/clinic.yaml" >"$WORK/runbooks/clinic.yaml"
POL=$WORK/policy.yaml
cat >"$POL" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 0, offsite: 0 }
media:
  - { name: usb-a, type: removable, path: $WORK/usb, offline: true, rotate_every: 7d }
datasets:
  - { name: emr, paths: [$DATA/emr], runbook: clinic }
  - { name: scans, paths: [$DATA/scans] }
YAML
unset BKP_POLICY BKP_PASSPHRASE_FILE
ok "$BKP" init --policy "$POL"
ok "$BKP" backup emr --policy "$POL"
ok "$BKP" backup emr --policy "$POL"
ok "$BKP" backup scans --policy "$POL"

# complete WORD... : what <TAB> after the words offers, one a line (the last
# word is the one being completed), in a shell with bash-completion loaded
# when the machine has it.
complete_words() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK" \
        ${BKP_PASSPHRASE_COMMAND:+BKP_PASSPHRASE_COMMAND="$BKP_PASSPHRASE_COMMAND"} bash -c '
        [ -f /usr/share/bash-completion/bash_completion ] &&
            . /usr/share/bash-completion/bash_completion
        . "$0"
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _bkp bkp "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort' "$SRC/docs/completion/bkp" "$BKP" "$@"
}
is() { # is EXPECTED WORD...
    local want=$1 got
    shift
    got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || flunk "bkp ${*:1}<TAB> offers '$got', not '$want'"
}
P=(--policy "$POL")

# 1. Names.
is "emr scans" backup "${P[@]}" ""
is "usb-a" rotate "${P[@]}" ""
is "usb-a" verify "${P[@]}" --media ""
is "repository usb-a" drill "${P[@]}" clinic --medium ""
is "clinic" drill "${P[@]}" ""
is "clinic" runbook "${P[@]}" show ""
is "clinic" restore "${P[@]}" --runbook ""
is "usb-a" media "${P[@]}" sheet ""
# --repo goes to what takes it, not to the policy check that names media.
is "usb-a" verify "${P[@]}" --repo "$WORK/repo" --media ""
# No file names where a name is expected, even when files match.
(cd "$WORK" && is "" drill "${P[@]}" clinic --medium ru)
(cd "$WORK" && is "" rotate "${P[@]}" ru)

# 2. Generations.
is "emr:1 emr:2 emr:latest scans:1 scans:latest" ls "${P[@]}" ""
is "emr:1 emr:2 emr:latest" ls "${P[@]}" em
if [ -f /usr/share/bash-completion/bash_completion ]; then
    # bash splits the word at the colon: what it replaces is after it.
    is "1 2 latest" restore "${P[@]}" emr:
    is "latest" diff "${P[@]}" emr:1 emr:l
fi

# 3. A path where a path is expected.
got=$(cd "$WORK" && complete_words restore "${P[@]}" emr:latest targ)
grep -qx 'target/\{0,1\}' <<<"$got" || flunk "bkp restore emr:latest targ<TAB> offers '$got', not the folder target"

# 4. No passphrase to be had: nothing offered, at once, and no prompt.
chmod 000 "$PASSFILE"
if [ "$(id -u)" = 0 ]; then
    sed -i "s|^passphrase_file: .*|passphrase_file: $WORK/none|" "$POL"
fi
t0=$(date +%s)
is "" ls "${P[@]}" em
# A passphrase command of the environment is never run by a <TAB>.
export BKP_PASSPHRASE_COMMAND="touch $WORK/asked; sleep 30"
is "" ls "${P[@]}" em
unset BKP_PASSPHRASE_COMMAND
[ ! -e "$WORK/asked" ] || flunk "completion ran the passphrase command"
[ $(($(date +%s) - t0)) -lt 4 ] || flunk "completing a generation without a passphrase should not wait"
chmod 600 "$PASSFILE"

finish
