/*
 * medium_bucket.c — the object driver of a rotation (rotate_driver.h): an
 * S3 bucket with Object Lock (bkp/media/bucket.h). The medium's own rotate lock
 * (the bucket holds none) and the connection the policy names, before the
 * pins are judged, so that no request reaches the bucket for a primary that
 * must not be copied; then its registered label found in the bucket, and
 * put back in front when a delete marker or another version hid it; each
 * chosen generation copied with its retain-until date (ops_object_until),
 * in lock order (bkp_bucket_copy); the bucket pruned by retention, keeping
 * at least three of each data set. A bucket takes no pin (FORMAT.md).
 *
 * What a kill at each point leaves, and what the next rotation does:
 *  - holding the medium's rotate lock (REPO/locks/rotate-NAME, bkp/io/lock.h):
 *    the kernel releases it with the process; the next rotation takes it.
 *  - putting a hidden label back in front: an S3 PUT appears whole or not
 *    at all; if not, the next rotation finds the label behind again and
 *    puts it back, a new version of the same bytes.
 *  - in the working folder REPO/cache/bucket-NAME (the bucket's small
 *    objects, fetched for the copy and the prune): left behind, and
 *    emptied by the next rotation before it is used (ops_object_work_dir);
 *    the rotate lock makes it one rotation's alone.
 *  - in the copy (bkp_bucket_copy, bkp/media/bucket.h): packs before records,
 *    records before the config, key file and label are extended, the audit
 *    copy last; each object is complete and locked, or absent, so no
 *    record ever names a pack that is not locked as long as it. The next
 *    rotation finds the packs already there (`packs_present`) and uploads
 *    what is missing; nothing in the bucket needs deleting to finish it.
 *  - in the prune (bkp_bucket_prune): a record's tombstone is uploaded
 *    before the record is deleted, and a pack is deleted only when no
 *    record left in the bucket lists it; a kill between leaves a tombstone
 *    beside its record, or packs no record needs, and the next prune
 *    deletes them. Nothing locked is ever asked to go.
 *  - after the copy: its end, the audit record then the registry, as
 *    rotate_finish.c says for every rotation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/object_fetch.h"
#include "bkp/ops/object_medium.h"
#include "bkp/ops/rotate_driver.h"
#include "bkp/ops/rotate_record.h"

/* The bucket's part of a rotation under way. */
typedef struct bucket {
    bkp_s3 *s;
    bkp_lock *lk; /* the medium's rotate lock (not in a dry run) */
    time_t now;
    char *work;     /* the working folder (ops_object_work_dir), or a dry run's staging */
    bkp_repo *copy; /* a dry run: the bucket's records, fetched to read */
    bkp_gen **held;
    size_t nheld;
    bkp_bucket_result res;
    bool copied; /* the copy is complete (`after` ran) */
} bucket;

/* The lock and the connection: no request yet. */
static int reach(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    bucket *b = t->d;
    char lname[128];
    b->now = bkp_now();
    if (!pol_medium_bucket(in->pm)) {
        bkp_error(_("%s is an object medium: the policy says where its bucket is; name the policy "
                    "with --policy"),
                  in->medium);
        o->usage = true;
        return ops_rotate_fail(o, OPS_ROTATE_SETTINGS, -EINVAL);
    }
    /* One rotation to a bucket at a time (the bucket itself holds no lock). */
    snprintf(lname, sizeof(lname), "rotate-%s", in->medium);
    int rc =
        in->dry_run ? 0 : bkp_lock_take(bkp_repo_path(in->primary), lname, "bkp rotate", &b->lk);
    if (!rc && (rc = ops_object_open(in->pm, &b->s)))
        o->usage = rc == -EPERM || rc == -EINVAL;
    return ops_rotate_fail(o, o->usage ? OPS_ROTATE_SETTINGS : OPS_ROTATE_OPEN, rc);
}

/* Prune the bucket by the data sets' retention, in the working copy the
 * rotation left (its records as the bucket has them now), and record it.
 * The outcome is the caller's to say: a failure leaves the copy complete. */
static int prune(const ops_rotate_in *in, bkp_s3 *s, const char *work, time_t now,
                 bkp_bucket_prune_result *res)
{
    char *repo = bkp_path_join(work, "repo");
    bkp_repo *copy = NULL;
    bkp_gen **v = NULL;
    size_t n = 0;
    bool *doomed = NULL;
    int rc = repo ? bkp_repo_open_copy(repo, in->primary, 0, &copy) : -ENOMEM;
    if (!rc)
        rc = bkp_gen_list(copy, NULL, &v, &n);
    if (!rc && !(doomed = calloc(n + 1, 1)))
        rc = -ENOMEM;
    if (!rc)
        rc = ops_object_doomed(in->policy, v, n, doomed);
    if (!rc)
        rc = bkp_bucket_prune(s, copy, v, doomed, n, now, ops_object_mode(in->pm),
                              ops_object_floor(in->pm, now), res);
    json_t *fig = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "generations_deleted",
                            (json_int_t)res->generations, "packs_deleted", (json_int_t)res->packs,
                            "audit_versions_deleted", (json_int_t)res->audit_versions,
                            "versions_deleted", (json_int_t)res->versions, "versions_locked",
                            (json_int_t)res->locked, "packs_kept_all", res->packs_kept_all);
    bkp_audit_rec rec = {.op = "prune",
                         .medium = in->medium,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? bkp_strerror_en(rc) : NULL};
    (void)ops_object_audit(in->primary, &rec);
    json_decref(fig);
    free(doomed);
    bkp_gen_list_free(v, n);
    bkp_repo_free(copy);
    free(repo);
    return rc;
}

/* What the bucket holds, from the working copy the rotation left. */
static void held_in(bkp_repo *primary, const char *work, ops_held *held)
{
    char *repo = bkp_path_join(work, "repo");
    bkp_repo *copy = NULL;
    ops_held_clear(held);
    if (repo && bkp_repo_open_copy(repo, primary, BKP_REPO_READONLY, &copy) == 0 &&
        ops_held_of(copy, held))
        bkp_debug("out of memory listing what the bucket holds");
    bkp_repo_free(copy);
    free(repo);
}

/* Put `label` (signed) in front in the bucket, locked with the rest, and
 * note it in the registry with the version the bucket gave it. A kill
 * before the PUT lands leaves the bucket as it was for the next run. */
static int put_front(ops_rotation *t, const bkp_label *label)
{
    const ops_rotate_in *in = t->in;
    bucket *b = t->d;
    char version[BKP_S3_VERSION_MAX + 1] = "";
    size_t len = 0;
    char *text = bkp_label_text(label, &len);
    int rc = text ? bkp_s3_put(b->s, BKP_LABEL_FILE, -1, text, len, ops_object_mode(in->pm),
                               ops_object_floor(in->pm, b->now), version)
                  : -ENOMEM;
    ops_object_note n = {.label = label, .label_version = version};
    if (!rc)
        rc = bkp_media_update(in->primary, in->medium, ops_object_note_entry, &n);
    free(text);
    return rc;
}

/* The registered label, in front in the bucket and signed: 0, or the error
 * (logged), `out->step` and `out->usage` set. A label hidden behind another
 * version is put back in front; one an earlier bkp wrote is signed now. */
static int find_label(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *out = t->out;
    bucket *b = t->d;
    const bkp_label *registered = in->entry ? &in->entry->label : NULL;
    const char *rver = in->entry && in->entry->label_version[0] ? in->entry->label_version : NULL;
    const uint8_t *pk = bkp_repo_sign_pk(in->primary);
    bkp_label label = {0};
    bool behind = false;
    int rc = 0;
    if (registered && (rc = bkp_bucket_find_label(b->s, registered, pk, bkp_repo_uuid(in->primary), rver, &label,
                                    &behind)) &&
        rc != -ENOENT) {
        /* Not a missing label: labelling again would not help. */
        bkp_error(_("%s: the label of the bucket %s cannot be read (%s); check the endpoint, the "
                    "bucket's name and the credentials file, then run the rotation again"),
                  in->medium, in->pm->object.bucket, bkp_strerror(rc));
        return ops_rotate_fail(out, OPS_ROTATE_LABEL, rc);
    }
    if (!registered || rc) {
        bkp_error(_("%s: the bucket %s is %s; label it first: bkp media label --name %s"),
                  in->medium, in->pm->object.bucket, _("not labelled for this repository"),
                  in->medium);
        out->usage = true;
        return ops_rotate_fail(out, OPS_ROTATE_LABEL, -ENOENT);
    }
    bool unsigned_ = !bkp_label_signed_by(&label, pk);
    if (behind)
        bkp_warn(in->dry_run ? _("%s: the bucket's label is hidden (a delete marker or another "
                                 "version put in front of it); the rotation will put the "
                                 "registered label back in front")
                             : _("%s: the bucket's label was hidden (a delete marker or another "
                                 "version put in front of it); the registered label, still "
                                 "locked behind, is put back in front"),
                 in->medium);
    if (unsigned_)
        bkp_warn(in->dry_run ? _("%s: the bucket's label is not signed (an earlier bkp wrote it); "
                                 "the rotation will sign it")
                             : _("%s: the bucket's label is not signed (an earlier bkp wrote it); "
                                 "it is signed now, so that a label put in front of it is told "
                                 "from it"),
                 in->medium);
    if (!in->dry_run && (behind || unsigned_)) {
        rc = unsigned_ ? bkp_label_sign(&label, bkp_repo_keys(in->primary)) : 0;
        if (!rc)
            rc = put_front(t, &label);
        ops_rotate_fail(out, OPS_ROTATE_COPY, rc);
    } else if (!in->dry_run && !bkp_label_same(&label, registered)) {
        /* Signed in front already, the registry not told (a kill after
         * that PUT): noted now. */
        ops_object_note n = {.label = &label, .label_version = rver};
        rc = bkp_media_update(in->primary, in->medium, ops_object_note_entry, &n);
        ops_rotate_fail(out, OPS_ROTATE_COPY, rc);
    }
    return rc;
}

/* The bucket's records, fetched into a staging folder to read (a dry run:
 * a rotation's copy reads them itself, bkp_bucket_copy). */
static int held(ops_rotation *t, bkp_gen ***v, size_t *n, bool *listed)
{
    const ops_rotate_in *in = t->in;
    bucket *b = t->d;
    bkp_bucket_fetch f = {0};
    bkp_bucket_trust tr = {.like = in->primary, .registered = in->entry ? &in->entry->label : NULL};
    *listed = false;
    char *repo = NULL;
    int rc = (b->work = ops_object_staging("plan")) ? bkp_bucket_trust_find(b->s, in->medium, &tr)
                                                    : -ENOMEM;
    if (!rc)
        rc = bkp_bucket_fetch_meta(b->s, b->work, &tr, &f);
    if (!rc)
        rc = (repo = bkp_path_join(b->work, "repo"))
                 ? bkp_repo_open_copy(repo, in->primary, BKP_REPO_READONLY, &b->copy)
                 : -ENOMEM;
    if (!rc)
        rc = bkp_gen_list(b->copy, NULL, &b->held, &b->nheld);
    bkp_bucket_fetch_clear(&f);
    free(repo);
    *v = b->held;
    *n = b->nheld;
    *listed = !rc;
    return ops_rotate_fail(t->out, OPS_ROTATE_COPY, rc);
}

/* The date a generation is locked until (ops_object_until). */
static time_t until(ops_rotation *t, const bkp_gen *g)
{
    bucket *b = t->d;
    return ops_object_until(t->in->policy, t->in->pm, g, b->now);
}

/* Copy the plan's generations, each locked until its row's date. */
static int copy(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    const ops_rotate_plan *pl = &t->out->plan;
    bucket *b = t->d;
    time_t *until = calloc(pl->np + 1, sizeof(*until));
    int rc = until && (b->work = ops_object_work_dir(in->primary, in->medium)) ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < pl->np; i++)
        until[i] = pl->rows[i].until;
    if (!rc)
        rc = bkp_bucket_copy(in->primary, b->s, pl->pick, until, pl->np, ops_object_mode(in->pm),
                             ops_object_floor(in->pm, b->now), b->work, &b->res);
    free(until);
    t->out->copy = b->res.copy;
    t->out->locks_extended = b->res.extended;
    t->out->retain_until = b->res.until;
    return ops_rotate_fail(t->out, OPS_ROTATE_COPY, rc);
}

/* Only after a complete copy: the prune reads the records the copy left in
 * the working folder, which are the bucket's. */
static void after(ops_rotation *t)
{
    bucket *b = t->d;
    b->copied = true;
    if ((t->out->prune_rc = prune(t->in, b->s, b->work, b->now, &t->out->bucket_prune)))
        bkp_warn(_("%s: the bucket could not be pruned (above); the copy is complete"),
                 t->in->medium);
    held_in(t->in->primary, b->work, &t->out->held);
}

/* Every version the bucket keeps, by one listing. */
static int measure(ops_rotation *t, uint64_t *bytes)
{
    bucket *b = t->d;
    return bkp_bucket_bytes(b->s, bytes);
}

static int figures(ops_rotation *t, ops_rotate_figures *f)
{
    const ops_rotate_out *o = t->out;
    f->mode = t->in->pm->object.governance ? "governance" : "compliance";
    f->bytes = o->copy.bytes;
    f->packs_given = true;
    f->packs = o->copy.packs;
    f->packs_present = o->copy.packs_present;
    f->records = o->copy.records;
    f->locks_extended = o->locks_extended;
    f->retain_until = o->retain_until;
    return ops_rotate_plan_figures(&o->plan, f);
}

/* The audit record, then the registry; a bucket takes no pin. */
static void end(ops_rotation *t, ops_rotate_end *e)
{
    const ops_rotate_out *o = t->out;
    e->where = t->in->pm ? t->in->pm->object.bucket : NULL;
    const bucket *b = t->d;
    e->took = e->seen = b->copied;
    e->note = (ops_rotate_seen){.held = &o->held};
}

static void release(ops_rotation *t)
{
    bucket *b = t->d;
    bkp_gen_list_free(b->held, b->nheld);
    bkp_repo_free(b->copy);
    if (b->work) {
        (void)bkp_remove_tree(b->work);
        free(b->work);
    }
    bkp_s3_close(b->s);
    bkp_lock_release(b->lk);
}

const ops_medium_driver ops_medium_object = {
    .name = "object",
    .size = sizeof(bucket),
    .reach = reach,
    .open = find_label,
    .held = held,
    .prunes = true,
    .locks = true,
    .until = until,
    .copy = copy,
    .after = after,
    .measure = measure,
    .end = end,
    .figures = figures,
    .release = release,
};
