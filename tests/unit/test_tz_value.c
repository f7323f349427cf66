/*
 * The local time zone as a TZ value for a paper (bkp_tz_value): read the
 * same on a machine without zone data, so that a new machine shows times
 * as the paper printed them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/clock.h"

static void in_zone(const char *zone, const char *want)
{
    char v[64];
    setenv("TZ", zone, 1);
    tzset();
    assert_string_equal(bkp_tz_value(v, sizeof(v), 1767571200), want);
    /* Read back as a TZ value, it gives the same local time. */
    struct tm a, b;
    time_t t = 1767571200;
    localtime_r(&t, &a);
    setenv("TZ", v, 1);
    tzset();
    localtime_r(&t, &b);
    assert_int_equal(a.tm_hour, b.tm_hour);
    assert_int_equal(a.tm_min, b.tm_min);
}

static void test_zones(void **unused)
{
    (void)unused;
    in_zone("JST-9", "JST-9");
    in_zone("UTC0", "UTC0");
    in_zone("IST-5:30", "IST-5:30");
    in_zone("EST5", "EST5");
    in_zone("<+0545>-5:45", "<+0545>-5:45");
    /* A zone by its name: its rule, seasons and all (where the machine has
     * the zone's file). */
    if (access("/usr/share/zoneinfo/America/New_York", R_OK) == 0)
        in_zone("America/New_York", "EST5EDT,M3.2.0,M11.1.0");
    if (access("/usr/share/zoneinfo/Asia/Tokyo", R_OK) == 0)
        in_zone(":Asia/Tokyo", "JST-9");
}

/* The rule at a zone file's end: only a version 2 file's last line, whole,
 * printable, with room for it. */
static void test_rule(void **unused)
{
    (void)unused;
    char out[64];
    static const char v2[] = "TZif2\0\1binary\nEST5EDT,M3.2.0,M11.1.0\n";
    assert_true(bkp_tz_rule_parse(v2, sizeof(v2) - 1, out, sizeof(out)));
    assert_string_equal(out, "EST5EDT,M3.2.0,M11.1.0");
    assert_false(bkp_tz_rule_parse(v2, sizeof(v2) - 1, out, 10)); /* no room */
    static const char v1[] = "TZif\0\0\nJST-9\n", spaced[] = "TZif2\nJST -9\n",
                      cut[] = "TZif2\nJST-9";
    assert_false(bkp_tz_rule_parse(v1, sizeof(v1) - 1, out, sizeof(out)));
    assert_false(bkp_tz_rule_parse(spaced, sizeof(spaced) - 1, out, sizeof(out)));
    assert_false(bkp_tz_rule_parse(cut, sizeof(cut) - 1, out, sizeof(out)));
    assert_false(bkp_tz_rule_parse("", 0, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zones), cmocka_unit_test(test_rule)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
