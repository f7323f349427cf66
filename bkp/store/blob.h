/*
 * blob.h — one encrypted, optionally compressed object.
 *
 * Sealed form: nonce (24 bytes) || XChaCha20-Poly1305-IETF ciphertext of
 *   flags (1 byte: 0 stored, 1 LZ4) || [raw length u32le if LZ4] || payload
 * with associated data type (1 byte) || ID (32 bytes), so a blob cannot be
 * passed off as another blob or as another kind of object.
 */
#ifndef BKP_BLOB_H
#define BKP_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "bkp/io/bytes.h"
#include "bkp/keys/keys.h"

enum bkp_blob_type {
    BKP_BLOB_DATA = 1,    /* file content chunk; ID = the keyed hash of the plaintext (bkp_blob_id) */
    BKP_BLOB_TREE = 2,    /* a piece of a generation's item stream; ID likewise */
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

/* Append the sealed form of `plain` to `out`. `compress`: 0 none, else LZ4 with that
 * acceleration (1 the default; more is faster and compresses less). LZ4 is kept only
 * when it saves space. */
int bkp_blob_seal(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *plain,
                  size_t len, int compress, bkp_buf *out);

/* Authenticate, decrypt and decompress into `out` (reset first).
 * -EBADMSG when the blob is corrupt, forged or not of this type and ID. */
int bkp_blob_open(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                  size_t slen, bkp_buf *out) __attribute__((warn_unused_result));

/* bkp_blob_open, and for data and tree blobs the plaintext re-hashed
 * against the ID: what proves a stored blob is the one it claims to be. */
int bkp_blob_check(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                   size_t slen, bkp_buf *plain) __attribute__((warn_unused_result));

#endif
