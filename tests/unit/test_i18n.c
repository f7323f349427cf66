/*
 * test_i18n.c — writing in a chosen language whatever the locale
 * (bkp_i18n_begin/end): a report asked for in Japanese under cron's "C"
 * locale comes out in Japanese, English comes out in English under a
 * Japanese reader, and what was there before is put back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"

#include "catalogue.h"

#define MSGID "  last backup %s%s  last verify %s  last drill %s%s\n"
#define MSGSTR "  最終バックアップ %s%s  最終検証 %s  最終訓練 %s%s\n"

static void test_ja_under_c_locale(void **state)
{
    (void)state;
    unsetenv("LANGUAGE");
    setlocale(LC_MESSAGES, "C");
    assert_string_equal(_(MSGID), MSGID);
    bkp_i18n_saved s;
    bkp_i18n_begin(&s, "ja");
    assert_string_equal(_(MSGID), MSGSTR);
    bkp_i18n_end(&s);
    assert_string_equal(_(MSGID), MSGID);
    /* Unset before, empty after (the same to gettext; never unset, for
     * the threads that look messages up meanwhile: i18n.h). */
    const char *l = getenv("LANGUAGE");
    assert_true(l && !*l);
    assert_string_equal(setlocale(LC_MESSAGES, NULL), "C");
}

static void test_en_under_japanese_reader(void **state)
{
    (void)state;
    setenv("LANGUAGE", "ja", 1);
    assert_non_null(setlocale(LC_MESSAGES, "C.UTF-8"));
    assert_string_equal(_(MSGID), MSGSTR);
    bkp_i18n_saved s;
    bkp_i18n_begin(&s, "en");
    assert_string_equal(_(MSGID), MSGID);
    bkp_i18n_end(&s);
    assert_string_equal(_(MSGID), MSGSTR);
    assert_string_equal(getenv("LANGUAGE"), "ja");
    unsetenv("LANGUAGE");
    setlocale(LC_MESSAGES, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja_under_c_locale),
        cmocka_unit_test(test_en_under_japanese_reader),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
