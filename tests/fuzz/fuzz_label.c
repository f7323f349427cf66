/* Fuzz target: a medium's BKP-LABEL. Whatever is accepted must carry every
 * field its callers read, of the type they read it as; a signed one (version
 * 2) is checked under the key it names and under another, which must not
 * crash, and a label accepted as ours without a registry must be signed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/media/medium.h"
#include "bkp/keys/pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    if (bkp_label_parse(data, size, &j) == 0) {
        static const char *const keys[] = {"uuid", "name", "type", "location", "repository",
                                           "created"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
            if (!json_string_value(json_object_get(j, keys[i])))
                abort(); /* a label accepted without a field a caller dereferences */
        if (!bkp_medium_name_ok(json_string_value(json_object_get(j, "name"))))
            abort();
        /* Printed and compared by string: the exact text bkp writes, or none. */
        json_t *fp = json_object_get(j, "fingerprint");
        if (fp && (!json_is_string(fp) ||
                   strlen(json_string_value(fp)) != BKP_FINGERPRINT_LEN - 1))
            abort();
        uint8_t pk[32] = {0};
        const char *f = json_string_value(fp);
        if (f && bkp_pubkey_parse(f, strlen(f), pk))
            abort(); /* a fingerprint accepted that does not parse */
        bool by_own = bkp_label_signed_by(j, pk);
        if (by_own && json_integer_value(json_object_get(j, "version")) != 2)
            abort();
        const char *repo = json_string_value(json_object_get(j, "repository"));
        if (bkp_label_ours(j, NULL, pk, repo) != by_own)
            abort();
        (void)bkp_label_ours(j, j, pk, repo);
        json_decref(j);
    }
    return 0;
}
