/*
 * duration.h — "30s", "30m", "12h", "7d", "2w": the one way a duration is
 * written, in a policy (yaml_doc.h) and in options (--lock-wait).
 */
#ifndef POL_DURATION_H
#define POL_DURATION_H

#include <stdint.h>

/* `s` in seconds into `*secs`: a positive whole number and one unit (s, m,
 * h, d, w), nothing else. 0, or -EINVAL (nothing written). */
int pol_duration_parse(const char *s, int64_t *secs);

#endif
