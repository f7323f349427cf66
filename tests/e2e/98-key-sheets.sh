#!/usr/bin/env bash
# 98-key-sheets — the key on paper: the public key's fingerprint; the paper
# sheet written mode 0600, never over a file or through a planted link; a
# 3-of-5 split whose sheets, read back from the printed files, give the same
# master secret as the paper sheet, while 2 shares do not and a typing
# mistake is found on its line; every export and split on the audit log.
. "$(dirname "$0")/lib.sh"

REPO=$WORK/repo
ok "$BKP" init --repo "$REPO"

ok "$BKP" key fingerprint --repo "$REPO" --json
pk=$(printf '%s' "$OUT" | sed -n 's/.*"public_key": "\([0-9a-f]*\)".*/\1/p')
[ ${#pk} -eq 64 ] || flunk "key fingerprint --json: no public key in: $OUT"
ok "$BKP" key fingerprint --repo "$REPO"
output_has "${pk:0:4} ${pk:4:4}" "the fingerprint is the public key in groups"

# The paper sheet: a new file, 0600, whatever the umask.
mkdir "$WORK/safe"
(umask 0; "$BKP" key export --paper --repo "$REPO" -o "$WORK/safe/paper.md") >/dev/null ||
    flunk "key export --paper failed"
[ "$(stat -c %a "$WORK/safe/paper.md")" = 600 ] || flunk "the paper sheet is not mode 0600"
grep -q "${pk:0:4} ${pk:4:4}" "$WORK/safe/paper.md" || flunk "the sheet lacks the fingerprint"
grep -q "^BKP-SHEET 1 PAPER REPO " "$WORK/safe/paper.md" || flunk "the sheet lacks its header"
grep -q "█" "$WORK/safe/paper.md" || flunk "the sheet lacks its QR code"
ok "$BKP" key export --paper --repo "$REPO" -o "$WORK/safe/paper.html" --format html --lang ja
grep -q "<svg" "$WORK/safe/paper.html" || flunk "the HTML sheet lacks its QR code"
grep -q "金庫" "$WORK/safe/paper.html" || flunk "the Japanese sheet lacks its instructions"

# Never over an existing file, never through a link planted where it goes.
before=$(sha256sum "$WORK/safe/paper.md")
expect_exit 2 "$BKP" key export --paper --repo "$REPO" -o "$WORK/safe/paper.md"
output_has "exists"
[ "$(sha256sum "$WORK/safe/paper.md")" = "$before" ] || flunk "the existing sheet was changed"
echo "the attacker's" >"$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$WORK/safe/planted.md"
ln -s "$WORK/nowhere" "$WORK/safe/dangling.md"
expect_exit 2 "$BKP" key export --paper --repo "$REPO" -o "$WORK/safe/planted.md"
expect_exit 2 "$BKP" key export --paper --repo "$REPO" -o "$WORK/safe/dangling.md"
[ "$(cat "$WORK/elsewhere")" = "the attacker's" ] || flunk "written through a planted link"
[ ! -e "$WORK/nowhere" ] || flunk "a file was created through a dangling link"
expect_exit 2 "$BKP" key export --repo "$REPO" -o "$WORK/safe/x.md" # --paper is required

# Split custody: 3 of 5, in a new folder of mode 0700.
ok "$BKP" key split --repo "$REPO" --shares 5 --threshold 3 -o "$WORK/shares"
[ "$(stat -c %a "$WORK/shares")" = 700 ] || flunk "the shares' folder is not mode 0700"
for i in 1 2 3 4 5; do
    f=$WORK/shares/share-$i-of-5.md
    [ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] || flunk "share $i missing or not mode 0600"
    grep -q "^BKP-SHEET 1 SHARE $i OF 5 NEED 3 REPO " "$f" || flunk "share $i does not name itself"
    grep -q "${pk:0:4} ${pk:4:4}" "$f" || flunk "share $i lacks the fingerprint"
done
expect_exit 2 "$BKP" key split --repo "$REPO" --shares 2 --threshold 3 -o "$WORK/s2"
expect_exit 2 "$BKP" key split --repo "$REPO" --shares 5 --threshold 1 -o "$WORK/s2"
expect_exit 2 "$BKP" key split --repo "$REPO" --shares 5 --threshold 3 -o "$WORK/safe/paper.md"
chmod 0777 "$WORK/safe"
expect_exit 2 "$BKP" key split --repo "$REPO" --shares 3 --threshold 2 -o "$WORK/safe"
chmod 0700 "$WORK/safe"

# Read back from the files: 3 shares (any 3) give the paper sheet's secret.
if [ -n "${BKP_SHEET_READ:-}" ]; then
    ok "$BKP_SHEET_READ" "$WORK/safe/paper.md"
    master=$OUT
    [ ${#master} -eq 64 ] || flunk "no secret read from the paper sheet"
    ok "$BKP_SHEET_READ" "$WORK/safe/paper.html"
    [ "$OUT" = "$master" ] || flunk "the HTML sheet holds another secret"
    S=$WORK/shares/share
    ok "$BKP_SHEET_READ" "$S-1-of-5.md" "$S-3-of-5.md" "$S-5-of-5.md"
    [ "$OUT" = "$master" ] || flunk "shares 1, 3, 5 do not give the master secret"
    ok "$BKP_SHEET_READ" "$S-4-of-5.md" "$S-2-of-5.md" "$S-3-of-5.md"
    [ "$OUT" = "$master" ] || flunk "shares 4, 2, 3 do not give the master secret"
    expect_exit 1 "$BKP_SHEET_READ" "$S-1-of-5.md" "$S-2-of-5.md"
    output_has "fewer shares"
    # A typing mistake on line 2 of a share is found there.
    sed '/^2: /{s/^2: 0/2: 1/;t;s/^2: [1-9A-Z]/2: 0/}' "$S-2-of-5.md" >"$WORK/typo.md"
    cmp -s "$S-2-of-5.md" "$WORK/typo.md" && flunk "the typo was not made"
    expect_exit 1 "$BKP_SHEET_READ" "$WORK/typo.md"
    output_has "mistake on line 2"
fi

# Every export and split is on the record.
ok "$BKP" audit show --repo "$REPO" --json
n=$(printf '%s' "$OUT" | grep -c '"op": "key-export"' || true)
[ "$n" -eq 2 ] || flunk "expected 2 key-export records (the refused ones write none), found $n"
output_has '"op": "key-split"'
ok "$BKP" audit verify --repo "$REPO"
finish
