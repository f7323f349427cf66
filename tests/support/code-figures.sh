#!/usr/bin/env bash
# code-figures.sh — the figures of the code (tests/README.md): how the code is
# shaped, measured the same way each time so that a change can be compared.
#
#   bash tests/support/code-figures.sh [TOP]        (TOP: the source tree, default ..)
#
# Prints, for the product (bkp/, restore/, policies/; tests and bench excluded):
#   1. lines of code of bkp/cli/ against the product (non-blank lines that are not
#      wholly a comment);
#   2. include cycles between files: a node is a module (foo.c, foo.h,
#      foo_internal.h and foo_driver.h, the interface of its drivers, are one
#      node, "bkp/foo"), an edge is an `#include "..."` of another module's
#      header; every strongly connected component of more than one module is a
#      cycle, printed with its members;
#   3. functions over 80 lines (a figure, not a budget): counted from the line
#      that names the function
#      to its closing brace, inclusive. A function is a `{` opened at brace depth
#      0 whose preceding text (since the last `;`, `}` or preprocessor line at
#      depth 0) has a `(` and no `=`; braces inside comments, strings and
#      character literals are not counted;
#   4. modules over 800 lines: a .c with the header it implements, all lines
#      (a figure to look at, not a budget: the question is whether a split
#      follows a seam);
#   5. durable-write bypasses: calls of open/openat with O_CREAT, rename,
#      renameat, renameat2, link, linkat, unlink, unlinkat (a temporary
#      file's removal is listed too: the pattern cannot tell), fsync,
#      fdatasync, ftruncate or
#      write/pwrite outside bkp/io/durable.c, bkp/io/direct.c (its streaming half)
#      and bkp/io/fdio.c (the write loops it uses), one line each; writes to a
#      pipe or a terminal are listed too (the pattern cannot tell);
#   6. lock mechanisms: files calling flock( or fcntl( with F_SETLK/F_OFD_SETLK,
#      and files naming a lock file (a locks/ folder, a .lock file);
#   7. comment share of .c files: comment lines (a line that is wholly or partly
#      a comment) over all non-blank lines, per area and for durable.c and
#      prune.c;
#   8. error conventions beside "0 or a negative errno" in the library (bkp/
#      without bkp/cli/, which is presentation; restore/; policies/):
#      a. positive int returns: non-static functions (a definition at column 0
#         that starts `int NAME(`) whose body has `return 1;` or a `return`
#         with `? 1 :` — an answer ("1 found") or a status ("1 problems
#         found"), listed as file:function; a positive value computed
#         otherwise is not seen;
#      b. bool and pointer returners that document a failure as false/NULL:
#         a declaration in a header returning `bool` or a pointer whose
#         comment just above it says NULL or false (not "NULL:", which
#         documents a parameter) in the same sentence as
#         one of invalid, damaged, cannot, not read, missing, absent, not
#         registered, fails, error — where "does not exist" and "is damaged"
#         may come back as the same NULL; listed as file:function.
# Needs bash, awk, grep, sort and python3 (for the cycles), all in Debian 12.
set -euo pipefail
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"

product_c() { find bkp restore policies -name '*.c' | sort; }
product_ch() { find bkp restore policies -name '*.[ch]' | sort; }

# Lines of code: non-blank, not wholly inside a comment.
code_lines() {
    awk '
        { line = $0; code = 0
          while (length(line)) {
              if (inc) { p = index(line, "*/"); if (!p) { line = ""; break }
                         line = substr(line, p + 2); inc = 0; continue }
              p = index(line, "/*"); q = index(line, "//")
              if (q && (!p || q < p)) { pre = substr(line, 1, q - 1); line = "" }
              else if (p) { pre = substr(line, 1, p - 1); line = substr(line, p + 2); inc = 1 }
              else { pre = line; line = "" }
              if (pre ~ /[^ \t]/) code = 1
          }
          n += code }
        END { print n + 0 }' "$@"
}

echo "== 1. share of the code in bkp/cli/ (lines of code, comments and blanks excluded)"
all=$(product_ch | xargs cat | code_lines)
cli=$(find bkp/cli -name '*.[ch]' | sort | xargs cat | code_lines)
awk -v a="$all" -v c="$cli" 'BEGIN { printf "bkp/cli/ %d of %d lines: %.1f %%\n", c, a, 100 * c / a }'

echo
echo "== 2. include cycles between modules (#include \"...\" edges; foo.c+foo.h one node)"
product_ch | python3 -c '
import re, sys
files = [l.strip() for l in sys.stdin if l.strip()]
def node(p):
    # foo_driver.h is the side of foo'"'"'s interface its drivers implement
    # (bkp/ops/rotate_driver.h): declared for them, defined in foo.c.
    return re.sub(r"(_internal|_driver)?\.[ch]$", "", p)
nodes = sorted({node(f) for f in files})
edges = {n: set() for n in nodes}
for f in files:
    for line in open(f, encoding="utf-8", errors="replace"):
        m = re.match(r"\s*#\s*include\s+\"([^\"]+)\"", line)
        if not m:
            continue
        t = node(m.group(1))
        if t in edges and t != node(f):
            edges[node(f)].add(t)
# Tarjan, iterative.
index, low, on, stack, comps, counter = {}, {}, set(), [], [], [0]
def visit(v0):
    work = [(v0, iter(sorted(edges[v0])))]
    index[v0] = low[v0] = counter[0]; counter[0] += 1
    stack.append(v0); on.add(v0)
    while work:
        v, it = work[-1]
        for w in it:
            if w not in index:
                index[w] = low[w] = counter[0]; counter[0] += 1
                stack.append(w); on.add(w)
                work.append((w, iter(sorted(edges[w]))))
                break
            if w in on:
                low[v] = min(low[v], index[w])
        else:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                c = []
                while True:
                    w = stack.pop(); on.discard(w); c.append(w)
                    if w == v:
                        break
                if len(c) > 1:
                    comps.append(sorted(c))
for n in nodes:
    if n not in index:
        visit(n)
for c in comps:
    inner = ["%s -> %s" % (a, b) for a in c for b in sorted(edges[a]) if b in c]
    print("cycle of %d: %s" % (len(c), " ".join(c)))
    print("    edges: " + ", ".join(inner))
print("cycles: %d" % len(comps))
'

echo
echo "== 3. functions over 80 lines (from the name line to the closing brace)"
for f in $(product_c); do
    awk -v file="$f" '
        function strip(s,   out, c, i, n) {   # drop comments, strings, char literals
            out = ""; n = length(s)
            for (i = 1; i <= n; i++) {
                c = substr(s, i, 1)
                if (incom) { if (c == "*" && substr(s, i + 1, 1) == "/") { incom = 0; i++ } continue }
                if (instr) { if (c == "\\") { i++; continue } if (c == q) instr = 0; continue }
                if (c == "/" && substr(s, i + 1, 1) == "*") { incom = 1; i++; continue }
                if (c == "/" && substr(s, i + 1, 1) == "/") break
                if (c == "\"" || c == "\x27") { instr = 1; q = c; continue }
                out = out c
            }
            return out
        }
        {
            s = strip($0)
            if (depth == 0 && s ~ /^[ \t]*#/) { head = ""; next }
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "{") {
                    if (depth == 0) {
                        isfn = (head ~ /\(/ && head !~ /=/)
                        if (isfn) {
                            h = head; sub(/\(.*/, "", h); n = split(h, w, /[^A-Za-z0-9_]+/)
                            name = ""; for (k = n; k >= 1 && name == ""; k--) name = w[k]
                            start = hstart ? hstart : NR
                        }
                    }
                    depth++
                } else if (c == "}") {
                    depth--
                    if (depth == 0) {
                        if (isfn && NR - start + 1 > 80)
                            printf "%5d  %s  %s\n", NR - start + 1, name, file
                        isfn = 0; head = ""; hstart = 0
                    }
                } else if (depth == 0) {
                    if (c == ";") { head = ""; hstart = 0 }
                    else {
                        if (head == "" && c ~ /[A-Za-z_]/) hstart = NR
                        if (head != "" || c ~ /[A-Za-z_]/) head = head c
                    }
                }
            }
            if (depth == 0 && head != "") head = head " "
        }' "$f"
done | sort -rn | awk '{ print } END { print "functions over 80 lines: " NR }'

echo
echo "== 4. modules over 800 lines (a .c with the header it implements, all lines)"
# A module is counted whole: splitting foo.c's prose into foo.h changes nothing.
for c in $(product_c); do
    h=${c%.c}.h
    n=$(cat "$c" $([ -f "$h" ] && echo "$h") | wc -l)
    echo "$n $c$([ -f "$h" ] && echo " + ${h##*/}")"
done | sort -rn | awk '$1 > 800 { print; n++ } END { print "modules over 800 lines: " n + 0 }'

echo
echo "== 5. durable-write bypasses (outside bkp/io/durable.c, direct.c, fdio.c)"
product_c | grep -v -e '^bkp/io/durable\.c$' -e '^bkp/io/direct\.c$' -e '^bkp/io/fdio\.c$' |
    xargs grep -nE '\b(open|openat)\([^;]*O_CREAT|\b(rename|renameat|renameat2|link|linkat|unlink|unlinkat|fsync|fdatasync|ftruncate)\(|[^_a-z](write|pwrite)\(' |
    grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)' |
    awk '{ print } END { print "bypasses: " NR }'

echo
echo "== 6. lock mechanisms"
echo "-- flock( calls:"
{ product_c | xargs grep -nE '\bflock\(' || true; } | awk -F: '{ print $1 }' | sort | uniq -c
echo "-- fcntl locks (F_SETLK, F_OFD_SETLK):"
{ product_c | xargs grep -nE 'F_(OFD_)?SETLKW?' || true; } | awk -F: '{ print $1 }' | sort | uniq -c
echo "-- lock files (named in the code: a locks/ folder or a .lock file):"
{ product_c | xargs grep -nE '"[^"]*\.lock"|"locks"' || true; } | awk -F: '{ print $1 }' | sort | uniq -c
files=$(product_c | xargs grep -lE '\bflock\(|F_(OFD_)?SETLKW?' | tr '\n' ' ')
echo "files taking a lock by a system call: $(echo "$files" | wc -w) ($files)"

echo
echo "== 7. comment share of .c files (lines with a comment / non-blank lines)"
comment_share() {
    awk '
        NF == 0 && !inc { next }
        { total++; has = inc; line = $0
          while (length(line)) {
              if (inc) { p = index(line, "*/"); if (!p) break; line = substr(line, p + 2); inc = 0; continue }
              p = index(line, "/*"); q = index(line, "//")
              if (q && (!p || q < p)) { has = 1; break }
              if (p) { has = 1; inc = 1; line = substr(line, p + 2); continue }
              break
          }
          c += has }
        END { printf "%5.1f %%  (%d of %d)", total ? 100 * c / total : 0, c, total }' "$@"
}
for area in bkp/ bkp/cli/ restore/ policies/; do
    if [ "$area" = bkp/ ]; then set -- $(find bkp -name '*.c' -not -path 'bkp/cli/*' -not -path 'bkp/ops/*' -not -path 'bkp/report/*' | sort)
    else set -- $(find "$area" -name '*.c' | sort); fi
    printf '%-10s %s\n' "$area" "$(comment_share "$@")"
done
printf '%-10s %s\n' product "$(comment_share $(product_c))"
for f in bkp/io/durable.c bkp/store/prune.c bkp/store/prune_recover.c bkp/io/lock.c bkp/audit/audit.c bkp/store/repo.c; do
    [ -f "$f" ] && printf '%-14s %s\n' "$f" "$(comment_share "$f")"
done

echo
echo "== 8. error conventions beside 0-or-negative-errno (bkp/ without cli/, restore/, policies/)"
lib_files() { find bkp restore policies -name "*.$1" -not -path 'bkp/cli/*' | sort; }
echo "-- a. non-static int functions returning 1 (return 1; or return ... ? 1 :):"
for f in $(lib_files c); do
    awk -v f="$f" '
        /^int [a-z_0-9]+\(/ { name = $2; sub(/\(.*/, "", name); infn = 1; hit = 0; next }
        infn && /^}/ { if (hit) print f ":" name; infn = 0; next }
        infn && /return 1;|return [^;]*\? 1 :/ { hit = 1 }' "$f"
done | awk '{ print } END { print "int functions with a positive return: " NR }'
echo "-- b. bool/pointer returners documenting failure as false/NULL:"
for f in $(lib_files h); do
    awk -v f="$f" '
        /^\/\*/ { com = "" ; inc = 1 }
        inc { com = com " " $0; if ($0 ~ /\*\//) { inc = 0; keep = 1 }; next }
        keep && /^(const )?[a-z_0-9]+( [a-z_0-9]+)* \*+[a-z_0-9]+\(|^bool [a-z_0-9]+\(/ {
            name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
            n = split(com, sent, /[.;]/)
            for (i = 1; i <= n; i++)
                if (sent[i] ~ /(NULL|false)([^:]|$)/ &&
                    sent[i] ~ /invalid|damaged|cannot|not read|missing|absent|not registered|fails|error/) {
                    print f ":" name; break }
        }
        !/^[ \t]/ { keep = 0 }' "$f"
done | awk '{ print } END { print "bool/pointer returners with failure as false/NULL: " NR }'
