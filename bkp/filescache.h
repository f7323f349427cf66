/*
 * filescache.h — remember what an unchanged file contained.
 *
 * Keyed by path; an entry matches when device, inode, size, mtime and ctime
 * (nanoseconds) are all the same, and then its chunk list is reused without
 * reading the file. Stored per data set in cache/files-NAME as one sealed
 * blob (paths are patient data too). Losing it only costs a full read.
 */
#ifndef BKP_FILESCACHE_H
#define BKP_FILESCACHE_H

#include "bkp/tree.h"

typedef struct bkp_fcache bkp_fcache;

typedef struct bkp_fstat {
    uint64_t dev, ino, size;
    int64_t mtime, ctime; /* nanoseconds */
} bkp_fstat;

/* What a file carried besides its stat and content. Changing any of it
 * changes the ctime, so an unchanged file without xattrs or ACLs needs no
 * more than a stat: its flags are taken from here. */
typedef struct bkp_fextra {
    bool ext; /* it has xattrs or ACLs (or this is not known): read them */
    uint64_t fflags_set, fflags_clear;
} bkp_fextra;

int bkp_fcache_new(bkp_fcache **out);
/* Load the data set's cache; an absent or unreadable cache is an empty one. */
int bkp_fcache_load(bkp_repo *r, const char *dataset, bkp_fcache **out, bool *found);
void bkp_fcache_free(bkp_fcache *c);
/* 1 and the cached chunks and sparse map copied into `it`, and the extras
 * into `x`, when `path` is cached with the same `st`; 0 when it is cached with other timestamps (it
 * changed, and `old_content` gets the content hash it had); -ENOENT when it is new. Either way the
 * entry counts as seen (bkp_fcache_unseen). */
int bkp_fcache_lookup(bkp_fcache *c, const bkp_keys *k, const char *path, const bkp_fstat *st,
                      bkp_item *it, uint8_t old_content[BKP_ID_LEN], bkp_fextra *x);
/* Entries never looked up: files gone since the cache was written. */
uint64_t bkp_fcache_unseen(const bkp_fcache *c);
int bkp_fcache_add(bkp_fcache *c, const char *path, const bkp_fstat *st, const bkp_item *it,
                   const bkp_fextra *x);
/* Best effort: a failure is logged, and only costs the next backup a full read. */
int bkp_fcache_save(bkp_repo *r, const char *dataset, const bkp_fcache *c);

#endif
