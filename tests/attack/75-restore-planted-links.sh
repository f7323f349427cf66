#!/usr/bin/env bash
# 75-restore-planted-links — a restore never writes through a link planted in its
# target (issue 15: files are now created by parallel writers, each in a folder it
# enters by descriptor, and must keep the single writer's guarantee).
#
# Someone who can write into the target before a `restore --force` plants links where
# the restore will put things:
#  1. `evil -> OUTSIDE` where the generation has a folder `evil` with files in it;
#  2. `victim -> OUTSIDE/victim` and `big -> OUTSIDE/big` where it has a small and a
#     large regular file (the large one is written in ranges by several writers);
#  3. a link in place of a folder above a --path subtree, which the item list does
#     not hold (the writers make or enter it themselves).
# Each time: nothing in OUTSIDE changes, the restored names are real files and
# folders with the right content, and bkp ends with a documented exit code.
. "$(dirname "$0")/../e2e/lib.sh"
need_root

D=$WORK/ward
OUTSIDE=$WORK/outside
REPO=$WORK/repo
mkdir -p "$D/evil" "$D/docs/deep" "$OUTSIDE"
echo "payload" >"$D/evil/payload"
echo "chart" >"$D/victim"
echo "note" >"$D/docs/deep/note"
head -c $((24 << 20)) /dev/urandom >"$D/big"
echo "must stay" >"$OUTSIDE/victim"
echo "must stay too" >"$OUTSIDE/big"
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup --repo "$REPO" --dataset ward "$D"
before=$(repo_digest "$OUTSIDE")

restored() { # exit code of the restore in $RC: 0, or 1 for a file refused; never a signal
    case $RC in 0 | 1) ;; *) flunk "$1: exit code $RC (want 0 or 1)" ;; esac
}

# ---------- 1 and 2: links at the names of a folder and of files ----------
T=$WORK/target
R=$T$D
mkdir -p "$R"
ln -s "$OUTSIDE" "$R/evil"
ln -s "$OUTSIDE/victim" "$R/victim"
ln -s "$OUTSIDE/big" "$R/big"
for w in 1 4; do
    RC=0
    "$BKP" restore --repo "$REPO" --workers "$w" --force ward:latest "$T" >"$WORK/out" 2>&1 || RC=$?
    restored "restore --force --workers $w over planted links"
    [ "$(repo_digest "$OUTSIDE")" = "$before" ] ||
        flunk "--workers $w: the restore wrote through a planted link into $OUTSIDE: $(ls -la "$OUTSIDE")"
    [ ! -e "$OUTSIDE/payload" ] || flunk "--workers $w: evil/payload landed outside the target"
done
[ -d "$R/evil" ] && [ ! -L "$R/evil" ] && [ "$(cat "$R/evil/payload" 2>&1)" = payload ] ||
    flunk "evil is not restored as a real folder with its file"
[ -f "$R/victim" ] && [ ! -L "$R/victim" ] && [ "$(cat "$R/victim")" = chart ] ||
    flunk "victim is not restored as a real file"
[ -f "$R/big" ] && [ ! -L "$R/big" ] && cmp -s "$D/big" "$R/big" ||
    flunk "big is not restored as a real file with its content"

# ---------- 3: a link above a --path subtree ----------
T2=$WORK/target2
TOP=${D#/}
TOP=${TOP%%/*} # the first component of the stored path
mkdir -p "$T2"
ln -s "$OUTSIDE" "$T2/$TOP"
RC=0
"$BKP" restore --repo "$REPO" --force ward:latest "$T2" --path "$D/docs" >"$WORK/out" 2>&1 || RC=$?
restored "restore --force --path under a planted link"
[ "$(repo_digest "$OUTSIDE")" = "$before" ] ||
    flunk "--path: the restore wrote through the link $T2/$TOP into $OUTSIDE"

finish
