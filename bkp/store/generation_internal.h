/*
 * generation_internal.h — what generation.c (records, listing), seal.c
 * (sealing) and tombstone.c (clearances, tombstones) share.
 */
#ifndef BKP_GENERATION_INTERNAL_H
#define BKP_GENERATION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/generation.h"

#define BKP_GEN_RECORD_FORMAT "bkp-generation"
#define BKP_GEN_RECORD_VERSION 1

/* The record at `path` (of `dataset`, number `seq`), authenticated: 0 with
 * `*out`, whose status is -EBADMSG when it is damaged or moved under another
 * name (kept visible: verify must name it); a negative errno otherwise. */
int bkp_gen_load_record(const bkp_repo *r, const char *path, const char *dataset, uint32_t seq,
                        bkp_gen **out);
/* The tombstone at `path`, for record `seq` of `dataset`, found on the copy
 * of medium `medium` (NULL: the primary); listed with status -EBADMSG (and
 * foreign) when it does not count there. */
int bkp_gen_load_tombstone(const bkp_repo *r, const char *path, const char *dataset, uint32_t seq,
                           const char *medium, bkp_gen **out);
/* Keep `text`, a record's or tombstone's signed JSON, in g->text. */
int bkp_gen_keep_text(const uint8_t *text, size_t len, bkp_gen *g);
/* Is there, in `dir`, a sound clearance naming record `g`? */
bool bkp_gen_load_clearance(const bkp_repo *r, const char *dir, const bkp_gen *g);

#endif
