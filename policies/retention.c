#include "policies/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "policies/schedule.h"

typedef struct order {
    const pol_gen *g;
    size_t i;
} order;

/* Newest first by sequence number, not by clock: a clock that was wrong when
 * a generation was sealed must not make the newest look old. */
static int newest_first(const void *a, const void *b)
{
    const pol_gen *x = ((const order *)a)->g, *y = ((const order *)b)->g;
    return (x->seq < y->seq) - (x->seq > y->seq);
}

/* A number naming the period of `t`: generations share it iff they share the period. */
static long period(time_t t, unsigned rule)
{
    struct tm tm;
    char buf[16];
    localtime_r(&t, &tm);
    switch (rule) {
    case POL_KEEP_HOURLY:
        return ((long)(tm.tm_year * 366 + tm.tm_yday)) * 24 + tm.tm_hour;
    case POL_KEEP_DAILY:
        return (long)tm.tm_year * 366 + tm.tm_yday;
    case POL_KEEP_WEEKLY:
        strftime(buf, sizeof(buf), "%G%V", &tm); /* ISO year and week */
        return strtol(buf, NULL, 10);
    case POL_KEEP_MONTHLY:
        return (long)tm.tm_year * 12 + tm.tm_mon;
    default:
        return tm.tm_year;
    }
}

static int oldest_first(const void *a, const void *b)
{
    return newest_first(b, a);
}

/* Walk by sequence number, oldest first: the reference is the latest
 * capture time of the in-order ones so far, so one far-future record does
 * not make every genuine generation after it look backdated. */
static void time_order(order *o, size_t n, time_t now, bool *ok)
{
    time_t latest = 0;
    bool have = false;
    qsort(o, n, sizeof(*o), oldest_first);
    for (size_t j = 0; j < n; j++) {
        const pol_gen *x = o[j].g;
        bool in = x->vouched ||
                  (x->time <= now + POL_TIME_SKEW && (!have || x->time >= latest - POL_TIME_SKEW));
        ok[o[j].i] = in;
        if (in && x->time <= now + POL_TIME_SKEW && (!have || x->time > latest)) {
            latest = x->time;
            have = true;
        }
    }
}

void pol_time_order(const pol_gen *g, size_t n, time_t now, bool *ok)
{
    order *o = malloc((n ? n : 1) * sizeof(*o));
    if (!o) {
        /* Without memory to judge, believe no time: nothing is counted. */
        for (size_t i = 0; i < n; i++)
            ok[i] = false;
        return;
    }
    for (size_t i = 0; i < n; i++)
        o[i] = (order){&g[i], i};
    time_order(o, n, now, ok);
    free(o);
}

/* A calendar rule (hourly to yearly) and how many periods it keeps. */
typedef struct period_rule {
    unsigned rule;
    int count;
} period_rule;

/* Take the generations out of order by time (`ok` false) out of `o`: kept,
 * and counted by no rule. Returns how many are left; *timeline is the
 * newest in-order capture time not in the future (`now` when none), the
 * clock the captures themselves vouch for. */
static size_t drop_out_of_order(order *o, size_t n, const bool *ok, time_t now, unsigned *keep,
                                time_t *timeline)
{
    size_t m = 0;
    bool seen = false;

    *timeline = now;
    for (size_t j = 0; j < n; j++) {
        time_t t = o[j].g->time;
        if (!ok[o[j].i]) {
            keep[o[j].i] |= POL_KEEP_TIME;
            continue;
        }
        /* A vouched-for time from the future is kept, but ages nothing. */
        if (t <= now + POL_TIME_SKEW && (!seen || t > *timeline)) {
            *timeline = t;
            seen = true;
        }
        o[m++] = o[j];
    }
    return m;
}

/* The reasons that do not depend on the calendar, on `o` newest first: no
 * rule at all, the newest, the last `keep_last`, and the lock. */
static void mark_recent(const pol_retention *r, const order *o, size_t n, time_t now,
                        time_t timeline, bool any_rule, unsigned *keep)
{
    int64_t lock = (int64_t)r->lock_days * 86400;
    size_t rank = 0; /* among those that fill slots */
    for (size_t j = 0; j < n; j++) {
        unsigned *k = &keep[o[j].i];
        time_t t = o[j].g->time;
        if (!any_rule)
            *k |= POL_KEEP_NO_RULES;
        if (!o[j].g->suspect && rank == 0)
            *k |= POL_KEEP_NEWEST;
        if (!o[j].g->suspect && (int)rank < r->keep_last)
            *k |= POL_KEEP_LAST;
        rank += !o[j].g->suspect;
        /* Out of the lock only when old by the clock and by the timeline. */
        if (r->lock_days > 0 && ((int64_t)now - t < lock || (int64_t)timeline - t < lock))
            *k |= POL_KEEP_LOCKED;
    }
}

/* Each calendar rule keeps the newest generation of each of its last
 * `count` periods that have one, on `o` newest first. */
static void mark_periods(const period_rule *rules, size_t nrules, const order *o, size_t n,
                         unsigned *keep)
{
    for (size_t k = 0; k < nrules; k++) {
        int left = rules[k].count;
        long last = 0;
        bool have = false;
        /* Walking newest first, the first generation of each new period is
         * that period's newest. */
        for (size_t j = 0; j < n && left > 0; j++) {
            if (o[j].g->suspect)
                continue;
            long p = period(o[j].g->time, rules[k].rule);
            if (have && p == last)
                continue;
            keep[o[j].i] |= rules[k].rule;
            last = p;
            have = true;
            left--;
        }
    }
}

void pol_retention_select(const pol_retention *r, const pol_gen *g, size_t n, time_t now,
                          unsigned *keep)
{
    const period_rule rules[] = {{POL_KEEP_HOURLY, r->keep_hourly},
                                 {POL_KEEP_DAILY, r->keep_daily},
                                 {POL_KEEP_WEEKLY, r->keep_weekly},
                                 {POL_KEEP_MONTHLY, r->keep_monthly},
                                 {POL_KEEP_YEARLY, r->keep_yearly}};
    const size_t nrules = sizeof(rules) / sizeof(*rules);
    bool any_rule = r->keep_last > 0;
    for (size_t k = 0; k < nrules; k++)
        any_rule |= rules[k].count > 0;

    order *o = malloc((n ? n : 1) * sizeof(*o));
    bool *ok = malloc((n ? n : 1) * sizeof(*ok));
    memset(keep, 0, n * sizeof(*keep));
    if (!o || !ok) {
        /* Without memory to decide, keep everything: never delete by accident. */
        for (size_t i = 0; i < n; i++)
            keep[i] = POL_KEEP_NO_RULES;
        free(o);
        free(ok);
        return;
    }
    for (size_t i = 0; i < n; i++)
        o[i] = (order){&g[i], i};
    time_order(o, n, now, ok);
    time_t timeline; /* the newest in-order capture: the signed clock */
    n = drop_out_of_order(o, n, ok, now, keep, &timeline);
    qsort(o, n, sizeof(*o), newest_first);
    mark_recent(r, o, n, now, timeline, any_rule, keep);
    mark_periods(rules, nrules, o, n, keep);
    free(o);
    free(ok);
}

const char *pol_keep_reasons(unsigned keep, bool people, char *buf, size_t n)
{
    static const char *const names[] = {
        N_("last"),   N_("hourly"), N_("daily"),  N_("weekly"),   N_("monthly"),
        N_("yearly"), N_("locked"), N_("newest"), N_("no rules"), N_("time out of order")};
    const char *sep = people ? C_("between reasons", ", ") : ", ";
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(*names) && at < n; i++)
        if (keep & (1u << i))
            at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? sep : "",
                                   people ? _(names[i]) : names[i]);
    if (!keep)
        snprintf(buf, n, "%s", people ? _("not kept") : "not kept");
    return buf;
}

int64_t pol_retention_span(const pol_retention *r, int64_t period)
{
    const int64_t hour = 3600, day = 86400;
    int64_t spans[] = {r->keep_hourly * hour,      r->keep_daily * day,
                       r->keep_weekly * 7 * day,   r->keep_monthly * 31 * day,
                       r->keep_yearly * 366 * day, r->keep_last * (period > 0 ? period : day),
                       r->lock_days * day};
    int64_t most = 0;
    for (size_t i = 0; i < sizeof(spans) / sizeof(*spans); i++)
        most = spans[i] > most ? spans[i] : most;
    return most;
}

int64_t pol_object_lock_span(const pol_dataset *d, const pol_medium *pm)
{
    const int64_t day = 86400;
    int64_t lock = (int64_t)pm->object.lock_days * day;
    int64_t keep = d ? pol_retention_span(&d->retention, pol_schedule_period(d->schedule.kind)) /
                           day * day
                     : 0;
    return keep > lock ? keep : lock;
}

int pol_retention_keeps(const pol_retention *r)
{
    int rules[] = {r->keep_last,   r->keep_hourly,  r->keep_daily,
                   r->keep_weekly, r->keep_monthly, r->keep_yearly};
    int most = 0;
    for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++)
        most = rules[i] > most ? rules[i] : most;
    return most;
}
