#!/usr/bin/env bash
# The main job on an embedded demo: install what is missing, build, then back up
# a generated sample clinic data set, change it a little, back it up again,
# restore the newest generation into a fresh folder and prove it is identical.
#
# Everything lives in ./demo (or $BKP_DEMO_DIR); run it again to start over.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ -z "${BKP:-}" ]; then
  bash tests/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" >/dev/null
  BKP=$top/build/bkp
fi
demo=${BKP_DEMO_DIR:-$top/demo}
# Sealed objects on the demo's media are immutable where the file system allows.
if [ -e "$demo" ] && command -v chattr >/dev/null; then chattr -R -i "$demo" 2>/dev/null || true; fi
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
data=$demo/clinic       # what the clinic has on disk
repo=$demo/repo         # the on-line repository
out=$demo/restored      # a fresh folder for the restore

say() { printf '\n== %s\n' "$*"; }

say "1. A sample clinical data set in $data"
mkdir -p "$data/emr" "$data/scans/2026-11" "$data/imaging" "$data/docs/empty-folder"
# A database-dump-like file: a deterministic SQL text of patients and visits.
awk 'BEGIN {
  srand(42);
  print "-- clinic EMR dump\nBEGIN;\nCREATE TABLE patients (id int, name text, born date, ward text);";
  split("内科 外科 小児科 整形外科 眼科", wards, " ");
  for (i = 1; i <= 120000; i++)
    printf "INSERT INTO patients VALUES (%d, '\''患者%06d'\'', '\''19%02d-%02d-%02d'\'', '\''%s'\'');\n",
           i, i, 30 + int(rand() * 70), 1 + int(rand() * 12), 1 + int(rand() * 28), wards[1 + int(rand() * 5)];
  print "COMMIT;" }' > "$data/emr/emr.sql"
for i in $(seq 1 150); do
  printf '<html><body><h1>紹介状 %d</h1><p>Referral letter %d for patient %06d.</p></body></html>\n' \
    "$i" "$i" "$((i * 37))" > "$data/scans/2026-11/letter-$i.html"
done
for i in 1 2 3 4 5 6; do
  head -c $((3 * 1024 * 1024 + i * 4099)) /dev/urandom > "$data/imaging/ct-$i.dcm"
done
printf 'ward rota\n' > "$data/docs/rota.txt"
ln -s ../emr/emr.sql "$data/docs/latest-dump"
ln "$data/docs/rota.txt" "$data/docs/rota-hardlink.txt"
truncate -s 32M "$data/imaging/sparse-volume.img"
printf 'header' | dd of="$data/imaging/sparse-volume.img" bs=1 seek=1048576 conv=notrunc 2>/dev/null
du -sh "$data" | awk '{print "   size on disk: " $1}'

say "2. Create the repository (passphrase from a root-only file)"
head -c 24 /dev/urandom | base64 > "$demo/passphrase"
chmod 600 "$demo/passphrase"
export BKP_PASSPHRASE_FILE=$demo/passphrase
"$BKP" init --repo "$repo"
echo "   repository: $repo"

sleep 2   # files changed in the 2 s before a backup are always re-read by the next one

say "3. First backup"
"$BKP" backup --repo "$repo" --dataset clinic "$data" --json > "$demo/backup1.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("   sealed %s:%d  %d files, %.1f MB read, %.1f MB new, %.2f s" % (d["dataset"], d["seq"], d["files"], d["bytes_read"]/1e6, d["bytes_new"]/1e6, d["seconds"]))' "$demo/backup1.json" 2>/dev/null || cat "$demo/backup1.json"

say "4. A small change: new rows in the dump, an edited letter, a new scan"
printf "INSERT INTO patients VALUES (120001, '患者120001', '1990-01-01', '内科');\n" >> "$data/emr/emr.sql"
printf '<p>Addendum.</p>\n' >> "$data/scans/2026-11/letter-7.html"
head -c 200000 /dev/urandom > "$data/scans/2026-11/new-scan.pdf"

say "5. Second backup (unchanged files are not read again)"
"$BKP" backup --repo "$repo" --dataset clinic "$data" --json > "$demo/backup2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("   sealed %s:%d  %d files, %d unchanged and not read, %.1f MB read, %.1f MB new, %.2f s" % (d["dataset"], d["seq"], d["files"], d["files_unchanged"], d["bytes_read"]/1e6, d["bytes_new"]/1e6, d["seconds"]))' "$demo/backup2.json" 2>/dev/null || cat "$demo/backup2.json"
echo "   what changed between the two generations:"
"$BKP" diff --repo "$repo" clinic:1 clinic:2 | sed 's/^/     /'
"$BKP" generations --repo "$repo" | sed 's/^/   /'

say "6. Restore the newest generation into $out"
"$BKP" restore --repo "$repo" clinic:latest "$out"
restored=$out${data}

say "7. Compare: bytes, and metadata (mode, owner, size, mtime, links)"
diff -r --no-dereference "$data" "$restored"
echo "   diff -r: identical content"
meta() { (cd "$1" && find . -printf '%y %m %u %g %s %T@ %l %n %p\n' | sort); }
if diff <(meta "$data") <(meta "$restored") >/dev/null; then
  echo "   metadata: identical (type, mode, owner, group, size, mtime to the nanosecond, link targets, link counts)"
else
  diff <(meta "$data") <(meta "$restored") | head -20
  echo "   metadata differs" >&2
  exit 1
fi
echo "   sparse file: $(du -k "$data/imaging/sparse-volume.img" | cut -f1) KiB on disk before, $(du -k "$restored/imaging/sparse-volume.img" | cut -f1) KiB after"

say "8. Verify every pack (read back and authenticated)"
"$BKP" verify --repo "$repo" --read-data && echo "   verify --read-data: clean"

say "9. Off-line copies: a USB disk and an archive medium (folders stand in for them)"
mkdir -p "$demo/usb-a" "$demo/tape" "$demo/runbooks"
cat > "$demo/policy.yaml" <<YAML
repository: $repo
passphrase_file: $demo/passphrase
media:
  - { name: usb-a, type: removable, path: $demo/usb-a, location: offsite, offline: true, rotate_every: 7d }
  - { name: tape, type: archive, path: $demo/tape, location: offsite, offline: true, rotate_every: 30d }
datasets:
  - name: clinic
    description: "診療所のデータ"
    priority: 1
    paths: [$data]
    schedule: daily 02:00
    retention: { keep_last: 7 }
    copy_to: [usb-a, tape]
    runbook: clinic
YAML
cat > "$demo/runbooks/clinic.yaml" <<'YAML'
title: "診療所データ 復旧手順 (demo)"
datasets: [clinic]
owner: "院長"
rto: 2h
passphrase_note: "院長室の金庫、封筒「bkp」"
steps:
  - { who: "事務長", confirm: "感染した端末をネットワークから切り離した" }
  - { who: "事務長", select: { dataset: clinic, newest: verified, not: suspicious } }
  - { who: "事務長", verify: {} }
  - { who: "事務長", restore: { dataset: clinic, to: /var/restore/clinic } }
  - { who: "事務長", check: "grep -q 患者120001 $BKP_TARGET/emr/emr.sql" }
  - { who: "事務長", note: "復旧を院長に報告する" }
YAML
export BKP_POLICY=$demo/policy.yaml
"$BKP" media label "$demo/usb-a" --name usb-a | sed 's/^/   /'
"$BKP" rotate usb-a | sed 's/^/   /'
"$BKP" media label "$demo/tape" --name tape | sed 's/^/   /'
"$BKP" rotate tape | sed 's/^/   /'
echo "   the archive lists with plain tar:"
tar -tvf "$demo"/tape/clinic@*.tar | sed -n "1,4s/^/     /p"

say "10. The 3-2-1 picture (bkp status)"
"$BKP" status | sed 's/^/   /' || true

say "11. A restore drill from the written procedure, into a sandbox"
"$BKP" drill clinic --report "$demo/reports" | sed 's/^/   /'
"$BKP" runbook print clinic --lang ja > "$demo/reports/procedure.ja.md"
echo "   printable procedure: $demo/reports/procedure.ja.md"

say "Summary"
echo "   Two generations of 'clinic' are sealed (signed, chained) in $repo,"
echo "   the newest was restored into $out and is identical to the original;"
echo "   it is on an off-line disk copy ($demo/usb-a) and an archive ($demo/tape),"
echo "   and a drill of its recovery procedure passed (reports in $demo/reports)."
echo "   The passphrase is in $demo/passphrase — in real use keep it off this machine too."
