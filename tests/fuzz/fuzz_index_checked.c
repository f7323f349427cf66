/* Fuzz target: the list of index segments an open need not authenticate
 * again (bkp/store/index_checked.h). The input gets the list's magic and its MAC
 * as a writer would give them, so the parser behind the MAC (count, length,
 * records, order) is reached; a lookup follows an accepted list. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/index_checked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {9};
    static const char domain[] = "bkp index segments checked";
    if (size > (1U << 20) || sodium_init() < 0)
        return 0;
    uint8_t *buf = malloc(8 + size + 32);
    if (!buf)
        return 0;
    memcpy(buf, "BKPICK01", 8);
    memcpy(buf + 8, data, size);
    crypto_generichash_state h;
    crypto_generichash_init(&h, key, 32, 32);
    crypto_generichash_update(&h, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&h, buf, 8 + size);
    crypto_generichash_final(&h, buf + 8 + size, 32);
    bkp_checked c;
    if (bkp_checked_parse(buf, 8 + size + 32, key, &c) == 0) {
        for (uint32_t i = 0; i < c.n; i++)
            if (!bkp_checked_has(&c, &c.v[i]) ||
                (i && memcmp(c.v[i - 1].name, c.v[i].name, sizeof(c.v[i].name)) > 0))
                __builtin_trap(); /* accepted: sorted, each found as it is */
        bkp_checked_free(&c);
    } else if (c.n || c.v) {
        __builtin_trap(); /* refused: empty */
    }
    /* The same bytes under another key are refused. */
    static const uint8_t other[32] = {1};
    if (bkp_checked_parse(buf, 8 + size + 32, other, &c) == 0)
        __builtin_trap();
    free(buf);
    return 0;
}
