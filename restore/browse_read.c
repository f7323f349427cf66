/*
 * browse_read.c — a stored file's bytes by range (browse.h): file offsets
 * mapped through its data regions to the data stream, the data stream
 * through its chunk list to chunks, each chunk fetched and authenticated
 * by bkp_repo_get and kept in a small cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/browse_internal.h"
#include "restore/dump.h"

void rst_browse_node_data_free(rst_node *n)
{
    free(n->cstart);
    free(n->rstart);
    n->cstart = n->rstart = NULL;
}

void rst_browse_cache_clear(rst_browse *b)
{
    for (size_t i = 0; i < RST_BROWSE_CACHE_CHUNKS; i++) {
        bkp_buf_free(&b->cache[i].data);
        b->cache[i].used = 0;
    }
}

/* Log a chunk of `n` that cannot be read, once: a program reading a file
 * retries, and one damaged chunk would otherwise fill the terminal. */
static void tell_once(rst_node *n, uint32_t i, int rc)
{
    if (n->told)
        return;
    n->told = true;
    char *p = rst_browse_path(n);
    bkp_error(_("%s: chunk %u of %u cannot be read (%s); run `bkp verify --read-data`"),
              p ? p : "?", i + 1, n->it.nchunks, bkp_strerror(rc));
    free(p);
}

int rst_browse_open(rst_browse *b, rst_node *n)
{
    if (!S_ISREG(n->st.st_mode))
        return -EISDIR;
    rst_node *d = rst_browse_data(n);
    if (d->checked)
        return d->checked < 0 ? -EIO : 0;
    char *p = rst_browse_path(n);
    int rc = rst_item_check(&d->it, (uint64_t)d->st.st_size, p ? p : "?");
    free(p);
    if (rc) {
        d->checked = -EIO;
        return -EIO;
    }
    uint32_t nc = d->it.nchunks, nr = d->it.nsparse ? d->it.nsparse : 1;
    d->cstart = malloc((nc + 1) * sizeof(*d->cstart));
    d->rstart = malloc(nr * sizeof(*d->rstart));
    if (!d->cstart || !d->rstart) {
        rst_browse_node_data_free(d);
        return -ENOMEM;
    }
    d->cstart[0] = 0;
    for (uint32_t i = 0; i < nc; i++)
        d->cstart[i + 1] = d->cstart[i] + d->it.chunks[i].len;
    d->rstart[0] = 0;
    for (uint32_t i = 1; i < nr; i++)
        d->rstart[i] = d->rstart[i - 1] + d->it.sparse[2 * (i - 1) + 1];
    d->checked = 1;
    return 0;
}

/* Chunk `i` of file `d`, from the cache or the repository. */
static int chunk(rst_browse *b, rst_node *d, uint32_t i, const bkp_buf **out)
{
    const bkp_chunk_ref *ref = &d->it.chunks[i];
    rst_cached *victim = &b->cache[0];
    size_t bytes = 0;
    for (size_t k = 0; k < RST_BROWSE_CACHE_CHUNKS; k++) {
        rst_cached *c = &b->cache[k];
        if (c->used && !memcmp(c->id, ref->id, BKP_ID_LEN)) {
            c->used = ++b->clock;
            *out = &c->data;
            return 0;
        }
        bytes += c->used ? c->data.len : 0;
        if (c->used < victim->used)
            victim = c;
    }
    /* Over the byte bound: the least recently used go first. */
    while (bytes + ref->len > RST_BROWSE_CACHE_BYTES && bytes) {
        rst_cached *old = NULL;
        for (size_t k = 0; k < RST_BROWSE_CACHE_CHUNKS; k++)
            if (b->cache[k].used && (!old || b->cache[k].used < old->used))
                old = &b->cache[k];
        bytes -= old->data.len;
        bkp_buf_free(&old->data);
        old->used = 0;
        victim = old;
    }
    victim->used = 0;
    bkp_buf_reset(&victim->data);
    int rc = bkp_repo_get(b->r, BKP_BLOB_DATA, ref->id, &victim->data);
    if (!rc && victim->data.len != ref->len)
        rc = -EBADMSG;
    if (rc) {
        bkp_buf_free(&victim->data); /* never kept: the next read tries again */
        tell_once(d, i, rc);
        return -EIO;
    }
    memcpy(victim->id, ref->id, BKP_ID_LEN);
    victim->used = ++b->clock;
    *out = &victim->data;
    return 0;
}

/* The last index `i` of the sorted `v[0], v[stride], … v[(n-1)·stride]`
 * with v[i·stride] <= x, else 0. */
static uint32_t floor_of(const uint64_t *v, uint32_t n, size_t stride, uint64_t x)
{
    uint32_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid * stride] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Bytes [at, at + len) of the data stream of `d` into `out`. */
static int stream(rst_browse *b, rst_node *d, uint64_t at, uint8_t *out, uint64_t len)
{
    uint32_t i = floor_of(d->cstart, d->it.nchunks, 1, at);
    while (len) {
        const bkp_buf *c;
        int rc = chunk(b, d, i, &c);
        if (rc)
            return rc;
        uint64_t from = at - d->cstart[i], k = c->len - from;
        if (k > len)
            k = len;
        memcpy(out, c->data + from, (size_t)k);
        out += k, at += k, len -= k;
        i++;
    }
    return 0;
}

ssize_t rst_browse_read(rst_browse *b, rst_node *n, uint64_t off, void *buf, size_t len)
{
    rst_node *d = rst_browse_data(n);
    if (d->checked != 1) {
        int rc = rst_browse_open(b, n);
        if (rc)
            return rc;
    }
    uint64_t size = (uint64_t)d->st.st_size;
    if (off >= size)
        return 0;
    if (len > size - off)
        len = (size_t)(size - off);
    memset(buf, 0, len); /* the holes */
    uint64_t end = off + len;
    uint32_t nr = d->it.nsparse ? d->it.nsparse : 1;
    /* The first region that ends after `off`, then each one before `end`. */
    uint32_t r = d->it.nsparse ? floor_of(d->it.sparse, nr, 2, off) : 0;
    for (; r < nr; r++) {
        uint64_t ro = d->it.nsparse ? d->it.sparse[2 * r] : 0;
        uint64_t rl = d->it.nsparse ? d->it.sparse[2 * r + 1] : size;
        if (ro >= end)
            break;
        uint64_t a = off > ro ? off : ro, e = end < ro + rl ? end : ro + rl;
        if (a >= e)
            continue;
        int rc = stream(b, d, d->rstart[r] + (a - ro), (uint8_t *)buf + (a - off), e - a);
        if (rc)
            return rc;
    }
    return (ssize_t)len;
}
