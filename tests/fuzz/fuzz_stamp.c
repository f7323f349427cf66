/* Fuzz target: the files cache's stamp (bkp/capture/filescache_stamp.c, FORMAT §8).
 * The first byte chooses: odd, the input is the cache's last bytes as they
 * are (the tail parser: magic, length, bounds); even, the rest of the input
 * is the stamp's plaintext, sealed as a writer would and put behind a
 * prefix of the cache's own bytes with its length and magic, so that the
 * parser behind the seal (the count, the names) is reached. */
#include <string.h>

#include <sodium.h>

#include "bkp/store/blob.h"
#include "bkp/capture/filescache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bkp_keys *k;
    static const uint8_t rid[16], cache_id[BKP_FCACHE_ID_LEN] = {3};
    const uint8_t(*names)[BKP_ID_LEN] = NULL;
    uint32_t n = 0;
    bkp_buf file, plain;
    if (!size || (!k && (sodium_init() < 0 || bkp_keys_generate(rid, &k))))
        return 0;
    bkp_buf_init(&file);
    bkp_buf_init(&plain);
    size_t start = size > 1 ? data[1] % 16 : 0;
    if (data[0] & 1) {
        bkp_buf_put(&file, data + 1, size - 1);
    } else {
        uint8_t id[BKP_ID_LEN], le[4];
        bkp_fcache_stamp_id("fuzz", cache_id, id);
        for (size_t i = 0; i < start; i++)
            bkp_buf_u8(&file, (uint8_t)i);
        size_t at = file.len;
        if (bkp_blob_seal(k, BKP_BLOB_CACHE, id, data + 1, size - 1, BKP_COMP_STORED, &file) == 0) {
            bkp_le32(le, (uint32_t)(file.len - at));
            bkp_buf_put(&file, le, 4);
            bkp_buf_put(&file, "BKPFCV01", 8);
        }
    }
    if (!file.failed &&
        bkp_fcache_stamp_parse(k, "fuzz", cache_id, file.data, file.len, start, &plain, &names,
                               &n) == 0 &&
        n) {
        volatile uint8_t last = names[n - 1][BKP_ID_LEN - 1];
        (void)last;
    }
    bkp_buf_free(&file);
    bkp_buf_free(&plain);
    return 0;
}
