#!/usr/bin/env bash
# 45-status-page — the status page for staff, rendered in a real browser.
#
#  1. A repository whose data sets are in the three verdicts (injected clock,
#     zone JST-9): emr COMPLIANT (four generations, a fresh copy on usb-a, a
#     drill within its target), scans AT RISK (its copy on usb-b nine days
#     old, usb-b two days overdue; a description holding a script tag), pacs
#     NON-COMPLIANT (never backed up).
#  2. `bkp status --format html -o FILE`: English with --lang en, Japanese by
#     default under a Japanese reader; `bkp status --json` carries the same
#     document (rotations, the audit log as checked, the time made). Bad
#     combinations are exit 2; a bad status_page in a policy is exit 2.
#  3. `bkp run` writes the policy's status_page (mode 0644); a page that
#     cannot be written is a warning and the backup is still sealed.
#  4. Headless Chromium (Debian's package) loads each page from file://: the
#     rendered DOM holds each verdict, the next action, the dates (made, the
#     rotation calendar, the drill) and the script tag as text; the file has
#     no <script> and no "http". Screenshots at a desktop and a phone width,
#     and print to PDF: one A4 page. The screenshots and PDFs are kept in
#     ${BKP_TEST_OUT:-$PWD}/status-page/ (ctest: build-test/tests/status-page/).
#
# Chromium is required in CI ($CI set: a missing browser fails the test);
# elsewhere the test is skipped (77) without it. It runs as root with
# --no-sandbox and never touches the network (the flags of `browse`).
. "$(dirname "$0")/lib.sh"
need_test_clock

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    [ -n "${CI:-}" ] && fail "chromium is not installed (tests/install-deps.sh installs it): the browser test must run in CI"
    echo "SKIP [$TEST_NAME]: chromium is not installed (apt-get install chromium)" >&2
    exit 77
fi
SHOTS=${BKP_TEST_OUT:-$PWD}/status-page
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png "$SHOTS"/*.pdf

export TZ=JST-9 # a zone that needs no time-zone database
ja() { LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$@"; }
at() { BKP_NOW=$(date -u -d "$1" +%s); export BKP_NOW; }

# ============ 1. three data sets, three verdicts ============
mkdir -p "$WORK"/{emr,scans,pacs,usb-a,usb-b,share,etc/runbooks,tmp}
export TMPDIR=$WORK/tmp # drill sandboxes
echo "INSERT INTO visits VALUES (1);" >"$WORK/emr/emr.sql"
echo "scan" >"$WORK/scans/s1.pdf"
echo "image" >"$WORK/pacs/p1.dcm"
POL=$WORK/etc/policy.yaml
PAGE=$WORK/share/status.html
cat >"$POL" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
status_page: $PAGE
media:
  - { name: usb-a, type: removable, path: $WORK/usb-a, location: offsite, offline: true, rotate_every: 7d }
  - { name: usb-b, type: removable, path: $WORK/usb-b, location: offsite, offline: true, rotate_every: 7d }
datasets:
  - { name: emr, description: "電子カルテ", priority: 1, paths: [$WORK/emr], schedule: daily 02:00,
      copy_to: [usb-a], runbook: emr }
  - { name: scans, description: "スキャン <script>alert(1)</script>", priority: 2,
      paths: [$WORK/scans], schedule: daily 03:00, copy_to: [usb-b] }
  - { name: pacs, description: "画像", priority: 3, paths: [$WORK/pacs], schedule: daily 04:00,
      copy_to: [usb-a] }
YAML
cat >"$WORK/etc/runbooks/emr.yaml" <<'YAML'
title: "電子カルテ 復旧手順"
datasets: [emr]
rto: 4h
steps:
  - { who: "システム担当", select: { dataset: emr, newest: any } }
  - { who: "システム担当", restore: { dataset: emr, to: /var/restore/emr } }
  - { who: "システム担当", check: 'test -f "$BKP_TARGET/emr.sql"' }
YAML
at 2026-03-02T09:00:00Z
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$WORK/usb-a" --name usb-a --policy "$POL"
ok "$BKP" media label "$WORK/usb-b" --name usb-b --policy "$POL"
for day in 2026-03-02 2026-03-03 2026-03-04; do
    at "${day}T09:00:00Z"
    ok "$BKP" backup emr --policy "$POL"
    ok "$BKP" backup scans --policy "$POL"
done
ok "$BKP" rotate usb-b --policy "$POL" # scans' off-line copy, nine days old by the 13th
at 2026-03-13T09:00:00Z                # 18:00 JST, a Friday
ok "$BKP" backup emr --policy "$POL"
ok "$BKP" backup scans --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
ok "$BKP" drill emr --policy "$POL" --report "$WORK/reports"

# ============ 2. bkp status --format html, --json ============
EN=$WORK/share/status-en.html
JA=$WORK/share/status-ja.html
expect_exit 1 "$BKP" status --policy "$POL" --format html -o "$EN" --lang en # pacs: NON-COMPLIANT
[ -s "$EN" ] || fail "status --format html -o wrote nothing"
expect_exit 1 ja "$BKP" status --policy "$POL" --format html -o "$JA"
grep -q '<html lang="ja">' "$JA" || flunk "a Japanese reader should get the Japanese page by default"
grep -q '<html lang="en">' "$EN" || flunk "--lang en should give the English page"
expect_exit 1 "$BKP" status --policy "$POL" --format html --lang ja
case $OUT in "<!DOCTYPE html>"*'<html lang="ja">'*"</html>") ;; *) flunk "without -o the page should go to stdout" ;; esac
expect_exit 1 "$BKP" status --policy "$POL" --json
for k in '"rotations"' '"audit"' '"generated": "2026-03-13T09:00:00Z"' '"rto_target_seconds": 14400' \
    '"verdict": "AT RISK"' '"records"'; do
    output_has "$k" "status --json should carry what the page shows ($k)"
done
expect_exit 2 "$BKP" status --policy "$POL" --format md
output_has "--format md: bkp status writes html"
expect_exit 2 "$BKP" status --policy "$POL" --format html --json
output_has "choose one"
expect_exit 2 "$BKP" status --policy "$POL" -o "$EN"
output_has "goes with --format html"
# The text in the language asked for, whatever the locale (cron's is C).
expect_exit 1 env LC_ALL=C LANG= LANGUAGE= "$BKP" status --policy "$POL" --lang ja
output_has "最終バックアップ" "status --lang ja should print Japanese under the C locale"
output_lacks "last backup" "status --lang ja should print no English line"
expect_exit 1 env LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$BKP" status --policy "$POL" --lang en
output_has "last backup" "status --lang en should print English to a Japanese reader"
output_lacks "最終バックアップ" "status --lang en should print no Japanese line"
expect_exit 2 "$BKP" status --policy "$POL" --json --lang ja
output_has "never translated"
expect_exit 2 "$BKP" status --policy "$POL" --format html --lang fr
output_has "--lang fr: write ja or en"
sed "s|^status_page: .*|status_page: share/status.html|" "$POL" >"$WORK/etc/relative.yaml"
expect_exit 2 "$BKP" policy check --policy "$WORK/etc/relative.yaml"
output_has "'status_page: share/status.html' is not absolute"
sed "s|^status_page: .*|status_page: $WORK/share/status.txt|" "$POL" >"$WORK/etc/txt.yaml"
expect_exit 2 "$BKP" policy check --policy "$WORK/etc/txt.yaml"
output_has "is not a file name ending in .html"

# ============ 3. bkp run writes the policy's page ============
expect_exit 1 "$BKP" run --policy "$POL" --dataset emr # nothing due; pacs is NON-COMPLIANT
[ -s "$PAGE" ] || fail "bkp run did not write the policy's status_page"
[ "$(stat -c %a "$PAGE")" = 644 ] || flunk "the page should be readable by the clerk (0644), is $(stat -c %a "$PAGE")"
ls -a "$WORK/share" | grep -q '^\.tmp-' && flunk "a temporary file was left beside the page"
sed "s|^status_page: .*|status_page: $WORK/missing/status.html|" "$POL" >"$WORK/etc/missing.yaml"
expect_exit 1 "$BKP" run --policy "$WORK/etc/missing.yaml" --dataset emr --force --json
output_has "could not be written" "a page that cannot be written should be warned of"
output_has "the backups are not affected"
output_has '"result": "sealed"' "the backup should be sealed whatever became of the page"

# ============ 4. in the browser ============
for f in "$PAGE" "$EN" "$JA"; do
    grep -qi '<script' "$f" && flunk "$f holds a <script> tag"
    grep -qi 'http' "$f" && flunk "$f names something on the network: $(grep -oi '.\{20\}http.\{20\}' "$f" | head -1)"
done
# Chromium, headless, without the network and without a profile of its own.
browse() {
    local prof
    prof=$(mktemp -d "$WORK/chromium.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$prof" "$@" 2>>"$WORK/chromium.log"
}
dom() { browse --dump-dom "file://$1" >"$2" || fail "chromium could not render $1: $(tail -5 "$WORK/chromium.log")"; }
dom "$EN" "$WORK/en.dom"
dom "$JA" "$WORK/ja.dom"
dom_has() { grep -qF -- "$2" "$1" || flunk "the rendered page ($(basename "$1")) should hold: $2"; }
for d in "$WORK/en.dom" "$WORK/ja.dom"; do
    dom_has "$d" 'data-dataset="emr" data-verdict="COMPLIANT"'
    dom_has "$d" 'data-dataset="scans" data-verdict="AT RISK"'
    dom_has "$d" 'data-dataset="pacs" data-verdict="NON-COMPLIANT"'
    dom_has "$d" 'data-state="overdue" data-medium="usb-b" data-due="2026-03-11T09:00:00Z"'
    dom_has "$d" 'data-state="coming" data-medium="usb-a" data-due="2026-03-20T09:00:00Z"'
    dom_has "$d" 'data-time="2026-03-13T09:00:00Z"'
    dom_has "$d" 'data-rto-met="true"'
    dom_has "$d" 'id="audit" data-state="intact"'
    dom_has "$d" 'スキャン &lt;script&gt;alert(1)&lt;/script&gt;'
    grep -qi '<script' "$d" && flunk "the rendered page $(basename "$d") holds a script element"
done
for s in '>COMPLIANT<' '>AT RISK<' '>NON-COMPLIANT<' 'Made 2026-03-13 18:00 JST.' \
    'scans: connect usb-b and run <code>bkp rotate usb-b</code> — 2 days overdue' 'pacs: run <code>bkp backup pacs</code>' \
    '2026-03-11 (Wednesday)' '2026-03-20 (Friday)' 'off-site, off-line' 'overdue by 2 days' \
    '4 h 00 min: within the target' 'chain of hashes'; do
    dom_has "$WORK/en.dom" "$s"
done
for s in '>適合<' '>要注意<' '>不適合<' '作成日時: 2026-03-13 18:00 JST。' 'usb-b を接続して <code>bkp rotate usb-b</code> を実行' \
    '2026-03-11 (水曜)' '院外（オフライン）' '目標時間内' '改ざんされていません'; do
    dom_has "$WORK/ja.dom" "$s"
done
# Pictures for people, kept: a desktop, a phone, and the printed A4 sheet.
browse --screenshot="$SHOTS/status-ja-desktop.png" --window-size=1280,1800 "file://$JA" >/dev/null ||
    flunk "no desktop screenshot"
browse --screenshot="$SHOTS/status-ja-phone.png" --window-size=390,2600 "file://$JA" >/dev/null ||
    flunk "no phone screenshot"
browse --screenshot="$SHOTS/status-en-phone.png" --window-size=390,2600 "file://$EN" >/dev/null ||
    flunk "no phone screenshot"
png_width() { od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}'; }
[ "$(png_width "$SHOTS/status-ja-phone.png")" = 390 ] || flunk "the phone screenshot is not 390 pixels wide"
for l in ja en; do
    f=$WORK/share/status-$l.html
    browse --no-pdf-header-footer --print-to-pdf="$SHOTS/status-$l.pdf" "file://$f" >/dev/null ||
        flunk "chromium could not print $f"
    pages=$(grep -ac '/Type /Page$\|/Type /Page[^s]' "$SHOTS/status-$l.pdf" || true)
    [ "$pages" = 1 ] || flunk "the $l page should print on one A4 page, printed $pages"
    grep -aq '/MediaBox \[0 0 594.9[0-9]* 841.9[0-9]*\]' "$SHOTS/status-$l.pdf" ||
        flunk "the $l page should print on A4: $(grep -ao '/MediaBox[^]]*]' "$SHOTS/status-$l.pdf" | head -1)"
done
echo "[$TEST_NAME] screenshots and PDFs in $SHOTS" >&2
finish
