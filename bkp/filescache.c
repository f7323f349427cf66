#include "bkp/filescache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/durable.h"
#include "bkp/log.h"

#define CACHE_VERSION 2 /* 1 had no extras: its files are taken as having some */

typedef struct fentry {
    char *path;
    bkp_fstat st;
    bkp_fextra x;
    bkp_chunk_ref *chunks;
    uint32_t nchunks;
    uint64_t *sparse;
    uint32_t nsparse;
    bool seen;
    struct fentry *next;
} fentry;

struct bkp_fcache {
    fentry **buckets;
    size_t nbuckets, count;
};

static uint64_t path_hash(const char *p)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h;
}

int bkp_fcache_new(bkp_fcache **out)
{
    bkp_fcache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->nbuckets = 4096;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void bkp_fcache_free(bkp_fcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (fentry *e = c->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->path);
            free(e->chunks);
            free(e->sparse);
            free(e);
        }
    free(c->buckets);
    free(c);
}

static int rehash(bkp_fcache *c)
{
    size_t nb = c->nbuckets * 4;
    fentry **b = calloc(nb, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (fentry *e = c->buckets[i], *n; e; e = n) {
            n = e->next;
            size_t s = path_hash(e->path) & (nb - 1);
            e->next = b[s];
            b[s] = e;
        }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
    return 0;
}

static int add(bkp_fcache *c, const char *path, const bkp_fstat *st, const bkp_fextra *x,
               const bkp_chunk_ref *chunks, uint32_t nchunks, const uint64_t *sparse,
               uint32_t nsparse)
{
    if (c->count >= c->nbuckets && rehash(c))
        return -ENOMEM;
    fentry *e = calloc(1, sizeof(*e));
    if (!e || !(e->path = strdup(path)))
        goto nomem;
    e->st = *st;
    e->x = *x;
    if (nchunks && !(e->chunks = malloc(nchunks * sizeof(*chunks))))
        goto nomem;
    if (nsparse && !(e->sparse = malloc(2 * nsparse * sizeof(*sparse))))
        goto nomem;
    if (nchunks)
        memcpy(e->chunks, chunks, nchunks * sizeof(*chunks));
    if (nsparse)
        memcpy(e->sparse, sparse, 2 * nsparse * sizeof(*sparse));
    e->nchunks = nchunks;
    e->nsparse = nsparse;
    size_t s = path_hash(path) & (c->nbuckets - 1);
    e->next = c->buckets[s];
    c->buckets[s] = e;
    c->count++;
    return 0;
nomem:
    if (e) {
        free(e->path);
        free(e->chunks);
    }
    free(e);
    return -ENOMEM;
}

int bkp_fcache_add(bkp_fcache *c, const char *path, const bkp_fstat *st, const bkp_item *it,
                   const bkp_fextra *x)
{
    return add(c, path, st, x, it->chunks, it->nchunks, it->sparse, it->nsparse);
}

uint64_t bkp_fcache_unseen(const bkp_fcache *c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (const fentry *e = c->buckets[i]; e; e = e->next)
            n += !e->seen;
    return n;
}

int bkp_fcache_lookup(bkp_fcache *c, const bkp_keys *k, const char *path, const bkp_fstat *st,
                      bkp_item *it, uint8_t old_content[BKP_ID_LEN], bkp_fextra *x)
{
    for (fentry *e = c->buckets[path_hash(path) & (c->nbuckets - 1)]; e; e = e->next) {
        if (strcmp(e->path, path) != 0)
            continue;
        e->seen = true;
        if (memcmp(&e->st, st, sizeof(*st)) != 0) {
            bkp_item_content_hash(k, e->st.size, e->chunks, e->nchunks, old_content);
            return 0;
        }
        bkp_chunk_ref *ch = e->nchunks ? malloc(e->nchunks * sizeof(*ch)) : NULL;
        uint64_t *sp = e->nsparse ? malloc(2 * e->nsparse * sizeof(*sp)) : NULL;
        if ((e->nchunks && !ch) || (e->nsparse && !sp)) {
            free(ch);
            free(sp);
            return -ENOMEM;
        }
        if (ch)
            memcpy(ch, e->chunks, e->nchunks * sizeof(*ch));
        if (sp)
            memcpy(sp, e->sparse, 2 * e->nsparse * sizeof(*sp));
        free(it->chunks);
        free(it->sparse);
        it->chunks = ch;
        it->nchunks = e->nchunks;
        it->sparse = sp;
        it->nsparse = e->nsparse;
        *x = e->x;
        return 1;
    }
    return -ENOENT;
}

static void cache_name(char *out, size_t n, const char *dataset)
{
    snprintf(out, n, "files-%s", dataset);
}

static void cache_ad(const char *dataset, uint8_t id[BKP_ID_LEN])
{
    crypto_generichash(id, BKP_ID_LEN, (const uint8_t *)dataset, strlen(dataset), NULL, 0);
}

int bkp_fcache_load(bkp_repo *r, const char *dataset, bkp_fcache **out, bool *found)
{
    *found = false;
    char name[300];
    uint8_t ad[BKP_ID_LEN];
    bkp_buf file, plain;
    bkp_fcache *c = NULL;
    int rc = bkp_fcache_new(&c);
    if (rc)
        return rc;
    bkp_buf_init(&file);
    bkp_buf_init(&plain);
    cache_name(name, sizeof(name), dataset);
    char *dir = bkp_repo_subpath(r, "cache");
    char *path = dir ? bkp_path_join(dir, name) : NULL;
    cache_ad(dataset, ad);
    if (!path || bkp_read_file(path, &file, BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16) != 0 ||
        bkp_blob_open(bkp_repo_keys(r), BKP_BLOB_CACHE, ad, file.data, file.len, &plain) != 0)
        goto done; /* no usable cache: every file is read */
    bkp_rd rd;
    bkp_rd_init(&rd, plain.data, plain.len);
    uint32_t version = bkp_rd_u32(&rd);
    if (version != 1 && version != CACHE_VERSION)
        goto done;
    *found = true;
    uint64_t n = bkp_rd_u64(&rd);
    for (uint64_t i = 0; i < n && bkp_rd_ok(&rd); i++) {
        uint32_t plen;
        const uint8_t *p = bkp_rd_bytes32(&rd, &plen, 1U << 20);
        bkp_fstat st;
        st.dev = bkp_rd_u64(&rd);
        st.ino = bkp_rd_u64(&rd);
        st.size = bkp_rd_u64(&rd);
        st.mtime = (int64_t)bkp_rd_u64(&rd);
        st.ctime = (int64_t)bkp_rd_u64(&rd);
        bkp_fextra x = {.ext = true};
        if (version >= 2) {
            x.ext = bkp_rd_u8(&rd) != 0;
            x.fflags_set = bkp_rd_u64(&rd);
            x.fflags_clear = bkp_rd_u64(&rd);
        }
        uint32_t nsp = bkp_rd_u32(&rd);
        const uint8_t *sp = bkp_rd_take(&rd, (size_t)nsp * 16);
        uint32_t nch = bkp_rd_u32(&rd);
        const uint8_t *ch = bkp_rd_take(&rd, (size_t)nch * (BKP_ID_LEN + 4));
        if (!bkp_rd_ok(&rd))
            break;
        char *pz = strndup((const char *)p, plen);
        uint64_t *spv = nsp ? malloc(16 * (size_t)nsp) : NULL;
        bkp_chunk_ref *chv = nch ? malloc(sizeof(*chv) * nch) : NULL;
        if (pz && (!nsp || spv) && (!nch || chv)) {
            for (uint32_t j = 0; j < 2 * nsp; j++)
                spv[j] = bkp_get_le64(sp + 8 * j);
            for (uint32_t j = 0; j < nch; j++) {
                memcpy(chv[j].id, ch + j * (BKP_ID_LEN + 4), BKP_ID_LEN);
                chv[j].len = bkp_get_le32(ch + j * (BKP_ID_LEN + 4) + BKP_ID_LEN);
            }
            add(c, pz, &st, &x, chv, nch, spv, nsp);
        }
        free(pz);
        free(spv);
        free(chv);
    }
done:
    free(dir);
    free(path);
    bkp_buf_free(&file);
    bkp_buf_free(&plain);
    *out = c;
    return 0;
}

int bkp_fcache_save(bkp_repo *r, const char *dataset, const bkp_fcache *c)
{
    char name[300];
    uint8_t ad[BKP_ID_LEN];
    bkp_buf plain, sealed;
    int rc;
    bkp_buf_init(&plain);
    bkp_buf_init(&sealed);
    bkp_buf_u32(&plain, CACHE_VERSION);
    bkp_buf_u64(&plain, c->count);
    for (size_t i = 0; i < c->nbuckets; i++)
        for (const fentry *e = c->buckets[i]; e; e = e->next) {
            bkp_buf_bytes32(&plain, e->path, strlen(e->path));
            bkp_buf_u64(&plain, e->st.dev);
            bkp_buf_u64(&plain, e->st.ino);
            bkp_buf_u64(&plain, e->st.size);
            bkp_buf_u64(&plain, (uint64_t)e->st.mtime);
            bkp_buf_u64(&plain, (uint64_t)e->st.ctime);
            bkp_buf_u8(&plain, e->x.ext);
            bkp_buf_u64(&plain, e->x.fflags_set);
            bkp_buf_u64(&plain, e->x.fflags_clear);
            bkp_buf_u32(&plain, e->nsparse);
            for (uint32_t j = 0; j < 2 * e->nsparse; j++)
                bkp_buf_u64(&plain, e->sparse[j]);
            bkp_buf_u32(&plain, e->nchunks);
            for (uint32_t j = 0; j < e->nchunks; j++) {
                bkp_buf_put(&plain, e->chunks[j].id, BKP_ID_LEN);
                bkp_buf_u32(&plain, e->chunks[j].len);
            }
        }
    cache_name(name, sizeof(name), dataset);
    cache_ad(dataset, ad);
    char *dir = bkp_repo_subpath(r, "cache");
    if (plain.failed || !dir || plain.len > BKP_BLOB_MAX_RAW)
        rc = plain.len > BKP_BLOB_MAX_RAW ? -E2BIG : -ENOMEM;
    else if (!(rc = bkp_blob_seal(bkp_repo_keys(r), BKP_BLOB_CACHE, ad, plain.data, plain.len, 1,
                                  &sealed)))
        rc = bkp_durable_write(dir, name, sealed.data, sealed.len, BKP_DURABLE_PRIVATE);
    if (rc)
        bkp_warn("cannot save the files cache in %s (%s); the next backup reads every file again",
                 dir ? dir : "cache", bkp_strerror(rc));
    free(dir);
    bkp_buf_free(&plain);
    bkp_buf_free(&sealed);
    return rc;
}
