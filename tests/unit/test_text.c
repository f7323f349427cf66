/*
 * test_text.c — outside text made safe for a terminal and a log (text.h):
 * an escape sequence in a file name cannot colour or rewrite what a person
 * reads, a newline cannot forge a line, bytes that are not UTF-8 and the
 * characters that reorder text are shown; Japanese stays as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/log.h"
#include "bkp/io/text.h"

static void expect(const char *in, int how, const char *want)
{
    char *got = bkp_text_safe(in, how);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(bkp_text_is_safe(in, how), !strcmp(in, want));
    free(got);
}

static void test_escapes(void **state)
{
    (void)state;
    expect("plain name.txt", BKP_TEXT_FIELD, "plain name.txt");
    expect("紹介状 2024年.txt", BKP_TEXT_FIELD, "紹介状 2024年.txt");
    /* The name that printed "ALL BACKUPS VERIFIED OK" in red. */
    expect("x\033[31mALL BACKUPS VERIFIED OK\033[0m", BKP_TEXT_FIELD,
           "x\\x1b[31mALL BACKUPS VERIFIED OK\\x1b[0m");
    expect("a\nb\tc\rd", BKP_TEXT_FIELD, "a\\nb\\tc\\rd");
    expect("a\nb\tc\rd", BKP_TEXT_LINES, "a\nb\tc\\rd");
    expect("del\x7f bell\a", BKP_TEXT_FIELD, "del\\x7f bell\\x07");
    expect("back\\slash", BKP_TEXT_FIELD, "back\\\\slash");
    expect("back\\slash", BKP_TEXT_LINES, "back\\slash");
    /* C1 controls as UTF-8 (CSI), a bare 0x9b, invalid and cut sequences. */
    expect("a\xc2\x9b" "31m", BKP_TEXT_FIELD, "a\\u{009b}31m");
    expect("a\x9b" "31m", BKP_TEXT_FIELD, "a\\x9b31m");
    expect("\xe3\x81", BKP_TEXT_FIELD, "\\xe3\\x81");
    expect("\xc0\xaf", BKP_TEXT_FIELD, "\\xc0\\xaf"); /* overlong '/' */
    expect("\xed\xa0\x80", BKP_TEXT_FIELD, "\\xed\\xa0\\x80"); /* a surrogate */
    /* Right-to-left override: "txt.exe" shown as "exe.txt" otherwise. */
    expect("report\xe2\x80\xaetxt.exe", BKP_TEXT_FIELD, "report\\u{202e}txt.exe");
    /* Direction marks, a line separator, a byte order mark: shown. */
    expect("a\xe2\x80\x8f" "b\xe2\x80\xa8" "c\xef\xbb\xbf", BKP_TEXT_FIELD,
           "a\\u{200f}b\\u{2028}c\\u{feff}");
    expect("", BKP_TEXT_FIELD, "");
}

static char logged[4096];

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)ctx;
    snprintf(logged, sizeof(logged), "%s", msg);
}

/* Every message passes through it: a name in an error cannot steer the
 * terminal, the message's own lines stay lines. */
static void test_log_is_safe(void **state)
{
    (void)state;
    bkp_log_set_sink(sink, NULL);
    bkp_error("cannot read %s\nsecond line", "evil\033]0;title\007name");
    assert_string_equal(logged, "cannot read evil\\x1b]0;title\\x07name\nsecond line");
    bkp_log_set_sink(NULL, NULL);
}

static void test_put(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    bkp_text_put(f, "a\033b\n", BKP_TEXT_FIELD);
    fclose(f);
    assert_string_equal(buf, "a\\x1bb\\n");
    free(buf);
}

/* What an input method types for a generation's name reads as ASCII;
 * everything else (Japanese, a half-width katakana, a lone lead byte) is
 * kept as it is. */
static void test_halfwidth(void **state)
{
    (void)state;
    char a[] = "ｋａｒｔｅ：０２", b[] = "karte:2", c[] = "カルテ\xef\xbd\xa1ｰ！～\xe3\x80\x80x\xef";
    assert_int_equal(bkp_halfwidth(a), 8);
    assert_string_equal(a, "karte:02");
    assert_int_equal(bkp_halfwidth(b), 0);
    assert_string_equal(b, "karte:2");
    /* U+FF61 and U+FF70 are half-width katakana, not ASCII's forms; U+FF5E
     * (the last) is '~'; a cut sequence at the end stays. */
    assert_int_equal(bkp_halfwidth(c), 3);
    assert_string_equal(c, "カルテ\xef\xbd\xa1ｰ!~ x\xef");
    /* A name typed: the ideographic space an input method leaves is no
     * part of it. */
    char d[] = "\xe3\x80\x80ｅｍｒ：４０\xe3\x80\x80 ", e[] = "   ";
    bkp_name_typed(d);
    assert_string_equal(d, "emr:40");
    bkp_name_typed(e);
    assert_string_equal(e, "");
    /* Names for a message: as many as fit, then ", ..." (or when told of more). */
    const char *const names[] = {"emr", "scans", "lab"};
    char all[32], cut[12];
    assert_string_equal(bkp_names_join(all, sizeof(all), names, 3, false), "emr, scans, lab");
    assert_string_equal(bkp_names_join(all, sizeof(all), names, 2, true), "emr, scans, ...");
    assert_string_equal(bkp_names_join(cut, sizeof(cut), names, 3, false), "emr, ...");
    assert_string_equal(bkp_names_join(all, sizeof(all), names, 0, false), "");
}

/* Bytes as text and back: every byte but NUL comes back as it was; text
 * that no bytes give is refused. */
static void test_bytes_back(void **state)
{
    (void)state;
    const char *const bytes[] = {"/srv/a\xff\x01", "/\\x41\\", "カルテ\xe3\x81", ""};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(*bytes); i++) {
        char *t = bkp_bytes_text(bytes[i]), *b = bkp_text_bytes(t);
        assert_non_null(b);
        assert_string_equal(b, bytes[i]);
        free(t);
        free(b);
    }
    const char *const bad[] = {"a\\", "a\\x0", "a\\x00", "a\\q", "a\\xg1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_null(bkp_text_bytes(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),    cmocka_unit_test(test_log_is_safe),
        cmocka_unit_test(test_put),        cmocka_unit_test(test_halfwidth),
        cmocka_unit_test(test_bytes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
