/*
 * schedule.h — is a data set due? Pure functions of a schedule, the time of
 * the last run and an injected "now", in local time (TZ), so they are tested
 * without clocks or disks.
 *
 * A schedule's slots are the local times it names ("daily 02:00": every day
 * at 02:00). A data set is due when the latest slot at or before now is later
 * than its last run: a machine that was off over several slots catches up
 * once, not once per missed slot. A data set never run is due at once.
 */
#ifndef POL_SCHEDULE_H
#define POL_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "policies/policy.h"

/* The latest slot at or before `now`; (time_t)-1 for a schedule without slots. */
time_t pol_last_slot(const pol_schedule *s, time_t now);
/* The first slot strictly after `now`; (time_t)-1 for a schedule without slots. */
time_t pol_next_slot(const pol_schedule *s, time_t now);
/* `last_run` 0 means never; a last run later than now counts as due. */
bool pol_is_due(const pol_schedule *s, time_t last_run, time_t now);
/* The period of a schedule kind in seconds (a month is 31 days); 0 for none. */
int64_t pol_schedule_period(pol_sched_kind k);
/* How long after a slot its backup may still be running: half a period,
 * at most six hours. A slot older than that with no backup since it was
 * missed (the server off, cron not running, a run that failed before it
 * could record anything). */
int64_t pol_schedule_grace(pol_sched_kind k);

/* The slots of a schedule in a period, and those no backup took. */
#define POL_SLOTS_NAMED 5
typedef struct pol_slots {
    size_t scheduled; /* slots in the period, each at least its grace before its end */
    size_t missed;    /* of them, those with no backup from the slot to the next */
    time_t named[POL_SLOTS_NAMED]; /* the first of the missed */
} pol_slots;
/* Count the slots of `s` from `from` to `to` (a slot later than `to` less
 * its grace is not yet judged) against `made`, the times of the backups
 * that were made (`n` of them, in any order): a slot is taken by a backup
 * at or after it and before the next slot, so a night caught up in the
 * morning is not missed. At most the latest 100000 slots are looked at
 * (hourly for eleven years). */
void pol_slots_count(const pol_schedule *s, time_t from, time_t to, const time_t *made, size_t n,
                     pol_slots *out);

#endif
