/* status_doc.c — the status record's one codec (status_doc.h): the JSON
 * it is written as, and back. */
#include "bkp/report/status_doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/media/label.h"

double rst_storage_ratio(const rst_storage *s)
{
    return s->newest ? (double)s->stored / (double)s->newest : 0;
}

bool rst_event_ok(const rst_event *e)
{
    return e->outcome && !strcmp(e->outcome, "ok");
}

bool rst_event_failed(const rst_event *e)
{
    return e->time && e->outcome && strcmp(e->outcome, "ok");
}

bool rst_drill_missed_offline(const rst_drill *d)
{
    return d->read_from && !strcmp(d->read_from, "no_offline");
}

const rst_words *rst_dataset_words(const rst_dataset *d, bool ja)
{
    return ja ? &d->ja : d->has_shown ? &d->shown : &d->en;
}

/* ---- emit ---- */

json_t *rst_reasons_json(const rst_words *w)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < w->nreasons; i++)
        json_array_append_new(a, json_string(w->reasons[i]));
    return a;
}

const char *rst_next(const rst_words *w)
{
    return w->nactions ? w->actions[0] : "";
}

static json_t *actions_json(const rst_words *w)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < w->nactions; i++)
        json_array_append_new(a, json_string(w->actions[i]));
    return a;
}

static json_t *words_json(const rst_words *w)
{
    return json_pack("{s:o, s:s, s:o}", "reasons", rst_reasons_json(w), "action", rst_next(w),
                     "actions", actions_json(w));
}

json_t *rst_counts_json(const rst_counts *c)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i}", "copies", c->copies, "media_types",
                     c->media_types, "offline", c->offline, "offsite", c->offsite, "immutable",
                     c->immutable);
}

json_t *rst_copies_json(const rst_copy *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:b, s:b, s:b, s:o, s:o, s:I, s:o}", "medium", v[i].medium,
                         "type", pol_medium_type_name(v[i].type), "offline", v[i].offline,
                         "offsite", v[i].offsite, "non_editable", v[i].non_editable, "proven",
                         bkp_json_when(v[i].proven), "immutable_files",
                         v[i].immutable_files == RST_UNSAID ? json_null()
                                                            : json_boolean(v[i].immutable_files),
                         "seq", (json_int_t)v[i].seq, "captured",
                         bkp_json_when(v[i].captured)));
    return a;
}

static json_t *event_json(const rst_event *e)
{
    return e->time ? json_pack("{s:o, s:s?}", "time", bkp_json_when(e->time), "outcome", e->outcome)
                   : json_null();
}

static json_t *tri_json(rst_tri t)
{
    return t == RST_UNSAID ? json_null() : json_boolean(t == RST_YES);
}

static json_t *drill_json(const rst_drill *d)
{
    json_t *j = event_json(&d->when);
    if (!json_is_object(j))
        return j;
    json_object_update_new(
        j, json_pack("{s:s?, s:o, s:o, s:o, s:o, s:s?}", "runbook", d->runbook, "seconds",
                     d->seconds < 0 ? json_null() : json_real(d->seconds), "rto_target_seconds",
                     d->rto_target < 0 ? json_null() : json_integer((json_int_t)d->rto_target),
                     "rto_met", tri_json(d->rto_met), "attended", tri_json(d->attended),
                     "read_from", d->read_from));
    if (d->attested_by)
        json_object_set_new(j, "attested_by", json_string(d->attested_by));
    return j;
}

static json_t *dataset_json(const rst_dataset *d)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:s, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "verdict", pol_verdict_name(d->verdict), "generations",
        (json_int_t)d->generations, "counted", rst_counts_json(&d->counted), "required",
        rst_counts_json(&d->required), "offline_age_seconds", (json_int_t)d->offline_age,
        "offline_max_age_seconds", (json_int_t)d->offline_max_age, "last_backup",
        bkp_json_when(d->last_backup), "last_backup_run", event_json(&d->last_backup_run),
        "last_verify", event_json(&d->last_verify), "last_drill", drill_json(&d->last_drill),
        "copies_on_media", rst_copies_json(d->copies, d->ncopies), "reasons",
        rst_reasons_json(&d->en), "action", rst_next(&d->en), "ja", words_json(&d->ja));
    if (j)
        json_object_set_new(j, "actions", actions_json(&d->en));
    if (j && d->last_attended.when.time)
        json_object_set_new(j, "last_attended_drill", drill_json(&d->last_attended));
    if (j && d->has_shown)
        json_object_set_new(j, "shown", words_json(&d->shown));
    if (j && d->suspicious)
        json_object_set_new(j, "suspicious", json_integer(d->suspicious));
    if (j && d->runbook_unusable)
        json_object_set_new(j, "runbook_unusable", json_string(d->runbook_unusable));
    return j;
}

static json_t *turns_json(const rst_status *s)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nrotations; i++) {
        const rst_turn *t = &s->rotations[i];
        json_t *j = json_pack("{s:s, s:s, s:b, s:b, s:o}", "medium", t->medium, "type",
                              pol_medium_type_name(t->type), "offline", t->offline, "offsite",
                              t->offsite, "when", bkp_json_when(t->when));
        if (j && t->done)
            json_object_set_new(j, "done", json_true());
        if (j && t->kept_at)
            json_object_set_new(j, "kept_at", json_string(t->kept_at));
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *audit_json(const rst_audit *a)
{
    json_t *j = json_pack("{s:o, s:I, s:b, s:b, s:s, s:I}", "checked", bkp_json_when(a->checked),
                          "records", (json_int_t)a->records, "ok", a->ok, "absent", a->absent,
                          "problem", a->problem, "restarts", (json_int_t)a->restarts);
    if (j)
        bkp_audit_problem_to_json(&a->why, j);
    return j;
}

static json_t *connected_json(const rst_status *s)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nconnected; i++) {
        const rst_connected *c = &s->connected[i];
        json_t *w = bkp_json_when(c->last_write);
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:b, s:b}", "medium", c->medium, "path",
                                           c->path, "last_write",
                                           json_is_null(w) ? json_string("") : w, "left", c->left,
                                           "due", c->due));
    }
    return a;
}

static json_t *storage_json(const rst_storage *s)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "stored", (json_int_t)s->stored,
                     "packs", (json_int_t)s->packs, "newest", (json_int_t)s->newest, "kept",
                     (json_int_t)s->kept, "generations", (json_int_t)s->generations, "datasets",
                     (json_int_t)s->datasets, "ratio", rst_storage_ratio(s));
}

static const char *const unfinished_names[] = {
    [RST_RUNNING] = "running", [RST_CUT_OFF] = "cut_off", [RST_FAILED] = "failed"};

static json_t *unfinished_json(const rst_medium *m)
{
    if (m->unfinished == RST_FINISHED)
        return NULL;
    return json_pack("{s:s, s:o, s:s*, s:s*, s:b, s:b}", "state", unfinished_names[m->unfinished],
                     "began", bkp_json_when(m->began), "why", m->why, "why_ja", m->why_ja, "full",
                     m->full, "pruned_first", m->pruned_first);
}

static json_t *media_json(const rst_status *s)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nmedia; i++) {
        const rst_medium *m = &s->media[i];
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o*}", "medium", m->medium, "type",
                              pol_medium_type_name(m->type), "bytes",
                              m->bytes ? json_integer((json_int_t)m->bytes) : json_null(),
                              "last_write", bkp_json_when(m->written), "unfinished",
                              unfinished_json(m));
        if (o && m->other_repository[0] &&
            (json_object_set_new(o, "other_repository", json_string(m->other_repository)) ||
             json_object_set_new(o, "path", json_string(m->path ? m->path : "")))) {
            json_decref(o);
            o = NULL;
        }
        if (o && m->keys_behind && json_object_set_new(o, "keys_behind", json_true())) {
            json_decref(o);
            o = NULL;
        }
        if (o && m->online && json_object_set_new(o, "online", json_true())) {
            json_decref(o);
            o = NULL;
        }
        if (o && m->has_free &&
            (json_object_set_new(o, "free_after", json_integer((json_int_t)m->free_after)) ||
             json_object_set_new(o, "wrote", json_integer((json_int_t)m->wrote)))) {
            json_decref(o);
            o = NULL;
        }
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

void rst_copy_kinds(const rst_status *s, bool *disk, bool *bucket)
{
    *disk = *bucket = false;
    for (size_t i = 0; i < s->nmedia; i++) {
        *disk |= s->media[i].type == POL_DISK || s->media[i].type == POL_REMOVABLE;
        *bucket |= s->media[i].type == POL_OBJECT;
    }
}

bool rst_medium_foreign_said(const rst_status *s, size_t i)
{
    const rst_medium *m = &s->media[i];
    if (!m->other_repository[0] || !m->path)
        return false;
    for (size_t k = 0; k < i; k++)
        if (s->media[k].other_repository[0] && s->media[k].path &&
            !strcmp(s->media[k].path, m->path))
            return false;
    return true;
}

bool rst_medium_tight(const rst_medium *m)
{
    return m->has_free && m->wrote && m->free_after < m->wrote && !m->full;
}

const char *rst_medium_why(const rst_medium *m, bool ja, const char *unsaid)
{
    return ja && m->why_ja ? m->why_ja : m->why ? m->why : unsaid;
}

json_t *rst_status_json(const rst_status *s)
{
    json_t *sets = json_array();
    for (size_t i = 0; sets && i < s->ndatasets; i++)
        if (json_array_append_new(sets, dataset_json(&s->datasets[i])))
            sets = (json_decref(sets), NULL);
    json_t *kd =
        json_pack("{s:o, s:I, s:b}", "last", bkp_json_when(s->key_drill.last), "every_seconds",
                  (json_int_t)s->key_drill.every, "due", s->key_drill.due);
    if (kd && s->key_drill.old_split &&
        json_object_set_new(kd, "old_split", bkp_json_when(s->key_drill.old_split)))
        kd = (json_decref(kd), NULL);
    if (kd && s->key_drill.new_split &&
        json_object_set_new(kd, "new_split", bkp_json_when(s->key_drill.new_split)))
        kd = (json_decref(kd), NULL);
    json_t *doc =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:s, s:o}", "verdict",
                  pol_verdict_name(s->verdict), "datasets", sets, "key_drill", kd, "generated",
                  bkp_json_when(s->generated), "rotations", turns_json(s), "audit",
                  audit_json(&s->audit), "connected", connected_json(s), "facility", s->facility,
                  "host", s->host ? s->host : "", "media", media_json(s));
    if (doc && s->has_storage && json_object_set_new(doc, "storage", storage_json(&s->storage)))
        doc = (json_decref(doc), NULL);
    if (doc && json_object_set_new(doc, "key_changed", bkp_json_when(s->key_changed)))
        doc = (json_decref(doc), NULL);
    return doc;
}

/* ---- parse (bkp/io/json.h) ---- */

/* A verdict that must be there: a document that lost it is never read as
 * COMPLIANT. */
static pol_verdict verdict(bkp_jin *p, const json_t *j)
{
    json_t *v = bkp_jin_member(p, j, "verdict", JSON_STRING);
    pol_verdict out = POL_NON_COMPLIANT;
    if (!p->rc && (!v || pol_verdict_named(json_string_value(v), &out)))
        bkp_jin_bad(p, -EBADMSG);
    return out;
}

static void kind(bkp_jin *p, const json_t *j, pol_medium_type *t)
{
    json_t *v = bkp_jin_member(p, j, "type", JSON_STRING);
    if (v && pol_medium_type_named(json_string_value(v), t))
        bkp_jin_bad(p, -EBADMSG);
}

void rst_reasons_parse(bkp_jin *p, const json_t *j, const char *k, rst_words *w)
{
    json_t *a = bkp_jin_member(p, j, k, JSON_ARRAY), *r;
    size_t i;
    if (json_array_size(a) > POL_REASONS)
        bkp_jin_bad(p, -EBADMSG);
    json_array_foreach(a, i, r)
    {
        if (!json_is_string(r) || json_string_length(r) >= sizeof(w->reasons[0]))
            bkp_jin_bad(p, -EBADMSG);
        if (p->rc)
            return;
        memcpy(w->reasons[w->nreasons++], json_string_value(r), json_string_length(r) + 1);
    }
}

static void words_parse(bkp_jin *p, const json_t *j, rst_words *w)
{
    json_t *r;
    size_t i;
    rst_reasons_parse(p, j, "reasons", w);
    /* "actions", with "action" its first; or, written before it, "action"
     * alone. */
    char first[sizeof(w->actions[0])] = "";
    bkp_jin_text(p, j, "action", first, sizeof(first));
    json_t *acts = bkp_jin_member(p, j, "actions", JSON_ARRAY);
    if (!acts) {
        if (*first)
            memcpy(w->actions[w->nactions++], first, sizeof(first));
        return;
    }
    if (json_array_size(acts) > POL_ACTIONS)
        bkp_jin_bad(p, -EBADMSG);
    json_array_foreach(acts, i, r)
    {
        if (!json_is_string(r) || !json_string_length(r) ||
            json_string_length(r) >= sizeof(w->actions[0]))
            bkp_jin_bad(p, -EBADMSG);
        if (p->rc)
            return;
        memcpy(w->actions[w->nactions++], json_string_value(r), json_string_length(r) + 1);
    }
    if (strcmp(first, rst_next(w)))
        bkp_jin_bad(p, -EBADMSG); /* "action" is the first of "actions" */
}

void rst_counts_parse(bkp_jin *p, const json_t *j, rst_counts *c)
{
    c->copies = (int)bkp_jin_integer(p, j, "copies", 0, INT32_MAX, 0);
    c->media_types = (int)bkp_jin_integer(p, j, "media_types", 0, INT32_MAX, 0);
    c->offline = (int)bkp_jin_integer(p, j, "offline", 0, INT32_MAX, 0);
    c->offsite = (int)bkp_jin_integer(p, j, "offsite", 0, INT32_MAX, 0);
    c->immutable = (int)bkp_jin_integer(p, j, "immutable", 0, INT32_MAX, 0);
}

void rst_copies_parse(bkp_jin *p, const json_t *j, rst_copy **v, size_t *n)
{
    json_t *a = bkp_jin_objects(p, j, "copies_on_media", (void **)v, sizeof(**v)), *o;
    size_t i;
    json_array_foreach(a, i, o)
    {
        rst_copy *c = &(*v)[(*n)++];
        c->medium = bkp_jin_str(p, o, "medium");
        kind(p, o, &c->type);
        c->offline = bkp_jin_flag(p, o, "offline");
        c->offsite = bkp_jin_flag(p, o, "offsite");
        c->non_editable = bkp_jin_flag(p, o, "non_editable");
        c->proven = bkp_jin_time(p, o, "proven");
        c->immutable_files = (rst_tri)bkp_jin_tri(p, o, "immutable_files");
        c->seq = (uint32_t)bkp_jin_integer(p, o, "seq", 0, UINT32_MAX, 0);
        c->captured = bkp_jin_time(p, o, "captured");
        if (!c->medium)
            bkp_jin_bad(p, -EBADMSG);
    }
}

static void event_parse(bkp_jin *p, const json_t *j, const char *k, rst_event *e)
{
    json_t *o = bkp_jin_member(p, j, k, JSON_OBJECT);
    if (!o)
        return;
    e->time = bkp_jin_time_given(p, o, "time");
    e->outcome = bkp_jin_str(p, o, "outcome");
}

static void drill_parse(bkp_jin *p, const json_t *j, const char *k, rst_drill *d)
{
    json_t *o = bkp_jin_member(p, j, k, JSON_OBJECT);
    d->seconds = -1;
    d->rto_target = -1;
    d->rto_met = d->attended = RST_UNSAID;
    if (!o)
        return;
    event_parse(p, j, k, &d->when);
    d->runbook = bkp_jin_str(p, o, "runbook");
    /* Bounded: a page shows them as hours and minutes. */
    d->seconds = bkp_jin_number(p, o, "seconds", 0, RST_SECONDS_MAX, -1);
    d->rto_target = bkp_jin_integer(p, o, "rto_target_seconds", 0, RST_SECONDS_MAX, -1);
    d->rto_met = (rst_tri)bkp_jin_tri(p, o, "rto_met");
    d->attended = (rst_tri)bkp_jin_tri(p, o, "attended");
    d->read_from = bkp_jin_str(p, o, "read_from");
    d->attested_by = bkp_jin_str(p, o, "attested_by");
}

static void dataset_parse(bkp_jin *p, const json_t *j, rst_dataset *d)
{
    json_t *v;
    d->name = bkp_jin_str(p, j, "dataset");
    d->description = bkp_jin_str(p, j, "description");
    d->priority = (int)bkp_jin_integer(p, j, "priority", INT32_MIN, INT32_MAX, 0);
    d->verdict = verdict(p, j);
    d->generations = (size_t)bkp_jin_integer(p, j, "generations", 0, INT64_MAX, 0);
    rst_counts_parse(p, bkp_jin_member(p, j, "counted", JSON_OBJECT), &d->counted);
    rst_counts_parse(p, bkp_jin_member(p, j, "required", JSON_OBJECT), &d->required);
    d->offline_age = bkp_jin_integer(p, j, "offline_age_seconds", -1, INT64_MAX, -1);
    d->offline_max_age = bkp_jin_integer(p, j, "offline_max_age_seconds", 0, INT64_MAX, 0);
    d->last_backup = bkp_jin_time(p, j, "last_backup");
    event_parse(p, j, "last_backup_run", &d->last_backup_run);
    event_parse(p, j, "last_verify", &d->last_verify);
    drill_parse(p, j, "last_drill", &d->last_drill);
    drill_parse(p, j, "last_attended_drill", &d->last_attended);
    if (json_object_get(j, "last_attended_drill") && !d->last_attended.when.time)
        bkp_jin_bad(p, -EBADMSG); /* written only with a time */
    rst_copies_parse(p, j, &d->copies, &d->ncopies);
    words_parse(p, j, &d->en);
    words_parse(p, bkp_jin_member(p, j, "ja", JSON_OBJECT), &d->ja);
    if ((v = bkp_jin_member(p, j, "shown", JSON_OBJECT))) {
        d->has_shown = true;
        words_parse(p, v, &d->shown);
    }
    if (json_object_get(j, "runbook_unusable")) /* written only when there is one */
        d->runbook_unusable = bkp_jin_str(p, j, "runbook_unusable");
    if (json_object_get(j, "suspicious")) /* written only when there is one */
        d->suspicious = (uint32_t)bkp_jin_integer(p, j, "suspicious", 1, UINT32_MAX, 0);
    if (d->suspicious && d->verdict == POL_COMPLIANT)
        bkp_jin_bad(p, -EBADMSG); /* a suspicion is a risk: never beside COMPLIANT */
    if (!d->name)
        bkp_jin_bad(p, -EBADMSG);
}

static void audit_parse(bkp_jin *p, const json_t *j, rst_audit *a)
{
    if (!j)
        return;
    a->checked = bkp_jin_time(p, j, "checked");
    a->records = (uint64_t)bkp_jin_integer(p, j, "records", 0, INT64_MAX, 0);
    a->restarts = (uint64_t)bkp_jin_integer(p, j, "restarts", 0, INT64_MAX, 0);
    a->ok = bkp_jin_flag(p, j, "ok");
    a->absent = bkp_jin_flag(p, j, "absent");
    bkp_jin_text(p, j, "problem", a->problem, sizeof(a->problem));
    (void)bkp_audit_problem_from_json(j, &a->why);
}

static void turns_parse(bkp_jin *p, const json_t *j, rst_status *s)
{
    json_t *a = bkp_jin_objects(p, j, "rotations", (void **)&s->rotations, sizeof(*s->rotations)),
           *o;
    size_t i;
    json_array_foreach(a, i, o)
    {
        rst_turn *t = &s->rotations[s->nrotations++];
        t->medium = bkp_jin_str(p, o, "medium");
        t->kept_at = bkp_jin_str(p, o, "kept_at");
        if (t->kept_at && (strlen(t->kept_at) > POL_KEPT_AT_MAX || strchr(t->kept_at, '`')))
            bkp_jin_bad(p, -EBADMSG); /* as the policy allows it, no longer */
        kind(p, o, &t->type);
        t->offline = bkp_jin_flag(p, o, "offline");
        t->offsite = bkp_jin_flag(p, o, "offsite");
        t->done = bkp_jin_flag(p, o, "done");
        t->when = bkp_jin_time(p, o, "when");
        if (!t->medium)
            bkp_jin_bad(p, -EBADMSG);
    }
}

static void connected_parse(bkp_jin *p, const json_t *j, rst_status *s)
{
    json_t *a = bkp_jin_objects(p, j, "connected", (void **)&s->connected, sizeof(*s->connected)),
           *o, *w;
    size_t i;
    json_array_foreach(a, i, o)
    {
        rst_connected *c = &s->connected[s->nconnected++];
        c->medium = bkp_jin_str(p, o, "medium");
        c->path = bkp_jin_str(p, o, "path");
        /* Never written: "". */
        w = bkp_jin_member(p, o, "last_write", JSON_STRING);
        c->last_write = w && !json_string_length(w) ? 0 : bkp_jin_time(p, o, "last_write");
        c->left = bkp_jin_flag(p, o, "left");
        c->due = bkp_jin_flag(p, o, "due"); /* absent in a document written before */
        if (!c->medium || !c->path)
            bkp_jin_bad(p, -EBADMSG);
    }
}

/* "unfinished", of a bkp that writes it: absent or null, none. */
static void unfinished_parse(bkp_jin *p, const json_t *u, rst_medium *m)
{
    if (!u || json_is_null(u))
        return;
    char state[16] = "";
    bkp_jin_text(p, u, "state", state, sizeof(state));
    for (size_t k = RST_RUNNING; k <= RST_FAILED; k++)
        if (!strcmp(state, unfinished_names[k]))
            m->unfinished = (rst_unfinished)k;
    m->began = bkp_jin_time_given(p, u, "began");
    m->why = bkp_jin_str(p, u, "why");
    m->why_ja = bkp_jin_str(p, u, "why_ja");
    m->full = bkp_jin_flag(p, u, "full");
    m->pruned_first = bkp_jin_flag(p, u, "pruned_first");
    if (!json_is_object(u) || m->unfinished == RST_FINISHED || (m->why && strlen(m->why) > 255) ||
        (m->why_ja && strlen(m->why_ja) > 511))
        bkp_jin_bad(p, -EBADMSG);
}

static void media_parse(bkp_jin *p, const json_t *j, rst_status *s)
{
    json_t *a = bkp_jin_objects(p, j, "media", (void **)&s->media, sizeof(*s->media)), *o;
    size_t i;
    json_array_foreach(a, i, o)
    {
        rst_medium *m = &s->media[s->nmedia++];
        m->medium = bkp_jin_str(p, o, "medium");
        kind(p, o, &m->type);
        m->bytes =
            (uint64_t)bkp_jin_integer(p, o, "bytes", 1, INT64_MAX, 0); /* null: not measured */
        m->written = bkp_jin_time(p, o, "last_write");
        m->online = bkp_jin_flag(p, o, "online");
        m->keys_behind = bkp_jin_flag(p, o, "keys_behind");
        bkp_jin_text(p, o, "other_repository", m->other_repository, sizeof(m->other_repository));
        if (m->other_repository[0])
            m->path = bkp_jin_str(p, o, "path");
        if (m->other_repository[0] && (!m->path || !bkp_medium_uuid_ok(m->other_repository)))
            bkp_jin_bad(p, -EBADMSG);
        int64_t room = bkp_jin_integer(p, o, "free_after", 0, INT64_MAX, -1);
        if ((m->has_free = room >= 0)) {
            m->free_after = (uint64_t)room;
            m->wrote = (uint64_t)bkp_jin_integer(p, o, "wrote", 0, INT64_MAX, 0);
        }
        if (!m->medium)
            bkp_jin_bad(p, -EBADMSG);
        unfinished_parse(p, json_object_get(o, "unfinished"), m);
    }
}

static void storage_parse(bkp_jin *p, const json_t *j, rst_status *s)
{
    if (!j)
        return;
    s->has_storage = true;
    s->storage.stored = (uint64_t)bkp_jin_integer(p, j, "stored", 0, INT64_MAX, 0);
    s->storage.packs = (uint64_t)bkp_jin_integer(p, j, "packs", 0, INT64_MAX, 0);
    s->storage.newest = (uint64_t)bkp_jin_integer(p, j, "newest", 0, INT64_MAX, 0);
    s->storage.kept = (uint64_t)bkp_jin_integer(p, j, "kept", 0, INT64_MAX, 0);
    s->storage.generations = (size_t)bkp_jin_integer(p, j, "generations", 0, INT64_MAX, 0);
    s->storage.datasets = (size_t)bkp_jin_integer(p, j, "datasets", 0, INT64_MAX, 0);
}

int rst_status_parse(const json_t *j, rst_status *out)
{
    bkp_jin p = {.rc = json_is_object(j) ? 0 : -EBADMSG};
    json_t *o, *kd;
    size_t i;
    memset(out, 0, sizeof(*out));
    out->verdict = verdict(&p, j);
    json_t *sets =
        bkp_jin_objects(&p, j, "datasets", (void **)&out->datasets, sizeof(*out->datasets));
    json_array_foreach(sets, i, o) dataset_parse(&p, o, &out->datasets[out->ndatasets++]);
    if ((kd = bkp_jin_member(&p, j, "key_drill", JSON_OBJECT))) {
        out->key_drill.last = bkp_jin_time(&p, kd, "last");
        out->key_drill.every = bkp_jin_integer(&p, kd, "every_seconds", 0, INT64_MAX, 0);
        out->key_drill.due = bkp_jin_flag(&p, kd, "due");
        out->key_drill.old_split = bkp_jin_time(&p, kd, "old_split");
        out->key_drill.new_split = bkp_jin_time(&p, kd, "new_split");
    }
    out->generated = bkp_jin_time(&p, j, "generated");
    turns_parse(&p, j, out);
    audit_parse(&p, bkp_jin_member(&p, j, "audit", JSON_OBJECT), &out->audit);
    connected_parse(&p, j, out);
    out->facility = bkp_jin_str(&p, j, "facility");
    out->host = bkp_jin_str(&p, j, "host");
    storage_parse(&p, bkp_jin_member(&p, j, "storage", JSON_OBJECT), out);
    media_parse(&p, j, out);
    out->key_changed = bkp_jin_time(&p, j, "key_changed");
    if (p.rc)
        rst_status_clear(out);
    return p.rc;
}

/* ---- free ---- */

void rst_copies_free(rst_copy *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].medium);
    free(v);
}

static void drill_free(rst_drill *d)
{
    free(d->when.outcome);
    free(d->runbook);
    free(d->read_from);
    free(d->attested_by);
}

static void dataset_clear(rst_dataset *d)
{
    free(d->name);
    free(d->description);
    free(d->runbook_unusable);
    free(d->last_backup_run.outcome);
    free(d->last_verify.outcome);
    drill_free(&d->last_drill);
    drill_free(&d->last_attended);
    rst_copies_free(d->copies, d->ncopies);
}

void rst_status_clear(rst_status *s)
{
    for (size_t i = 0; i < s->ndatasets; i++)
        dataset_clear(&s->datasets[i]);
    for (size_t i = 0; i < s->nrotations; i++) {
        free(s->rotations[i].medium);
        free(s->rotations[i].kept_at);
    }
    for (size_t i = 0; i < s->nconnected; i++) {
        free(s->connected[i].medium);
        free(s->connected[i].path);
    }
    free(s->datasets);
    free(s->rotations);
    for (size_t i = 0; i < s->nmedia; i++) {
        free(s->media[i].medium);
        free(s->media[i].why);
        free(s->media[i].why_ja);
        free(s->media[i].path);
    }
    free(s->connected);
    free(s->media);
    free(s->facility);
    free(s->host);
    memset(s, 0, sizeof(*s));
}
