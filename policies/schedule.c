#include "policies/schedule.h"

#include <stdlib.h>
#include <string.h>

/* Local midnight-based construction through mktime, which also settles the
 * hour that a DST change skips or repeats (tm_isdst = -1: let the zone say). */
static time_t at(int year, int mon, int mday, int hour, int min)
{
    struct tm tm = {0};
    tm.tm_year = year;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static int days_in_month(int year, int mon)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = year + 1900;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mon == 1 && leap ? 29 : d[mon];
}

/* The slot of the period (hour, day, week or month) that contains `t`, going
 * back `back` periods. */
static time_t slot_in_period(const pol_schedule *s, const struct tm *tm, int back)
{
    switch (s->kind) {
    case POL_HOURLY:
        return at(tm->tm_year, tm->tm_mon, tm->tm_mday, tm->tm_hour - back, s->minute);
    case POL_DAILY:
        return at(tm->tm_year, tm->tm_mon, tm->tm_mday - back, s->hour, s->minute);
    case POL_WEEKLY: {
        int delta = (tm->tm_wday - s->wday + 7) % 7 + 7 * back;
        return at(tm->tm_year, tm->tm_mon, tm->tm_mday - delta, s->hour, s->minute);
    }
    case POL_MONTHLY: {
        int mon = tm->tm_mon - back, year = tm->tm_year;
        while (mon < 0) {
            mon += 12;
            year--;
        }
        while (mon > 11) { /* looking ahead */
            mon -= 12;
            year++;
        }
        /* "monthly 31" means the last day in shorter months. */
        int day = s->mday < days_in_month(year, mon) ? s->mday : days_in_month(year, mon);
        return at(year, mon, day, s->hour, s->minute);
    }
    default:
        return (time_t)-1;
    }
}

time_t pol_last_slot(const pol_schedule *s, time_t now)
{
    struct tm tm;
    if (s->kind == POL_SCHED_NONE || !localtime_r(&now, &tm))
        return (time_t)-1;
    for (int back = 0; back < 3; back++) {
        time_t t = slot_in_period(s, &tm, back);
        if (t <= now)
            return t;
    }
    return (time_t)-1;
}

time_t pol_next_slot(const pol_schedule *s, time_t now)
{
    struct tm tm;
    if (s->kind == POL_SCHED_NONE || !localtime_r(&now, &tm))
        return (time_t)-1;
    for (int ahead = 0; ahead < 3; ahead++) {
        time_t t = slot_in_period(s, &tm, -ahead);
        if (t > now)
            return t;
    }
    return (time_t)-1;
}

bool pol_is_due(const pol_schedule *s, time_t last_run, time_t now)
{
    time_t slot = pol_last_slot(s, now);
    if (slot == (time_t)-1)
        return false;
    /* A last run in the future means the clock was wrong then (or is now):
     * better one backup too many than none until that date. */
    return last_run == 0 || last_run < slot || last_run > now;
}

int64_t pol_schedule_period(pol_sched_kind k)
{
    switch (k) {
    case POL_HOURLY:
        return 3600;
    case POL_DAILY:
        return 86400;
    case POL_WEEKLY:
        return 7 * 86400;
    case POL_MONTHLY:
        return 31 * 86400;
    default:
        return 0; /* no schedule: no expectation of how often */
    }
}

int64_t pol_schedule_grace(pol_sched_kind k)
{
    int64_t period = pol_schedule_period(k);
    return period / 2 < 6 * 3600 ? period / 2 : 6 * 3600;
}

#define SLOTS_MAX 100000

static int by_time(const void *a, const void *b)
{
    time_t x = *(const time_t *)a, y = *(const time_t *)b;
    return (x > y) - (x < y);
}

void pol_slots_count(const pol_schedule *s, time_t from, time_t to, const time_t *made, size_t n,
                     pol_slots *out)
{
    *out = (pol_slots){0};
    time_t *v = n ? malloc(n * sizeof(*v)) : NULL;
    if (n && !v)
        n = 0; /* without memory every slot reads as missed: said, never hidden */
    else if (n) {
        memcpy(v, made, n * sizeof(*v));
        qsort(v, n, sizeof(*v), by_time);
    }
    time_t end = to - pol_schedule_grace(s->kind);
    int64_t period = pol_schedule_period(s->kind);
    if (period && end - from > (int64_t)SLOTS_MAX * period) /* the latest ones: the cap below */
        from = end - (time_t)(SLOTS_MAX * period);
    time_t slot = from > 0 ? pol_next_slot(s, from - 1) : (time_t)-1;
    size_t i = 0;
    for (int k = 0; k < SLOTS_MAX && slot != (time_t)-1 && slot <= end; k++) {
        time_t next = pol_next_slot(s, slot);
        while (i < n && v[i] < slot)
            i++;
        bool taken = i < n && (next == (time_t)-1 || v[i] < next);
        out->scheduled++;
        if (!taken && out->missed++ < POL_SLOTS_NAMED)
            out->named[out->missed - 1] = slot;
        slot = next;
    }
    free(v);
}
