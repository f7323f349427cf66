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

bool bkp_tz_rule_parse(const char *buf, size_t len, char *out, size_t n)
{
    if (len < 6 || memcmp(buf, "TZif", 4) || buf[4] < '2' || buf[len - 1] != '\n')
        return false;
    size_t at = len - 1; /* the footer: after the newline before the last */
    while (at > 0 && buf[at - 1] != '\n')
        at--;
    size_t rule = len - 1 - at;
    if (!at || !rule || rule >= n || rule > 64)
        return false;
    for (size_t i = at; i < len - 1; i++)
        if (buf[i] <= ' ' || buf[i] > '~')
            return false;
    memcpy(out, buf + at, rule);
    out[rule] = '\0';
    return true;
}

/* The rule of zone file `path`, into `out`; false when it has none. */
static bool zone_rule(const char *path, char *out, size_t n)
{
    char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f)
        fclose(f);
    return bkp_tz_rule_parse(buf, len, out, n);
}

const char *bkp_tz_value(char *out, size_t n, time_t t)
{
    /* The zone's own rule, seasons and all: TZ when it is one, else that
     * of the zone file TZ names, or of the machine's. */
    const char *tz = getenv("TZ");
    char path[512];
    if (tz && *tz && *tz != ':' && !strchr(tz, '/') && strpbrk(tz, "0123456789") &&
        strlen(tz) < n) {
        snprintf(out, n, "%s", tz);
        return out;
    }
    if (tz && *tz == ':')
        tz++;
    snprintf(path, sizeof(path), "%s%s",
             tz && *tz ? (*tz == '/' ? "" : "/usr/share/zoneinfo/") : "/etc/localtime",
             tz && *tz ? tz : "");
    if (!strstr(path, "..") && zone_rule(path, out, n))
        return out;
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
