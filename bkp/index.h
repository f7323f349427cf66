/*
 * index.h — blob ID -> (pack, offset, length), in memory and as segments.
 *
 * On disk the index is a set of immutable segment files under index/, each
 * "BKPIDX01" followed by one sealed blob (type INDEX, ID zero) listing packs
 * and their blobs, named by the BLAKE2b-256 of the file. The index is only a
 * cache of the pack trailers: it can always be rebuilt from the packs alone.
 *
 * Not thread-safe: the repository serialises access.
 */
#ifndef BKP_INDEX_H
#define BKP_INDEX_H

#include <stdint.h>

#include "bkp/pack.h"

typedef struct bkp_index bkp_index;

typedef struct bkp_index_entry {
    uint8_t id[BKP_ID_LEN];
    uint8_t type;
    uint32_t pack; /* number from bkp_index_add_pack */
    uint64_t offset;
    uint32_t len;
    uint32_t raw_len;
} bkp_index_entry;

int bkp_index_new(bkp_index **out);
void bkp_index_free(bkp_index *x);

/* Register a pack (its ID may still be unknown: all zero) and return its number. */
int bkp_index_add_pack(bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num);
void bkp_index_set_pack_id(bkp_index *x, uint32_t num, const uint8_t id[BKP_ID_LEN]);
const uint8_t *bkp_index_pack_id(const bkp_index *x, uint32_t num);
uint32_t bkp_index_pack_count(const bkp_index *x);
/* Register pack `id` with the blobs of its trailer. */
int bkp_index_add_pack_entries(bkp_index *x, const uint8_t id[BKP_ID_LEN],
                               const bkp_pack_entry *pe, uint32_t n);
/* The pack number for `id`, or -ENOENT. */
int bkp_index_find_pack(const bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num);

/* Insert; 1 if the ID was already present (the old entry stays), 0 if added. */
int bkp_index_insert(bkp_index *x, const bkp_index_entry *e);
/* The entry for `id` or NULL; valid until the next insert. */
bkp_index_entry *bkp_index_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN]);
uint64_t bkp_index_count(const bkp_index *x);
/* Visit every entry. */
void bkp_index_foreach(const bkp_index *x, void (*fn)(const bkp_index_entry *e, void *ctx),
                       void *ctx);

/* Entries per index segment file when writing: a segment of about 3 MiB, so
 * that loading the index holds little of it twice (sealed and open) besides
 * the entries themselves; far below the 64 MiB limit of one blob. */
#define BKP_INDEX_SEGMENT_ENTRIES (1U << 16)
/* Serialise the entries of packs [first, last) into segment files of at most
 * `max_entries` entries each (a pack with more gets a segment of its own),
 * calling `emit` with each file's bytes; stops at emit's first error. */
int bkp_index_segments_encode(const bkp_index *x, uint32_t first, uint32_t last,
                              const bkp_keys *k, uint32_t max_entries,
                              int (*emit)(const bkp_buf *segment, void *ctx), void *ctx);
/* Store a segment file's bytes durably in `index_dir`, named by their
 * BLAKE2b-256 (written into `name`); one already there is the same segment. */
int bkp_index_segment_store(const char *index_dir, const bkp_buf *seg,
                            char name[2 * BKP_ID_LEN + 1]) __attribute__((warn_unused_result));

/* Load a segment file's bytes. -EBADMSG if damaged. */
int bkp_index_segment_load(bkp_index *x, const uint8_t *data, size_t len, const bkp_keys *k)
    __attribute__((warn_unused_result));

#endif
