/* Durations and schedules as written in a policy. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bkp/io/i18n.h"
#include "policies/policy.h"

static int parse_hhmm(const char *s, int *h, int *m)
{
    int hh, mm, n = 0;
    if (sscanf(s, "%2d:%2d%n", &hh, &mm, &n) != 2 || s[n] != '\0' || n != 5 || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59)
        return -EINVAL;
    *h = hh;
    *m = mm;
    return 0;
}

static const char *const wdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const wdays_long[] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

int pol_schedule_parse(const char *s, pol_schedule *out)
{
    char kind[16], a[32], b[32], extra[2];
    pol_schedule r = {0};
    if (!s)
        return -EINVAL;
    int n = sscanf(s, "%15s %31s %31s %1s", kind, a, b, extra);
    if (n < 1)
        return -EINVAL;
    if (!strcasecmp(kind, "hourly")) {
        r.kind = POL_HOURLY;
        if (n == 2) {
            int mm, k = 0;
            if (sscanf(a, ":%2d%n", &mm, &k) != 1 || a[k] || mm < 0 || mm > 59)
                return -EINVAL;
            r.minute = mm;
        } else if (n != 1) {
            return -EINVAL;
        }
    } else if (!strcasecmp(kind, "daily")) {
        r.kind = POL_DAILY;
        if (n != 2 || parse_hhmm(a, &r.hour, &r.minute))
            return -EINVAL;
    } else if (!strcasecmp(kind, "weekly")) {
        r.kind = POL_WEEKLY;
        if (n != 3 || parse_hhmm(b, &r.hour, &r.minute))
            return -EINVAL;
        r.wday = -1;
        for (int i = 0; i < 7; i++)
            if (!strcasecmp(a, wdays[i]) || !strcasecmp(a, wdays_long[i]))
                r.wday = i;
        if (r.wday < 0)
            return -EINVAL;
    } else if (!strcasecmp(kind, "monthly")) {
        char *end;
        r.kind = POL_MONTHLY;
        if (n != 3 || parse_hhmm(b, &r.hour, &r.minute))
            return -EINVAL;
        long d = strtol(a, &end, 10);
        if (*end || d < 1 || d > 31)
            return -EINVAL;
        r.mday = (int)d;
    } else {
        return -EINVAL;
    }
    *out = r;
    return 0;
}

const char *pol_schedule_words(const pol_schedule *s, char *buf, size_t n)
{
    static const char *const days[] = {N_("Sunday"),   N_("Monday"), N_("Tuesday"), N_("Wednesday"),
                                       N_("Thursday"), N_("Friday"), N_("Saturday")};
    switch (s->kind) {
    case POL_HOURLY:
        snprintf(buf, n, _("hourly at minute %02d"), s->minute);
        break;
    case POL_DAILY:
        snprintf(buf, n, _("daily at %02d:%02d"), s->hour, s->minute);
        break;
    case POL_WEEKLY:
        snprintf(buf, n, _("every %s at %02d:%02d"), _(days[s->wday % 7]), s->hour, s->minute);
        break;
    case POL_MONTHLY:
        snprintf(buf, n, _("monthly on day %d at %02d:%02d"), s->mday, s->hour, s->minute);
        break;
    default:
        snprintf(buf, n, "%s", _("not scheduled (by hand)"));
    }
    return buf;
}

const char *pol_schedule_text(const pol_schedule *s, char *buf, size_t n)
{
    switch (s->kind) {
    case POL_HOURLY:
        snprintf(buf, n, "hourly :%02d", s->minute);
        break;
    case POL_DAILY:
        snprintf(buf, n, "daily %02d:%02d", s->hour, s->minute);
        break;
    case POL_WEEKLY:
        snprintf(buf, n, "weekly %s %02d:%02d", wdays[s->wday], s->hour, s->minute);
        break;
    case POL_MONTHLY:
        snprintf(buf, n, "monthly %d %02d:%02d", s->mday, s->hour, s->minute);
        break;
    default:
        snprintf(buf, n, "manual");
    }
    return buf;
}
