/* clock.c — the wall clock: the system clock, and nothing else in a release build. */
#include "bkp/io/clock.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

time_t bkp_iso_parse(const char *s)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (!end || *end)
        return -1;
    return timegm(&tm);
}

void bkp_iso_time(char *out, size_t n, time_t t)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, n, "1970-01-01T00:00:00Z");
}

const char *bkp_local_time(char *out, size_t n, time_t t, const char *none)
{
    struct tm tm;
    if (t <= 0 || !localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M %Z", &tm))
        snprintf(out, n, "%s", none);
    return out;
}

#ifndef BKP_TEST_CLOCK /* a test build takes tests/support/test_clock.c */
bool bkp_clock_is_test(void)
{
    return false;
}

/* Retention and lock periods are decided by this clock: nothing the
 * environment says may move it. */
time_t bkp_now(void)
{
    return time(NULL);
}

int64_t bkp_lock_day(void)
{
    return 86400;
}
#endif

const char *bkp_tz_value(char *out, size_t n, time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        snprintf(out, n, "UTC0");
        return out;
    }
    /* POSIX counts west of Greenwich positive: JST, +9 h, is "JST-9". */
    long west = -tm.tm_gmtoff, h = (west < 0 ? -west : west) / 3600,
         m = (west < 0 ? -west : west) / 60 % 60;
    const char *name = tm.tm_zone ? tm.tm_zone : "";
    bool letters = strlen(name) >= 3;
    for (const char *c = name; *c && letters; c++)
        letters = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z');
    char abbr[40];
    snprintf(abbr, sizeof(abbr), letters ? "%s" : "<%s>",
             letters ? name : (*name ? name : "LOCAL"));
    if (m)
        snprintf(out, n, "%s%s%ld:%02ld", abbr, west < 0 ? "-" : "", h, m);
    else
        snprintf(out, n, "%s%s%ld", abbr, west < 0 ? "-" : "", h);
    return out;
}
