/* Fuzz target: the JSON of a signed list of packs (SEQ.packs in a bucket),
 * as bkp_bucket_packs_parse reads it once its signature has checked. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bkp/media/bucket.h"

static int count(const char *hex, void *ctx)
{
    size_t *n = ctx;
    /* The callback sees only strings; what it keeps is its own check. */
    *n += strlen(hex) == 64;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    (void)bkp_bucket_packs_parse(data, size, "emr", 2,
                                 "4776efb0a96e807a4236320d5ab35a6abe1ebc6cf9ce3228325e99a72b1feddb",
                                 count, &n);
    return 0;
}
