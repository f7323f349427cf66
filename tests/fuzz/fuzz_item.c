/* Fuzz target: an item record of a generation's tree stream, read as each
 * version of the stream (FORMAT.md §6). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/store/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (uint32_t v = BKP_TREE_VERSION_MIN; v <= BKP_TREE_VERSION; v++) {
        bkp_item it, back;
        bkp_buf once, twice;
        bkp_item_init(&it);
        bkp_item_init(&back);
        bkp_buf_init(&once);
        bkp_buf_init(&twice);
        /* Whatever decodes encodes as the current version, and that record
         * decodes and encodes again to the same bytes. */
        if (bkp_item_decode(data, size, v, &it) == 0 && bkp_item_encode(&it, &once) == 0) {
            if (bkp_item_decode(once.data + 4, once.len - 4, BKP_TREE_VERSION, &back) != 0 ||
                bkp_item_encode(&back, &twice) != 0 || once.len != twice.len ||
                memcmp(once.data, twice.data, once.len) != 0)
                abort();
        }
        bkp_item_clear(&it);
        bkp_item_clear(&back);
        bkp_buf_free(&once);
        bkp_buf_free(&twice);
    }
    return 0;
}
