/*
 * pack.h — pack files: sealed blobs appended into one immutable file.
 *
 * Layout: "BKPPACK1" | blob... | trailer blob | u32le trailer length | "BKPTRLR1".
 * The trailer is a sealed blob (type TRAILER, ID zero) listing every blob:
 * type, ID, offset, sealed length, raw length. A pack is named by the
 * unkeyed BLAKE2b-256 of its trailer section (sealed trailer, its length and
 * the end magic): every blob is bound to it by its own tag, its place in the
 * trailer and the trailer's tiling of the file. Never modified after its
 * rename.
 */
#ifndef BKP_PACK_H
#define BKP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "bkp/store/blob.h"
#include "bkp/keys/keys.h"

#define BKP_PACK_MAGIC "BKPPACK1"
#define BKP_PACK_END_MAGIC "BKPTRLR1"
#define BKP_PACK_TARGET (32U << 20)
/* The trailer is one blob: its plaintext is at most BKP_BLOB_MAX_RAW, sealed
 * it grows by at most LZ4's worst case and the blob header. A length in a
 * footer above this is refused before anything is allocated or read. (A
 * pack of 32 MiB of the smallest blobs has a trailer of about 37 MiB.) */
#define BKP_PACK_TRAILER_MAX (BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16 + BKP_BLOB_OVERHEAD)
/* The largest pack a writer makes: the target, one largest blob past it, its
 * trailer, the magics and the footer. A file on a medium larger than this is
 * not a pack, and is refused before it is read. */
#define BKP_PACK_MAX (8 + (uint64_t)BKP_PACK_TARGET + 2 * (uint64_t)BKP_PACK_TRAILER_MAX + 12)

typedef struct bkp_pack_entry {
    uint8_t id[BKP_ID_LEN];
    uint8_t type;
    uint64_t offset;
    uint32_t len;     /* sealed length in the pack */
    uint32_t raw_len; /* plaintext length */
} bkp_pack_entry;

typedef struct bkp_pack_writer bkp_pack_writer;

/* Start a pack as a temporary file in `packs_dir`. */
int bkp_pack_writer_open(const char *packs_dir, bkp_pack_writer **out);
/* Append a sealed blob; its offset is written to `*offset`. */
int bkp_pack_writer_add(bkp_pack_writer *w, uint8_t type, const uint8_t id[BKP_ID_LEN],
                        const void *sealed, size_t len, uint32_t raw_len, uint64_t *offset);
uint64_t bkp_pack_writer_size(const bkp_pack_writer *w);
/* Seal the trailer, fsync, rename to packs_dir/XX/HEX, fsync. Frees `w`. */
int bkp_pack_writer_finish(bkp_pack_writer *w, const bkp_keys *k, uint8_t pack_id[BKP_ID_LEN])
    __attribute__((warn_unused_result));
void bkp_pack_writer_abort(bkp_pack_writer *w);

/* Path of pack `id` below `packs_dir` (malloc'd). */
char *bkp_pack_path(const char *packs_dir, const uint8_t id[BKP_ID_LEN]);

/* Read and authenticate the trailer of the open pack `fd` of `size` bytes.
 * -EBADMSG for a damaged or truncated pack, or a trailer length above
 * BKP_PACK_TRAILER_MAX. `*entries` is malloc'd. */
int bkp_pack_read_trailer(int fd, uint64_t size, const bkp_keys *k, bkp_pack_entry **entries,
                          uint32_t *count) __attribute__((warn_unused_result));
/* Same, from the pack's bytes in memory. */
int bkp_pack_parse_trailer(const uint8_t *pack, uint64_t size, const bkp_keys *k,
                           bkp_pack_entry **entries, uint32_t *count);

/* The name of the pack `pack` of `size` bytes: -EBADMSG when it has no
 * trailer section to hash. */
int bkp_pack_name(const uint8_t *pack, uint64_t size, uint8_t id[BKP_ID_LEN]);
/* A whole pack in memory: its bytes hash to `name`, its trailer and every
 * blob authenticate (bkp_blob_check). -EBADMSG otherwise. `entries` (may be
 * NULL) receives the trailer's list, malloc'd. */
int bkp_pack_check(const bkp_keys *k, const uint8_t *pack, uint64_t size,
                   const uint8_t name[BKP_ID_LEN], bkp_pack_entry **entries, uint32_t *count)
    __attribute__((warn_unused_result));

#endif
