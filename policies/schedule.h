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

#endif
