/*
 * repo_config.c — the config at an open, once the key is open: its MAC, the
 * chunk-ID function it names (FORMAT §2), and the upgrade of a format 2
 * config to format 3.
 *
 * The function is where a config without a MAC could hurt. A format 2
 * config carries none, so root on the server can turn a format 4 config
 * (HMAC-SHA-256 IDs) into a format 2 one (keyed BLAKE2b) without the key.
 * Trusted as it stands, it would make every stored chunk look damaged, and
 * a writable open would bind it — the wrong function — under a fresh MAC,
 * after which new backups would name their chunks one way and the old ones
 * the other. So a format 2 config's function is believed only once a
 * stored blob confirms it: a data or tree blob, authenticated by its AEAD
 * under the blob key (which binds its ID), whose keyed BLAKE2b is its ID.
 * One whose HMAC-SHA-256 is its ID proves the config replaced: refused.
 * The probe runs after the open has adopted the packs no index segment
 * names, so deleting the index along with the config leaves it blobs to
 * read. A
 * repository with no blob yet has nothing to confuse; one whose blobs
 * cannot be read is opened (a restore takes what it can) but not upgraded.
 * A copy's function must be its primary's, which opened it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/blob.h"
#include "bkp/store/config.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/primitive.h"
#include "bkp/store/repo_internal.h"

#define PROBES 8 /* blobs tried before a format 2 config is called unconfirmed */

int bkp_repo_config_check(bkp_repo *r, const bkp_config *cfg, const bkp_buf *raw,
                          const bkp_repo *like)
{
    int rc = bkp_config_check(cfg, raw->data, raw->len, r->keys);
    if (rc == -EBADMSG)
        bkp_error(_("%s/config does not match the repository key: a byte of it was changed (its "
                    "creation time or chunker sizes, say). Nothing was done; restore the config "
                    "from a copy on another medium (MEDIUM/repo/config)"),
                  r->path);
    if (rc && rc != -ENOKEY)
        return rc;
    if (like && cfg->id_hash != bkp_keys_id_hash(like->keys)) {
        bkp_error(_("%s/config names its chunks differently from %s, the repository it is a copy "
                    "of: it was replaced. Nothing was done; restore the config from another copy "
                    "(MEDIUM/repo/config)"),
                  r->path, like->path);
        return -EBADMSG;
    }
    bkp_keys_set_id_hash(r->keys, cfg->id_hash);
    return 0;
}

typedef struct probe {
    bkp_index_entry e[PROBES];
    int n;
} probe;

static void take(const bkp_index_entry *e, void *ctx)
{
    probe *p = ctx;
    if (p->n < PROBES && (e->type == BKP_BLOB_DATA || e->type == BKP_BLOB_TREE))
        p->e[p->n++] = *e;
}

/* 1 a blob confirms keyed BLAKE2b, 0 none could be read (or there is none:
 * `*none` set), -EBADMSG a blob is named by HMAC-SHA-256. */
static int blake2b_confirmed(const bkp_repo *r, bool *none)
{
    probe p = {.n = 0};
    bkp_buf b;
    int rc = 0;
    if (bkp_index_foreach(r->mut->index, take, &p) && p.n == 0)
        return 0;
    *none = p.n == 0;
    bkp_buf_init(&b);
    for (int i = 0; i < p.n && rc == 0; i++) {
        uint8_t h[32];
        if (bkp_repo_get_sealed(r, p.e[i].type, p.e[i].id, &b))
            continue; /* a damaged pack: the next blob may tell */
        bkp_prim_keyed_hash(h, b.data, b.len, bkp_keys_id_key(r->keys));
        if (!memcmp(h, p.e[i].id, BKP_ID_LEN)) {
            rc = 1;
            break;
        }
        bkp_prim_hmac_sha256(h, b.data, b.len, bkp_keys_id_key(r->keys));
        if (!memcmp(h, p.e[i].id, BKP_ID_LEN))
            rc = -EBADMSG;
    }
    bkp_buf_free(&b);
    return rc;
}

int bkp_repo_config_confirm(bkp_repo *r, const bkp_config *cfg, bool primary)
{
    /* A copy's function was compared with its primary's; a format 3 or 4
     * config is bound by its MAC. */
    if (cfg->version != 2 || !primary)
        return 0;
    bool none = false;
    int rc = blake2b_confirmed(r, &none);
    if (rc < 0) {
        bkp_error(_("%s/config says format 2 (keyed BLAKE2b chunk IDs), but this repository's "
                    "chunks are named by HMAC-SHA-256: the config was replaced by an older form. "
                    "Nothing was done; restore the config from a copy on another medium "
                    "(MEDIUM/repo/config)"),
                  r->path);
        return -EBADMSG;
    }
    if (rc == 0 && !none) {
        bkp_warn(_("%s/config is format 2 and no stored chunk could confirm it; it is left as it "
                   "is — run `bkp verify --read-data`"),
                 r->path);
        return 0;
    }
    if (r->flags & BKP_REPO_READONLY) {
        bkp_debug("%s/config is format 2, not bound to the key; the next backup binds it", r->path);
        return 0;
    }
    /* Format 2 fixed the chunker sizes to the defaults, so what it could
     * not protect is `created` alone; format 3 binds every byte. */
    size_t len = 0;
    char *text = bkp_config_render(cfg->id, cfg->created, cfg->chunk, BKP_ID_BLAKE2B, r->keys, &len);
    rc = text ? bkp_durable_write(r->path, "config", text, len, 0) : -ENOMEM;
    free(text);
    if (rc)
        bkp_warn(_("cannot bind %s/config to the key (%s); the next writable open tries again"),
                 r->path, bkp_strerror(rc));
    else
        bkp_info(_("%s/config upgraded to format 3: bound to the repository key"), r->path);
    return 0;
}
