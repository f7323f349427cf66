/*
 * clock.h — the wall clock every recorded time comes from.
 *
 * $BKP_NOW (seconds since the epoch, or YYYY-MM-DDTHH:MM:SSZ) replaces the
 * real time, so rotations over weeks and drills can be rehearsed and tested
 * without waiting; every record written under it carries the given time.
 */
#ifndef BKP_CLOCK_H
#define BKP_CLOCK_H

#include <stddef.h>
#include <time.h>

time_t bkp_now(void);

/* "YYYY-MM-DDTHH:MM:SSZ" of `t` into `out` (at least 21 bytes). */
void bkp_iso_time(char *out, size_t n, time_t t);

/* The inverse; -1 when `s` is not such a time. */
time_t bkp_iso_parse(const char *s);

#endif
