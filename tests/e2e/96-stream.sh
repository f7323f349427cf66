#!/usr/bin/env bash
# 96-stream — a data set that is a command's output: pg_dump straight into the
# repository, no dump file on disk.
#
#  1. A real PostgreSQL (start_postgres) and a data set emr-db whose
#     `stream:` is `pg_dump -Fc -Z0 emr`, run as the postgres user: `bkp
#     backup emr-db` seals a generation holding one file, emr.dump; `bkp dump
#     emr-db:latest emr.dump | pg_restore` and `bkp restore` (the file
#     emr.dump in the target, mode 0600, owned by postgres) give back
#     every row.
#  2. The next day's dump, a few rows added, stores far fewer bytes than it
#     holds (chunked and deduplicated across days).
#     Paths given to `bkp backup --dataset emr-db` are refused at the data
#     set's line (a stream's generations never mix with a tree's).
#  3. A dump of a database that does not exist exits 1 quoting pg_dump's
#     last line and seals nothing; in `bkp run` it fails its data set alone
#     (the other, files, is sealed), the run's exit is 1 and its JSON says
#     why. (Commands that fail in other ways: 96-stream-fails.)
. "$(dirname "$0")/lib.sh"
need_root
need_tool sha256sum

start_postgres
ROWS=200000
sql postgres "create database emr" >/dev/null || fail "cannot create database emr"
sql emr "create table patients (id int primary key, name text not null, note text);
         insert into patients select g, '患者 ' || g, md5(g::text) from generate_series(1, $ROWS) g" \
    >/dev/null || fail "cannot fill emr.patients"

REPO=$WORK/repo
POL=$WORK/policy.yaml
SCANS=$WORK/scans
mkdir -p "$SCANS"
echo "scan 1" >"$SCANS/a.txt"
DUMP="$PGBIN/pg_dump -Fc -Z0 $CONN emr"
write_policy() { # STREAM-COMMAND [TIMEOUT]
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
datasets:
  - name: emr-db
    stream: { command: "$1", name: emr.dump, run_as: postgres, timeout: ${2:-5m} }
    schedule: daily 02:00
  - name: scans
    paths: [$SCANS]
    schedule: daily 02:00
YAML
}
write_policy "$DUMP"
export BKP_POLICY=$POL
ok "$BKP" init --repo "$REPO"
gens() { "$BKP" generations emr-db --json | grep -c '"seq"' || true; }

# ---- 1. a dump captured and given back ----
ok "$BKP" backup emr-db --json
output_has '"dataset": "emr-db"' || output_has '"dataset":"emr-db"' || flunk "backup --json should name emr-db: $OUT"
[ "$(gens)" = 1 ] || flunk "one generation of emr-db should be sealed, not $(gens)"
ok "$BKP" ls emr-db:latest
output_has 'emr.dump' || flunk "the generation should hold emr.dump: $OUT"
"$BKP" dump emr-db:latest emr.dump >"$WORK/dumped" || fail "bkp dump failed"
sql postgres "create database emr_restore" >/dev/null
"$PGBIN/pg_restore" $CONN -d emr_restore "$WORK/dumped" || flunk "pg_restore of the dumped stream failed"
[ "$(sql emr_restore 'select count(*) from patients')" = "$ROWS" ] ||
    flunk "the restored database should have $ROWS rows"
[ "$(sql emr_restore "select md5(string_agg(note, ',' order by id)) from patients")" = \
    "$(sql emr "select md5(string_agg(note, ',' order by id)) from patients")" ] ||
    flunk "the restored rows differ from the live ones"
ok "$BKP" restore emr-db:latest "$WORK/out"
[ -f "$WORK/out/emr.dump" ] || flunk "bkp restore should write emr.dump into the target: $(ls -la "$WORK/out")"
[ "$(stat -c %a:%U "$WORK/out/emr.dump" 2>/dev/null)" = 600:postgres ] ||
    flunk "a stream is restored mode 0600, owned by the user its command ran as: $(stat -c %a:%U "$WORK/out/emr.dump")"
[ "$(sha256sum <"$WORK/out/emr.dump")" = "$(sha256sum <"$WORK/dumped")" ] ||
    flunk "bkp restore and bkp dump should give the same bytes"

# Paths given into the stream's data set: refused at the policy's line,
# nothing sealed; and the policy check says what is kept without "last 0".
expect_exit 2 "$BKP" backup --dataset emr-db "$SCANS"
output_has "policy.yaml:5: emr-db is captured from its command's output" ||
    flunk "paths into a stream data set should be refused at its line: $OUT"
[ "$(gens)" = 1 ] || flunk "a refused backup should seal nothing"
ok "$BKP" policy check
output_has "keep: every generation (no retention rule)" ||
    flunk "a data set without retention should say it keeps every generation: $OUT"

# ---- 2. the next day: few bytes new ----
sql emr "insert into patients select g, '患者 ' || g, md5(g::text) from generate_series($((ROWS + 1)), $((ROWS + 100))) g" >/dev/null
ok "$BKP" backup emr-db --json
bytes=$(sed -n 's/.*"bytes": \([0-9]*\).*/\1/p' <<<"$OUT" | head -n 1)
new=$(sed -n 's/.*"stored_new": \([0-9]*\).*/\1/p' <<<"$OUT" | head -n 1)
[ -n "$bytes" ] && [ -n "$new" ] && [ "$new" -lt $((bytes / 4)) ] ||
    flunk "the second dump should store far fewer bytes than it holds (bytes $bytes, stored_new $new)"
[ "$(gens)" = 2 ] || flunk "two generations of emr-db should be sealed, not $(gens)"

# ---- 3. a dump that fails seals nothing ----
write_policy "$PGBIN/pg_dump -Fc $CONN nosuchdb"
expect_exit 1 "$BKP" backup emr-db
grep -q 'exited with status 1' <<<"$ERR" || flunk "the error should say how pg_dump ended: $ERR"
grep -q 'nosuchdb' <<<"$ERR" || flunk "the error should quote pg_dump's last line: $ERR"
grep -q "by hand, as user postgres" <<<"$ERR" || flunk "the error should name the user to check the command as: $ERR"
[ "$(gens)" = 2 ] || flunk "a failed dump must seal nothing ($(gens) generations)"

# ---- bkp run: the failing stream fails alone ----
expect_exit 1 "$BKP" run --force --json
grep -q '"scans"' <<<"$OUT" || flunk "the run's JSON should name scans: $OUT"
[ "$("$BKP" generations scans --json | grep -c '"seq"')" = 1 ] || flunk "scans should be sealed although emr-db failed"
grep -q "the stream's command exited with status 1" <<<"$OUT" || flunk "the run's JSON should say why the stream failed: $OUT"

finish
