/* Fuzz target: the S3 credentials file (AWS shared-credentials format). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *profiles[] = {NULL, "offsite"};
    for (size_t i = 0; i < 2; i++) {
        char *key = NULL, *secret = NULL;
        int line = 0;
        if (bkp_s3_creds_parse((const char *)data, size, profiles[i], &key, &secret, &line) == 0) {
            if (!key[0] || !secret[0])
                abort(); /* empty values are refused */
            free(key);
            free(secret);
        }
    }
    return 0;
}
