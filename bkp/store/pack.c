#include "bkp/store/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "bkp/io/durable.h"

#define ENTRY_LEN (1 + BKP_ID_LEN + 8 + 4 + 4)
#define FOOTER_LEN (4 + 8)

struct bkp_pack_writer {
    bkp_dfile *file;
    char *dir;
    bkp_pack_entry *entries;
    uint32_t count, cap;
};

char *bkp_pack_path(const char *packs_dir, const uint8_t id[BKP_ID_LEN])
{
    char hex[2 * BKP_ID_LEN + 1], rel[2 * BKP_ID_LEN + 4];
    bkp_hex(hex, id, BKP_ID_LEN);
    snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex);
    return bkp_path_join(packs_dir, rel);
}

int bkp_pack_writer_open(const char *packs_dir, bkp_pack_writer **out)
{
    bkp_pack_writer *w = calloc(1, sizeof(*w));
    int r;
    if (!w || !(w->dir = strdup(packs_dir))) {
        free(w);
        return -ENOMEM;
    }
    /* Streamed past the page cache: the disk works while the CPUs seal the
     * next blobs, and the fsync at the end finds little left to do. */
    r = bkp_dfile_open(&w->file, packs_dir, BKP_DURABLE_DIRECT);
    if (r) {
        free(w->dir);
        free(w);
        return r;
    }
    r = bkp_dfile_write(w->file, BKP_PACK_MAGIC, 8);
    if (r) {
        bkp_pack_writer_abort(w);
        return r;
    }
    *out = w;
    return 0;
}

int bkp_pack_writer_add(bkp_pack_writer *w, uint8_t type, const uint8_t id[BKP_ID_LEN],
                        const void *sealed, size_t len, uint32_t raw_len, uint64_t *offset)
{
    if (w->count == w->cap) {
        uint32_t cap = w->cap ? 2 * w->cap : 256;
        bkp_pack_entry *e = realloc(w->entries, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        w->entries = e;
        w->cap = cap;
    }
    uint64_t off = bkp_dfile_size(w->file);
    int r = bkp_dfile_write(w->file, sealed, len);
    if (r)
        return r;
    bkp_pack_entry *e = &w->entries[w->count++];
    memcpy(e->id, id, BKP_ID_LEN);
    e->type = type;
    e->offset = off;
    e->len = (uint32_t)len;
    e->raw_len = raw_len;
    *offset = off;
    return 0;
}

uint64_t bkp_pack_writer_size(const bkp_pack_writer *w)
{
    return bkp_dfile_size(w->file);
}

void bkp_pack_writer_abort(bkp_pack_writer *w)
{
    if (!w)
        return;
    bkp_dfile_abort(w->file);
    free(w->entries);
    free(w->dir);
    free(w);
}

int bkp_pack_writer_finish(bkp_pack_writer *w, const bkp_keys *k, uint8_t pack_id[BKP_ID_LEN])
{
    static const uint8_t zero[BKP_ID_LEN];
    bkp_buf plain, sealed;
    uint8_t footer[FOOTER_LEN], id[BKP_ID_LEN];
    char hex[2 * BKP_ID_LEN + 1], sub[3];
    char *subdir = NULL;
    int r;

    bkp_buf_init(&plain);
    bkp_buf_init(&sealed);
    bkp_buf_u32(&plain, w->count);
    for (uint32_t i = 0; i < w->count; i++) {
        const bkp_pack_entry *e = &w->entries[i];
        bkp_buf_u8(&plain, e->type);
        bkp_buf_put(&plain, e->id, BKP_ID_LEN);
        bkp_buf_u64(&plain, e->offset);
        bkp_buf_u32(&plain, e->len);
        bkp_buf_u32(&plain, e->raw_len);
    }
    r = plain.failed ? -ENOMEM : bkp_blob_seal(k, BKP_BLOB_TRAILER, zero, plain.data, plain.len, BKP_COMP_LISTS, &sealed);
    if (!r)
        r = bkp_dfile_write(w->file, sealed.data, sealed.len);
    bkp_le32(footer, (uint32_t)sealed.len);
    memcpy(footer + 4, BKP_PACK_END_MAGIC, 8);
    if (!r)
        r = bkp_dfile_write(w->file, footer, FOOTER_LEN);
    if (r)
        goto fail;
    {
        /* Named by its trailer section (FORMAT §4): the blobs are bound to it
         * by their own tags and the tiling the trailer describes. */
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, BKP_ID_LEN);
        crypto_generichash_update(&h, sealed.data, sealed.len);
        crypto_generichash_update(&h, footer, FOOTER_LEN);
        crypto_generichash_final(&h, id, BKP_ID_LEN);
    }
    bkp_hex(hex, id, BKP_ID_LEN);
    memcpy(sub, hex, 2);
    sub[2] = '\0';
    subdir = bkp_path_join(w->dir, sub);
    if (!subdir) {
        r = -ENOMEM;
        goto fail;
    }
    if (mkdir(subdir, 0755) < 0 && errno != EEXIST) {
        r = -errno;
        goto fail;
    }
    /* Content-addressed: a pack already there under this name has these bytes. */
    r = bkp_dfile_commit(w->file, subdir, hex, BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    w->file = NULL; /* freed by the commit */
    if (r == -EEXIST)
        r = 0;
    if (!r) {
        /* The new subdirectory's entry in packs/ must be durable too. */
        r = bkp_fsync_dir(w->dir);
    }
    if (!r)
        memcpy(pack_id, id, BKP_ID_LEN);
    free(subdir);
    bkp_buf_free(&plain);
    bkp_buf_free(&sealed);
    free(w->entries);
    free(w->dir);
    free(w);
    return r;
fail:
    free(subdir);
    bkp_buf_free(&plain);
    bkp_buf_free(&sealed);
    bkp_pack_writer_abort(w);
    return r;
}

static int parse_entries(const bkp_buf *plain, uint64_t limit, bkp_pack_entry **entries,
                         uint32_t *count)
{
    bkp_rd rd;
    bkp_rd_init(&rd, plain->data, plain->len);
    uint32_t n = bkp_rd_u32(&rd);
    if (!bkp_rd_ok(&rd) || (uint64_t)n * ENTRY_LEN != plain->len - 4)
        return -EBADMSG;
    bkp_pack_entry *e = calloc(n ? n : 1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        e[i].type = bkp_rd_u8(&rd);
        memcpy(e[i].id, bkp_rd_take(&rd, BKP_ID_LEN), BKP_ID_LEN);
        e[i].offset = bkp_rd_u64(&rd);
        e[i].len = bkp_rd_u32(&rd);
        e[i].raw_len = bkp_rd_u32(&rd);
        if (e[i].offset < 8 || e[i].offset > limit || e[i].len > limit - e[i].offset) {
            free(e);
            return -EBADMSG;
        }
    }
    *entries = e;
    *count = n;
    return 0;
}

static int open_trailer(const uint8_t *footer_and_trailer, uint64_t tlen, uint64_t size,
                        const bkp_keys *k, bkp_pack_entry **entries, uint32_t *count)
{
    static const uint8_t zero[BKP_ID_LEN];
    bkp_buf plain;
    bkp_buf_init(&plain);
    int r = bkp_blob_open(k, BKP_BLOB_TRAILER, zero, footer_and_trailer, tlen, &plain);
    if (!r)
        r = parse_entries(&plain, size - FOOTER_LEN - tlen, entries, count);
    bkp_buf_free(&plain);
    return r;
}

int bkp_pack_parse_trailer(const uint8_t *pack, uint64_t size, const bkp_keys *k,
                           bkp_pack_entry **entries, uint32_t *count)
{
    if (size < 8 + FOOTER_LEN || memcmp(pack, BKP_PACK_MAGIC, 8) != 0 ||
        memcmp(pack + size - 8, BKP_PACK_END_MAGIC, 8) != 0)
        return -EBADMSG;
    uint64_t tlen = bkp_get_le32(pack + size - FOOTER_LEN);
    if (tlen > size - 8 - FOOTER_LEN || tlen > BKP_PACK_TRAILER_MAX)
        return -EBADMSG;
    return open_trailer(pack + size - FOOTER_LEN - tlen, tlen, size, k, entries, count);
}

int bkp_pack_read_trailer(int fd, uint64_t size, const bkp_keys *k, bkp_pack_entry **entries,
                          uint32_t *count)
{
    uint8_t head[8], footer[FOOTER_LEN];
    int r;
    if (size < 8 + FOOTER_LEN)
        return -EBADMSG;
    if ((r = bkp_pread_full(fd, head, 8, 0)) || (r = bkp_pread_full(fd, footer, FOOTER_LEN, size - FOOTER_LEN)))
        return r == -EIO ? -EBADMSG : r;
    if (memcmp(head, BKP_PACK_MAGIC, 8) != 0 || memcmp(footer + 4, BKP_PACK_END_MAGIC, 8) != 0)
        return -EBADMSG;
    uint64_t tlen = bkp_get_le32(footer);
    /* The length comes from the medium: cap it by the format before malloc. */
    if (tlen > size - 8 - FOOTER_LEN || tlen > BKP_PACK_TRAILER_MAX)
        return -EBADMSG;
    uint8_t *t = malloc(tlen ? tlen : 1);
    if (!t)
        return -ENOMEM;
    r = bkp_pread_full(fd, t, tlen, size - FOOTER_LEN - tlen);
    if (!r)
        r = open_trailer(t, tlen, size, k, entries, count);
    free(t);
    return r == -EIO ? -EBADMSG : r;
}

int bkp_pack_check(const bkp_keys *k, const uint8_t *pack, uint64_t size,
                   const uint8_t name[BKP_ID_LEN], bkp_pack_entry **entries, uint32_t *count)
{
    uint8_t h[BKP_ID_LEN];
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    uint64_t at = 8;
    bkp_buf plain;
    if (bkp_pack_name(pack, size, h) || sodium_memcmp(h, name, BKP_ID_LEN))
        return -EBADMSG;
    int rc = bkp_pack_parse_trailer(pack, size, k, &ents, &n);
    /* The blobs and the trailer tile the file: no byte goes unauthenticated. */
    for (uint32_t i = 0; !rc && i < n; i++) {
        rc = ents[i].offset == at ? 0 : -EBADMSG;
        at += ents[i].len;
    }
    if (!rc && at + bkp_get_le32(pack + size - FOOTER_LEN) + FOOTER_LEN != size)
        rc = -EBADMSG;
    bkp_buf_init(&plain);
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = bkp_blob_check(k, ents[i].type, ents[i].id, pack + ents[i].offset, ents[i].len, &plain);
    bkp_buf_free(&plain);
    if (rc || !entries)
        free(ents);
    else {
        *entries = ents;
        *count = n;
    }
    return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

int bkp_pack_name(const uint8_t *pack, uint64_t size, uint8_t id[BKP_ID_LEN])
{
    if (size < 8 + FOOTER_LEN)
        return -EBADMSG;
    uint64_t tlen = bkp_get_le32(pack + size - FOOTER_LEN);
    if (tlen > size - 8 - FOOTER_LEN)
        return -EBADMSG;
    crypto_generichash(id, BKP_ID_LEN, pack + size - FOOTER_LEN - tlen, tlen + FOOTER_LEN, NULL, 0);
    return 0;
}
