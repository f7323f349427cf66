/* Fuzz target: a medium's BKP-LABEL. Whatever is accepted must carry every
 * field its callers read, of the type they read it as. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/medium.h"
#include "bkp/pubkey.h"

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
        json_decref(j);
    }
    return 0;
}
