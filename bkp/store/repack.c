/* repack.c — blobs written again into new packs. */
#include "bkp/store/repack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

int bkp_repacker_flush(bkp_repacker *p)
{
    uint8_t id[BKP_ID_LEN];
    if (!p->w)
        return 0;
    int rc = bkp_pack_writer_finish(p->w, bkp_repo_keys(p->repo), id);
    p->w = NULL;
    if (!rc)
        rc = p->done(id, p->pending, (uint32_t)p->npending, p->ctx);
    p->npending = 0;
    return rc;
}

int bkp_repacker_add(bkp_repacker *p, uint8_t type, const uint8_t id[BKP_ID_LEN])
{
    bkp_buf plain, sealed;
    bkp_buf_init(&plain);
    bkp_buf_init(&sealed);
    int rc = bkp_repo_get(p->repo, type, id, &plain);
    if (!rc)
        rc = bkp_blob_seal(bkp_repo_keys(p->repo), type, id, plain.data, plain.len, (bkp_comp){0}, &sealed);
    if (!rc && !p->w)
        rc = bkp_pack_writer_open(p->dir, &p->w);
    if (!rc && p->npending == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        bkp_pack_entry *n = realloc(p->pending, cap * sizeof(*n));
        rc = n ? 0 : -ENOMEM;
        if (n) {
            p->pending = n;
            p->cap = cap;
        }
    }
    if (!rc) {
        bkp_pack_entry *pe = &p->pending[p->npending];
        memcpy(pe->id, id, BKP_ID_LEN);
        pe->type = type;
        pe->len = (uint32_t)sealed.len;
        pe->raw_len = (uint32_t)plain.len;
        rc = bkp_pack_writer_add(p->w, type, id, sealed.data, sealed.len, (uint32_t)plain.len,
                                 &pe->offset);
        if (!rc) {
            p->npending++;
            p->moved += plain.len;
            p->written += sealed.len;
        }
    }
    if (!rc && bkp_pack_writer_size(p->w) >= BKP_PACK_TARGET)
        rc = bkp_repacker_flush(p);
    if (rc) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, id, BKP_ID_LEN);
        bkp_error(_("cannot write blob %.16s into a new pack in %s: %s"), hex, p->dir,
                  bkp_strerror(rc));
    }
    bkp_buf_free(&plain);
    bkp_buf_free(&sealed);
    return rc;
}

void bkp_repacker_free(bkp_repacker *p)
{
    bkp_pack_writer_abort(p->w);
    p->w = NULL;
    free(p->pending);
    p->pending = NULL;
    p->npending = p->cap = 0;
}
