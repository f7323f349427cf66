/*
 * clock.h — the wall clock every recorded time comes from.
 *
 * Time is not an input: a release build reads the system clock and nothing
 * else. A test build (cmake -DBKP_TEST_CLOCK=ON) lets $BKP_NOW (seconds
 * since the epoch, or YYYY-MM-DDTHH:MM:SSZ) replace it, so rotations over
 * weeks and drills can be rehearsed without waiting.
 *
 * The system clock is read directly only for names and ages that are never
 * recorded: lock staleness (lock.c), the name of a rejected intent
 * (prune_recover.c), the racy-mtime window of the files cache (capture.c).
 */
#ifndef BKP_CLOCK_H
#define BKP_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

time_t bkp_now(void);
/* The length of a day of Object Lock, in seconds: 86400. A test build reads
 * $BKP_TEST_LOCK_DAY instead, so that a test sees locks expire (the store's
 * clock is the real one); a release build has no way to shorten a lock. */
int64_t bkp_lock_day(void);

/* Was this build made with the test clock? (Tests that need it skip.) */
bool bkp_clock_is_test(void);

/* "YYYY-MM-DDTHH:MM:SSZ" of `t` into `out` (at least 21 bytes). */
void bkp_iso_time(char *out, size_t n, time_t t);

/* The inverse; -1 when `s` is not such a time. */
time_t bkp_iso_parse(const char *s);

/* A time for people, local to the minute with its zone ("2026-11-24 13:06
 * JST"): every date a person reads. `t` <= 0 (or a time that cannot be
 * shown) writes `none`. Returns `out`. */
const char *bkp_local_time(char *out, size_t n, time_t t, const char *none);
/* The local time zone as a TZ value that a machine without zone data
 * reads the same, seasons and all ("JST-9", "UTC0",
 * "EST5EDT,M3.2.0,M11.1.0"), into `out` (`n` bytes): the zone file's rule,
 * else the offset at `t` ("<+0530>-5:30"). For a paper that tells a new
 * machine to show its times. */
const char *bkp_tz_value(char *out, size_t n, time_t t);
/* The rule a zone file's `len` bytes end with (TZif version 2 or later: a
 * last line such as "EST5EDT,M3.2.0,M11.1.0", printable, at most 64
 * bytes) into `out` (`n` bytes); false when they hold none. */
bool bkp_tz_rule_parse(const char *buf, size_t len, char *out, size_t n);

#endif
