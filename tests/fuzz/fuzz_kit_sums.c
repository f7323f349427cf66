/* Fuzz target: a recovery kit's SHA256SUMS as read from a medium
 * (bkp/media/kit.h): lines, hashes, member names, duplicates and counts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bkp/media/kit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_kit_sum *s = NULL;
    size_t n = 0;
    if (bkp_kit_sums_parse(data, size, &s, &n) == 0) {
        /* What a parsed list promises the check: member names, each once,
         * never the list itself, no more than a kit holds. */
        if (!n || n > BKP_KIT_FILES_MAX)
            __builtin_trap();
        for (size_t i = 0; i < n; i++) {
            if (!bkp_kit_member_ok(s[i].name) || !strcmp(s[i].name, "SHA256SUMS"))
                __builtin_trap();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(s[i].name, s[j].name))
                    __builtin_trap();
        }
        bkp_kit_sums_free(s, n);
    } else if (s || n) {
        __builtin_trap();
    }
    return 0;
}
