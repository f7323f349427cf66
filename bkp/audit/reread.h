/*
 * reread.h — the state of the rolling re-read (`verify --sample`): which
 * pack was last read back when.
 *
 * The state is a JSON object: "last_run" (seconds since the epoch) and, per
 * pack, its name (64 hex digits) mapped to the time it was last read. It
 * lives in REPO/cache/reread.json, or in a medium's registry entry under
 * "reread". It only orders the sample, but it is read from disk: a state
 * that is not exactly this shape is discarded (and every pack counts as
 * never read), never trusted.
 */
#ifndef BKP_REREAD_H
#define BKP_REREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "bkp/store/index.h"
#include "bkp/store/repo.h"

/* 80 bytes a pack: 200,000 packs of 32 MiB, 6 TiB. Parsing costs about ten
 * times the bytes, so the cap is also what bounds the memory a forged state
 * can take. */
#define BKP_REREAD_MAX (16U << 20)

/* True when `state` is a re-read state: an object whose keys are "last_run"
 * or pack names and whose values are times from 0 up to a day after `now`. */
bool bkp_reread_valid(const json_t *state, time_t now);

/* Parse `len` bytes of a re-read state into `*out` (a new reference):
 * 0, or -EBADMSG when they are not a valid state (nothing is logged). */
int bkp_reread_parse(const char *buf, size_t len, time_t now, json_t **out);

/* The plan of one sample: the names (hex, malloc'd, *n of them) of the
 * `pct` % of the packs of `x` read longest ago by `state` (never read
 * first; ties by name), rounded up, and every pack last read before `due`
 * (0: none is due). NULL without memory; bkp_strv_free frees it. */
char **bkp_reread_plan(const bkp_index *x, const json_t *state, double pct, time_t due,
                       size_t *n);

/* The primary's state, REPO/cache/reread.json: an empty state when there is
 * none, or when it is not valid (then said: the next sample starts with the
 * packs it does not name). Never NULL but without memory. */
json_t *bkp_reread_load(const bkp_repo *r);
/* Keep `state` as REPO/cache/reread.json (durably, 0600). */
int bkp_reread_save(bkp_repo *r, const json_t *state);
/* The same through a read-only handle (a `verify --sample`): the state of
 * the rolling re-read is a note of what was read when, not the repository's
 * content (registry.h, bkp_media_update_ro, says which writes a read handle
 * may make). */
int bkp_reread_save_ro(const bkp_repo *r, const json_t *state);
/* ... never onto a copy on a medium (bkp_gen_copy_medium): -EROFS, nothing
 * written; its sample's state is not kept. */

#endif
