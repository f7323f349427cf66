/*
 * test_sheet.c — the paper encoding of a secret (bkp/keys/sheet.h).
 *
 * Proves that a sheet reads back to the same secret, whatever spaces, case
 * and blank lines the typist adds; that every single-character typing
 * mistake on every line is caught and located on that line; that two lines
 * swapped, a line left out and an edited header are caught; and that no
 * damaged sheet yields a secret.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/keys/sheet.h"

static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void make(bkp_sheet *s, bkp_sheet_kind kind)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    randombytes_buf(s->repo_id, sizeof(s->repo_id));
    randombytes_buf(s->secret, sizeof(s->secret));
    if (kind == BKP_SHEET_SHARE) {
        s->index = 4;
        s->n = 5;
        s->k = 3;
    }
}

static void round_trip(const bkp_sheet *s, const char *text)
{
    bkp_sheet back;
    int line = -1;
    assert_int_equal(bkp_sheet_parse(text, strlen(text), &back, &line), 0);
    assert_memory_equal(&back, s, sizeof(*s));
}

static void test_round_trip(void **state)
{
    char text[BKP_SHEET_TEXT_MAX];
    for (int kind = BKP_SHEET_PAPER; kind <= BKP_SHEET_SHARE; kind++) {
        for (int i = 0; i < 50; i++) {
            bkp_sheet s;
            make(&s, (bkp_sheet_kind)kind);
            assert_int_equal(bkp_sheet_format(&s, text), 0);
            round_trip(&s, text);
        }
    }
}

/* As a person types it: lower case, no labels, odd spacing, CR LF, blank lines. */
static void test_tolerant(void **state)
{
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX], typed[2 * BKP_SHEET_TEXT_MAX];
    make(&s, BKP_SHEET_SHARE);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    size_t o = 0;
    int skip_label = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            memcpy(typed + o, " \r\n\n\t\n", 6);
            o += 6;
            skip_label = 1;
            continue;
        }
        if (skip_label && *p == ':') { /* drop the "N:" label typed so far */
            while (o > 0 && typed[o - 1] != '\n')
                o--;
            skip_label = 0;
            continue;
        }
        if (*p == ' ')
            typed[o++] = ' ';
        typed[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    }
    typed[o] = '\0';
    round_trip(&s, typed);
}

/* The letters a sheet never prints read as the digits they look like: O as
 * 0, I and L as 1, in the lines and in the header's sum. */
static void test_look_alike_letters(void **state)
{
    (void)state;
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX];
    size_t swapped = 0;
    make(&s, BKP_SHEET_PAPER);
    memset(s.secret, 0, 4); /* "0000 000..." on the first line, and 1s: */
    memset(s.secret + 8, 0x84, 4);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    char *body = strchr(text, '\n') + 1, *sum = strstr(text, "SUM ");
    for (char *p = sum; p < body; p++)
        if (*p == '0' || *p == '1') {
            *p = *p == '0' ? 'O' : 'I';
            swapped++;
        }
    for (char *p = body; *p; p++) {
        if (*p == ':') /* the label stays a number */
            continue;
        if (p > body && p[-1] != '\n' && (*p == '0' || *p == '1') && p[1] != ':') {
            *p = *p == '0' ? 'o' : (swapped & 1 ? 'l' : 'I');
            swapped++;
        }
    }
    assert_true(swapped > 0);
    round_trip(&s, text);
}

/* The character positions of data line `line` (1..) that carry characters
 * (not the label, not spaces): their offsets into `at`. */
static size_t line_chars(char *text, int line, char **at)
{
    char *p = text;
    for (int l = 0; l < line; l++)
        p = strchr(p, '\n') + 1;
    char *e = strchr(p, '\n');
    p = strchr(p, ':') + 1;
    size_t n = 0;
    for (; p < e; p++)
        if (*p != ' ')
            at[n++] = p;
    return n;
}

static void expect_bad(const char *text, int want_line)
{
    bkp_sheet back;
    int line = -1;
    assert_int_equal(bkp_sheet_parse(text, strlen(text), &back, &line), -EBADMSG);
    assert_int_equal(line, want_line);
    static const bkp_sheet zero;
    assert_memory_equal(&back, &zero, sizeof(zero));
}

static void test_every_substitution(void **state)
{
    for (int round = 0; round < 3; round++) {
        bkp_sheet s;
        char text[BKP_SHEET_TEXT_MAX], *at[32];
        make(&s, round == 0 ? BKP_SHEET_PAPER : BKP_SHEET_SHARE);
        assert_int_equal(bkp_sheet_format(&s, text), 0);
        for (int line = 1; line <= 4; line++) {
            size_t n = line_chars(text, line, at);
            assert_true(n >= 6);
            for (size_t i = 0; i < n; i++) {
                char was = *at[i];
                /* Every other character of the alphabet, and the look-alikes
                 * that are not in it (but where they read as the very digit:
                 * test_look_alike_letters). */
                for (const char *c = ALPHABET; *c; c++) {
                    if (*c == was)
                        continue;
                    *at[i] = *c;
                    expect_bad(text, line);
                }
                for (const char *c = "ILOU"; *c; c++) {
                    if ((*c == 'O' && was == '0') || (*c != 'O' && *c != 'U' && was == '1'))
                        continue;
                    *at[i] = *c;
                    expect_bad(text, line);
                }
                *at[i] = was;
            }
        }
        round_trip(&s, text);
    }
}

static bkp_sheet_why why_of(const char *text)
{
    bkp_sheet back;
    bkp_sheet_why w;
    assert_int_equal(bkp_sheet_parse_why(text, strlen(text), &back, &w), -EBADMSG);
    return w;
}

/* What is wrong is said as a person would fix it: a line missing, a line
 * cut short (its check characters left off), a character no sheet has. */
static void test_faults(void **state)
{
    (void)state;
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX], other[BKP_SHEET_TEXT_MAX];
    make(&s, BKP_SHEET_PAPER);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    strcpy(other, text);
    *strstr(other, "4:") = '\0';
    bkp_sheet_why w = why_of(other);
    assert_int_equal(w.fault, BKP_SHEET_FAULT_MISSING);
    assert_int_equal(w.line, 4);
    /* Line 2 without its two check characters. */
    strcpy(other, text);
    char *l2 = strstr(other, "\n2:"), *end = strchr(l2 + 1, '\n');
    memmove(end - 3, end, strlen(end) + 1); /* " CC" off */
    w = why_of(other);
    assert_int_equal(w.fault, BKP_SHEET_FAULT_SHORT);
    assert_int_equal(w.line, 2);
    assert_int_equal(w.got, 16);
    assert_int_equal(w.want, 18);
    /* A U on line 3. */
    strcpy(other, text);
    char *l3 = strstr(other, "\n3:") + 4;
    while (*l3 == ' ')
        l3++;
    *l3 = 'U';
    w = why_of(other);
    assert_int_equal(w.fault, BKP_SHEET_FAULT_CHAR);
    assert_int_equal(w.line, 3);
    assert_int_equal(w.ch, 'U');
    /* A line too many. */
    strcpy(other, text);
    strcat(other, "5: 0000  00\n");
    w = why_of(other);
    assert_int_equal(w.fault, BKP_SHEET_FAULT_EXTRA);
    assert_int_equal(w.line, 5);
    /* One character changed: a typing mistake on its line. */
    strcpy(other, text);
    l3 = strstr(other, "\n3:") + 4;
    while (*l3 == ' ')
        l3++;
    *l3 = *l3 == '7' ? '8' : '7';
    w = why_of(other);
    assert_int_equal(w.fault, BKP_SHEET_FAULT_CHECK);
    assert_int_equal(w.line, 3);
}

/* Typed with a Japanese input method on: full-width digits, letters, colon
 * and spaces read as the plain ones. */
static void test_full_width(void **state)
{
    (void)state;
    char t[] = "\xef\xbc\x90\xef\xbc\x91\xef\xbc\xa1\xef\xbd\x82\xef\xbc\x9a\xe3\x80\x80x\xe3\x81\x82";
    size_t n = bkp_sheet_halfwidth(t, strlen(t));
    assert_int_equal(n, 7 + 3);
    assert_memory_equal(t, "01Ab: x\xe3\x81\x82", n); /* other characters as they were */
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX], wide[4 * BKP_SHEET_TEXT_MAX];
    make(&s, BKP_SHEET_SHARE);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    size_t o = 0;
    for (const char *p = text; *p; p++) {
        if (*p > ' ' && *p < 0x7f) { /* U+FF01 + (c - 0x21) */
            unsigned cp = 0xff01u + (unsigned)(*p - 0x21);
            wide[o++] = (char)(0xe0 | cp >> 12);
            wide[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
            wide[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (*p == ' ') {
            memcpy(wide + o, "\xe3\x80\x80", 3);
            o += 3;
        } else {
            wide[o++] = *p;
        }
    }
    o = bkp_sheet_halfwidth(wide, o);
    wide[o] = '\0';
    round_trip(&s, wide);
}

static void swap_lines(char *text, int a, int b, char *out)
{
    char *l[6];
    size_t len[6];
    char *p = text;
    for (int i = 0; i < 5; i++) {
        l[i] = p;
        p = strchr(p, '\n') + 1;
        len[i] = (size_t)(p - l[i]);
    }
    size_t o = 0;
    for (int i = 0; i < 5; i++) {
        int from = i == a ? b : i == b ? a : i;
        memcpy(out + o, l[from], len[from]);
        o += len[from];
    }
    out[o] = '\0';
}

static void test_swapped_and_missing_lines(void **state)
{
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX], other[BKP_SHEET_TEXT_MAX];
    make(&s, BKP_SHEET_PAPER);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    for (int a = 1; a <= 4; a++)
        for (int b = a + 1; b <= 4; b++) {
            swap_lines(text, a, b, other);
            expect_bad(other, a); /* labels kept: the label is wrong */
            /* Without the labels the checks find it too. */
            char bare[BKP_SHEET_TEXT_MAX];
            size_t o = 0;
            for (char *p = other; *p; p++) {
                if (*p == ':') {
                    while (o > 0 && bare[o - 1] != '\n')
                        o--;
                    continue;
                }
                bare[o++] = *p;
            }
            bare[o] = '\0';
            expect_bad(bare, a);
        }
    /* The last line left out. */
    strcpy(other, text);
    *strstr(other, "4:") = '\0';
    expect_bad(other, 4);
    /* A line too many. */
    strcpy(other, text);
    strcat(other, "5: 0000  00\n");
    expect_bad(other, 5);
}

static void test_header(void **state)
{
    bkp_sheet s;
    char text[BKP_SHEET_TEXT_MAX];
    make(&s, BKP_SHEET_SHARE);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    /* Another share number, another repository, a mistyped sum: the sheet's checksum. */
    char *p = strstr(text, "SHARE 4");
    p[6] = '2';
    expect_bad(text, 0);
    p[6] = '4';
    p = strstr(text, "REPO ") + 5;
    p[3] = p[3] == 'a' ? 'b' : 'a';
    expect_bad(text, 0);
    p[3] = 'x'; /* not hex */
    expect_bad(text, 0);
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    p = strstr(text, "SUM ") + 4;
    p[0] = p[0] == 'A' ? 'B' : 'A';
    expect_bad(text, 0);
    /* A threshold above the number of shares is no sheet. */
    s.k = 6;
    assert_int_equal(bkp_sheet_format(&s, text), -EINVAL);
    expect_bad("", 0);
    expect_bad("BKP-SHEET 1 PAPER\n", 0);
}

/* ---- typing a sheet back line by line (bkp_sheet_entry) ---- */

/* Type line `i` (0: the header) of `text` into `e`. */
static int type_line(bkp_sheet_entry *e, const char *text, int i, bkp_sheet *out)
{
    const char *p = text;
    for (int k = 0; k < i; k++)
        p = strchr(p, '\n') + 1;
    return bkp_sheet_entry_add(e, p, (size_t)(strchr(p, '\n') - p), out);
}

/* The sheet typed line by line gives the secret; every single-character
 * mistake on each line is refused on that line and the line typed again is
 * taken; a sum mistyped in the header sends the typist back to the header
 * after the last line; blank lines are no lines. */
static void test_entry(void **state)
{
    (void)state;
    char text[BKP_SHEET_TEXT_MAX];
    bkp_sheet s, got, head;
    bkp_sheet_entry *e = bkp_sheet_entry_new();
    assert_non_null(e);
    for (int kind = BKP_SHEET_PAPER; kind <= BKP_SHEET_SHARE; kind++) {
        make(&s, (bkp_sheet_kind)kind);
        assert_int_equal(bkp_sheet_format(&s, text), 0);
        assert_int_equal(bkp_sheet_entry_next(e), 0);
        assert_int_equal(bkp_sheet_entry_header(e, &head), -ENOENT);
        assert_int_equal(bkp_sheet_entry_add(e, "  \t", 3, &got), 1); /* blank */
        assert_int_equal(bkp_sheet_entry_next(e), 0);
        assert_int_equal(bkp_sheet_entry_add(e, "1: 0000", 7, &got), -EBADMSG);
        assert_int_equal(type_line(e, text, 0, &got), 1);
        assert_int_equal(bkp_sheet_entry_header(e, &head), 0);
        assert_int_equal(head.kind, s.kind);
        assert_int_equal(head.k, s.k);
        assert_int_equal(head.index, s.index);
        for (int line = 1; line <= BKP_SHEET_LINES; line++) {
            /* Each character of the line, changed: refused, the line kept. */
            char *p = text;
            for (int k = 0; k < line; k++)
                p = strchr(p, '\n') + 1;
            char *end = strchr(p, '\n');
            for (char *c = strchr(p, ':') + 1; c < end; c++) {
                if (*c == ' ')
                    continue;
                char was = *c;
                *c = was == '0' ? '1' : '0';
                assert_int_equal(bkp_sheet_entry_add(e, p, (size_t)(end - p), &got), -EBADMSG);
                assert_int_equal(bkp_sheet_entry_next(e), line);
                *c = was;
            }
            /* Its check characters left off: said as a short line. */
            assert_int_equal(bkp_sheet_entry_add(e, p, (size_t)(end - p) - 3, &got), -EBADMSG);
            assert_int_equal(bkp_sheet_entry_why(e).fault, BKP_SHEET_FAULT_SHORT);
            assert_int_equal(bkp_sheet_entry_why(e).line, line);
            assert_int_equal(type_line(e, text, line, &got),
                             line == BKP_SHEET_LINES ? 0 : 1);
        }
        assert_memory_equal(&got, &s, sizeof(s));
        assert_int_equal(bkp_sheet_entry_next(e), 0);
    }
    /* A sum mistyped: every line checks, the sheet does not; back to the header. */
    char *sum = strstr(text, "SUM ") + 4;
    sum[0] = sum[0] == 'A' ? 'B' : 'A';
    for (int line = 0; line < BKP_SHEET_LINES; line++)
        assert_int_equal(type_line(e, text, line, &got), 1);
    assert_int_equal(type_line(e, text, BKP_SHEET_LINES, &got), -EBADMSG);
    assert_int_equal(bkp_sheet_entry_next(e), 0);
    /* Reset forgets a sheet half typed. */
    assert_int_equal(bkp_sheet_format(&s, text), 0);
    assert_int_equal(type_line(e, text, 0, &got), 1);
    assert_int_equal(type_line(e, text, 1, &got), 1);
    bkp_sheet_entry_reset(e);
    assert_int_equal(bkp_sheet_entry_next(e), 0);
    assert_int_equal(type_line(e, text, 1, &got), -EBADMSG);
    bkp_sheet_entry_free(e);
    bkp_sheet_entry_free(NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tolerant),
        cmocka_unit_test(test_look_alike_letters),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_full_width),
        cmocka_unit_test(test_every_substitution),
        cmocka_unit_test(test_swapped_and_missing_lines),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
