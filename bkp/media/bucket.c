/* bucket.c — a repository copy in an S3 bucket with Object Lock (bucket.h): the
 * label, rotation, the lock probe; helpers shared with bucket_fetch.c. */
#include "bkp/media/bucket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/media/bucket_internal.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/keys/keys.h"
#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"

/* ---- what the bucket holds: a sorted list of keys and sizes ---- */

int bucket_take_entry(const bkp_s3_object *o, void *ctx)
{
    listing *l = ctx;
    if (bkp_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 256))
        return -ENOMEM;
    if (!(l->v[l->n].key = strdup(o->key)))
        return -ENOMEM;
    snprintf(l->v[l->n].etag, sizeof(l->v[l->n].etag), "%s", o->etag);
    l->v[l->n++].size = o->size;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

void bucket_listing_free(listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Every current object under `prefix`, sorted bytewise (S3 promises that
 * order; it is not relied on). */
int bucket_list(bkp_s3 *s, const char *prefix, listing *l)
{
    memset(l, 0, sizeof(*l));
    int rc = bkp_s3_list(s, prefix, bucket_take_entry, l);
    if (rc)
        bucket_listing_free(l);
    else if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), by_key);
    return rc;
}

void bucket_sort(listing *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), by_key);
}

const entry *bucket_listed(const listing *l, const char *key)
{
    entry k = {.key = (char *)key};
    return l->n ? bsearch(&k, l->v, l->n, sizeof(*l->v), by_key) : NULL;
}

/* ---- single objects ---- */

/* Upload the regular file `path` (at most `max` bytes) as `key`, locked. */
int bucket_put_file(bkp_s3 *s, const char *key, const char *path, uint64_t max, bkp_s3_lock mode,
                    time_t until, uint64_t *bytes)
{
    struct stat st;
    int fd = bkp_open_regular(path), rc;
    if (fd < 0) {
        bkp_error(_("cannot read %s to upload it: %s"), path, bkp_strerror(fd));
        return fd;
    }
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > max) {
        rc = fstat(fd, &st) < 0 ? -errno : -EFBIG;
        bkp_error(_("%s: %s; run `bkp verify`"), path,
                  rc == -EFBIG ? "larger than any such file" : bkp_strerror(rc));
    } else {
        rc = bkp_s3_put(s, key, fd, NULL, (uint64_t)st.st_size, mode, until, NULL);
        if (!rc && bytes)
            *bytes += (uint64_t)st.st_size;
    }
    close(fd);
    return rc;
}

/* Every version of `key` locked at least until `until` (a COMPLIANCE lock
 * stays COMPLIANCE). Every version, not the current one alone: a version
 * planted in front of ours (same size, other bytes) must not be the only one
 * whose lock is extended while ours runs out under a record that needs it.
 * A GOVERNANCE lock becomes COMPLIANCE with the bypass header (the server
 * refuses the change without it). A version that is not ours (its ETag is
 * not `ours`) and whose lock the server will not change — planted, locked
 * in a way we cannot touch — is reported and left: it must not stop every
 * rotation, and nothing of ours depends on it. -ENOENT (logged) when `key`
 * has no version at all. */
int bucket_hold(bkp_s3 *s, const char *key, bkp_s3_lock mode, time_t until, uint64_t *extended,
                const char *ours)
{
    versions vs = {.key = key};
    int rc = bkp_s3_list_versions(s, key, bucket_take_version, &vs);
    if (!rc && !vs.n) {
        bkp_error(_("%s is missing from the bucket; run `bkp rotate` again, which uploads it"),
                  key);
        rc = -ENOENT;
    }
    for (size_t i = 0; !rc && i < vs.n; i++) {
        bkp_s3_object o;
        if ((rc = bkp_s3_head(s, key, vs.v[i], &o)))
            break;
        bkp_s3_lock m = o.mode == BKP_S3_LOCK_COMPLIANCE ? o.mode : mode;
        if (o.mode == m && o.retain_until >= until)
            continue;
        bool bypass = o.mode == BKP_S3_LOCK_GOVERNANCE && m == BKP_S3_LOCK_COMPLIANCE;
        rc = bkp_s3_retain(s, key, vs.v[i], m, until > o.retain_until ? until : o.retain_until,
                           bypass);
        if (rc == -EACCES && ours && strcasecmp(o.etag, ours) != 0) {
            bkp_warn(
                _("version %s of %s is not ours (other bytes) and the bucket refuses to change "
                  "its lock; it is left as it is — if no one here put it there, someone with "
                  "the bucket's credentials did: rotate the credentials"),
                vs.v[i], key);
            rc = 0;
            continue;
        }
        if (rc == -EACCES)
            bkp_error(_("the bucket refused to extend the lock of %s (version %s); check that the "
                        "credentials may set retention (s3:PutObjectRetention) and bypass a "
                        "governance lock (s3:BypassGovernanceRetention) in the bucket"),
                      key, vs.v[i]);
        if (!rc && extended)
            (*extended)++;
    }
    free(vs.v);
    return rc;
}

/* GET `key` into a new file `path` (created, never through a link). */
int bucket_get_to(bkp_s3 *s, const char *key, const char *version, const char *path, uint64_t max)
{
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    int rc = slash ? (*slash = '\0', bkp_mkdir_p(dir, 0700)) : -ENOMEM;
    free(dir);
    if (rc)
        return rc;
    int fd = bkp_durable_create(path, 0600, false);
    if (fd < 0)
        return fd;
    rc = bkp_s3_get_fd(s, key, version, fd, max, NULL);
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (rc)
        unlink(path);
    return rc;
}

/* The repository-relative path of `key`, and its cap; NULL when the key is
 * no file of the layout (reported unless it is a probe's canary). */
const char *bucket_rel_of(const char *key, uint64_t *max)
{
    if (!strcmp(key, LABEL_KEY)) {
        *max = BKP_LABEL_MAX;
        return key;
    }
    const char *rel = !strncmp(key, BKP_BUCKET_REPO, strlen(BKP_BUCKET_REPO))
                          ? key + strlen(BKP_BUCKET_REPO)
                          : NULL;
    *max = rel && strcmp(rel, LABEL_KEY) ? bkp_copy_member_max(rel) : 0;
    if (!*max && strncmp(key, PROBE_PREFIX, strlen(PROBE_PREFIX)))
        bkp_warn(_("the bucket holds %s, which is no part of a bkp copy; it is left alone"), key);
    return *max ? rel : NULL;
}

int bucket_take_version(const bkp_s3_object *o, void *ctx)
{
    versions *vs = ctx;
    if (o->delete_marker || strcmp(o->key, vs->key) || !o->version_id[0])
        return 0;
    if (bkp_grow(&vs->v, &vs->cap, vs->n, sizeof(*vs->v), 8))
        return -ENOMEM;
    memcpy(vs->v[vs->n++], o->version_id, sizeof(*vs->v));
    return 0;
}

int bucket_take_any_version(const bkp_s3_object *o, void *ctx)
{
    bucket_versions *vs = ctx;
    if (!o->version_id[0])
        return 0; /* a bucket without versions: not one of ours */
    if (bkp_grow(&vs->v, &vs->cap, vs->n, sizeof(*vs->v), 64))
        return -ENOMEM;
    bucket_version *x = &vs->v[vs->n++];
    memcpy(x->key, o->key, sizeof(x->key));
    memcpy(x->id, o->version_id, sizeof(x->id));
    x->size = o->size;
    x->marker = o->delete_marker;
    x->until = 0;
    return 0;
}

/* ---- rotation ---- */

typedef struct pack_until {
    uint8_t id[BKP_ID_LEN];
    time_t until;
} pack_until;

typedef struct pack_set {
    pack_until *v;
    size_t n, cap;
    time_t until;   /* of the generation being added */
    json_t *list;   /* the hex IDs of the generation being added */
    json_t **lists; /* per generation: its packs (the manifest's) */
} pack_set;

static void add_pack(const bkp_index_entry *e, void *ctx)
{
    pack_set *p = ctx;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024;
        pack_until *v = realloc(p->v, cap * sizeof(*v));
        if (!v) {
            p->cap = SIZE_MAX; /* remembered as ENOMEM */
            return;
        }
        p->v = v;
        p->cap = cap;
    }
    if (p->n < p->cap) {
        char hex[2 * BKP_ID_LEN + 1];
        memcpy(p->v[p->n].id, e->id, BKP_ID_LEN);
        p->v[p->n++].until = p->until;
        bkp_hex(hex, e->id, BKP_ID_LEN);
        if (json_array_append_new(p->list, json_string(hex)))
            p->cap = SIZE_MAX;
    }
}

/* By ID, the latest date first, so that the first of each ID is its date. */
static int by_id(const void *a, const void *b)
{
    const pack_until *x = a, *y = b;
    int c = memcmp(x->id, y->id, BKP_ID_LEN);
    return c ? c : (x->until < y->until) - (x->until > y->until);
}

/* Every pack the generations need, each with the latest date of those
 * needing it. */
static int needed(bkp_repo *src, bkp_gen *const *gens, const time_t *until, size_t n, pack_set *p)
{
    int rc = (p->lists = calloc(n + 1, sizeof(*p->lists))) ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        bkp_index *set = NULL;
        if (gens[i]->pruned || gens[i]->status)
            rc = -EINVAL;
        else if (!(rc = bkp_index_new(&set)) &&
                 !(rc = bkp_copy_needed_packs(src, NULL, gens[i], set))) {
            p->until = until[i];
            p->list = p->lists[i] = json_array();
            bkp_index_foreach(set, add_pack, p);
            rc = p->cap == SIZE_MAX || !p->list ? -ENOMEM : 0;
        }
        bkp_index_free(set);
    }
    if (!rc && p->n) {
        qsort(p->v, p->n, sizeof(*p->v), by_id);
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++)
            if (!k || memcmp(p->v[k - 1].id, p->v[i].id, BKP_ID_LEN))
                p->v[k++] = p->v[i];
        p->n = k;
    }
    return rc;
}

/* The MD5 of the file at `path`, lower-case hex. */
static int file_md5(const char *path, char md5[33])
{
    struct stat st;
    int fd = bkp_open_regular(path), rc;
    if (fd < 0)
        return fd;
    rc = fstat(fd, &st) < 0 ? -errno : bkp_s3_md5(fd, NULL, (uint64_t)st.st_size, md5);
    close(fd);
    return rc;
}

/* Step 1: every pack uploaded, or its lock extended. */
static int copy_packs(bkp_repo *src, bkp_s3 *s, const pack_set *p, bkp_s3_lock mode,
                      bkp_bucket_result *res)
{
    listing have;
    char *dir = bkp_repo_subpath(src, "packs");
    int rc = dir ? bucket_list(s, PACKS_PREFIX, &have) : -ENOMEM;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; !rc && i < p->n; i++) {
        char hex[2 * BKP_ID_LEN + 1], key[2 * BKP_ID_LEN + 32];
        struct stat st;
        bkp_hex(hex, p->v[i].id, BKP_ID_LEN);
        snprintf(key, sizeof(key), PACKS_PREFIX "%.2s/%s", hex, hex);
        char *path = bkp_pack_path(dir, p->v[i].id);
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        const entry *e = bucket_listed(&have, key);
        char md5[33] = "";
        bkp_progress_meter(_("copying to the bucket"), i, p->n, "packs", res->copy.bytes, &t0);
        if (stat(path, &st) < 0) {
            rc = -errno;
            bkp_error(_("cannot read pack %s: %s; run `bkp verify --read-data`"), path,
                      bkp_strerror(rc));
        } else if (e && (rc = file_md5(path, md5))) {
            bkp_error(_("cannot read pack %s: %s; run `bkp verify --read-data`"), path,
                      bkp_strerror(rc));
        } else if (e && e->size == (uint64_t)st.st_size && !strcasecmp(e->etag, md5)) {
            /* Present only when the current version holds our bytes (its
             * ETag, the server's MD5 of it, is ours): a name and a size are
             * known to anyone who can read the repository, and an impostor
             * of the right size planted before the rotation must not stand
             * in for the pack under a record. */
            if (!(rc = bucket_hold(s, key, mode, p->v[i].until, &res->extended, md5)))
                res->copy.packs_present++;
        } else {
            /* Absent, or other bytes made current over it: ours becomes the
             * current version again (the other stays, unused: every reader
             * authenticates a pack whole). */
            if (e)
                bkp_warn(_("the bucket's %s is not this repository's pack (other bytes, put there "
                           "before or after it); the pack is uploaded again"),
                         key);
            if (!(rc = bkp_bucket_put_pack(s, src, p->v[i].id, NULL, mode, p->v[i].until,
                                           &res->copy.bytes)))
                res->copy.packs++;
            /* And every older version held as long: one of them may be ours
             * too, and a reader may take it. */
            if (!rc && e)
                rc = bucket_hold(s, key, mode, p->v[i].until, &res->extended, md5);
        }
        free(path);
    }
    bkp_progress_done();
    bucket_listing_free(&have);
    free(dir);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The date of record file `name` (SEQ.gen, SEQ.cleared, SEQ.pruned) of `ds`. */
static time_t record_until(const char *ds, const char *name, bkp_gen *const *gens,
                           const time_t *until, size_t n, time_t floor)
{
    unsigned long seq = strtoul(name, NULL, 10);
    if (strstr(name, ".pruned"))
        return floor;
    for (size_t i = 0; i < n; i++)
        if (gens[i]->seq == seq && !strcmp(gens[i]->dataset, ds))
            return until[i] > floor ? until[i] : floor;
    return floor;
}

/* Upload the record files of data set `ds` in `dir` that the bucket lacks,
 * in sequence order. */
static int upload_records(bkp_s3 *s, const char *dir, const char *ds, const listing *have,
                          const listing *forced, bkp_gen *const *gens, const time_t *until,
                          size_t n, bkp_s3_lock mode, time_t floor)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = d ? 0 : errno == ENOENT ? 1 : -errno;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if ((rc = bkp_grow(&names, &cap, nn, sizeof(*names), 64)))
            break;
        if (!(names[nn] = strdup(e->d_name)))
            rc = -ENOMEM;
        else
            nn++;
    }
    if (d)
        closedir(d);
    if (rc == 1)
        rc = 0;
    if (nn)
        qsort(names, nn, sizeof(*names), by_name);
    for (size_t i = 0; !rc && i < nn; i++) {
        char key[1024], rel[512];
        snprintf(rel, sizeof(rel), "generations/%s/%s", ds, names[i]);
        snprintf(key, sizeof(key), BKP_BUCKET_REPO "%s", rel);
        uint64_t max = bkp_copy_member_max(rel);
        size_t nl = strlen(names[i]);
        bool packs = nl > 6 && !strcmp(names[i] + nl - 6, ".packs"); /* put_manifest's */
        if (!max || packs)
            continue;
        char *path = bkp_path_join(dir, names[i]);
        const entry *cur = bucket_listed(have, key);
        char md5[33];
        /* In the bucket already only when its current version is ours
         * byte for byte: a reader skips a version that does not check, so
         * one planted in front must not pass for the record either. */
        if (cur && !bucket_listed(forced, key) && path && !file_md5(path, md5) &&
            !strcasecmp(cur->etag, md5)) {
            free(path);
            continue;
        }
        rc = path ? bucket_put_file(s, key, path, max, mode,
                                    record_until(ds, names[i], gens, until, n, floor), NULL)
                  : -ENOMEM;
        free(path);
    }
    bkp_strv_free(names, nn);
    return rc;
}

/* The bytes of a file, or an empty buffer when there is none. */
static int read_or_empty(const char *path, bkp_buf *b, size_t max)
{
    int rc = bkp_read_file(path, b, max);
    if (rc == -ENOENT) {
        bkp_buf_reset(b);
        rc = 0;
    }
    return rc;
}

/* The signed list of the packs record `g` needs, SEQ.packs beside it: what
 * a prune of the bucket keeps for it (FORMAT §9c). Uploaded once, before
 * the record, locked as long as it. */
static int put_manifest(bkp_repo *src, bkp_s3 *s, const bkp_gen *g, json_t *packs,
                        const listing *have, const char *repo, bkp_s3_lock mode, time_t until)
{
    char key[512], hex[2 * BKP_ID_LEN + 1];
    snprintf(key, sizeof(key), GENS_PREFIX "%s/%010u.packs", g->dataset, g->seq);
    if (bucket_listed(have, key))
        return 0;
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    json_t *j = json_pack("{s:s, s:i, s:s, s:i, s:s, s:O}", "format", "bkp-packs", "version", 1,
                          "dataset", g->dataset, "seq", (int)g->seq, "record", hex, "packs", packs);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = !text ? -ENOMEM : bkp_envelope_seal(bkp_repo_keys(src), MANIFEST_MAGIC, text, &b);
    if (!rc)
        rc = bkp_s3_put(s, key, -1, b.data, b.len, mode, until, NULL);
    /* And into the working copy, where the prune that follows reads it. */
    char sub[512], name[32];
    snprintf(sub, sizeof(sub), "generations/%s", g->dataset);
    snprintf(name, sizeof(name), "%010u.packs", g->seq);
    char *dir = rc ? NULL : bkp_path_join(repo, sub);
    if (!rc)
        rc = dir ? bkp_durable_write(dir, name, b.data, b.len, 0) : -ENOMEM;
    free(dir);
    bkp_buf_free(&b);
    free(text);
    json_decref(j);
    return rc;
}

/* The config or key file `rel` in the bucket as the primary has it: a new
 * version when the bucket's current one (fetched into `repo`) differs in a
 * byte or is missing or hidden, else every version's lock extended. The
 * working copy gets the primary's bytes too. */
static int ensure(bkp_repo *src, bkp_s3 *s, const char *repo, const char *rel, bkp_s3_lock mode,
                  bkp_bucket_result *res)
{
    char key[64];
    bkp_buf ours, theirs;
    char *local = bkp_repo_subpath(src, rel), *fetched = bkp_path_join(repo, rel);
    uint64_t max = bkp_copy_member_max(rel);
    bkp_buf_init(&ours);
    bkp_buf_init(&theirs);
    snprintf(key, sizeof(key), BKP_BUCKET_REPO "%s", rel);
    int rc = local && fetched ? bkp_read_file(local, &ours, max) : -ENOMEM;
    if (!rc)
        rc = read_or_empty(fetched, &theirs, max);
    if (!rc && theirs.len == ours.len && !memcmp(theirs.data, ours.data, ours.len)) {
        char md5[33];
        rc = bkp_s3_md5(-1, ours.data, ours.len, md5);
        if (!rc)
            rc = bucket_hold(s, key, mode, res->until, &res->extended, md5);
    } else if (!rc) {
        if (theirs.len)
            bkp_warn(_("the bucket's %s is not the repository's (a newer version was put over it, "
                       "or a key slot changed); the repository's is uploaded as a new version"),
                     key);
        rc = bkp_s3_put(s, key, -1, ours.data, ours.len, mode, res->until, NULL);
        char *slash = rc ? NULL : strrchr(fetched, '/');
        if (slash) {
            *slash = '\0';
            rc = bkp_mkdir_p(fetched, 0700);
            if (!rc)
                rc = bkp_durable_write(fetched, slash + 1, ours.data, ours.len, 0);
        }
    }
    bkp_buf_free(&ours);
    bkp_buf_free(&theirs);
    free(local);
    free(fetched);
    return rc;
}

/* A record file in the bucket that does not check (forged, or garbage put
 * under the next record's name) is not a record: it is removed from the
 * working copy, so the genuine one is written there, and named in `forced`
 * so that it is uploaded over the forged one. */
static int drop_forged(bkp_repo *src, bkp_repo *dst, bkp_gen *const *gens, size_t n,
                       listing *forced)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first &= strcmp(gens[k]->dataset, gens[i]->dataset) != 0;
        bkp_gen **v = NULL;
        size_t nv = 0;
        if (!first || (rc = bkp_gen_list(dst, gens[i]->dataset, &v, &nv)))
            continue;
        for (size_t k = 0; !rc && k < nv; k++) {
            if (!v[k]->status || !v[k]->file)
                continue;
            const char *name = strrchr(v[k]->file, '/');
            char key[512];
            snprintf(key, sizeof(key), GENS_PREFIX "%s/%s", gens[i]->dataset,
                     name ? name + 1 : v[k]->file);
            /* Only where the primary still has the record: else nothing
             * would take its place, and a hole in the working copy would
             * let the prune that follows count that generation's packs as
             * needed by no one. Left in, it is a record that does not
             * check, and the prune keeps every pack. */
            char rel[512];
            snprintf(rel, sizeof(rel), "generations/%s/%s", gens[i]->dataset,
                     name ? name + 1 : v[k]->file);
            char *ours = bkp_repo_subpath(src, rel);
            bool have = ours && access(ours, F_OK) == 0;
            free(ours);
            if (!have) {
                bkp_warn(
                    _("the bucket's %s does not check (forged or damaged), and this repository "
                      "no longer has it to put back; the bucket keeps every pack until it is "
                      "looked at (`bkp verify --media`)"),
                    key);
                continue;
            }
            bkp_warn(_("the bucket's %s does not check (forged or damaged); the repository's is "
                       "uploaded over it"),
                     key);
            bkp_s3_object o = {0};
            snprintf(o.key, sizeof(o.key), "%s", key);
            if (unlink(v[k]->file) < 0 && errno != ENOENT)
                rc = -errno;
            else
                rc = bucket_take_entry(&o, forced);
        }
        bkp_gen_list_free(v, nv);
    }
    if (!rc && forced->n)
        bucket_sort(forced);
    return rc;
}

/* Steps 2 to 4, in the working copy `tmp` of the bucket's small objects. */
static int copy_rest(bkp_repo *src, bkp_s3 *s, bkp_gen *const *gens, const time_t *until, size_t n,
                     json_t **manifests, bkp_s3_lock mode, time_t floor, const char *tmp,
                     bkp_bucket_result *res)
{
    bkp_repo *dst = NULL;
    listing have = {0}, forced = {0};
    bkp_buf before, after;
    char *repo = bkp_path_join(tmp, "repo");
    char *audit = repo ? bkp_path_join(repo, BKP_AUDIT_COPY) : NULL;
    bkp_bucket_trust t = {.like = src};
    bkp_bucket_fetch fm = {0};
    int rc = audit ? bkp_bucket_trust_find(s, NULL, &t) : -ENOMEM;
    if (!rc)
        rc = bkp_bucket_fetch_meta(s, tmp, &t, &fm);
    /* Someone put versions of the audit copy there (a rollback, a forged
     * one in front): the log goes back in front even when unchanged. When
     * none of those read checks, the host's log (checked against its own
     * head marker) is uploaded all the same, without the comparison: versions
     * planted in front must not stop every rotation to come. */
    bool audit_front = false;
    for (size_t i = 0; i < fm.nhidden; i++)
        audit_front |= !strcmp(fm.hidden[i], BKP_AUDIT_COPY);
    bkp_bucket_fetch_clear(&fm);
    if (!rc && audit_front && access(audit, F_OK) != 0)
        bkp_warn(_("the bucket's audit copy: none of its versions read checks (said above), so "
                   "this host's log is uploaded without being compared with what the bucket "
                   "held. Find out who put those versions there (`bkp audit fetch MEDIUM -o "
                   "FILE` says what it finds)"));
    bkp_buf_init(&before);
    bkp_buf_init(&after);
    /* Before any record: the config and key file as the primary has them (a
     * new passphrase too), and the label, locked as long as the latest. */
    if (!rc)
        rc = ensure(src, s, repo, "config", mode, res);
    if (!rc)
        rc = ensure(src, s, repo, "keys/key", mode, res);
    if (!rc)
        rc = bucket_hold(s, LABEL_KEY, mode, res->until, &res->extended, NULL);
    if (!rc)
        rc = bkp_repo_open_copy(repo, src, 0, &dst);
    if (!rc)
        rc = drop_forged(src, dst, gens, n, &forced);
    if (!rc)
        rc = bkp_copy_records(src, dst, gens, n, &res->copy);
    if (!rc)
        rc = bucket_list(s, GENS_PREFIX, &have);
    for (size_t i = 0; !rc && i < n; i++)
        rc = put_manifest(src, s, gens[i], manifests[i], &have, repo, mode, until[i]);
    for (size_t i = 0; !rc && i < n; i++) {
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first &= strcmp(gens[k]->dataset, gens[i]->dataset) != 0;
        char sub[512];
        snprintf(sub, sizeof(sub), "generations/%s", gens[i]->dataset);
        char *dir = first ? bkp_path_join(repo, sub) : NULL;
        if (first)
            rc = dir ? upload_records(s, dir, gens[i]->dataset, &have, &forced, gens, until, n,
                                      mode, floor)
                     : -ENOMEM;
        free(dir);
    }
    /* The audit copy: the latest the bucket holds must be a prefix of the
     * host's log (bkp_copy_audit); a new version when it changed or was not
     * in front. */
    if (!rc)
        rc = read_or_empty(audit, &before, bkp_copy_member_max(BKP_AUDIT_COPY));
    if (!rc)
        rc = bkp_copy_audit(src, dst);
    if (!rc)
        rc = read_or_empty(audit, &after, bkp_copy_member_max(BKP_AUDIT_COPY));
    if (!rc &&
        (audit_front || before.len != after.len || memcmp(before.data, after.data, after.len)))
        rc = bkp_s3_put(s, BKP_BUCKET_REPO BKP_AUDIT_COPY, -1, after.data, after.len, mode, floor,
                        NULL);
    bkp_buf_free(&before);
    bkp_buf_free(&after);
    bucket_listing_free(&have);
    bucket_listing_free(&forced);
    bkp_repo_free(dst);
    free(repo);
    free(audit);
    return rc;
}

int bkp_bucket_copy(bkp_repo *src, bkp_s3 *s, bkp_gen *const *gens, const time_t *until, size_t n,
                    bkp_s3_lock mode, time_t floor, const char *tmpdir, bkp_bucket_result *res)
{
    pack_set p = {0};
    memset(res, 0, sizeof(*res));
    res->until = floor;
    for (size_t i = 0; i < n; i++)
        res->until = until[i] > res->until ? until[i] : res->until;
    int rc = needed(src, gens, until, n, &p);
    /* Records only once every pack they need is in the bucket and locked. */
    if (!rc)
        rc = copy_packs(src, s, &p, mode, res);
    if (!rc)
        rc = copy_rest(src, s, gens, until, n, p.lists, mode, floor, tmpdir, res);
    for (size_t i = 0; p.lists && i < n; i++)
        json_decref(p.lists[i]);
    free(p.lists);
    free(p.v);
    return rc;
}

static int add_size(const bkp_s3_object *o, void *ctx)
{
    *(uint64_t *)ctx += o->delete_marker ? 0 : o->size;
    return 0;
}

int bkp_bucket_bytes(bkp_s3 *s, uint64_t *bytes)
{
    *bytes = 0;
    return bkp_s3_list_versions(s, "", add_size, bytes);
}
