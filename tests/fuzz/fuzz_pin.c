/* Fuzz target: the JSON of a medium's pin (bkp/media/pin.h), as it is parsed once
 * its signature has been checked: types, names, hashes and counts. */
#include <stddef.h>
#include <stdint.h>

#include "bkp/media/pin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_pin *p = NULL;
    if (bkp_pin_parse(data, size, &p) == 0) {
        /* What a parsed pin promises its users. */
        for (size_t i = 0; i < p->nheads; i++)
            if (!bkp_dataset_name_ok(p->heads[i].dataset) || !p->heads[i].seq)
                __builtin_trap();
        bkp_pin_free(p);
    }
    return 0;
}
