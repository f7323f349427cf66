/* Fuzz target: a prune intent (locks/prune-intent). The body parser is what
 * runs on bytes whose signature verified, so it is fuzzed directly; the whole
 * file goes through the signature framing too. A body that parses is
 * written again, signed, and must read back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/intent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The repository of the seed corpus. */
    static const uint8_t rid[16] = {0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0a, 0x4d, 0x7b,
                                    0x9c, 0x21, 0x5e, 0x43, 0xa0, 0x17, 0xd8, 0x66};
    static bkp_keys *k;
    bkp_intent in, back;
    bkp_buf file;
    if (!k && (sodium_init() < 0 || bkp_keys_generate(rid, &k)))
        return 0;
    if (bkp_intent_decode(data, size, k, &in) == 0)
        abort(); /* no input signs itself with a key it cannot know */
    if (bkp_intent_parse(data, size, rid, &in) != 0)
        return 0;
    bkp_buf_init(&file);
    if (bkp_intent_encode(&in, k, &file) == 0) {
        if (bkp_intent_decode(file.data, file.len, k, &back) != 0 ||
            back.npacks != in.npacks || back.nold != in.nold || back.nnew != in.nnew ||
            back.index_written != in.index_written ||
            (in.npacks && memcmp(back.packs, in.packs, in.npacks * BKP_ID_LEN)))
            abort();
        bkp_intent_free(&back);
    }
    bkp_buf_free(&file);
    bkp_intent_free(&in);
    return 0;
}
