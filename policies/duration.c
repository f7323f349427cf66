/* Durations as written in a policy and on the command line. */
#include "policies/duration.h"

#include <ctype.h>
#include <errno.h>
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
