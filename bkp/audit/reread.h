/*
 * reread.h — the state of the rolling re-read (`verify --sample`): which
 * pack was last read back when.
 *
 * As kept, the state is a JSON object: "last_run" (seconds since the epoch)
 * and, per pack, its name (64 hex digits) mapped to the time it was last
 * read. It lives in REPO/cache/reread.json, or in a medium's registry entry
 * under "reread". It only orders the sample, but it is read from disk: a
 * state that is not exactly this shape is discarded (and every pack counts
 * as never read), never trusted. Inside the program it is a bkp_reread;
 * this header's parse, set and each are its one codec.
 */
#ifndef BKP_REREAD_H
#define BKP_REREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/store/index.h"
#include "bkp/store/repo.h"

/* 80 bytes a pack: 200,000 packs of 32 MiB, 6 TiB. Parsing costs about ten
 * times the bytes, so the cap is also what bounds the memory a forged state
 * can take. */
#define BKP_REREAD_MAX (16U << 20)

typedef struct bkp_reread_pack {
    uint8_t id[BKP_ID_LEN];
    time_t at; /* when it was last read back */
} bkp_reread_pack;

typedef struct bkp_reread {
    time_t last_run;    /* 0: never */
    bkp_reread_pack *v; /* sorted by id, each once */
    size_t n, cap;
} bkp_reread;

/* One key of a state as kept, at `now`: "last_run" or a pack's name, with
 * a time from 0 up to a day after `now` (a clock set back since; further
 * ahead would keep a pack out of the sample for ever). 0, -EBADMSG for a
 * key (a pack's name in lower case) or a time out of shape, or -ENOMEM.
 * Keys set one by one are put in order by bkp_reread_seal. */
int bkp_reread_set(bkp_reread *s, const char *key, int64_t at, time_t now);
/* Order what was set: 0, or -EBADMSG when a pack was named twice. */
int bkp_reread_seal(bkp_reread *s);
/* Each key of `s` as kept ("last_run" first, when it ran; then the packs by
 * name) to `fn`, until it returns non-zero (returned). */
int bkp_reread_each(const bkp_reread *s, int (*fn)(const char *key, int64_t at, void *ctx),
                    void *ctx);
/* When pack `id` was last read, 0 for never. */
time_t bkp_reread_at(const bkp_reread *s, const uint8_t id[BKP_ID_LEN]);
/* Note that the packs named `hex` (n, each once, as bkp_reread_plan gives
 * them) were read at `now`, and the run: 0, -ENOMEM, or -EINVAL for a pack
 * named twice (nothing changed). */
int bkp_reread_mark(bkp_reread *s, char *const *hex, size_t n, time_t now);
/* A copy of `s` into `*out`: 0 or -ENOMEM. */
int bkp_reread_copy(const bkp_reread *s, bkp_reread *out);
void bkp_reread_free(bkp_reread *s);

/* Parse `len` bytes of a state as kept into `*out`: 0, or -EBADMSG when
 * they are not a valid state at `now` (nothing is logged), or -ENOMEM. */
int bkp_reread_parse(const char *buf, size_t len, time_t now, bkp_reread *out);
/* The state as kept (malloc'd JSON text), or NULL without memory. */
char *bkp_reread_text(const bkp_reread *s);

/* The plan of one sample: the names (hex, malloc'd, *n of them) of the
 * `pct` % of the packs of `x` read longest ago by `state` (never read
 * first; ties by name), rounded up, and every pack last read before `due`
 * (0: none is due). NULL without memory; bkp_strv_free frees it. */
char **bkp_reread_plan(const bkp_index *x, const bkp_reread *state, double pct, time_t due,
                       size_t *n);

/* The primary's state, REPO/cache/reread.json, into `*out`: an empty state
 * when there is none, or when it is not valid (then said: the next sample
 * starts with the packs it does not name). 0 or -ENOMEM. */
int bkp_reread_load(const bkp_repo *r, bkp_reread *out);
/* Keep `state` as REPO/cache/reread.json (durably, 0600), through a
 * read-only handle (a `verify --sample`): the state of the rolling re-read
 * is a note of what was read when, not the repository's content
 * (registry.h, bkp_media_update_ro, says which writes a read handle may
 * make); never onto a copy on a medium (bkp_gen_copy_medium): -EROFS,
 * nothing written; its sample's state is not kept. */
int bkp_reread_save_ro(const bkp_repo *r, const bkp_reread *state);

#endif
