# bench/days.sh — what bench/stream.sh, bench/remote.sh and
# bench/remote-tree.sh share: steps of several days, timed per tool in
# rotated rounds, and the medians. Sourced; the caller sets WORK and ROUNDS
# (and DAYS, the steps' names: "day1 day2" when unset) and defines run_tool
# TOOL, which times each step with `timed "TOOL STEP" COMMAND...` and ends
# with `repo_size TOOL DIR`.

# LABEL COMMAND...: the whole process timed (wall, user, sys, peak RSS).
timed() {
    /usr/bin/time -f "$1 %e %U %S %M" "${@:2}" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    tail -n 1 "$WORK/err" | tee -a "$WORK/results"
}

# TOOL DIR: the repository's bytes after the last step, without bkp's
# folders of this server's own (cache/, locks/: a copy does not carry them,
# and restic's and borg's caches are outside their repositories too).
repo_size() {
    echo "$1 repo $(du -sb --exclude="$2/cache" --exclude="$2/locks" "$2" | cut -f1)" | tee -a "$WORK/results"
}

# Every round runs the tools (TOOLS, default bkp restic borg) in a rotated
# order; then the medians (wall s, user+sys s, peak MiB) of each tool's
# steps, min and max of the wall times, and its repository's size.
days_run() {
    local order i k tool d
    read -r -a order <<<"${TOOLS:-bkp restic borg}"
    : >"$WORK/results"
    for ((i = 0; i < ROUNDS; i++)); do
        echo "== round $((i + 1))"
        for ((k = 0; k < ${#order[@]}; k++)); do run_tool "${order[(i + k) % ${#order[@]}]}"; done
    done
    echo "== medians (wall s [min-max], user+sys s, peak MiB; repository MB after the last step)"
    for tool in "${order[@]}"; do
        for d in ${DAYS:-day1 day2}; do
            awk -v k="$tool $d" '$1" "$2 == k { w[n + 0] = $3; c[n + 0] = $4 + $5; m[n++ + 0] = $6 }
                function med(a, n,   i, j, t) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
                    if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int(n / 2)] }
                END { x = med(w, n); printf "%-6s %s  %6.2f [%.2f-%.2f]  %6.2f  %5.0f\n", k, "", x,
                      w[0], w[n - 1], med(c, n), med(m, n) / 1024 }' "$WORK/results"
        done
        awk -v t="$tool" '$1 == t && $2 == "repo" { b[n++] = $3 }
            END { printf "%-6s repo  %.0f MB\n", t, b[0] / 1e6 }' "$WORK/results"
    done
}
