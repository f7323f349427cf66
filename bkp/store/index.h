/*
 * index.h — blob ID -> (pack, offset, length), in memory and as segments.
 *
 * On disk the index is a set of immutable segment files under index/, each
 * "BKPIDX01" followed by one sealed blob (type INDEX, ID zero) listing packs
 * and their blobs, named by the BLAKE2b-256 of the file. The index is only a
 * cache of the pack trailers: it can always be rebuilt from the packs alone.
 *
 * In memory, an index is a hash table of entries (about 70 bytes a blob).
 * The repository's index keeps most of its entries off the heap instead, in
 * a few sorted tables in files (itable.h: 70 bytes a blob on disk, under 2
 * in memory; itable_levels.h: why a few, and the manifest that lists them),
 * and only a bounded number in the hash table:
 *
 *   - open: the tables the manifest `cache/index-levels` lists are used when
 *     the manifest and each of them check and every segment they were built
 *     from is still in index/; segments none lists (written since) are
 *     loaded into memory as before. A manifest or a table that does not
 *     check, a table that is gone, or one that lists a segment that is gone
 *     (a prune, a damaged segment set aside) makes the whole index rebuilt
 *     from the segments, with a warning for the first three and a note for
 *     the last. No manifest at all is built without a warning. A writable
 *     open removes the tables no manifest lists (a kill between a table and
 *     its manifest leaves one).
 *   - whenever the memory holds more than BKP_INDEX_MEMORY_MAX entries that
 *     are all in durable segments (after loading segments at open, or after
 *     a flush in a backup: repo_index.c), the memory is written as a young
 *     table, merged in the same write with the newest tables when the
 *     policy says so (itable_levels.h); the table is written through
 *     durable.h, then the manifest that lists it, and only then are the
 *     tables it replaces removed. The memory is emptied. So neither a
 *     rebuild nor an initial backup of ten million blobs grows the heap
 *     beyond that bound, and each entry is written about log4(N / bound)
 *     times, not N / bound times.
 *   - tables are the segments' mirror, never the truth: a kill at any point
 *     leaves the old manifest (and its tables) or the new one, each true for
 *     the segments its tables list; tables lost or refused are built again
 *     from the segments.
 *   - a read-only open, or one of a copy, never writes into the repository:
 *     a table it must build goes into an unlinked file in $TMPDIR.
 *
 * Lookups look in memory, then in the tables. Not thread-safe: the
 * repository serialises access.
 */
#ifndef BKP_INDEX_H
#define BKP_INDEX_H

#include <stdint.h>

#include "bkp/store/index_entry.h"
#include "bkp/store/pack.h"

typedef struct bkp_index bkp_index;

int bkp_index_new(bkp_index **out);
void bkp_index_free(bkp_index *x);

/* Register a pack (its ID may still be unknown: all zero) and return its number. */
int bkp_index_add_pack(bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num);
void bkp_index_set_pack_id(bkp_index *x, uint32_t num, const uint8_t id[BKP_ID_LEN]);
const uint8_t *bkp_index_pack_id(const bkp_index *x, uint32_t num);
uint32_t bkp_index_pack_count(const bkp_index *x);
/* Register pack `id` with the blobs of its trailer. */
int bkp_index_add_pack_entries(bkp_index *x, const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *pe,
                               uint32_t n);
/* The pack number for `id`, or -ENOENT. */
int bkp_index_find_pack(const bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num);

/* Insert: 1 if the ID was already present (the old entry stays), 0 if
 * added, negative errno (-EINVAL, -ENOMEM). */
int bkp_index_insert(bkp_index *x, const bkp_index_entry *e);
/* The entry for `id` or NULL; valid until the next insert. */
bkp_index_entry *bkp_index_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN]);
uint64_t bkp_index_count(const bkp_index *x);
/* Visit every entry (the tables', then the memory's): 0, or -EBADMSG / an
 * I/O error (logged) when a table cannot be read whole, and then a
 * caller that decides from all entries (prune) must stop. */
int bkp_index_foreach(const bkp_index *x, void (*fn)(const bkp_index_entry *e, void *ctx),
                      void *ctx);

/* Entries held in memory, past which the repository moves them to the table. */
#define BKP_INDEX_MEMORY_MAX (1U << 18)
struct bkp_itable;
struct bkp_dfile;
/* Entries on the heap (not in the table). */
uint64_t bkp_index_memory_count(const bkp_index *x);
/* The tables (itable_levels.h), oldest first: how many, and table `i`'s
 * entries, ID and segment names (borrowed until the tables change). */
uint32_t bkp_index_levels(const bkp_index *x);
uint64_t bkp_index_level_count(const bkp_index *x, uint32_t i);
void bkp_index_level_id(const bkp_index *x, uint32_t i, uint8_t tid[16]);
void bkp_index_level_names(const bkp_index *x, uint32_t i, const uint8_t (**names)[BKP_ID_LEN],
                           uint32_t *n);
/* The first of the tables to merge with the memory's entries into the next
 * table (bkp_index_levels(x) when none), by the policy of itable_levels.h. */
uint32_t bkp_index_levels_to_merge(const bkp_index *x, uint64_t unit);
/* Write tables [first, levels) and the memory's entries, merged in ID
 * order, and the pack list as one table into `f` (itable.h), listing their
 * segments and `names` (the memory's). */
int bkp_index_table_write(const bkp_index *x, uint32_t first, struct bkp_dfile *f,
                          const uint8_t key[32], const uint8_t (*names)[BKP_ID_LEN],
                          uint32_t nnames) __attribute__((warn_unused_result));
/* Use `t` (owned, with its segment `names`, owned), written by
 * bkp_index_table_write(x, first, ...), in place of tables [first, levels)
 * and of the memory's entries, whose memory is given back. */
void bkp_index_table_attach(bkp_index *x, uint32_t first, struct bkp_itable *t,
                            uint8_t (*names)[BKP_ID_LEN], uint32_t nnames);
/* A new index takes its tables one at a time, oldest first, each with its
 * pack list and segment names (all owned, also on error). -EBADMSG when the
 * pack lists disagree (each must be the start of the longest). */
int bkp_index_table_load(bkp_index *x, struct bkp_itable *t, uint8_t (*packs)[BKP_ID_LEN],
                         uint32_t npacks, uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
    __attribute__((warn_unused_result));

/* Entries per index segment file when writing: a segment of about 3 MiB, so
 * that loading the index holds little of it twice (sealed and open) besides
 * the entries themselves; far below the 64 MiB limit of one blob. */
#define BKP_INDEX_SEGMENT_ENTRIES (1U << 16)
/* Serialise the entries of packs [first, last) into segment files of at most
 * `max_entries` entries each (a pack with more gets a segment of its own),
 * calling `emit` with each file's bytes; stops at emit's first error. */
int bkp_index_segments_encode(const bkp_index *x, uint32_t first, uint32_t last, const bkp_keys *k,
                              uint32_t max_entries, int (*emit)(const bkp_buf *segment, void *ctx),
                              void *ctx);
/* Store a segment file's bytes durably in `index_dir`, named by their
 * BLAKE2b-256 (written into `name`); one already there is the same segment. */
int bkp_index_segment_store(const char *index_dir, const bkp_buf *seg,
                            char name[2 * BKP_ID_LEN + 1]) __attribute__((warn_unused_result));

/* Load a segment file's bytes. -EBADMSG if damaged. */
int bkp_index_segment_load(bkp_index *x, const uint8_t *data, size_t len, const bkp_keys *k)
    __attribute__((warn_unused_result));

/* Authenticate a segment file's bytes, then hand each of its packs to `fn`
 * in order, with its entries (`e` borrowed for the call): what a reader
 * that must not hold the whole index (prune) takes one pack at a time.
 * Stops at fn's first error and returns it; -EBADMSG if damaged (a
 * plaintext that does not parse to its end, possible only with the key, is
 * found only after `fn` saw the packs before the fault). */
int bkp_index_segment_walk(const uint8_t *data, size_t len, const bkp_keys *k,
                           int (*fn)(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e,
                                     uint32_t n, void *ctx),
                           void *ctx) __attribute__((warn_unused_result));

/* Authenticate a segment file's bytes without loading it (its plaintext
 * goes to `scratch`). -EBADMSG if damaged. */
int bkp_index_segment_check(const uint8_t *data, size_t len, const bkp_keys *k, bkp_buf *scratch)
    __attribute__((warn_unused_result));

#endif
