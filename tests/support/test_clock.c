/* test_clock.c — the clock of a test build (cmake -DBKP_TEST_CLOCK=ON):
 * $BKP_NOW (seconds since the epoch, or YYYY-MM-DDTHH:MM:SSZ) replaces the
 * system clock, so rotations over weeks are rehearsed without waiting. It is
 * compiled into the core only in a test build; a release build has the
 * system clock of bkp/io/clock.c and nothing else. */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "bkp/io/clock.h"

bool bkp_clock_is_test(void)
{
    return true;
}

time_t bkp_now(void)
{
    const char *s = getenv("BKP_NOW");
    if (s && *s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (!*end && v > 0)
            return (time_t)v;
        time_t t = bkp_iso_parse(s);
        if (t > 0)
            return t;
    }
    return time(NULL);
}

int64_t bkp_lock_day(void)
{
    const char *s = getenv("BKP_TEST_LOCK_DAY");
    long long v = s && *s ? strtoll(s, NULL, 10) : 0;
    return v > 0 ? (int64_t)v : 86400;
}
