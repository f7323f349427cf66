/*
 * Due-ness with an injected clock: across midnight, month ends and leap
 * years, weeks, missed runs caught up once, in UTC, in a zone without DST
 * (JST) and across the DST changes of a zone with them (CET/CEST). POSIX TZ
 * strings are used so no time zone database is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policies/schedule.h"

static void zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Local time "YYYY-MM-DD HH:MM" in the current zone. */
static time_t T(const char *s)
{
    struct tm tm = {0};
    if (!strptime(s, "%Y-%m-%d %H:%M", &tm))
        abort();
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static const char *fmt(time_t t)
{
    static char buf[4][32];
    static int i;
    struct tm tm;
    localtime_r(&t, &tm);
    i = (i + 1) % 4;
    strftime(buf[i], sizeof(buf[i]), "%Y-%m-%d %H:%M", &tm);
    return buf[i];
}

static pol_schedule S(const char *text)
{
    pol_schedule s;
    if (pol_schedule_parse(text, &s))
        abort();
    return s;
}

static const struct slot_case {
    const char *tz, *schedule, *now, *last, *next;
} slots[] = {
    /* across midnight */
    {"UTC0", "daily 02:00", "2026-11-22 01:59", "2026-11-21 02:00", "2026-11-22 02:00"},
    {"UTC0", "daily 02:00", "2026-11-22 02:00", "2026-11-22 02:00", "2026-11-23 02:00"},
    {"UTC0", "daily 23:30", "2027-01-01 00:10", "2026-12-31 23:30", "2027-01-01 23:30"},
    {"UTC0", "hourly :30", "2026-11-22 00:10", "2026-11-21 23:30", "2026-11-22 00:30"},
    {"UTC0", "hourly", "2026-11-22 00:00", "2026-11-22 00:00", "2026-11-22 01:00"},
    /* weeks: 2026-11-22 is a Sunday */
    {"UTC0", "weekly sun 03:00", "2026-11-22 02:59", "2026-11-15 03:00", "2026-11-22 03:00"},
    {"UTC0", "weekly sun 03:00", "2026-11-22 03:00", "2026-11-22 03:00", "2026-11-29 03:00"},
    {"UTC0", "weekly sat 23:00", "2026-11-22 10:00", "2026-11-21 23:00", "2026-11-28 23:00"},
    /* month ends and leap years */
    {"UTC0", "monthly 1 04:00", "2026-12-01 03:00", "2026-11-01 04:00", "2026-12-01 04:00"},
    {"UTC0", "monthly 1 04:00", "2027-01-01 05:00", "2027-01-01 04:00", "2027-02-01 04:00"},
    {"UTC0", "monthly 31 04:00", "2026-03-01 00:00", "2026-02-28 04:00", "2026-03-31 04:00"},
    {"UTC0", "monthly 31 04:00", "2028-03-01 00:00", "2028-02-29 04:00", "2028-03-31 04:00"},
    {"UTC0", "monthly 30 04:00", "2026-05-01 00:00", "2026-04-30 04:00", "2026-05-30 04:00"},
    /* local time without DST */
    {"JST-9", "daily 02:00", "2026-11-22 01:00", "2026-11-21 02:00", "2026-11-22 02:00"},
    {"JST-9", "monthly 1 05:00", "2026-12-01 05:00", "2026-12-01 05:00", "2027-01-01 05:00"},
};

static void test_slots(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(slots) / sizeof(*slots); i++) {
        const struct slot_case *c = &slots[i];
        zone(c->tz);
        pol_schedule s = S(c->schedule);
        time_t now = T(c->now);
        const char *last = fmt(pol_last_slot(&s, now)), *next = fmt(pol_next_slot(&s, now));
        if (strcmp(last, c->last) || strcmp(next, c->next)) {
            print_error("%s %s at %s: last %s (want %s), next %s (want %s)\n", c->tz, c->schedule,
                        c->now, last, c->last, next, c->next);
            fail();
        }
    }
}

static void test_due(void **state)
{
    (void)state;
    zone("JST-9");
    pol_schedule s = S("daily 02:00");
    /* Never run: due at once. */
    assert_true(pol_is_due(&s, 0, T("2026-11-22 10:00")));
    /* Ran at 02:00:05 today: not due again until tomorrow 02:00. */
    time_t ran = T("2026-11-22 02:00") + 5;
    assert_false(pol_is_due(&s, ran, T("2026-11-22 23:59")));
    assert_true(pol_is_due(&s, ran, T("2026-11-23 02:00")));
    /* The machine was off for three days: one catch-up, then nothing until the next slot. */
    time_t back = T("2026-11-26 09:00");
    assert_true(pol_is_due(&s, ran, back));
    assert_false(pol_is_due(&s, back + 60, back + 3600));
    assert_false(pol_is_due(&s, back + 60, T("2026-11-27 01:59")));
    assert_true(pol_is_due(&s, back + 60, T("2026-11-27 02:00")));
    /* No schedule: never due by itself. */
    pol_schedule none = {.kind = POL_SCHED_NONE};
    assert_false(pol_is_due(&none, 0, back));
}

/* Europe's DST: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00. Each day
 * has exactly one slot, even the day whose 02:30 does not exist or repeats. */
static void test_dst(void **state)
{
    (void)state;
    zone("CET-1CEST,M3.5.0,M10.5.0/3");
    pol_schedule s = S("daily 02:30");
    time_t day_start = T("2026-03-28 12:00");
    int slots_seen = 0;
    time_t t = day_start;
    for (int i = 0; i < 3; i++) {
        time_t next = pol_next_slot(&s, t);
        assert_true(next > t);
        assert_true(next - t <= 25 * 3600);
        t = next;
        slots_seen++;
    }
    assert_int_equal(slots_seen, 3);
    /* The slot of the spring-forward day lies on that day. */
    time_t spring = pol_last_slot(&s, T("2026-03-29 12:00"));
    struct tm tm;
    localtime_r(&spring, &tm);
    assert_int_equal(tm.tm_mday, 29);
    /* Autumn: ran at the (first) 02:30; not due again the same morning. */
    time_t autumn = pol_last_slot(&s, T("2026-10-25 12:00"));
    localtime_r(&autumn, &tm);
    assert_int_equal(tm.tm_mday, 25);
    assert_false(pol_is_due(&s, autumn + 60, T("2026-10-25 12:00")));
    assert_true(pol_is_due(&s, autumn + 60, T("2026-10-26 02:30")));
}

/* A week of nights: the Tuesday server was off until 09:00 and caught up
 * (taken), Thursday's never ran (missed); the last night is still within
 * its grace at the period's end (not judged). Backups before the period
 * or of the day before take nothing. */
static void test_slots_counted(void **state)
{
    (void)state;
    zone("JST-9");
    pol_schedule s = S("daily 02:00");
    time_t made[] = {T("2026-03-01 02:05"), T("2026-03-03 02:04"), T("2026-03-02 02:03"),
                     T("2026-03-04 09:10"), T("2026-03-06 02:02"), T("2026-03-07 02:01"),
                     T("2026-02-27 02:00")};
    pol_slots o;
    pol_slots_count(&s, T("2026-03-01 00:00"), T("2026-03-08 04:00"), made, 7, &o);
    assert_int_equal(o.scheduled, 7); /* 1st..7th; the 8th at 02:00 is two hours old */
    assert_int_equal(o.missed, 1);
    assert_string_equal(fmt(o.named[0]), "2026-03-05 02:00");
    pol_slots_count(&s, T("2026-03-01 00:00"), T("2026-03-08 09:00"), made, 7, &o);
    assert_int_equal(o.scheduled, 8);
    assert_int_equal(o.missed, 2);
    assert_string_equal(fmt(o.named[1]), "2026-03-08 02:00");
    /* Nothing made: every slot, the first five named. */
    pol_slots_count(&s, T("2026-03-01 00:00"), T("2026-03-31 23:00"), NULL, 0, &o);
    assert_int_equal(o.scheduled, 31);
    assert_int_equal(o.missed, 31);
    assert_string_equal(fmt(o.named[4]), "2026-03-05 02:00");
    /* No schedule: nothing expected. */
    pol_schedule none = {0};
    pol_slots_count(&none, T("2026-03-01 00:00"), T("2026-03-31 23:00"), NULL, 0, &o);
    assert_int_equal(o.scheduled, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_dst),
        cmocka_unit_test(test_slots_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
