#!/usr/bin/env bash
# 97-host-trees — a data set's paths on other servers: the backup server
# connects to each over SSH, `bkp agent` there (the forced command of our
# key) walks only what its agent.yaml lets it read and sends the trees; the
# backup server checks every entry before it stores a byte.
#
# Two sshd of the test's own (start_sshd) on 127.0.0.1 and 127.0.0.2.
#  1. One `bkp run` backs up a tree on each (Japanese names, a hard link
#     pair, a symbolic link that points out of the tree, an empty folder,
#     a file of another owner with an xattr, modes and times to the
#     nanosecond, an excluded pattern); each restores exactly (mtree with
#     sha256, the xattr); the link is stored as a link, never followed.
#     The next backup, nothing changed, takes no file's bytes from the
#     source (metadata only); one file changed, only its bytes cross.
#  2. The agent refuses a path outside its read: trees, and one that a
#     link of a folder above it would lead out of; nothing is sealed, and
#     the message says what to change on the source.
#  3. A host that is down fails its own data set; the other is sealed.
#  4. A source cut off mid-archive seals nothing; the next run completes.
#  5. A hostile source (crafted archives in real frames: a name with "..",
#     a path outside the ones asked for, a hard link to a file not sent,
#     the same path twice, a file said unchanged that we do not hold):
#     refused, said, nothing sealed, nothing written outside the repository.
. "$(dirname "$0")/lib.sh"
need_root
need_tool ssh setfattr getfattr setfacl getfacl bsdtar python3

start_sshd emr-db 127.0.0.1
P1=$SSHD_PORT K1=$SSHD_KEY
start_sshd files 127.0.0.2
P2=$SSHD_PORT K2=$SSHD_KEY

# ---- the source trees ----
T1=$WORK/srv/emr/export
mkdir -p "$T1/カルテ/2026" "$T1/empty" "$WORK/srv/scans/a" "$WORK/secret"
head -c 3000000 /dev/urandom >"$T1/カルテ/2026/患者-001.pdf"
echo "紹介状" >"$T1/カルテ/2026/紹介状.txt"
ln "$T1/カルテ/2026/紹介状.txt" "$T1/カルテ/hardlink.txt"
ln -s /etc "$T1/up"
echo "scratch" >"$T1/work.tmp"
echo "owned" >"$T1/owned.txt"
chown 1234:2345 "$T1/owned.txt"
chmod 0640 "$T1/owned.txt"
setfattr -n user.checksum -v "abc123" "$T1/owned.txt"
touch -d '2026-01-02 03:04:05.123456789' "$T1/owned.txt"
# ACLs cross too: a file's, and a folder's default (the agent reads them
# only where an entry lists an extended attribute).
echo "shared" >"$T1/acl.txt"
setfacl -m u:1234:rw- "$T1/acl.txt"
setfacl -d -m u:1234:rwx "$T1/カルテ"
head -c 100000 /dev/urandom >"$WORK/srv/scans/a/scan.tif"
echo "do not send" >"$WORK/secret/key"
# A socket (pax has none: left out, not an error) and a symbolic link of
# two names (cp -al makes them): kept as a link and its hard link.
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T1/agent.sock"
ln "$T1/up" "$T1/up-again"

cat >"$WORK/sshd-emr-db/agent.yaml" <<YAML
read: [$WORK/srv/emr]
YAML
cat >"$WORK/sshd-files/agent.yaml" <<YAML
read: [$WORK/srv/scans]
YAML
ID=$WORK/etc/ssh/id_ed25519
mkdir -p "$(dirname "$ID")"
ssh-keygen -q -t ed25519 -N '' -C bkp -f "$ID" || fail "ssh-keygen failed"
for h in emr-db files; do
    printf 'restrict,command="%s agent --config %s" %s\n' "$BKP" "$WORK/sshd-$h/agent.yaml" \
        "$(cat "$ID.pub")" >"$WORK/sshd-$h/authorized_keys"
done
cp "$WORK/sshd-files/authorized_keys" "$WORK/ak-files"

# An administrator checking agent.yaml in an SSH session of their own: --check.
SSH_CONNECTION="10.0.0.1 5000 10.0.0.12 22" "$BKP" agent --check --config "$WORK/sshd-emr-db/agent.yaml" \
    >"$WORK/check.out" 2>&1 || fail "agent --check should accept the file: $(cat "$WORK/check.out")"
grep -q "valid" "$WORK/check.out" || flunk "agent --check should say the file is valid: $(cat "$WORK/check.out")"
grep -q "$WORK/srv/emr" "$WORK/check.out" || flunk "agent --check should list the read: trees"

REPO=$WORK/repo
POL=$WORK/policy.yaml
write_policy() { # KARTE-PATHS [IDLE-TIMEOUT of files]
    cat >"$POL" <<YAML
repository: $REPO
passphrase_file: $PASSFILE
rule_321: { copies: 1, media_types: 1, offline: 0, offsite: 0 }
hosts:
  - name: emr-db
    ssh: root@127.0.0.1
    port: $P1
    identity: $ID
    host_key: "$K1"
    connect_timeout: 5s
  - name: files
    ssh: root@127.0.0.2
    port: $P2
    identity: $ID
    host_key: "$K2"
    connect_timeout: 5s
    idle_timeout: ${2:-1h}
datasets:
  - name: karte
    host: emr-db
    paths: [$1]
    exclude: ["*.tmp"]
    schedule: daily 02:00
  - name: scans
    host: files
    paths: [$WORK/srv/scans]
    schedule: daily 02:00
YAML
}
write_policy "$T1"
export BKP_POLICY=$POL
ok "$BKP" policy check
# Where each data set's paths are read: on its host, not here.
printf '%s\n' "$OUT" | grep -qF "on host emr-db: read there by its agent" ||
    flunk "policy check should say karte's paths are on host emr-db: $OUT"
# host check holds each data set's paths against the agent's read: folders,
# before the night finds a typo, a folder gone or one its user cannot enter.
ok "$BKP" host check emr-db
write_policy "$WORK/secret"
expect_exit 1 "$BKP" host check emr-db
output_has "reads $WORK/secret on emr-db, which is below none of the folders its agent may read"
# Paths as the night reads them: normalised first, on both sides.
write_policy "$WORK/srv/emr/../../secret"
expect_exit 1 "$BKP" host check emr-db
output_has "below none of the folders"
write_policy "$WORK/srv//emr/./export"
ok "$BKP" host check emr-db
write_policy "$T1"
mv "$WORK/srv/scans" "$WORK/srv/scans.away"
expect_exit 1 "$BKP" host check files --json
output_has "is not there: correct agent.yaml there"
[ "$(json_num path_problems)" = 1 ] || flunk "host check --json should count the path problem: $OUT"
mv "$WORK/srv/scans.away" "$WORK/srv/scans"
ok "$BKP" host check files
# What its own user cannot read the agent says in its hello: run here as
# nobody, with a folder above closed to it.
chmod 711 "$WORK"
mkdir -m 755 "$WORK/pub" && mkdir -p -m 700 "$WORK/pub/locked/data"
printf 'read: [%s/pub/locked/data, %s/pub]\n' "$WORK" "$WORK" >"$WORK/pub/agent.yaml"
chmod 644 "$WORK/pub/agent.yaml"
runuser -u nobody -- env SSH_ORIGINAL_COMMAND=hello "$BKP" agent --config "$WORK/pub/agent.yaml" \
    >"$WORK/hello.out" 2>&1 || flunk "the agent as nobody should answer hello: $(cat "$WORK/hello.out")"
grep -aq "\"unreadable\":\[\"$WORK/pub/locked/data\"\]" "$WORK/hello.out" ||
    flunk "the agent should say it cannot read the locked folder: $(tr -cd '[:print:]' <"$WORK/hello.out")"
chmod 700 "$WORK"
ok "$BKP" init --repo "$REPO"
gens() { "$BKP" generations "$1" --json | grep -c '"seq"' || true; }

# ---- 1. one run, both hosts, restored exactly ----
sleep 3 # files changed within 2 s of a backup are read again next time (racily clean)
ok "$BKP" run --force
[ "$(gens karte)" = 1 ] && [ "$(gens scans)" = 1 ] || flunk "both data sets should be sealed: $OUT $ERR"
ok "$BKP" restore karte:latest "$WORK/back"
ts=$(stat -c %y "$T1")
rm "$T1/work.tmp" "$T1/agent.sock" # excluded, and a socket: not restored
touch -m -d "$ts" "$T1"
same_mtree "$T1" "$WORK/back$T1" "the tree of emr-db"
[ "$(getfattr --only-values -n user.checksum "$WORK/back$T1/owned.txt" 2>/dev/null)" = abc123 ] ||
    flunk "the xattr of owned.txt should be restored"
getfacl -cp "$WORK/back$T1/acl.txt" 2>/dev/null | grep -q '^user:1234:rw-' ||
    flunk "the ACL of acl.txt should be restored"
getfacl -cpd "$WORK/back$T1/カルテ" 2>/dev/null | grep -q '^user:1234:rwx' ||
    flunk "the default ACL of the folder should be restored"
[ "$(readlink "$WORK/back$T1/up")" = /etc ] || flunk "the link should be restored as a link to /etc"
[ ! -e "$WORK/back$T1/up/passwd" ] || [ -L "$WORK/back$T1/up" ] || flunk "the link was followed"
ok "$BKP" restore scans:latest "$WORK/back2"
same_mtree "$WORK/srv/scans" "$WORK/back2$WORK/srv/scans" "the tree of files"
# Nothing changed: sealed again, nothing new stored, and no file's bytes
# crossed (the agent was told what we hold): metadata only.
ok "$BKP" backup karte --json
[ "$(json_num bytes_new)" = 0 ] || flunk "an unchanged remote tree should store nothing new: $OUT"
[ "$(json_num bytes_read)" = 0 ] || flunk "no file's bytes should cross when nothing changed: $OUT"
[ "$(json_num files_unchanged)" = 4 ] || flunk "the 4 files (one with an ACL) should be unchanged: $OUT"
crossed=$(json_num bytes_from_source)
[ -n "$crossed" ] && [ "$crossed" -lt 30000 ] || flunk "metadata only should cross, not $crossed bytes: $OUT"
# One file changed: only it crosses.
echo "追記" >>"$T1/カルテ/2026/紹介状.txt"
ok "$BKP" backup karte --json
[ "$(json_num bytes_read)" = "$(stat -c %s "$T1/カルテ/2026/紹介状.txt")" ] ||
    flunk "only the changed file's bytes should cross: $OUT"
ok "$BKP" restore karte:latest "$WORK/back3"
same_mtree "$T1" "$WORK/back3$T1" "the tree of emr-db, the third time"
[ "$(getfattr --only-values -n user.checksum "$WORK/back3$T1/owned.txt" 2>/dev/null)" = abc123 ] ||
    flunk "the xattr of an unchanged file should be kept"

# ---- 2. what the agent refuses ----
fails() { # WHAT SAID [DATASET]
    local ds=${3:-karte} before
    before=$(gens "$ds")
    expect_exit 1 "$BKP" backup "$ds"
    grep -q -- "$2" <<<"$ERR" || flunk "$1: the error should say '$2': $ERR"
    grep -q 'Nothing was sealed\|Nothing is sealed\|nothing is sealed' <<<"$ERR" || flunk "$1: the error should say nothing was sealed: $ERR"
    [ "$(gens "$ds")" = "$before" ] || flunk "$1: nothing may be sealed"
}
write_policy "$WORK/secret"
fails "a path outside read:" "is not below the read: trees"
grep -q "secret" <<<"$ERR" || flunk "the refusal should name the path: $ERR"
# The agent says why in Japanese too: a Japanese reader reads it so.
LC_ALL= LANG=C.UTF-8 LANGUAGE=ja expect_exit 1 "$BKP" backup karte
output_has "read: のフォルダーの下にありません"
write_policy "$T1/up/ssh"
fails "a path a link leads out of" "is not below the read: trees"
# A path that is not there (yet) is left out and said, the rest is sealed.
write_policy "$T1, $WORK/srv/emr/nothing-here"
before=$(gens karte)
expect_exit 1 "$BKP" backup karte
grep -q "could not be read whole by the agent" <<<"$ERR" || flunk "a missing path on the source should be said: $ERR"
[ "$(gens karte)" = $((before + 1)) ] || flunk "the paths that are there should be sealed"
# Named here, on the terminal and in the generation, as a local backup's:
# the agent's end names each path it left out.
grep -q "emr-db:$WORK/srv/emr/nothing-here: No such file or directory (as its agent read it)" <<<"$ERR" ||
    flunk "the path left out on the source should be named here: $ERR"
"$BKP" generations karte --json 2>/dev/null |
    jq -e --arg p "emr-db:$WORK/srv/emr/nothing-here" '[.. | objects | select(.path? == $p)] | length >= 1' >/dev/null ||
    flunk "the generation should keep the path left out on the source: $("$BKP" generations karte --json | jq -c 'last')"
# In cron there is no locale: the names cross as their bytes.
write_policy "$T1"
env -u LANG -u LANGUAGE LC_ALL=C "$BKP" backup karte >/dev/null 2>"$WORK/c.err" ||
    flunk "a backup with no locale should work: $(cat "$WORK/c.err")"
ok "$BKP" restore karte:latest "$WORK/back-c"
[ -f "$WORK/back-c$T1/カルテ/2026/紹介状.txt" ] || flunk "the Japanese names should be kept under LC_ALL=C"

# ---- 3. a host that is down ----
kill "$(cat "$WORK/sshd-files/pid")"
sleep 0.5
expect_exit 1 "$BKP" run --force --json
[ "$(gens karte)" = 6 ] || flunk "karte should be sealed although files is down"
[ "$(gens scans)" = 1 ] || flunk "scans may not be sealed while files is down"
grep -q 'did not answer' <<<"$OUT" || flunk "the run's JSON should say files did not answer: $OUT"
/usr/sbin/sshd -f "$WORK/sshd-files/sshd_config" -E "$WORK/sshd-files/log" || fail "sshd files did not restart"
sleep 0.5

# ---- 4, 5. a source cut off, a hostile source ----
# What a real agent sends for the scans, to cut and to forge from.
SSH_ORIGINAL_COMMAND="tree $WORK/srv/scans" "$BKP" agent --config "$WORK/sshd-files/agent.yaml" \
    >"$WORK/good.bin" 2>/dev/null || fail "the agent should serve a tree request"
serve() { # FILE: what the "agent" of files sends
    printf '#!/bin/sh\nexec cat %s\n' "$1" >"$WORK/evil.sh"
    chmod 755 "$WORK/evil.sh"
    sed "s|command=\"[^\"]*\"|command=\"$WORK/evil.sh\"|" "$WORK/ak-files" >"$WORK/sshd-files/authorized_keys"
}
head -c 40000 "$WORK/good.bin" >"$WORK/cut.bin"
serve "$WORK/cut.bin"
fails "cut off mid-archive" "connection to the source server ended" scans
cp "$WORK/ak-files" "$WORK/sshd-files/authorized_keys"
ok "$BKP" backup scans
[ "$(gens scans)" = 2 ] || flunk "the next backup should complete after a cut one"
# A source whose walk stops sending (a disk that hangs there) is given up
# after the host's idle_timeout, not at the walk's limit of a day.
printf '#!/bin/sh\ncat %s\nexec sleep 120\n' "$WORK/cut.bin" >"$WORK/evil.sh"
chmod 755 "$WORK/evil.sh"
sed "s|command=\"[^\"]*\"|command=\"$WORK/evil.sh\"|" "$WORK/ak-files" >"$WORK/sshd-files/authorized_keys"
write_policy "$T1" 3s
t0=$SECONDS
fails "a walk gone quiet" "nothing came from the source server for its idle_timeout" scans
[ $((SECONDS - t0)) -lt 60 ] || flunk "idle_timeout should give a quiet walk up in seconds, not $((SECONDS - t0)) s"
write_policy "$T1"
cp "$WORK/ak-files" "$WORK/sshd-files/authorized_keys"

# Crafted archives in real frames: hello, the archive in data frames, a good end.
forge() { # OUT PYTHON-BUILDING-ARCHIVE
    python3 - "$1" "$WORK/srv/scans" <<PY
import io, struct, sys, tarfile
out, root = sys.argv[1], sys.argv[2].lstrip('/')
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)
def add(name, data=b'x', link=None, pax=None, sym=None, dir=False):
    i = tarfile.TarInfo(name)
    if pax:
        i.pax_headers = pax
    if dir:
        i.type = tarfile.DIRTYPE
        t.addfile(i)
    elif sym is not None:
        i.type, i.linkname = tarfile.SYMTYPE, sym
        t.addfile(i)
    elif link is not None:
        i.type, i.linkname = tarfile.LNKTYPE, link
        t.addfile(i)
    else:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
$2
t.close()
body = buf.getvalue()
if 'CUT' in __import__('os').environ:
    body = body[:1500] # cut short, then a good end
def frame(k, p): return k + struct.pack('>I', len(p)) + p
hello = b'{"commands":[],"protocol":1,"read":["/' + root.encode() + b'"],"version":"9"}'
end = b'{"exit_code":0,"held_open":false,"left_running":false,"signal":0,"timed_out":false}'
data = b''.join(frame(b'D', body[i:i + 65536]) for i in range(0, len(body), 65536))
open(out, 'wb').write(frame(b'H', hello) + data + frame(b'E', end))
PY
}
hostile() { # WHAT SAID PYTHON
    forge "$WORK/evil.bin" "$3" || fail "cannot forge $1"
    serve "$WORK/evil.bin"
    fails "$1" "$2" scans
    [ ! -e "$WORK/srv/evil" ] && [ ! -e /tmp/bkp-evil ] || flunk "$1: something was written outside the repository"
}
hostile "a name with .." "a name that is not a walked path" "add(root, dir=True); add(root + '/../../evil')"
hostile "a path outside the ones asked for" "a path outside the paths asked for" "add('etc/shadow')"
hostile "a hard link to a file not sent" "a hard link to no file" "add(root, dir=True); add(root + '/a', link=root + '/../../../etc/passwd')"
hostile "a hard link to an unlinked file" "a hard link to no file" "add(root, dir=True); add(root + '/b'); add(root + '/c', link=root + '/b')"
hostile "the same path twice" "out of the walk's order, or sent twice" "add(root, dir=True); add(root + '/x'); add(root + '/x')"
hostile "an absolute name" "a name that is not a walked path" "add('/tmp/bkp-evil')"
hostile "a file said unchanged that we do not hold" "said unchanged whose content the files cache does not hold" \
    "add(root, dir=True); add(root + '/new', data=b'', pax={'SCHILY.xattr.bkp.unchanged': '100'})"
hostile "a file below a link" "folder was not sent before it" \
    "add(root, dir=True); add(root + '/l', sym='/etc'); add(root + '/l/cron.d')"
hostile "a file without its folder" "folder was not sent before it" "add(root + '/a/b')"
export CUT=1
hostile "an archive cut short with a good end" "ended before" "add(root, dir=True); add(root + '/big', data=b'y' * 100000)"
unset CUT
hostile "an unchanged mark with bytes" "an unchanged file's mark on an entry with bytes" \
    "add(root, dir=True); add(root + '/a', dir=True); add(root + '/a/scan.tif', data=b'abc', pax={'SCHILY.xattr.bkp.unchanged': '3'})"
cp "$WORK/ak-files" "$WORK/sshd-files/authorized_keys"
ok "$BKP" backup scans
finish
