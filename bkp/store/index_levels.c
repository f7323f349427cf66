/*
 * The blob index's tables (index.h says when they are written, and
 * itable_levels.h why there are several): lookups through them, the k-way
 * merge that writes a new table, and the exchange of merged tables for it.
 */
#include "bkp/store/index.h"
#include "bkp/store/index_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/durable.h"
#include "bkp/store/itable.h"
#include "bkp/store/itable_levels.h"

int bkp_index_levels_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN])
{
    /* Newest first: the young tables are small, and each test is a Bloom
     * filter in memory before any read. */
    for (uint32_t i = x->nlevels; i-- > 0;) {
        int rc = bkp_itable_lookup(x->levels[i].t, id, x->hit);
        if (rc)
            return rc;
    }
    return 0;
}

void bkp_index_memory_clear(bkp_index *x)
{
    free(x->ents);
    x->ents = NULL;
    x->count = x->ents_cap = 0;
    bkp_index_slot *small = calloc(1024, sizeof(*small));
    if (small) {
        free(x->slots);
        x->slots = small;
        x->cap = 1024;
    } else {
        memset(x->slots, 0, x->cap * sizeof(*x->slots));
    }
}

uint32_t bkp_index_levels(const bkp_index *x)
{
    return x->nlevels;
}

uint64_t bkp_index_level_count(const bkp_index *x, uint32_t i)
{
    return bkp_itable_count(x->levels[i].t);
}

void bkp_index_level_id(const bkp_index *x, uint32_t i, uint8_t tid[16])
{
    bkp_itable_id(x->levels[i].t, tid);
}

void bkp_index_level_names(const bkp_index *x, uint32_t i, const uint8_t (**names)[BKP_ID_LEN],
                           uint32_t *n)
{
    *names = (const uint8_t(*)[BKP_ID_LEN])x->levels[i].names;
    *n = x->levels[i].nnames;
}

uint32_t bkp_index_levels_to_merge(const bkp_index *x, uint64_t unit)
{
    uint64_t counts[BKP_ITABLE_LEVELS_MAX + 1];
    uint32_t n = x->nlevels < BKP_ITABLE_LEVELS_MAX ? x->nlevels : BKP_ITABLE_LEVELS_MAX;
    for (uint32_t i = 0; i < n; i++)
        counts[i] = bkp_itable_count(x->levels[x->nlevels - n + i].t);
    uint32_t k = bkp_itable_levels_plan(counts, n, x->count, unit);
    return x->nlevels - n + (n - k);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

static int cmp_entry_id(const void *a, const void *b)
{
    const bkp_index_entry *x = *(const bkp_index_entry *const *)a;
    const bkp_index_entry *y = *(const bkp_index_entry *const *)b;
    return memcmp(x->id, y->id, BKP_ID_LEN);
}

/* The names of levels [first, n) and `extra`, sorted, without repeats. */
static int union_names(const bkp_index *x, uint32_t first, const uint8_t (*extra)[BKP_ID_LEN],
                       uint32_t nextra, uint8_t (**out)[BKP_ID_LEN], uint32_t *n)
{
    size_t total = nextra, k = 0;
    for (uint32_t i = first; i < x->nlevels; i++)
        total += x->levels[i].nnames;
    uint8_t(*v)[BKP_ID_LEN] = malloc((total + 1) * BKP_ID_LEN);
    if (!v)
        return -ENOMEM;
    for (uint32_t i = first; i < x->nlevels; i++) {
        memcpy(v[k], x->levels[i].names, (size_t)x->levels[i].nnames * BKP_ID_LEN);
        k += x->levels[i].nnames;
    }
    if (nextra)
        memcpy(v[k], extra, (size_t)nextra * BKP_ID_LEN);
    qsort(v, total, BKP_ID_LEN, cmp_id);
    k = 0;
    for (size_t i = 0; i < total; i++)
        if (!k || memcmp(v[k - 1], v[i], BKP_ID_LEN))
            memmove(v[k++], v[i], BKP_ID_LEN);
    if (k > UINT32_MAX) {
        free(v);
        return -E2BIG;
    }
    *out = v;
    *n = (uint32_t)k;
    return 0;
}

/* The sources of a merge: each table's cursor, then the memory, sorted. */
typedef struct source {
    bkp_itable_cursor *c; /* NULL: the memory */
    bkp_index_entry head;
    int more; /* 1: head is the next entry */
} source;

typedef struct merger {
    source s[BKP_ITABLE_LEVELS_MAX + 1];
    uint32_t n;
    const bkp_index_entry **mem;
    size_t nmem, at;
} merger;

static int advance(merger *m, source *s)
{
    if (s->c)
        return s->more = bkp_itable_cursor_next(s->c, &s->head);
    s->more = m->at < m->nmem;
    if (s->more)
        s->head = *m->mem[m->at++];
    return 0;
}

/* Every entry once, in ID order; of an ID in two sources (which inserts
 * never make: they look in the tables first) the oldest source's stays. */
static int merge_into(merger *m, bkp_itable_writer *w)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < m->n; i++)
        rc = advance(m, &m->s[i]) < 0 ? m->s[i].more : 0;
    while (!rc) {
        source *min = NULL;
        for (uint32_t i = 0; i < m->n; i++)
            if (m->s[i].more > 0 && (!min || memcmp(m->s[i].head.id, min->head.id, BKP_ID_LEN) < 0))
                min = &m->s[i];
        if (!min)
            break;
        rc = bkp_itable_writer_add(w, &min->head);
        for (uint32_t i = 0; !rc && i < m->n; i++)
            if (&m->s[i] != min && m->s[i].more > 0 &&
                !memcmp(m->s[i].head.id, min->head.id, BKP_ID_LEN))
                rc = advance(m, &m->s[i]) < 0 ? m->s[i].more : 0;
        if (!rc)
            rc = advance(m, min) < 0 ? min->more : 0;
    }
    return rc;
}

int bkp_index_table_write(const bkp_index *x, uint32_t first, bkp_dfile *f, const uint8_t key[32],
                          const uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
{
    merger m = {.nmem = x->count};
    bkp_itable_writer *w = NULL;
    uint8_t(*all)[BKP_ID_LEN] = NULL;
    uint32_t nall = 0;
    if (first > x->nlevels || x->nlevels - first > BKP_ITABLE_LEVELS_MAX)
        return -EINVAL;
    m.mem = malloc((m.nmem + 1) * sizeof(*m.mem));
    int rc = m.mem ? union_names(x, first, names, nnames, &all, &nall) : -ENOMEM;
    for (uint32_t i = first; !rc && i < x->nlevels; i++)
        rc = bkp_itable_cursor_new(x->levels[i].t, &m.s[m.n++].c);
    m.n += !rc; /* the memory, last: the newest */
    if (!rc) {
        for (size_t i = 0; i < m.nmem; i++)
            m.mem[i] = &x->ents[i];
        qsort(m.mem, m.nmem, sizeof(*m.mem), cmp_entry_id);
        rc = bkp_itable_writer_new(f, key, &w);
    }
    if (!rc)
        rc = merge_into(&m, w);
    if (!rc) {
        rc = bkp_itable_writer_end(w, (const uint8_t(*)[BKP_ID_LEN])x->packs, x->npacks,
                                   (const uint8_t(*)[BKP_ID_LEN])all, nall);
        w = NULL;
    }
    bkp_itable_writer_abort(w);
    for (uint32_t i = 0; i < m.n; i++)
        bkp_itable_cursor_free(m.s[i].c);
    free(m.mem);
    free(all);
    return rc;
}

void bkp_index_table_attach(bkp_index *x, uint32_t first, bkp_itable *t,
                            uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
{
    if (first > x->nlevels)
        abort();
    for (uint32_t i = first; i < x->nlevels; i++) {
        bkp_itable_free(x->levels[i].t);
        free(x->levels[i].names);
    }
    /* The array has BKP_ITABLE_LEVELS_MAX + 1 places, and the plan leaves
     * fewer tables than that. */
    x->levels[first] = (bkp_index_level){t, names, nnames};
    x->nlevels = first + 1;
    x->table_err = 0;
    bkp_index_memory_clear(x);
}

/* Is `a` (n IDs) the start of `b` (m IDs)? */
static bool prefix_of(const uint8_t (*a)[BKP_ID_LEN], uint32_t n, const uint8_t (*b)[BKP_ID_LEN],
                      uint32_t m)
{
    return n <= m && (!n || !memcmp(a, b, (size_t)n * BKP_ID_LEN));
}

int bkp_index_table_load(bkp_index *x, bkp_itable *t, uint8_t (*packs)[BKP_ID_LEN],
                         uint32_t npacks, uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
{
    if (x->count || x->nlevels >= BKP_ITABLE_LEVELS_MAX)
        abort(); /* only into a new index, one table at a time */
    int rc = 0;
    /* Every table was written with the pack list of its time, which only
     * grows: each must be the start of the longest. */
    const uint8_t(*p)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])packs;
    const uint8_t(*q)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])x->packs;
    if (!rc && !prefix_of(p, npacks, q, x->npacks) && !prefix_of(q, x->npacks, p, npacks))
        rc = -EBADMSG;
    if (rc) {
        bkp_itable_free(t);
        free(packs);
        free(names);
        return rc;
    }
    if (npacks >= x->npacks) {
        free(x->packs);
        x->packs = packs;
        x->npacks = x->packs_cap = npacks;
    } else {
        free(packs);
    }
    x->levels[x->nlevels++] = (bkp_index_level){t, names, nnames};
    return 0;
}
