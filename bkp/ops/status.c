/* status.c — see status.h. The rotations and the audit check of the
 * document are in status_doc.c. */
#include "bkp/ops/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/media/registry.h"

/* The last record of each kind that status reports, per data set, from
 * the sound part of the log only (bkp_audit_each_sound): a record appended
 * without the key must not make a failed backup look fine or a drill look
 * done. */
typedef struct last_rec {
    json_t *backup, *drill; /* references kept with incref */
} last_rec;
typedef struct last_ctx {
    const pol_policy *p;
    last_rec *of; /* one per data set of the policy */
    json_t *verify;
    time_t key_drill;                    /* the last successful key-recovery drill */
    time_t first;                        /* the log's first record: the repository's creation */
    int (*also)(json_t *rec, void *ctx); /* ops_status_in's */
    void *also_ctx;
} last_ctx;

static void keep(json_t **slot, json_t *j)
{
    json_decref(*slot);
    *slot = json_incref(j);
}

static bool str_is(json_t *j, const char *want)
{
    const char *s = json_string_value(j);
    return s && !strcmp(s, want);
}

static int scan(json_t *j, void *ctx)
{
    last_ctx *l = ctx;
    json_t *op = json_object_get(j, "op");
    const char *ds = json_string_value(json_object_get(j, "dataset"));
    if (!l->first) {
        time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
        l->first = t > 0 ? t : 0;
    }
    if (str_is(op, "verify") && !json_object_get(j, "medium"))
        keep(&l->verify, j);
    if (str_is(op, "drill") && str_is(json_object_get(j, "outcome"), "ok") &&
        json_is_true(json_object_get(json_object_get(j, "figures"), "key_recovery"))) {
        time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
        l->key_drill = t > 0 ? t : 0;
    }
    for (size_t i = 0; ds && i < l->p->ndatasets; i++) {
        if (strcmp(ds, l->p->datasets[i].name))
            continue;
        if (str_is(op, "backup"))
            keep(&l->of[i].backup, j);
        else if (str_is(op, "drill"))
            keep(&l->of[i].drill, j);
    }
    if (l->also)
        (void)l->also(j, l->also_ctx);
    return 0;
}

static void last_free(last_ctx *l)
{
    for (size_t i = 0; l->of && i < l->p->ndatasets; i++) {
        json_decref(l->of[i].backup);
        json_decref(l->of[i].drill);
    }
    free(l->of);
    json_decref(l->verify);
}

static json_t *when_of(json_t *rec)
{
    json_t *t = json_object_get(rec, "time");
    return t ? json_pack("{s:O, s:s?}", "time", t, "outcome",
                         json_string_value(json_object_get(rec, "outcome")))
             : json_null();
}

/* A drill's time and outcome, with what it measured: the runbook, its
 * seconds and the target (0: none) it was held to. */
static json_t *drill_of(json_t *rec)
{
    json_t *j = when_of(rec), *fig = json_object_get(rec, "figures");
    if (json_is_object(j) && json_is_object(fig))
        json_object_update_new(j, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "runbook",
                                            json_object_get(fig, "runbook"), "seconds",
                                            json_object_get(fig, "seconds"), "rto_target_seconds",
                                            json_object_get(fig, "rto_target_seconds"), "rto_met",
                                            json_object_get(fig, "rto_met"), "attended",
                                            json_object_get(fig, "attended"), "read_from",
                                            json_object_get(fig, "read_from")));
    if (json_is_object(j) && json_is_string(json_object_get(fig, "attested_by")))
        json_object_set(j, "attested_by", json_object_get(fig, "attested_by"));
    return j;
}

static json_t *reasons_of(const pol_status *out)
{
    json_t *reasons = json_array();
    for (size_t r = 0; r < out->nreasons; r++)
        json_array_append_new(reasons, json_string(out->reasons[r]));
    return reasons;
}

/* The reasons and the action in the reader's language, or in `lang`. */
static json_t *shown_status(const pol_policy *p, const pol_ds_state *s, const pol_medium_state *st,
                            const time_t *due, time_t now, const char *lang)
{
    pol_status out;
    bkp_i18n_saved saved;
    if (lang)
        bkp_i18n_begin(&saved, lang);
    pol_compliance(p, s, st, due, p->nmedia, now, &out);
    if (lang)
        bkp_i18n_end(&saved);
    return json_pack("{s:o, s:s}", "reasons", reasons_of(&out), "action", out.action);
}

/* What a medium pinned of data set `ds`, or of the log they all share, into
 * `behind` (room for every pin); how many. */
static size_t pins_behind(const ops_pin_findings *pins, const char *ds, pol_behind *behind)
{
    size_t n = 0;
    for (size_t i = 0; pins && i < pins->n; i++) {
        const ops_pin_found *e = &pins->v[i];
        if (!e->f.dataset[0] || !strcmp(e->f.dataset, ds))
            behind[n++] = (pol_behind){e->medium, e->f.what, e->f.beside};
    }
    return n;
}

typedef struct ds_view {
    bkp_gen **v;
    size_t n;
    const pol_medium_state *st;
    const time_t *due;
    bkp_media_entry *reg; /* the media registry, nreg entries */
    size_t nreg;
    last_ctx last;
} ds_view;

/* The newest generation of `ds` registry entry `e` says its medium holds. */
static void newest_held(const bkp_media_entry *e, const char *ds, pol_copy *cp)
{
    for (size_t x = 0; x < e->n_held; x++) {
        time_t t = bkp_iso_parse(e->held[x].finished);
        if (!strcmp(e->held[x].dataset, ds) && t > cp->newest) {
            cp->newest = t;
            cp->newest_seq = e->held[x].seq;
        }
    }
}

/* The copies of data set `d` on the media of the registry `reg`: into
 * `s->copies` for the verdict, and as JSON into `media`. */
static void media_copies(const ops_status_in *in, const pol_dataset *d, const ds_view *w,
                         pol_copy *copies, pol_ds_state *s, json_t *media)
{
    for (size_t i = 0; i < w->nreg; i++) {
        const bkp_media_entry *e = &w->reg[i];
        const char *name = e->label.name;
        const pol_medium *pm = pol_medium_find(in->policy, name);
        pol_copy cp = {.medium = pm};
        if (e->verify == BKP_MEDIA_FAILED)
            continue; /* its last check failed: it does not count until it verifies */
        newest_held(e, d->name, &cp);
        if (!pm || !cp.newest)
            continue;
        time_t proven_at = 0;
        const pol_object *o = pol_medium_bucket(pm);
        cp.proven = o && !o->governance && in->proven &&
                    in->proven(in->ctx, e, &proven_at);
        copies[s->ncopies++] = cp;
        char iso[32], piso[32] = "";
        bkp_iso_time(iso, sizeof(iso), cp.newest);
        if (proven_at > 0)
            bkp_iso_time(piso, sizeof(piso), proven_at);
        /* Non-editable: off-line, or an object lock a probe proved (and when). */
        json_array_append_new(
            media, json_pack("{s:s, s:s, s:b, s:b, s:b, s:s?, s:i, s:s}", "medium", name, "type",
                             pol_medium_type_name(pm->type), "offline", pm->offline, "offsite",
                             pm->offsite, "non_editable", pm->offline || cp.proven, "proven",
                             cp.proven ? piso : NULL, "seq", (int)cp.newest_seq, "captured", iso));
    }
}

/* The generations of data set `ds` that count (intact, not pruned) and the
 * newest one's capture time. */
static void count_generations(bkp_gen **v, size_t n, const char *ds, pol_ds_state *s)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(v[k]->dataset, ds) || v[k]->pruned || v[k]->status)
            continue;
        s->generations++;
        if (v[k]->finished > s->last_backup)
            s->last_backup = v[k]->finished;
    }
}

/* The document of one data set, from its state and verdict `out`; takes `media`. */
static json_t *dataset_json(const pol_policy *p, const pol_dataset *d, const pol_ds_state *s,
                            const pol_status *out, const last_rec *last, json_t *verify,
                            json_t *media)
{
    char lb[32] = "";
    if (s->last_backup)
        bkp_iso_time(lb, sizeof(lb), s->last_backup);
    return json_pack(
        "{s:s, s:s, s:i, s:s, s:i, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i}, "
        "s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "verdict", pol_verdict_name(out->verdict), "generations", (int)s->generations,
        "counted", "copies", out->copies, "media_types", out->media_types, "offline", out->offline,
        "offsite", out->offsite, "immutable", out->immutable, "required", "copies", p->rule.copies,
        "media_types", p->rule.media_types, "offline", p->rule.offline, "offsite", p->rule.offsite,
        "immutable", p->rule.immutable, "offline_age_seconds", (json_int_t)out->offline_age,
        "offline_max_age_seconds", (json_int_t)p->rule.offline_max_age, "last_backup",
        s->last_backup ? json_string(lb) : json_null(), "last_backup_run", when_of(last->backup),
        "last_verify", when_of(verify), "last_drill", drill_of(last->drill), "copies_on_media",
        media, "reasons", reasons_of(out), "action", out->action);
}

/* What the verdict of one data set rests on, gathered for dataset_status. */

/* One data set's status as JSON; `*verdict` receives the verdict. */
static json_t *dataset_status(const ops_status_in *in, size_t i, const ds_view *w,
                              pol_verdict *verdict)
{
    const pol_policy *p = in->policy;
    const pol_dataset *d = &p->datasets[i];
    const last_rec *last = &w->last.of[i];
    time_t now = bkp_now();
    pol_copy *copies = calloc(p->nmedia + 1, sizeof(*copies));
    pol_behind *behind = calloc((in->pins ? in->pins->n : 0) + 1, sizeof(*behind));
    pol_ds_state s = {
        .dataset = d, .copies = copies, .behind = behind, .pins_unchecked = in->pins_unchecked};
    pol_status out;
    json_t *media = json_array(), *j = NULL;
    if (!copies || !media || !behind)
        goto fail;
    s.nbehind = pins_behind(in->pins, d->name, behind);
    count_generations(w->v, w->n, d->name, &s);
    s.last_run_failed = json_is_string(json_object_get(last->backup, "error")) &&
                        str_is(json_object_get(last->backup, "outcome"), "failed");
    media_copies(in, d, w, copies, &s, media);
    /* In English for programs (--json, alerts, the audit log); for a person
     * also in the language of the messages, under "shown". */
    bkp_i18n_saved lang;
    bkp_i18n_begin(&lang, "en");
    pol_compliance(p, &s, w->st, w->due, p->nmedia, now, &out);
    bkp_i18n_end(&lang);
    *verdict = out.verdict;
    j = dataset_json(p, d, &s, &out, last, w->last.verify, media);
    media = NULL;
    if (j && in->shown)
        json_object_set_new(j, "shown", shown_status(p, &s, w->st, w->due, now, NULL));
    /* For a Japanese reader of a page or a program (the status page). */
    if (j)
        json_object_set_new(j, "ja", shown_status(p, &s, w->st, w->due, now, "ja"));
fail:
    json_decref(media);
    free(copies);
    free(behind);
    return j;
}

/* The place of data set `i` when sorted by priority, then policy order. */
static size_t rank(const pol_policy *p, size_t i)
{
    size_t r = 0;
    for (size_t x = 0; x < p->ndatasets; x++)
        r += p->datasets[x].priority < p->datasets[i].priority ||
             (p->datasets[x].priority == p->datasets[i].priority && x < i);
    return r;
}

json_t *ops_status(const ops_status_in *in, int *worst, ops_status_log *found)
{
    const pol_policy *p = in->policy;
    ds_view w = {.st = in->states, .last = {.p = p, .also = in->also, .also_ctx = in->also_ctx}};
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    json_t *all = json_array();
    char *log = bkp_audit_path(in->repo);
    ops_status_log own;
    ops_status_log *l = found ? found : &own;
    *l = (ops_status_log){.rc = -ENOMEM, .checked = bkp_now()};
    *worst = POL_COMPLIANT;
    w.last.of = calloc(p->ndatasets + 1, sizeof(*w.last.of));
    if (!in->states || !due || bkp_media_list(in->repo, &w.reg, &w.nreg) || !all || !log ||
        !w.last.of ||
        bkp_gen_list(in->repo, NULL, &w.v, &w.n)) {
        json_decref(all);
        all = NULL;
        goto out;
    }
    pol_media_due(p, in->states, p->nmedia, due);
    w.due = due;
    ops_storage_count(&l->storage, w.v, w.n);
    /* One reading of the log for every data set, the key-recovery drill
     * and the check of the whole log (the document's "audit" part). */
    l->rc = bkp_audit_each_sound(log, bkp_repo_sign_pk(in->repo), scan, &w.last, &l->check);
    if (l->rc == -ENOENT && l->check.absent)
        l->rc = 1; /* no log at all: a loss the check describes */
    else if (l->rc == 0 && l->check.bad)
        l->rc = 1;
    l->key_drill = w.last.key_drill;
    l->created = w.last.first;
    /* In priority order: what care needs back first comes first. */
    for (size_t k = 0; k < p->ndatasets; k++) {
        size_t i = 0;
        for (size_t x = 0; x < p->ndatasets; x++)
            if (rank(p, x) == k)
                i = x;
        pol_verdict vd = POL_COMPLIANT;
        json_t *j = dataset_status(in, i, &w, &vd);
        if (j)
            json_array_append_new(all, j);
        if ((int)vd > *worst)
            *worst = (int)vd;
    }
out:
    bkp_gen_list_free(w.v, w.n);
    bkp_media_entries_free(w.reg, w.nreg);
    last_free(&w.last);
    free(log);
    free(due);
    return all;
}

json_t *ops_key_drill_status(const ops_status_log *log, const pol_policy *policy)
{
    time_t last = log && log->rc >= 0 ? log->key_drill : 0, now = bkp_now();
    int64_t every = policy ? policy->key_drill_every : 365 * 86400;
    char iso[32] = "";
    if (last > 0)
        bkp_iso_time(iso, sizeof(iso), last);
    /* Never held: due once the interval has passed since the repository was
     * made, not on its first day. */
    time_t since = last > 0 ? last : log && log->rc >= 0 ? log->created : 0;
    return json_pack("{s:o, s:I, s:b}", "last", last > 0 ? json_string(iso) : json_null(),
                     "every_seconds", (json_int_t)every, "due", since <= 0 || now - since > every);
}
