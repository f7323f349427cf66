/* bucket_label.c — the label of a bucket (bucket.h): reading it, also from
 * behind whatever was put in front of it, and writing it; and the probe that
 * proves the bucket's lock. */
#include "bkp/media/bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/media/bucket_internal.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

int bucket_take_few(const bkp_s3_object *o, void *ctx)
{
    bucket_few *l = ctx;
    if (strcmp(o->key, l->key) || o->delete_marker || !o->version_id[0])
        return 0;
    memcpy(l->v[l->n++], o->version_id, sizeof(l->v[0]));
    return l->n == BUCKET_FEW ? 1 : 0; /* enough: stop the listing */
}

/* ---- the label ---- */

int bkp_bucket_read_label(bkp_s3 *s, bkp_label *out)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = bkp_s3_get(s, LABEL_KEY, NULL, BKP_LABEL_MAX, &buf, &len);
    if (!rc && (rc = bkp_label_parse(buf, len, out)))
        bkp_error(_("the bucket's %s is not a bkp label; if the bucket is meant for bkp, label it "
                    "with `bkp media label --name NAME --force`"),
                  LABEL_KEY);
    free(buf);
    return rc;
}

/* Version `version` (NULL: the current one) of the label, when it is ours
 * (bkp_label_ours): 0 with `*out`; else non-zero, nothing logged. */
static int label_version(bkp_s3 *s, const char *version, const bkp_label *registered,
                         const uint8_t pk[32], const char *repository, bkp_label *out)
{
    void *buf = NULL;
    size_t len = 0;
    bkp_label l;
    int rc = bkp_s3_get(s, LABEL_KEY, version, BKP_LABEL_MAX, &buf, &len);
    if (!rc && !(rc = bkp_label_parse(buf, len, &l)) &&
        !bkp_label_ours(&l, registered, pk, repository))
        rc = -ESRCH;
    free(buf);
    if (!rc)
        *out = l;
    return rc;
}

int bkp_bucket_find_label(bkp_s3 *s, const bkp_label *registered, const uint8_t pk[32],
                          const char *repository, const char *version, bkp_label *out,
                          bool *behind)
{
    bucket_few lv = {.key = LABEL_KEY};
    *behind = false;
    int rc = label_version(s, NULL, registered, pk, repository, out);
    /* Not ours (absent, hidden, another label, not a label) is looked
     * behind; the bucket failing to answer is the caller's to report. */
    if (rc != -ENOENT && rc != -ESRCH && rc != -EBADMSG && rc != -EINVAL && rc != -EFBIG)
        return rc;
    /* The version noted when it was labelled, however many are in front. */
    if (version && label_version(s, version, registered, pk, repository, out) == 0) {
        *behind = true;
        return 0;
    }
    /* A delete marker, or another version, put in front of ours (a DELETE
     * is allowed under any lock): ours is still there, locked, behind. */
    rc = bkp_s3_list_versions(s, LABEL_KEY, bucket_take_few, &lv);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < lv.n; i++)
        if (label_version(s, lv.v[i], registered, pk, repository, out) == 0) {
            *behind = true;
            return 0;
        }
    return -ENOENT;
}

int bkp_bucket_label(bkp_repo *r, bkp_s3 *s, const bkp_label *label, bkp_s3_lock mode,
                     time_t until, bool force, bool ours_behind,
                     char version[BKP_S3_VERSION_MAX + 1])
{
    bkp_s3_bucket_info info;
    bkp_label old;
    int rc = bkp_s3_bucket_check(s, &info);
    if (rc)
        return rc;
    rc = bkp_bucket_read_label(s, &old);
    if (rc && rc != -ENOENT && !force)
        return rc;
    bool has_old = !rc;
    const char *orepo = has_old ? old.repository : NULL, *ouuid = has_old ? old.uuid : NULL;
    /* Another repository's label, unless it is this very label (its uuid)
     * with the repository changed, or ours is behind it: either was put in
     * front by someone, not labelled by another repository's bkp (each
     * makes its own uuid, and none labels over ours: this check). */
    bool put_in_front = (ouuid && !strcmp(ouuid, label->uuid)) || ours_behind;
    if (strcmp(label->repository, bkp_repo_uuid(r)) ||
        !bkp_label_signed_by(label, bkp_repo_sign_pk(r))) {
        /* The label written is always this repository's, signed: the
         * caller, which knows where the label came from, says so
         * (ops_object_label). */
        rc = -EINVAL;
    } else if (orepo && strcmp(orepo, bkp_repo_uuid(r)) && !put_in_front) {
        bkp_error(_("the bucket holds the copy of another repository (%s): use another bucket, one "
                    "per repository"),
                  orepo);
        rc = -EEXIST;
    } else if (ouuid && !force && strcmp(ouuid, label->uuid)) {
        bkp_error(_("the bucket is labelled %s already (%s); to give it to %s, which forgets what "
                    "the registry knew of it, add --force (nothing in the bucket is deleted)"),
                  old.name, ouuid, label->name);
        rc = -EEXIST;
    } else {
        size_t len = 0;
        char *text = bkp_label_text(label, &len);
        char *cfg = bkp_repo_subpath(r, "config"), *key = bkp_repo_subpath(r, "keys/key");
        rc = !text || !cfg || !key ? -ENOMEM
                                   : bkp_s3_put(s, LABEL_KEY, -1, text, len, mode, until, version);
        if (!rc)
            rc = bucket_put_file(s, BKP_BUCKET_REPO "config", cfg, bkp_copy_member_max("config"),
                                 mode, until, NULL);
        if (!rc)
            rc = bucket_put_file(s, BKP_BUCKET_REPO "keys/key", key,
                                 bkp_copy_member_max("keys/key"), mode, until, NULL);
        free(text);
        free(cfg);
        free(key);
    }
    return rc;
}

/* ---- the probe ---- */

int bkp_bucket_probe_lock(bkp_s3 *s, bkp_s3_lock mode, bkp_bucket_probe *out)
{
    char now_s[32], until_s[32], text[256];
    time_t now = bkp_now();
    memset(out, 0, sizeof(*out));
    out->until = now + (time_t)bkp_lock_day();
    bkp_s3_format_time(now, now_s);
    bkp_s3_format_time(out->until, until_s);
    snprintf(out->key, sizeof(out->key), PROBE_PREFIX "canary-%lld-%08x", (long long)now,
             randombytes_random());
    snprintf(text, sizeof(text),
             "bkp lock probe, written %s, locked until %s; it may be deleted after that\n", now_s,
             until_s);
    int rc = bkp_s3_put(s, out->key, -1, text, strlen(text), mode, out->until, out->version);
    if (rc)
        return rc;
    const char *v = out->version[0] ? out->version : NULL;
    int del = bkp_s3_delete(s, out->key, v, false);
    int byp = bkp_s3_delete(s, out->key, v, true);
    /* Shortening is tried with the governance bypass: a server that lets
     * it loosen a COMPLIANCE lock does not hold one. */
    int shorten = bkp_s3_retain(s, out->key, v, mode, out->until - 1, true);
    bkp_s3_object o;
    int head = bkp_s3_head(s, out->key, v, &o);
    out->delete_refused = del == -EACCES;
    out->bypass_refused = byp == -EACCES;
    out->shorten_refused = shorten == -EACCES;
    out->still_there = head == 0 && o.retain_until >= out->until && o.mode == mode;
    out->proven =
        out->delete_refused && out->bypass_refused && out->shorten_refused && out->still_there;
    snprintf(out->detail, sizeof(out->detail),
             "canary %s (version %s, %s until %s): delete %s, delete with the governance bypass "
             "%s, shortening the retention %s, the canary %s",
             out->key, v ? v : "-", mode == BKP_S3_LOCK_COMPLIANCE ? "COMPLIANCE" : "GOVERNANCE",
             until_s, out->delete_refused ? "refused" : "NOT refused",
             out->bypass_refused ? "refused" : "NOT refused",
             out->shorten_refused ? "refused" : "NOT refused",
             out->still_there ? "still there, locked" : "GONE or unlocked");
    return 0;
}
