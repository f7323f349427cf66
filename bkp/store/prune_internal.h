/*
 * prune_internal.h — the index of what stays after a prune, written one
 * segment at a time (prune_index.c), for prune.c's apply step.
 *
 * The new index is never whole in memory: the old segments are read one at
 * a time, the packs that go are dropped, and each new segment is written
 * (durably, and named in the intent) as soon as the next pack would not fit
 * in it. Memory holds one old segment and one new one (each at most
 * bkp_repo_segment_entries() entries, whole packs) and a few bytes a pack,
 * never anything a blob.
 *
 * Use: fill in the public fields, then bkp_stays_begin, bkp_stays_old, any
 * number of bkp_stays_add (the packs of a repack, durable before), then
 * bkp_stays_end; bkp_stays_free always (also after an error, and for a
 * zeroed struct). Errors are 0 or a negative errno, logged here.
 */
#ifndef BKP_PRUNE_INTERNAL_H
#define BKP_PRUNE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/index.h"
#include "bkp/store/intent.h"
#include "bkp/store/repo.h"

typedef struct bkp_stays_ref bkp_stays_ref;
typedef struct bkp_stays_seen bkp_stays_seen;

typedef struct bkp_stays {
    bkp_repo *r;      /* borrowed: its index numbers the packs, its keys seal */
    const char *idir; /* the repository's index/ and packs/ */
    const char *pdir;
    const bool *dead; /* per pack number of r's index: the pack goes */
    bkp_intent *in;   /* borrowed: old_segs are read, each new segment joins new_segs */
    /* private */
    uint32_t np, max;
    bkp_stays_ref *refs;  /* r's packs sorted by ID, with their numbers */
    bkp_stays_seen *seen; /* per pack number: the lists of it already written */
    bkp_index *cur;       /* the segment being filled */
    uint64_t segments;    /* written so far */
} bkp_stays;

int bkp_stays_begin(bkp_stays *s) __attribute__((warn_unused_result));
/* The packs of the old segments (intent old_segs) that stay. */
int bkp_stays_old(bkp_stays *s) __attribute__((warn_unused_result));
/* Pack `pack` with its `n` entries `e`: a new pack, durable already. */
int bkp_stays_add(bkp_stays *s, const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n)
    __attribute__((warn_unused_result));
/* The packs that stay and that no segment read named (from their trailers),
 * then the last segment. */
int bkp_stays_end(bkp_stays *s) __attribute__((warn_unused_result));
void bkp_stays_free(bkp_stays *s);

#endif
