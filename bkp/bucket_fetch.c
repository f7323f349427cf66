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
#include <uuid/uuid.h>

#include "bkp/bucket_internal.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/envelope.h"
#include "bkp/generation.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/pack.h"
#include "bkp/config.h"
#include "bkp/keyslots.h"
#include "bkp/medium.h"

/* ---- fetching a copy ---- */

/* At most this many versions of one object are tried: each is up to a
 * pack's size, and anyone with the credentials can add versions. */
#define PACK_TRIES 8

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

/* Keep at most PACK_TRIES versions (and markers) of each key: the readers
 * try no more, and a server may list any number. */
static int take_bounded(const bkp_s3_object *o, void *ctx)
{
    bounded *b = ctx;
    bucket_versions *vs = b->out;
    if (++b->seen > LISTING_MAX) {
        bkp_error(_("the bucket lists more than %d versions under one prefix: no copy bkp writes "
                    "has so many; the bucket (or the server) is not what the policy says"),
                  LISTING_MAX);
        return -EFBIG;
    }
    if (vs->n && !strcmp(vs->v[vs->n - 1].key, o->key)) {
        if (++b->of_key > PACK_TRIES + 1) {
            b->dropped++;
            return 0;
        }
    } else {
        b->of_key = 1;
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
                 (unsigned long long)b.dropped, prefix, PACK_TRIES);
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

/* The config fetched into the copy at `dir`: 0, or -EBADMSG. The key
 * file and every record are taken only when this config's key signed them:
 * never what another config the bucket holds signed (one put in front, or
 * kept beside as config-older-N), which would let a version signed by a
 * planted key push a genuine one out. */
static int fetched_config(const char *dir, bkp_config *cfg)
{
    char *cp = bkp_path_join(dir, "repo/config");
    int rc = cp ? bkp_config_read(cp, cfg, NULL) : -ENOMEM;
    free(cp);
    return rc;
}

/* Is the record file `rel` ("generations/DS/SEQ.EXT"), of bytes `b`, one
 * the copy's config signed, of its kind, for that data set and sequence?
 * A version put in front of ours — another record of ours replayed under
 * this name (a rollback), or garbage — is not: an older one is tried. */
static int valid_record(const char *dir, const char *rel, const bkp_buf *b)
{
    static const struct {
        const char *ext, *magic;
    } kinds[] = {{".gen", BKP_GEN_MAGIC},
                 {".pruned", "BKPPRN01"},
                 {".cleared", "BKPCLR01"},
                 {".packs", MANIFEST_MAGIC}};
    char ds[256];
    unsigned seq = 0;
    int end = 0;
    const char *name = strrchr(rel, '/');
    if (!name || name - rel - 12 <= 0 || (size_t)(name - rel - 12) >= sizeof(ds) ||
        sscanf(name + 1, "%10u%n", &seq, &end) != 1 || end != 10)
        return -EBADMSG;
    memcpy(ds, rel + 12, (size_t)(name - rel - 12));
    ds[name - rel - 12] = '\0';
    const char *magic = NULL;
    bool record = false;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
        if (!strcmp(name + 11, kinds[i].ext))
            magic = kinds[i].magic, record = i == 0;
    bkp_config cfg;
    const uint8_t *text;
    size_t tlen;
    int rc = magic ? fetched_config(dir, &cfg) : -EBADMSG;
    if (!rc)
        rc = bkp_envelope_open(cfg.sign_pk, magic, b->data, b->len, &text, &tlen);
    json_t *j = rc ? NULL : json_loadb((const char *)text, tlen, JSON_REJECT_DUPLICATES, NULL);
    const char *jds = json_string_value(json_object_get(j, "dataset"));
    json_t *jseq = json_object_get(j, "seq");
    if (!rc && (!jds || strcmp(jds, ds) || !json_is_integer(jseq) ||
                json_integer_value(jseq) != (json_int_t)seq))
        rc = -EBADMSG;
    if (!rc && record) {
        bkp_gen *g = calloc(1, sizeof(*g));
        rc = !g ? -ENOMEM : bkp_gen_record_parse(text, tlen, cfg.id, g) ? -EBADMSG : 0;
        bkp_gen_free(g);
    }
    json_decref(j);
    return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

/* Is the fetched file `path` (repository file `rel`, the copy at `dir`) of
 * its kind? The label (the one `wanted` names, when it names one); the
 * config, of the repository the label names; the key file, signed by the
 * config's key; each record file, signed by it and named for what it says
 * (valid_record). 0, or -EBADMSG. */
static int valid(const char *dir, const char *rel, const char *path, const bkp_bucket_fetch *wanted)
{
    bkp_buf b, c;
    bkp_config cfg;
    const char *why = NULL;
    uuid_t id;
    json_t *label = NULL;
    bkp_buf_init(&b);
    bkp_buf_init(&c);
    int rc = bkp_read_file(path, &b, bkp_copy_member_max(rel));
    if (!rc && !strcmp(rel, LABEL_KEY)) {
        rc = bkp_label_parse(b.data, b.len, &label);
        if (!rc && wanted && wanted->label_uuid &&
            !bucket_label_is(label, wanted->label_uuid, wanted->label_repository))
            rc = -EBADMSG;
        json_decref(label);
    } else if (!rc && !strcmp(rel, "config")) {
        /* Of the labelled repository: another repository's config and key
         * file, which sign each other, put in front, must not be taken. */
        char *lp = bkp_path_join(dir, LABEL_KEY);
        rc = lp ? bkp_read_file(lp, &c, BKP_LABEL_MAX) : -ENOMEM;
        if (!rc && !(rc = bkp_label_parse(c.data, c.len, &label)) &&
            !(rc = bkp_config_parse(b.data, b.len, &cfg, &why) ? -EBADMSG : 0)) {
            const char *want = json_string_value(json_object_get(label, "repository"));
            rc = want && !strcmp(want, cfg.id) ? 0 : -EBADMSG;
        }
        json_decref(label);
        free(lp);
    } else if (!rc && !strncmp(rel, "generations/", 12)) {
        rc = valid_record(dir, rel, &b);
    } else if (!rc && !strcmp(rel, "keys/key")) {
        /* Signed by the config's key and naming its repository. */
        bkp_key_slots *slots = malloc(sizeof(*slots));
        rc = slots ? fetched_config(dir, &cfg) : -ENOMEM;
        if (!rc && uuid_parse(cfg.id, id))
            rc = -EBADMSG;
        if (!rc)
            rc = bkp_key_slots_read(b.data, b.len, cfg.sign_pk, id, slots) ? -EBADMSG : 0;
        free(slots);
    }
    bkp_buf_free(&b);
    bkp_buf_free(&c);
    return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

/* Is the file at `path` a config (of any repository)? 0, -ENOMEM, or
 * -EBADMSG. */
static int config_parses(const char *path)
{
    bkp_config cfg;
    int rc = bkp_config_read(path, &cfg, NULL);
    return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

/* Is the file at `path` a config, the one `f` is pinned to? 0, -ENOMEM, or
 * -EBADMSG. */
static int pinned(const char *path, const bkp_bucket_fetch *f)
{
    bkp_config cfg;
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = bkp_config_read(path, &cfg, &b);
    if (!rc && (b.len != f->config_pin_len || memcmp(b.data, f->config_pin, b.len)))
        rc = -EBADMSG;
    bkp_buf_free(&b);
    return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

/* The key file and the config: the versions from `v[k]` on that are of
 * their kind too, beside the copy as key-older-N and config-older-N, for an
 * open the newest does not serve (a key file from before `bkp key passwd`
 * replayed in front; a config edited, put back in an older format, or
 * naming another key). A config whatever repository the label names: the
 * label is not signed, and one put in front must not hide ours (the open
 * decides which config is the repository's). 0 or -ENOMEM. */
static int keep_older(bkp_s3 *s, const char *dir, const char *rel, const bucket_version *v,
                      size_t n, size_t k, uint64_t max)
{
    const char *as = !strcmp(rel, "keys/key") ? "key-older"
                     : !strcmp(rel, "config") ? "config-older"
                                              : NULL;
    for (size_t m = 0; as && k < n && m < BKP_BUCKET_OLDER; k++) {
        char name[32];
        if (v[k].marker || v[k].size > max)
            continue;
        snprintf(name, sizeof(name), "%s-%zu", as, ++m);
        char *older = bkp_path_join(dir, name);
        if (!older)
            return -ENOMEM;
        unlink(older);
        int x = bucket_get_to(s, v[k].key, v[k].id, older, max);
        if (!x)
            x = !strcmp(rel, "config") ? config_parses(older) : valid(dir, rel, older, NULL);
        if (x) {
            unlink(older);
            m--;
        }
        free(older);
    }
    return 0;
}

/* Into `path`, the newest of the versions `v` of `key` (repository file
 * `rel`) that is of its kind (valid(), `want` for the label; pinned() for a
 * pinned config, every version then looked at: config-older-N may be the
 * last one kept; else at most PACK_TRIES tried): 0 with `*taken` its index,
 * -EBADMSG when none is, or the error that stopped the fetch. */
static int take_newest(bkp_s3 *s, const char *dir, const char *rel, const bucket_version *v,
                       size_t n, uint64_t max, const char *path, const bkp_bucket_fetch *f,
                       const bkp_bucket_fetch *want, bool say, size_t *taken)
{
    const char *key = v[0].key;
    bool pin = f && f->config_pin && !strcmp(rel, "config");
    int rc = -EBADMSG;
    for (size_t k = 0, tried = 0; rc == -EBADMSG && k < n && (pin || tried < PACK_TRIES); k++) {
        if (v[k].marker)
            continue;
        if (v[k].size > max) {
            /* Planted, not ours: left out, so that it cannot stop a
             * restore (what it stands for, if anything, is then missing). */
            if (say)
                bkp_error(
                    _("the bucket's %s (version %s) is larger than any such file (%llu bytes): "
                      "it was not written by bkp and is left out; find out who wrote it"),
                    key, v[k].id, (unsigned long long)v[k].size);
            continue;
        }
        tried++;
        unlink(path);
        if ((rc = bucket_get_to(s, key, v[k].id, path, max)))
            break;
        *taken = k;
        /* Pinned, the bytes decide, not the label (which is not signed). */
        rc = pin ? pinned(path, f) : valid(dir, rel, path, want);
        if (rc != -EBADMSG || !say)
            continue;
        if (want && want->label_uuid && !strcmp(rel, LABEL_KEY) && valid(dir, rel, path, NULL) == 0)
            bkp_warn(_("the bucket's %s (version %s) is not the label registered for this "
                       "repository (%s): put in front by someone; an older version is tried"),
                     key, v[k].id, want->label_uuid);
        else
            bkp_warn(_("the bucket's %s (version %s) is not a bkp %s: forged or damaged; an older "
                       "version is tried"),
                     key, v[k].id, rel);
    }
    return rc;
}

/* Fetch one small object (a group of versions, newest first): the newest
 * real version, or for the label, config and key file the newest that is
 * of its kind (take_newest). One that is not the current version is
 * reported as hidden, and so is a label that is not the registered one. */
static int fetch_small(bkp_s3 *s, const char *dir, const bucket_version *v, size_t n,
                       bkp_bucket_fetch *f)
{
    uint64_t max;
    const char *key = v[0].key, *rel = bucket_rel_of(key, &max);
    if (!rel || !strncmp(rel, "packs/", 6) || !strncmp(rel, "index/", 6))
        return 0;
    char *path = rel == key ? bkp_path_join(dir, rel) : NULL, *repo = NULL;
    if (rel != key && (repo = bkp_path_join(dir, "repo")))
        path = bkp_path_join(repo, rel);
    bool pin = f && f->config_pin && !strcmp(rel, "config");
    bool want = f && f->label_uuid && !strcmp(rel, LABEL_KEY), unwanted = false;
    size_t taken = 0;
    const char *hidden = NULL; /* the version taken, when not the current one */
    int rc = path ? take_newest(s, dir, rel, v, n, max, path, f, f, true, &taken) : -ENOMEM;
    if (!rc && taken > 0)
        hidden = v[taken].id;
    if (rc == -EBADMSG && want && f->label_version) {
        /* Not among the versions listed (more were put in front): the one
         * the registry noted when it was labelled, which no one can delete
         * (each rotation extends its lock). */
        unlink(path);
        rc = bucket_get_to(s, key, f->label_version, path, max);
        if (!rc)
            rc = valid(dir, rel, path, f);
        else if (rc == -ENOENT || rc == -EINVAL || rc == -EFBIG)
            rc = -EBADMSG;
        if (!rc)
            hidden = f->label_version;
    }
    if (rc == -EBADMSG && want) {
        /* The registered label is not among them: the newest label, for
         * what it says, and the bucket reported (once: the same versions
         * were said above). */
        rc = take_newest(s, dir, rel, v, n, max, path, f, NULL, false, &taken);
        unwanted = rc == 0;
    }
    if (!rc && (hidden || unwanted) && f) {
        void *h = realloc(f->hidden, (f->nhidden + 1) * sizeof(*f->hidden));
        if (!h)
            rc = -ENOMEM;
        else
            snprintf((f->hidden = h)[f->nhidden++], sizeof(*f->hidden), "%s", rel);
    }
    if (!rc && unwanted)
        bkp_warn(_("the bucket's %s is not the label registered for this repository (%s), nor "
                   "is any of its newest versions or the version the registry noted; the newest "
                   "is used. Find out who changed it, then label the bucket again: bkp media "
                   "label --name NAME --force"),
                 key, f->label_uuid);
    else if (!rc && hidden)
        bkp_warn(_("the bucket's %s is hidden by a delete marker or a newer version that is not "
                   "ours; its version %s is used. Someone holding the credentials did it: find "
                   "out who, then `bkp rotate` puts the repository's back in front"),
                 key, hidden);
    /* Pinned, the older configs are not needed again; with no config of
     * the labelled repository, every config is kept for the open to try. */
    if (!pin && (!rc || (rc == -EBADMSG && !strcmp(rel, "config")))) {
        int x = keep_older(s, dir, rel, v, n, rc ? 0 : taken + 1, max);
        rc = x ? x : rc;
    }
    if (rc == -EBADMSG) {
        unlink(path);
        rc = 0; /* none that is ours: left out, and said above */
    } else if (rc && rc != -ENOMEM) {
        bkp_error(_("cannot fetch %s from the bucket into %s: %s"), key, path, bkp_strerror(rc));
    }
    free(repo);
    free(path);
    return rc;
}

int bkp_bucket_fetch_meta(bkp_s3 *s, const char *dir, bkp_bucket_fetch *f)
{
    static const char *const prefixes[] = {LABEL_KEY, BKP_BUCKET_REPO "config",
                                           BKP_BUCKET_REPO "keys/", GENS_PREFIX,
                                           BKP_BUCKET_REPO "audit/"};
    int rc = 0;
    for (size_t p = 0; !rc && p < sizeof(prefixes) / sizeof(*prefixes); p++) {
        bucket_versions vs;
        if ((rc = versions_under(s, prefixes[p], &vs)))
            break;
        for (size_t i = 0; !rc && i < vs.n;) {
            size_t j = group_end(&vs, i);
            rc = fetch_small(s, dir, vs.v + i, j - i, f);
            i = j;
        }
        free(vs.v);
    }
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
    for (size_t i = 0; i < n && tried < PACK_TRIES && (rc == -EBADMSG || rc == -EFBIG); i++) {
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
    const char *uuid = f->label_uuid, *repository = f->label_repository,
               *version = f->label_version;
    free(f->bad);
    free(f->bad_version);
    free(f->hidden);
    memset(f, 0, sizeof(*f));
    f->label_uuid = uuid;
    f->label_repository = repository;
    f->label_version = version;
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
