#!/usr/bin/env bash
# 48-compression — zstd beside LZ4, chosen per data set (`compression:`) or
# per backup (`--compression`), in one repository:
#  1. generations written with lz4, zstd:1, zstd:19, auto and none restore
#     exactly, and `verify --read-data` reads every one of them back;
#  2. text stored with zstd takes less room than with LZ4, and with none
#     the most;
#  3. the policy's word is checked at its line, and a wrong --compression
#     is a usage error (2) that writes nothing.
. "$(dirname "$0")/lib.sh"
need_tool bsdtar

SRC=$WORK/src
mkdir -p "$SRC/notes"
for i in $(seq 1 60); do
    for j in $(seq 1 200); do echo "患者 $i 来院 $j: 血圧 120/80, 体温 36.$((j % 10)), 処方 継続"; done \
        >"$SRC/notes/note-$i.txt"
done
head -c 2000000 /dev/urandom >"$SRC/scan.bin"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
packs() { du -sb "$REPO/packs" | cut -f1; }

# ---- 1: one repository, every kind (each backup adds a file of its own) ----
for c in lz4 zstd:1 zstd:19 auto none; do
    for j in $(seq 1 300); do echo "$c: 紹介状 $j 件目、検査結果は別紙のとおり"; done >"$SRC/notes/new-${c/:/-}.txt"
    ok "$BKP" backup --repo "$REPO" --dataset "d-${c/:/-}" "$SRC" --compression "$c"
    rm -rf "$WORK/out"
    ok "$BKP" restore --repo "$REPO" "d-${c/:/-}:latest" "$WORK/out"
    same_mtree "$SRC" "$WORK/out$SRC" "d-${c/:/-} restored"
done
ok "$BKP" verify --repo "$REPO" --read-data

# ---- 2: sizes, each in a repository of its own ----
size() { # COMPRESSION: the packs' bytes of one backup of the notes
    rm -rf "$WORK/r-size"
    "$BKP" init --repo "$WORK/r-size" >/dev/null 2>&1 || fail "init failed"
    "$BKP" backup --repo "$WORK/r-size" --dataset n "$SRC/notes" --compression "$1" >/dev/null 2>&1 ||
        fail "backup --compression $1 failed"
    du -sb "$WORK/r-size/packs" | cut -f1
}
lz4=$(size lz4) z19=$(size zstd:19) none=$(size none)
[ "$z19" -lt "$lz4" ] || flunk "zstd:19 ($z19) should be smaller than LZ4 ($lz4)"
[ "$none" -gt "$lz4" ] || flunk "none ($none) should be larger than LZ4 ($lz4)"

# ---- 3: bad words ----
digest=$(repo_digest "$REPO")
expect_exit 2 "$BKP" backup --repo "$REPO" --dataset x "$SRC" --compression gzip
output_has "not one bkp knows" || flunk "a wrong --compression should say so: $ERR"
[ "$(repo_digest "$REPO")" = "$digest" ] || flunk "a refused backup may write nothing"
cat >"$WORK/policy.yaml" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
datasets:
  - name: notes
    paths: [$SRC]
    compression: zstd:42
YAML
expect_exit 2 "$BKP" policy check --policy "$WORK/policy.yaml"
grep -q "policy.yaml:[0-9]*:.*compression 'zstd:42'" <<<"$ERR" || flunk "the policy's word should be refused at its line: $ERR"
sed -i 's/zstd:42/auto/' "$WORK/policy.yaml"
ok "$BKP" policy check --policy "$WORK/policy.yaml"
ok "$BKP" backup notes --policy "$WORK/policy.yaml"
finish
