/*
 * bucket_internal.h — what bucket.c, bucket_fetch.c and bucket_prune.c
 * share: listings of the bucket, single objects, and the keys of the
 * layout (bucket.h). Not for use outside these files.
 */
#ifndef BKP_BUCKET_INTERNAL_H
#define BKP_BUCKET_INTERNAL_H

#include <errno.h>

#include "bkp/media/bucket.h"
#include "bkp/media/label.h"

#define LABEL_KEY BKP_LABEL_FILE
#define PACKS_PREFIX BKP_BUCKET_REPO "packs/"
#define GENS_PREFIX BKP_BUCKET_REPO "generations/"
#define PROBE_PREFIX "probe/"
#define MANIFEST_MAGIC "BKPPACKS"
#define MANIFEST_MAX (64U << 20)

typedef struct entry {
    char *key;
    uint64_t size;
    char etag[65]; /* of the current version, without quotes */
} entry;

typedef struct listing {
    entry *v;
    size_t n, cap;
} listing;

typedef struct versions {
    char (*v)[BKP_S3_VERSION_MAX + 1];
    size_t n, cap;
    const char *key;
} versions;

/* Every current object under `prefix`, sorted bytewise. */
int bucket_list(bkp_s3 *s, const char *prefix, listing *l);
const entry *bucket_listed(const listing *l, const char *key);
/* Add object `o` to the listing `ctx` (a bkp_s3_list callback); sort it after. */
int bucket_take_entry(const bkp_s3_object *o, void *ctx);
void bucket_sort(listing *l);
void bucket_listing_free(listing *l);
/* A listing of versions: every version (not delete markers) of exactly `vs->key`. */
int bucket_take_version(const bkp_s3_object *o, void *ctx);

/* One version of a key (a listing of versions, newest first within a key),
 * with its lock when a caller read it (HEAD). */
typedef struct bucket_version {
    char key[BKP_S3_KEY_MAX + 1];
    char id[BKP_S3_VERSION_MAX + 1];
    uint64_t size;
    bool marker;
    time_t until;
} bucket_version;

typedef struct bucket_versions {
    bucket_version *v;
    size_t n, cap;
} bucket_versions;

/* Add every version and delete marker to `ctx` (a bkp_s3_list_versions callback). */
int bucket_take_any_version(const bkp_s3_object *o, void *ctx);

/* Upload the regular file `path` (at most `max` bytes) as `key`, locked. */
int bucket_put_file(bkp_s3 *s, const char *key, const char *path, uint64_t max, bkp_s3_lock mode,
                    time_t until, uint64_t *bytes);
/* Every version of `key` locked at least until `until`; `ours` (may be
 * NULL) the MD5 of our bytes: a version that is not ours and whose lock the
 * server will not change is reported and left as it is. */
int bucket_hold(bkp_s3 *s, const char *key, bkp_s3_lock mode, time_t until, uint64_t *extended,
                const char *ours);
/* GET `key` (a version, or the current one) into a new file `path`. */
int bucket_get_to(bkp_s3 *s, const char *key, const char *version, const char *path, uint64_t max);
/* Is `rc`, of a GET of one listed version, that version's fault (gone
 * since the listing, larger than it said, or unreadable with our
 * credentials — planted, e.g. encrypted with a key of its own) rather than
 * the connection's? Such a version is passed over like one that does not
 * check. */
static inline bool bucket_version_unusable(int rc)
{
    return rc == -ENOENT || rc == -EFBIG || rc == -EINVAL || rc == -EACCES;
}

/* The repository-relative path of `key` and its cap, or NULL (reported
 * unless a probe's canary) when it is no file of the layout. */
const char *bucket_rel_of(const char *key, uint64_t *max);

/* The newest BUCKET_FEW versions of one key (not delete markers), as a
 * rotation looks back through the label's. */
#define BUCKET_FEW 16
typedef struct bucket_few {
    const char *key;
    char v[BUCKET_FEW][BKP_S3_VERSION_MAX + 1];
    size_t n;
} bucket_few;
/* Add a version of `ctx->key` (a bkp_s3_list_versions callback); 1 (stop)
 * once BUCKET_FEW are in. */
int bucket_take_few(const bkp_s3_object *o, void *ctx);

#endif
