/* bucket_fetch.c — a copy fetched back from an Object Lock bucket (bucket.h),
 * and the repair of a pack there. */
#include "bkp/media/bucket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/media/bucket_internal.h"
#include "bkp/media/copy.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"
#include "bkp/store/config.h"
#include "bkp/keys/key_slots.h"
#include "bkp/media/label.h"

/* ---- fetching a copy ---- */

/* The versions under `prefix`, newest first within each key (as S3 lists
 * them). Deleting an object under Object Lock only puts a delete marker in
 * front of it, and anyone holding the credentials may: the readers below
 * look past markers to the newest real version, and say so. */
/* A listing that names more versions than this is no copy bkp wrote (a
 * million packs is terabytes): refused before it costs gigabytes. */
#define LISTING_MAX 1000000

typedef struct bounded {
    bucket_versions *out;
    size_t of_key; /* versions of the last key kept */
    uint64_t seen, dropped;
} bounded;

/* Keep at most BKP_BUCKET_TRIES versions of each key, and of the delete
 * markers only one in front (it says the object was hidden): the readers
 * try no more, and a server may list any number. Those left out are said:
 * someone added them. (The audit log's copy, which every rotation writes
 * anew, is read by a rule of its own: bucket_audit.c.) */
static int take_bounded(const bkp_s3_object *o, void *ctx)
{
    bounded *b = ctx;
    bucket_versions *vs = b->out;
    bool same = vs->n && !strcmp(vs->v[vs->n - 1].key, o->key);
    if (++b->seen > LISTING_MAX) {
        bkp_error(_("the bucket lists more than %d versions under one prefix: no copy bkp writes "
                    "has so many; the bucket (or the server) is not what the policy says"),
                  LISTING_MAX);
        return -EFBIG;
    }
    if (!same)
        b->of_key = 0;
    if (o->delete_marker && same)
        return 0;
    if (!o->delete_marker && ++b->of_key > BKP_BUCKET_TRIES) {
        b->dropped++;
        return 0;
    }
    return bucket_take_any_version(o, vs);
}

static int versions_under(bkp_s3 *s, const char *prefix, bucket_versions *out)
{
    memset(out, 0, sizeof(*out));
    bounded b = {.out = out};
    int rc = bkp_s3_list_versions(s, prefix, take_bounded, &b);
    if (!rc && b.dropped)
        bkp_warn(_("the bucket lists %llu more version(s) under %s than bkp ever tries (%d of each "
                   "object); they were left out. Someone holding the credentials added them"),
                 (unsigned long long)b.dropped, prefix, BKP_BUCKET_TRIES);
    if (rc) {
        free(out->v);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

/* The end of the group of versions of the key at `i`. */
static size_t group_end(const bucket_versions *vs, size_t i)
{
    size_t j = i;
    while (j < vs->n && !strcmp(vs->v[j].key, vs->v[i].key))
        j++;
    return j;
}

/* The serial of the list of key slots signed by `t`'s repository that
 * `data` is, or 0 when it is none (or one of format 1, which has none). */
static uint64_t key_list_serial(const bkp_bucket_trust *t, const void *data, size_t len)
{
    bkp_key_slots *slots = malloc(sizeof(*slots));
    bool ours = slots && !bkp_key_slots_read(data, len, t->pk, t->rid, slots);
    uint64_t serial = ours ? slots->serial : 0;
    free(slots);
    return serial;
}

/* The versions of keys/key passed over before the one that took the
 * passphrase: how many were this repository's lists, each older one's
 * serial below the newer's (`ordered`), and the lowest serial of them. */
typedef struct newer_lists {
    size_t n;
    bool ordered;
    uint64_t lowest;
} newer_lists;

/* Into `path`, the newest of the versions `v` of `key` (repository file
 * `rel`) that verifies under `t`, of at most BKP_BUCKET_TRIES tried: 0 with
 * `*taken` its index, -EBADMSG when none does, or the error that stopped
 * the fetch. Each version passed over is said. */
static int take_newest(bkp_s3 *s, const bkp_bucket_trust *t, const char *rel,
                       const bucket_version *v, size_t n, uint64_t max, const char *path,
                       size_t *taken, newer_lists *nl)
{
    const char *key = v[0].key;
    int rc = -EBADMSG;
    for (size_t k = 0, tried = 0; rc == -EBADMSG && k < n && tried < BKP_BUCKET_TRIES; k++) {
        if (v[k].marker)
            continue;
        if (v[k].size > max) {
            /* Planted, not ours: left out, so that it cannot stop a
             * restore (what it stands for, if anything, is then missing). */
            bkp_error(_("the bucket's %s (version %s) is larger than any such file (%llu bytes): "
                        "it was not written by bkp and is left out; find out who wrote it"),
                      key, v[k].id, (unsigned long long)v[k].size);
            continue;
        }
        tried++;
        bkp_buf b;
        bkp_buf_init(&b);
        unlink(path);
        if (!(rc = bucket_get_to(s, key, v[k].id, path, max)))
            rc = bkp_read_file(path, &b, max);
        if (bucket_version_unusable(rc))
            rc = -EBADMSG; /* gone since the listing, larger than it said, unreadable: not ours */
        else if (!rc && !bkp_bucket_verifies(t, rel, b.data, b.len)) {
            rc = -EBADMSG;
            uint64_t serial =
                t->key_file && !strcmp(rel, "keys/key") ? key_list_serial(t, b.data, b.len) : 0;
            if (serial) { /* ours, maybe written after the passphrase changed: said after */
                nl->ordered &= !nl->n || serial < nl->lowest;
                nl->lowest = serial;
                nl->n++;
            } else if (t->key_file && !strcmp(rel, "keys/key"))
                bkp_warn(_("the bucket's %s (version %s) is not the key file that takes this "
                           "passphrase, nor a list of this repository's key slots: put in front "
                           "by someone; an older version is tried"),
                         key, v[k].id);
            else
                bkp_warn(_("the bucket's %s (version %s) does not verify under the repository's "
                           "key: forged, damaged or another repository's; an older version is "
                           "tried"),
                         key, v[k].id);
        }
        *taken = k;
        bkp_buf_free(&b);
    }
    return rc;
}

/* Note `rel` among the objects whose current version is not ours. */
static int note_hidden(bkp_bucket_fetch *f, const char *rel)
{
    void *h = f ? realloc(f->hidden, (f->nhidden + 1) * sizeof(*f->hidden)) : NULL;
    if (f && !h)
        return -ENOMEM;
    if (f)
        snprintf((f->hidden = h)[f->nhidden++], sizeof(*f->hidden), "%s", rel);
    return 0;
}

/* Fetch one small object (a group of versions, newest first): the newest
 * version that verifies (take_newest). One that is not the current version
 * is reported as hidden. */
static int fetch_small(bkp_s3 *s, const char *dir, const bucket_version *v, size_t n,
                       const bkp_bucket_trust *t, bkp_bucket_fetch *f)
{
    uint64_t max;
    const char *key = v[0].key, *rel = bucket_rel_of(key, &max);
    if (!rel || !strncmp(rel, "packs/", 6) || !strncmp(rel, "index/", 6))
        return 0;
    char *path = rel == key ? bkp_path_join(dir, rel) : NULL, *repo = NULL;
    if (rel != key && (repo = bkp_path_join(dir, "repo")))
        path = bkp_path_join(repo, rel);
    size_t taken = 0;
    newer_lists nl = {.ordered = true};
    int rc = path ? take_newest(s, t, rel, v, n, max, path, &taken, &nl) : -ENOMEM;
    bool label = !strcmp(rel, LABEL_KEY);
    if (rc == -EBADMSG && label && t->registered &&
        bkp_label_ours(t->registered, t->registered, t->pk, t->id)) {
        /* Beside the registry, the label is known: the copy is given the
         * registered one, and the bucket reported for hiding it. */
        bkp_warn(_("the bucket's %s: none of its newest %d versions is the registered label "
                   "(more were put in front of it); the registered label is used. Someone "
                   "holding the credentials did it: find out who, then `bkp rotate` puts it back "
                   "in front"),
                 key, BKP_BUCKET_TRIES);
        size_t len = 0;
        char *text = bkp_label_text(t->registered, &len);
        rc = text ? bkp_durable_write(dir, LABEL_KEY, text, len, 0) : -ENOMEM;
        taken = n; /* hidden */
        free(text);
    }
    if (!rc && taken > 0 && nl.n == taken && nl.ordered && t->key_file &&
        nl.lowest > key_list_serial(t, t->key_file, t->key_len)) {
        /* Every newer version is this repository's own list, each newer
         * than the one before it: no one hid anything (a list put back in
         * front would break the order), the passphrase given is one
         * changed or removed since. */
        bkp_warn(_("the passphrase given opens only an older version of the bucket's %s (%s): "
                   "it was changed or removed on the server since. The bucket keeps that version "
                   "under its lock, and with it every generation in the bucket opens (operator "
                   "guide, section 12)"),
                 key, v[taken].id);
        taken = 0;
    }
    if (!rc && taken > 0)
        rc = note_hidden(f, rel);
    if (!rc && taken > 0 && taken < n)
        bkp_warn(_("the bucket's %s is hidden by a delete marker or a newer version that is not "
                   "ours; its version %s is used. Someone holding the credentials did it: find "
                   "out who, then `bkp rotate` puts the repository's back in front"),
                 key, v[taken].id);
    if (rc == -EBADMSG) {
        /* Left out, and counted as hidden: what it stands for is missing
         * from this copy (a restore of a generation it names fails). */
        unlink(path);
        bkp_error(_("the bucket's %s: none of its newest versions verifies under the repository's "
                    "key (forged, or more than %d put in front of ours); it is left out, and what "
                    "needs it cannot be restored from this medium"),
                  key, BKP_BUCKET_TRIES);
        rc = note_hidden(f, rel);
    } else if (rc && rc != -ENOMEM) {
        bkp_error(_("cannot fetch %s from the bucket into %s: %s"), key, path, bkp_strerror(rc));
    }
    free(repo);
    free(path);
    return rc;
}

/* The audit log's copy, by its own rule (bkp_bucket_fetch_audit): counted
 * as hidden when someone put anything there, and left out when no version
 * checks. */
static int fetch_audit(bkp_s3 *s, const char *repo, const bkp_bucket_trust *t, bkp_bucket_fetch *f)
{
    bkp_buf log;
    bkp_bucket_audit a;
    char *dir = bkp_path_join(repo, "audit");
    int rc = dir ? bkp_bucket_fetch_audit(s, t->pk, &log, &a) : -ENOMEM;
    if (rc == -ENOENT) {
        rc = 0; /* no rotation left one yet */
    } else if (rc == -EBADMSG) {
        rc = note_hidden(f, BKP_AUDIT_COPY);
    } else if (!rc) {
        bkp_bucket_audit_say(&a);
        if (bkp_bucket_audit_tampered(&a))
            rc = note_hidden(f, BKP_AUDIT_COPY);
        if (!rc)
            rc = bkp_mkdir_p(dir, 0700);
        if (!rc)
            rc = bkp_durable_write(dir, strrchr(BKP_AUDIT_COPY, '/') + 1, log.data, log.len,
                                   BKP_DURABLE_PRIVATE);
        if (rc && rc != -ENOMEM)
            bkp_error(_("cannot write the audit log's copy into %s: %s"), dir, bkp_strerror(rc));
        bkp_buf_free(&log);
    }
    free(dir);
    return rc;
}

int bkp_bucket_fetch_meta(bkp_s3 *s, const char *dir, const bkp_bucket_trust *t,
                          bkp_bucket_fetch *f)
{
    static const char *const prefixes[] = {LABEL_KEY, BKP_BUCKET_REPO "config",
                                           BKP_BUCKET_REPO "keys/", GENS_PREFIX};
    int rc = 0;
    for (size_t p = 0; !rc && p < sizeof(prefixes) / sizeof(*prefixes); p++) {
        bucket_versions vs;
        if ((rc = versions_under(s, prefixes[p], &vs)))
            break;
        for (size_t i = 0; !rc && i < vs.n;) {
            size_t j = group_end(&vs, i);
            rc = fetch_small(s, dir, vs.v + i, j - i, t, f);
            i = j;
        }
        free(vs.v);
    }
    char *repo = rc ? NULL : bkp_path_join(dir, "repo");
    if (!rc)
        rc = repo ? bkp_repo_make_folders(repo) : -ENOMEM;
    if (!rc)
        rc = fetch_audit(s, repo, t, f);
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
    if (bucket_version_unusable(rc) && rc != -EFBIG)
        rc = -EBADMSG; /* that version's fault: an older one is tried */
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

/* Pack `id` from its versions v[0..n) (newest first) into `to`: the newest
 * real version that checks; `*used` names it when it is not the newest. */
static int fetch_pack(bkp_s3 *s, bkp_repo *copy, const bucket_version *v, size_t n,
                      const uint8_t id[BKP_ID_LEN], const char *to, uint64_t *bytes,
                      const char **used)
{
    char *tmp = NULL;
    const char *key = v[0].key;
    size_t tried = 0;
    int rc = -EBADMSG;
    *used = NULL;
    if (asprintf(&tmp, "%s.fetch", to) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n && tried < BKP_BUCKET_TRIES && (rc == -EBADMSG || rc == -EFBIG); i++) {
        if (v[i].marker || v[i].size > BKP_PACK_MAX)
            continue;
        tried++;
        rc = fetch_one(s, copy, key, v[i].id, tmp, id, bytes);
        if (!rc && i > 0) {
            *used = v[i].id;
            bkp_warn(_("%s: its current version in the bucket is damaged, forged or deleted; the "
                       "older version %s is used. Repair the bucket: bkp verify --media NAME "
                       "--repair-from ANOTHER"),
                     key, v[i].id);
        }
    }
    if (rc == -EFBIG)
        rc = -EBADMSG;
    if (!rc)
        rc = bkp_durable_rename(tmp, to, 0);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Is the pack at `key` one of `want` (all are when NULL)? */
static bool wanted(const char *key, const bkp_bucket_packset *want)
{
    const char *hex = strrchr(key, '/');
    return !want ||
           (hex && strlen(hex + 1) == 2 * BKP_ID_LEN && bkp_bucket_packset_has(want, hex + 1));
}

void bkp_bucket_fetch_clear(bkp_bucket_fetch *f)
{
    free(f->bad);
    free(f->bad_version);
    free(f->hidden);
    memset(f, 0, sizeof(*f));
}

int bkp_bucket_fetch_packs(bkp_s3 *s, bkp_repo *copy, const bkp_bucket_packset *want,
                           bkp_bucket_fetch *f)
{
    bucket_versions vs = {0};
    char *dir = bkp_repo_subpath(copy, "packs");
    int rc = dir ? versions_under(s, PACKS_PREFIX, &vs) : -ENOMEM;
    size_t npacks = 0, done = 0;
    for (size_t i = 0; i < vs.n; i = group_end(&vs, i))
        npacks += wanted(vs.v[i].key, want);
    /* The damaged ones go after the stale ones: collected apart first. */
    bkp_bucket_fetch dmg = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0, j; !rc && i < vs.n; i = j) {
        uint64_t max;
        j = group_end(&vs, i);
        const char *key = vs.v[i].key, *rel = bucket_rel_of(key, &max), *used = NULL;
        uint8_t id[BKP_ID_LEN];
        if (!rel || !wanted(key, want) || bkp_unhex(id, BKP_ID_LEN, rel + 9))
            continue;
        char *to = bkp_pack_path(dir, id), *sub = to ? strdup(to) : NULL;
        char *slash = sub ? strrchr(sub, '/') : NULL;
        bkp_progress_meter(_("fetching from the bucket"), done++, npacks, "packs", f->bytes, &t0);
        rc = !slash ? -ENOMEM : (*slash = '\0', bkp_mkdir_p(sub, 0700));
        if (!rc && access(to, F_OK) != 0) {
            int x = fetch_pack(s, copy, vs.v + i, j - i, id, to, &f->bytes, &used);
            if (x == -EBADMSG) {
                bkp_error(_("%s: no version of it in the bucket is the pack it names; the "
                            "generations that need it cannot be restored from this medium. Run "
                            "`bkp verify --media NAME --repair-from ANOTHER`"),
                          key);
                rc = note_bad(&dmg, id, NULL);
                dmg.ndamaged++;
            } else if (!x) {
                f->packs++;
                if ((used || vs.v[i].marker) && !(rc = note_bad(f, id, used ? used : vs.v[i].id)))
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
    free(dir);
    return rc ? rc : bkp_repo_reload(copy);
}

int bkp_bucket_put_pack(bkp_s3 *s, bkp_repo *src, const uint8_t id[BKP_ID_LEN], const char *keep,
                        bkp_s3_lock mode, time_t until, uint64_t *bytes)
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
        bkp_error(_("pack %s is damaged in %s too; repair from another copy"), hex,
                  bkp_repo_path(src));
    else if (rc == -ENOENT)
        bkp_error(_("pack %s is not in %s (a medium holds only the generations rotated to it); "
                    "repair from a copy that holds it: another medium, or the primary with "
                    "--repair-from REPOSITORY_PATH"),
                  hex, bkp_repo_path(src));
    else if (rc)
        bkp_error(_("pack %s: %s: %s"), hex, path ? path : "?", bkp_strerror(rc));
    if (!rc)
        rc = bkp_s3_put(s, key, -1, b.data, b.len, mode, until, NULL);
    if (!rc && bytes)
        *bytes += b.len;
    free(ents);
    bkp_buf_free(&b);
    free(path);
    free(dir);
    return rc;
}

int bkp_bucket_put_file(bkp_s3 *s, bkp_repo *src, const char *rel, bkp_s3_lock mode, time_t until)
{
    char key[64];
    char *path = bkp_repo_subpath(src, rel);
    snprintf(key, sizeof(key), BKP_BUCKET_REPO "%s", rel);
    int rc =
        path ? bucket_put_file(s, key, path, bkp_copy_member_max(rel), mode, until, NULL) : -ENOMEM;
    free(path);
    return rc;
}
