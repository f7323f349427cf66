/*
 * The files cache's stamp: the index segments the repository's index was
 * made of when the cache was saved (FORMAT.md §8), so that the next backup
 * can trust the cached chunk lists without looking each chunk up.
 *
 * Why that is safe. Every chunk list the cache holds was in the index when
 * the cache was saved: its chunks were looked up (or vouched for by the
 * stamp before, by the same argument), or stored by that backup and named
 * by a segment in its flush, which comes before the cache is saved. The
 * stamp is taken after that flush (bkp_repo_index_stamp refuses while a
 * pack is named by no segment, or a segment was found damaged). A segment
 * is immutable and named by its hash, so as long as every stamped segment
 * is still one the index is made of, every entry the cache relies on is
 * still in the index. Nothing removes an entry without removing a segment:
 * a prune deletes all old segments before it deletes any pack (and an
 * interrupted prune is finished the same way), a damaged segment is renamed
 * aside and makes the open refuse to vouch until then. So a crash anywhere
 * in a prune leaves either the old segments (and all their packs) or a
 * cache that no longer matches.
 *
 * What a root with the repository gains: nothing the index did not already
 * give. The stamp is sealed under the repository key and bound to its
 * cache (a stamp of another cache or data set does not open). Putting an
 * old cache back, or old segments back after a prune, makes the cache vouch
 * for chunks that are gone, but the same old segments make the index say
 * "stored" for them too; the index never said the pack is there. Both are
 * found by `bkp verify` (every pack, every blob of every generation) and by
 * restore drills, as before.
 */
#include "bkp/capture/filescache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/blob.h"
#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/store/repo.h"

static const uint8_t STAMP_MAGIC[8] = {'B', 'K', 'P', 'F', 'C', 'V', '0', '1'};
#define STAMP_MAX_NAMES (1U << 20) /* 32 MiB of names: far past any index */

/* The stamp's blob ID: the data set and the cache, in a domain of its own. */
void bkp_fcache_stamp_id(const char *dataset, const uint8_t cache_id[BKP_FCACHE_ID_LEN],
                         uint8_t out[BKP_ID_LEN])
{
    static const char domain[] = "bkp files cache stamp";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, BKP_ID_LEN);
    crypto_generichash_update(&h, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&h, (const uint8_t *)dataset, strlen(dataset) + 1);
    crypto_generichash_update(&h, cache_id, BKP_FCACHE_ID_LEN);
    crypto_generichash_final(&h, out, BKP_ID_LEN);
}

int bkp_fcache_stamp_write(bkp_repo *r, const char *dataset,
                           const uint8_t cache_id[BKP_FCACHE_ID_LEN], bkp_dfile *f)
{
    uint8_t(*names)[BKP_ID_LEN] = NULL, id[BKP_ID_LEN], le[4];
    uint32_t n = 0;
    int rc = bkp_repo_index_stamp(r, &names, &n);
    if (rc == -EAGAIN || (!rc && n > STAMP_MAX_NAMES)) {
        free(names);
        return 0; /* no stamp: the next backup looks chunks up */
    }
    bkp_buf plain, sealed;
    bkp_buf_init(&plain);
    bkp_buf_init(&sealed);
    if (!rc) {
        bkp_buf_u32(&plain, n);
        bkp_buf_put(&plain, names, (size_t)n * BKP_ID_LEN);
        bkp_fcache_stamp_id(dataset, cache_id, id);
        rc = plain.failed ? -ENOMEM
                          : bkp_blob_seal(bkp_repo_keys(r), BKP_BLOB_CACHE, id, plain.data,
                                          plain.len, BKP_COMP_STORED, &sealed);
    }
    if (!rc)
        rc = bkp_dfile_write(f, sealed.data, sealed.len);
    bkp_le32(le, (uint32_t)sealed.len);
    if (!rc)
        rc = bkp_dfile_write(f, le, 4);
    if (!rc)
        rc = bkp_dfile_write(f, STAMP_MAGIC, sizeof(STAMP_MAGIC));
    bkp_buf_free(&plain);
    bkp_buf_free(&sealed);
    free(names);
    return rc;
}

/* The stamp's tail (`tail`: the last bytes of a cache of `size` bytes
 * whose segments start at `start`): the sealed stamp's length, or -ENOENT
 * (none: an older cache, or one saved without) or -EBADMSG. */
static int64_t stamp_tail(const uint8_t tail[4 + sizeof(STAMP_MAGIC)], uint64_t size,
                          uint64_t start)
{
    const uint64_t tlen = 4 + sizeof(STAMP_MAGIC);
    if (size < start + tlen || memcmp(tail + 4, STAMP_MAGIC, sizeof(STAMP_MAGIC)))
        return -ENOENT;
    uint64_t slen = bkp_get_le32(tail);
    if (slen > size - start - tlen ||
        slen > 4 + (uint64_t)STAMP_MAX_NAMES * BKP_ID_LEN + BKP_BLOB_OVERHEAD + 1024)
        return -EBADMSG;
    return (int64_t)slen;
}

/* Open the sealed stamp into `plain` and point `*names` into it. */
static int stamp_open(const bkp_keys *k, const char *dataset,
                      const uint8_t cache_id[BKP_FCACHE_ID_LEN], const uint8_t *sealed,
                      size_t len, bkp_buf *plain, const uint8_t (**names)[BKP_ID_LEN],
                      uint32_t *n)
{
    uint8_t id[BKP_ID_LEN];
    bkp_fcache_stamp_id(dataset, cache_id, id);
    int rc = bkp_blob_open(k, BKP_BLOB_CACHE, id, sealed, len, plain);
    if (rc)
        return rc;
    uint32_t cnt = plain->len >= 4 ? bkp_get_le32(plain->data) : 0;
    if (plain->len < 4 || plain->len != 4 + (size_t)cnt * BKP_ID_LEN)
        return -EBADMSG;
    *names = (const uint8_t(*)[BKP_ID_LEN])(plain->data + 4);
    *n = cnt;
    return 0;
}

int bkp_fcache_stamp_parse(const bkp_keys *k, const char *dataset,
                           const uint8_t cache_id[BKP_FCACHE_ID_LEN], const uint8_t *buf,
                           size_t len, size_t start, bkp_buf *plain,
                           const uint8_t (**names)[BKP_ID_LEN], uint32_t *n)
{
    const size_t tlen = 4 + sizeof(STAMP_MAGIC);
    int64_t slen = len >= tlen ? stamp_tail(buf + len - tlen, len, start) : -ENOENT;
    if (slen < 0)
        return (int)slen;
    return stamp_open(k, dataset, cache_id, buf + len - tlen - (size_t)slen, (size_t)slen, plain,
                      names, n);
}

bool bkp_fcache_stamp_holds(bkp_repo *r, const char *dataset,
                            const uint8_t cache_id[BKP_FCACHE_ID_LEN], int fd, uint64_t size,
                            uint64_t start)
{
    uint8_t tail[4 + sizeof(STAMP_MAGIC)];
    const uint8_t(*names)[BKP_ID_LEN] = NULL;
    uint32_t n = 0;
    if (size < start + sizeof(tail) || bkp_pread_full(fd, tail, sizeof(tail), size - sizeof(tail)))
        return false;
    int64_t slen = stamp_tail(tail, size, start);
    if (slen < 0)
        return false;
    bkp_buf sealed, plain;
    bkp_buf_init(&sealed);
    bkp_buf_init(&plain);
    uint8_t *p = bkp_buf_reserve(&sealed, (size_t)slen);
    bool ok = p && !bkp_pread_full(fd, p, (size_t)slen, size - sizeof(tail) - (uint64_t)slen);
    ok = ok && !stamp_open(bkp_repo_keys(r), dataset, cache_id, p, (size_t)slen, &plain, &names,
                           &n);
    ok = ok && bkp_repo_index_holds(r, names, n);
    bkp_buf_free(&sealed);
    bkp_buf_free(&plain);
    return ok;
}
