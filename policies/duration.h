/*
 * duration.h — "30s", "30m", "12h", "7d", "2w": the one way a duration is
 * written, in a policy (yaml_doc.h) and in options (--lock-wait).
 */
#ifndef POL_DURATION_H
#define POL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* `s` in seconds into `*secs`: a positive whole number and one unit (s, m,
 * h, d, w), nothing else. 0, or -EINVAL (nothing written). */
int pol_duration_parse(const char *s, int64_t *secs);

/* `secs` as a policy writes it, in its largest unit of s, m, h, d that is
 * exact ("3h" for 10800, "90s"), into `buf`; returns `buf`. */
const char *pol_duration_text(char *buf, size_t n, int64_t secs);

#endif
