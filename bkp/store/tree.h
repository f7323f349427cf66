/*
 * tree.h — a generation's item stream.
 *
 * A generation's content is one stream of items (one per captured path, in
 * walk order), cut by the content-defined chunker into tree blobs, so an
 * unchanged part of the tree is stored once across generations. Each item is
 * the metadata of a libarchive entry plus, for a regular file, the map of its
 * data regions (holes stay holes) and its chunk list. The stream starts with
 * its version: 2 is written; 1 also stored each file's content hash, which
 * version 2 leaves to the reader (it follows from the size and the chunks).
 */
#ifndef BKP_TREE_H
#define BKP_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/store/repo.h"

#define BKP_TREE_VERSION 2
#define BKP_TREE_VERSION_MIN 1

typedef struct bkp_chunk_ref {
    uint8_t id[BKP_ID_LEN];
    uint32_t len;
} bkp_chunk_ref;

typedef struct bkp_item {
    struct archive_entry *entry; /* owned */
    bkp_chunk_ref *chunks;       /* owned; in content order */
    uint32_t nchunks;
    uint64_t *sparse; /* owned; (offset, length) pairs of data regions */
    uint32_t nsparse; /* 0: one region [0, size) */
    /* bkp_item_content_hash of a regular file that is not a hard link, zero
     * for anything else: set by the tree reader, by the capture before it
     * adds the item; never stored by version 2. */
    uint8_t content[BKP_ID_LEN];
    /* A version-1 record whose stored hash is not its chunks': the file is
     * damaged (restore, dump and mount refuse it, verify names it); its
     * chunks are still authenticated IDs, which prune and copies keep. */
    bool content_bad;
} bkp_item;

void bkp_item_init(bkp_item *it);
void bkp_item_clear(bkp_item *it);

/*
 * The content hash of a file: keyed BLAKE2b-256 over u64le size then, per
 * chunk, ID and u32le length. Since each chunk ID is the keyed hash of the
 * chunk's bytes, this names the whole content and costs no second pass.
 */
void bkp_item_content_hash(const bkp_keys *k, uint64_t size, const bkp_chunk_ref *chunks,
                           uint32_t n, uint8_t out[BKP_ID_LEN]);
/* The same over chunk references as stored: n × (ID || u32le length). */
void bkp_item_content_hash_raw(const bkp_keys *k, uint64_t size, const uint8_t *refs, uint32_t n,
                               uint8_t out[BKP_ID_LEN]);

/* Append one item record of BKP_TREE_VERSION to `out`. */
int bkp_item_encode(const bkp_item *it, bkp_buf *out);
/* Parse one record body (after its u32 length) of stream `version` into `it`
 * (cleared first). Version 1's stored content hash lands in it->content as
 * read; version 2 leaves it zero (the tree reader sets both, checked). */
int bkp_item_decode(const uint8_t *p, size_t len, uint32_t version, bkp_item *it);
/* Whether the item has content of its own: a regular file, not a hard link. */
bool bkp_item_has_content(const bkp_item *it);

/* Streams items into tree blobs. The blobs are cut and stored by a thread
 * of the writer's own (tree.c), so add only encodes; a storing error comes
 * back from a later add or from finish. One caller thread at a time. The
 * blobs are compressed as `comp` says (blob.h). */
typedef struct bkp_tree_writer bkp_tree_writer;
int bkp_tree_writer_new(bkp_repo *r, bkp_comp comp, bkp_tree_writer **out);
int bkp_tree_writer_add(bkp_tree_writer *w, const bkp_item *it) __attribute__((warn_unused_result));
/* Store the rest; `ids` receives the concatenated tree blob IDs. Frees `w`. */
int bkp_tree_writer_finish(bkp_tree_writer *w, bkp_buf *ids, uint64_t *items, uint64_t *bytes)
    __attribute__((warn_unused_result));
void bkp_tree_writer_free(bkp_tree_writer *w);

/* Reads items back; every tree blob is authenticated. Each item's content
 * hash is computed from its size and chunks; a version-1 record whose stored
 * hash differs comes back with content_bad. */
typedef struct bkp_tree_reader bkp_tree_reader;
int bkp_tree_reader_new(const bkp_repo *r, const uint8_t *ids, size_t nids, bkp_tree_reader **out);
/* 1 and an item, 0 at the end, or a negative error (-EBADMSG, -ENOENT). */
int bkp_tree_reader_next(bkp_tree_reader *tr, bkp_item *it);
/* Index of the tree blob being read, for error reports. */
size_t bkp_tree_reader_blob(const bkp_tree_reader *tr);
void bkp_tree_reader_free(bkp_tree_reader *tr);

#endif
