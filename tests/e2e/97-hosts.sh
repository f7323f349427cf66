#!/usr/bin/env bash
# 97-hosts — streams pulled from two source servers over SSH, each through
# `bkp agent`, the forced command of the backup server's key there.
#
# Two sshd of the test's own (start_sshd) on 127.0.0.1 and 127.0.0.2, each
# with its own host key, authorized_keys and agent.yaml; a real PostgreSQL
# (start_postgres) for the database. The agent of emr-db runs as the
# unprivileged postgres user, the other as root.
#  1. `bkp host add` shows the host key's fingerprint (the one ssh-keygen
#     -lf gives on the server), makes our key, and prints the line for
#     authorized_keys and the policy's; `bkp host check` says what each
#     agent may read and run.
#  2. `bkp run` backs up the chart database (pg_dump on emr-db) and a
#     tar of the scans (on files): each restores exactly (pg_restore gives
#     back every row; the tar's bytes are the same).
#  3. What goes wrong fails its own data set alone, with a message that
#     says which and what to do, and seals nothing: a host that is down (the
#     other is sealed in the same run), another host key, a key the source
#     does not accept, no agent there, a command not in the agent's
#     commands, the source's agent killed mid-transfer (the next run
#     completes), a source that goes quiet (our timeout), a hostile "agent"
#     sending crafted frames (a huge size before or after its hello, a frame
#     cut short, data before its hello, a broken end, an unknown frame, a
#     compressed one that expands past a frame, a second hello, a bad hello) with escape sequences on its standard
#     error: refused, no crash, nothing sealed, no escape reaches our
#     output; one that holds the channel open after its end does not hold
#     the backup. (A host's paths: 97-host-trees.sh.)
. "$(dirname "$0")/lib.sh"
need_root
need_tool sha256sum
need_tool ssh
need_tool ssh-keyscan

start_postgres
sql postgres "create database emr" >/dev/null || fail "cannot create database emr"
sql emr "create table patients (id int primary key, name text);
         insert into patients select g, '患者 ' || g from generate_series(1, 50000) g" \
    >/dev/null || fail "cannot fill emr.patients"
# What a clinic's schema holds that a restore role that is no superuser
# cannot restore as it was: an owner of its own and its default privileges.
sql emr "create role emr_owner; alter table patients owner to emr_owner;
         alter default privileges for role emr_owner grant select on tables to public" \
    >/dev/null || fail "cannot give emr an owner of its own"

start_sshd emr-db 127.0.0.1
P1=$SSHD_PORT K1=$SSHD_KEY
start_sshd files 127.0.0.2
P2=$SSHD_PORT K2=$SSHD_KEY

mkdir -p "$WORK/srv/scans/2026"
head -c 3000000 /dev/urandom >"$WORK/srv/scans/2026/a.pdf"
echo "紹介状" >"$WORK/srv/scans/2026/b.txt"
cat >"$WORK/sshd-emr-db/agent.yaml" <<YAML
read: [/var/lib/postgresql]
commands:
  emr-dump: "$PGBIN/pg_dump -Fc $CONN emr"
  big: "head -c 200000000 /dev/zero; sleep 30"
  fails: "echo 'pg_dump: error: connection refused' >&2; exit 1"
  meet-a: "$WORK/meet.sh a b"
  meet-b: "$WORK/meet.sh b a"
YAML
cat >"$WORK/sshd-files/agent.yaml" <<YAML
read: [$WORK/srv/scans]
commands:
  scans-tar: "tar -C $WORK/srv/scans --sort=name --mtime=@0 --owner=0 --group=0 -cf - ."
  meet-a: "$WORK/meet.sh a b"
  meet-b: "$WORK/meet.sh b a"
YAML
# A command that waits (10 s at most) for another to have started: it
# ends well only when the two run at once.
mkdir -m 1777 "$WORK/meet"
cat >"$WORK/meet.sh" <<SH
#!/bin/sh
touch "$WORK/meet/\$1"
for i in \$(seq 100); do
    [ -e "$WORK/meet/\$2" ] && { echo "met \$2"; exit 0; }
    sleep 0.1
done
echo "\$1 waited alone" >&2
exit 1
SH
chmod 755 "$WORK/meet.sh"
# The line `bkp host add` prints, with the program under test for /usr/bin/bkp.
authorize() { # HOST LINE
    sed "s|/usr/bin/bkp agent|$BKP agent --config $WORK/sshd-$1/agent.yaml|" <<<"$2" \
        >"$WORK/sshd-$1/authorized_keys"
}

# ---- 1. host add, host check ----
ID=$WORK/etc/ssh/id_ed25519
# A server not reached: said, and no key of ours made yet.
expect_exit 1 "$BKP" host add emr-db 127.0.0.1 --port 9 --user postgres --identity "$ID"
output_has "did not show a host key"
[ ! -e "$ID" ] || flunk "host add made our key for a server it did not reach"
ok "$BKP" host add emr-db 127.0.0.1 --port "$P1" --user postgres --identity "$ID"
output_has "Made our SSH key for the sources"
[ -s "$ID" ] && [ -s "$ID.pub" ] || flunk "host add should make our key: $ERR"
[ "$(stat -c %a "$ID")" = 600 ] || flunk "our key should be mode 600"
FP=$(ssh-keygen -lf "$WORK/sshd-emr-db/host_key.pub" | awk '{print $2}')
output_has "$FP" || flunk "host add should show the fingerprint $FP: $OUT"
output_has "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" || flunk "host add should say how to compare: $OUT"
LINE1=$(grep '^restrict,command="/usr/bin/bkp agent" ssh-ed25519 ' <<<"$OUT") || flunk "host add should print the authorized_keys line: $OUT"
grep -q "host_key: \"$K1\"" <<<"$OUT" || flunk "host add should print the policy's host_key line: $OUT"
ok "$BKP" host add files 127.0.0.2 --port "$P2" --user root --identity "$ID" --json
grep -q "\"host_key\": \"$K2\"" <<<"$OUT" || flunk "host add --json should give the host key: $OUT"
LINE2=$(sed -n 's/.*"authorized_keys": "\(.*\)".*/\1/p' <<<"$OUT" | sed 's/\\"/"/g')
authorize emr-db "$LINE1"
authorize files "$LINE2"

REPO=$WORK/repo
POL=$WORK/policy.yaml
write_policy() { # EMR-COMMAND [KEY1] [PORT1] [TIMEOUT]
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
hosts:
  - name: emr-db
    ssh: postgres@127.0.0.1
    port: ${3:-$P1}
    identity: $ID
    host_key: "${2:-$K1}"
    connect_timeout: 5s
  - name: files
    ssh: root@127.0.0.2
    port: $P2
    identity: $ID
    host_key: "$K2"
datasets:
  - name: karte
    host: emr-db
    stream: { command: $1, name: emr.dump, timeout: ${4:-2m} }
    schedule: daily 02:00
  - name: scans
    host: files
    stream: { command: scans-tar, name: scans.tar }
    schedule: daily 02:00
YAML
}
write_policy emr-dump
export BKP_POLICY=$POL
ok "$BKP" policy check
ok "$BKP" host check emr-db
output_has "emr-dump" || flunk "host check should list the agent's commands: $OUT"
output_has "/var/lib/postgresql" || flunk "host check should list what the agent may read: $OUT"
ok "$BKP" host check files --json
output_has '"scans-tar"' || flunk "host check --json should list scans-tar: $OUT"
expect_exit 2 "$BKP" host check files --port 22
output_has "are for \`bkp host add\`" || flunk "host check should refuse the options of host add: $ERR"

# ---- 2. one run, both hosts, restored exactly ----
ok "$BKP" init --repo "$REPO"
gens() { "$BKP" generations "$1" --json | grep -c '"seq"' || true; }
ok "$BKP" run --force
[ "$(gens karte)" = 1 ] && [ "$(gens scans)" = 1 ] || flunk "both data sets should be sealed: $OUT $ERR"
"$BKP" dump karte:latest emr.dump >"$WORK/emr.dump" || fail "bkp dump karte failed"
sql postgres "create database emr_back" >/dev/null
"$PGBIN/pg_restore" $CONN -d emr_back "$WORK/emr.dump" || flunk "pg_restore of the pulled dump failed"
[ "$(sql emr_back 'select count(*), sum(id) from patients')" = "$(sql emr 'select count(*), sum(id) from patients')" ] ||
    flunk "the restored database should hold every row"
ok "$BKP" restore scans:latest "$WORK/back"
tar -C "$WORK/srv/scans" --sort=name --mtime=@0 --owner=0 --group=0 -cf - . | sha256sum >"$WORK/want"
[ "$(sha256sum <"$WORK/back/scans.tar")" = "$(cat "$WORK/want")" ] || flunk "the restored tar should be the source's bytes"
mkdir "$WORK/untar" && tar -C "$WORK/untar" -xf "$WORK/back/scans.tar"
same_mtree "$WORK/srv/scans" "$WORK/untar" "the scans, out of the tar" "^\$" "s/ time=[^ ]*//"

# ---- 2a. the shipped procedure for a database on another server ----
# The database server as the template's head prepares it: TCP on
# 127.0.0.1 with TLS, a restore role that is no superuser (CREATEDB,
# scram, allowed to postgres and emr_restore alone), its password in a
# file of root's, mode 0600. The template is rehearsed as shipped, its
# server's address, port and password file the test's.
read -r _ PGSOCK _ PGPORT _ <<<"$CONN"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PG/server.key" -out "$PG/server.crt" \
    -subj /CN=127.0.0.1 -days 2 >/dev/null 2>&1 || fail "openssl could not make the server's certificate"
chown postgres: "$PG/server.key" "$PG/server.crt"
chmod 600 "$PG/server.key"
{ echo "hostssl postgres,emr_restore bkp_restore 127.0.0.1/32 scram-sha-256"
  echo "host all bkp_restore 127.0.0.1/32 reject"
  cat "$PGDATA/pg_hba.conf"; } >"$PG/hba" && cat "$PG/hba" >"$PGDATA/pg_hba.conf"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -l "$PG/server.log" restart \
    -o "-k $PGSOCK -p $PGPORT -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$PG/server.crt -c ssl_key_file=$PG/server.key -c fsync=off" \
    >"$WORK/pg_ctl.log" 2>&1 || fail "PostgreSQL did not restart on TCP: $(tail -n 5 "$PG/server.log")"
sql postgres "create role bkp_restore login createdb password 'restore-pass-2026'" >/dev/null ||
    fail "cannot create the restore role"
echo "127.0.0.1:$PGPORT:*:bkp_restore:restore-pass-2026" >"$WORK/pgpass"
chmod 600 "$WORK/pgpass"
sed -e 's/emr-db/karte/g' -e "s|\"PGHOST=10.0.0.12\"|\"PGHOST=127.0.0.1\", \"PGPORT=$PGPORT\"|g" \
    -e "s|PGPASSFILE=/etc/bkp/pgpass|PGPASSFILE=$WORK/pgpass|g" \
    "${BKP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/policies/runbooks/emr-db-remote.yaml" \
    >"$WORK/emr-remote.yaml"
grep -q 'PGSSLMODE=require' "$WORK/emr-remote.yaml" || flunk "the template should ask for TLS"
mkdir -p "$WORK/drill"
ok env TMPDIR="$WORK" "$BKP" drill "$WORK/emr-remote.yaml" --report "$WORK/drill"
[ "$(sql emr_restore 'select count(*), sum(id) from patients')" = "$(sql emr 'select count(*), sum(id) from patients')" ] ||
    flunk "the template's drill should restore every row into emr_restore"
[ "$(sql postgres "select pg_get_userbyid(datdba) from pg_database where datname = 'emr_restore'")" = bkp_restore ] ||
    flunk "emr_restore should be the restore role's, made by it"
ok env TMPDIR="$WORK" "$BKP" drill "$WORK/emr-remote.yaml" --report "$WORK/drill" # again: emr_restore made anew
# The role reaches nothing else: not the live database.
PGPASSFILE=$WORK/pgpass PGSSLMODE=require "$PGBIN/psql" -X -h 127.0.0.1 -p "$PGPORT" -U bkp_restore -d emr -c 'select 1' >/dev/null 2>&1 &&
    flunk "the restore role should not reach the live database"

# ---- 2b. sources at once (parallel:), one data set at a time per source ----
meet() { # EXIT PARALLEL HOST-OF-A HOST-OF-B: bkp run, the two data sets meeting
    { sed '/^datasets:/,$d' "$POL"
      printf 'parallel: %s\ndatasets:\n' "$2"
      printf '  - { name: meet-a, host: %s, stream: { command: meet-a, name: a.txt }, schedule: daily 02:00 }\n' "$3"
      printf '  - { name: meet-b, host: %s, stream: { command: meet-b, name: b.txt }, schedule: daily 02:00 }\n' "$4"
    } >"$WORK/meet.yaml"
    rm -f "$WORK"/meet/*
    BKP_POLICY=$WORK/meet.yaml expect_exit "$1" "$BKP" run --force
}
sealed() { # the generations of meet-a and meet-b
    echo $(($(BKP_POLICY=$WORK/meet.yaml gens meet-a) + $(BKP_POLICY=$WORK/meet.yaml gens meet-b)))
}
meet 0 2 emr-db files
[ "$(sealed)" = 2 ] || flunk "two sources should be captured at once with parallel: 2"
meet 1 1 emr-db files
[ "$(sealed)" = 3 ] || flunk "parallel: 1 should capture one data set at a time"
grep -q "waited alone" <<<"$ERR$OUT" || flunk "the one that waited should say so: $ERR"
meet 1 2 files files
[ "$(sealed)" = 4 ] || flunk "one source should give one data set at a time"

# ---- 3. what goes wrong fails its own data set ----
fails() { # WHAT SAID [DATASET]
    local ds=${3:-karte} before
    before=$(gens "$ds")
    expect_exit 1 "$BKP" backup "$ds"
    grep -q -- "$2" <<<"$ERR" || flunk "$1: the error should say '$2': $ERR"
    grep -q 'Nothing was sealed' <<<"$ERR" || flunk "$1: the error should say nothing was sealed: $ERR"
    grep -Eq "bkp host check|by hand on emr-db" <<<"$ERR" || flunk "$1: the error should say what to check: $ERR"
    [ "$(gens "$ds")" = "$before" ] || flunk "$1: nothing may be sealed"
}
write_policy fails
fails "a command that fails" 'exited with status 1.*connection refused'
grep -q "run the agent's command fails by hand on emr-db" <<<"$ERR" || flunk "a failed dump should say to run it by hand there: $ERR"
write_policy nosuch
fails "a command not in the agent's" "not in the commands of"
write_policy emr-dump "$K2"
fails "another host key" "another host key than the policy's"
FP2=$(ssh-keygen -lf "$WORK/sshd-files/host_key.pub" | awk '{print $2}')
grep -q "the policy's key is $FP2, the host showed $FP" <<<"$ERR" || flunk "both keys' fingerprints should be shown: $ERR"
write_policy emr-dump
cp "$WORK/sshd-emr-db/authorized_keys" "$WORK/ak"
: >"$WORK/sshd-emr-db/authorized_keys"
fails "our key not accepted" "refused our key"
sed "s|command=\"[^\"]*\"|command=\"/nonexistent/bkp agent\"|" "$WORK/ak" >"$WORK/sshd-emr-db/authorized_keys"
fails "no agent there" "no bkp agent answered"
cp "$WORK/ak" "$WORK/sshd-emr-db/authorized_keys"

# A host that is down fails its data set; the other is sealed in the same run.
kill "$(cat "$WORK/sshd-emr-db/pid")"
sleep 0.5
expect_exit 1 "$BKP" run --force --json
[ "$(gens scans)" = 2 ] || flunk "scans should be sealed although emr-db is down"
[ "$(gens karte)" = 1 ] || flunk "karte may not be sealed while emr-db is down"
grep -q 'did not answer' <<<"$OUT" || flunk "the run's JSON should say emr-db did not answer: $OUT"
# Its alert and the status's next step send to the source, never to a
# "hook" whose name is only in the agent's file over there.
grep -q 'check the source with `bkp host check emr-db`' <<<"$ERR" ||
    flunk "the alert should send to bkp host check: $ERR"
grep -q 'run its hook' <<<"$ERR" && flunk "a stream's command is no hook: $ERR"
run_any "$BKP" status
output_has "next: read why it failed (\`bkp audit show " "the status should say where the failure is told"
output_has "check the source with \`bkp host check emr-db\`, then run" "the status should send to bkp host check"
# The record says why in Japanese too (audit show, the evidence report).
grep '"op":"backup"' "$REPO/audit/log.jsonl" | grep '"dataset":"karte"' | tail -1 |
    jq -e '.figures.error_ja | length > 0' >/dev/null ||
    flunk "the failed backup's record should say why in Japanese: $(grep '"dataset":"karte"' "$REPO/audit/log.jsonl" | tail -1)"
/usr/sbin/sshd -f "$WORK/sshd-emr-db/sshd_config" -E "$WORK/sshd-emr-db/log" || fail "sshd emr-db did not restart"
sleep 0.5

# The source's agent killed mid-transfer: nothing sealed; the next run completes.
write_policy big
( for _ in $(seq 200); do
      pgrep -f "agent --config $WORK/sshd-emr-db/agent.yaml" >/dev/null && break
      sleep 0.1
  done
  sleep 1 # its hello sent, its data flowing
  pkill -9 -f "agent --config $WORK/sshd-emr-db/agent.yaml" ) &
fails "the agent killed mid-transfer" "connection to the source server ended"
wait
write_policy emr-dump
ok "$BKP" backup karte
[ "$(gens karte)" = 2 ] || flunk "the next backup should complete after a cut one"

# A hostile source: crafted frames instead of an agent's.
frame() { # TYPE PAYLOAD: one frame's bytes (an ASCII payload)
    local n=${#2}
    printf '%s' "$1"
    # shellcheck disable=SC2059
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' 0 0 $((n >> 8)) $((n & 255)))"
    printf '%s' "$2"
}
hostile() { # WHAT SAID (the bytes in $WORK/evil.bin)
    printf '#!/bin/sh\nexec cat %s\n' "$WORK/evil.bin" >"$WORK/evil.sh"
    chmod 755 "$WORK/evil.sh"
    sed "s|command=\"[^\"]*\"|command=\"$WORK/evil.sh\"|" "$WORK/ak" >"$WORK/sshd-emr-db/authorized_keys"
    fails "$1" "$2"
}
HELLO='{"commands":["emr-dump"],"protocol":1,"read":[],"version":"9"}'
printf 'H\xff\xff\xff\xff' >"$WORK/evil.bin"
hostile "a huge size" "no bkp agent answered"
frame D abc >"$WORK/evil.bin"
hostile "data before hello" "no bkp agent answered"
{ frame H "$HELLO"; printf 'D\x00\x00\x10\x00abc'; } >"$WORK/evil.bin"
hostile "a frame cut short" "ended before the command did"
{ frame H "$HELLO"; printf 'D\x7f\xff\xff\xff'; } >"$WORK/evil.bin"
hostile "a huge size after the hello" "broke the agent's protocol"
{ frame H "$HELLO"; frame D abc; frame E '{}'; } >"$WORK/evil.bin"
hostile "a broken end" "broke the agent's protocol"
{ frame H "$HELLO"; frame D abc; printf 'Q\x00\x00\x00\x00'; } >"$WORK/evil.bin"
hostile "an unknown frame" "broke the agent's protocol"
{ frame H "$HELLO"; printf 'Z\x00\x00\x00\x08\x00\x01\x00\x01\x10\x41\x00\x00'; } >"$WORK/evil.bin"
hostile "a compressed frame larger than a frame" "broke the agent's protocol"
{ frame H "$HELLO"; frame H "$HELLO"; } >"$WORK/evil.bin"
hostile "a second hello" "broke the agent's protocol"
frame H '{"commands":["../x"],"protocol":1,"read":[],"version":"9"}' >"$WORK/evil.bin"
hostile "a command name that is a path" "broke the agent's protocol"
frame H '{"commands":[],"protocol":2,"read":[],"version":"9"}' >"$WORK/evil.bin"
hostile "another protocol" "of another bkp version"
# Escape sequences on its standard error, and a claim to be ssh's own error.
{ frame H "$HELLO"; frame D abc; } >"$WORK/evil.bin"
printf '#!/bin/sh\nprintf "\\033[2J\\033]0;pwned\\007Host key verification failed.\\n" >&2\ncat %s\nexit 255\n' \
    "$WORK/evil.bin" >"$WORK/evil.sh"
fails "escapes on its standard error" "ended before the command did"
grep -q $'\x1b' <<<"$ERR" && flunk "an escape sequence of the source reached our output: $(od -c <<<"$ERR" | head -5)"
grep -q "another host key" <<<"$ERR" && flunk "the source's words must not pass for ssh's: $ERR"
# A source that keeps the channel open after its end: sealed, without waiting for it.
{ frame H "$HELLO"; frame D "a short dump"; frame E '{"exit_code":0,"held_open":false,"left_running":false,"signal":0,"timed_out":false}'; } >"$WORK/evil.bin"
printf '#!/bin/sh\ncat %s\nexec sleep 60\n' "$WORK/evil.bin" >"$WORK/evil.sh"
t0=$SECONDS
ok "$BKP" backup karte
[ $((SECONDS - t0)) -lt 30 ] || flunk "a channel held open after the end held the backup $((SECONDS - t0)) s"
# A source that goes quiet after its hello: our timeout ends it.
frame H "$HELLO" >"$WORK/evil.bin"
printf '#!/bin/sh\ncat %s\nexec sleep 60\n' "$WORK/evil.bin" >"$WORK/evil.sh"
write_policy emr-dump "" "" 4s
fails "a source gone quiet" "was killed after 4s"
write_policy emr-dump
cp "$WORK/ak" "$WORK/sshd-emr-db/authorized_keys"
ok "$BKP" backup karte

finish
