/* Fuzz target: an item record of a generation's tree stream. */
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_item it;
    bkp_buf again;
    bkp_item_init(&it);
    bkp_buf_init(&again);
    /* Whatever decodes must encode again without trouble. */
    if (bkp_item_decode(data, size, &it) == 0)
        (void)bkp_item_encode(&it, &again);
    bkp_item_clear(&it);
    bkp_buf_free(&again);
    return 0;
}
