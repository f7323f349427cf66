#!/bin/bash
# A read-only repository handle is another type (repo.h): what reads through
# a `const bkp_repo *` compiles, a write through it does not.
# Usage: ro-handle-check.sh SOURCE-DIR [COMPILER]
# tests/unit/ro_handle_compile.c is compiled (syntax only) with the warnings
# of the build as errors: as it is, it must compile; with each of
# RO_HANDLE_WRITE (bkp_repo_put), RO_HANDLE_FLUSH (bkp_repo_flush),
# RO_HANDLE_AUDIT (bkp_audit_append) and RO_HANDLE_HANDLER (a reading
# command's handler clearing a mark through c->ro) it must fail, and fail
# for the const.
set -u
src=${1:?usage: ro-handle-check.sh SOURCE-DIR [COMPILER]}
cc=${2:-${CC:-cc}}
file=$src/tests/unit/ro_handle_compile.c
flags=(-std=c17 -fsyntax-only -Wall -Wextra -Werror -I "$src")
for p in $(pkg-config --cflags-only-I jansson libsodium 2>/dev/null); do flags+=("$p"); done
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if "$cc" "${flags[@]}" "$file" >"$log" 2>&1; then
    echo "ok: reading through a const bkp_repo * compiles"
else
    echo "FAIL: the read-only use does not compile:"
    cat "$log"
    fail=1
fi
for what in RO_HANDLE_WRITE RO_HANDLE_FLUSH RO_HANDLE_AUDIT RO_HANDLE_HANDLER; do
    if "$cc" "${flags[@]}" -D"$what" "$file" >"$log" 2>&1; then
        echo "FAIL: $what: a write through a const bkp_repo * compiled"
        fail=1
    elif grep -q "discards .const. qualifier\|discards qualifiers" "$log"; then
        echo "ok: $what: refused: $(grep -m1 "discards" "$log" | sed 's/^.*error: //')"
    else
        echo "FAIL: $what: did not compile, but not for the const:"
        cat "$log"
        fail=1
    fi
done
exit $fail
