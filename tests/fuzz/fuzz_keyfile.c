/* Fuzz target: a sealed key file (magic, costs, salt, nonce, ciphertext). */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "bkp/keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_keys *k = NULL;
    if (sodium_init() < 0)
        return 0;
    /* Bound the Argon2id cost a forged header can ask for, to keep runs short:
     * the parser's own bounds are what is under test, and they are checked
     * before any work is done. */
    if (size >= 28 && (data[12] > 4 || data[13] || data[20 + 3] > 1))
        return 0;
    if (bkp_keys_open(data, size, "fuzz passphrase", 15, &k) == 0)
        bkp_keys_free(k);
    return 0;
}
