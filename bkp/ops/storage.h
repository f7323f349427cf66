/*
 * storage.h — what a repository takes on its disk, and what that stands
 * for: the bytes a disk, a tape or a bucket will need for a copy of it, and
 * the ratio of those to the files its generations hold (`bkp status`).
 */
#ifndef BKP_OPS_STORAGE_H
#define BKP_OPS_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

typedef struct ops_storage {
    uint64_t stored; /* the repository's files that a copy carries (all but this host's cache
                        and locks), in bytes */
    uint64_t packs;  /* of which the packs (the data, compressed and encrypted) */
    /* What they stand for, in bytes of the files captured: */
    uint64_t newest;    /* the newest sealed generation of each data set (a restore of all) */
    uint64_t kept;      /* every sealed generation kept, each counted whole */
    size_t generations; /* how many that is */
    size_t datasets;
} ops_storage;

/* The bytes of `r`'s files into `out->stored` and `out->packs`: 0, or a
 * negative errno when its folders cannot be read (logged). One stat per
 * file, nothing read. */
int ops_storage_files(const bkp_repo *r, ops_storage *out);
/* What the generations `v` (`n`, bkp_gen_list's: by data set, then
 * sequence) stand for, into the rest of `out`. */
void ops_storage_count(ops_storage *out, bkp_gen *const *v, size_t n);

/* Stored bytes per byte of the newest generations (0 when they hold none):
 * below 1 is what compression and deduplication saved. */
double ops_storage_ratio(const ops_storage *s);

/* As the status document carries it: {stored, packs, newest, kept,
 * generations, ratio}. */
json_t *ops_storage_json(const ops_storage *s);

#endif
