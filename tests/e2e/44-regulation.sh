#!/usr/bin/env bash
# 44-regulation — `bkp policy print --regulation`: the backup section of the
# operations management rules (運用管理規程) that the 2024 fee revision's Q&A
# asks hospitals to attach.
#
#  1. The shipped example policy, nothing run yet: Japanese by default under a
#     Japanese reader (and with --lang ja under the C locale), English with
#     --lang en, HTML with --format html; the service-level table's columns,
#     the blank for who rotates, "no drill recorded".
#  2. A bad --format or --lang is exit 2 and says what to write; so is
#     `policy print` without --regulation, and --regulation with `check`.
#  3. A repository with a backup, a rotation and a drill (injected clock): the
#     annex cites that day's rotation and drill from the audit log, the
#     runbook's target time and where its passphrase is kept, never the
#     passphrase itself.
. "$(dirname "$0")/lib.sh"
need_test_clock

SRC=${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EX=$WORK/examples
# A copy, so that the trust check sees files only we can write.
mkdir -p "$EX/examples" "$EX/runbooks"
cp "$SRC/policies/examples/hospital.yaml" "$EX/examples/"
cp "$SRC/policies/runbooks/emr-db.yaml" "$EX/runbooks/"
chmod -R go-w "$EX"
HOSP=$EX/examples/hospital.yaml
ja() { LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$@"; }

# ============ 1. the example policy ============
ja ok "$BKP" policy print --regulation --policy "$HOSP"
for s in "運用管理規程" "| 対象 | 頻度 | 復旧できる世代 | 方法 | 保存場所 |" "電子カルテ データベース (emr-db)" \
    "14 世代以上" "usb-a" "14 日ごと（usb-b と交互）" "30 日ごと" "（医療機関で記入）" "訓練の記録なし" "毎月 1 日 05:00"; do
    output_has "$s" "the Japanese annex should say '$s'"
done
case $OUT in *"## "*) ;; *) flunk "the default format should be Markdown" ;; esac
ok "$BKP" policy print --regulation --policy "$HOSP" --lang ja
output_has "非常時の復旧方法" "--lang ja should give Japanese under the C locale"
ja ok "$BKP" policy print --regulation --policy "$HOSP" --lang en
for s in "| Target | Frequency | Generations recoverable | Method | Storage place |" \
    "to be filled in by the facility" "no drill recorded" "off-site, off-line"; do
    output_has "$s" "the English annex should say '$s'"
done
case $OUT in *"対象 |"*) flunk "--lang en should not be Japanese" ;; esac
ok "$BKP" policy print --regulation --policy "$HOSP" --format html --lang ja
case $OUT in "<!DOCTYPE html>"*"<th>復旧できる世代</th>"*"</body></html>") ;;
*) flunk "--format html should be a whole HTML document with the service-level table" ;; esac

# ============ 2. usage errors ============
expect_exit 2 "$BKP" policy print --regulation --policy "$HOSP" --format pdf
output_has "--format pdf: write md or html"
expect_exit 2 "$BKP" policy print --regulation --policy "$HOSP" --lang fr
output_has "--lang fr: write ja or en"
expect_exit 2 "$BKP" policy print --policy "$HOSP"
output_has "bkp policy print --regulation"
expect_exit 2 "$BKP" policy check --regulation --policy "$HOSP"
output_has "--regulation goes with"

# ============ 3. facts from the audit log ============
export BKP_NOW=$(date -u -d 2026-03-02T09:00:00Z +%s)
EMR=$WORK/emr
USB=$WORK/usb-a
POL=$WORK/etc/policy.yaml
export TMPDIR=$WORK/tmp # drill sandboxes
mkdir -p "$EMR" "$USB" "$WORK/etc/runbooks" "$TMPDIR"
echo "INSERT INTO visits VALUES (1);" >"$EMR/emr.sql"
cat >"$POL" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 1 }
media:
  - { name: usb-a, type: removable, path: $USB, location: offsite, offline: true, rotate_every: 7d }
datasets:
  - { name: emr, description: "電子カルテ", paths: [$EMR], retention: { keep_last: 2 },
      copy_to: [usb-a], runbook: emr }
YAML
cat >"$WORK/etc/runbooks/emr.yaml" <<'YAML'
title: "電子カルテ 復旧手順"
datasets: [emr]
rto: 4h
passphrase_note: "事務長室の金庫"
steps:
  - { who: "システム担当", select: { dataset: emr, newest: verified, not: suspicious } }
  - { who: "システム担当", restore: { dataset: emr, to: /var/restore/emr } }
  - { who: "システム担当", check: 'test -f "$BKP_TARGET/emr.sql"' }
YAML
ok "$BKP" init --policy "$POL"
ok "$BKP" media label "$USB" --name usb-a --policy "$POL"
ok "$BKP" backup emr --policy "$POL"
ok "$BKP" rotate usb-a --policy "$POL"
ok "$BKP" drill emr --policy "$POL" --report "$WORK/reports"
ja ok "$BKP" policy print --regulation --policy "$POL"
for s in "| usb-a | 7 日ごと | 2026-03-02 |" "2026-03-02: 成功" "4 時間 00 分" "事務長室の金庫" \
    "3世代未満"; do
    output_has "$s" "the annex should cite '$s' from the policy, runbook or audit log"
done
# The drill above was unattended: said, with the last drill with the staff (none).
output_has "（無人: 書かれた手順を人は行っていません）" "the annex should say the drill was unattended"
output_has "職員との訓練: 記録なし"
ok "$BKP" policy print --regulation --policy "$POL" --lang en
case $OUT in *"$(cat "$PASSFILE")"*) flunk "the annex should never hold the passphrase" ;; esac
output_has "Where the passphrase is kept (procedure emr): 事務長室の金庫"
output_has "Where the paper key or its shares are kept, apart from the passphrase: "
output_has "FEWER THAN THREE"
finish
