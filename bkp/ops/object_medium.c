/*
 * An object medium labelled and probed, and what the registry and the
 * audit log remember of it (object_medium.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/object_medium.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/ops/prune_medium.h"
#include "policies/retention.h"
#include "policies/schedule.h"

int ops_object_open(const pol_medium *pm, bkp_s3 **out)
{
    const pol_object *o = &pm->object;
    bkp_s3_conf conf = {.endpoint = o->endpoint,
                        .bucket = o->bucket,
                        .region = o->region,
                        .credentials_file = o->credentials_file};
    return bkp_s3_open(&conf, out);
}

bkp_s3_lock ops_object_mode(const pol_medium *pm)
{
    return pm->object.governance ? BKP_S3_LOCK_GOVERNANCE : BKP_S3_LOCK_COMPLIANCE;
}

/* A day of Object Lock is shortened only in a test build (clock.h). */
time_t ops_object_floor(const pol_medium *pm, time_t now)
{
    return now + (time_t)pm->object.lock_days * (time_t)bkp_lock_day();
}

int ops_object_audit(bkp_repo *r, const bkp_audit_rec *rec)
{
    return r && bkp_audit_append(r, rec) ? -EIO : 0;
}

int ops_object_note_entry(bkp_media_entry *e, void *ctx)
{
    ops_object_note *n = ctx;
    time_t now = bkp_now();
    if (n->label) {
        if (e->label.version && strcmp(e->label.uuid, n->label->uuid))
            bkp_media_entry_clear(e); /* another medium under an old name: a new history */
        e->label = *n->label;
        e->labelled = now;
        /* Where the label is found behind whatever is put in front of it
         * (bkp_bucket_find_label); a label without one looks at the newest
         * versions only. */
        snprintf(e->label_version, sizeof(e->label_version), "%s",
                 n->label_version ? n->label_version : "");
    }
    e->last_seen = now;
    if (n->probe) {
        char *detail = strdup(n->probe->detail);
        if (!detail)
            return -ENOMEM;
        free(e->probe.detail);
        e->probe = (bkp_media_probe){.when = now, .proven = n->probe->proven, .detail = detail};
    }
    return 0;
}

/* ---- label ---- */

int ops_object_label(const ops_object_in *in, bkp_label *label, bool *usage)
{
    const bkp_label *registered = in->entry ? &in->entry->label : NULL;
    const char *ruuid = registered ? registered->uuid : NULL, *repo = bkp_repo_uuid(in->primary);
    const char *rver = in->entry && in->entry->label_version[0] ? in->entry->label_version : NULL;
    const char *rrepo = registered ? registered->repository : NULL;
    bkp_label old = {0}, lab;
    bool behind = false, reg_ours = rrepo && !strcmp(rrepo, repo);
    char version[BKP_S3_VERSION_MAX + 1] = "";
    *usage = false;
    /* The registered label, also behind a delete marker or versions put
     * in front of it; else whatever label the bucket shows. */
    int rc = ruuid ? bkp_bucket_find_label(in->s, registered, bkp_repo_sign_pk(in->primary), repo,
                                           rver, &old, &behind)
                   : -ENOENT;
    if (rc == -ENOENT)
        rc = bkp_bucket_read_label(in->s, &old);
    const char *ouuid = old.version ? old.uuid : NULL;
    bool same = ouuid && ruuid && !strcmp(ouuid, ruuid);
    if (ruuid && !in->force && !same) {
        bkp_error(_("a medium named %s is registered already (label %s); if that bucket is gone or "
                    "replaced, add --force to give its name to this one"),
                  in->medium, ruuid);
        *usage = true;
        rc = -EEXIST;
        goto out;
    }
    if (rc && rc != -ENOENT && !in->force)
        goto out; /* the bucket could not be read (logged) */
    /* A registry written by an earlier bkp may hold a copy of the label put
     * in front naming another repository, taken for ours then: it is never
     * written back, and only --force replaces it (a new label, a new
     * history of the medium). */
    if (same && !in->force && !reg_ours) {
        bkp_error(_("the registry's label of %s names another repository (%s); label the medium "
                    "again with --force"),
                  in->medium, rrepo ? rrepo : "?");
        *usage = true;
        rc = -EINVAL;
        goto out;
    }
    /* The same bucket labelled again keeps its label, as the registry has
     * it: a copy of it put in front naming another repository is never
     * written back. Else a new one. Either is signed (medium.h). */
    bool altered = same && strcmp(old.repository, repo);
    if (reg_ours && ((same && !in->force) || altered))
        lab = *registered;
    else if ((rc = bkp_label_make(&lab, repo, bkp_repo_sign_pk(in->primary), in->medium, "object",
                                  in->location)))
        goto out;
    rc = bkp_label_sign(&lab, bkp_repo_keys(in->primary));
    if (!rc)
        rc = bkp_bucket_label(in->primary, in->s, &lab, ops_object_mode(in->pm),
                              ops_object_floor(in->pm, bkp_now()), in->force || same, behind,
                              version);
    ops_object_note n = {.label = &lab, .label_version = version};
    if (!rc)
        rc = bkp_media_update(in->primary, in->medium, ops_object_note_entry, &n);
    bkp_audit_rec rec = {.op = "media-label", .medium = in->medium, .failed = rc != 0};
    if (ops_object_audit(in->primary, &rec) && !rc)
        rc = -EIO;
    *usage = rc == -EEXIST || rc == -ENOTSUP || rc == -EINVAL;
    if (!rc)
        *label = lab;
out:
    return rc;
}

/* ---- probe ---- */

int ops_object_probe(const ops_object_in *in, bkp_bucket_probe *pr, int *noted, bool *usage)
{
    *usage = false;
    /* The canary is always COMPLIANCE: that is the lock that holds against
     * whoever holds the credentials. A GOVERNANCE medium's own objects yield
     * to a credential allowed to bypass (or to lift a policy that denies it),
     * so it is never counted as non-editable, whatever the probe finds. */
    int rc = bkp_bucket_probe_lock(in->s, BKP_S3_LOCK_COMPLIANCE, pr);
    if (rc)
        return rc;
    bool governance = in->pm->object.governance;
    const char *label = in->entry ? in->entry->label.uuid : NULL;
    if (!label) {
        bkp_error(_("%s is not labelled: run `bkp media label --name %s` first"), in->medium,
                  in->medium);
        *usage = true;
        return -ENOENT;
    }
    if (governance)
        pr->proven = false;
    json_t *fig =
        json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "proven", pr->proven, "detail", pr->detail,
                  "label", label, "bucket", in->pm->object.bucket, "endpoint",
                  in->pm->object.endpoint, "mode", governance ? "governance" : "compliance");
    bkp_audit_rec rec = {.op = "media-probe",
                         .medium = in->medium,
                         .failed = !pr->proven,
                         .error = pr->proven ? NULL : "the lock did not hold",
                         .figures = fig};
    ops_object_note n = {.probe = pr};
    *noted = bkp_media_update(in->primary, in->medium, ops_object_note_entry, &n);
    if (ops_object_audit(in->primary, &rec) && !*noted)
        *noted = -EIO;
    json_decref(fig);
    return 0;
}

/* ---- the proof, from the signed audit log ---- */

typedef struct proof {
    const char *medium, *label;
    const char *bucket, *endpoint; /* where the policy says the medium is now */
    json_t *governed;              /* generations a rotation copied under GOVERNANCE */
    bool proven;
    time_t when;
} proof;

/* Every generation a rotation to the medium copied under a GOVERNANCE lock
 * (which the credentials can lift): while the medium holds one, it is
 * editable. */
static void note_governed(proof *p, const bkp_audit_entry *e)
{
    const char *lock = ops_rotation_lock(e), *g; /* NULL but for a rotation's record */
    if (!lock || !e->medium || strcmp(e->medium, p->medium) || !strcmp(lock, "compliance"))
        return;
    for (size_t i = 0; (g = ops_rotation_generation(e, i)); i++)
        if (*g)
            json_object_set_new(p->governed, g, json_true());
}

/* The last probe of this medium's label: it alone counts. */
static int last_probe(const bkp_audit_entry *rec, void *ctx)
{
    proof *p = ctx;
    note_governed(p, rec);
    const json_t *fig = rec->figures;
    const char *m = rec->medium;
    const char *l = json_string_value(json_object_get(fig, "label"));
    if (strcmp(rec->op, "media-probe") || !m || strcmp(m, p->medium) || !l || strcmp(l, p->label))
        return 0;
    const char *mode = json_string_value(json_object_get(fig, "mode"));
    const char *b = json_string_value(json_object_get(fig, "bucket"));
    const char *e = json_string_value(json_object_get(fig, "endpoint"));
    /* A proof holds for the bucket and endpoint it probed: a label copied
     * to another bucket, and the policy pointed there, proves nothing. */
    p->proven = json_is_true(json_object_get(fig, "proven")) && mode &&
                !strcmp(mode, "compliance") && b && p->bucket && !strcmp(b, p->bucket) && e &&
                p->endpoint && !strcmp(e, p->endpoint);
    p->when = rec->time;
    return 0;
}

bool ops_object_proven(const bkp_repo *r, const pol_policy *pol, const bkp_media_entry *entry,
                       time_t *when)
{
    const char *name = entry ? entry->label.name : NULL;
    const pol_medium *pm = name && pol ? pol_medium_find(pol, name) : NULL;
    proof p = {.medium = name,
               .label = entry ? entry->label.uuid : NULL,
               .bucket = pol_medium_bucket(pm) ? pm->object.bucket : NULL,
               .endpoint = pol_medium_bucket(pm) ? pm->object.endpoint : NULL};
    char *log = r ? bkp_audit_path(r) : NULL;
    p.governed = json_object();
    if (log && p.medium && p.label && p.governed)
        (void)bkp_audit_each(log, last_probe, &p);
    free(log);
    for (size_t i = 0; entry && i < entry->n_held; i++) {
        char gen[96];
        snprintf(gen, sizeof(gen), "%s:%u", entry->held[i].dataset, entry->held[i].seq);
        if (json_object_get(p.governed, gen))
            p.proven = false; /* it holds a generation only GOVERNANCE-locked */
    }
    json_decref(p.governed);
    *when = p.proven ? p.when : 0;
    return p.proven && p.when > 0;
}

time_t ops_object_until(const pol_policy *p, const pol_medium *pm, const bkp_gen *g, time_t now)
{
    const pol_dataset *d = p ? pol_dataset_find(p, g->dataset) : NULL;
    int64_t day = bkp_lock_day(); /* the lock's day: shorter under the test clock */
    int64_t lock = (int64_t)pm->object.lock_days * day;
    time_t until = g->finished + (time_t)(pol_object_lock_span(d, pm) / 86400 * day);
    return until > now + lock ? until : now + (time_t)lock;
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
