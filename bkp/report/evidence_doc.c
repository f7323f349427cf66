/* evidence_doc.c — the evidence record's one codec (evidence_doc.h): the
 * JSON it is written as, and back. */
#include "bkp/report/evidence_doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"

/* Documents written before "immutable", "offsite" and "rule" were parts of
 * their own have none of them (and said them in "media"): those parts are
 * read with no evidence, which the report shows as not judged (evidence.c). */
static const char *const part_names[RB_EV_PARTS] = {
    "generations", "offline", "immutable", "media", "offsite", "rule", "procedure", "drill", "audit"};

static const char *const kind_names[] = {"attended", "unattended", "key_recovery", "recovery"};

/* ---- emit ---- */

/* Member `k` of `o` set to `v` (a new reference) unless `v` is NULL: an
 * unsaid member is absent, as the records it came from leave it. */
static void put(json_t *o, const char *k, json_t *v)
{
    if (o && v)
        json_object_set_new(o, k, v);
}

static json_t *text(const char *s)
{
    return s ? json_string(s) : NULL;
}

/* A string, or null when not said (as a record cited always has these). */
static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *entry_json(const rb_ev_entry *e)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:s*}", "seq", (json_int_t)e->seq, "time",
                     bkp_json_when(e->time), "outcome", text_or_null(e->outcome), "medium",
                     text_or_null(e->medium), "generation", text_or_null(e->generation), "error",
                     text_or_null(e->error), "error_ja", e->error_ja);
}

static json_t *entries_json(const rb_ev_entry *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, entry_json(&v[i]));
    return a;
}

static json_t *drill_json(const rb_ev_drill *d)
{
    json_t *o = entry_json(&d->e);
    put(o, "runbook", text(d->runbook));
    put(o, "seconds", d->seconds >= 0 ? json_real(d->seconds) : NULL);
    put(o, "rto_target_seconds", d->rto_target >= 0 ? json_integer(d->rto_target) : NULL);
    put(o, "rto_met", d->rto_met == RST_UNSAID ? NULL : json_boolean(d->rto_met == RST_YES));
    put(o, "failed_step", d->failed_step >= 0 ? json_integer(d->failed_step) : NULL);
    put(o, "not_rehearsed", d->not_rehearsed >= 0 ? json_integer(d->not_rehearsed) : NULL);
    put(o, "damaged", d->damaged >= 0 ? json_integer(d->damaged) : NULL);
    put(o, "kind", json_string(kind_names[d->kind]));
    put(o, "attested_by", text(d->attested_by));
    put(o, "read_from", text(d->read_from));
    put(o, "user", text(d->user));
    return o;
}

static json_t *runbook_json(const rb_ev_runbook *r)
{
    if (!r->name)
        return json_null();
    if (r->invalid)
        return json_pack("{s:s, s:b}", "name", r->name, "invalid", 1);
    return json_pack("{s:s, s:s?, s:s?, s:I, s:I}", "name", r->name, "file", r->file, "title",
                     r->title, "steps", (json_int_t)r->steps, "rto_seconds", (json_int_t)r->rto);
}

/* The slots of `d`'s schedule into its "backups" object `b`: 0, or -1
 * without memory (nothing half put that reads as "every one made"). */
static int slots_json(json_t *b, const rb_ev_dataset *d)
{
    json_t *when = json_array();
    int bad = !b || !when;
    for (size_t k = 0; !bad && k < d->nmissed; k++)
        bad = json_array_append_new(when, bkp_json_when(d->missed[k]));
    if (bad) {
        json_decref(when);
        return -1;
    }
    /* Each set_new takes its value, set or not. */
    bad = json_object_set_new(b, "missed_slots", when);
    bad |= json_object_set_new(b, "scheduled", json_integer((json_int_t)d->slots));
    bad |= json_object_set_new(b, "missed", json_integer((json_int_t)d->slots_missed));
    return bad ? -1 : 0;
}

static json_t *dataset_json(const rb_ev_dataset *d)
{
    json_t *rot = json_array(), *drills = json_array();
    for (size_t i = 0; rot && i < d->nrotations; i++) {
        json_t *r = entry_json(&d->rotations[i].e);
        put(r, "refused", d->rotations[i].refused ? json_true() : NULL);
        put(r, "offline", d->rotations[i].offline ? json_true() : NULL);
        json_array_append_new(rot, r);
    }
    for (size_t i = 0; drills && i < d->ndrills; i++)
        json_array_append_new(drills, drill_json(&d->drills[i]));
    bool st = d->has_status;
    json_t *o = json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I, s:I, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:I, "
        "s:o, s:o}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "backups", "ok", (json_int_t)d->backups_ok, "failed",
        (json_int_t)d->backups_failed, "suspicious", (json_int_t)d->backups_suspicious, "records",
        entries_json(d->backups, d->nbackups), "generations_kept",
        st ? json_integer((json_int_t)d->generations) : json_null(), "verdict",
        st ? json_string(pol_verdict_name(d->verdict)) : json_null(), "reasons",
        st ? rst_reasons_json(&d->en) : json_null(), "counted",
        st ? rst_counts_json(&d->counted) : json_null(), "required",
        st ? rst_counts_json(&d->required) : json_null(), "rotations", rot,
        "offline_longest_gap_seconds", (json_int_t)d->offline_gap, "offline_gap_ok",
        d->offline_gap_ok, "offline_max_age_seconds", (json_int_t)d->offline_max_age, "drills",
        drills, "runbook", runbook_json(&d->runbook));
    if (o && d->has_slots && slots_json(json_object_get(o, "backups"), d)) {
        json_decref(o); /* never a count without its missed nights */
        return NULL;
    }
    if (st) {
        put(o, "copies_on_media", rst_copies_json(d->copies, d->ncopies));
        put(o, "reasons_ja", rst_reasons_json(&d->ja));
    }
    put(o, "generations_at_end",
        d->held_at_end >= 0 ? json_integer((json_int_t)d->held_at_end) : json_null());
    put(o, "generations_at_end_record", json_integer((json_int_t)d->held_seq));
    put(o, "offline_longest_gap_end",
        d->offline_gap_end ? bkp_json_when(d->offline_gap_end) : json_null());
    put(o, "offline_at_end_ok",
        d->offline_at_end_ok == RST_UNSAID ? json_null()
                                           : json_boolean(d->offline_at_end_ok == RST_YES));
    put(o, "offline_lapses", json_integer((json_int_t)d->offline_lapses));
    return o;
}

static json_t *key_op_json(const rb_ev_key_op *k)
{
    json_t *o = json_pack("{s:I, s:o, s:o, s:o}", "seq", (json_int_t)k->e.seq, "time",
                          bkp_json_when(k->e.time), "outcome", text_or_null(k->e.outcome), "medium",
                          text_or_null(k->e.medium)),
           *fig = json_object();
    put(o, "op", json_string(k->op ? k->op : ""));
    put(o, "key_recovery", json_boolean(k->key_recovery));
    if (k->older_split)
        put(o, "older_split", json_integer((json_int_t)k->older_split));
    put(o, "user", text_or_null(k->user));
    put(o, "host", text_or_null(k->host));
    put(o, "dataset", text_or_null(k->dataset));
    for (size_t i = 0; fig && i < k->nfigures; i++) {
        const rb_ev_figure *f = &k->figures[i];
        json_object_set_new(fig, f->name,
                            f->integer ? json_integer(strtoll(f->value, NULL, 10))
                                       : json_string(f->value));
    }
    put(o, "figures", fig);
    return o;
}

static json_t *audit_json(const rst_audit *a)
{
    json_t *o = json_pack("{s:b, s:I, s:s}", "ok", a->ok, "records", (json_int_t)a->records,
                          "problem", a->problem);
    if (o && !a->ok)
        bkp_audit_problem_to_json(&a->why, o);
    return o;
}

static json_t *statement_json(const rb_evidence *ev)
{
    json_t *parts = json_array();
    for (size_t i = 0; parts && i < RB_EV_PARTS; i++) {
        const rb_ev_part *p = &ev->parts[i];
        json_array_append_new(parts, json_pack("{s:s, s:b, s:{s:s, s:s}}", "part", part_names[i],
                                               "ok", p->ok, "evidence", "en", p->en ? p->en : "",
                                               "ja", p->ja ? p->ja : ""));
    }
    return json_pack("{s:b, s:o}", "answer", ev->answer, "parts", parts);
}

json_t *rb_evidence_json(const rb_evidence *ev)
{
    json_t *sets = json_array(), *period = json_pack("{s:o, s:o}", "from", bkp_json_when(ev->from),
                                                     "to", bkp_json_when(ev->to));
    for (size_t i = 0; sets && i < ev->ndatasets; i++)
        json_array_append_new(sets, dataset_json(&ev->datasets[i]));
    if (period && ev->asked_from) { /* the period was shortened, and why */
        json_object_set_new(period, "asked_from", bkp_json_when(ev->asked_from));
        json_object_set_new(period, "since_creation", json_true());
        json_object_set_new(period, "from_default", json_boolean(ev->from_default));
    }
    json_t *o = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "repository",
        ev->repository ? json_string(ev->repository) : json_null(), "repository_id",
        ev->repository_id ? json_string(ev->repository_id) : json_null(), "period", period,
        "generated", bkp_json_when(ev->generated), "audit", audit_json(&ev->audit), "verifications",
        entries_json(ev->verifications, ev->nverifications), "datasets", sets);
    put(o, "fingerprint", text(ev->fingerprint));
    put(o, "facility", text(ev->facility));
    if (o && ev->has_key_ops) {
        json_t *ops = json_array();
        for (size_t i = 0; ops && i < ev->nkey_ops; i++)
            json_array_append_new(ops, key_op_json(&ev->key_ops[i]));
        put(o, "key_operations", ops);
    }
    if (o && ev->judged)
        put(o, "statement", statement_json(ev));
    return o;
}

/* ---- parse (bkp/io/json.h) ---- */

static void entry_parse(bkp_jin *p, const json_t *j, rb_ev_entry *e)
{
    e->seq = (uint64_t)bkp_jin_integer(p, j, "seq", 0, INT64_MAX, 0);
    e->time = bkp_jin_time(p, j, "time");
    e->outcome = bkp_jin_str(p, j, "outcome");
    e->medium = bkp_jin_str(p, j, "medium");
    e->generation = bkp_jin_str(p, j, "generation");
    e->error = bkp_jin_str(p, j, "error");
    e->error_ja = bkp_jin_str(p, j, "error_ja");
}

static void entries_parse(bkp_jin *p, const json_t *j, const char *k, rb_ev_entry **v, size_t *n)
{
    json_t *a = bkp_jin_objects(p, j, k, (void **)v, sizeof(**v)), *o;
    size_t i;
    json_array_foreach(a, i, o) entry_parse(p, o, &(*v)[(*n)++]);
}

static void drill_parse(bkp_jin *p, const json_t *j, rb_ev_drill *d)
{
    entry_parse(p, j, &d->e);
    d->runbook = bkp_jin_str(p, j, "runbook");
    d->seconds = bkp_jin_number(p, j, "seconds", 0, RST_SECONDS_MAX, -1);
    d->rto_target = bkp_jin_integer(p, j, "rto_target_seconds", 0, RST_SECONDS_MAX, -1);
    d->rto_met = (rst_tri)bkp_jin_tri(p, j, "rto_met");
    d->failed_step = bkp_jin_integer(p, j, "failed_step", 0, INT32_MAX, -1);
    d->not_rehearsed = bkp_jin_integer(p, j, "not_rehearsed", 0, INT32_MAX, -1);
    d->damaged = bkp_jin_integer(p, j, "damaged", 0, INT64_MAX, -1);
    json_t *k = bkp_jin_member(p, j, "kind", JSON_STRING);
    d->kind = RB_EV_ATTENDED; /* a drill before kinds were said was attended */
    for (size_t i = 0; k && i < sizeof(kind_names) / sizeof(*kind_names); i++)
        if (!strcmp(json_string_value(k), kind_names[i]))
            d->kind = (rb_ev_kind)i, k = NULL;
    if (k)
        bkp_jin_bad(p, -EBADMSG);
    d->attested_by = bkp_jin_str(p, j, "attested_by");
    d->read_from = bkp_jin_str(p, j, "read_from");
    d->user = bkp_jin_str(p, j, "user");
}

static void runbook_parse(bkp_jin *p, const json_t *j, rb_ev_runbook *r)
{
    json_t *o = bkp_jin_member(p, j, "runbook", JSON_OBJECT);
    if (!o)
        return;
    r->name = bkp_jin_str(p, o, "name");
    r->invalid = bkp_jin_flag(p, o, "invalid");
    r->file = bkp_jin_str(p, o, "file");
    r->title = bkp_jin_str(p, o, "title");
    r->steps = (size_t)bkp_jin_integer(p, o, "steps", 0, INT32_MAX, 0);
    r->rto = bkp_jin_integer(p, o, "rto_seconds", 0, RST_SECONDS_MAX, 0);
    if (!r->name)
        bkp_jin_bad(p, -EBADMSG);
}

/* The slots of the schedule, as slots_json writes them: all three members
 * or none; the first of the missed named, as many as it keeps, in order. */
static void slots_parse(bkp_jin *p, const json_t *b, rb_ev_dataset *d)
{
    json_t *sch = bkp_jin_member(p, b, "scheduled", JSON_INTEGER);
    json_t *mis = bkp_jin_member(p, b, "missed", JSON_INTEGER);
    json_t *when = bkp_jin_member(p, b, "missed_slots", JSON_ARRAY), *w;
    if (!sch && !mis && !when)
        return; /* a document written before, or a data set with no count */
    if (!sch || !mis || !when) {
        bkp_jin_bad(p, -EBADMSG);
        return;
    }
    d->has_slots = true;
    d->slots = (size_t)bkp_jin_integer(p, b, "scheduled", 1, INT64_MAX, 1);
    d->slots_missed = (size_t)bkp_jin_integer(p, b, "missed", 0, (int64_t)d->slots, 0);
    size_t k, named = d->slots_missed < POL_SLOTS_NAMED ? d->slots_missed : POL_SLOTS_NAMED;
    if (json_array_size(when) != named)
        bkp_jin_bad(p, -EBADMSG);
    json_array_foreach(when, k, w)
    {
        time_t t = json_is_string(w) ? bkp_iso_parse(json_string_value(w)) : -1;
        if (k >= named || t <= 0 || (k && t <= d->missed[k - 1])) {
            bkp_jin_bad(p, -EBADMSG);
            break;
        }
        d->missed[d->nmissed++] = t;
    }
}

static void dataset_parse(bkp_jin *p, const json_t *j, rb_ev_dataset *d)
{
    json_t *b = bkp_jin_member(p, j, "backups", JSON_OBJECT), *a, *o;
    size_t i;
    d->name = bkp_jin_str(p, j, "dataset");
    d->description = bkp_jin_str(p, j, "description");
    d->priority = (int)bkp_jin_integer(p, j, "priority", INT32_MIN, INT32_MAX, 0);
    d->backups_ok = (size_t)bkp_jin_integer(p, b, "ok", 0, INT64_MAX, 0);
    d->backups_failed = (size_t)bkp_jin_integer(p, b, "failed", 0, INT64_MAX, 0);
    d->backups_suspicious = (size_t)bkp_jin_integer(p, b, "suspicious", 0, INT64_MAX, 0);
    entries_parse(p, b, "records", &d->backups, &d->nbackups);
    slots_parse(p, b, d);
    /* The status of now: all there, or all null. */
    json_t *v = bkp_jin_member(p, j, "verdict", JSON_STRING);
    d->has_status = v != NULL;
    if (v && pol_verdict_named(json_string_value(v), &d->verdict))
        bkp_jin_bad(p, -EBADMSG);
    if (d->has_status) {
        d->generations = (size_t)bkp_jin_integer(p, j, "generations_kept", 0, INT64_MAX, 0);
        rst_reasons_parse(p, j, "reasons", &d->en);
        rst_reasons_parse(p, j, "reasons_ja", &d->ja);
        rst_counts_parse(p, bkp_jin_member(p, j, "counted", JSON_OBJECT), &d->counted);
        rst_counts_parse(p, bkp_jin_member(p, j, "required", JSON_OBJECT), &d->required);
        rst_copies_parse(p, j, &d->copies, &d->ncopies);
    }
    a = bkp_jin_objects(p, j, "rotations", (void **)&d->rotations, sizeof(*d->rotations));
    json_array_foreach(a, i, o)
    {
        rb_ev_rotation *r = &d->rotations[d->nrotations++];
        entry_parse(p, o, &r->e);
        r->refused = bkp_jin_flag(p, o, "refused");
        r->offline = bkp_jin_flag(p, o, "offline");
    }
    d->offline_gap = bkp_jin_integer(p, j, "offline_longest_gap_seconds", 0, INT64_MAX, 0);
    d->offline_gap_ok = bkp_jin_flag(p, j, "offline_gap_ok");
    d->offline_max_age = bkp_jin_integer(p, j, "offline_max_age_seconds", 0, INT64_MAX, 0);
    d->offline_gap_end = bkp_jin_time(p, j, "offline_longest_gap_end");
    d->offline_at_end_ok = (rst_tri)bkp_jin_tri(p, j, "offline_at_end_ok");
    d->offline_lapses = bkp_jin_integer(p, j, "offline_lapses", 0, INT64_MAX, 0);
    d->held_at_end = bkp_jin_integer(p, j, "generations_at_end", 0, INT64_MAX, -1);
    d->held_seq = (uint64_t)bkp_jin_integer(p, j, "generations_at_end_record", 0, INT64_MAX, 0);
    a = bkp_jin_objects(p, j, "drills", (void **)&d->drills, sizeof(*d->drills));
    json_array_foreach(a, i, o) drill_parse(p, o, &d->drills[d->ndrills++]);
    runbook_parse(p, j, &d->runbook);
    if (!d->name)
        bkp_jin_bad(p, -EBADMSG);
}

static bool secret_name(const char *k)
{
    return strstr(k, "secret") || strstr(k, "passphrase") || strstr(k, "master");
}

static int add_figure(rb_ev_key_op *op, const char *k, const json_t *v, bool deep)
{
    const char *name;
    json_t *m;
    char val[256];
    if (secret_name(k))
        return 0;
    if (json_is_object(v)) {
        int rc = 0;
        json_object_foreach((json_t *)v, name, m) if (deep && !rc) rc =
            add_figure(op, name, m, false);
        return rc;
    }
    for (size_t i = 0; i < op->nfigures; i++)
        if (!strcmp(op->figures[i].name, k))
            return 0;
    bkp_json_value_text(val, sizeof(val), v);
    rb_ev_figure *f = realloc(op->figures, (op->nfigures + 1) * sizeof(*f));
    if (!f)
        return -ENOMEM;
    op->figures = f;
    f = &op->figures[op->nfigures];
    f->integer = json_is_integer(v);
    if (!(f->name = strdup(k)) || !(f->value = strdup(val))) {
        free(f->name);
        return -ENOMEM;
    }
    op->nfigures++;
    return 0;
}

int rb_ev_key_op_figure(rb_ev_key_op *op, const char *k, const json_t *v)
{
    return add_figure(op, k, v, true);
}

static void key_op_parse(bkp_jin *p, const json_t *j, rb_ev_key_op *k)
{
    entry_parse(p, j, &k->e);
    k->op = bkp_jin_str(p, j, "op");
    k->key_recovery = bkp_jin_flag(p, j, "key_recovery");
    k->older_split = (uint64_t)bkp_jin_integer(p, j, "older_split", 0, INT64_MAX, 0);
    k->user = bkp_jin_str(p, j, "user");
    k->host = bkp_jin_str(p, j, "host");
    k->dataset = bkp_jin_str(p, j, "dataset");
    json_t *f = bkp_jin_member(p, j, "figures", JSON_OBJECT), *v;
    const char *name;
    json_object_foreach(f, name, v) if (!p->rc && rb_ev_key_op_figure(k, name, v))
        bkp_jin_bad(p, -ENOMEM);
}

static void audit_parse(bkp_jin *p, const json_t *j, rst_audit *a)
{
    if (!j)
        return; /* no audit part: not known to be intact */
    a->ok = bkp_jin_flag(p, j, "ok");
    a->records = (uint64_t)bkp_jin_integer(p, j, "records", 0, INT64_MAX, 0);
    bkp_jin_text(p, j, "problem", a->problem, sizeof(a->problem));
    (void)bkp_audit_problem_from_json(j, &a->why);
}

static void statement_parse(bkp_jin *p, const json_t *j, rb_evidence *ev)
{
    json_t *st = bkp_jin_member(p, j, "statement", JSON_OBJECT), *parts, *o;
    size_t i;
    bool seen[RB_EV_PARTS] = {false};
    if (!st)
        return;
    ev->judged = true;
    ev->answer = bkp_jin_flag(p, st, "answer");
    parts = bkp_jin_member(p, st, "parts", JSON_ARRAY);
    json_array_foreach(parts, i, o)
    {
        json_t *name = bkp_jin_member(p, o, "part", JSON_STRING);
        json_t *e = bkp_jin_member(p, o, "evidence", JSON_OBJECT);
        size_t k = 0;
        while (name && k < RB_EV_PARTS && strcmp(json_string_value(name), part_names[k]))
            k++;
        if (p->rc || k == RB_EV_PARTS || seen[k])
            return (void)bkp_jin_bad(p, -EBADMSG); /* unknown, or said twice */
        seen[k] = true;
        ev->parts[k].ok = bkp_jin_flag(p, o, "ok");
        ev->parts[k].en = bkp_jin_str(p, e, "en");
        ev->parts[k].ja = bkp_jin_str(p, e, "ja");
    }
}

int rb_evidence_parse(const json_t *j, rb_evidence *out)
{
    bkp_jin p = {0};
    json_t *a, *o;
    size_t i;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return -EBADMSG;
    out->repository = bkp_jin_str(&p, j, "repository");
    out->repository_id = bkp_jin_str(&p, j, "repository_id");
    out->fingerprint = bkp_jin_str(&p, j, "fingerprint");
    out->facility = bkp_jin_str(&p, j, "facility");
    json_t *period = bkp_jin_member(&p, j, "period", JSON_OBJECT);
    out->from = bkp_jin_time(&p, period, "from");
    out->to = bkp_jin_time(&p, period, "to");
    if (bkp_jin_flag(&p, period, "since_creation"))
        out->asked_from = bkp_jin_time_given(&p, period, "asked_from");
    out->from_default = bkp_jin_flag(&p, period, "from_default");
    out->generated = bkp_jin_time(&p, j, "generated");
    audit_parse(&p, bkp_jin_member(&p, j, "audit", JSON_OBJECT), &out->audit);
    entries_parse(&p, j, "verifications", &out->verifications, &out->nverifications);
    a = bkp_jin_objects(&p, j, "datasets", (void **)&out->datasets, sizeof(*out->datasets));
    json_array_foreach(a, i, o) dataset_parse(&p, o, &out->datasets[out->ndatasets++]);
    out->has_key_ops = bkp_jin_member(&p, j, "key_operations", JSON_ARRAY) != NULL;
    a = bkp_jin_objects(&p, j, "key_operations", (void **)&out->key_ops, sizeof(*out->key_ops));
    json_array_foreach(a, i, o) key_op_parse(&p, o, &out->key_ops[out->nkey_ops++]);
    statement_parse(&p, j, out);
    if (p.rc)
        rb_evidence_clear(out);
    return p.rc;
}

/* ---- free ---- */

void rb_ev_entry_clear(rb_ev_entry *e)
{
    free(e->outcome);
    free(e->medium);
    free(e->generation);
    free(e->error);
    free(e->error_ja);
}

static void dataset_clear(rb_ev_dataset *d)
{
    free(d->name);
    free(d->description);
    for (size_t i = 0; i < d->nbackups; i++)
        rb_ev_entry_clear(&d->backups[i]);
    free(d->backups);
    rst_copies_free(d->copies, d->ncopies);
    for (size_t i = 0; i < d->nrotations; i++)
        rb_ev_entry_clear(&d->rotations[i].e);
    free(d->rotations);
    for (size_t i = 0; i < d->ndrills; i++) {
        rb_ev_drill *r = &d->drills[i];
        rb_ev_entry_clear(&r->e);
        free(r->runbook);
        free(r->attested_by);
        free(r->read_from);
        free(r->user);
    }
    free(d->drills);
    free(d->runbook.name);
    free(d->runbook.file);
    free(d->runbook.title);
}

void rb_evidence_clear(rb_evidence *ev)
{
    free(ev->repository);
    free(ev->repository_id);
    free(ev->fingerprint);
    free(ev->facility);
    for (size_t i = 0; i < ev->nverifications; i++)
        rb_ev_entry_clear(&ev->verifications[i]);
    free(ev->verifications);
    for (size_t i = 0; i < ev->ndatasets; i++)
        dataset_clear(&ev->datasets[i]);
    free(ev->datasets);
    for (size_t i = 0; i < ev->nkey_ops; i++) {
        rb_ev_key_op *k = &ev->key_ops[i];
        rb_ev_entry_clear(&k->e);
        free(k->op);
        free(k->user);
        free(k->host);
        free(k->dataset);
        for (size_t f = 0; f < k->nfigures; f++) {
            free(k->figures[f].name);
            free(k->figures[f].value);
        }
        free(k->figures);
    }
    free(ev->key_ops);
    for (size_t i = 0; i < RB_EV_PARTS; i++) {
        free(ev->parts[i].en);
        free(ev->parts[i].ja);
    }
    memset(ev, 0, sizeof(*ev));
}
