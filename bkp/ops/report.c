/* report.c — see report.h. */
#include "bkp/ops/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/report/evidence.h"

typedef struct scan {
    time_t from, to;
    time_t first; /* the log's first sound record: the repository's creation */
    json_t *records; /* the records of the period, and the off-line rotations before it */
    const pol_policy *p;
} scan;

static bool offline_medium(const pol_policy *p, const char *name)
{
    const pol_medium *m = name ? pol_medium_find(p, name) : NULL;
    return m && m->offline;
}

static int collect(json_t *j, void *ctx)
{
    scan *s = ctx;
    time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
    const char *op = json_string_value(json_object_get(j, "op"));
    if (t > 0 && (!s->first || t < s->first))
        s->first = t;
    bool before = t < s->from;
    /* Rotations before the period tell how old the off-line copy was at its start. */
    if (t > s->to ||
        (before && !(op && !strcmp(op, "rotate") &&
                     offline_medium(s->p, json_string_value(json_object_get(j, "medium"))))))
        return 0;
    json_t *r = json_deep_copy(j);
    json_object_del(r, "sig");
    json_object_del(r, "prev");
    json_object_set_new(r, "before_period", json_boolean(before));
    json_array_append_new(s->records, r);
    return 0;
}

static bool is(json_t *r, const char *op)
{
    const char *o = json_string_value(json_object_get(r, "op"));
    return o && !strcmp(o, op);
}

static bool ok(json_t *r)
{
    const char *o = json_string_value(json_object_get(r, "outcome"));
    return o && !strcmp(o, "ok");
}

static bool names_dataset(json_t *r, const char *ds)
{
    const char *d = json_string_value(json_object_get(r, "dataset"));
    if (d)
        return !strcmp(d, ds);
    size_t i, l = strlen(ds);
    json_t *g;
    json_array_foreach(json_object_get(json_object_get(r, "figures"), "generations"), i, g)
    {
        const char *n = json_string_value(g);
        if (n && !strncmp(n, ds, l) && n[l] == ':')
            return true;
    }
    return false;
}

/* The capture time of the newest generation of `ds` a rotation left on its
 * medium (recorded since media exist), or 0. */
static time_t captured_of(json_t *r, const char *ds)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "figures"), "captured"), ds));
    time_t t = c ? bkp_iso_parse(c) : -1;
    return t > 0 ? t : 0;
}

static json_t *brief(json_t *r)
{
    return json_pack("{s:O, s:O, s:O?, s:O?, s:O?, s:O?}", "seq", json_object_get(r, "seq"), "time",
                     json_object_get(r, "time"), "outcome", json_object_get(r, "outcome"), "medium",
                     json_object_get(r, "medium"), "generation", json_object_get(r, "generation"),
                     "error", json_object_get(r, "error"));
}

/* What the records of the period say of one data set. */
typedef struct tally {
    json_t *backups, *rot, *drills;
    size_t bok, bfail, bsusp;
    time_t last_off; /* capture time of the newest off-line copy */
    int64_t gap;     /* the longest time without a newer off-line copy */
} tally;

static void drill_brief(json_t *r, tally *t)
{
    json_t *f = json_object_get(r, "figures"), *b = brief(r);
    json_object_set(b, "runbook", json_object_get(f, "runbook"));
    json_object_set(b, "seconds", json_object_get(f, "seconds"));
    json_object_set(b, "rto_target_seconds", json_object_get(f, "rto_target_seconds"));
    json_object_set(b, "rto_met", json_object_get(f, "rto_met"));
    json_object_set(b, "failed_step", json_object_get(f, "failed_step"));
    json_object_set(b, "not_rehearsed", json_object_get(f, "not_rehearsed"));
    json_object_set(b, "damaged", json_object_get(f, "damaged"));
    /* Which kind of drill: a person attested it (and who), unattended (a
     * schedule's), or a key-recovery drill (the sheets alone). */
    json_object_set_new(b, "kind",
                        json_string(json_is_true(json_object_get(f, "key_recovery")) ? "key_recovery"
                                    : json_is_true(json_object_get(f, "attended"))   ? "attended"
                                    : json_is_false(json_object_get(f, "attended"))  ? "unattended"
                                    : json_integer_value(json_object_get(f, "not_rehearsed")) > 0
                                        ? "unattended"
                                        : "attended"));
    if (json_is_string(json_object_get(f, "attested_by")))
        json_object_set(b, "attested_by", json_object_get(f, "attested_by"));
    json_object_set(b, "read_from", json_object_get(f, "read_from"));
    json_object_set(b, "user", json_object_get(r, "user"));
    json_array_append_new(t->drills, b);
}

static void count_record(json_t *r, const pol_dataset *d, const scan *s, tally *tl)
{
    bool pre = json_is_true(json_object_get(r, "before_period"));
    time_t t = bkp_iso_parse(json_string_value(json_object_get(r, "time")));
    if (is(r, "backup") && names_dataset(r, d->name) && !pre) {
        bool susp = json_is_true(json_object_get(json_object_get(r, "figures"), "suspicious"));
        tl->bok += ok(r) && !susp;
        tl->bfail += !ok(r) && !susp;
        tl->bsusp += susp;
        json_array_append_new(tl->backups, brief(r));
    } else if (is(r, "rotate") && /* a failed one names no generation: it counts for the
                                       data sets the policy copies there */
               (names_dataset(r, d->name) || captured_of(r, d->name) ||
                                   (!ok(r) && pol_dataset_copies_to(d, json_string_value(
                                                              json_object_get(r, "medium")))))) {
        const char *m = json_string_value(json_object_get(r, "medium"));
        if (!pre) {
            json_t *b = brief(r);
            json_object_set(b, "refused",
                            json_object_get(json_object_get(r, "figures"), "refused"));
            json_array_append_new(tl->rot, b);
        }
        if (ok(r) && offline_medium(s->p, m)) {
            /* The copy is as old as the generation it holds, not the rotation. */
            time_t base = captured_of(r, d->name) ? captured_of(r, d->name) : t;
            time_t start = tl->last_off ? tl->last_off : s->from;
            if (!pre && t - start > tl->gap)
                tl->gap = t - start;
            if (base > tl->last_off)
                tl->last_off = base;
        }
    } else if (is(r, "drill") && names_dataset(r, d->name) && !pre)
        drill_brief(r, tl);
}

/* Its written procedure: name, file, title, steps and target; invalid when
 * it does not load; null when the data set names none. */
static json_t *runbook_part(const ops_report_in *in, const pol_dataset *d)
{
    rb_runbook *rb = NULL;
    json_t *runbook = json_null();
    if (d->runbook && !in->load_runbook(in->ctx, d->runbook, &rb))
        runbook = json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", rb->name, "file", rb->file,
                            "title", rb->title, "steps", (json_int_t)rb->nsteps, "rto_seconds",
                            (json_int_t)rb->rto);
    else if (d->runbook)
        runbook = json_pack("{s:s, s:b}", "name", d->runbook, "invalid", 1);
    rb_free(rb);
    return runbook;
}

/* The status of now of data set `name` in `status` (may be NULL), or NULL. */
static const rst_dataset *status_of(const rst_status *status, const char *name)
{
    for (size_t i = 0; status && i < status->ndatasets; i++)
        if (!strcmp(status->datasets[i].name, name))
            return &status->datasets[i];
    return NULL;
}

/* One data set's part of the report, with the data sets' status of now
 * `status` (may be NULL). */
static json_t *dataset_part(const ops_report_in *in, const pol_dataset *d, const scan *s,
                            const rst_status *status)
{
    const pol_policy *p = s->p;
    tally t = {.backups = json_array(), .rot = json_array(), .drills = json_array()};
    size_t i;
    json_t *r;
    json_array_foreach(s->records, i, r) count_record(r, d, s, &t);
    time_t end = s->to < bkp_now() ? s->to : bkp_now();
    if (end - (t.last_off ? t.last_off : s->from) > t.gap)
        t.gap = end - (t.last_off ? t.last_off : s->from);
    /* The status of now, for this data set. */
    const rst_dataset *st = status_of(status, d->name);
    return json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I, s:I, s:o}, s:o, s:o, s:o, s:o, s:o, s:o*, s:o*, s:o, "
        "s:I, s:b, s:I, s:o, s:o}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "backups", "ok", (json_int_t)t.bok, "failed", (json_int_t)t.bfail,
        "suspicious", (json_int_t)t.bsusp, "records", t.backups, "generations_kept",
        st ? json_integer((json_int_t)st->generations) : json_null(), "verdict",
        st ? json_string(pol_verdict_name(st->verdict)) : json_null(), "reasons",
        st ? rst_reasons_json(&st->en) : json_null(), "counted",
        st ? rst_counts_json(&st->counted) : json_null(), "required",
        st ? rst_counts_json(&st->required) : json_null(), "copies_on_media",
        st ? rst_copies_json(st->copies, st->ncopies) : NULL, "reasons_ja",
        st ? rst_reasons_json(&st->ja) : NULL, "rotations", t.rot, "offline_longest_gap_seconds", (json_int_t)t.gap, "offline_gap_ok",
        t.last_off && t.gap <= p->rule.offline_max_age, "offline_max_age_seconds",
        (json_int_t)p->rule.offline_max_age, "drills", t.drills, "runbook", runbook_part(in, d));
}

static json_t *verifications(json_t *records)
{
    json_t *verifs = json_array(), *r;
    size_t i;
    json_array_foreach(records, i, r)
    {
        if (is(r, "verify") && !json_is_true(json_object_get(r, "before_period")))
            json_array_append_new(verifs, brief(r));
    }
    return verifs;
}

/* ---- key operations: every use and change of the key in the period ---- */

/* The operations on the key the log records (cmd_key.c, open_key_from.c, and the
 * passphrase slots'), named here so that each appears once it is recorded. */
static bool key_op(json_t *r)
{
    static const char *const ops[] = {"key-export", "key-split",  "key-from",
                                      "key-add",    "key-passwd", "key-remove"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (is(r, ops[i]))
            return true;
    /* A key-recovery drill (drill.h) is a use of the sheets too. */
    return is(r, "drill") &&
           json_is_true(json_object_get(json_object_get(r, "figures"), "key_recovery"));
}

static json_t *key_ops(json_t *records)
{
    json_t *out = json_array(), *r;
    size_t i;
    json_array_foreach(records, i, r)
    {
        if (json_is_true(json_object_get(r, "before_period")) || !key_op(r))
            continue;
        json_t *f = json_object_get(r, "figures"), *fig = json_object();
        if (is(r, "drill")) { /* what the drill proved, not its report files */
            json_t *d = json_pack("{s:O?, s:O?, s:O?}", "runbook", json_object_get(f, "runbook"),
                                  "seconds", json_object_get(f, "seconds"), "key_sheets",
                                  json_object_get(f, "key_sheets"));
            json_object_update(fig, d);
            json_decref(d);
        } else if (json_is_object(f))
            json_object_update(fig, f);
        json_array_append_new(
            out,
            json_pack("{s:O, s:O, s:O, s:b, s:O?, s:O?, s:O?, s:O?, s:O?, s:o}", "seq",
                      json_object_get(r, "seq"), "time", json_object_get(r, "time"), "op",
                      json_object_get(r, "op"), "key_recovery", is(r, "drill"), "outcome",
                      json_object_get(r, "outcome"), "user", json_object_get(r, "user"), "host",
                      json_object_get(r, "host"), "dataset", json_object_get(r, "dataset"),
                      "medium", json_object_get(r, "medium"), "figures", fig));
    }
    return out;
}

/* The records of the period into `s` and the check of the whole log into
 * `chk`, from one reading of the log: the status's (`*status`, a new
 * reference, which hands each record it reads on to `collect`) when
 * `in->status_in` is given, else the report's own. 0 when the log was
 * checked (problems: `chk->bad`), or negative (-ENOENT: there is no log). */
static int read_log(const ops_report_in *in, scan *s, bkp_audit_check *chk, rst_status *status)
{
    if (in->status_in) {
        ops_status_in si = *in->status_in;
        ops_status_log found;
        si.also = collect;
        si.also_ctx = s;
        int rc = ops_status(&si, status, &found);
        if (!rc) {
            *chk = found.check;
            /* The status calls a log that is not there a problem; here it
             * stays the failure to read that it always was. */
            return found.rc == 1 && found.check.absent ? -ENOENT : found.rc < 0 ? found.rc : 0;
        }
        /* The log was read, then the status failed (no memory): its
         * records are in `s` already, and reading again would count them
         * twice. */
        if (found.read)
            return rc;
        /* The status could not be gathered and did not read the log. */
    }
    char *log = bkp_audit_path(in->repo);
    /* Evidence only from the part of the log that checks: a record an
     * insider appended without the key counts for nothing here. */
    int vrc =
        log ? bkp_audit_each_sound(log, bkp_repo_sign_pk(in->repo), collect, s, chk) : -ENOMEM;
    free(log);
    return vrc;
}

int ops_report(const ops_report_in *in, json_t **out)
{
    scan s = {.from = in->from, .to = in->to, .records = json_array(), .p = in->policy};
    bkp_audit_check chk = {0};
    rst_status status = {0};
    int vrc = read_log(in, &s, &chk, &status);
    bool bad = vrc != 0 || chk.bad; /* unreadable, or read and found wanting */
    /* The period starts no earlier than the repository: before it there was
     * nothing to back up, and no gap to count (the log's first record is its
     * creation). Records before that start do not exist. */
    time_t asked = s.from;
    if (s.first > s.to && !bad) { /* nothing of it existed: no "yes" of today's */
        char made[48];
        bkp_local_time(made, sizeof(made), s.first, "?");
        bkp_error(_("the repository was made on %s, after this period ended: there is nothing "
                    "to report for it; give a period that ends after that day"),
                  made);
        json_decref(s.records);
        rst_status_clear(&status);
        return -ENODATA;
    }
    if (s.first > s.from && s.first <= s.to)
        s.from = s.first;
    json_t *sets = json_array();
    for (size_t k = 0; k < in->policy->ndatasets; k++)
        json_array_append_new(sets, dataset_part(in, &in->policy->datasets[k], &s,
                                                 in->status_in ? &status : in->status));
    rst_status_clear(&status);
    char from[32], to[32], gen[32], asked_from[32];
    bkp_iso_time(asked_from, sizeof(asked_from), asked);
    bkp_iso_time(from, sizeof(from), s.from);
    bkp_iso_time(to, sizeof(to), s.to);
    bkp_iso_time(gen, sizeof(gen), bkp_now());
    json_t *ev =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:b, s:I, s:s}, s:o, s:o}", "repository",
                  bkp_repo_path(in->repo), "repository_id", bkp_repo_uuid(in->repo), "period",
                  "from", from, "to", to, "generated", gen, "audit", "ok", !bad, "records",
                  (json_int_t)chk.records, "problem", bad ? chk.problem : "", "verifications",
                  verifications(s.records), "datasets", sets);
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(in->repo), fp); /* pinned on paper with the report */
    json_object_set_new(ev, "fingerprint", json_string(fp));
    if (s.from != asked) { /* said on the report: the period was shortened, and why */
        json_object_set_new(json_object_get(ev, "period"), "asked_from", json_string(asked_from));
        json_object_set_new(json_object_get(ev, "period"), "since_creation", json_true());
        json_object_set_new(json_object_get(ev, "period"), "from_default",
                            json_boolean(in->from_default));
    }
    if (in->policy->facility)
        json_object_set_new(ev, "facility", json_string(in->policy->facility));
    /* The problem's code beside its English: the statement says it in each language. */
    if (vrc < 0 && !chk.why.code)
        chk.why = (bkp_audit_problem){.code = BKP_AUDIT_UNREADABLE, .err = vrc};
    if (bad)
        bkp_audit_problem_to_json(&chk.why, json_object_get(ev, "audit"));
    json_object_set_new(ev, "key_operations", key_ops(s.records));
    json_object_set_new(ev, "statement", rb_evidence_statement(ev));
    json_decref(s.records);
    *out = ev;
    return vrc < 0 ? vrc : 0;
}
