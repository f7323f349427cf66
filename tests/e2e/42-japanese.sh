#!/usr/bin/env bash
# 42-japanese — with Japanese asked for (LANGUAGE=ja; LANG=ja_JP.UTF-8 where
# that locale is installed), what an operator reads comes from the message
# catalogue: `status`, `rotate`'s advice, errors (no repository, a wrong
# passphrase, an unknown generation, a refused restore, ls, verify, media and
# the policy's own with file:line; the libraries' own, with libc's words for
# a system error; the audit log's check; the files cache). English stays the
# default, and what programs read (--json) is never translated.
. "$(dirname "$0")/lib.sh"

DATA=$WORK/data
mkdir -p "$DATA" "$WORK/usb"
echo "カルテ" >"$DATA/a.txt"
cat >"$WORK/policy.yaml" <<YAML
repository: $WORK/repo
passphrase_file: $PASSFILE
rule_321: { copies: 2, media_types: 1, offline: 1, offsite: 0 }
media:
  - { name: usb, type: removable, path: $WORK/usb, offline: true, rotate_every: 7d }
datasets:
  - { name: emr, paths: [$DATA], copy_to: [usb] }
YAML
export BKP_POLICY=$WORK/policy.yaml
ok "$BKP" init
ok "$BKP" media label "$WORK/usb" --name usb
ok "$BKP" backup emr
ja() { LC_ALL= LANG=C.UTF-8 LANGUAGE=ja "$@"; }

ja ok "$BKP" rotate usb
output_has "複製しました" "rotate's report should be in Japanese"
output_has "を取り外せます" "rotate's advice should be in Japanese"
ja ok "$BKP" status
output_has "優先度" "status should be in Japanese"
output_has "世代" "status should be in Japanese"
# The 3-2-1 verdict's reasons and next step too (one generation is AT RISK).
output_has "保持している世代が 1 世代しかありません" "status's reasons should be in Japanese"
output_has "\`bkp backup emr\` を実行してください" "status's next step should be in Japanese"
ja expect_exit 5 "$BKP" generations --repo "$WORK/no-repo"
output_has "リポジトリがありません" "a missing repository should be said in Japanese"
printf 'not it\n' >"$WORK/wrong" && chmod 600 "$WORK/wrong"
ja expect_exit 4 "$BKP" generations --passphrase-file "$WORK/wrong"
output_has "パスフレーズが違います" "a wrong passphrase should be said in Japanese"
# The libraries' own errors too: a folder for a new repository that is not
# empty; a copy without its key file, the cause in libc's own words.
mkdir -p "$WORK/full" && echo x >"$WORK/full/x"
ja expect_exit 2 "$BKP" init --repo "$WORK/full"
output_has "$WORK/full は空ではありません。リポジトリには新しいか空のディレクトリを指定してください" \
    "the library's error about a non-empty folder should be in Japanese"
cp -a "$WORK/repo" "$WORK/nokey" && rm -f "$WORK/nokey/keys/key"
ja expect_exit 2 "$BKP" generations --repo "$WORK/nokey"
output_has "鍵ファイル $WORK/nokey/keys/key を読めません" "the library's error about a key file should be in Japanese"
output_has "そのようなファイルやディレクトリはありません" "the cause should be in libc's Japanese (libc-l10n)"
# No passphrase from anywhere (no file, no command, no terminal).
ja expect_exit 2 env -u BKP_POLICY -u BKP_PASSPHRASE_FILE setsid -w "$BKP" generations \
    --repo "$WORK/repo" </dev/null
output_has "パスフレーズがありません" "a missing passphrase should be said in Japanese"
output_has "--passphrase-file FILE" "the Japanese keeps the option to give"
ja expect_exit 2 "$BKP" ls emr:99
output_has "はありません" "an unknown generation should be said in Japanese"
# Errors of restore, ls, verify, media and the policy's own, each with what to do next.
mkdir -p "$WORK/target" && echo x >"$WORK/target/x"
ja expect_exit 2 "$BKP" restore emr:latest "$WORK/target"
output_has "は空ではありません" "a restore into a non-empty folder should be refused in Japanese"
output_has "--force" "the Japanese keeps the option names"
output_has "bkp: エラー: " "the level of a message should be in Japanese too"
# A refusal of strict mode is one whole sentence in Japanese (never English
# pieces glued around a translated word), and the same sentence in English.
chmod 664 "$WORK/policy.yaml"
ja expect_exit 2 "$BKP" status
output_has "ポリシー $WORK/policy.yaml はグループや他のユーザーが書き込めます（モード 0664）。" \
    "a policy others may change should be refused in Japanese"
output_has "\`chmod go-w $WORK/policy.yaml\` を実行してからやり直してください" \
    "the Japanese refusal keeps the command to run"
! grep -q "so others could" <<<"$ERR" || flunk "the Japanese refusal has English pieces: $ERR"
LC_ALL= LANG=C.UTF-8 expect_exit 2 "$BKP" status
output_has "policy $WORK/policy.yaml is writable by group or others (mode 0664), so others could change the commands bkp runs" \
    "the refusal's English wording is kept"
chmod 644 "$WORK/policy.yaml"
ja expect_exit 1 "$BKP" ls emr:latest /no/such/path
output_has "には何もありません" "ls of a missing path should be said in Japanese"
output_has "bkp ls emr:latest" "the Japanese keeps the command to run"
ja expect_exit 2 "$BKP" verify --sample 200
output_has "0 から 100" "verify's usage error should be in Japanese"
ja expect_exit 2 "$BKP" media show nosuch
output_has "nosuch という名前の媒体はありません" "an unknown medium should be said in Japanese"
printf 'repository: relative/repo\ndatasets:\n  - { name: emr, paths: [data] }\n' >"$WORK/bad.yaml"
ja expect_exit 2 "$BKP" policy check --policy "$WORK/bad.yaml"
output_has "bad.yaml:1: 'repository: relative/repo' は絶対パスではありません" \
    "a policy error should keep file:line and the key, and be in Japanese"
output_has "問題が 2 件あります" "the policy's summary should be in Japanese"
LC_ALL= LANG=C.UTF-8 expect_exit 2 "$BKP" restore emr:latest "$WORK/target"
output_has "is not empty" "restore's errors should be in English without Japanese asked for"
output_has "bkp: error: " "the level should be in English without Japanese asked for"
# Programs read the same JSON in any language.
ja ok "$BKP" status --json
grep -q '"verdict"' <<<"$OUT" && ! grep -q '優先度' <<<"$OUT" || flunk "status --json was translated: $OUT"
output_has "only 1 generation kept" "status --json keeps its reasons in English"
! grep -q '"shown"' <<<"$OUT" || flunk "status --json carries the text for people: $OUT"
# English by default.
LC_ALL= LANG=C.UTF-8 ok "$BKP" status
output_has "priority" "status should be in English without Japanese asked for"
output_has "only 1 generation kept" "status's reasons should be in English without Japanese asked for"
# Times for people are local, with the zone shown.
if [ -e /usr/share/zoneinfo/Asia/Tokyo ]; then
    TZ=Asia/Tokyo ja ok "$BKP" status
    grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} JST' <<<"$OUT" ||
        flunk "status should show local times with their zone (JST): $OUT"
fi

# Help in Japanese: every summary and option, wrapped to 79 terminal columns
# (a wide character takes two), the forms of a command aligned under the first.
for cmd in "" init backup restore rotate key verify drill; do
    ja "$BKP" $cmd --help >"$WORK/help" 2>&1 || flunk "bkp $cmd --help failed in Japanese"
    python3 - "$WORK/help" "$cmd" <<'PY' || flunk "bkp $cmd --help in Japanese: $(cat "$WORK/help")"
import sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read()
width = lambda s: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
wide = [l for l in text.splitlines() if width(l) > 79]
assert not wide, f"wider than 79 columns: {wide}"
assert ("コマンド:" if not sys.argv[2] else "オプション:") in text, "headings not in Japanese"
if not sys.argv[2]:  # the options every command takes: said once, by `bkp help`
    assert "どのコマンドにも使えるオプション" in text
    assert "ポリシー（または $BKP_POLICY" in text, "option help not in Japanese"
else:
    flat = "".join(text.split())  # wherever the line was wrapped
    assert "どのコマンドでも" in flat and "`bkphelp`" in flat, "the pointer to bkp help"
    assert "どのコマンドにも使えるオプション" not in text, "the global options are said once"
# The wrapped lines of a summary or option stay inside its column.
for l in text.splitlines():
    if l.startswith(" ") and l.strip() and not l.lstrip().startswith("-"):
        assert l.startswith("  "), l
if sys.argv[2] == "key":
    usage = text.split("\n例:")[0]  # the forms, not the examples
    forms = [l for l in usage.splitlines() if l.strip().startswith("bkp key") or l.startswith("使い方")]
    col = width(forms[0].split("bkp key")[0])
    assert all(width(f.split("bkp key")[0]) == col for f in forms), forms
PY
done
# A usage error says its level as every other error does.
ja check_exit 2 "$BKP" rotate usb --bogus || true
output_has "bkp: エラー: rotate はオプション" "a usage error's level should be in Japanese"
# Tables for people: headings and words in Japanese, --json unchanged.
ja ok "$BKP" generations
output_has "完了日時" "generations' headings should be in Japanese"
output_has "封印済み" "generations' status should be in Japanese"
ja ok "$BKP" generations --json
output_has '"status": "sealed"' "generations --json keeps its English words"
ja ok "$BKP" media list
output_has "最終書き込み" "media list's headings should be in Japanese"
ja ok "$BKP" audit show
output_has "日時 (" "audit show's headings should be in Japanese"
output_has "成功" "audit show's results should be in Japanese"
# A time among a record's figures (the rotation's captured=) is the
# server's local time, as the TIME column is, never the log's UTC.
TZ=Asia/Tokyo ja ok "$BKP" audit show
grep -q 'captured={emr=[0-9-]*T[0-9:]*} ' <<<"$OUT" || flunk "audit show should give a figure's time in local time: $OUT"
grep -q 'captured=[^ ]*Z' <<<"$OUT" && flunk "audit show gave a figure's time in UTC: $OUT"
# A restore refused for a target in use: its reason in Japanese, not errno's English.
output_has "復元先が空ではありませんでした" "a refused restore's reason should be in Japanese"
grep -q "File exists" <<<"$OUT" && flunk "audit show gave a refused restore's reason as errno's English: $OUT"
ja ok "$BKP" prune --dry-run
output_has "残す" "prune's plan should be in Japanese"
# Every command's help ends with at least one real example, in both
# languages, no line wider than 80 terminal columns.
for cmd in $("$BKP" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'); do
    for lang in ja en; do
        LC_ALL= LANG=C.UTF-8 LANGUAGE=$([ $lang = ja ] && echo ja || echo en) \
            "$BKP" help "$cmd" >"$WORK/help" 2>&1 || flunk "bkp help $cmd failed ($lang)"
        python3 - "$WORK/help" "$cmd" "$lang" <<'PY' || flunk "bkp help $cmd ($lang): $(cat "$WORK/help")"
import sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read()
width = lambda s: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
wide = [l for l in text.splitlines() if width(l) > 80]
assert not wide, f"wider than 80 columns: {wide}"
head = "例:" if sys.argv[3] == "ja" else "examples:"
assert head in text, "no examples"
after = text.split(head, 1)[1].splitlines()
assert any(l.startswith("  bkp " + sys.argv[2]) for l in after), "no example of the command"
PY
    done
done
ja ok "$BKP" help key
output_has "無人実行用の新しいスロット" "bkp help key should be in Japanese"
LC_ALL= LANG=C.UTF-8 ok "$BKP" help key
output_has "a new slot for unattended runs" "help should be in English without Japanese asked for"

# At a terminal whose locale names no language (a fresh machine's console,
# LANG=C.UTF-8), a policy's language, as in a logged session; a terminal
# that asks for a language (LANG=en_US, or LC_ALL=C) keeps it; the kernel's
# console (TERM=linux), which draws no kanji, keeps English.
if command -v script >/dev/null; then
    printf 'language: ja\nrepository: %s\ndatasets:\n  - { name: emr, paths: [%s] }\n' \
        "$WORK/repo" "$DATA" >"$WORK/ja-policy.yaml"
    chmod 600 "$WORK/ja-policy.yaml"
    on_term() { # on_term ENV...: `bkp policy check` on a terminal with ENV
        env -u LANGUAGE -u LC_ALL -u LC_MESSAGES "$@" \
            script -qec "'$BKP' policy check --policy '$WORK/ja-policy.yaml'" /dev/null </dev/null | tr -d '\r'
    }
    grep -q "^ポリシー " <<<"$(on_term LANG=C.UTF-8 TERM=xterm)" ||
        flunk "a C.UTF-8 terminal should read the policy's language: $(on_term LANG=C.UTF-8 TERM=xterm)"
    grep -q "^policy " <<<"$(on_term LANG=en_US.UTF-8 TERM=xterm)" || flunk "LANG=en_US should keep English"
    grep -q "^policy " <<<"$(on_term LANG=en_US.UTF-8 LC_ALL=C TERM=xterm)" || flunk "LC_ALL=C should keep plain messages"
    grep -q "^policy " <<<"$(on_term LANG=C.UTF-8 TERM=linux)" || flunk "the kernel's console should keep English"
fi

# Under cron (no locale, umask 077) with the policy's `language: ja`: libc's
# own texts in Japanese (or English), never question marks; a data set that
# could read none of its paths says so, not "No such file".
printf 'language: ja\nrepository: %s\npassphrase_file: %s\ndatasets:\n  - { name: gone, paths: [%s], schedule: hourly }\n' \
    "$WORK/repo" "$PASSFILE" "$WORK/nothing-here" >"$WORK/cron-policy.yaml"
chmod 600 "$WORK/cron-policy.yaml"
expect_exit 1 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" \
    sh -c "umask 077; exec '$BKP' run --policy '$WORK/cron-policy.yaml'"
output_has "どのパスも読めませんでした"
output_lacks "???"
# The same under --json, past the day of setting up (a test build's clock):
# its document is English, the verdict's alert on the terminal Japanese.
if "$BKP" --version | grep -q 'test clock'; then
    sed "s|$WORK/repo|$WORK/repo-json|" "$WORK/cron-policy.yaml" >"$WORK/cron-json.yaml"
    chmod 600 "$WORK/cron-json.yaml"
    ok "$BKP" init --policy "$WORK/cron-json.yaml"
    expect_exit 1 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" BKP_NOW=$(($(date +%s) + 3 * 86400)) \
        sh -c "umask 077; exec '$BKP' run --json --policy '$WORK/cron-json.yaml'"
    grep -q '"dataset": "gone"' <<<"$OUT" || flunk "run --json should keep its document: $OUT"
    grep -q "gone は 不適合 です" <<<"$ERR" || flunk "the verdict's alert should be in Japanese: $ERR"
    grep -q "no generation of gone" <<<"$ERR" && flunk "the verdict's reason should be in Japanese under --json: $ERR"
fi
grep -q "nothing-here: \(そのような\|No such\)" <<<"$ERR" || flunk "the missing path's reason should read: $ERR"

# bkp run's table on a terminal: its headings, results and details in Japanese,
# the columns aligned by terminal width; --json keeps its English words.
if command -v script >/dev/null; then
    echo "カルテ 2" >"$DATA/b.txt"
    TTY=$(LC_ALL= LANG=C.UTF-8 LANGUAGE=ja TZ=Asia/Tokyo BKP_POLICY=$BKP_POLICY \
        script -qec "'$BKP' run --force" /dev/null </dev/null | sed 's/\r$//; s/.*\r//; s/\x1b\[K//g')
    grep -q "^データセット *世代 *結果 *詳細" <<<"$TTY" || flunk "run's table headings in Japanese: $TTY"
    grep -Eq "^emr +[0-9]+ +封印済み +[0-9.]+ 秒、新規 " <<<"$TTY" || flunk "run's row in Japanese: $TTY"
    python3 - "$TTY" <<'PY' || flunk "run's table columns are not aligned: $TTY"
import sys, unicodedata
width = lambda s: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in sys.argv[1].splitlines() if l.startswith(("データセット", "emr "))]
head, row = rows[0], rows[1]
col = lambda l, word: width(l[: l.index(word)])
assert col(head, "結果") == col(row, "封印済み") == 28, (head, row)
PY
    # The progress line of verify on a terminal.
    TTY=$(LC_ALL= LANG=C.UTF-8 LANGUAGE=ja BKP_POLICY=$BKP_POLICY \
        script -qec "'$BKP' verify --read-data" /dev/null </dev/null | tr -d '\r')
    if grep -q "verifying" <<<"$TTY"; then flunk "verify's progress should be in Japanese: $TTY"; fi
    ja ok "$BKP" run --force --json
    grep -q '"result": "sealed"' <<<"$OUT" || flunk "run --json must keep its English words: $OUT"
fi

# What verify finds, in Japanese on the screen and in English for programs:
# a copy of the repository with a byte of a pack flipped.
cp -a "$WORK/repo" "$WORK/damaged"
pack=$(packs_of "$WORK/damaged" | head -n 1)
chmod u+w "$pack"
flip_byte "$pack" 200
ja expect_exit 1 "$BKP" verify --read-data --repo "$WORK/damaged"
output_has "パック $(basename "$pack") には破損したブロブが" "a damaged pack found by verify should be said in Japanese"
ja expect_exit 1 "$BKP" verify --read-data --repo "$WORK/damaged" --json
output_has "damaged blob(s) of" "verify --json keeps its problems in English"

# What the audit log's check finds, in Japanese for people and in English for
# programs: a copy of the repository with one record of its log altered.
cp -a "$WORK/repo" "$WORK/altered"
sed -i '0,/"op":"backup"/s//"op":"bockup"/' "$WORK/altered/audit/log.jsonl"
ja expect_exit 1 "$BKP" audit verify --repo "$WORK/altered"
output_has "bkp: エラー: 監査ログ $WORK/altered/audit/log.jsonl: 記録 " \
    "an altered audit log should be said in Japanese"
output_has "にはこのリポジトリの鍵による署名がありません（編集または偽造されています）" \
    "the audit log's problem should be in Japanese"
! grep -q "is not signed" <<<"$ERR" || flunk "the audit log's problem has English pieces: $ERR"
ja expect_exit 1 "$BKP" audit verify --repo "$WORK/altered" --json
output_has "is not signed by this repository's key (edited or forged)" \
    "audit verify --json keeps its problem in English"
grep -q '"code": *"wrong_signature"' <<<"$OUT" ||
    flunk "audit verify --json should give the problem's code beside its English: $OUT"
LC_ALL= LANG=C.UTF-8 expect_exit 1 "$BKP" audit verify --repo "$WORK/altered"
output_has "is not signed by this repository's key (edited or forged)" \
    "the audit log's problem should be in English without Japanese asked for"

# The files cache made unreadable: the backup warns in Japanese, and its
# --json keeps the English.
cache=$WORK/repo/cache/files-emr
[ -f "$cache" ] || fail "no files cache at $cache"
rm -f "$cache" && head -c 16 /dev/urandom >"$cache"
ja ok "$BKP" backup emr --json
grep -q "emr のファイルキャッシュは使えません: 古い版か、壊れています。" <<<"$ERR" ||
    flunk "the files cache's warning should be in Japanese: $ERR"
output_has '"files_cache_problem": "it is of an older version, or damaged"' \
    "backup --json keeps the files cache's problem in English"

finish
