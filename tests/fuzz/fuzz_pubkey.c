/* Fuzz target: a public key given to --public-key, as text or a key file's
 * bytes (bkp/keys/pubkey.h). What is accepted must print back as a fingerprint
 * that is accepted again as the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/keys/pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pk[32], again[32];
    char fp[BKP_FINGERPRINT_LEN];
    if (size > BKP_PUBKEY_FILE_MAX || bkp_pubkey_parse((const char *)data, size, pk) != 0)
        return 0;
    bkp_pubkey_fingerprint(pk, fp);
    if (strlen(fp) != BKP_FINGERPRINT_LEN - 1 || bkp_pubkey_parse(fp, strlen(fp), again) != 0 ||
        memcmp(pk, again, 32) != 0)
        abort();
    return 0;
}
