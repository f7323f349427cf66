/* Fuzz target: the rolling re-read state, cache/reread.json. */
#include <stdint.h>
#include <stdlib.h>

#include "bkp/audit/reread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    if (bkp_reread_parse((const char *)data, size, 1800000000, &j) == 0) {
        if (!json_is_object(j))
            abort();
        json_decref(j);
    }
    return 0;
}
