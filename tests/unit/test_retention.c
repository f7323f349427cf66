/*
 * Retention selection tables: daily generations over two months and a policy
 * per row; what is kept, and why, is compared with the expected sets. Then
 * time as an attacker writes it (restic #22057): backdated and far-future
 * generations appended after the genuine ones change nothing that is kept,
 * are themselves kept and flagged, and a clock set forward ages nothing.
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
        g[i].vouched = false;
        g[i].suspect = false;
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
    assert_string_equal(pol_keep_reasons(keep[0], false, buf, sizeof(buf)),
                        "last, daily, locked, newest");
    assert_string_equal(pol_keep_reasons(keep[1], false, buf, sizeof(buf)), "daily");
    assert_string_equal(pol_keep_reasons(keep[5], false, buf, sizeof(buf)), "not kept");
}

/* A generation marked and not cleared fills no slot: the newest, the last
 * and each period's go to the clean ones; only the lock keeps it. */
static void test_suspect_fills_no_slot(void **state)
{
    (void)state;
    pol_gen g[10];
    unsigned keep[10];
    make(g, 10);
    g[0].suspect = g[3].suspect = true; /* today's and three days ago */
    pol_retention r = {.keep_last = 2, .keep_daily = 3, .keep_monthly = 1};
    pol_retention_select(&r, g, 10, base, keep);
    assert_int_equal(keep[0], 0);
    assert_int_equal(keep[3], 0);
    assert_true(keep[1] & POL_KEEP_NEWEST);
    assert_true((keep[1] & POL_KEEP_LAST) && (keep[2] & POL_KEEP_LAST));
    assert_true((keep[4] & POL_KEEP_DAILY) && !(keep[5] & POL_KEEP_DAILY));
    assert_true(keep[1] & POL_KEEP_MONTHLY);
    r.lock_days = 1;
    pol_retention_select(&r, g, 10, base, keep);
    assert_int_equal(keep[0], POL_KEEP_LOCKED);
}

/* Input order does not matter; several generations in one day: the newest of the day wins. */
static void test_order_and_same_day(void **state)
{
    (void)state;
    pol_gen g[4] = {{base - 3 * 3600, 3, false, false}, {base - 30 * 3600, 1, false, false},
                    {base - 1 * 3600, 4, false, false}, {base - 5 * 3600, 2, false, false}};
    unsigned keep[4];
    pol_retention r = {.keep_daily = 2};
    pol_retention_select(&r, g, 4, base, keep);
    assert_true(keep[2] & POL_KEEP_DAILY);  /* newest of today */
    assert_false(keep[0] & POL_KEEP_DAILY); /* older, same day */
    assert_false(keep[3] & POL_KEEP_DAILY);
    assert_true(keep[1] & POL_KEEP_DAILY);  /* yesterday's */
}

/* The genuine ages kept (as in test_table) among the first `n` of `g`. */
static void ages_kept(const unsigned *keep, int n, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        if (keep[i]) {
            size_t l = strlen(out);
            snprintf(out + l, len - l, "%s%d", l ? "," : "", i);
        }
}

static void test_restic_22057(void **state)
{
    (void)state;
    pol_gen g[17];
    unsigned keep[16], alone[16];
    char a[128], b[128];
    pol_retention r = {.keep_last = 3, .keep_daily = 3, .keep_weekly = 2};
    make(g, 10); /* genuine: seq 10 (today) down to 1 */
    pol_retention_select(&r, g, 10, base, alone);
    /* The attacker appends three far-future and three backdated generations
     * (the next sequence numbers: it cannot choose those). */
    for (int i = 0; i < 6; i++) {
        g[10 + i].seq = (uint32_t)(11 + i);
        g[10 + i].vouched = false;
        g[10 + i].time = i < 3 ? base + (time_t)(1000 + i) * DAY : base - (time_t)(400 - i) * DAY;
    }
    pol_retention_select(&r, g, 16, base, keep);
    ages_kept(alone, 10, a, sizeof(a));
    ages_kept(keep, 10, b, sizeof(b));
    assert_string_equal(a, b); /* the genuine ones: exactly what was kept before */
    assert_true(keep[0] & POL_KEEP_NEWEST);
    assert_true(keep[0] & POL_KEEP_LAST);
    for (int i = 10; i < 16; i++)
        assert_int_equal(keep[i], POL_KEEP_TIME); /* kept, counted by nothing */

    /* A genuine generation after the junk is in order again: the far-future
     * one did not become the reference. */
    bool ok[17];
    g[16] = (pol_gen){base + 60, 17, false, false};
    pol_time_order(g, 17, base + 120, ok);
    assert_true(ok[16]);
    assert_false(ok[10]);
    assert_false(ok[13]);
    assert_true(ok[0]);
    /* An operator's clearance takes a time as it is. */
    g[10].vouched = true;
    pol_time_order(g, 17, base + 120, ok);
    assert_true(ok[10]);
    assert_true(ok[16]);
}

static void test_time_order(void **state)
{
    (void)state;
    bool ok[5];
    /* Equal times (two runs in one second) and a small step back are in order. */
    pol_gen g[5] = {{base, 1, false, false},
                    {base, 2, false, false},
                    {base - POL_TIME_SKEW, 3, false, false},
                    {base - POL_TIME_SKEW - 1, 4, false, false},
                    {base + POL_TIME_SKEW + 1, 5, false, false}};
    pol_time_order(g, 5, base, ok);
    assert_true(ok[0] && ok[1] && ok[2]);
    assert_false(ok[3]); /* went back more than the skew */
    assert_false(ok[4]); /* in the future */
}

static void test_clock_forward(void **state)
{
    (void)state;
    pol_gen g[10];
    unsigned keep[11];
    pol_retention r = {.keep_last = 1, .lock_days = 30};
    make(g, 10);
    /* The host's clock set 60 days on: by the clock all are out of the lock,
     * by the signed timeline none is. */
    pol_retention_select(&r, g, 10, base + 60 * DAY, keep);
    for (int i = 0; i < 10; i++)
        assert_true(keep[i] & POL_KEEP_LOCKED);
    /* Time that passed for real (generations sealed since): the lock ends. */
    pol_gen h[11];
    make(h, 10);
    h[10] = (pol_gen){base + 60 * DAY, 11, false, false};
    pol_retention_select(&r, h, 11, base + 60 * DAY, keep);
    for (int i = 0; i < 10; i++)
        assert_false(keep[i] & POL_KEEP_LOCKED);
    assert_true(keep[10] & POL_KEEP_LOCKED);
    char buf[128];
    assert_string_equal(pol_keep_reasons(POL_KEEP_TIME, false, buf, sizeof(buf)),
                        "time out of order");
}

/* How long a bucket locks a generation: the longest of the medium's
 * lock.days and what the rules keep, in whole days. */
static void test_object_lock_span(void **state)
{
    (void)state;
    const int64_t day = 86400;
    pol_medium m = {.type = POL_OBJECT};
    m.object.lock_days = 30;
    pol_dataset d = {0};
    assert_int_equal(pol_object_lock_span(NULL, &m), 30 * day);
    assert_int_equal(pol_object_lock_span(&d, &m), 30 * day); /* no rule: the lock */
    d.retention.keep_daily = 14;
    assert_int_equal(pol_object_lock_span(&d, &m), 30 * day);
    d.retention.keep_monthly = 12;
    assert_int_equal(pol_object_lock_span(&d, &m), 12 * 31 * day);
    d.retention.keep_yearly = 5;
    assert_int_equal(pol_object_lock_span(&d, &m), 5 * 366 * day);
    d.retention.keep_yearly = 0;
    d.retention.keep_hourly = 30; /* 30 hours: whole days of the lock */
    d.retention.keep_monthly = 0;
    d.retention.keep_daily = 0;
    assert_int_equal(pol_object_lock_span(&d, &m), 30 * day);
    m.object.lock_days = 1;
    assert_int_equal(pol_object_lock_span(&d, &m), 1 * day);
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
        cmocka_unit_test(test_restic_22057),
        cmocka_unit_test(test_suspect_fills_no_slot),
        cmocka_unit_test(test_time_order),
        cmocka_unit_test(test_clock_forward),
        cmocka_unit_test(test_object_lock_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
