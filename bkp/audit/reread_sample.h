/*
 * reread_sample.h — one sample of the rolling re-read (`verify --sample`,
 * and the re-read `bkp run` schedules): the plan (reread.h) read back and
 * authenticated (verify.h), and the state kept where it lives — the
 * primary's cache, or a medium's registry entry (registry.h). Its own module
 * because it uses all three, and the medium registry checks the state
 * with reread.h.
 */
#ifndef BKP_REREAD_SAMPLE_H
#define BKP_REREAD_SAMPLE_H

#include <stdint.h>
#include <time.h>

#include "bkp/store/repo.h"
#include "bkp/audit/verify.h"

/* One sample: re-read the `pct` % of the packs of `target` — the primary
 * `r` itself, or the copy of it on `medium` (its state then kept in the
 * medium's registry entry in `r`) — read longest ago; pct < 0: the share
 * the time since the last sample is of `period` seconds, and every pack not
 * read within `period`. The packs read are noted in the state, which is
 * kept through the read handle `r` (bkp_reread_save_ro, bkp_media_update_ro;
 * `target` is only read) (a failure to keep it is a warning: the next sample may read the
 * same packs). Returns what bkp_verify_packs returns (0 when it ran, the
 * problems counted in `res`; negative when it could not), `res` filled. */
int bkp_reread_sample(const bkp_repo *r, const bkp_repo *target, const char *medium, double pct,
                      int64_t period, int workers, bkp_verify_result *res);
/* When the last sample of `target` (as bkp_reread_sample's arguments)
 * was taken: 0 never, or its state cannot be read (a sample is then due). */
time_t bkp_reread_last(const bkp_repo *r, const bkp_repo *target, const char *medium);

#endif
