/* Fuzz target: the key slots' JSON (inside its signed envelope, FORMAT §2)
 * and keys/used, both read by every open of a repository or a medium. */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "bkp/keys/key_slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t pk[32], rid[16];
    bkp_key_slots s;
    if (sodium_init() < 0)
        return 0;
    if (bkp_key_slots_parse(data, size, NULL, &s) == 0)
        (void)bkp_key_used_parse(data, size, &s);
    (void)bkp_key_used_parse(data, size, &s);
    /* The whole file: magic, envelope (whose signature fails here), format 1. */
    if (bkp_key_slots_read(data, size, pk, rid, &s) == 0 && s.version == 2)
        __builtin_trap(); /* no input is signed by the all-zero key */
    return 0;
}
