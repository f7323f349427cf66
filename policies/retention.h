/*
 * retention.h — which generations a retention policy keeps, and why.
 *
 * keep_last N keeps the N newest (by sequence number). keep_hourly/daily/weekly/monthly/yearly N
 * keep, for each of the last N periods (local time; weeks are ISO weeks) that
 * have a generation, the newest generation of that period. lock_days keeps
 * every generation younger than that, whatever the other rules say, and the
 * newest generation is always kept. With no keep_* rule at all, everything is
 * kept. A pure function: tested with tables, without disks or clocks.
 */
#ifndef POL_RETENTION_H
#define POL_RETENTION_H

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
    POL_KEEP_NO_RULES = 1 << 8 /* the policy sets no keep_* rule */
};

typedef struct pol_gen {
    time_t time; /* when it was captured */
    uint32_t seq;
} pol_gen;

/* For each of the `n` generations (any order), `keep[i]` receives the reasons
 * to keep it (POL_KEEP_*), or 0 when the policy lets it go. */
void pol_retention_select(const pol_retention *r, const pol_gen *g, size_t n, time_t now,
                          unsigned *keep);

/* "last, daily, locked" for the reasons in `keep`, into buf. */
const char *pol_keep_reasons(unsigned keep, char *buf, size_t n);

#endif
