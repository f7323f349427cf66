#!/usr/bin/env bash
# 96-stream-fails — a stream whose command does not end well seals nothing.
#
#  1. Each of these exits 1, says how the command ended (and its last line of
#     standard error where it wrote one) and that nothing was sealed, keeps
#     the generations there were, and leaves a failed backup record in the
#     audit log with the command's exit status: half its output then exit 2;
#     killed by a signal; past its timeout while writing; nothing written
#     (a dump sent to a file instead); exit 0 while a writer it started in
#     the background is still running; exit 0 while a writer that left its
#     process group still holds its output open (given up 5 s later, not
#     waited for).
#  2. After all that, a good stream is sealed and reads back; a data set that
#     was files before and is a stream now is not marked suspicious (a stream
#     is judged against streams).
#  3. The policy: paths and a stream in one data set, a stream without a
#     name, a stream written as a plain command, a pipeline without pipefail
#     (a failed dump would be sealed), and names that are paths or options
#     are refused at their line.
. "$(dirname "$0")/lib.sh"
need_tool sha256sum setsid

REPO=$WORK/repo
POL=$WORK/policy.yaml
DATA=$WORK/data
mkdir -p "$DATA"
for i in $(seq 1 30); do echo "record $i" >"$DATA/r$i.txt"; done
write_policy() { # KIND VALUE [TIMEOUT]
    {
        echo "repository: $REPO"
        echo "passphrase_file: $PASSFILE"
        echo "datasets:"
        echo "  - name: lab"
        if [ "$1" = paths ]; then
            echo "    paths: [$DATA]"
        else
            printf '    stream: { command: "%s", name: lab.out, timeout: %s }\n' "$2" "${3:-5m}"
        fi
    } >"$POL"
}
write_policy paths
export BKP_POLICY=$POL
ok "$BKP" init --repo "$REPO"
ok "$BKP" backup lab
ok "$BKP" backup lab
gens() { "$BKP" generations lab --json | grep -c '"seq"' || true; }
[ "$(gens)" = 2 ] || fail "two generations of files should be there"

# ---- 1. commands that do not end well ----
FAILED=0
fails() { # WHAT SAID COMMAND [TIMEOUT]
    write_policy stream "$3" "${4:-5m}"
    local t0=$SECONDS
    expect_exit 1 "$BKP" backup lab
    SAID=$ERR
    grep -q -- "$2" <<<"$SAID" || flunk "$1: the error should say '$2': $SAID"
    grep -q 'Nothing was sealed' <<<"$SAID" || flunk "$1: the error should say nothing was sealed: $SAID"
    grep -q 'by hand' <<<"$SAID" || flunk "$1: the error should say what to check next: $SAID"
    [ "$(gens)" = 2 ] || flunk "$1: no generation may be sealed ($(gens) now)"
    [ $((SECONDS - t0)) -lt 40 ] || flunk "$1: took $((SECONDS - t0)) s"
    ok "$BKP" audit show --dataset lab --json
    local n
    n=$(grep -c '"outcome": "failed"' <<<"$OUT" || true)
    [ "$n" -gt "$FAILED" ] || flunk "$1: the failed backup should be in the audit log"
    grep -q '"exit_code"' <<<"$OUT" || flunk "$1: the record should carry the command's exit status"
    FAILED=$n
}
fails "half its output" 'exited with status 2' \
    "head -c 3000000 /dev/urandom; echo cut short >&2; exit 2"
grep -q 'cut short' <<<"$SAID" || flunk "the error should quote the command's last line: $SAID"
fails "a signal" 'was ended by signal 9' "head -c 100000 /dev/urandom; kill -9 \$\$"
fails "a timeout while writing" 'was killed after 2s' "while :; do head -c 65536 /dev/urandom; sleep 0.2; done" 2s
grep -q "if it only needs longer, raise timeout: of the data set's stream in the policy" <<<"$SAID" ||
    flunk "a command past its timeout should say the limit may be raised: $SAID"
fails "nothing written" 'wrote nothing to its standard output' "head -c 1000 /dev/urandom >/dev/null"
fails "a writer left running" 'ended while processes it started were still running' \
    "(sleep 2; head -c 100000 /dev/urandom) & head -c 1000 /dev/urandom"
fails "a writer that left the group" 'still held its output open' \
    "setsid sh -c 'sleep 20; head -c 1000 /dev/urandom' & sleep 1; head -c 1000 /dev/urandom"

# ---- 2. a good stream, judged against streams ----
head -c 5000000 /dev/urandom >"$WORK/blob"
write_policy stream "cat $WORK/blob"
ok "$BKP" backup lab --json
grep -q '"suspicious": true' <<<"$OUT" && flunk "a stream after files must not be judged against the files: $OUT"
[ "$(gens)" = 3 ] || flunk "the good stream should be sealed ($(gens) generations)"
"$BKP" dump lab:latest lab.out | sha256sum >"$WORK/got"
[ "$(cat "$WORK/got")" = "$(sha256sum <"$WORK/blob")" ] || flunk "the stream should read back exactly"
ok "$BKP" ls lab:latest
grep -q 'lab.out' <<<"$OUT" || flunk "the generation should hold lab.out: $OUT"

# ---- 3. the policy ----
refused() { # WHAT SAID (the policy in $WORK/bad.yaml)
    expect_exit 2 "$BKP" policy check --policy "$WORK/bad.yaml"
    grep -q "bad.yaml:[0-9]*:.*$2" <<<"$ERR" || flunk "$1 should be refused at its line with '$2': $ERR"
}
bad() { # DATASET-LINES...
    { echo "repository: $REPO"; echo "passphrase_file: $PASSFILE"; echo "datasets:"; echo "  - name: lab"
      printf '    %s\n' "$@"; } >"$WORK/bad.yaml"
}
bad "paths: [$DATA]" 'stream: { command: "cat x", name: lab.out }'
refused "paths and a stream" 'both paths and a stream'
bad 'stream: { command: "cat x" }'
refused "a stream without a name" 'stream has no name'
bad 'stream: "cat x"'
refused "a stream as a plain command" 'stream is a mapping'
bad 'stream: { command: "cat x | gzip", name: lab.gz }'
refused "a pipeline without pipefail" 'is a pipeline, whose status is only its last'
grep -q 'has no paths' <<<"$ERR" && flunk "a stream written wrongly is not 'no paths': $ERR"
for name in ../lab.out -lab.out .lab a/b 'lab out'; do
    bad "stream: { command: \"cat x\", name: \"$name\" }"
    refused "the stream name '$name'" 'is not a plain file name'
done

finish
