/*
 * dump.c — one stored file to a descriptor, and finding paths across
 * generations (dump.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/store/blob.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/dump.h"

/* Stored paths have no leading '/'; what people type may. */
static const char *stored(const char *path)
{
    while (*path == '/')
        path++;
    return path;
}

/* The item stored at `want`, into `it`: 1 found, 0 not, negative on damage. */
static int lookup(const bkp_repo *r, const bkp_gen *g, const char *want, bkp_item *it)
{
    bkp_tree_reader *tr = NULL;
    int rc = bkp_tree_reader_new(r, g->tree, g->ntree, &tr);
    while (!rc) {
        rc = bkp_tree_reader_next(tr, it);
        if (rc <= 0 || !strcmp(archive_entry_pathname(it->entry), want))
            break;
        rc = 0;
    }
    bkp_tree_reader_free(tr);
    return rc;
}

static int write_zeros(int fd, uint64_t n)
{
    static const uint8_t zero[65536];
    int rc = 0;
    while (!rc && n) {
        size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);
        rc = bkp_write_full(fd, zero, k);
        n -= k;
    }
    return rc;
}

int rst_item_check(const bkp_item *it, uint64_t size, const char *name)
{
    if (it->content_bad) {
        bkp_error(_("%s: its chunk list does not match its content hash; run `bkp verify`"), name);
        return -EBADMSG;
    }
    /* The regions in order within the size, the chunks filling them. */
    uint64_t at = 0, data = 0, chunks = 0;
    for (uint32_t i = 0; i < it->nsparse; i++) {
        uint64_t off = it->sparse[2 * i], n = it->sparse[2 * i + 1];
        if (off < at || off > size || n > size - off) {
            data = UINT64_MAX;
            break;
        }
        at = off + n;
        data += n;
    }
    for (uint32_t i = 0; i < it->nchunks; i++)
        chunks += it->chunks[i].len;
    if (chunks != (it->nsparse ? data : size)) {
        bkp_error(_("%s: its stored content does not add up to its size; run `bkp verify`"), name);
        return -EBADMSG;
    }
    return 0;
}

/* Where the data of a file goes: its regions in order (one region [0, size)
 * without a map), holes between them written as zeros. */
typedef struct sink {
    const bkp_item *it;
    int fd;
    uint64_t size, at, left; /* file offset reached; bytes left in the region */
    uint32_t region;
} sink;

/* Write `len` bytes of the data stream: across regions, a chunk may span
 * several (the chunker cuts the data with the holes left out). */
static int emit(sink *s, const uint8_t *p, size_t len)
{
    int rc = 0;
    while (!rc && len) {
        if (!s->left) {
            if (s->region >= s->it->nsparse)
                return -EBADMSG; /* more data than regions */
            uint64_t off = s->it->sparse[2 * s->region], n = s->it->sparse[2 * s->region + 1];
            s->region++;
            if (off < s->at || off > s->size || n > s->size - off)
                return -EBADMSG;
            rc = write_zeros(s->fd, off - s->at);
            s->at = off;
            s->left = n;
            continue;
        }
        size_t k = len < s->left ? len : (size_t)s->left;
        if (!(rc = bkp_write_full(s->fd, p, k))) {
            p += k;
            len -= k;
            s->at += k;
            s->left -= k;
        }
    }
    return rc;
}

/* The content of data item `it` to `fd`. */
static int content(const bkp_repo *r, const bkp_item *it, const char *name, int fd, uint64_t *bytes)
{
    uint64_t size = (uint64_t)archive_entry_size(it->entry);
    if (rst_item_check(it, size, name))
        return -EBADMSG;
    sink s = {.it = it, .fd = fd, .size = size, .left = it->nsparse ? 0 : size};
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = 0;
    for (uint32_t i = 0; !rc && i < it->nchunks; i++) {
        if ((rc = bkp_repo_get(r, BKP_BLOB_DATA, it->chunks[i].id, &b)))
            bkp_error(_("%s: chunk %u of %u cannot be read (%s); run `bkp verify --read-data`"),
                      name, i + 1, it->nchunks, bkp_strerror(rc));
        else if (b.len != it->chunks[i].len)
            rc = -EBADMSG;
        else
            rc = emit(&s, b.data, b.len);
    }
    if (!rc && s.left)
        rc = -EBADMSG;        /* a region not filled */
    if (!rc && s.at < size) { /* a hole at the end */
        rc = write_zeros(fd, size - s.at);
        s.at = size;
    }
    if (rc == -EBADMSG)
        bkp_error(_("%s: its stored content does not add up to its size; run `bkp verify`"), name);
    bkp_buf_free(&b);
    if (bytes)
        *bytes = s.at;
    return rc;
}

int rst_dump(const bkp_repo *r, const bkp_gen *g, const char *path, int fd, uint64_t *bytes)
{
    bkp_item it;
    const char *want = stored(path);
    bkp_item_init(&it);
    int rc = lookup(r, g, want, &it);
    /* A hard link: the file it names, stored before it. */
    char *target = rc > 0 && archive_entry_hardlink(it.entry)
                       ? strdup(archive_entry_hardlink(it.entry))
                       : NULL;
    if (target) {
        bkp_item_clear(&it);
        bkp_item_init(&it);
        rc = lookup(r, g, target, &it);
    }
    if (rc == 0) {
        bkp_error(_("nothing in %s:%u is at /%s; `bkp ls %s:%u %s` lists what it holds"),
                  g->dataset, g->seq, want, g->dataset, g->seq, bkp_repo_shown(r));
        rc = -ENOENT;
    } else if (rc > 0 && archive_entry_filetype(it.entry) != AE_IFREG) {
        bkp_error(_("/%s in %s:%u is not a file; `bkp restore %s:%u DIR --path /%s %s` restores "
                    "it"),
                  want, g->dataset, g->seq, g->dataset, g->seq, want, bkp_repo_shown(r));
        rc = -EISDIR;
    } else if (rc > 0) {
        rc = content(r, &it, want, fd, bytes);
    } else {
        bkp_error(_("the file list of %s:%u is damaged (%s); run `bkp verify` (of a medium's "
                    "copy: `bkp verify --media M`), and read it from another copy"),
                  g->dataset, g->seq, bkp_strerror(rc));
        rc = -EBADMSG;
    }
    free(target);
    bkp_item_clear(&it);
    return rc;
}

int rst_find(const bkp_repo *r, const bkp_gen *g, const char *pattern,
             int (*fn)(const bkp_gen *g, const bkp_item *it, void *ctx), void *ctx)
{
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bool whole = strchr(pattern, '/') != NULL;
    const char *pat = whole ? stored(pattern) : pattern;
    bkp_item_init(&it);
    int rc = bkp_tree_reader_new(r, g->tree, g->ntree, &tr), x = 0;
    while (!rc && !x && (rc = bkp_tree_reader_next(tr, &it)) > 0) {
        const char *p = archive_entry_pathname(it.entry), *base = strrchr(p, '/');
        if (fnmatch(pat, whole ? p : base ? base + 1 : p, whole ? FNM_PATHNAME : 0) == 0)
            x = fn(g, &it, ctx);
        rc = 0;
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return x ? x : rc < 0 ? -EBADMSG : 0;
}
