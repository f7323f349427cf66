/* Durations as written in a policy and on the command line. */
#include "policies/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int pol_duration_parse(const char *s, int64_t *secs)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v <= 0 || end[0] == '\0' || end[1] != '\0')
        return -EINVAL;
    static const struct {
        char unit;
        int64_t mul;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
        if (end[0] == units[i].unit) {
            if (v > INT64_MAX / units[i].mul / 1000)
                return -EINVAL;
            *secs = v * units[i].mul;
            return 0;
        }
    return -EINVAL;
}

const char *pol_duration_text(char *buf, size_t n, int64_t secs)
{
    static const struct {
        char unit;
        int64_t secs;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}};
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
        if (secs > 0 && secs % units[i].secs == 0) {
            snprintf(buf, n, "%lld%c", (long long)(secs / units[i].secs), units[i].unit);
            return buf;
        }
    snprintf(buf, n, "%llds", (long long)secs);
    return buf;
}
