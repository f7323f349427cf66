#!/usr/bin/env bash
# 43-find-dump — a lost file back without a restore: `bkp find` lists the
# generations that hold a path matching a pattern (a name, or a whole path),
# with sizes and times, as text or JSON; `bkp dump GEN PATH` writes one
# file's content to standard output byte for byte (a multi-chunk file, a
# sparse one, a hard link, an empty one), refuses a folder or a missing path,
# and fails loudly on a damaged chunk.
. "$(dirname "$0")/lib.sh"
need_tool cmp truncate

D=$WORK/data
mkdir -p "$D/letters" "$D/scans"
REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"
export BKP_REPO=$REPO
gen() { ok "$BKP" backup --dataset docs "$D"; }
echo "letter v1" >"$D/letters/tuesday.txt"
head -c 9000000 /dev/urandom >"$D/scans/ct.dcm"
truncate -s 20M "$D/scans/sparse.img"
printf 'middle' | dd of="$D/scans/sparse.img" bs=1 seek=10000000 conv=notrunc status=none
ln "$D/scans/ct.dcm" "$D/scans/ct-link.dcm"
: >"$D/empty"
gen
cp "$D/letters/tuesday.txt" "$WORK/tuesday.v1"
echo "letter v2" >"$D/letters/tuesday.txt"
gen
rm "$D/letters/tuesday.txt"
echo "other" >"$D/letters/wednesday.txt"
gen

# find by name: the two generations that hold it, not the third.
ok "$BKP" find tuesday.txt
grep -q "docs:1 .*$D/letters/tuesday.txt" <<<"$OUT" && grep -q "docs:2 .*$D/letters/tuesday.txt" <<<"$OUT" ||
    flunk "find should list docs:1 and docs:2: $OUT"
grep -q "docs:3" <<<"$OUT" && flunk "docs:3 does not hold tuesday.txt: $OUT"
ok "$BKP" find '*.txt' --json
python3 - "$OUT" <<'PY' || flunk "find --json: $OUT"
import json, sys
v = json.loads(sys.argv[1])
names = sorted((x["generation"], x["path"].rsplit("/", 1)[1]) for x in v)
assert ("docs:1", "tuesday.txt") in names and ("docs:3", "wednesday.txt") in names, names
assert all(x["type"] == "file" and x["size"] == 10 for x in v if x["path"].endswith("tuesday.txt")), v
PY
ok "$BKP" find "$D/scans/*.dcm"
[ "$(grep -c 'ct.dcm\|ct-link.dcm' <<<"$OUT")" = 6 ] || flunk "find by whole path: $OUT"

# dump: exactly the stored bytes.
ok "$BKP" dump docs:1 "$D/letters/tuesday.txt" >/dev/null
"$BKP" dump docs:1 "$D/letters/tuesday.txt" >"$WORK/got" || fail "dump docs:1"
cmp -s "$WORK/got" "$WORK/tuesday.v1" || flunk "dump docs:1 is not the first version"
"$BKP" dump docs:2 "${D#/}/letters/tuesday.txt" >"$WORK/got" || fail "dump docs:2 (no leading /)"
[ "$(cat "$WORK/got")" = "letter v2" ] || flunk "dump docs:2 is not the second version"
for f in scans/ct.dcm scans/ct-link.dcm scans/sparse.img empty; do
    "$BKP" dump docs:latest "$D/$f" >"$WORK/got" || { flunk "dump $f failed"; continue; }
    cmp -s "$WORK/got" "$D/$f" || flunk "dump of $f differs from the original"
done
expect_exit 1 "$BKP" dump docs:3 "$D/scans"
output_has "is not a file"
expect_exit 1 "$BKP" dump docs:3 "$D/letters/tuesday.txt"
output_has "nothing in docs:3 is at"
expect_exit 2 "$BKP" dump docs:9 "$D/empty"

# A damaged chunk: a byte flipped in the pack that holds the big file.
pack=$(find "$REPO/packs" -type f -size +4M | head -n 1)
[ -n "$pack" ] || fail "no large pack"
chmod u+w "$pack"; chattr -i "$pack" 2>/dev/null || true
b=$(od -An -tu1 -j 4000000 -N1 "$pack" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$pack" bs=1 seek=4000000 conv=notrunc status=none
# (dump writes as it reads: what came before the damage is out already, and
# the exit status says the output is not the file.)
if "$BKP" dump docs:latest "$D/scans/ct.dcm" >"$WORK/partial" 2>"$WORK/dump.err"; then
    flunk "a dump over a damaged chunk succeeded"
fi
grep -q "cannot be read" "$WORK/dump.err" || flunk "the damage should be named: $(cat "$WORK/dump.err")"
cmp -s "$WORK/partial" "$D/scans/ct.dcm" && flunk "a damaged dump gave the whole file"

finish
