/*
 * The progress line (bkp_progress_text): the share of a known total, the
 * rate, and the time left scaled from the time so far; bytes shown as
 * sizes; nothing claimed without a total; in the reader's language.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

#include "catalogue.h"

static void test_counted(void **unused)
{
    (void)unused;
    char s[256];
    /* 450 of 1000 packs in 9 s: 11 s left. */
    bkp_progress_text(s, sizeof(s), "verifying", 450, 1000, "packs", 765000000, 9.0);
    assert_string_equal(s,
                        "verifying: 45 % (450 of 1000 packs), 729.6 MiB at 81.1 MiB/s, 0:11 left");
    /* Hours when it is that long. */
    bkp_progress_text(s, sizeof(s), "copying", 1, 1000, "packs", 1000000, 10.0);
    assert_string_equal(s, "copying: 0 % (1 of 1000 packs), 976.6 KiB at 97.7 KiB/s, 2:46:30 left");
}

static void test_bytes(void **unused)
{
    (void)unused;
    char s[256];
    bkp_progress_text(s, sizeof(s), "restoring", 1200000000, 2700000000, NULL, 1200000000, 12.0);
    assert_string_equal(s, "restoring: 44 % (1.1 GiB of 2.5 GiB) at 95.4 MiB/s, 0:15 left");
    /* Too early to measure a rate: none, never "0 B/s" (a quick step leaves
     * its first line drawn). */
    bkp_progress_text(s, sizeof(s), "restoring", 200, 2700000000, NULL, 200, 0.01);
    assert_string_equal(s, "restoring: 0 % (200 B of 2.5 GiB)");
}

static void test_no_total(void **unused)
{
    (void)unused;
    char s[256];
    bkp_progress_text(s, sizeof(s), "emr", 12, 0, "files", 5000, 2.0);
    assert_string_equal(s, "emr: 12 files, 4.9 KiB at 2.4 KiB/s");
    /* Too early to tell how long; more done than the estimate: 100 %, no time. */
    bkp_progress_text(s, sizeof(s), "emr", 3, 10, "files", 0, 0.1);
    assert_null(strstr(s, "left"));
    bkp_progress_text(s, sizeof(s), "emr", 12, 10, "files", 0, 5.0);
    assert_non_null(strstr(s, "100 %"));
    assert_null(strstr(s, "left"));
}

/* A Japanese reader reads the label, the units and the time left in Japanese. */
static void test_japanese(void **unused)
{
    (void)unused;
    char s[256];
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    bkp_progress_text(s, sizeof(s), _("verifying"), 450, 1000, "packs", 765000000, 9.0);
    bkp_i18n_end(&saved);
    assert_string_equal(s, "検証中: 45 %（450 / 1000 パック）、729.6 MiB、81.1 MiB/秒、残り 0:11");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counted),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_no_total),
        cmocka_unit_test(test_japanese),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
