/*
 * key_prompt.c — `--key-from -`: the key sheets typed at the terminal, line by
 * line, for the day the sheets are on paper and nothing can scan them. Each
 * line is checked as it is typed (bkp/keys/sheet.h, bkp_sheet_entry): a mistake is
 * named on its line and only that line is typed again. Sheets are asked for
 * until one paper sheet or K shares are in.
 *
 * Why standard input and not /dev/tty: the person typing is the one who ran
 * the command; a terminal is demanded so that a pipe or a file cannot stand in
 * for someone reading the paper (files go through --key-from FILE). Why
 * read(2) a byte at a time: stdio would keep a copy of the typed secret in a
 * buffer of its own; every byte typed goes straight into guarded memory.
 * Echo stays on: the characters are on the paper in front of the typist, and
 * seeing them is what lets them compare a line before pressing Enter.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/sheet.h"

#define LINE_MAX_TYPED 256

/* A message for the typist on stderr (stdout may carry --json): English, and
 * Japanese too under a Japanese locale. */
static void say(const char *en, const char *ja, ...)
{
    va_list ap;
    va_start(ap, ja);
    vfprintf(stderr, bkp_i18n_reader_japanese() ? ja : en, ap);
    va_end(ap);
    fflush(stderr);
}

/* One line from standard input into `buf` (guarded), without its newline:
 * its length, or -ENODATA at the end of the input. A line longer than the
 * buffer is read to its end and comes back cut (it fails its check). */
static ssize_t read_line(char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t k = read(STDIN_FILENO, &ch, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return n ? (ssize_t)n : -ENODATA;
        if (ch == '\n')
            return (ssize_t)n;
        if (n < cap - 1)
            buf[n++] = ch;
        ch = 0;
    }
}

/* May `h` (a header just typed) join the sheets `s[0..n-1]`? True, or
 * false with why not said. */
static bool joins(const bkp_sheet *s, int n, const bkp_sheet *h)
{
    bool again = false;
    for (int i = 0; i < n; i++)
        again |= s[i].index == h->index;
    if (n == 0)
        return true;
    if (h->kind == BKP_SHEET_PAPER || s[0].kind == BKP_SHEET_PAPER)
        say("  Not taken: a paper sheet is used alone; type share sheets only.\n",
            "  受け付けません: 鍵シートは 1 "
            "枚だけで使います。分割シートだけを入力してください。\n");
    else if (memcmp(h->repo_id, s[0].repo_id, sizeof(h->repo_id)))
        say("  Not taken: this share is of another repository than the first.\n",
            "  受け付けません: 最初のシートとは別のリポジトリの分割シートです。\n");
    else if (h->n != s[0].n || h->k != s[0].k)
        say("  Not taken: this share is of another split (its OF and NEED differ from the "
            "first).\n",
            "  受け付けません: 別の分割のシートです（OF と NEED が最初のシートと違います）。\n");
    else if (again)
        say("  Not taken: a share numbered %d was typed already; type another one (a sheet of "
            "another split with that number does not go with these either).\n",
            "  受け付けません: 番号 %d の分割シートは入力済みです。別のシートを入力してください"
            "（同じ番号の別の分割のシートも、これらとは組み合わせられません）。\n",
            h->index);
    else
        return true;
    return false;
}

/* How many sheets open the key, given the first. */
static int wanted(const bkp_sheet *first)
{
    return first->kind == BKP_SHEET_PAPER ? 1 : first->k;
}

/* What to type again after line `next` was not taken (-EBADMSG). */
static void say_mistake(const bkp_sheet_entry *e, int next)
{
    if (next == 0) {
        say("  That is not the BKP-SHEET line of a sheet, or it has a typing mistake; "
            "compare it with the paper and type it again.\n",
            "  シートの BKP-SHEET 行ではないか、入力の誤りがあります。用紙と見比べて、"
            "もう一度入力してください。\n");
    } else if (bkp_sheet_entry_next(e) == next &&
               bkp_sheet_entry_why(e).fault == BKP_SHEET_FAULT_SHORT) {
        bkp_sheet_why w = bkp_sheet_entry_why(e);
        say("  Line %d has %d characters, the paper's has %d: type the whole line, with the two "
            "check characters at its end.\n",
            "  %d 行目は %d 文字ですが、用紙では %d 文字です。行末の 2 文字の検査文字まで、"
            "行全体を入力してください。\n",
            next, w.got, w.want);
    } else if (bkp_sheet_entry_next(e) == next &&
               bkp_sheet_entry_why(e).fault == BKP_SHEET_FAULT_CHAR) {
        say("  Line %d holds a character a sheet never uses (only digits and the letters A to Z "
            "but U): compare it with the paper and type it again.\n",
            "  %d 行目に、シートでは使わない文字があります（使うのは数字と、U を除く A〜Z "
            "だけです）。用紙と見比べて、もう一度入力してください。\n",
            next);
    } else if (bkp_sheet_entry_next(e) == next) {
        say("  A typing mistake on line %d: compare that line with the paper and type it "
            "again.\n",
            "  %d 行目に入力の誤りがあります。用紙と見比べて、その行をもう一度入力して"
            "ください。\n",
            next);
    } else {
        say("  Every line checked, but the sheet's checksum (SUM on the BKP-SHEET line) does "
            "not: type the whole sheet again, beginning with its BKP-SHEET line.\n",
            "  各行は確認できましたが、シート全体の検査値（BKP-SHEET 行の SUM）が一致しません。"
            "BKP-SHEET 行からシート全体をもう一度入力してください。\n");
    }
}

int cli_key_prompt(bkp_sheet *s, int *n, int max)
{
    if (!isatty(STDIN_FILENO)) {
        bkp_error(_("--key-from -: the sheets are typed at a terminal, and standard input is not "
                    "one; give the sheets as files instead (--key-from FILE, once per sheet)"));
        return -EINVAL;
    }
    bkp_sheet_entry *e = bkp_sheet_entry_new();
    char *buf = sodium_malloc(LINE_MAX_TYPED);
    bkp_sheet *got = sodium_malloc(sizeof(*got));
    int rc = 0;
    if (!e || !buf || !got) {
        rc = -ENOMEM;
        goto out;
    }
    say("Type the key sheets from the safe, line by line as printed: first the line that begins "
        "with BKP-SHEET, then lines 1 to %d (the \"N:\" in front may be left out; spaces and case "
        "do not matter). Each line is checked when you press Enter; Ctrl-D stops, and nothing "
        "is opened.\n",
        "金庫の鍵シートを、印刷のとおり 1 行ずつ入力してください。最初に BKP-SHEET で始まる行、"
        "次に 1 〜 %d 行目です（行頭の「N:」は省略可、空白と大文字・小文字は問いません）。"
        "Enter を押すたびにその行を確認します。Ctrl-D で中止し、何も開きません。\n",
        BKP_SHEET_LINES);
    while (*n == 0 || *n < wanted(&s[0])) {
        int next = bkp_sheet_entry_next(e);
        if (next == 0)
            say("sheet %d, the BKP-SHEET line: ", "シート %d の BKP-SHEET 行: ", *n + 1);
        else
            say("  line %d: ", "  %d 行目: ", next);
        ssize_t len = read_line(buf, LINE_MAX_TYPED);
        if (len < 0) {
            bkp_error(_("--key-from -: the input ended before the sheets were complete; nothing "
                        "was opened"));
            rc = -EINVAL;
            goto out;
        }
        len = (ssize_t)bkp_sheet_halfwidth(buf, (size_t)len); /* the input method left on */
        rc = bkp_sheet_entry_add(e, buf, (size_t)len, got);
        sodium_memzero(buf, LINE_MAX_TYPED);
        if (rc == -EBADMSG) {
            say_mistake(e, next);
        } else if (rc == 1 && next == 0 && bkp_sheet_entry_next(e) > 0) { /* not a blank line */
            bkp_sheet h;
            (void)bkp_sheet_entry_header(e, &h);
            if (!joins(s, *n, &h)) {
                bkp_sheet_entry_reset(e);
            } else if (h.kind == BKP_SHEET_SHARE) {
                say("  share %d of %d; %d are needed.\n", "  分割シート %d/%d（必要数 %d）。\n",
                    h.index, h.n, h.k);
            }
        } else if (rc == 0) {
            if (*n >= max) {
                bkp_error(_("--key-from: at most %d sheets"), max);
                rc = -EINVAL;
                goto out;
            }
            s[(*n)++] = *got;
            sodium_memzero(got, sizeof(*got));
            say("  Sheet %d read.\n", "  シート %d を読み取りました。\n", *n);
        }
        rc = 0;
    }
    /* Shown as typed, so that a slip can be seen against the paper: the key
     * stays on the screen and in the terminal's scroll-back. */
    say("The sheets' lines are on this screen: when the work is done, clear it (`clear`) and "
        "close this terminal.\n",
        "入力したシートの行が画面に残っています。作業が終わったら画面を消去し（`clear`）、"
        "この端末を閉じてください。\n");
out:
    bkp_sheet_entry_free(e);
    if (buf)
        sodium_free(buf);
    if (got)
        sodium_free(got);
    return rc;
}
