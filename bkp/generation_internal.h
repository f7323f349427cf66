/*
 * generation_internal.h — what generation.c (records, listing, sealing) and
 * tombstone.c (clearances, tombstones) share.
 */
#ifndef BKP_GENERATION_INTERNAL_H
#define BKP_GENERATION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/generation.h"

/* The tombstone at `path`, for record `seq` of `dataset`, found on the copy
 * of medium `medium` (NULL: the primary); listed with status -EBADMSG (and
 * foreign) when it does not count there. */
int bkp_gen_load_tombstone(bkp_repo *r, const char *path, const char *dataset, uint32_t seq,
                           const char *medium, bkp_gen **out);
/* Is there, in `dir`, a sound clearance naming record `g`? */
bool bkp_gen_load_clearance(bkp_repo *r, const char *dir, const bkp_gen *g);

#endif
