/* Fuzz target: a medium's BKP-LABEL, through its one codec (label.h).
 * Whatever is accepted has every field in its form, and round-trips: the
 * text written back parses to the same label (the signature covers that
 * text). A signed one (version 2) is checked under the key it names, which
 * must not crash, and a label accepted as ours without a registry must be
 * signed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/keys/pubkey.h"
#include "bkp/media/label.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_label l, again;
    if (bkp_label_parse(data, size, &l) != 0)
        return 0;
    if ((l.version != 1 && l.version != 2) || !bkp_medium_name_ok(l.name) ||
        !bkp_medium_type_ok(l.type) || !bkp_medium_location_ok(l.location) ||
        !bkp_medium_uuid_ok(l.uuid) || !bkp_medium_uuid_ok(l.repository))
        abort(); /* a label accepted without a field in its form */
    /* Printed and compared by string: the exact text bkp writes, or none. */
    if (l.fingerprint[0] && strlen(l.fingerprint) != BKP_FINGERPRINT_LEN - 1)
        abort();
    if ((l.version == 2) != (l.signature[0] != '\0'))
        abort();
    size_t len = 0;
    char *text = bkp_label_text(&l, &len);
    if (!text)
        return 0;
    if (bkp_label_parse(text, len, &again) || !bkp_label_same(&l, &again))
        abort(); /* what it writes back is not what it read */
    free(text);
    uint8_t pk[32] = {0};
    if (l.fingerprint[0] && bkp_pubkey_parse(l.fingerprint, strlen(l.fingerprint), pk))
        abort(); /* a fingerprint accepted that does not parse */
    bool by_own = bkp_label_signed_by(&l, pk);
    if (by_own && l.version != 2)
        abort();
    if (bkp_label_ours(&l, NULL, pk, l.repository) != by_own)
        abort();
    if (!bkp_label_ours(&l, &l, pk, l.repository))
        abort(); /* the very label registered is ours */
    return 0;
}
