#!/usr/bin/env bash
# 72-read-write-forms — a reading command holds a read-only handle: it is
# opened read-only, takes no writer's lock, and leaves the repository as it
# was. The forms of reading commands that write the primary (a clearance, a
# key change or export, a medium's label, an audit restart, a verify that
# stamps a medium or keeps a sample's state) are writers: like a backup,
# they stop while a prune runs (exit 3, saying why) and write nothing.
. "$(dirname "$0")/lib.sh"
need_tool flock

D=$WORK/data
mkdir -p "$D" "$WORK/disk"
echo "letter" >"$D/a.txt"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
export BKP_REPO=$REPO
ok "$BKP" backup --dataset docs "$D"

# A live prune: its lock held by another process (flock(1) stands in).
hold() { # hold FILE: a live holder of lock FILE, in the background
    printf 'host=%s pid=%s user=root time=x command=test\n' "$(hostname)" "$$" >"$1"
    flock -o "$1" sleep 60 >/dev/null 2>&1 </dev/null &
    HOLDER=$!
    for _ in $(seq 50); do flock -n "$1" true 2>/dev/null || break; sleep 0.1; done
}
release() { kill "$HOLDER" 2>/dev/null || true; wait "$HOLDER" 2>/dev/null || true; }
hold "$REPO/locks/prune"
before=$(repo_digest "$REPO")

# Readers go on, and change nothing.
ok "$BKP" generations docs
grep -q '^docs:1 ' <<<"$OUT" || flunk "generations should list docs:1: $OUT"
ok "$BKP" ls docs:1
grep -q 'a.txt' <<<"$OUT" || flunk "ls should list a.txt: $OUT"
ok "$BKP" key list
ok "$BKP" key fingerprint
ok "$BKP" audit verify
ok "$BKP" audit show
ok "$BKP" media list
[ "$(repo_digest "$REPO")" = "$before" ] || flunk "a reading command changed the repository"

# Their writing forms are writers: each stops before it writes.
for cmd in "generations --clear-suspicious docs:1" "key export --paper -o $WORK/paper.md" \
    "key split --shares 3 --threshold 2 -o $WORK/shares" "key remove 0" \
    "media label $WORK/disk --name usb-a --type disk" "audit restart lost" \
    "verify --sample 10"; do
    # shellcheck disable=SC2086 # the words of the command
    check_exit 3 "$BKP" $cmd || true
    output_has "prune is running" "bkp $cmd during a prune should say why it stops"
done
[ ! -e "$WORK/paper.md" ] && [ ! -e "$WORK/shares" ] || flunk "a key sheet was written during a prune"
[ ! -e "$WORK/disk/BKP-LABEL" ] || flunk "a medium was labelled during a prune"
[ "$(repo_digest "$REPO")" = "$before" ] || flunk "a writer changed the repository during a prune"
release
rm -f "$REPO/locks/prune"

# Once the prune is over, a writing form runs, and records what it did.
ok "$BKP" key export --paper -o "$WORK/paper.md"
[ -s "$WORK/paper.md" ] || flunk "key export wrote no sheet"
n=$(grep -c '"op":"key-export"\|"op": "key-export"' "$REPO/audit/log.jsonl" || true)
[ "$n" = 1 ] || flunk "key export should be recorded once, found $n"
check_exit 2 "$BKP" generations --clear-suspicious docs:1 || true
output_has "not marked suspicious" "a clearance of an unmarked generation is refused"
finish
