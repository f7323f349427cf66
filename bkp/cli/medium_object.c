/*
 * Object media from the command line: label, probe, rotate and fetch an S3
 * bucket with Object Lock (bkp/bucket.h does the work). The policy alone
 * says where the bucket is; the registry remembers what it holds and when
 * its lock was last proven.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/audit.h"
#include "bkp/bucket.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/ops/prune_medium.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_record.h"
#include "policies/retention.h"
#include "policies/schedule.h"

/* A day of Object Lock (shortened only in a test build, clock.h). */
#define DAY bkp_lock_day()

static bkp_s3_lock lock_mode(const pol_medium *pm)
{
    return pm->object.governance ? BKP_S3_LOCK_GOVERNANCE : BKP_S3_LOCK_COMPLIANCE;
}

int cli_object_open(cli *c, const cli_medium *m, bkp_s3 **out)
{
    (void)c;
    *out = NULL;
    if (!m->pm || m->pm->type != POL_OBJECT) {
        bkp_error(_("%s is an object medium: the policy says where its bucket is; name the policy "
                    "with --policy"),
                  m->name);
        return EXIT_USAGE;
    }
    const pol_object *o = &m->pm->object;
    bkp_s3_conf conf = {.endpoint = o->endpoint,
                        .bucket = o->bucket,
                        .region = o->region,
                        .credentials_file = o->credentials_file};
    int rc = bkp_s3_open(&conf, out);
    return rc == -EPERM || rc == -EINVAL ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
}

/* Where a staging folder goes: $TMPDIR, else /var/tmp. NULL (logged) on failure. */
/* Staging folders of fetches whose process is gone (killed, or the machine
 * stopped): each holds a copy of the key file, which must not stay behind.
 * Only real folders of this user, of mode 0700, named as ours and holding
 * the pid of a process that no longer runs, are removed (following no
 * link: `bkp_remove_tree`); a folder without its pid yet is left. */
static void remove_stale(const char *tmp, const char *what)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof(prefix), "bkp-%s-", what);
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        struct stat st;
        char *dir = NULL, *pidf = NULL, buf[32] = "";
        if (strncmp(e->d_name, prefix, (size_t)n) || strlen(e->d_name) != (size_t)n + 6 ||
            asprintf(&dir, "%s/%s", tmp, e->d_name) < 0)
            continue;
        FILE *f = NULL;
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
            (st.st_mode & 07777) == 0700 && asprintf(&pidf, "%s/pid", dir) >= 0 &&
            (f = fopen(pidf, "re")) && fgets(buf, sizeof(buf), f)) {
            long pid = strtol(buf, NULL, 10);
            if (pid > 1 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
                bkp_info(_("removing the staging folder %s of a fetch that did not finish (process "
                           "%ld is gone)"),
                         dir, pid);
                (void)bkp_remove_tree(dir);
            }
        }
        if (f)
            fclose(f);
        free(pidf);
        free(dir);
    }
    if (d)
        closedir(d);
}

/* A private staging folder $TMPDIR/bkp-WHAT-XXXXXX (mode 0700), holding the
 * pid of this process, so that the next fetch removes it when this one is
 * killed before it could (remove_stale). */
static char *staging_dir(const char *what)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL, pid[32];
    tmp = tmp && *tmp ? tmp : "/var/tmp";
    remove_stale(tmp, what);
    if (asprintf(&dir, "%s/bkp-%s-XXXXXX", tmp, what) < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        bkp_error(_("cannot make a staging folder %s: %s; set TMPDIR to a folder with room"), dir,
                  bkp_strerror(-errno));
        free(dir);
        return NULL;
    }
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (bkp_durable_write(dir, "pid", pid, strlen(pid), BKP_DURABLE_PRIVATE)) {
        (void)bkp_remove_tree(dir);
        free(dir);
        return NULL;
    }
    return dir;
}

/* The working copy of a rotation: REPO/cache/bucket-NAME, emptied first (a
 * rotation killed before it could remove it leaves it behind) and removed
 * after. The rotate-NAME lock makes it this rotation's alone. */
static char *work_dir(cli *c, const char *medium)
{
    char sub[128];
    snprintf(sub, sizeof(sub), "cache/bucket-%s", medium);
    char *dir = bkp_repo_subpath(c->r, sub);
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

/* ---- the registry ---- */

typedef struct note {
    json_t *label; /* set when labelled */
    json_t *held;  /* set after a rotation */
    const bkp_bucket_probe *probe;
    bool wrote;
} note;

static int note_entry(json_t *e, void *ctx)
{
    note *n = ctx;
    char now[32];
    bkp_iso_time(now, sizeof(now), bkp_now());
    if (n->label) {
        const char *old = json_string_value(json_object_get(json_object_get(e, "label"), "uuid"));
        if (old && strcmp(old, json_string_value(json_object_get(n->label, "uuid"))))
            json_object_clear(e); /* another medium under an old name: a new history */
        json_object_set(e, "label", n->label);
        json_object_set_new(e, "labelled", json_string(now));
    }
    json_object_set_new(e, "last_seen", json_string(now));
    if (n->wrote)
        json_object_set_new(e, "last_write", json_string(now));
    if (n->held)
        json_object_set(e, "held", n->held);
    if (n->probe)
        json_object_set_new(e, "probe",
                            json_pack("{s:s, s:b, s:s}", "when", now, "proven", n->probe->proven,
                                      "detail", n->probe->detail));
    return 0;
}

typedef struct proof {
    const char *medium, *label;
    const char *bucket, *endpoint; /* where the policy says the medium is now */
    json_t *governed;              /* generations a rotation copied under GOVERNANCE */
    bool proven;
    time_t when;
} proof;

/* The last probe of this medium's label: it alone counts. And every
 * generation a rotation to the medium copied under a GOVERNANCE lock (which
 * the credentials can lift): while the medium holds one, it is editable. */
static int last_probe(json_t *rec, void *ctx)
{
    proof *p = ctx;
    json_t *fig = json_object_get(rec, "figures");
    const char *op = json_string_value(json_object_get(rec, "op"));
    const char *m = json_string_value(json_object_get(rec, "medium"));
    const char *lock = json_string_value(json_object_get(fig, "mode"));
    if (op && !strcmp(op, "rotate") && m && !strcmp(m, p->medium) && lock &&
        strcmp(lock, "compliance")) {
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(fig, "generations"), i, g)
        {
            if (json_is_string(g))
                json_object_set_new(p->governed, json_string_value(g), json_true());
        }
    }
    const char *l = json_string_value(json_object_get(fig, "label"));
    if (!op || strcmp(op, "media-probe") || !m || strcmp(m, p->medium) || !l || strcmp(l, p->label))
        return 0;
    const char *mode = json_string_value(json_object_get(fig, "mode"));
    const char *b = json_string_value(json_object_get(fig, "bucket"));
    const char *e = json_string_value(json_object_get(fig, "endpoint"));
    /* A proof holds for the bucket and endpoint it probed: a label copied
     * to another bucket, and the policy pointed there, proves nothing. */
    p->proven = json_is_true(json_object_get(fig, "proven")) && mode &&
                !strcmp(mode, "compliance") && b && p->bucket && !strcmp(b, p->bucket) && e &&
                p->endpoint && !strcmp(e, p->endpoint);
    p->when = bkp_iso_parse(json_string_value(json_object_get(rec, "time")));
    return 0;
}

bool cli_object_proven(cli *c, const json_t *entry, time_t *when)
{
    const char *name = json_string_value(json_object_get(json_object_get(entry, "label"), "name"));
    const pol_medium *pm = name && c->policy ? pol_medium_find(c->policy, name) : NULL;
    proof p = {.medium = name,
               .label = json_string_value(json_object_get(json_object_get(entry, "label"), "uuid")),
               .bucket = pm && pm->type == POL_OBJECT ? pm->object.bucket : NULL,
               .endpoint = pm && pm->type == POL_OBJECT ? pm->object.endpoint : NULL};
    char *log = c->r ? bkp_audit_path(c->r) : NULL;
    /* From the signed audit log, never from the registry: that file is a
     * catalog anyone who can write the repository may edit. */
    p.governed = json_object();
    if (log && p.medium && p.label && p.governed)
        (void)bkp_audit_each(log, last_probe, &p);
    free(log);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(entry, "held"), i, g)
    {
        char gen[300];
        const char *ds = json_string_value(json_object_get(g, "dataset"));
        snprintf(gen, sizeof(gen), "%s:%lld", ds ? ds : "",
                 (long long)json_integer_value(json_object_get(g, "seq")));
        if (json_object_get(p.governed, gen))
            p.proven = false; /* it holds a generation only GOVERNANCE-locked */
    }
    json_decref(p.governed);
    *when = p.proven ? p.when : 0;
    return p.proven && p.when > 0;
}

/* ---- label ---- */

int cli_object_label(cli *c, cli_medium *m)
{
    bkp_s3 *s = NULL;
    json_t *lab = NULL;
    int ex = cli_object_open(c, m, &s);
    if (ex)
        return ex;
    const char *ruuid =
        json_string_value(json_object_get(json_object_get(m->entry, "label"), "uuid"));
    json_t *old = NULL;
    bool behind = false;
    /* The registered label, also behind a delete marker or a version put
     * in front of it; else whatever label the bucket shows. */
    int rc = ruuid ? bkp_bucket_find_label(s, ruuid, &old, &behind) : -ENOENT;
    if (rc == -ENOENT)
        rc = bkp_bucket_read_label(s, &old);
    const char *ouuid = json_string_value(json_object_get(old, "uuid"));
    /* The same bucket labelled again keeps its label; else a new one. */
    if (ouuid && ruuid && !strcmp(ouuid, ruuid) && !c->force)
        lab = json_incref(old);
    else
        lab = bkp_label_new(c->r, m->name, "object", m->location);
    if (ruuid && !c->force && !(ouuid && !strcmp(ruuid, ouuid))) {
        bkp_error(_("a medium named %s is registered already (label %s); if that bucket is gone or "
                    "replaced, add --force to give its name to this one"),
                  m->name, ruuid);
        ex = EXIT_USAGE;
    } else if (rc && rc != -ENOENT && !c->force) {
        ex = EXIT_FAILED;
    } else {
        time_t until = bkp_now() + (time_t)m->pm->object.lock_days * DAY;
        rc = lab ? bkp_bucket_label(c->r, s, lab, lock_mode(m->pm), until,
                                    c->force || (ouuid && ruuid && !strcmp(ouuid, ruuid)))
                 : -ENOMEM;
        note n = {.label = lab};
        if (!rc)
            rc = bkp_media_update(c->r, m->name, note_entry, &n);
        bkp_audit_rec rec = {.op = "media-label", .medium = m->name, .failed = rc != 0};
        if (cli_audit(c, &rec) && !rc)
            rc = -EIO;
        ex = rc == -EEXIST || rc == -ENOTSUP ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
        if (!ex && !c->json)
            printf(_("%s: bucket %s at %s labelled (%s); versioning and Object Lock are on.\n"
                     "Prove the lock now: bkp media probe %s\n"),
                   m->name, m->pm->object.bucket, m->pm->object.endpoint,
                   json_string_value(json_object_get(lab, "uuid")), m->name);
    }
    json_decref(old);
    json_decref(lab);
    bkp_s3_close(s);
    return ex;
}

/* ---- probe ---- */

int cli_object_probe(cli *c, cli_medium *m)
{
    bkp_s3 *s = NULL;
    bkp_bucket_probe pr;
    int ex = cli_object_open(c, m, &s);
    if (ex)
        return ex;
    /* The canary is always COMPLIANCE: that is the lock that holds against
     * whoever holds the credentials. A GOVERNANCE medium's own objects yield
     * to a credential allowed to bypass (or to lift a policy that denies it),
     * so it is never counted as non-editable, whatever the probe finds. */
    int rc = bkp_bucket_probe_lock(s, BKP_S3_LOCK_COMPLIANCE, &pr);
    bkp_s3_close(s);
    if (rc)
        return EXIT_FAILED;
    bool governance = m->pm->object.governance;
    const char *label =
        json_string_value(json_object_get(json_object_get(m->entry, "label"), "uuid"));
    if (!label) {
        bkp_error(_("%s is not labelled: run `bkp media label --name %s` first"), m->name, m->name);
        return EXIT_USAGE;
    }
    if (governance)
        pr.proven = false;
    json_t *fig =
        json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "proven", pr.proven, "detail", pr.detail,
                  "label", label, "bucket", m->pm->object.bucket, "endpoint",
                  m->pm->object.endpoint, "mode", governance ? "governance" : "compliance");
    bkp_audit_rec rec = {.op = "media-probe",
                         .medium = m->name,
                         .failed = !pr.proven,
                         .error = pr.proven ? NULL : "the lock did not hold",
                         .figures = fig};
    note n = {.probe = &pr};
    rc = bkp_media_update(c->r, m->name, note_entry, &n);
    if (cli_audit(c, &rec) && !rc)
        rc = -EIO;
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b, s:s, s:s}", "medium", m->name, "proven", pr.proven,
                                 "canary", pr.key, "detail", pr.detail));
    else if (pr.proven)
        printf(_("%s: the lock holds — %s.\n%s is counted as a non-editable copy.\n"), m->name,
               pr.detail, m->name);
    else if (governance)
        bkp_error(_("%s: the server enforces COMPLIANCE (%s), but this medium locks its objects in "
                    "GOVERNANCE mode, which a credential allowed to bypass it (or to lift a policy "
                    "that denies it) can delete early: it is counted as editable. Use 'lock: { "
                    "mode: compliance }'"),
                  m->name, pr.detail);
    else
        bkp_error(_("%s: the lock does NOT hold — %s. %s is counted as editable; %s"), m->name,
                  pr.detail, m->name,
                  _("check that the bucket has Object Lock and that the server enforces it"));
    json_decref(fig);
    return rc ? EXIT_FAILED : pr.proven ? EXIT_OK : EXIT_FAILED;
}

/* ---- rotate ---- */

/* The retain-until of generation `g`: from its capture, the longest of the
 * medium's lock, the data set's lock_days and what its retention keeps;
 * never less than the medium's lock from now (a generation copied late). */
static time_t until_of(const pol_policy *p, const pol_medium *pm, const bkp_gen *g, time_t now)
{
    const pol_dataset *d = pol_dataset_find(p, g->dataset);
    int64_t lock = (int64_t)pm->object.lock_days * DAY;
    int64_t keep = d ? pol_retention_span(&d->retention, pol_schedule_period(d->schedule.kind)) : 0;
    keep = keep / 86400 * DAY; /* in days of the lock */
    time_t until = g->finished + (time_t)(keep > lock ? keep : lock);
    return until > now + lock ? until : now + (time_t)lock;
}

/* Prune the bucket by the data sets' retention (at least three of each
 * stay), in the working copy the rotation left; a failure is a warning: the
 * copy is complete. */
static void prune_bucket(cli *c, const cli_medium *m, bkp_s3 *s, const char *staging, time_t now)
{
    char *repo = bkp_path_join(staging, "repo");
    bkp_repo *copy = NULL;
    bkp_gen **v = NULL;
    size_t n = 0;
    unsigned *keep = NULL;
    bool *doomed = NULL;
    bkp_bucket_prune_result res = {0};
    int rc = repo ? bkp_repo_open_copy(repo, c->r, 0, &copy) : -ENOMEM;
    if (!rc)
        rc = bkp_gen_list(copy, NULL, &v, &n);
    if (!rc && (!(keep = calloc(n + 1, sizeof(*keep))) || !(doomed = calloc(n + 1, 1))))
        rc = -ENOMEM;
    if (!rc) {
        ops_prune_decide(c->policy, v, n, true, keep);
        for (size_t i = 0; i < n; i++)
            doomed[i] = !keep[i] && !v[i]->pruned;
        rc = bkp_bucket_prune(s, copy, v, doomed, n, now, lock_mode(m->pm),
                              now + (time_t)m->pm->object.lock_days * DAY, &res);
    }
    json_t *fig = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "generations_deleted",
                            (json_int_t)res.generations, "packs_deleted", (json_int_t)res.packs,
                            "audit_versions_deleted", (json_int_t)res.audit_versions,
                            "versions_deleted", (json_int_t)res.versions, "versions_locked",
                            (json_int_t)res.locked, "packs_kept_all", res.packs_kept_all);
    bkp_audit_rec rec = {.op = "prune",
                         .medium = m->name,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? bkp_strerror(rc) : NULL};
    (void)cli_audit(c, &rec);
    if (rc)
        bkp_warn(_("%s: the bucket could not be pruned (above); the copy is complete"), m->name);
    else if (res.generations || res.packs)
        bkp_info(_("%s: pruned %llu generation(s) and %llu pack(s) whose locks had passed; %llu "
                   "version(s) are still locked"),
                 m->name, (unsigned long long)res.generations, (unsigned long long)res.packs,
                 (unsigned long long)res.locked);
    json_decref(fig);
    free(doomed);
    free(keep);
    bkp_gen_list_free(v, n);
    bkp_repo_free(copy);
    free(repo);
}

/* What the bucket holds, from the working copy the rotation left. */
static json_t *held_in(bkp_repo *primary, const char *staging)
{
    char *repo = bkp_path_join(staging, "repo");
    bkp_repo *copy = NULL;
    json_t *held = NULL;
    if (repo && bkp_repo_open_copy(repo, primary, BKP_REPO_READONLY, &copy) == 0)
        held = ops_held_list(copy);
    bkp_repo_free(copy);
    free(repo);
    return held ? held : json_array();
}

int cli_rotate_object(cli *c, cli_medium *m, bool quiet)
{
    bkp_s3 *s = NULL;
    bkp_lock *lk = NULL;
    bkp_gen **v = NULL, **pick = NULL;
    time_t *until = NULL, now = bkp_now();
    size_t n = 0, np = 0;
    bkp_bucket_result res = {0};
    json_t *copied = json_array(), *held = NULL, *label = NULL;
    char *staging = NULL, lname[128];
    int rc = 0, ex = cli_object_open(c, m, &s);
    if (ex)
        goto out;
    ex = EXIT_FAILED;
    /* One rotation to a bucket at a time (the bucket itself holds no lock). */
    snprintf(lname, sizeof(lname), "rotate-%s", m->name);
    if ((rc = bkp_lock_take(bkp_repo_path(c->r), lname, "bkp rotate", &lk))) {
        ex = rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
        goto out;
    }
    const char *ruuid =
        json_string_value(json_object_get(json_object_get(m->entry, "label"), "uuid"));
    bool behind = false;
    if (!ruuid || (rc = bkp_bucket_find_label(s, ruuid, &label, &behind))) {
        bkp_error(_("%s: the bucket %s is %s; label it first: bkp media label --name %s"), m->name,
                  m->pm->object.bucket,
                  rc == -ENOENT || (!rc && !ruuid) ? _("not labelled for this repository")
                  : rc                             ? _("not readable")
                                                   : _("labelled as another medium"),
                  m->name);
        ex = rc && rc != -ENOENT ? EXIT_FAILED : EXIT_USAGE;
        goto record;
    }
    if (behind) {
        /* Its lock is extended with the rest by the rotation below. */
        char *text = json_dumps(label, JSON_INDENT(2) | JSON_SORT_KEYS);
        bkp_warn(_("%s: the bucket's label was hidden (a delete marker or another version put in "
                   "front of it); the registered label, still locked behind, is put back in front"),
                 m->name);
        rc = text ? bkp_s3_put(s, BKP_LABEL_FILE, -1, text, strlen(text), lock_mode(m->pm),
                               now + (time_t)m->pm->object.lock_days * DAY, NULL)
                  : -ENOMEM;
        free(text);
        if (rc)
            goto record;
    }
    if ((rc = bkp_gen_list(c->r, NULL, &v, &n)) || !(pick = calloc(n + 1, sizeof(*pick))) ||
        !(until = calloc(n + 1, sizeof(*until))) || !(staging = work_dir(c, m->name))) {
        rc = rc ? rc : -ENOMEM;
        goto record;
    }
    np = ops_rotate_choose(c->policy, m->name, v, n, pick);
    for (size_t i = 0; i < np; i++) {
        char name[96];
        until[i] = until_of(c->policy, m->pm, pick[i], now);
        json_array_append_new(copied, json_string(bkp_gen_name(pick[i], name, sizeof(name))));
    }
    rc = bkp_bucket_copy(c->r, s, pick, until, np, lock_mode(m->pm),
                         now + (time_t)m->pm->object.lock_days * DAY, staging, &res);
    if (!rc) {
        prune_bucket(c, m, s, staging, now);
        held = held_in(c->r, staging);
    }
record:;
    json_t *fig = json_pack("{s:O, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "generations", copied,
                            "mode", m->pm->object.governance ? "governance" : "compliance", "packs",
                            (json_int_t)res.copy.packs, "bytes", (json_int_t)res.copy.bytes,
                            "packs_present", (json_int_t)res.copy.packs_present, "records",
                            (json_int_t)res.copy.records, "locks_extended",
                            (json_int_t)res.extended, "retain_until", (json_int_t)res.until);
    if (ops_rotate_record(c->r, m->name, ex != EXIT_FAILED || rc, pick, np, fig) && !rc)
        rc = -EIO;
    json_decref(fig);
    note nt = {.held = held, .wrote = !rc && held};
    if (held && bkp_media_update(c->r, m->name, note_entry, &nt) && !rc)
        rc = -EIO;
    if (ex == EXIT_FAILED)
        ex = rc ? EXIT_FAILED : EXIT_OK;
    if (ex == EXIT_OK && c->json && !quiet) {
        cli_print_json(json_pack("{s:s, s:O, s:I, s:I, s:I, s:I, s:O}", "medium", m->name,
                                 "generations", copied, "packs", (json_int_t)res.copy.packs,
                                 "bytes", (json_int_t)res.copy.bytes, "packs_present",
                                 (json_int_t)res.copy.packs_present, "locks_extended",
                                 (json_int_t)res.extended, "held", held));
    } else if (ex == EXIT_OK && !quiet) {
        char sz[32], when[32];
        cli_when(when, sizeof(when), res.until);
        printf(_("%s: copied %zu generation(s) to bucket %s — %llu pack(s) uploaded (%s, each "
                 "checked by the server's MD5), %llu already there (%llu lock(s) extended). Every "
                 "object is locked (%s) until at least its generation's date; the latest is %s.\n"),
               m->name, np, m->pm->object.bucket, (unsigned long long)res.copy.packs,
               cli_size(sz, sizeof(sz), res.copy.bytes), (unsigned long long)res.copy.packs_present,
               (unsigned long long)res.extended,
               m->pm->object.governance ? "GOVERNANCE" : "COMPLIANCE", when);
        printf(_("%s now holds %zu generation(s).\n"), m->name, json_array_size(held));
    } else if (ex == EXIT_FAILED && res.copy.packs) {
        bkp_error(_("%s: %llu pack(s) were uploaded and locked before the failure; they are not "
                    "uploaded again. Run `bkp rotate %s` again once the cause is fixed"),
                  m->name, (unsigned long long)res.copy.packs, m->name);
    }
out:
    if (staging) {
        (void)bkp_remove_tree(staging);
        free(staging);
    }
    json_decref(label);
    json_decref(copied);
    json_decref(held);
    free(until);
    free(pick);
    bkp_gen_list_free(v, n);
    bkp_lock_release(lk);
    bkp_s3_close(s);
    return ex;
}

/* ---- fetch, for restore --from and verify --media ---- */

/* Add the packs of generation `g` to `want`; false (said why) when they
 * cannot be known, and every pack is fetched. */
static bool want_gen(bkp_repo *copy, const bkp_gen *g, bkp_bucket_packset *want)
{
    int rc = g->status ? g->status : bkp_bucket_packset_add(copy, g, want);
    if (rc && rc != -ENOMEM)
        bkp_warn(_("%s:%u: the bucket has no signed list of its packs that checks (%s); every "
                   "pack is fetched"),
                 g->dataset, g->seq, bkp_strerror(rc));
    return !rc;
}

/* The packs `what` needs in `copy` (records fetched, no packs yet): 0 with
 * `*subset` set when `want` holds them, 0 without it for every pack, or
 * the exit code of a generation that is not there (logged). */
static int want_of(bkp_repo *copy, const cli_fetch_what *what, bkp_bucket_packset *want,
                   bool *subset)
{
    bool ok = true;
    *subset = false;
    if (!what || (!what->spec && !what->ndatasets))
        return EXIT_OK;
    if (what->spec) {
        bkp_gen *g = NULL;
        int rc = bkp_gen_resolve(copy, what->spec, &g);
        if (rc)
            return cli_exit_for(rc);
        ok = want_gen(copy, g, want);
        bkp_gen_free(g);
    }
    for (size_t d = 0; ok && d < what->ndatasets; d++) {
        bkp_gen **v = NULL;
        size_t n = 0, taken = 0;
        if (bkp_gen_list(copy, what->datasets[d], &v, &n))
            ok = false;
        for (size_t i = n; ok && i-- > 0 && taken < CLI_FETCH_NEWEST;)
            if (!v[i]->pruned && !v[i]->status && (taken++, !want_gen(copy, v[i], want)))
                ok = false;
        bkp_gen_list_free(v, n);
    }
    if (ok)
        bkp_bucket_packset_sort(want);
    *subset = ok;
    return EXIT_OK;
}

int cli_object_fetch(cli *c, const cli_medium *m, bool as_copy, const cli_fetch_what *what,
                     bkp_repo **out, char **staging, bkp_bucket_fetch *f)
{
    bkp_bucket_packset want = {0};
    bool subset = false;
    bkp_s3 *s = NULL;
    char *pass = NULL, *repo = NULL;
    size_t plen = 0;
    int rc, ex = cli_object_open(c, m, &s);
    if (ex)
        return ex;
    ex = EXIT_FAILED;
    if (!(*staging = staging_dir("fetch")) || !(repo = bkp_path_join(*staging, "repo")))
        goto out;
    bkp_info(_("fetching %s from bucket %s into %s"), m->name, m->pm->object.bucket, *staging);
    if (bkp_bucket_fetch_meta(s, *staging, f))
        goto out;
    if (as_copy) { /* beside the primary: its keys, and the copy must be of it */
        rc = bkp_repo_open_copy(repo, c->r, BKP_REPO_READONLY, out);
    } else if (c->nkey_from) {
        rc = cli_open_key_from(c, repo, BKP_REPO_READONLY, true, out);
    } else {
        cli_passphrase_source(c);
        if (bkp_passphrase_get(c->passphrase_file, 0, &pass, &plen)) {
            ex = EXIT_USAGE;
            goto out;
        }
        rc = bkp_repo_open(repo, pass, plen, BKP_REPO_READONLY, out);
        /* Not taken by the newest key file: an older one of the bucket's
         * (a key file from before `bkp key passwd` replayed in front). */
        for (int i = 1; rc == -EKEYREJECTED && i <= 16; i++) {
            char name[32], *older, *cur;
            snprintf(name, sizeof(name), "key-older-%d", i);
            older = bkp_path_join(*staging, name);
            cur = bkp_path_join(repo, "keys/key");
            if (!older || !cur || access(older, F_OK) ||
                bkp_durable_rename(older, cur, 0)) {
                free(older);
                free(cur);
                break;
            }
            bkp_warn(_("%s: the newest key file in the bucket does not take this passphrase; an "
                       "older one is tried (a retired one may have been put in front)"),
                     m->name);
            rc = bkp_repo_open(repo, pass, plen, BKP_REPO_READONLY, out);
            free(older);
            free(cur);
        }
        bkp_passphrase_free(pass, plen);
    }
    if (rc) {
        ex = rc == -EINVAL ? EXIT_USAGE : cli_exit_open(rc, repo);
        goto out;
    }
    if ((ex = want_of(*out, what, &want, &subset)))
        goto out;
    ex = EXIT_FAILED;
    if (!(rc = bkp_bucket_fetch_packs(s, *out, subset ? &want : NULL, f))) {
        char sz[32];
        bkp_info(_("fetched %llu pack(s), %s, from %s%s%s"), (unsigned long long)f->packs,
                 cli_size(sz, sizeof(sz), f->bytes), m->name,
                 subset ? _(" (those the generations asked for need)") : "",
                 f->nstale || f->ndamaged ? _("; some are damaged or forged (above)") : "");
        if (subset && f->packs + f->ndamaged < want.n)
            bkp_warn(_("%s: %zu pack(s) that the signed lists name are not in the bucket at all; "
                       "what needs them cannot be restored from it. Run `bkp verify --media %s`"),
                     m->name, want.n - (size_t)(f->packs + f->ndamaged), m->name);
        ex = EXIT_OK;
    }
out:
    bkp_bucket_packset_free(&want);
    free(repo);
    bkp_s3_close(s);
    return ex;
}

int cli_object_repair(cli *c, const cli_medium *m, bkp_repo *src, const bkp_bucket_fetch *f,
                      json_t *fixed)
{
    bkp_s3 *s = NULL;
    int left = 0;
    if (cli_object_open(c, m, &s))
        return (int)(f->nstale + f->ndamaged + f->nhidden);
    time_t until = bkp_now() + (time_t)m->pm->object.lock_days * DAY;
    /* A hidden or forged config or key file: the repair source's goes in front. */
    for (size_t i = 0; i < f->nhidden; i++) {
        if (strcmp(f->hidden[i], "config") && strcmp(f->hidden[i], "keys/key")) {
            left++; /* records: `bkp rotate` puts them back */
            continue;
        }
        if (bkp_bucket_put_file(s, src, f->hidden[i], lock_mode(m->pm), until))
            left++;
        else
            json_array_append_new(fixed, json_string(f->hidden[i]));
    }
    for (size_t i = 0; i < f->nstale + f->ndamaged; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, f->bad[i], BKP_ID_LEN);
        if (bkp_bucket_put_pack(s, src, f->bad[i], f->bad_version[i], lock_mode(m->pm), until,
                                NULL))
            left++;
        else
            json_array_append_new(fixed, json_string(hex));
    }
    bkp_s3_close(s);
    return left;
}
