# bench/profiles.sh — the data sets of bench/run.sh, one per profile:
# where each lives, how it is brought to its base state, how it is mutated,
# and how a restored copy is checked against it. Sourced by run.sh, whose
# WORK, GEN, SEED, SIZE, FILES, SYSTREE_SRC, MUTATION, LOGDIR and helpers
# (log, die, safe_rm, mass_delete) it uses.
# shellcheck shell=bash disable=SC2034,SC2153  # variables set here are read by run.sh, and the reverse

PROFILES_KNOWN="hospital smallfiles systree folders million source"
STEPS_ALL="read initial nochange mutated restore verify"

# profile_select NAME — sets PROFILE, DATA, MARKER, PROFILE_STEPS (the
# default steps) and CHECK_KIND (diff, or fast for trees too big for diff -rq).
profile_select() {
    PROFILE=$1
    PROFILE_STEPS=$STEPS_ALL
    CHECK_KIND="diff"
    local gen_src
    gen_src=$(cat "$SCRIPT_DIR"/gen-data.c "$SCRIPT_DIR"/gen-*.h | sha256sum | cut -c1-16)
    case $PROFILE in
    hospital)
        # $WORK/data, as before profiles existed: a generated set stays usable.
        DATA=$WORK/data
        MARKER="$("$GEN" info --seed "$SEED" --size "$SIZE") gen=$gen_src" ;;
    smallfiles | folders | million | source)
        DATA=$WORK/data-$PROFILE
        local files=()
        [[ -n $FILES ]] && files=(--files "$FILES")
        MARKER="$("$GEN" info --profile "$PROFILE" --seed "$SEED" "${files[@]}") gen=$gen_src"
        if [[ $PROFILE == million ]]; then
            # A full read of every byte of a million files takes long: opt in.
            PROFILE_STEPS="read initial nochange mutated restore"
            CHECK_KIND=fast
        fi ;;
    systree)
        DATA=$WORK/data-systree
        # Copied once; the copy is kept while the source list is the same.
        MARKER="systree copy of $SYSTREE_SRC" ;;
    *) die "unknown profile $PROFILE (choose from ${PROFILES_KNOWN// /,})" ;;
    esac
}

# Arguments of gen-data for the current generated profile.
gen_args() {
    case $PROFILE in
    hospital) GEN_ARGS=(--seed "$SEED" --size "$SIZE") ;;
    *) GEN_ARGS=(--profile "$PROFILE" --seed "$SEED")
        if [[ -n $FILES ]]; then GEN_ARGS+=(--files "$FILES"); fi ;;
    esac
}

# Brings $DATA to the base state: made once, reused when the marker matches,
# reverted after a mutation.
data_base() {
    if [[ ! -d $DATA || $(cat "$DATA.marker" 2>/dev/null) != "$MARKER" ]]; then
        if [[ -e $DATA ]]; then mass_delete "$DATA"; fi
        rm -f "$DATA.marker"
        if [[ $PROFILE == systree ]]; then
            systree_copy
        else
            gen_args
            log "generating the $PROFILE data set (${GEN_ARGS[*]}) in $DATA"
            "$GEN" generate "${GEN_ARGS[@]}" "$DATA"
        fi
        printf '%s\n' "$MARKER" >"$DATA.marker"
        echo base >"$DATA.state"
    elif [[ $(cat "$DATA.state" 2>/dev/null) != base ]]; then
        log "reverting the $PROFILE data set to its base state"
        if [[ $PROFILE == systree ]]; then
            systree_revert
        else
            gen_args
            "$GEN" sync "${GEN_ARGS[@]}" "$DATA"
        fi
        echo base >"$DATA.state"
    fi
}

data_mutate() {
    echo mutated >"$DATA.state"
    if [[ $PROFILE == systree ]]; then
        systree_mutate
    else
        gen_args
        "$GEN" mutate "${GEN_ARGS[@]}" --step "$MUTATION" "$DATA"
    fi
}

data_bytes() { find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# Sets DATA_FILES, DATA_DIRS, DATA_OTHER (links and the like), DATA_SIZE
# (bytes in files) and DATA_DISK (bytes allocated) of the base state.
data_stats() {
    read -r DATA_FILES DATA_DIRS DATA_OTHER DATA_SIZE < <(find "$DATA" -printf '%y %s\n' | awk '
        $1 == "f" { f++; b += $2; next } $1 == "d" { d++; next } { o++ }
        END { printf "%d %d %d %.0f\n", f, d, o, b }')
    DATA_DISK=$(du -sB1 "$DATA" | cut -f1)
}

# ------------------------------------------------------------ systree

# A real system tree: the directories of SYSTREE_SRC copied with cp -a, their
# absolute paths kept below $DATA (data-systree/usr/share, ...). It depends on
# the machine, which is why the results record its size and file count.
systree_copy() {
    local src
    mkdir -p "$DATA"
    for src in $SYSTREE_SRC; do
        [[ -d $src ]] || die "systree: $src is not a directory"
        log "copying $src into $DATA (cp -a, once)"
        # Files the copy cannot read are left out, with cp's message; the
        # checks compare restores with this copy, not with the source.
        cp -a --parents "$src" "$DATA/" || log "WARNING: cp -a $src was incomplete (see above)"
    done
    sync
}

# Touches or rewrites about 1 % of the regular files (a third each: new mtime
# only, a line appended, 64 bytes overwritten in place at the same size) and
# adds 100 small notes in new folders. The originals are kept in
# $WORK/systree-undo first, so the revert needs neither the source nor a
# second copy of the tree.
systree_mutate() {
    local undo=$WORK/systree-undo added=$DATA/bench-added f i=0 size
    local -a files sel=()
    safe_rm "$undo"
    mkdir -p "$undo"
    mapfile -d '' -t files < <(cd "$DATA" && find . -path ./bench-added -prune -o -type f -print0 | LC_ALL=C sort -z)
    RANDOM=$((SEED * 1009 + MUTATION))  # the same choice for the same tree, seed and step
    for f in "${files[@]}"; do
        if ((RANDOM % 100 == 0)); then sel+=("$f"); fi
    done
    ((${#sel[@]})) || return 0
    (cd "$DATA" && printf '%s\0' "${sel[@]}" | xargs -0 cp -a --parents -t "$undo")
    for f in "${sel[@]}"; do
        f=$DATA/${f#./}
        case $((i++ % 3)) in
        0) touch -m -- "$f" ;;
        1) printf 'bench mutation %s\n' "$MUTATION" >>"$f" ;;
        2) size=$(stat -c %s -- "$f")
           if ((size >= 64)); then
               printf 'bench mutation %-48s\n' "$MUTATION" |
                   dd of="$f" bs=1 seek=$((size / 2 - 32)) conv=notrunc status=none
           else touch -m -- "$f"; fi ;;
        esac
    done
    "$GEN" generate --profile folders --files 100 --seed $((SEED + MUTATION)) "$added" >/dev/null
    log "systree mutation $MUTATION: ${#sel[@]} of ${#files[@]} files touched or rewritten, 100 added"
}

systree_revert() {
    local undo=$WORK/systree-undo
    if [[ -d $undo ]]; then cp -a "$undo/." "$DATA/"; fi
    safe_rm "$DATA/bench-added" "$undo"
}

# -------------------------------------------------------------- checks

# check_restore DIR LOG — 0 when the restored tree DIR holds the data set
# exactly (structure, file bytes; the fast check also modes and file mtimes),
# else 1 with the differences in LOG. Untimed.
check_restore() {
    local dir=$1 out=$2
    case $CHECK_KIND in
    diff) diff -rq --no-dereference "$DATA" "$dir" >"$out" 2>&1 ;;
    fast)
        # A million files are too many for diff -rq to be bearable: compare
        # the sorted listings (type, path, size, mode, mtime) and one sha256
        # over every file's bytes in path order, so a wrong byte anywhere or
        # a swapped file shows. The data side is computed once per round.
        if [[ ${DATA_DIGEST_ROUND:-} != "$PROFILE-$ROUND" ]]; then
            tree_listing "$DATA" >"$LOGDIR/data-$PROFILE-r$ROUND.list"
            DATA_DIGEST=$(tree_content_digest "$DATA")
            DATA_DIGEST_ROUND=$PROFILE-$ROUND
        fi
        local digest
        [[ -d $dir ]] || { echo "no restored tree at $dir" >"$out"; return 1; }
        tree_listing "$dir" >"$out.list"
        digest=$(tree_content_digest "$dir")
        if ! diff "$LOGDIR/data-$PROFILE-r$ROUND.list" "$out.list" >"$out"; then return 1; fi
        if [[ $digest != "$DATA_DIGEST" ]]; then
            echo "file contents differ: sha256 $digest, data set $DATA_DIGEST" >"$out"
            return 1
        fi
        rm -f "$out.list" ;;
    esac
}

tree_listing() {
    (cd "$1" && find . -mindepth 1 \( -type f -printf 'f %P %s %m %T@\n' \) -o -printf '%y %P\n' | LC_ALL=C sort)
}

tree_content_digest() {
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r cat | sha256sum | cut -d' ' -f1)
}
