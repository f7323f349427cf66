/*
 * Fuzz target: what follows the signature of a generation record, a
 * tombstone and a clearance (bkp_gen_*_parse), and an audit head marker
 * sealed with a fixed key so its parser is reached behind the signature.
 * The first byte picks the parser; the rest is the authenticated body. A
 * record that parses is written back by its codec: that text parses to the
 * same record and writes the same text again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/store/generation.h"

static void round_trip(const bkp_gen *g, const char *repo)
{
    char *text = bkp_gen_record_text(g, repo), *again = NULL;
    if (!text)
        return;
    bkp_gen h = {0};
    if (bkp_gen_record_parse((const uint8_t *)text, strlen(text), repo, &h))
        abort(); /* what it writes it refuses */
    if (strcmp(h.dataset, g->dataset) || h.seq != g->seq || strcmp(h.uuid, g->uuid) ||
        h.ntree != g->ntree || memcmp(h.tree, g->tree, g->ntree * 32) ||
        h.has_prev != g->has_prev || (g->has_prev && memcmp(h.prev, g->prev, 32)) ||
        memcmp(&h.stats, &g->stats, sizeof(h.stats)) || h.npaths != g->npaths ||
        h.nerrors != g->nerrors || h.items != g->items || h.suspicious != g->suspicious ||
        h.guarded != g->guarded || h.judged != g->judged || h.started != g->started ||
        h.finished != g->finished)
        abort();
    if (!(again = bkp_gen_record_text(&h, repo)) || strcmp(again, text))
        abort();
    free(again);
    free(text);
    bkp_gen_empty(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char repo[] = "0b5a3f4e-7d1c-4a8e-9f2b-6c1d2e3f4a5b";
    static const char medium[] = "5e0f1d2c-3b4a-4968-8776-a5b4c3d2e1f0";
    uint8_t seed[32] = {0}, pk[32], sk[64];
    if (!size || sodium_init() < 0)
        return 0;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    bkp_gen *g = calloc(1, sizeof(*g));
    if (!g)
        return 0;
    switch (data[0] % 5) {
    case 0:
        if (!bkp_gen_record_parse(body, len, repo, g))
            round_trip(g, repo);
        break;
    case 1: /* on the primary: a "not copied" tombstone never counts */
        (void)bkp_gen_tombstone_parse(body, len, "ds", 3, NULL, g);
        break;
    case 2: /* on the copy of one medium */
        (void)bkp_gen_tombstone_parse(body, len, "ds", 3, medium, g);
        break;
    case 3:
        (void)bkp_gen_clearance_parse(body, len, g);
        break;
    default: {
        /* "BKPHEAD1" | u32le length | body | signature by a fixed key */
        bkp_buf b;
        bkp_audit_head h;
        crypto_sign_seed_keypair(pk, sk, seed);
        bkp_buf_init(&b);
        bkp_buf_put(&b, "BKPHEAD1", 8);
        bkp_buf_u32(&b, (uint32_t)len);
        bkp_buf_put(&b, body, len);
        uint8_t *sig = bkp_buf_reserve(&b, 64);
        if (sig && !b.failed) {
            crypto_sign_detached(sig, NULL, b.data, b.len, sk);
            b.len += 64;
            (void)bkp_audit_head_parse(b.data, b.len, pk, &h);
        }
        bkp_buf_free(&b);
    }
    }
    bkp_gen_free(g);
    return 0;
}
