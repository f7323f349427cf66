/* Fuzz target: a repository's config, parsed before any key is open; then
 * its MAC checked under a fixed key. A parsed config rendered again under
 * that key must parse and check. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bkp_keys *k;
    static const uint8_t rid[16];
    bkp_config c, again;
    if (!k && (sodium_init() < 0 || bkp_keys_generate(rid, &k)))
        return 0;
    if (bkp_config_parse(data, size, &c, NULL) != 0)
        return 0;
    int rc = bkp_config_check(&c, data, size, k);
    if (rc != 0 && rc != -EBADMSG && rc != -ENOKEY)
        abort();
    size_t len = 0;
    char *text = bkp_config_render(c.id, c.created, c.chunk, c.id_hash, k, &len);
    if (!text)
        return 0;
    if (bkp_config_parse((const uint8_t *)text, len, &again, NULL) != 0 ||
        bkp_config_check(&again, (const uint8_t *)text, len, k) != 0 ||
        memcmp(again.chunk, c.chunk, sizeof(c.chunk)) || strcmp(again.id, c.id) ||
        again.id_hash != c.id_hash)
        abort(); /* what bkp writes it must read back */
    free(text);
    return 0;
}
