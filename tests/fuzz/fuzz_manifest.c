/* Fuzz target: the blob index's manifest, cache/index-levels
 * (bkp/store/itable_levels.h, FORMAT §5a). The first byte chooses: odd, the rest
 * is the manifest's bytes as they are (the magic, the length, the MAC);
 * even, the rest follows the magic and gets the manifest's MAC as a writer
 * would give it, so that the parser behind the MAC (the count, the length
 * it implies, a table listed twice) is reached. An accepted manifest must
 * encode back to the very same bytes, be refused under another key, list
 * no table twice, and its counts go through the merge policy as a loaded
 * index's would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/itable_levels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seal(const uint8_t key[32], uint8_t *buf, size_t len)
{
    static const char domain[] = "bkp index levels"; /* and its terminator */
    crypto_generichash_state h;
    crypto_generichash_init(&h, key, 32, 32);
    crypto_generichash_update(&h, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&h, buf, len);
    crypto_generichash_final(&h, buf + len, 32);
}

/* What an accepted manifest must satisfy. */
static void accepted(const uint8_t *buf, size_t len, const bkp_itable_level *v, uint32_t n)
{
    static const uint8_t key[32] = {5};
    uint8_t again[8 + 4 + BKP_ITABLE_LEVELS_MAX * 24 + 32];
    if (n > BKP_ITABLE_LEVELS_MAX || len != bkp_itable_manifest_size(n))
        __builtin_trap();
    bkp_itable_manifest_encode(key, v, n, again);
    if (memcmp(again, buf, len))
        __builtin_trap(); /* the bytes are the parse's only encoding */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            if (!memcmp(v[i].tid, v[j].tid, 16))
                __builtin_trap(); /* one table listed twice */
    uint64_t counts[BKP_ITABLE_LEVELS_MAX];
    for (uint32_t i = 0; i < n; i++)
        counts[i] = v[i].count;
    uint64_t add = n ? v[0].count : 1, unit = n ? v[n - 1].count : 0;
    uint32_t k = bkp_itable_levels_plan(counts, n, add, unit);
    if (k > n || n - k + 1 >= BKP_ITABLE_LEVELS_MAX)
        __builtin_trap(); /* the plan leaves fewer tables than the manifest holds */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {5}, other[32] = {6};
    if (!size || size > (1U << 16) || sodium_init() < 0)
        return 0;
    uint8_t *buf = malloc(8 + size + 32);
    size_t len = 0;
    if (!buf)
        return 0;
    if (data[0] & 1) {
        memcpy(buf, data + 1, size - 1);
        len = size - 1;
    } else {
        memcpy(buf, "BKPILV01", 8);
        memcpy(buf + 8, data + 1, size - 1);
        seal(key, buf, 8 + size - 1);
        len = 8 + size - 1 + 32;
    }
    bkp_itable_level *v = NULL;
    uint32_t n = 0;
    int rc = bkp_itable_manifest_decode(buf, len, key, &v, &n);
    if (!rc) {
        accepted(buf, len, v, n);
        free(v);
        v = NULL;
        if (bkp_itable_manifest_decode(buf, len, other, &v, &n) != -EBADMSG || v)
            __builtin_trap(); /* another repository's key */
    } else if (rc != -EBADMSG && rc != -ENOMEM) {
        __builtin_trap(); /* refused: corrupt, never "missing" */
    } else if (v) {
        __builtin_trap(); /* outputs are written only on success */
    }
    free(buf);
    return 0;
}
