/*
 * bucket_packs.c — the signed lists of the packs each generation in a
 * bucket needs (SEQ.packs, FORMAT §9c; bucket.h), read back: what a prune
 * of the bucket keeps, and what a restore from it fetches.
 *
 * A list counts only when the repository's key signed it and it names its
 * record by the record's hash; a generation without one is the caller's to
 * treat as needing every pack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/media/bucket_internal.h"
#include "bkp/keys/envelope.h"
#include "bkp/keys/keys.h"

int bkp_bucket_packs_parse(const uint8_t *text, size_t len, const char *dataset, uint32_t seq,
                           const char *record, int (*fn)(const char *hex, void *ctx), void *ctx)
{
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL), *packs, *x;
    size_t i;
    int rc = j ? 0 : -EBADMSG;
    packs = json_object_get(j, "packs");
    const char *ds = json_string_value(json_object_get(j, "dataset"));
    const char *rec = json_string_value(json_object_get(j, "record"));
    json_t *jseq = json_object_get(j, "seq");
    if (!rc &&
        (!json_is_array(packs) || !ds || !rec || strcmp(ds, dataset) || strcmp(rec, record) ||
         !json_is_integer(jseq) || json_integer_value(jseq) != (json_int_t)seq))
        rc = -EBADMSG;
    json_array_foreach(packs, i, x)
    {
        if (!rc)
            rc = json_is_string(x) ? fn(json_string_value(x), ctx) : -EBADMSG;
    }
    json_decref(j);
    return rc;
}

static int add_hex(const char *hex, void *ctx)
{
    bkp_bucket_packset *h = ctx;
    if (strlen(hex) != 2 * BKP_ID_LEN || strspn(hex, "0123456789abcdef") != 2 * BKP_ID_LEN)
        return -EBADMSG;
    if (bkp_grow(&h->v, &h->cap, h->n, sizeof(*h->v), 1024))
        return -ENOMEM;
    memcpy(h->v[h->n++], hex, 2 * BKP_ID_LEN + 1);
    h->sorted = false;
    return 0;
}

int bkp_bucket_packset_add(bkp_repo *copy, const bkp_gen *g, bkp_bucket_packset *set)
{
    char sub[512], hex[2 * BKP_ID_LEN + 1];
    snprintf(sub, sizeof(sub), "generations/%s/%010u.packs", g->dataset, g->seq);
    char *path = bkp_repo_subpath(copy, sub);
    bkp_buf b;
    const uint8_t *text = NULL;
    size_t tlen = 0, before = set->n;
    bkp_buf_init(&b);
    int rc = path ? bkp_envelope_load(path, MANIFEST_MAX, &b) : -ENOMEM;
    if (!rc)
        rc = bkp_envelope_open(bkp_keys_sign_pk(bkp_repo_keys(copy)), MANIFEST_MAGIC, b.data, b.len,
                               &text, &tlen);
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    if (!rc)
        rc = bkp_bucket_packs_parse(text, tlen, g->dataset, g->seq, hex, add_hex, set);
    if (rc)
        set->n = before; /* all of a list or nothing of it */
    bkp_buf_free(&b);
    free(path);
    return rc;
}

static int by_hex(const void *a, const void *b)
{
    return memcmp(a, b, 2 * BKP_ID_LEN);
}

void bkp_bucket_packset_sort(bkp_bucket_packset *set)
{
    if (set->n && !set->sorted) {
        qsort(set->v, set->n, sizeof(*set->v), by_hex);
        size_t k = 1; /* generations share packs: each once */
        for (size_t i = 1; i < set->n; i++)
            if (by_hex(set->v[i], set->v[k - 1]))
                memcpy(set->v[k++], set->v[i], sizeof(*set->v));
        set->n = k;
    }
    set->sorted = true;
}

bool bkp_bucket_packset_has(const bkp_bucket_packset *set, const char *hex)
{
    return set->n && bsearch(hex, set->v, set->n, sizeof(*set->v), by_hex);
}

void bkp_bucket_packset_free(bkp_bucket_packset *set)
{
    free(set->v);
    memset(set, 0, sizeof(*set));
}
