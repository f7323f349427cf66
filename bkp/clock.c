/* clock.c — the wall clock; $BKP_NOW replaces it in test builds only. */
#include "bkp/clock.h"

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

#ifdef BKP_TEST_CLOCK
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
#else
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
#endif
