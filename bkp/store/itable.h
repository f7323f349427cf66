/*
 * itable.h — the blob index as a sorted table in a file, off the heap.
 *
 * Why: the index of a repository of ten million small blobs held as a hash
 * table costs about 70 bytes a blob (700 MiB). The table keeps the entries
 * in a file, sorted by blob ID, in blocks of 4 KiB; in memory it keeps only
 * the first ID of each block (the fences, 0.55 bytes a blob) and a Bloom
 * filter (10–20 bits a blob, about 1 % false positives), so a lookup is a
 * filter test and, when the filter says "maybe", one `pread` of one block
 * (from the page cache, which is the kernel's, not the process's).
 *
 * The file lives in the repository's `cache/` folder (index.h says when it
 * is built and replaced). That folder is on the backup server, which an
 * adversary may own, so nothing in it is trusted:
 *
 *   - every block ends with a keyed BLAKE2b-256 of (table ID, block number,
 *     block bytes), under a key derived from the repository's ID key; the
 *     table ID is 16 random bytes chosen when the table is written;
 *   - the last block (the trailer) holds the table ID, the counts and the
 *     layout, and is checked first; the file's size must be exactly what it
 *     says;
 *   - every entry carries its own BLAKE2b-128 of (table ID, its fields);
 *   - opening checks every block, streamed one at a time (bounded memory),
 *     and that the IDs strictly increase and the pack numbers are in range;
 *     a lookup checks the MAC of the entry it found (0.2 µs, where a whole
 *     block's costs 4 µs: a no-change backup looks up every chunk), and a
 *     visit every block's, so a table changed after the open is refused
 *     too. An entry not found needs no proof: a blob wrongly absent is
 *     stored again, which loses nothing.
 *
 * What a forged table could do, and why it cannot: a forged entry would make
 * a chunk look stored when it is not, and the backup would skip it: data
 * lost in silence. Without the key no block can be forged; a block of
 * another table (or of another place in this one) carries a different table
 * ID or block number in its MAC; a truncated file, a trailer of another
 * table or a swapped block fail the size or a MAC. Any of these is
 * -EBADMSG, and the caller rebuilds the table from the authenticated
 * segments, with a warning. A stale table (whole and authentic, but older)
 * is the caller's to detect: the trailer lists the index segments it was
 * built from (index.h).
 *
 * Layout (little-endian; FORMAT §5a):
 *   entry blocks: 58 × (ID 32 || u8 type || u32 pack || u64 offset ||
 *                 u32 sealed_length || u32 raw_length || MAC 16), zeros
 *   pack blocks:  127 × pack ID (32), the pack numbers' IDs in order
 *   name blocks:  127 × segment name (32), the segments it was built from
 *   trailer:      "BKPITB01" || table ID (16) || u64 count ||
 *                 u64 entry_blocks || u32 packs || u32 segments, zeros
 *   each block:   4,064 bytes as above || MAC (32)
 *
 * Not thread-safe (one read buffer): the repository serialises access.
 * Errors: -EBADMSG a table that does not check, -ENOMEM, -errno of reads.
 */
#ifndef BKP_ITABLE_H
#define BKP_ITABLE_H

#include <stdint.h>

#include "bkp/io/durable.h"
#include "bkp/store/index_entry.h"
#include "bkp/keys/keys.h"

#define BKP_ITABLE_BLOCK 4096

typedef struct bkp_itable bkp_itable;

/* The table key of `k` (keyed BLAKE2b of a fixed label under the ID key). */
void bkp_itable_key(const bkp_keys *k, uint8_t key[32]);

/*
 * Open the table in `fd` (owned from now on, closed by _free or on error)
 * and check all of it. On success `*packs` (npacks IDs) and `*names`
 * (nnames segment names) are malloc'd for the caller.
 */
int bkp_itable_open(int fd, const uint8_t key[32], bkp_itable **out, uint8_t (**packs)[BKP_ID_LEN],
                    uint32_t *npacks, uint8_t (**names)[BKP_ID_LEN], uint32_t *nnames)
    __attribute__((warn_unused_result));
void bkp_itable_free(bkp_itable *t);
uint64_t bkp_itable_count(const bkp_itable *t);
/* 1 found (`*e` written), 0 absent, negative errno (-EBADMSG a damaged
 * block, a read error). */
int bkp_itable_lookup(bkp_itable *t, const uint8_t id[BKP_ID_LEN], bkp_index_entry *e);
/* Visit every entry in ID order; stops at fn's first nonzero return. */
int bkp_itable_foreach(bkp_itable *t, int (*fn)(const bkp_index_entry *e, void *ctx), void *ctx);
/* The table's ID (16 random bytes, in every MAC; itable_levels.h names its
 * file after it). */
void bkp_itable_id(const bkp_itable *t, uint8_t tid[16]);

/*
 * A cursor over the entries in ID order, each block checked as it is read
 * (its own buffer: the table can be looked up meanwhile). _next: 1 and `*e`,
 * 0 at the end, -EBADMSG or a read error. _free(NULL) is a no-op.
 */
typedef struct bkp_itable_cursor bkp_itable_cursor;
int bkp_itable_cursor_new(bkp_itable *t, bkp_itable_cursor **out);
int bkp_itable_cursor_next(bkp_itable_cursor *c, bkp_index_entry *e);
void bkp_itable_cursor_free(bkp_itable_cursor *c);

/*
 * Writing: entries in strictly increasing ID order (-EINVAL otherwise),
 * then the pack list and the segment names, into `f` (borrowed; the caller
 * commits or aborts it).
 */
typedef struct bkp_itable_writer bkp_itable_writer;
int bkp_itable_writer_new(bkp_dfile *f, const uint8_t key[32], bkp_itable_writer **out);
int bkp_itable_writer_add(bkp_itable_writer *w, const bkp_index_entry *e);
/* Write the rest and free `w` (also on error). */
int bkp_itable_writer_end(bkp_itable_writer *w, const uint8_t (*packs)[BKP_ID_LEN], uint32_t npacks,
                          const uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
    __attribute__((warn_unused_result));
void bkp_itable_writer_abort(bkp_itable_writer *w);

#endif
