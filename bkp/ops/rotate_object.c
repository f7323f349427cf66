/*
 * A rotation to an object medium (rotate_object.h).
 *
 * What a kill at each point leaves, and what the next rotation does:
 *  - holding the medium's rotate lock (REPO/locks/rotate-NAME, bkp/lock.h):
 *    the kernel releases it with the process; the next rotation takes it.
 *  - putting a hidden label back in front: an S3 PUT appears whole or not
 *    at all; if not, the next rotation finds the label behind again and
 *    puts it back, a new version of the same bytes.
 *  - in the working folder REPO/cache/bucket-NAME (the bucket's small
 *    objects, fetched for the copy and the prune): left behind, and
 *    emptied by the next rotation before it is used (ops_object_work_dir);
 *    the rotate lock makes it one rotation's alone.
 *  - in the copy (bkp_bucket_copy, bkp/bucket.h): packs before records,
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

#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/prune_medium.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_object.h"
#include "bkp/ops/rotate_finish.h"
#include "bkp/ops/rotate_record.h"
#include "policies/retention.h"
#include "policies/schedule.h"

time_t ops_object_until(const pol_policy *p, const pol_medium *pm, const bkp_gen *g, time_t now)
{
    const pol_dataset *d = p ? pol_dataset_find(p, g->dataset) : NULL;
    int64_t day = bkp_lock_day();
    int64_t lock = (int64_t)pm->object.lock_days * day;
    int64_t keep = d ? pol_retention_span(&d->retention, pol_schedule_period(d->schedule.kind)) : 0;
    keep = keep / 86400 * day; /* in days of the lock */
    time_t until = g->finished + (time_t)(keep > lock ? keep : lock);
    return until > now + lock ? until : now + (time_t)lock;
}

size_t ops_object_plan(const pol_policy *p, const char *medium, const pol_medium *pm, bkp_gen **v,
                       size_t n, time_t now, bkp_gen **pick, time_t *until, json_t *names)
{
    size_t np = ops_rotate_choose(p, medium, v, n, pick);
    for (size_t i = 0; i < np; i++) {
        char name[96];
        until[i] = ops_object_until(p, pm, pick[i], now);
        json_array_append_new(names, json_string(bkp_gen_name(pick[i], name, sizeof(name))));
    }
    return np;
}

int ops_object_doomed(const pol_policy *p, bkp_gen **v, size_t n, bool *doomed)
{
    unsigned *keep = calloc(n + 1, sizeof(*keep));
    if (!keep)
        return -ENOMEM;
    ops_prune_decide(p, v, n, true, keep);
    for (size_t i = 0; i < n; i++)
        doomed[i] = !keep[i] && !v[i]->pruned;
    free(keep);
    return 0;
}

char *ops_object_work_dir(bkp_repo *r, const char *medium)
{
    char sub[128];
    snprintf(sub, sizeof(sub), "cache/bucket-%s", medium);
    char *dir = bkp_repo_subpath(r, sub);
    /* A rotation killed before it could remove its folder left it behind:
     * whatever is in it is stale, and removed without following a link. */
    int rc = !dir ? -ENOMEM : bkp_remove_tree(dir);
    if (rc == -ENOENT)
        rc = 0;
    if (!rc && mkdir(dir, 0700) < 0)
        rc = -errno;
    if (rc) {
        bkp_error(_("cannot make the working folder %s: %s"), dir ? dir : "?", bkp_strerror(rc));
        free(dir);
        return NULL;
    }
    return dir;
}

/* Prune the bucket by the data sets' retention, in the working copy the
 * rotation left (its records as the bucket has them now), and record it.
 * The outcome is the caller's to say: a failure leaves the copy complete. */
static int prune(const ops_object_in *in, const char *work, time_t now,
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
        rc = bkp_bucket_prune(in->s, copy, v, doomed, n, now, ops_object_mode(in->pm),
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
static json_t *held_in(bkp_repo *primary, const char *work)
{
    char *repo = bkp_path_join(work, "repo");
    bkp_repo *copy = NULL;
    json_t *held = NULL;
    if (repo && bkp_repo_open_copy(repo, primary, BKP_REPO_READONLY, &copy) == 0)
        held = ops_held_list(copy);
    bkp_repo_free(copy);
    free(repo);
    return held ? held : json_array();
}

/* The registered label, in front in the bucket: 0, or the error (logged),
 * `out->step` and `out->usage` set. */
static int find_label(const ops_object_in *in, time_t now, ops_object_rotate_out *out)
{
    const char *ruuid = ops_object_label_uuid(in->entry);
    const char *rver = json_string_value(json_object_get(in->entry, "label_version"));
    json_t *label = NULL;
    bool behind = false;
    int rc = 0;
    if (ruuid &&
        (rc = bkp_bucket_find_label(in->s, ruuid, bkp_repo_uuid(in->primary), rver, &label,
                                    &behind)) &&
        rc != -ENOENT) {
        /* Not a missing label: labelling again would not help. */
        bkp_error(_("%s: the label of the bucket %s cannot be read (%s); check the endpoint, the "
                    "bucket's name and the credentials file, then run the rotation again"),
                  in->medium, in->pm->object.bucket, bkp_strerror(rc));
        out->step = OPS_OBJECT_LABEL;
        out->usage = false;
        return rc;
    }
    if (!ruuid || rc) {
        bkp_error(_("%s: the bucket %s is %s; label it first: bkp media label --name %s"),
                  in->medium, in->pm->object.bucket,
                  _("not labelled for this repository"), in->medium);
        out->step = OPS_OBJECT_LABEL;
        out->usage = true;
        return -ENOENT;
    }
    if (behind) {
        /* Its lock is extended with the rest by the copy that follows; a
         * kill before this PUT lands leaves it behind for the next run. */
        char *text = json_dumps(label, JSON_INDENT(2) | JSON_SORT_KEYS);
        bkp_warn(_("%s: the bucket's label was hidden (a delete marker or another version put in "
                   "front of it); the registered label, still locked behind, is put back in front"),
                 in->medium);
        rc = text ? bkp_s3_put(in->s, BKP_LABEL_FILE, -1, text, strlen(text),
                               ops_object_mode(in->pm), ops_object_floor(in->pm, now), NULL)
                  : -ENOMEM;
        free(text);
        if (rc)
            out->step = OPS_OBJECT_COPY;
    }
    json_decref(label);
    return rc;
}

/* The primary's records, what is chosen of them, their dates. */
typedef struct plan {
    bkp_gen **v, **pick;
    size_t n;
    time_t *until;
} plan;

/* Choose, copy and prune, in the working folder `*work`. */
static int copy(const ops_object_in *in, time_t now, plan *pl, char **work,
                ops_object_rotate_out *out)
{
    int rc = bkp_gen_list(in->primary, NULL, &pl->v, &pl->n);
    if (!rc && (!(pl->pick = calloc(pl->n + 1, sizeof(*pl->pick))) ||
                !(pl->until = calloc(pl->n + 1, sizeof(*pl->until))) ||
                !(*work = ops_object_work_dir(in->primary, in->medium))))
        rc = -ENOMEM;
    if (!rc) {
        out->np = ops_object_plan(in->policy, in->medium, in->pm, pl->v, pl->n, now, pl->pick,
                                  pl->until, out->copied);
        rc = bkp_bucket_copy(in->primary, in->s, pl->pick, pl->until, out->np,
                             ops_object_mode(in->pm), ops_object_floor(in->pm, now), *work,
                             &out->res);
    }
    if (rc) {
        out->step = OPS_OBJECT_COPY;
        return rc;
    }
    /* Only after a complete copy: the prune reads the records the copy
     * left in the working folder, which are the bucket's. */
    out->prune_rc = prune(in, *work, now, &out->prune);
    out->held = held_in(in->primary, *work);
    return 0;
}

/* The rotation's end (rotate_finish.c): the audit record, then the
 * registry; a bucket takes no pin. */
static void finish(const ops_object_in *in, const plan *pl, ops_object_rotate_out *out)
{
    const bkp_bucket_result *res = &out->res;
    ops_rotate_step step;
    bool wrote;
    json_t *fig = json_pack("{s:O, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "generations",
                            out->copied, "mode",
                            in->pm->object.governance ? "governance" : "compliance", "packs",
                            (json_int_t)res->copy.packs, "bytes", (json_int_t)res->copy.bytes,
                            "packs_present", (json_int_t)res->copy.packs_present, "records",
                            (json_int_t)res->copy.records, "locks_extended",
                            (json_int_t)res->extended, "retain_until", (json_int_t)res->until);
    ops_rotate_end e = {.primary = in->primary,
                        .medium = in->medium,
                        .pick = pl->pick,
                        .np = out->np,
                        .fig = fig,
                        .rc = out->rc,
                        .at = out->step == OPS_OBJECT_LOCK    ? OPS_ROTATE_OPEN
                              : out->step == OPS_OBJECT_LABEL ? OPS_ROTATE_LABEL
                              : out->step == OPS_OBJECT_PINS  ? OPS_ROTATE_PINS
                                                              : OPS_ROTATE_COPY,
                        .where = in->pm->object.bucket,
                        .took = out->held != NULL,
                        .seen = out->held != NULL,
                        .note = {.held = out->held}};
    int rc = ops_rotate_finish(&e, &step, &wrote);
    if (rc && !out->rc) {
        out->rc = rc;
        out->step = OPS_OBJECT_RECORD;
    }
    json_decref(fig);
}

int ops_rotate_object(const ops_object_in *in, ops_object_rotate_out *out)
{
    bkp_lock *lk = NULL;
    plan pl = {0};
    char *work = NULL, lname[128], doing[256];
    time_t now = bkp_now();
    memset(out, 0, sizeof(*out));
    out->copied = json_array();
    /* One rotation to a bucket at a time (the bucket itself holds no lock). */
    snprintf(lname, sizeof(lname), "rotate-%s", in->medium);
    if ((out->rc = bkp_lock_take(bkp_repo_path(in->primary), lname, "bkp rotate", &lk))) {
        out->step = OPS_OBJECT_LOCK;
        return out->rc;
    }
    /* As before a disk or an archive is written: a primary behind or beside
     * what a medium pinned, or whose own log says records are missing, must
     * not be copied to a bucket either, where it would stay locked. Asked
     * before any request, so that nothing reaches the bucket. */
    snprintf(doing, sizeof(doing), _("rotation to %s refused"), in->medium);
    if ((out->rc = ops_pins_guard(in->primary, in->policy, doing)))
        out->step = OPS_OBJECT_PINS;
    if (!out->rc)
        out->rc = find_label(in, now, out);
    if (!out->rc)
        out->rc = copy(in, now, &pl, &work, out);
    finish(in, &pl, out);
    if (work) {
        (void)bkp_remove_tree(work);
        free(work);
    }
    free(pl.until);
    free(pl.pick);
    bkp_gen_list_free(pl.v, pl.n);
    bkp_lock_release(lk);
    return out->rc;
}

void ops_object_rotate_clear(ops_object_rotate_out *out)
{
    json_decref(out->copied);
    json_decref(out->held);
    out->copied = out->held = NULL;
}
