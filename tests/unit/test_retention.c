/*
 * Retention selection tables: daily generations over two months and a policy
 * per row; what is kept, and why, is compared with the expected sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policies/retention.h"

#define DAY 86400

/* Generation i was taken i days before "now" (2026-11-22 12:00 UTC), at 02:00. */
static time_t base;

static void make(pol_gen *g, int n)
{
    for (int i = 0; i < n; i++) {
        g[i].time = base - (time_t)i * DAY - 10 * 3600;
        g[i].seq = (uint32_t)(n - i);
    }
}

static int kept(const unsigned *keep, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += keep[i] != 0;
    return c;
}

static void test_table(void **state)
{
    (void)state;
    static const struct row {
        pol_retention r;
        int n;           /* generations, one a day */
        int want;        /* how many are kept */
        const char *ages; /* ages in days of the kept ones, ascending, comma-separated */
    } rows[] = {
        {{.keep_last = 3}, 10, 3, "0,1,2"},
        {{.keep_daily = 5}, 10, 5, "0,1,2,3,4"},
        {{.keep_last = 2, .keep_daily = 4}, 10, 4, "0,1,2,3"},
        /* 2026-11-22 is a Sunday, the last day of its ISO week: one per week */
        {{.keep_weekly = 3}, 20, 3, "0,7,14"},
        {{.keep_monthly = 2}, 60, 2, "0,22"},
        {{.keep_yearly = 5}, 60, 1, "0"},
        /* lock_days keeps the young ones whatever the rules say */
        {{.keep_last = 1, .lock_days = 4}, 10, 4, "0,1,2,3"},
        /* no rule: everything stays */
        {{0}, 10, 10, "0,1,2,3,4,5,6,7,8,9"},
        /* only lock_days is not a keep rule: everything stays */
        {{.lock_days = 2}, 5, 5, "0,1,2,3,4"},
        /* keep_last 0 with a daily rule still keeps the newest */
        {{.keep_monthly = 1}, 3, 1, "0"},
    };
    for (size_t k = 0; k < sizeof(rows) / sizeof(*rows); k++) {
        const struct row *w = &rows[k];
        pol_gen g[64];
        unsigned keep[64];
        char ages[256] = "";
        make(g, w->n);
        pol_retention_select(&w->r, g, (size_t)w->n, base, keep);
        for (int i = 0; i < w->n; i++)
            if (keep[i]) {
                size_t l = strlen(ages);
                snprintf(ages + l, sizeof(ages) - l, "%s%d", l ? "," : "", i);
            }
        if (kept(keep, w->n) != w->want || strcmp(ages, w->ages)) {
            print_error("row %zu: kept %d (%s), want %d (%s)\n", k, kept(keep, w->n), ages, w->want,
                        w->ages);
            fail();
        }
        /* The newest generation is always kept. */
        assert_true(keep[0] & POL_KEEP_NEWEST);
    }
}

static void test_reasons(void **state)
{
    (void)state;
    pol_gen g[10];
    unsigned keep[10];
    char buf[128];
    pol_retention r = {.keep_last = 1, .keep_daily = 2, .lock_days = 1};
    make(g, 10);
    pol_retention_select(&r, g, 10, base, keep);
    assert_string_equal(pol_keep_reasons(keep[0], buf, sizeof(buf)), "last, daily, locked, newest");
    assert_string_equal(pol_keep_reasons(keep[1], buf, sizeof(buf)), "daily");
    assert_string_equal(pol_keep_reasons(keep[5], buf, sizeof(buf)), "not kept");
}

/* Input order does not matter; several generations in one day: the newest of the day wins. */
static void test_order_and_same_day(void **state)
{
    (void)state;
    pol_gen g[4] = {{base - 3 * 3600, 3}, {base - 30 * 3600, 1}, {base - 1 * 3600, 4},
                    {base - 5 * 3600, 2}};
    unsigned keep[4];
    pol_retention r = {.keep_daily = 2};
    pol_retention_select(&r, g, 4, base, keep);
    assert_true(keep[2] & POL_KEEP_DAILY);  /* newest of today */
    assert_false(keep[0] & POL_KEEP_DAILY); /* older, same day */
    assert_false(keep[3] & POL_KEEP_DAILY);
    assert_true(keep[1] & POL_KEEP_DAILY);  /* yesterday's */
}

int main(void)
{
    setenv("TZ", "UTC0", 1);
    tzset();
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 22, .tm_hour = 12};
    base = timegm(&tm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_order_and_same_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
