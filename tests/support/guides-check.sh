#!/usr/bin/env bash
# guides-check.sh BKP FILE... — every `bkp …` command line of the operator
# guides names a command, a verb and options the program has.
#
# From the fenced code blocks of each Markdown FILE (not yaml blocks), the
# command lines are taken: in a block with `$ ` prompts only the prompted
# lines (the rest is output), in other blocks every line; outside the blocks,
# each code span of one line that starts with `bkp `. A line counts when
# `bkp` (or `./bkp`) is its command: first, after `sudo` or VAR=value, or after
# `&&`, `;` or `|`. Then:
#   - the command must be one `bkp --help` lists (or `help`);
#   - where `bkp CMD --help` shows verbs (`bkp key add`, `bkp audit verify`),
#     the word after CMD must be one of them;
#   - every `--option` and `-o`-style option must appear in `bkp CMD --help`
#     or among the options every command takes (`bkp --help`).
# Placeholders are skipped: a command or verb in capitals (`bkp COMMAND`), `…`.
# Prints one line per problem (FILE:LINE: what) and exits 1 if there is any.
set -uo pipefail
export LC_ALL=C

if [ $# -lt 2 ]; then
    echo "usage: guides-check.sh BKP FILE..." >&2
    exit 2
fi
BKP=$1
shift

CMDS=" help $("$BKP" --help | awk '/^commands:/{on=1; next} /^$/{on=0} on && /^  [a-z]/{printf "%s ", $1}')"
declare -A HELP=() VERBS=()
# The options every command takes, which `bkp --help` lists once.
GLOBAL=$("$BKP" --help | sed -n '/^options every command takes:/,/^$/p' |
    grep -oE -- '(^|[ ,[])--?[a-z][a-z-]*' | sed 's/^[ ,[]//' | sort -u | tr '\n' ' ')
for c in $CMDS; do
    [ "$c" = help ] && continue
    # What the help says the command has: its usage and options, not the
    # examples at its end (their arguments are not verbs).
    h=$("$BKP" "$c" --help 2>&1 | sed '/^examples:/,$d')
    HELP[$c]=" $(grep -oE -- '(^|[ ,[])--?[a-z][a-z-]*' <<<"$h" | sed 's/^[ ,[]//' | sort -u | tr '\n' ' ')$GLOBAL"
    VERBS[$c]=" $(awk -v c="$c" '($1=="usage:"||$1=="bkp") {for(i=1;i<NF;i++) if($i=="bkp" && $(i+1)==c && $(i+2) ~ /^[a-z][a-z-]*$/) printf "%s ", $(i+2)}' <<<"$h")"
done

# Print "LINE<TAB>TEXT" for every command line of the fenced blocks of FILE.
command_lines() {
    awk '
        function flush(   i) {
            for (i = 1; i <= n; i++)
                if (!prompted || substr(text[i], 1, 2) == "$ ")
                    print num[i] "\t" text[i]
            n = 0; prompted = 0
        }
        /^[ ]*```/ {
            if (infence) { if (!skip) flush(); infence = 0 }
            else { infence = 1; skip = ($0 ~ /```[ ]*(yaml|yml|json|ini)/) }
            next
        }
        infence && !skip { n++; num[n] = NR; text[n] = $0; if ($0 ~ /^\$ /) prompted = 1 }
        !infence {
            rest = $0
            while (match(rest, /`(\.\/)?bkp [^`]*`/)) {
                print NR "\t" substr(rest, RSTART + 1, RLENGTH - 2)
                rest = substr(rest, RSTART + RLENGTH)
            }
        }
    ' "$1"
}

PROBLEMS=0
problem() {
    echo "$1:$2: $3"
    PROBLEMS=$((PROBLEMS + 1))
}

# Check one command (its words after `bkp`) named on FILE:LINE.
check_command() {
    local file=$1 line=$2
    shift 2
    local cmd=${1:-}
    case $cmd in
    "" | *[A-Z…]* | -*) return ;;
    esac
    if [[ $CMDS != *" $cmd "* ]]; then
        problem "$file" "$line" "bkp $cmd: no such command (bkp --help)"
        return
    fi
    [ -n "${GUIDES_CHECK_TRACE:-}" ] && echo "$file:$line: bkp $*" >&2
    [ "$cmd" = help ] && return
    shift
    local verbs=${VERBS[$cmd]}
    if [ "$verbs" != " " ] && [ $# -gt 0 ] && [[ $1 != -* ]]; then
        case $1 in
        *[A-Z…]*) ;;
        *) [[ $verbs == *" $1 "* ]] ||
            problem "$file" "$line" "bkp $cmd $1: no such verb (bkp $cmd --help:$verbs)" ;;
        esac
    fi
    local w opt
    for w in "$@"; do
        w=${w//[\[\]]/}
        case $w in
        --*) opt=${w%%=*} ;;
        -[a-zA-Z]) opt=$w ;;
        *) continue ;;
        esac
        [[ ${HELP[$cmd]} == *" $opt "* ]] ||
            problem "$file" "$line" "bkp $cmd $opt: no such option (bkp $cmd --help)"
    done
}

# Find each `bkp` in command position of TEXT and check what follows it.
check_line() {
    local file=$1 line=$2 text=$3
    text=${text#\$ }
    text=${text%%  #*}
    text=${text%% # *}
    text=${text//&&/ ; }
    text=${text//|/ ; }
    text=${text//;/ ; }
    local -a words
    read -ra words <<<"$text" || true
    local i=0 start=1 args
    while [ $i -lt ${#words[@]} ]; do
        local w=${words[$i]}
        if [ "$w" = ";" ]; then
            start=1
        elif [ $start = 1 ]; then
            case $w in
            sudo | *=*) ;;
            bkp | ./bkp)
                args=()
                local j=$((i + 1))
                while [ $j -lt ${#words[@]} ] && [ "${words[$j]}" != ";" ]; do
                    args+=("${words[$j]}")
                    j=$((j + 1))
                done
                check_command "$file" "$line" "${args[@]}"
                start=0
                ;;
            *) start=0 ;;
            esac
        fi
        i=$((i + 1))
    done
}

for f in "$@"; do
    while IFS=$'\t' read -r n text; do
        check_line "$f" "$n" "$text"
    done < <(command_lines "$f")
done
if [ $PROBLEMS -gt 0 ]; then
    echo "$PROBLEMS command line(s) of the guides name what bkp does not have" >&2
    exit 1
fi
