/* Fuzz target: a blob index table file (bkp/store/itable.h). The input is split
 * into blocks, each sealed with its MAC as a writer would, so the parser
 * behind the MACs (trailer, counts, padding, order, pack numbers) is
 * reached; a lookup and a visit follow an accepted table. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/store/itable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(const bkp_index_entry *e, void *ctx)
{
    (void)e;
    (void)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {7};
    const size_t dl = BKP_ITABLE_BLOCK - 32;
    size_t nb = size / dl + 1;
    if (nb > 64 || sodium_init() < 0)
        return 0;
    uint8_t *file = calloc(nb, BKP_ITABLE_BLOCK);
    if (!file)
        return 0;
    /* Each block's data from the input in turn; the last one is the
     * trailer, given its magic, and holds the table ID the MACs use. */
    for (size_t b = 0; b < nb; b++)
        memcpy(file + b * BKP_ITABLE_BLOCK, data + b * dl, b + 1 < nb ? dl : size - b * dl);
    memcpy(file + (nb - 1) * BKP_ITABLE_BLOCK, "BKPITB01", 8);
    uint8_t *tid = file + (nb - 1) * BKP_ITABLE_BLOCK + 8, id[BKP_ID_LEN] = {0};
    memcpy(id, data, size < sizeof(id) ? size : sizeof(id));
    for (size_t b = 0; b < nb; b++) {
        uint8_t n[8], *blk = file + b * BKP_ITABLE_BLOCK;
        for (int i = 0; i < 8; i++)
            n[i] = (uint8_t)(b >> (8 * i));
        crypto_generichash_state st;
        crypto_generichash_init(&st, key, 32, 32);
        crypto_generichash_update(&st, tid, 16);
        crypto_generichash_update(&st, n, 8);
        crypto_generichash_update(&st, blk, dl);
        crypto_generichash_final(&st, blk + dl, 32);
    }
    FILE *fp = tmpfile();
    if (fp && fwrite(file, BKP_ITABLE_BLOCK, nb, fp) == nb && fflush(fp) == 0) {
        bkp_itable *t;
        uint8_t(*p)[BKP_ID_LEN], (*s)[BKP_ID_LEN];
        uint32_t np, ns;
        if (bkp_itable_open(dup(fileno(fp)), key, &t, &p, &np, &s, &ns) == 0) {
            bkp_index_entry e;
            (void)bkp_itable_lookup(t, id, &e);
            (void)bkp_itable_foreach(t, visit, NULL);
            bkp_itable_free(t);
            free(p);
            free(s);
        }
    }
    if (fp)
        fclose(fp);
    free(file);
    return 0;
}
