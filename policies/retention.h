/*
 * retention.h — which generations a retention policy keeps, and why.
 *
 * keep_last N keeps the N newest (by sequence number). keep_hourly/daily/weekly/monthly/yearly N
 * keep, for each of the last N periods (local time; weeks are ISO weeks) that
 * have a generation, the newest generation of that period. lock_days keeps
 * every generation younger than that, whatever the other rules say, and the
 * newest generation is always kept. With no keep_* rule at all, everything is
 * kept. A pure function: tested with tables, without disks or clocks.
 *
 * Time is an input an attacker can write (restic #22057: a host with
 * append-only access adds snapshots dated in the past or far in the future,
 * so that keep_last/keep_daily count them as the newest and let the genuine
 * ones go). So a capture time is believed only when it keeps the order of
 * the sequence numbers, which the host cannot choose:
 *  - a generation is in time order when its capture time is at most
 *    POL_TIME_SKEW after `now` and at most POL_TIME_SKEW before the latest
 *    capture time of the in-order generations before it (by sequence);
 *    one an operator cleared (`vouched`) is taken as it is;
 *  - one out of time order (backdated, or from the future) is kept
 *    (POL_KEEP_TIME) and never counted: not by keep_last, not as any
 *    period's newest, not as the newest — so it can push nothing out;
 *  - lock_days is measured twice: a generation leaves the lock only when it
 *    is lock_days old both by the clock (now - capture) and by the signed
 *    timeline (the newest in-order capture - capture). A clock set forward
 *    ages nothing until generations sealed under it follow; a backdated
 *    record ages only itself, and that one is kept as out of order.
 */
#ifndef POL_RETENTION_H
#define POL_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policies/policy.h"

enum {
    POL_KEEP_LAST = 1 << 0,
    POL_KEEP_HOURLY = 1 << 1,
    POL_KEEP_DAILY = 1 << 2,
    POL_KEEP_WEEKLY = 1 << 3,
    POL_KEEP_MONTHLY = 1 << 4,
    POL_KEEP_YEARLY = 1 << 5,
    POL_KEEP_LOCKED = 1 << 6,  /* younger than lock_days */
    POL_KEEP_NEWEST = 1 << 7,  /* the newest generation is never deleted */
    POL_KEEP_NO_RULES = 1 << 8, /* the policy sets no keep_* rule */
    POL_KEEP_TIME = 1 << 9      /* its capture time is out of order: kept, never counted */
};

/* How far a capture time may lie after now, or before its predecessor's
 * (clocks are stepped by NTP; two runs may seal within one second). */
#define POL_TIME_SKEW 300

typedef struct pol_gen {
    time_t time; /* when it was captured (signed in its record) */
    uint32_t seq;
    bool vouched; /* an operator cleared it: its time is taken as it is */
    /* Marked suspicious and not cleared: it may hold encrypted files, so it
     * fills no slot of the rules (newest, last, a period's); the lock and
     * the caller's holds keep it. */
    bool suspect;
} pol_gen;

/* For each of the `n` generations of one data set (any order), `ok[i]`:
 * is its capture time in order (above)? */
void pol_time_order(const pol_gen *g, size_t n, time_t now, bool *ok);

/* For each of the `n` generations (any order), `keep[i]` receives the reasons
 * to keep it (POL_KEEP_*), or 0 when the policy lets it go. */
void pol_retention_select(const pol_retention *r, const pol_gen *g, size_t n, time_t now,
                          unsigned *keep);

/* "last, daily, locked" for the reasons in `keep`, into buf: as programs
 * read it (--json), or with `people` in the reader's language. */
const char *pol_keep_reasons(unsigned keep, bool people, char *buf, size_t n);

/* The longest a generation of a data set with retention `r` may be kept, in
 * seconds, by the span of each rule: keep_hourly N hours, keep_daily N days,
 * keep_weekly 7N days, keep_monthly 31N days, keep_yearly 366N days,
 * keep_last N times `period` (the schedule's, a day when it has none), and
 * lock_days; 0 with no rule. With no keep_* rule everything is kept: the
 * caller decides what "forever" means there. Object-lock dates start from
 * it (bkp rotate to an object medium). */
int64_t pol_retention_span(const pol_retention *r, int64_t period);

/* How long, in seconds, each generation of data set `d` stays locked on the
 * object medium `pm` from its capture: the longest of the medium's
 * lock.days and what the data set's rules keep (pol_retention_span), in
 * whole days. Nothing can delete it earlier; the provider bills it. */
int64_t pol_object_lock_span(const pol_dataset *d, const pol_medium *pm);

/* The fewest generations retention `r` keeps once enough were captured: the
 * largest of its keep_* counts; 0 when it has no rule (then all are kept). */
int pol_retention_keeps(const pol_retention *r);

#endif
