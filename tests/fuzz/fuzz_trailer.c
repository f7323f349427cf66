/* Fuzz target: the plaintext of a pack trailer, behind valid encryption, so
 * the parser itself (counts, offsets, lengths) is what the fuzzer reaches. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bkp_keys *k;
    static const uint8_t zero[BKP_ID_LEN], rid[16];
    bkp_buf pack;
    bkp_pack_entry *e = NULL;
    uint32_t n = 0;
    if (!k && (sodium_init() < 0 || bkp_keys_generate(rid, &k)))
        return 0;
    bkp_buf_init(&pack);
    bkp_buf_put(&pack, BKP_PACK_MAGIC, 8);
    size_t before = pack.len;
    if (bkp_blob_seal(k, BKP_BLOB_TRAILER, zero, data, size, BKP_COMP_STORED, &pack) == 0) {
        bkp_buf_u32(&pack, (uint32_t)(pack.len - before));
        bkp_buf_put(&pack, BKP_PACK_END_MAGIC, 8);
        if (bkp_pack_parse_trailer(pack.data, pack.len, k, &e, &n) == 0)
            for (uint32_t i = 0; i < n; i++)
                if (e[i].offset + e[i].len > pack.len)
                    abort(); /* an entry pointing outside the pack was accepted */
        free(e);
    }
    bkp_buf_free(&pack);
    return 0;
}
