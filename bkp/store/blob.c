#include "bkp/store/blob.h"
#include "bkp/keys/primitive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <sodium.h>

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

void bkp_blob_id(const bkp_keys *k, const void *data, size_t len, uint8_t id[BKP_ID_LEN])
{
    if (bkp_keys_id_hash(k) == BKP_ID_HMAC_SHA256)
        bkp_prim_hmac_sha256(id, data, len, bkp_keys_id_key(k));
    else
        bkp_prim_keyed_hash(id, data, len, bkp_keys_id_key(k));
}

static void make_ad(uint8_t ad[1 + BKP_ID_LEN], uint8_t type, const uint8_t id[BKP_ID_LEN])
{
    ad[0] = type;
    memcpy(ad + 1, id, BKP_ID_LEN);
}

int bkp_blob_seal(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *plain,
                  size_t len, int compress, bkp_buf *out)
{
    uint8_t ad[1 + BKP_ID_LEN];
    size_t bound = (size_t)LZ4_compressBound((int)len);
    if (len > BKP_BLOB_MAX_RAW)
        return -E2BIG;
    /* Room for the worst case: the plaintext frame is built in place after
     * the nonce and encrypted where it stands. */
    uint8_t *base = bkp_buf_reserve(out, NONCE_LEN + 5 + (bound > len ? bound : len) + TAG_LEN);
    if (!base)
        return -ENOMEM;
    uint8_t *frame = base + NONCE_LEN;
    size_t flen = 0;
    if (compress && len >= 64) {
        /* `compress` is LZ4's acceleration: 1 for data, more where speed
         * matters more than size (the files cache, rewritten every run). */
        int c = LZ4_compress_fast(plain, (char *)frame + 5, (int)len, (int)bound, compress);
        /* Keep LZ4 only when it saves at least 1/32: otherwise decompression
         * costs time on restore for nothing. */
        if (c > 0 && (size_t)c < len - len / 32) {
            frame[0] = 1;
            bkp_le32(frame + 1, (uint32_t)len);
            flen = 5 + (size_t)c;
        }
    }
    if (!flen) {
        frame[0] = 0;
        memcpy(frame + 1, plain, len);
        flen = 1 + len;
    }
    randombytes_buf(base, NONCE_LEN);
    make_ad(ad, type, id);
    bkp_prim_seal(frame, frame, flen, ad, sizeof(ad), base, bkp_keys_blob_key(k));
    out->len += NONCE_LEN + flen + TAG_LEN;
    return 0;
}

int bkp_blob_open(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                  size_t slen, bkp_buf *out)
{
    uint8_t ad[1 + BKP_ID_LEN];
    const uint8_t *s = sealed;
    uint8_t *frame;
    int r = 0;
    bkp_buf_reset(out);
    if (slen < NONCE_LEN + 1 + TAG_LEN || slen - NONCE_LEN - TAG_LEN > BKP_BLOB_MAX_RAW + 5 + BKP_BLOB_MAX_RAW / 255 + 16)
        return -EBADMSG;
    size_t flen = slen - NONCE_LEN - TAG_LEN;
    frame = malloc(flen);
    if (!frame)
        return -ENOMEM;
    make_ad(ad, type, id);
    r = bkp_prim_open(frame, s + NONCE_LEN, slen - NONCE_LEN, ad, sizeof(ad), s,
                      bkp_keys_blob_key(k));
    if (r)
        goto out;
    if (frame[0] == 0) {
        bkp_buf_put(out, frame + 1, flen - 1);
    } else if (frame[0] == 1 && flen >= 5) {
        uint32_t raw = bkp_get_le32(frame + 1);
        uint8_t *d;
        if (raw > BKP_BLOB_MAX_RAW || !(d = bkp_buf_reserve(out, raw))) {
            r = raw > BKP_BLOB_MAX_RAW ? -EBADMSG : -ENOMEM;
            goto out;
        }
        int n = LZ4_decompress_safe((const char *)frame + 5, (char *)d, (int)(flen - 5), (int)raw);
        if (n < 0 || (uint32_t)n != raw) {
            r = -EBADMSG;
            goto out;
        }
        out->len = raw;
    } else {
        r = -EPROTO;
    }
    if (!r && out->failed)
        r = -ENOMEM;
out:
    free(frame);
    return r;
}

int bkp_blob_check(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                   size_t slen, bkp_buf *plain)
{
    uint8_t h[BKP_ID_LEN];
    int rc = bkp_blob_open(k, type, id, sealed, slen, plain);
    if (rc || (type != BKP_BLOB_DATA && type != BKP_BLOB_TREE))
        return rc;
    bkp_blob_id(k, plain->data, plain->len, h);
    return sodium_memcmp(h, id, BKP_ID_LEN) ? -EBADMSG : 0;
}
