#include "bkp/store/index.h"
#include "bkp/store/index_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/store/itable.h"
#include "bkp/store/itable_levels.h"
#include "bkp/io/log.h"

#define SEGMENT_MAGIC "BKPIDX01"
#define ENTRY_LEN (1 + BKP_ID_LEN + 8 + 4 + 4)

static const uint8_t zero_id[BKP_ID_LEN];

/* IDs are keyed hashes: their first bytes are already uniformly spread. */
static uint64_t slot_in(uint64_t cap, const uint8_t id[BKP_ID_LEN])
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return h & (cap - 1);
}

static uint32_t tag_of(const uint8_t id[BKP_ID_LEN])
{
    uint32_t t;
    memcpy(&t, id + 8, sizeof(t));
    return t;
}

int bkp_index_new(bkp_index **out)
{
    bkp_index *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->cap = 1024;
    x->slots = calloc(x->cap, sizeof(*x->slots));
    x->hit = malloc(sizeof(*x->hit));
    x->levels = calloc(BKP_ITABLE_LEVELS_MAX + 1, sizeof(*x->levels));
    if (!x->slots || !x->hit || !x->levels) {
        free(x->levels);
        free(x->slots);
        free(x->hit);
        free(x);
        return -ENOMEM;
    }
    *out = x;
    return 0;
}

void bkp_index_free(bkp_index *x)
{
    if (!x)
        return;
    free(x->slots);
    free(x->ents);
    free(x->packs);
    for (uint32_t i = 0; i < x->nlevels; i++) {
        bkp_itable_free(x->levels[i].t);
        free(x->levels[i].names);
    }
    free(x->levels);
    free(x->hit);
    free(x);
}

int bkp_index_add_pack(bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num)
{
    if (x->npacks == x->packs_cap) {
        uint32_t cap = x->packs_cap ? 2 * x->packs_cap : 64;
        void *p = realloc(x->packs, (size_t)cap * BKP_ID_LEN);
        if (!p)
            return -ENOMEM;
        x->packs = p;
        x->packs_cap = cap;
    }
    memcpy(x->packs[x->npacks], id, BKP_ID_LEN);
    *num = x->npacks++;
    return 0;
}

void bkp_index_set_pack_id(bkp_index *x, uint32_t num, const uint8_t id[BKP_ID_LEN])
{
    memcpy(x->packs[num], id, BKP_ID_LEN);
}

const uint8_t *bkp_index_pack_id(const bkp_index *x, uint32_t num)
{
    return x->packs[num];
}

uint32_t bkp_index_pack_count(const bkp_index *x)
{
    return x->npacks;
}

int bkp_index_find_pack(const bkp_index *x, const uint8_t id[BKP_ID_LEN], uint32_t *num)
{
    for (uint32_t i = 0; i < x->npacks; i++)
        if (memcmp(x->packs[i], id, BKP_ID_LEN) == 0) {
            *num = i;
            return 0;
        }
    return -ENOENT;
}

/* Double the table; the entries stay where they are. */
static int grow(bkp_index *x)
{
    uint64_t cap = x->cap * 2;
    bkp_index_slot *t = calloc(cap, sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (uint64_t i = 0; i < x->cap; i++) {
        if (!x->slots[i].at)
            continue;
        uint64_t s = slot_in(cap, x->ents[x->slots[i].at - 1].id);
        while (t[s].at)
            s = (s + 1) & (cap - 1);
        t[s] = x->slots[i];
    }
    free(x->slots);
    x->slots = t;
    x->cap = cap;
    return 0;
}

static bkp_index_entry *lookup_memory(const bkp_index *x, const uint8_t id[BKP_ID_LEN])
{
    uint32_t tag = tag_of(id);
    for (uint64_t s = slot_in(x->cap, id);; s = (s + 1) & (x->cap - 1)) {
        const bkp_index_slot *sl = &x->slots[s];
        if (!sl->at)
            return NULL;
        bkp_index_entry *e = &x->ents[sl->at - 1];
        if (sl->tag == tag && memcmp(e->id, id, BKP_ID_LEN) == 0)
            return e;
    }
}

bkp_index_entry *bkp_index_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN])
{
    bkp_index_entry *e = lookup_memory(x, id);
    if (e || !x->nlevels)
        return e;
    int rc = bkp_index_levels_lookup(x, id);
    if (rc > 0)
        return x->hit;
    /* A block that no longer checks was changed (or became unreadable)
     * after the open: the blob counts as absent. A backup then stores it
     * again, which loses nothing; a read of it says it is missing. */
    if (rc < 0 && !x->table_err) {
        ((bkp_index *)x)->table_err = rc;
        bkp_warn(_("the blob index table in the repository's cache folder changed or became "
                   "unreadable while in use (%s); blobs it lists count as absent until the next "
                   "open rebuilds it"),
                 bkp_strerror(rc));
    }
    return NULL;
}

int bkp_index_insert(bkp_index *x, const bkp_index_entry *e)
{
    if (bkp_index_lookup(x, e->id))
        return 1;
    if (memcmp(e->id, zero_id, BKP_ID_LEN) == 0 || x->count >= UINT32_MAX - 1)
        return -EINVAL;
    if ((x->count + 1) * 4 > x->cap * 3) {
        int r = grow(x);
        if (r)
            return r;
    }
    if (x->count == x->ents_cap) {
        uint64_t cap = x->ents_cap ? 2 * x->ents_cap : 1024;
        bkp_index_entry *n = realloc(x->ents, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        x->ents = n;
        x->ents_cap = cap;
    }
    uint64_t s = slot_in(x->cap, e->id);
    while (x->slots[s].at)
        s = (s + 1) & (x->cap - 1);
    x->ents[x->count] = *e;
    x->slots[s] = (bkp_index_slot){tag_of(e->id), (uint32_t)(x->count + 1)};
    x->count++;
    return 0;
}

uint64_t bkp_index_count(const bkp_index *x)
{
    uint64_t n = x->count;
    for (uint32_t i = 0; i < x->nlevels; i++)
        n += bkp_itable_count(x->levels[i].t);
    return n;
}

uint64_t bkp_index_memory_count(const bkp_index *x)
{
    return x->count;
}

typedef struct visit {
    void (*fn)(const bkp_index_entry *e, void *ctx);
    void *ctx;
} visit;

static int visit_one(const bkp_index_entry *e, void *ctx)
{
    visit *v = ctx;
    v->fn(e, v->ctx);
    return 0;
}

int bkp_index_foreach(const bkp_index *x, void (*fn)(const bkp_index_entry *e, void *ctx),
                      void *ctx)
{
    visit v = {fn, ctx};
    int rc = 0;
    for (uint32_t i = 0; !rc && i < x->nlevels; i++)
        rc = bkp_itable_foreach(x->levels[i].t, visit_one, &v);
    if (rc) {
        bkp_error(_("the blob index table in the repository's cache folder cannot be read "
                    "whole (%s); nothing was done. Run the command again: the next open "
                    "rebuilds the table from the index segments"),
                  bkp_strerror(rc));
        return rc;
    }
    for (uint64_t i = 0; i < x->count; i++)
        fn(&x->ents[i], ctx);
    return 0;
}

static int cmp_by_pack(const void *a, const void *b)
{
    const bkp_index_entry *x = *(const bkp_index_entry *const *)a;
    const bkp_index_entry *y = *(const bkp_index_entry *const *)b;
    return (x->pack > y->pack) - (x->pack < y->pack);
}

int bkp_index_segments_encode(const bkp_index *x, uint32_t first, uint32_t last,
                              const bkp_keys *k, uint32_t max_entries,
                              int (*emit)(const bkp_buf *segment, void *ctx), void *ctx)
{
    const bkp_index_entry **v = NULL;
    size_t n = 0, cap = 0;
    bkp_buf plain, out;
    int r = 0;

    /* One pass collects the entries of the new packs, a sort groups them. */
    for (uint64_t i = 0; i < x->count; i++) {
        const bkp_index_entry *e = &x->ents[i];
        if (e->pack < first || e->pack >= last)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            const bkp_index_entry **nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        v[n++] = e;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_by_pack);
    bkp_buf_init(&plain);
    bkp_buf_init(&out);
    size_t i = 0;
    uint32_t p = first;
    while (!r && p < last) {
        /* One segment: whole packs, at most max_entries entries (a pack's
         * entries never straddle two segments), and always at least one pack. */
        size_t start = i;
        uint32_t pstart = p, npacks = 0;
        while (p < last) {
            size_t j = i;
            while (j < n && v[j]->pack == p)
                j++;
            if (npacks && j - start > max_entries)
                break;
            i = j;
            p++;
            npacks++;
        }
        bkp_buf_reset(&plain);
        bkp_buf_u32(&plain, npacks);
        size_t at = start;
        for (uint32_t q = pstart; q < pstart + npacks; q++) {
            size_t j = at;
            while (j < i && v[j]->pack == q)
                j++;
            bkp_buf_put(&plain, x->packs[q], BKP_ID_LEN);
            bkp_buf_u32(&plain, (uint32_t)(j - at));
            for (; at < j; at++) {
                bkp_buf_u8(&plain, v[at]->type);
                bkp_buf_put(&plain, v[at]->id, BKP_ID_LEN);
                bkp_buf_u64(&plain, v[at]->offset);
                bkp_buf_u32(&plain, v[at]->len);
                bkp_buf_u32(&plain, v[at]->raw_len);
            }
        }
        bkp_buf_reset(&out);
        bkp_buf_put(&out, SEGMENT_MAGIC, 8);
        r = plain.failed || out.failed
                ? -ENOMEM
                : bkp_blob_seal(k, BKP_BLOB_INDEX, zero_id, plain.data, plain.len, BKP_COMP_LISTS, &out);
        if (!r)
            r = emit(&out, ctx);
    }
    free(v);
    bkp_buf_free(&plain);
    bkp_buf_free(&out);
    return r;
}

int bkp_index_segment_store(const char *index_dir, const bkp_buf *seg,
                            char name[2 * BKP_ID_LEN + 1])
{
    uint8_t h[BKP_ID_LEN];
    crypto_generichash(h, sizeof(h), seg->data, seg->len, NULL, 0);
    bkp_hex(name, h, sizeof(h));
    int rc = bkp_durable_write(index_dir, name, seg->data, seg->len,
                               BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    return rc == -EEXIST ? 0 : rc;
}

/* Read the packs of one segment's plaintext `rd`, each handed to `fn` with
 * its entries (`pe` grown as needed); -EBADMSG when it does not parse to its
 * last byte. */
static int walk_packs(bkp_rd *rd, bkp_pack_entry **pe, uint32_t *cap,
                      int (*fn)(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e,
                                uint32_t n, void *ctx),
                      void *ctx)
{
    uint32_t npacks = bkp_rd_u32(rd);
    for (uint32_t p = 0; p < npacks && bkp_rd_ok(rd); p++) {
        const uint8_t *pid = bkp_rd_take(rd, BKP_ID_LEN);
        uint32_t n = bkp_rd_u32(rd), got = 0;
        /* Never more entries than the bytes left could hold. */
        if (!bkp_rd_ok(rd) || n > rd->left / ENTRY_LEN)
            return -EBADMSG;
        if (n > *cap) {
            bkp_pack_entry *v = realloc(*pe, (size_t)n * sizeof(*v));
            if (!v)
                return -ENOMEM;
            *pe = v;
            *cap = n;
        }
        for (; got < n && bkp_rd_ok(rd); got++) {
            bkp_pack_entry *e = &(*pe)[got];
            e->type = bkp_rd_u8(rd);
            const uint8_t *id = bkp_rd_take(rd, BKP_ID_LEN);
            e->offset = bkp_rd_u64(rd);
            e->len = bkp_rd_u32(rd);
            e->raw_len = bkp_rd_u32(rd);
            if (bkp_rd_ok(rd))
                memcpy(e->id, id, BKP_ID_LEN);
        }
        if (!bkp_rd_ok(rd))
            return -EBADMSG;
        int r = fn(pid, *pe, n, ctx);
        if (r)
            return r;
    }
    return bkp_rd_ok(rd) && rd->left == 0 ? 0 : -EBADMSG;
}

int bkp_index_segment_walk(const uint8_t *data, size_t len, const bkp_keys *k,
                           int (*fn)(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e,
                                     uint32_t n, void *ctx),
                           void *ctx)
{
    bkp_buf plain;
    bkp_rd rd;
    bkp_pack_entry *pe = NULL;
    uint32_t cap = 0;
    if (len < 8 || memcmp(data, SEGMENT_MAGIC, 8) != 0)
        return -EBADMSG;
    bkp_buf_init(&plain);
    int r = bkp_blob_open(k, BKP_BLOB_INDEX, zero_id, data + 8, len - 8, &plain);
    if (!r) {
        bkp_rd_init(&rd, plain.data, plain.len);
        r = walk_packs(&rd, &pe, &cap, fn, ctx);
    }
    free(pe);
    bkp_buf_free(&plain);
    return r;
}

/* One pack of a segment into the index: a pack already known keeps its
 * number (two segments may name it), an ID already present its entry. */
static int load_pack(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *pe, uint32_t n,
                     void *ctx)
{
    bkp_index *x = ctx;
    uint32_t num;
    int r = 0;
    if (bkp_index_find_pack(x, pack, &num) && (r = bkp_index_add_pack(x, pack, &num)))
        return r;
    for (uint32_t i = 0; i < n; i++) {
        bkp_index_entry e = {.type = pe[i].type, .pack = num, .offset = pe[i].offset,
                             .len = pe[i].len, .raw_len = pe[i].raw_len};
        memcpy(e.id, pe[i].id, BKP_ID_LEN);
        if ((r = bkp_index_insert(x, &e)) < 0)
            return r;
    }
    return 0;
}

int bkp_index_segment_load(bkp_index *x, const uint8_t *data, size_t len, const bkp_keys *k)
{
    return bkp_index_segment_walk(data, len, k, load_pack, x);
}

int bkp_index_segment_check(const uint8_t *data, size_t len, const bkp_keys *k, bkp_buf *scratch)
{
    if (len < 8 || memcmp(data, SEGMENT_MAGIC, 8) != 0)
        return -EBADMSG;
    return bkp_blob_open(k, BKP_BLOB_INDEX, zero_id, data + 8, len - 8, scratch);
}

int bkp_index_add_pack_entries(bkp_index *x, const uint8_t id[BKP_ID_LEN],
                               const bkp_pack_entry *pe, uint32_t n)
{
    uint32_t num;
    int rc = bkp_index_add_pack(x, id, &num);
    for (uint32_t i = 0; !rc && i < n; i++) {
        bkp_index_entry e = {.type = pe[i].type, .pack = num, .offset = pe[i].offset,
                             .len = pe[i].len, .raw_len = pe[i].raw_len};
        memcpy(e.id, pe[i].id, BKP_ID_LEN);
        rc = bkp_index_insert(x, &e) < 0 ? -ENOMEM : 0;
    }
    return rc;
}

