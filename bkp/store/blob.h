/*
 * blob.h — one encrypted, optionally compressed object.
 *
 * Sealed form: nonce (24 bytes) || XChaCha20-Poly1305-IETF ciphertext of
 *   flags (1 byte: 0 stored, 1 LZ4, 2 zstd) || [raw length u32le if
 *   compressed] || payload
 * with associated data type (1 byte) || ID (32 bytes), so a blob cannot be
 * passed off as another blob or as another kind of object.
 */
#ifndef BKP_BLOB_H
#define BKP_BLOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/io/bytes.h"
#include "bkp/keys/keys.h"

enum bkp_blob_type {
    BKP_BLOB_DATA = 1, /* file content chunk; ID = the keyed hash of the plaintext (bkp_blob_id) */
    BKP_BLOB_TREE = 2, /* a piece of a generation's item stream; ID likewise */
    BKP_BLOB_TRAILER = 3, /* a pack's blob list; ID = zero */
    BKP_BLOB_INDEX = 4,   /* an index segment; ID = zero */
    BKP_BLOB_CACHE = 5,   /* the local files cache; ID = BLAKE2b of the data set name */
};

#define BKP_ID_LEN 32
#define BKP_BLOB_OVERHEAD (24 + 16 + 5)
#define BKP_BLOB_MAX_RAW (64U << 20) /* no blob decompresses to more */

/* The ID of a data or tree blob: the keyed hash of `data` under the
 * chunk-ID key that the repository's config names (bkp_keys_id_hash):
 * keyed BLAKE2b-256 or HMAC-SHA-256. */
void bkp_blob_id(const bkp_keys *k, const void *data, size_t len, uint8_t id[BKP_ID_LEN]);

/* How a blob's plaintext is compressed when it is sealed. A compressed
 * form is kept only when it saves at least 1/32 (else the blob is stored:
 * decompressing costs a restore time for nothing). */
typedef enum bkp_comp_kind {
    BKP_COMP_DEFAULT = 0, /* the caller's usual: auto at BKP_COMP_AUTO_LEVEL */
    BKP_COMP_NONE,
    BKP_COMP_LZ4,  /* level: LZ4's acceleration, 1 the default, more is faster */
    BKP_COMP_ZSTD, /* level: zstd's, 1 to 19 */
    /* Per blob what pays: three slices of it (its start, middle and end)
     * tried with LZ4, and a blob none of them shrinks is stored as it is
     * (pictures, scans, what is compressed already); else zstd at
     * `level`, kept when it saves 1/32. */
    BKP_COMP_AUTO,
} bkp_comp_kind;

/* What auto learns of one data set's large blobs while it seals them, for
 * their level: one a capture, shared by its workers (all zero to begin).
 * The first BKP_COMP_LEARN_FIRST large blobs that compress, and one in
 * BKP_COMP_LEARN_EVERY after, are sealed at levels 1 and 3 both, the
 * smaller kept; the rest at level 3 where those samples came out at least
 * 1/16 smaller at level 3 than at level 1, else at level 1. On a clinic's
 * database dump level 3 gains nothing at 1.6 times the time (its first
 * chunks 3.5 %, its later ones lose 5 %); on shared libraries it takes
 * 9.7 % off (bench/README.md, "Which chunks level 3 pays on"); no measure
 * of one chunk alone tells the two apart. One sample in 32: at one in 128
 * a system tree, whose first large files gain less than its shared
 * libraries, reached level 3 late, by as much as a third of the way
 * through, and its repository came out on either side of restic's from
 * run to run; with one in 32 it is 1-2 % under it (bench/README.md, "One
 * sample in 32"). */
typedef struct bkp_comp_learn {
    atomic_uint_fast64_t seen;     /* large blobs that compress, so far */
    atomic_uint_fast64_t at1, at3; /* the samples' bytes at levels 1 and 3 */
} bkp_comp_learn;

#define BKP_COMP_LEARN_FIRST 8
#define BKP_COMP_LEARN_EVERY 32

typedef struct bkp_comp {
    bkp_comp_kind kind;
    int level;
    bkp_comp_learn *learn; /* auto's, or NULL: large blobs at `level` */
} bkp_comp;

/* The level auto gives a large blob after what `l` learnt: 3 or 1. */
int bkp_comp_learned_level(bkp_comp_learn *l);

#define BKP_COMP_ZSTD_LEVEL 3 /* zstd's level for "zstd" alone (zstd's own default) */
/* And for "auto" without a learner, and with one until it knows: level 1
 * keeps all but 0.1-2 % of level 3's saving at three quarters of its time
 * on most data (bench/README.md, Compression). */
#define BKP_COMP_AUTO_LEVEL 1
/* Except for a blob this small (a small file, most of a tree): zstd's
 * level 3 costs it no more time than level 1 and takes 8 % more off a
 * tree of source files. */
#define BKP_COMP_AUTO_SMALL (128U << 10)
#define BKP_COMP_AUTO_SMALL_LEVEL 3
#define BKP_COMP_ZSTD_MAX 19
#define BKP_COMP_STORED ((bkp_comp){.kind = BKP_COMP_NONE, .level = 0})
#define BKP_COMP_LZ4_1 ((bkp_comp){.kind = BKP_COMP_LZ4, .level = 1})
/* For the lists of IDs (pack trailers, index segments): a random ID does
 * not shrink, the fields around it do, and zstd's entropy coder takes 5
 * bytes more off each 49-byte entry than LZ4, at about 20 ms a segment of
 * 65,536 entries (bench/README.md, "What a small file costs"). */
#define BKP_COMP_LISTS ((bkp_comp){.kind = BKP_COMP_ZSTD, .level = 3})

/* A policy's or a command line's word — "auto", "lz4", "zstd",
 * "zstd:LEVEL" (1 to 19), "none" — into `*c`: 0, or -EINVAL. */
int bkp_comp_parse(const char *s, bkp_comp *c);

/* Whether a sealed blob of `len` bytes whose plaintext is `raw_len` is
 * surely stored as it is (from the sizes alone: a compressed frame that
 * long would have saved less than the 1/32 a compressed form must). Only a
 * guide for what to read: a wrong answer skips a blob, never damages one. */
static inline int bkp_blob_surely_stored(uint32_t len, uint32_t raw_len)
{
    return raw_len > 128 && (uint64_t)len == (uint64_t)raw_len + BKP_BLOB_OVERHEAD - 4;
}

/* Append the sealed form of `plain` to `out`, compressed as `comp` says
 * (BKP_COMP_DEFAULT: auto at level 1). */
int bkp_blob_seal(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *plain,
                  size_t len, bkp_comp comp, bkp_buf *out);

/* A decrypted frame's plaintext into `out` (reset first): 0; -EBADMSG for
 * damage (a frame cut short, a raw length over BKP_BLOB_MAX_RAW, a stream
 * that does not decode to exactly the length it declares — never an
 * allocation past it); -EPROTO for a kind of frame this version has not;
 * -ENOMEM. What bkp_blob_open does after the cipher (the fuzz target's
 * door). */
int bkp_blob_unframe(const uint8_t *frame, size_t flen, bkp_buf *out);

/* Authenticate, decrypt and decompress into `out` (reset first).
 * -EBADMSG when the blob is corrupt, forged or not of this type and ID. */
int bkp_blob_open(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                  size_t slen, bkp_buf *out) __attribute__((warn_unused_result));

/* How a sealed blob is compressed (BKP_COMP_NONE, _LZ4 or _ZSTD), once it
 * authenticates as bkp_blob_open would have it; nothing is decompressed.
 * -EBADMSG as bkp_blob_open, -EPROTO for a kind this version has not. */
int bkp_blob_comp_of(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN],
                     const void *sealed, size_t slen, bkp_comp_kind *kind)
    __attribute__((warn_unused_result));

/* bkp_blob_open, and for data and tree blobs the plaintext re-hashed
 * against the ID: what proves a stored blob is the one it claims to be. */
int bkp_blob_check(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN],
                   const void *sealed, size_t slen, bkp_buf *plain)
    __attribute__((warn_unused_result));

#endif
