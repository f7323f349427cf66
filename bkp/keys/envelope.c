/* envelope.c — the signed envelope of bkp's small signed files (envelope.h). */
#include "bkp/keys/envelope.h"

#include <errno.h>
#include <string.h>

#include "bkp/io/durable.h"

int bkp_envelope_seal(const bkp_keys *k, const char magic[8], const char *text, bkp_buf *out)
{
    size_t tl = strlen(text);
    bkp_buf b;
    if (tl > UINT32_MAX - BKP_ENVELOPE_OVERHEAD)
        return -EFBIG;
    bkp_buf_init(&b);
    bkp_buf_put(&b, magic, 8);
    bkp_buf_u32(&b, (uint32_t)tl);
    bkp_buf_put(&b, text, tl);
    /* Sign what is in the buffer now (magic, length, text) and append. */
    uint8_t *sig = bkp_buf_reserve(&b, 64);
    if (!sig || b.failed) {
        bkp_buf_free(&b);
        return -ENOMEM;
    }
    bkp_keys_sign(k, sig, b.data, b.len);
    b.len += 64;
    bkp_buf_free(out);
    *out = b;
    return 0;
}

int bkp_envelope_open(const uint8_t pk[32], const char magic[8], const uint8_t *data, size_t len,
                      const uint8_t **text, size_t *text_len)
{
    if (len < BKP_ENVELOPE_OVERHEAD || memcmp(data, magic, 8) != 0)
        return -EBADMSG;
    /* The length is checked against the bytes before the signature is:
     * it must end exactly where the signature starts. */
    uint32_t jlen = bkp_get_le32(data + 8);
    if ((size_t)jlen + BKP_ENVELOPE_OVERHEAD != len ||
        bkp_sig_verify(pk, data + 12 + jlen, data, 12 + (size_t)jlen) != 0)
        return -EBADMSG;
    *text = data + 12;
    *text_len = jlen;
    return 0;
}

int bkp_envelope_load(const char *path, size_t max, bkp_buf *data)
{
    int rc = bkp_read_file(path, data, max);
    return rc == -EFBIG ? -EBADMSG : rc;
}

int bkp_envelope_store(const bkp_keys *k, const char magic[8], json_t *j, size_t max,
                       const char *dir, const char *name, unsigned flags)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bkp_buf b;
    int rc;
    json_decref(j);
    if (!text || !dir) {
        free(text);
        return -ENOMEM;
    }
    bkp_buf_init(&b);
    rc = bkp_envelope_seal(k, magic, text, &b);
    free(text);
    if (!rc && b.len > max)
        rc = -EFBIG;
    if (!rc)
        rc = bkp_durable_write(dir, name, b.data, b.len, flags);
    bkp_buf_free(&b);
    return rc;
}
