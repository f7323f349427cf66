/* bucket_fetch.c — a copy fetched back from an Object Lock bucket (bucket.h),
 * and the repair of a pack there. */
#include "bkp/bucket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/bucket_internal.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/envelope.h"
#include "bkp/log.h"
#include "bkp/pack.h"

/* ---- fetching a copy ---- */

int bkp_bucket_fetch_meta(bkp_s3 *s, const char *dir)
{
    listing all;
    int rc = bucket_list(s, "", &all);
    for (size_t i = 0; !rc && i < all.n; i++) {
        uint64_t max;
        const char *key = all.v[i].key, *rel = bucket_rel_of(key, &max);
        if (!rel || !strncmp(rel, "packs/", 6) || !strncmp(rel, "index/", 6))
            continue;
        if (all.v[i].size > max) {
            /* Planted, not ours: left out, so that it cannot stop a restore
             * (what it stands for, if anything, is then missing and said so). */
            bkp_error("the bucket's %s is larger than any such file (%llu bytes): it was not "
                      "written by bkp and is left out; find out who wrote it",
                      key, (unsigned long long)all.v[i].size);
            continue;
        }
        char *path = rel == key ? bkp_path_join(dir, rel) : NULL, *repo = NULL;
        if (rel != key && (repo = bkp_path_join(dir, "repo")))
            path = bkp_path_join(repo, rel);
        rc = path ? bucket_get_to(s, key, NULL, path, max) : -ENOMEM;
        if (rc && rc != -ENOMEM)
            bkp_error("cannot fetch %s from the bucket into %s: %s", key, path, bkp_strerror(rc));
        free(repo);
        free(path);
    }
    bucket_listing_free(&all);
    char *repo = rc ? NULL : bkp_path_join(dir, "repo");
    if (!rc)
        rc = repo ? bkp_repo_make_folders(repo) : -ENOMEM;
    free(repo);
    return rc;
}

/* Fetch one version of pack `key` into `tmp` and check it whole. */
static int fetch_one(bkp_s3 *s, bkp_repo *copy, const char *key, const char *version,
                     const char *tmp, const uint8_t id[BKP_ID_LEN], uint64_t *bytes)
{
    bkp_buf b;
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    unlink(tmp);
    int rc = bucket_get_to(s, key, version, tmp, BKP_PACK_MAX);
    bkp_buf_init(&b);
    if (!rc)
        rc = bkp_read_file(tmp, &b, BKP_PACK_MAX);
    if (!rc)
        rc = bkp_pack_check(bkp_repo_keys(copy), b.data, b.len, id, &ents, &n);
    if (!rc)
        *bytes += b.len;
    free(ents);
    bkp_buf_free(&b);
    return rc;
}

static int note_bad(bkp_bucket_fetch *f, const uint8_t id[BKP_ID_LEN], const char *version)
{
    size_t n = f->nstale + f->ndamaged;
    void *a = realloc(f->bad, (n + 1) * sizeof(*f->bad));
    if (a)
        f->bad = a;
    void *b = a ? realloc(f->bad_version, (n + 1) * sizeof(*f->bad_version)) : NULL;
    if (!b)
        return -ENOMEM;
    f->bad_version = b;
    memcpy(f->bad[n], id, BKP_ID_LEN);
    snprintf(f->bad_version[n], sizeof(*f->bad_version), "%s", version ? version : "");
    return 0;
}

/* Pack `id` from the bucket into `to`: the current version, else the newest
 * older one that checks (`*used` names it). */
static int fetch_pack(bkp_s3 *s, bkp_repo *copy, const char *key, const uint8_t id[BKP_ID_LEN],
                      const char *to, uint64_t *bytes, const char **used, versions *vs)
{
    char *tmp = NULL;
    *used = NULL;
    if (asprintf(&tmp, "%s.fetch", to) < 0)
        return -ENOMEM;
    int rc = fetch_one(s, copy, key, NULL, tmp, id, bytes);
    if (rc == -EBADMSG || rc == -EFBIG) {
        /* Newest first, as S3 lists the versions of a key. */
        vs->n = 0;
        vs->key = key;
        int lrc = bkp_s3_list_versions(s, key, bucket_take_version, vs);
        for (size_t i = 1; !lrc && rc && i < vs->n; i++)
            if (!(rc = fetch_one(s, copy, key, vs->v[i], tmp, id, bytes))) {
                *used = vs->v[i];
                bkp_warn("%s: its current version in the bucket is damaged or forged; the older "
                         "version %s is used. Repair the bucket: bkp verify --media NAME "
                         "--repair-from ANOTHER",
                         key, vs->v[i]);
            }
        if (rc == -EBADMSG || rc == -EFBIG)
            rc = -EBADMSG;
    }
    if (!rc && rename(tmp, to) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

void bkp_bucket_fetch_clear(bkp_bucket_fetch *f)
{
    free(f->bad);
    free(f->bad_version);
    memset(f, 0, sizeof(*f));
}

int bkp_bucket_fetch_packs(bkp_s3 *s, bkp_repo *copy, bkp_bucket_fetch *f)
{
    listing packs;
    versions vs = {0};
    char *dir = bkp_repo_subpath(copy, "packs");
    int rc = dir ? bucket_list(s, PACKS_PREFIX, &packs) : -ENOMEM;
    /* The damaged ones go after the stale ones: collected apart first. */
    bkp_bucket_fetch dmg = {0};
    for (size_t i = 0; !rc && i < packs.n; i++) {
        uint64_t max;
        const char *key = packs.v[i].key, *rel = bucket_rel_of(key, &max), *used = NULL;
        uint8_t id[BKP_ID_LEN];
        if (!rel || bkp_unhex(id, BKP_ID_LEN, rel + 9))
            continue;
        char *to = bkp_pack_path(dir, id), *sub = to ? strdup(to) : NULL;
        char *slash = sub ? strrchr(sub, '/') : NULL;
        bkp_progress("fetching from the bucket: pack %zu of %zu, %.1f MB", i + 1, packs.n,
                     (double)f->bytes / 1e6);
        rc = !slash ? -ENOMEM : (*slash = '\0', bkp_mkdir_p(sub, 0700));
        if (!rc && access(to, F_OK) != 0) {
            int x = fetch_pack(s, copy, key, id, to, &f->bytes, &used, &vs);
            if (x == -EBADMSG) {
                bkp_error("%s: no version of it in the bucket is the pack it names; the "
                          "generations that need it cannot be restored from this medium. Run "
                          "`bkp verify --media NAME --repair-from ANOTHER`",
                          key);
                rc = note_bad(&dmg, id, NULL);
                dmg.ndamaged++;
            } else if (!x) {
                f->packs++;
                if (used && !(rc = note_bad(f, id, used)))
                    f->nstale++;
            } else {
                rc = x;
            }
        }
        free(sub);
        free(to);
    }
    bkp_progress_done();
    for (size_t i = 0; !rc && i < dmg.ndamaged; i++)
        if (!(rc = note_bad(f, dmg.bad[i], NULL)))
            f->ndamaged++;
    bkp_bucket_fetch_clear(&dmg);
    free(vs.v);
    bucket_listing_free(&packs);
    free(dir);
    return rc ? rc : bkp_repo_reload(copy);
}

int bkp_bucket_put_pack(bkp_s3 *s, bkp_repo *src, const uint8_t id[BKP_ID_LEN], const char *keep,
                        bkp_s3_lock mode, time_t until)
{
    char hex[2 * BKP_ID_LEN + 1], key[2 * BKP_ID_LEN + 32];
    bkp_s3_object o;
    bkp_hex(hex, id, BKP_ID_LEN);
    snprintf(key, sizeof(key), PACKS_PREFIX "%.2s/%s", hex, hex);
    if (keep && *keep && bkp_s3_head(s, key, keep, &o) == 0 && o.retain_until > until)
        until = o.retain_until;
    char *dir = bkp_repo_subpath(src, "packs"), *path = dir ? bkp_pack_path(dir, id) : NULL;
    bkp_buf b;
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    bkp_buf_init(&b);
    int rc = path ? bkp_read_file(path, &b, BKP_PACK_MAX) : -ENOMEM;
    /* Only a pack that checks replaces one in the bucket. */
    if (!rc && (rc = bkp_pack_check(bkp_repo_keys(src), b.data, b.len, id, &ents, &n)))
        bkp_error("pack %s is damaged in %s too; repair from another copy", hex,
                  bkp_repo_path(src));
    else if (rc)
        bkp_error("pack %s: %s: %s", hex, path ? path : "?", bkp_strerror(rc));
    if (!rc)
        rc = bkp_s3_put(s, key, -1, b.data, b.len, mode, until, NULL);
    free(ents);
    bkp_buf_free(&b);
    free(path);
    free(dir);
    return rc;
}
