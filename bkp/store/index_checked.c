/*
 * The list of index segments found good, and the stat each had then
 * (index_checked.h says why and what it is for).
 */
#include "bkp/store/index_checked.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"

#define CHECKED_NAME "index-checked"
#define RECORD (BKP_ID_LEN + 5 * 8)
#define CHECKED_MAX (1U << 22) /* segments: far past any index */
static const uint8_t MAGIC[8] = {'B', 'K', 'P', 'I', 'C', 'K', '0', '1'};

static void mac(const uint8_t key[32], const uint8_t *p, size_t len, uint8_t out[32])
{
    static const char domain[] = "bkp index segments checked";
    crypto_generichash_state h;
    crypto_generichash_init(&h, key, 32, 32);
    crypto_generichash_update(&h, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&h, p, len);
    crypto_generichash_final(&h, out, 32);
}

static int cmp_seen(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

void bkp_seg_seen_of(bkp_seg_seen *s, const uint8_t name[BKP_ID_LEN], const struct stat *st)
{
    memcpy(s->name, name, BKP_ID_LEN);
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    s->size = (uint64_t)st->st_size;
    s->mtime = st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    s->ctime = st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

int bkp_checked_add(bkp_checked *c, const bkp_seg_seen *s)
{
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? 2 * c->cap : 64;
        bkp_seg_seen *v = realloc(c->v, (size_t)cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *s;
    return 0;
}

void bkp_checked_sort(bkp_checked *c)
{
    if (c->n)
        qsort(c->v, c->n, sizeof(*c->v), cmp_seen);
}

int bkp_checked_parse(const uint8_t *data, size_t len, const uint8_t key[32], bkp_checked *c)
{
    uint8_t want[32];
    memset(c, 0, sizeof(*c));
    uint32_t n = len >= 12 + 32 ? bkp_get_le32(data + 8) : 0;
    bool ok = len >= 12 + 32 && n <= CHECKED_MAX && !memcmp(data, MAGIC, sizeof(MAGIC)) &&
              len == 12 + (size_t)n * RECORD + 32;
    if (ok) {
        mac(key, data, len - 32, want);
        ok = sodium_memcmp(want, data + len - 32, 32) == 0;
    }
    for (uint32_t i = 0; ok && i < n; i++) {
        const uint8_t *r = data + 12 + (size_t)i * RECORD;
        bkp_seg_seen s;
        memcpy(s.name, r, BKP_ID_LEN);
        s.dev = bkp_get_le64(r + 32);
        s.ino = bkp_get_le64(r + 40);
        s.size = bkp_get_le64(r + 48);
        s.mtime = (int64_t)bkp_get_le64(r + 56);
        s.ctime = (int64_t)bkp_get_le64(r + 64);
        ok = bkp_checked_add(c, &s) == 0;
    }
    bkp_checked_sort(c);
    for (uint32_t i = 1; ok && i < c->n; i++)
        ok = memcmp(c->v[i - 1].name, c->v[i].name, BKP_ID_LEN) != 0; /* each segment once */
    if (!ok)
        bkp_checked_free(c); /* empty: every segment is read */
    return ok ? 0 : -EBADMSG;
}

void bkp_checked_load(const char *dir, const uint8_t key[32], bkp_checked *c)
{
    bkp_buf b;
    bkp_buf_init(&b);
    char *p = bkp_path_join(dir, CHECKED_NAME);
    int rc = p ? bkp_read_file(p, &b, 12 + (size_t)CHECKED_MAX * RECORD + 32) : -ENOMEM;
    free(p);
    if (rc || bkp_checked_parse(b.data, b.len, key, c))
        memset(c, 0, sizeof(*c));
    bkp_buf_free(&b);
}

bool bkp_checked_has(const bkp_checked *c, const bkp_seg_seen *s)
{
    const bkp_seg_seen *f = c->n ? bsearch(s, c->v, c->n, sizeof(*c->v), cmp_seen) : NULL;
    return f && f->dev == s->dev && f->ino == s->ino && f->size == s->size &&
           f->mtime == s->mtime && f->ctime == s->ctime;
}

int bkp_checked_save(const char *dir, const uint8_t key[32], const bkp_checked *c)
{
    bkp_buf b;
    uint8_t m[32];
    bkp_buf_init(&b);
    bkp_buf_put(&b, MAGIC, sizeof(MAGIC));
    bkp_buf_u32(&b, c->n);
    for (uint32_t i = 0; i < c->n; i++) {
        const bkp_seg_seen *s = &c->v[i];
        bkp_buf_put(&b, s->name, BKP_ID_LEN);
        bkp_buf_u64(&b, s->dev);
        bkp_buf_u64(&b, s->ino);
        bkp_buf_u64(&b, s->size);
        bkp_buf_u64(&b, (uint64_t)s->mtime);
        bkp_buf_u64(&b, (uint64_t)s->ctime);
    }
    int rc = b.failed ? -ENOMEM : 0;
    if (!rc) {
        mac(key, b.data, b.len, m);
        bkp_buf_put(&b, m, sizeof(m));
        rc = b.failed ? -ENOMEM
                      : bkp_durable_write(dir, CHECKED_NAME, b.data, b.len, BKP_DURABLE_PRIVATE);
    }
    bkp_buf_free(&b);
    return rc;
}

void bkp_checked_free(bkp_checked *c)
{
    free(c->v);
    memset(c, 0, sizeof(*c));
}
