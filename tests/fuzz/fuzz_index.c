/* Fuzz target: the plaintext of an index segment, behind valid encryption. */
#include <sodium.h>

#include "bkp/store/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bkp_keys *k;
    static const uint8_t zero[BKP_ID_LEN], rid[16];
    bkp_buf seg;
    bkp_index *x = NULL;
    if (!k && (sodium_init() < 0 || bkp_keys_generate(rid, &k)))
        return 0;
    bkp_buf_init(&seg);
    bkp_buf_put(&seg, "BKPIDX01", 8);
    if (bkp_blob_seal(k, BKP_BLOB_INDEX, zero, data, size, BKP_COMP_STORED, &seg) == 0 && bkp_index_new(&x) == 0)
        if (bkp_index_segment_load(x, seg.data, seg.len, k) == 0)
            (void)bkp_index_count(x);
    bkp_index_free(x);
    bkp_buf_free(&seg);
    return 0;
}
