#!/bin/bash
# 40-errors — what the operator sees when things are not right: unreadable files
# (exit 1, named, the rest sealed and restorable), a non-empty restore target, an
# unknown generation, a second init, a short passphrase, a missing repository
# (exit 5, also with --from and with no passphrase given).
. "$(dirname "$0")/lib.sh"
need_root
need_tool setpriv cmp

D=$WORK/data # the data set; stored as ${D#/}
REPO=$WORK/repo
mkdir -p "$D/dir" "$D/closed"
head -c 2000000 /dev/urandom >"$D/big"
echo "readable" >"$D/dir/ok.txt"
seq 1 1000 >"$D/numbers"
echo "nobody may read this" >"$D/dir/secret"
chmod 000 "$D/dir/secret"
echo "behind a closed door" >"$D/closed/inside"
chmod 700 "$D/closed" # root's; nobody cannot list it
touch -d "2020-01-02 03:04:05" "$D" # a time no restore could happen to give it

# ---------------------------------------------------------------------------
# 1. Unreadable files, as an unprivileged user: exit 1, the files named, the
#    generation sealed with them in its errors, the rest restorable.
NOBODY_GROUP=$(id -gn nobody 2>/dev/null) || {
    echo "SKIP [$TEST_NAME]: no user 'nobody'" >&2
    exit 77
}
as_nobody() {
    setpriv --reuid=nobody --regid="$NOBODY_GROUP" --clear-groups \
        env BKP_PASSPHRASE_FILE="$WORK/nobody-pass" HOME="$WORK" "$@"
}
ok "$BKP" init --repo "$REPO"
cp "$PASSFILE" "$WORK/nobody-pass"
chown nobody "$WORK/nobody-pass"
chmod 600 "$WORK/nobody-pass"
chown -R nobody "$REPO"
as_nobody test -r "$BKP" || fail "user nobody cannot run $BKP (a parent directory is not searchable)"

check_exit 1 as_nobody "$BKP" backup --repo "$REPO" --dataset ds --json "$D" || true
grep -F "${D#/}/dir/secret" <<<"$ERR" | grep -i 'warn\|error' >/dev/null ||
    flunk "the backup's warnings do not name the unreadable file dir/secret: $ERR"
grep -qF "${D#/}/closed" <<<"$ERR" ||
    flunk "the backup's warnings do not name the unreadable directory closed/: $ERR"
check_exit 0 "$BKP" generations --repo "$REPO" ds --json || true
grep -q '"status": *"sealed"' <<<"$OUT" || flunk "the generation with unreadable files is not sealed: $OUT"
errors=$(printf '%s\n' "$OUT" | sed -n '/"errors": *\[/,/\]/p')
grep -qF "${D#/}/dir/secret" <<<"$errors" ||
    flunk "generations --json does not list dir/secret in the generation's errors: $errors"
grep -qF "${D#/}/closed" <<<"$errors" ||
    flunk "generations --json does not list closed/ in the generation's errors: $errors"
check_exit 0 "$BKP" verify --repo "$REPO" --read-data || true

T=$WORK/restore1
check_exit 0 "$BKP" restore --repo "$REPO" ds:latest "$T" || true
for f in big dir/ok.txt numbers; do
    cmp -s "$D/$f" "$T$D/$f" || flunk "$f is not restored identical from the generation with errors"
done
[ ! -e "$T$D/dir/secret" ] || [ ! -s "$T$D/dir/secret" ] ||
    flunk "dir/secret was restored with content, though it could not be read"

# ---------------------------------------------------------------------------
# 2. A non-empty restore target is refused and left alone; --force restores into it.
T2=$WORK/busy
mkdir "$T2"
echo "precious" >"$T2/keep-me"
check_exit 2 "$BKP" restore --repo "$REPO" ds:1 "$T2" || true
[ "$(ls -A "$T2")" = keep-me ] && [ "$(cat "$T2/keep-me")" = precious ] ||
    flunk "a refused restore changed its non-empty target: $(ls -A "$T2")"
# What was there and is not the generation's is left, and said (after an
# attack: the ransom note beside the restored files), never counted as restored.
mkdir -p "$T2$D"
echo "pay us" >"$T2$D/README-RESTORE-FILES.txt"
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$T2" --force || true
cmp -s "$D/big" "$T2$D/big" || flunk "restore --force into a non-empty target did not restore 'big'"
[ "$(cat "$T2/keep-me" 2>/dev/null)" = precious ] || flunk "restore --force removed an unrelated file"
# Inside the folders the generation holds only: keep-me, beside them at the
# target's root, is not the generation's to judge.
output_has "1 name(s) in $T2 are not in ds:1"
output_has "README-RESTORE-FILES.txt"
output_lacks "keep-me"
# A note in every folder: twenty named, one a line (the list of what to
# move aside), and how many more.
for i in $(seq 1 24); do echo "pay us" >"$T2$D/README-$i.txt"; done
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$T2" --force || true
output_has "25 name(s) in $T2 are not in ds:1"
[ "$(grep -c '^  .*README' <<<"$ERR")" = 20 ] || flunk "twenty names, one a line: $ERR"
output_has "… and 5 more"
rm -f "$T2$D"/README-[0-9]*.txt
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$T2" --force --json || true
[ "$(json_num extra)" = 1 ] || flunk "restore --force --json does not count the name it left: $OUT"
# A name an attacker chose forges no line of the output.
touch "$T2$D/$(printf 'x\nbkp: restore verified, 0 problems')"
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$T2" --force || true
grep -q "^bkp: restore verified" <<<"$ERR" && flunk "a file name forged a line: $ERR"
rm -f "$T2$D/x"*
rm -r "$T2$D/README-RESTORE-FILES.txt"
# The target may also be an existing empty directory.
mkdir "$WORK/empty-target"
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$WORK/empty-target" || true

# ---------------------------------------------------------------------------
# 3. Unknown generations.
for gen in ds:99 nosuch:latest nosuch:1 deadbeefdeadbeef ds:notanumber; do
    check_exit 2 "$BKP" restore --repo "$REPO" "$gen" "$WORK/never-$RANDOM" || true
    check_exit 2 "$BKP" ls --repo "$REPO" "$gen" || true
done
check_exit 2 "$BKP" diff --repo "$REPO" ds:1 ds:99 || true
[ -z "$(find "$WORK" -maxdepth 1 -name 'never-*')" ] || flunk "a restore of an unknown generation created its target"
# A path that matches nothing is an error that says so (and only that), in
# ls and in restore; restore --json prints one document, also then.
check_exit 1 "$BKP" ls --repo "$REPO" ds:1 /no/such/path || true
output_has "nothing in ds:1 is at /no/such/path"
check_exit 1 "$BKP" restore --repo "$REPO" ds:1 "$WORK/nomatch" --path /no/such/path --json || true
output_has "nothing in ds:1 is at or below '/no/such/path'"
grep -q "could not be restored" <<<"$ERR" && flunk "a path that matched nothing was reported as damaged files: $ERR"
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["ok"] is False and d["nothing_at_path"] is True, d' <<<"$OUT" ||
    flunk "restore --json should print one document saying nothing matched: $OUT"
# So is a --folder the generation does not hold (a typo), which restored
# nothing with exit 0; the slash a shell's completion adds is not a typo.
check_exit 1 "$BKP" restore --repo "$REPO" ds:1 "$WORK/folder-typo" --folder "${D}x" || true
output_has "holds no folder '${D}x'"
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$WORK/folder-slash" --folder "$D/" || true
cmp -s "$D/big" "$WORK/folder-slash/big" || flunk "--folder DIR/ should restore DIR's contents"
# The target takes the folder's place: its mode and times too, set after
# everything in it was written (not the time of the restore).
[ "$(stat -c '%a %Y' "$WORK/folder-slash")" = "$(stat -c '%a %Y' "$T$D")" ] ||
    flunk "--folder: the target's mode and time are not the folder's: $(stat -c '%a %y' \
        "$WORK/folder-slash") against $(stat -c '%a %y' "$T$D")"
# A name typed with a Japanese input method (full-width letters, colon and
# digits) is the same name.
check_exit 0 "$BKP" ls --repo "$REPO" 'ｄｓ：０１' || true
output_has "big"
check_exit 0 "$BKP" restore --repo "$REPO" 'ds：1' "$WORK/fullwidth" || true
check_exit 0 "$BKP" generations --repo "$REPO" 'ｄｓ　' || true
output_has "ds:1"
check_exit 0 "$BKP" find big --repo "$REPO" --dataset 'ｄｓ' || true
output_has "ds:1"
cmp -s "$D/big" "$WORK/fullwidth/$D/big" || flunk "a full-width ds：1 should restore ds:1"
check_exit 0 "$BKP" restore --repo "$REPO" ds:1 "$WORK/json-target" --json || true
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["ok"] is True and d["files"] > 0 and d["generation"] == "ds:1", d' <<<"$OUT" ||
    flunk "restore --json should print one document of what it restored: $OUT"

# ---------------------------------------------------------------------------
# 4. A second init on an existing repository is refused and changes nothing.
repo_digest "$REPO" >"$WORK/digest-before"
check_exit 2 "$BKP" init --repo "$REPO" || true
printf 'another passphrase, long enough\n' >"$WORK/other-pass"
chmod 600 "$WORK/other-pass"
check_exit 2 "$BKP" init --repo "$REPO" --passphrase-file "$WORK/other-pass" || true
repo_digest "$REPO" >"$WORK/digest-after"
diff "$WORK/digest-before" "$WORK/digest-after" >&2 || flunk "a second init changed the repository"
check_exit 0 "$BKP" generations --repo "$REPO" || true

# ---------------------------------------------------------------------------
# 5. Passphrase length: 12 characters are refused, 13 accepted.
printf '%s\n' 'twelve chars' >"$WORK/pass12"
printf '%s\n' 'thirteen char' >"$WORK/pass13"
chmod 600 "$WORK/pass12" "$WORK/pass13"
[ "$(head -n 1 "$WORK/pass12" | tr -d '\n' | wc -c)" = 12 ] || fail "test bug: pass12 is not 12 characters"
check_exit 2 "$BKP" init --repo "$WORK/repo12" --passphrase-file "$WORK/pass12" || true
output_has "13" "the refusal should say how long a passphrase must be"
[ ! -e "$WORK/repo12" ] || [ -z "$(ls -A "$WORK/repo12")" ] || flunk "init with a 12-character passphrase left files behind"
check_exit 0 "$BKP" init --repo "$WORK/repo13" --passphrase-file "$WORK/pass13" || true

# ---------------------------------------------------------------------------
# 6. Usage errors.
check_exit 5 "$BKP" generations --repo "$WORK/no-such-repo" || true
[ ! -e "$WORK/no-such-repo" ] || flunk "generations on a missing repository created it"
check_exit 5 "$BKP" backup --repo "$WORK/no-such-repo" --dataset ds "$D" || true
[ ! -e "$WORK/no-such-repo" ] || flunk "backup to a missing repository created it"
# Nothing there is 5 before any passphrase is asked for, and from --from too.
check_exit 5 env -u BKP_PASSPHRASE -u BKP_PASSPHRASE_FILE -u BKP_PASSPHRASE_COMMAND \
    "$BKP" generations --repo "$WORK/no-such-repo" || true
output_has "no repository at" "a missing repository is said before the passphrase is missed"
check_exit 5 "$BKP" restore --repo "$REPO" ds:latest "$WORK/never-from" --from "$WORK/no-such-medium" || true
mkdir -p "$WORK/empty-medium"
check_exit 5 "$BKP" restore --repo "$REPO" ds:latest "$WORK/never-from" --from "$WORK/empty-medium" || true
output_has "where the backup disk is mounted" "a folder with nothing of bkp's should ask whether the disk is mounted there"
# A backup disk's mount point given as a repository: its copy is named, and
# no `bkp init` is offered on a disk of backups, nor on a folder of files.
mkdir -p "$WORK/a-disk/repo" && echo label >"$WORK/a-disk/BKP-LABEL"
cp "$REPO/config" "$WORK/a-disk/repo/config"
check_exit 5 "$BKP" generations --repo "$WORK/a-disk" || true
output_has "--repo $WORK/a-disk/repo" "a disk's mount point should name the repository below it"
output_lacks "bkp init" "never offer to make a repository on a backup disk"
check_exit 5 "$BKP" generations --repo "$D" || true
output_lacks "bkp init" "never offer to make a repository over a folder of files"
# A folder of archives is no repository and has none below: restore from it.
mkdir -p "$WORK/an-archive-folder" && echo label >"$WORK/an-archive-folder/BKP-LABEL"
check_exit 5 "$BKP" generations --repo "$WORK/an-archive-folder" || true
output_has "--from $WORK/an-archive-folder" "a folder of archives should be restored from with --from"
output_lacks "an-archive-folder/repo" "a folder of archives has no repository below to name"
# Someone who is not root: told to run as root, not that nothing is there.
mkdir -p "$WORK/root-only/repo" && cp "$REPO/config" "$WORK/root-only/repo/config"
chmod 700 "$WORK/root-only"
chmod 755 "$WORK"
if [ "$(id -u)" = 0 ] && runuser -u nobody -- test -x "$BKP"; then
    check_exit 1 runuser -u nobody -- env -u BKP_PASSPHRASE_FILE -u BKP_PASSPHRASE -u BKP_PASSPHRASE_COMMAND "$BKP" restore ds:latest /tmp/never-nobody --from "$WORK/root-only" || true
    output_has "run bkp as root" "a folder bkp may not read should say to run as root"
    output_lacks "holds no" "a folder bkp may not read is not an empty one"
    check_exit 1 runuser -u nobody -- env -u BKP_PASSPHRASE_FILE -u BKP_PASSPHRASE -u BKP_PASSPHRASE_COMMAND "$BKP" generations --repo "$WORK/root-only/repo" || true
    output_has "run bkp as root" "a repository bkp may not read should say to run as root"
    # A folder of files nobody may list is not an empty one: no `bkp init` offered.
    mkdir -p "$WORK/hidden-files" && echo x >"$WORK/hidden-files/x" && chmod 711 "$WORK/hidden-files"
    check_exit 5 runuser -u nobody -- env -u BKP_PASSPHRASE_FILE -u BKP_PASSPHRASE -u BKP_PASSPHRASE_COMMAND "$BKP" generations --repo "$WORK/hidden-files" || true
    output_lacks "bkp init" "a folder that cannot be listed is not offered to bkp init"
fi
check_exit 2 "$BKP" no-such-command || true
check_exit 2 "$BKP" restore --repo "$REPO" ds:1 || true
# A data set named alone is a data set, not a generation: told how to name one.
check_exit 2 "$BKP" restore --repo "$REPO" ds "$WORK/never-ds" || true
output_has "such as ds:latest" "a data set named alone should be told how to name a generation"
check_exit 2 "$BKP" backup --repo "$REPO" "$D" || true # no --dataset
check_exit 2 "$BKP" generations --repo "$REPO" --no-such-option || true
# An option without its value is named as such, not as one the command does
# not take; a number of workers must be a number.
check_exit 2 "$BKP" backup --repo "$REPO" --dataset || true
output_has "--dataset needs a value"
check_exit 2 "$BKP" backup --repo "$REPO" --workers abc --dataset ds "$D" || true
output_has "give a number of threads"
check_exit 2 "$BKP" verify --repo "$REPO" --workers 0 || true
output_has "give a number of threads"
# An option's name is written whole: `--form` (meant `--from`) is not taken
# for `--format`, with a value or without, joined by = or not.
check_exit 2 "$BKP" audit report --repo "$REPO" --form 2026-11-01 || true
output_has "'--form' is not an option's whole name: write --format if that is the one meant"
check_exit 2 "$BKP" audit report --repo "$REPO" --form=md || true
output_has "'--form' is not an option's whole name"
check_exit 2 "$BKP" verify --repo "$REPO" --read || true
output_has "'--read' is not an option's whole name: write --read-data"
# One table of options: an option of another command is refused with the
# command's usage; each command's --help lists the options it takes, and
# every help line fits a terminal of 80 columns.
check_exit 2 "$BKP" ls --repo "$REPO" --read-data ds:latest || true
output_has "ls does not take the option '--read-data'"
output_has "usage: bkp ls GEN"
check_exit 2 "$BKP" policy check --key-from "$WORK/sheet" || true
output_has "leave out --key-from"
# A data set naming a runbook that is not there fails the policy's check, as file:line.
mkdir -p "$WORK/pol-rb"
cat >"$WORK/pol-rb/policy.yaml" <<YAML
repository: $REPO
datasets:
  - { name: ds, paths: [$D], runbook: no-such-book }
YAML
check_exit 2 "$BKP" policy check --policy "$WORK/pol-rb/policy.yaml" || true
output_has "policy.yaml:3: data set ds names the runbook 'no-such-book'"
output_has "no runbook 'no-such-book'"
# A runbook of other data sets (the template's emr-db, for karte): refused by
# the check, said by `runbook show`, and the status says it cannot be used.
mkdir -p "$WORK/pol-rb/runbooks"
cp "${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/policies/runbooks/emr-db-remote.yaml" "$WORK/pol-rb/runbooks/"
cat >"$WORK/pol-rb/misfit.yaml" <<YAML
repository: $REPO
datasets:
  - { name: karte, paths: [$D], runbook: emr-db-remote }
YAML
check_exit 2 "$BKP" policy check --policy "$WORK/pol-rb/misfit.yaml" || true
output_has "it restores the data set 'emr-db', which the policy"
output_has "(it has: karte)"
output_has "the data set karte names this runbook, which does not restore it"
check_exit 2 "$BKP" runbook show emr-db-remote --policy "$WORK/pol-rb/misfit.yaml" || true
output_has "does not restore it"
# One that also restores a data set the policy no longer backs up (its
# generations kept): warned of, not refused.
sed 's/^datasets: \[emr-db\]/datasets: [karte, emr-old]/; s/dataset: emr-db/dataset: karte/g' \
    "$WORK/pol-rb/runbooks/emr-db-remote.yaml" >"$WORK/pol-rb/runbooks/kept.yaml"
sed 's/runbook: emr-db-remote/runbook: kept/' "$WORK/pol-rb/misfit.yaml" >"$WORK/pol-rb/kept.yaml"
check_exit 0 "$BKP" policy check --policy "$WORK/pol-rb/kept.yaml" || true
output_has "it restores the data set 'emr-old', which the policy"
output_has "works only while the repository still holds that data set"
# With a policy whose repository is not on this machine (the paper's
# recovery.yaml on a new one), a reader is told to name a medium with
# --from, and which; a medium's name mistyped is told the names.
cat >"$WORK/pol-rb/gone.yaml" <<YAML
repository: $WORK/gone-repo
datasets:
  - { name: ds, paths: [$D] }
media:
  - { name: usb-a, type: removable, path: $WORK/usb-a }
  - { name: cloud-x, type: removable, path: $WORK/usb-b }
YAML
for cmd in "generations" "ls ds:1" "restore ds:1 $WORK/never-gone"; do
    # shellcheck disable=SC2086 # the command's words
    check_exit 5 env -u BKP_REPO "$BKP" $cmd --policy "$WORK/pol-rb/gone.yaml" || true
    output_has "add --from MEDIUM, one of usb-a, cloud-x"
done
check_exit 2 env -u BKP_REPO "$BKP" restore ds:1 "$WORK/never-gone" --from usb --policy "$WORK/pol-rb/gone.yaml" || true
output_has "no medium is named usb in the policy $WORK/pol-rb/gone.yaml, which names usb-a, cloud-x"
check_exit 2 "$BKP" status --public-key 00 || true
output_has "does not take --public-key"
check_exit 0 "$BKP" verify --help || true
output_has "--repair-from M2"
output_has "--sample PCT"
output_has "--policy FILE"
output_has "--json"
check_exit 0 "$BKP" init --help || true
output_has "usage: bkp init [--repo DIR | --policy FILE]"
check_exit 0 "$BKP" runbook --help || true
output_has "bkp runbook print NAME"
check_exit 0 "$BKP" help verify || true
output_has "--repair-from M2"
check_exit 0 "$BKP" restore -h || true
if grep -q -- "--read-data" "$WORK/.out"; then flunk "restore --help lists an option restore does not take"; fi
for cmd in "" init backup generations ls diff restore run prune audit policy media rotate runbook drill status key verify; do
    "$BKP" $cmd --help >"$WORK/help" 2>&1 || flunk "bkp $cmd --help failed"
    wide=$(LC_ALL=C.UTF-8 awk 'length($0) > 79' "$WORK/help")
    [ -z "$wide" ] || flunk "bkp $cmd --help has lines wider than 79 columns: $wide"
done

# ---------------------------------------------------------------------------
# 7. Nothing to capture (an unmounted volume): nothing is sealed, so ds:latest
#    still names the last real generation. A --path that selects nothing fails.
before=$("$BKP" generations --repo "$REPO" --json | grep -c '"seq"')
check_exit 1 "$BKP" backup --repo "$REPO" --dataset ds "$WORK/not-mounted" || true
output_has "nothing is sealed" "an unreadable data set should say that nothing was sealed"
after=$("$BKP" generations --repo "$REPO" --json | grep -c '"seq"')
[ "$before" = "$after" ] || flunk "a backup of a missing path sealed a generation ($before -> $after)"
check_exit 1 "$BKP" restore --repo "$REPO" ds:latest "$WORK/restore-nothing" --path "$WORK/no/such/subtree" || true
output_has "bkp ls" "a --path that selects nothing should say how to list the generation"
check_exit 1 "$BKP" ls --repo "$REPO" ds:latest "$WORK/no/such/subtree" || true
output_has "lists everything it holds" "ls of a path that is not there must say so"

finish
