/* Fuzz target: the S3 server's XML answers (every parser of s3.h, each on the
 * same bytes: each checks its own root element), and the ISO 8601 times in
 * them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each(const bkp_s3_object *o, void *ctx)
{
    /* Touch what a caller reads, so the sanitizers see any overrun. */
    size_t *n = ctx;
    *n += strlen(o->key) + strlen(o->version_id) + strlen(o->etag);
    return *n > (1u << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *x = (const char *)data;
    char code[64], message[256], next[BKP_S3_KEY_MAX + 1], nv[BKP_S3_VERSION_MAX + 1];
    bool on;
    bkp_s3_lock mode;
    unsigned days;
    time_t t;
    size_t n = 0;
    (void)bkp_s3_parse_error(x, size, code, message);
    (void)bkp_s3_parse_list(x, size, false, each, &n, next, NULL);
    (void)bkp_s3_parse_list(x, size, true, each, &n, next, nv);
    (void)bkp_s3_parse_versioning(x, size, &on);
    (void)bkp_s3_parse_lock_config(x, size, &on, &mode, &days);
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
        (void)bkp_s3_parse_time(s, &t);
        free(s);
    }
    return 0;
}
