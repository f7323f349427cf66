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
 * a sorted table in a file (itable.h: 70 bytes a blob on disk, under 2 in
 * memory), and only a bounded number in the hash table:
 *
 *   - open: the table `cache/index-table` is used when it checks (itable.h)
 *     and every segment it was built from is still in index/; segments it
 *     does not list (written since) are loaded into memory as before. A
 *     table that does not check, or lists a segment that is gone (a prune,
 *     a damaged segment set aside), is rebuilt from the segments, with a
 *     warning for the first and a note for the second. A table that is
 *     simply absent is built without a warning.
 *   - whenever the memory holds more than BKP_INDEX_MEMORY_MAX entries that
 *     are all in durable segments (after loading segments at open, or after
 *     a flush in a backup: repo_index.c), memory and table are merged into
 *     a new table, written in full through durable.h and renamed over the
 *     old one, which then replaces it; the memory is emptied. So neither a
 *     rebuild nor an initial backup of ten million blobs grows the heap
 *     beyond that bound.
 *   - a table is the segments' mirror, never the truth: a kill at any point
 *     leaves the old table or the new one, each true for the segments it
 *     lists; a table lost or refused is built again from the segments.
 *   - a read-only open, or one of a copy, never writes into the repository:
 *     a table it must build goes into an unlinked file in $TMPDIR.
 *
 * Lookups look in memory, then in the table. Not thread-safe: the
 * repository serialises access.
 */
#ifndef BKP_INDEX_H
#define BKP_INDEX_H

#include <stdint.h>

#include "bkp/index_entry.h"
#include "bkp/pack.h"

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

/* Insert; 1 if the ID was already present (the old entry stays), 0 if added. */
int bkp_index_insert(bkp_index *x, const bkp_index_entry *e);
/* The entry for `id` or NULL; valid until the next insert. */
bkp_index_entry *bkp_index_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN]);
uint64_t bkp_index_count(const bkp_index *x);
/* Visit every entry (the table's, then the memory's): 0, or -EBADMSG / an
 * I/O error (logged) when the table cannot be read whole, and then a
 * caller that decides from all entries (prune) must stop. */
int bkp_index_foreach(const bkp_index *x, void (*fn)(const bkp_index_entry *e, void *ctx),
                      void *ctx);

/* Entries held in memory, past which the repository moves them to the table. */
#define BKP_INDEX_MEMORY_MAX (1U << 18)
struct bkp_itable;
struct bkp_dfile;
/* Entries on the heap (not in the table). */
uint64_t bkp_index_memory_count(const bkp_index *x);
/* Bytes of memory the index holds (hash table, entries, packs, fences, filter). */
uint64_t bkp_index_heap_bytes(const bkp_index *x);
/* Write every entry and the pack list as a table into `f` (itable.h),
 * listing the segments `names`. */
int bkp_index_table_write(const bkp_index *x, struct bkp_dfile *f, const uint8_t key[32],
                          const uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
    __attribute__((warn_unused_result));
/* Use `t` (owned), written from this index, and empty the memory. */
void bkp_index_table_attach(bkp_index *x, struct bkp_itable *t);
/* A new index takes table `t` and its pack list (both owned). */
int bkp_index_table_load(bkp_index *x, struct bkp_itable *t, uint8_t (*packs)[BKP_ID_LEN],
                         uint32_t npacks);

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

/* Authenticate a segment file's bytes without loading it (its plaintext
 * goes to `scratch`). -EBADMSG if damaged. */
int bkp_index_segment_check(const uint8_t *data, size_t len, const bkp_keys *k, bkp_buf *scratch)
    __attribute__((warn_unused_result));

#endif
