/*
 * index_checked.h — which index segments an open need not authenticate again.
 *
 * A writable open that uses the blob index table (index.h) authenticated
 * every segment the table holds, about 43 MB decrypted at a million files,
 * only to find a segment damaged since (20-tamper). Segments are written
 * once and never changed, so an open now re-reads only those whose file
 * changed since one was last found good: `cache/index-checked` lists, for
 * each segment found good, its name and the device, inode, size, mtime and
 * ctime it had then (ctime cannot be set back by changing the file), under
 * a keyed BLAKE2b of the table key (itable.h). A segment whose file differs
 * in any of them, or is not listed, or a list that does not check (then it
 * is empty), is read and authenticated as before. `bkp verify` reads every
 * segment whatever the list says (bkp_repo_check_segments).
 *
 * Layout: "BKPICK01" || u32 n || n × (name 32 || u64 dev, ino, size,
 * mtime_ns, ctime_ns) || MAC 32 over all before (FORMAT §5a).
 * Errors: -ENOMEM; a list that cannot be read or saved is not an error.
 */
#ifndef BKP_INDEX_CHECKED_H
#define BKP_INDEX_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bkp/store/blob.h"

typedef struct bkp_seg_seen {
    uint8_t name[BKP_ID_LEN];
    uint64_t dev, ino, size;
    int64_t mtime, ctime; /* nanoseconds */
} bkp_seg_seen;

typedef struct bkp_checked {
    bkp_seg_seen *v; /* sorted by name */
    uint32_t n, cap;
} bkp_checked;

/* What segment `name` is now, from its stat. */
void bkp_seg_seen_of(bkp_seg_seen *s, const uint8_t name[BKP_ID_LEN], const struct stat *st);
/* Parse the bytes of an index-checked list under `key` into `c`: 0, or
 * -EBADMSG (`c` empty) when it does not check or is malformed. */
int bkp_checked_parse(const uint8_t *data, size_t len, const uint8_t key[32], bkp_checked *c);
/* Read `dir`/index-checked (empty when absent or it does not check). */
void bkp_checked_load(const char *dir, const uint8_t key[32], bkp_checked *c);
/* Whether `s` is listed exactly as it is. */
bool bkp_checked_has(const bkp_checked *c, const bkp_seg_seen *s);
/* Append `s` (then sort with bkp_checked_sort before a lookup or a save). */
int bkp_checked_add(bkp_checked *c, const bkp_seg_seen *s);
void bkp_checked_sort(bkp_checked *c);
/* Replace `dir`/index-checked durably; 0 or an error (the caller warns). */
int bkp_checked_save(const char *dir, const uint8_t key[32], const bkp_checked *c);
void bkp_checked_free(bkp_checked *c);

#endif
