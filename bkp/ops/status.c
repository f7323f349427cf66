/* status.c — see status.h: the data sets' statuses, then the rest of the
 * document (the coming rotations, the audit log as checked, the media
 * plugged in) and the page written from it. */
#include "bkp/ops/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/backup_record.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/report/status_page.h"
#include "bkp/store/generation.h"
#include "restore/drill_report.h"
#include "restore/runbook.h"

/* The last record of each kind that status reports, per data set, from
 * the sound part of the log only (bkp_audit_each_sound): a record appended
 * without the key must not make a failed backup look fine or a drill look
 * done. */
typedef struct last_rec {
    /* Each held by a reference to its record (json NULL: none). */
    bkp_audit_entry backup, drill;
    bkp_audit_entry attended; /* the last drill a person attended */
    /* The last drill of each runbook that drilled the data set: one
     * runbook's success since must not hide another's failure. */
    bkp_audit_entry *by_runbook;
    size_t nrunbooks;
} last_rec;
typedef struct last_ctx {
    const pol_policy *p;
    bool nomem;   /* a record could not be kept: the status is not whole */
    last_rec *of; /* one per data set of the policy */
    bkp_audit_entry verify;
    time_t key_drill;  /* the last successful key-recovery drill */
    time_t key_drill_old;  /* one after it with share sheets of an older split */
    time_t key_split_new;  /* a split after it (a re-split), not rehearsed since */
    bkp_audit_entry split; /* the last key split */
    time_t key_changed; /* the last key add, passwd or remove */
    uint64_t key_seq;   /* its record's number */
    uint64_t key_serial; /* the list it wrote ("serial"); 0: not said */
    /* Per medium of the policy: its last rotation's record (0: none) and
     * the list of key slots it left there (0: not said). */
    struct rotated {
        uint64_t seq, serial;
    } * rotated;
    time_t first;      /* the log's first record: the repository's creation */
    bkp_audit_fn also; /* ops_status_in's */
    void *also_ctx;
} last_ctx;

/* Keep drill record `e` of runbook `runbook` (NULL: not said) as the last
 * of its runbook in `r`: false without memory. */
static bool hold_by_runbook(last_rec *r, const bkp_audit_entry *e, const char *runbook)
{
    rb_drill_figures f;
    size_t i = 0;
    for (; i < r->nrunbooks; i++) {
        rb_drill_figures_read(&r->by_runbook[i], &f);
        if (!f.runbook == !runbook && (!runbook || !strcmp(f.runbook, runbook)))
            break;
    }
    if (i == r->nrunbooks) {
        bkp_audit_entry *v = realloc(r->by_runbook, (i + 1) * sizeof(*v));
        if (!v)
            return false;
        r->by_runbook = v;
        v[r->nrunbooks++] = (bkp_audit_entry){0};
    }
    bkp_audit_entry_hold(&r->by_runbook[i], e);
    return true;
}

/* Let go of the drill of runbook `stem` that `r` holds filed under no data
 * set, if it holds one: the runbook's next record, wherever filed, ends it. */
static void drop_unfiled(last_rec *r, const char *stem)
{
    rb_drill_figures f;
    for (size_t i = 0; stem && i < r->nrunbooks; i++) {
        rb_drill_figures_read(&r->by_runbook[i], &f);
        if (r->by_runbook[i].dataset || !f.runbook || strcmp(f.runbook, stem))
            continue;
        bkp_audit_entry_release(&r->by_runbook[i]);
        memmove(&r->by_runbook[i], &r->by_runbook[i + 1],
                (r->nrunbooks - i - 1) * sizeof(*r->by_runbook));
        r->nrunbooks--;
        return;
    }
}

/* Does `p` name runbook `stem` (as records name one) for data set `d`:
 * as its runbook, or among the scheduled drills? */
static bool runbook_named(const pol_policy *p, const pol_dataset *d, const char *stem)
{
    char s[256];
    if (!stem)
        return false;
    if (d->runbook && (rb_runbook_stem(d->runbook, s, sizeof(s)), !strcmp(s, stem)))
        return true;
    for (size_t i = 0; i < p->ndrills; i++)
        if (p->drills[i].runbook &&
            (rb_runbook_stem(p->drills[i].runbook, s, sizeof(s)), !strcmp(s, stem)))
            return true;
    return false;
}

/* The drill data set `d`'s status shows: the newest that failed among the
 * last drill of each runbook the policy names for it now, so that a weekly
 * runbook's success does not hide a monthly one's failure, while a runbook
 * renamed or dropped leaves no failure behind; else the newest drill. */
static const bkp_audit_entry *drill_shown(const last_rec *r, const pol_policy *p,
                                          const pol_dataset *d)
{
    const bkp_audit_entry *failed = NULL;
    for (size_t i = 0; i < r->nrunbooks; i++) {
        const bkp_audit_entry *e = &r->by_runbook[i];
        rb_drill_figures f;
        rb_drill_figures_read(e, &f);
        if (!e->ok && (!failed || e->seq > failed->seq) && runbook_named(p, d, f.runbook))
            failed = e;
    }
    return failed ? failed : &r->drill;
}

static int scan(const bkp_audit_entry *e, void *ctx)
{
    last_ctx *l = ctx;
    const char *op = e->op, *ds = e->dataset;
    if (!l->first)
        l->first = e->time;
    if (!strcmp(op, "verify") && !e->medium)
        bkp_audit_entry_hold(&l->verify, e);
    rb_drill_figures f;
    rb_drill_figures_read(e, &f);
    if (e->ok && !strcmp(op, "key-split")) {
        bkp_audit_entry_hold(&l->split, e);
        if (l->key_drill)
            l->key_split_new = e->time;
    }
    if (!strcmp(op, "drill") && e->ok && f.key_recovery && bkp_audit_sheets_older(&l->split, e)) {
        l->key_drill_old = e->time; /* proves the old sheets, not the new: not counted */
    } else if (!strcmp(op, "drill") && e->ok && f.key_recovery) {
        l->key_drill = e->time;
        l->key_drill_old = l->key_split_new = 0;
    }
    if (e->ok &&
        (!strcmp(op, "key-add") || !strcmp(op, "key-passwd") || !strcmp(op, "key-remove"))) {
        json_t *serial = json_object_get(e->figures, "serial");
        l->key_changed = e->time;
        l->key_seq = e->seq;
        l->key_serial = json_is_integer(serial) && json_integer_value(serial) > 0
                            ? (uint64_t)json_integer_value(serial)
                            : 0;
    }
    for (size_t i = 0; e->ok && e->medium && !strcmp(op, "rotate") && i < l->p->nmedia; i++)
        if (!strcmp(e->medium, l->p->media[i].name))
            l->rotated[i] = (struct rotated){e->seq, ops_rotation_keys_serial(e)};
    for (size_t i = 0; !ds && !strcmp(op, "drill") && i < l->p->ndatasets; i++)
        /* A drill filed under no data set (its runbook could not be read,
         * and only `drills:` names it) may be any data set's: each shows
         * it until that runbook's next record. */
        if (runbook_named(l->p, &l->p->datasets[i], f.runbook))
            l->nomem |= !hold_by_runbook(&l->of[i], e, f.runbook);
    for (size_t i = 0; ds && i < l->p->ndatasets; i++) {
        if (strcmp(ds, l->p->datasets[i].name)) {
            if (!strcmp(op, "drill"))
                drop_unfiled(&l->of[i], f.runbook); /* that next record */
            continue;
        }
        if (!strcmp(op, "backup"))
            bkp_audit_entry_hold(&l->of[i].backup, e);
        else if (!strcmp(op, "drill")) {
            bkp_audit_entry_hold(&l->of[i].drill, e);
            l->nomem |= !hold_by_runbook(&l->of[i], e, f.runbook);
        }
        if (!strcmp(op, "drill") && f.attended == RST_YES)
            bkp_audit_entry_hold(&l->of[i].attended, e);
    }
    if (l->also)
        (void)l->also(e, l->also_ctx);
    return 0;
}

static void last_free(last_ctx *l)
{
    for (size_t i = 0; l->of && i < l->p->ndatasets; i++) {
        bkp_audit_entry_release(&l->of[i].backup);
        bkp_audit_entry_release(&l->of[i].drill);
        bkp_audit_entry_release(&l->of[i].attended);
        for (size_t k = 0; k < l->of[i].nrunbooks; k++)
            bkp_audit_entry_release(&l->of[i].by_runbook[k]);
        free(l->of[i].by_runbook);
    }
    free(l->of);
    free(l->rotated);
    bkp_audit_entry_release(&l->verify);
    bkp_audit_entry_release(&l->split);
}

/* A copy of string `s` (NULL stays NULL) into `*out`: false without memory. */
static bool copy_str(char **out, const char *s)
{
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

/* A record's time and outcome (none for no record: `json` NULL). */
static bool event_of(const bkp_audit_entry *rec, rst_event *e)
{
    e->time = rec->json ? rec->time : 0;
    return !e->time || copy_str(&e->outcome, rec->ok ? "ok" : "failed");
}

/* The same of a backup: one sealed as suspicious is said as what it is
 * ("suspicious"). */
static bool backup_event(const bkp_audit_entry *rec, rst_event *e)
{
    bool suspicious = ops_backup_suspicious(rec);
    e->time = rec->json ? rec->time : 0;
    return !e->time || copy_str(&e->outcome, suspicious ? "suspicious" : rec->ok ? "ok" : "failed");
}

/* A drill's time and outcome, with what it measured: the runbook, its
 * seconds and the target (0: none) it was held to. */
static bool drill_of(const bkp_audit_entry *rec, rst_drill *d)
{
    rb_drill_figures f;
    rb_drill_figures_read(rec, &f);
    *d = (rst_drill){.seconds = f.seconds,
                     .rto_target = f.rto_target,
                     .rto_met = f.rto_met,
                     .attended = f.attended};
    return event_of(rec, &d->when) && copy_str(&d->runbook, f.runbook) &&
           copy_str(&d->read_from, f.read_from) && copy_str(&d->attested_by, f.attested_by);
}

static void words_of(const pol_status *out, rst_words *w)
{
    w->nreasons = out->nreasons;
    memcpy(w->reasons, out->reasons, sizeof(w->reasons));
    w->nactions = out->nactions;
    memcpy(w->actions, out->actions, sizeof(w->actions));
}

/* The reasons and the action in the reader's language, or in `lang`. */
static void words_in(const pol_policy *p, const pol_ds_state *s, const pol_medium_state *st,
                     const time_t *due, time_t now, const char *lang, rst_words *w)
{
    pol_status out;
    bkp_i18n_saved saved;
    if (lang)
        bkp_i18n_begin(&saved, lang);
    pol_compliance(p, s, st, due, p->nmedia, now, &out);
    if (lang)
        bkp_i18n_end(&saved);
    words_of(&out, w);
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
    const char *suspect;  /* a data set under suspicion (generation.h), or NULL */
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

/* The copies of data set `d` on the media of the registry: into
 * `s->copies` for the verdict, and into `out->copies` (room for each
 * entry) for the record. False without memory. */
static bool media_copies(const ops_status_in *in, const pol_dataset *d, const ds_view *w,
                         time_t now, pol_copy *copies, pol_ds_state *s, rst_dataset *out)
{
    for (size_t i = 0; i < w->nreg; i++) {
        const bkp_media_entry *e = &w->reg[i];
        const pol_medium *pm = pol_medium_find(in->policy, e->label.name);
        pol_copy cp = {.medium = pm};
        if (e->verify == BKP_MEDIA_FAILED)
            continue; /* its last check failed: it does not count until it verifies */
        newest_held(e, d->name, &cp);
        if (!pm || !cp.newest)
            continue;
        time_t proven_at = 0;
        const pol_object *o = pol_medium_bucket(pm);
        cp.proven = o && !o->governance && in->proven && in->proven(in->ctx, e, &proven_at);
        copies[s->ncopies++] = cp;
        /* As the verdict counts it: a disk left plugged in is within reach
         * (policies/compliance.h). Non-editable: off-line, or an object
         * lock a probe proved (and when). */
        bool left = pol_medium_left(&w->st[pm - in->policy->media], now),
             away = pm->offline && !left;
        rst_copy *c = &out->copies[out->ncopies++];
        *c = (rst_copy){.type = pm->type,
                        .offline = away,
                        .offsite = pm->offsite && !left,
                        .non_editable = away || cp.proven,
                        .proven = cp.proven && proven_at > 0 ? proven_at : 0,
                        .immutable_files = e->sealed == BKP_SEALED_IMMUTABLE ? RST_YES
                                           : e->sealed == BKP_SEALED_MODE    ? RST_NO
                                                                             : RST_UNSAID,
                        .seq = cp.newest_seq,
                        .captured = cp.newest};
        if (!copy_str(&c->medium, e->label.name))
            return false;
    }
    return true;
}

/* The generations of data set `ds` that count (intact, not pruned), the
 * newest one's capture time, and those under suspicion (generation.h):
 * marked and not cleared, from where it begins; `v` grouped by data set,
 * each in ascending sequence. */
static void count_generations(bkp_gen **v, size_t n, const char *ds, pol_ds_state *s)
{
    size_t i = 0, j;
    while (i < n && strcmp(v[i]->dataset, ds))
        i++;
    for (j = i; j < n && !strcmp(v[j]->dataset, ds); j++) {
        if (v[j]->pruned || v[j]->status)
            continue;
        s->generations++;
        if (v[j]->finished > s->last_backup)
            s->last_backup = v[j]->finished;
    }
    size_t from = i + bkp_gen_suspicion(v + i, j - i);
    for (size_t k = from; k < j; k++)
        if (v[k]->status && !v[k]->pruned)
            s->suspicious_damaged = v[k]->seq; /* it may be a marked one */
        else if (!v[k]->pruned && bkp_gen_marked(v[k]) && !v[k]->cleared) {
            s->suspicious++;
            s->suspicious_seq = v[k]->seq;
        }
    /* The last generation before it: what to restore if the files were encrypted. */
    for (size_t k = from; (s->suspicious || s->suspicious_damaged) && k-- > i;)
        if (!v[k]->pruned && !v[k]->status) {
            s->suspicious_before = v[k]->seq;
            break;
        }
}

static rst_counts counts_of(const pol_status *o)
{
    return (rst_counts){o->copies, o->media_types, o->offline, o->offsite, o->immutable};
}

/* One data set's status into `r`: 0 or -ENOMEM. */
static int dataset_status(const ops_status_in *in, size_t i, const ds_view *w, rst_dataset *r)
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
    int rc = -ENOMEM;
    r->copies = calloc(w->nreg + 1, sizeof(*r->copies));
    if (!copies || !behind || !r->copies || !copy_str(&r->name, d->name) ||
        !copy_str(&r->description, d->description ? d->description : ""))
        goto fail;
    s.nbehind = pins_behind(in->pins, d->name, behind);
    count_generations(w->v, w->n, d->name, &s);
    /* Another data set under suspicion holds every off-line disk away (its
     * own holds them with its own step). */
    s.suspect_elsewhere = w->suspect && strcmp(w->suspect, d->name) ? w->suspect : NULL;
    /* One sealed as suspicious is recorded failed; it is said as such. */
    s.last_run_failed = last->backup.json && last->backup.error && !last->backup.ok &&
                        !ops_backup_suspicious(&last->backup);
    s.last_run_seq = s.last_run_failed ? last->backup.seq : 0;
    /* The run judging its own work says when it began; another's is seen
     * by its lock, since a time not known here. */
    s.run_since = in->run_since                                    ? in->run_since
                  : bkp_lock_alive(bkp_repo_path(in->repo), "run") ? 1
                                                                   : 0;
    if (d->runbook && in->runbook_usable && !in->runbook_usable(in->ctx, d->runbook, d->name))
        s.runbook_unusable = d->runbook;
    const bkp_audit_entry *shown = drill_shown(last, p, d);
    rb_drill_figures df;
    rb_drill_figures_read(shown, &df);
    if (shown->json && !shown->ok && df.runbook) {
        s.drill_failed = df.runbook;
        s.drill_failed_seq = shown->seq;
    }
    if (!media_copies(in, d, w, now, copies, &s, r))
        goto fail;
    /* In English for programs (--json, alerts, the audit log); for a person
     * also in the language of the messages (`shown`), and in Japanese for a
     * Japanese reader of a page or a program (the status page). */
    bkp_i18n_saved lang;
    bkp_i18n_begin(&lang, "en");
    pol_compliance(p, &s, w->st, w->due, p->nmedia, now, &out);
    bkp_i18n_end(&lang);
    words_of(&out, &r->en);
    if ((r->has_shown = in->shown))
        words_in(p, &s, w->st, w->due, now, NULL, &r->shown);
    words_in(p, &s, w->st, w->due, now, "ja", &r->ja);
    r->priority = d->priority;
    r->suspicious = s.suspicious ? s.suspicious_seq : s.suspicious_damaged;
    if (s.runbook_unusable && !copy_str(&r->runbook_unusable, s.runbook_unusable))
        goto fail;
    r->verdict = out.verdict;
    r->generations = s.generations;
    r->counted = counts_of(&out);
    r->required = (rst_counts){p->rule.copies, p->rule.media_types, p->rule.offline,
                               p->rule.offsite, p->rule.immutable};
    r->offline_age = out.offline_age;
    r->offline_max_age = p->rule.offline_max_age;
    r->last_backup = s.last_backup;
    if (backup_event(&last->backup, &r->last_backup_run) &&
        event_of(&w->last.verify, &r->last_verify) && drill_of(shown, &r->last_drill) &&
        /* Neither an unattended drill since, nor another runbook's failure
         * shown, hides the last one a person attended: that is what proves
         * the staff can do it. */
        (!last->attended.json || last->attended.seq == shown->seq ||
         drill_of(&last->attended, &r->last_attended)))
        rc = 0;
fail:
    free(copies);
    free(behind);
    return rc;
}

rst_unfinished ops_attempt_state(const char *repo, const bkp_media_attempt *a)
{
    if (!a->began)
        return RST_FINISHED;
    if (a->ended)
        return a->failed ? RST_FAILED : RST_FINISHED;
    return bkp_lock_writer_alive(repo, a->host, a->pid) ? RST_RUNNING : RST_CUT_OFF;
}

/* The policy's media, with what each held after its last rotation (the
 * registry's note; policies/ knows the kind), and a rotation to it that did
 * not finish. False without memory. */
static bool media_sizes(const pol_policy *p, const bkp_repo *r, const ds_view *w, rst_status *st)
{
    const char *repo = bkp_repo_path(r);
    if (!(st->media = calloc(p->nmedia + 1, sizeof(*st->media))))
        return false;
    for (size_t i = 0; i < p->nmedia; i++) {
        rst_medium *m = &st->media[st->nmedia++];
        *m = (rst_medium){.type = p->media[i].type, .online = !p->media[i].offline};
        if (ops_medium_foreign(r, &p->media[i], m->other_repository) &&
            !copy_str(&m->path, p->media[i].path))
            return false;
        for (size_t k = 0; k < w->nreg; k++)
            if (!strcmp(w->reg[k].label.name, p->media[i].name)) {
                const bkp_media_attempt *a = &w->reg[k].attempt;
                m->bytes = w->reg[k].bytes;
                m->has_free = w->reg[k].has_free;
                m->free_after = w->reg[k].free_after;
                m->wrote = w->reg[k].wrote;
                m->written = w->reg[k].last_write;
                m->unfinished = ops_attempt_state(repo, a);
                m->began = m->unfinished ? a->began : 0;
                m->full = m->unfinished == RST_FAILED && a->full;
                m->pruned_first = m->full && a->pruned_first;
                if (m->unfinished == RST_FAILED &&
                    ((a->why[0] && !copy_str(&m->why, a->why)) ||
                     (a->why_ja[0] && !copy_str(&m->why_ja, a->why_ja))))
                    return false;
            }
        /* A disk takes the key file of its rotation's open (an archive and
         * a bucket keep the old one: said at the change). Behind: the list
         * its last rotation left is older than the last change's; a
         * rotation that did not say which, by the log's order; none since
         * a restart of the log, by the clock. */
        const struct rotated *rot = w->last.rotated ? &w->last.rotated[i] : NULL;
        const last_ctx *l = &w->last;
        m->keys_behind = pol_type_rekeyed(p->media[i].type) &&
                         (rot && rot->serial && l->key_serial ? rot->serial < l->key_serial
                          : rot && rot->seq                   ? rot->seq < l->key_seq
                                            : m->written > 0 && m->written < st->key_changed);
        if (!copy_str(&m->medium, p->media[i].name))
            return false;
    }
    return true;
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

int ops_status(const ops_status_in *in, rst_status *st, ops_status_log *found)
{
    const pol_policy *p = in->policy;
    ds_view w = {.st = in->states, .last = {.p = p, .also = in->also, .also_ctx = in->also_ctx}};
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    char *log = bkp_audit_path(in->repo);
    ops_status_log own;
    ops_status_log *l = found ? found : &own;
    int rc = -ENOMEM;
    *l = (ops_status_log){.rc = -ENOMEM, .checked = bkp_now()};
    *st = (rst_status){.verdict = POL_COMPLIANT};
    w.last.of = calloc(p->ndatasets + 1, sizeof(*w.last.of));
    w.last.rotated = calloc(p->nmedia + 1, sizeof(*w.last.rotated));
    st->datasets = calloc(p->ndatasets + 1, sizeof(*st->datasets));
    if (!in->states || !due || !log || !w.last.of || !w.last.rotated || !st->datasets)
        goto out;
    if ((rc = bkp_media_list(in->repo, &w.reg, &w.nreg)) ||
        (rc = bkp_gen_list(in->repo, NULL, &w.v, &w.n)))
        goto out;
    pol_media_due(p, in->states, p->nmedia, due);
    w.due = due;
    w.suspect = bkp_gen_suspect_in(w.v, w.n);
    ops_storage_count(&l->storage, w.v, w.n);
    /* One reading of the log for every data set, the key-recovery drill
     * and the check of the whole log (the document's "audit" part). */
    l->rc = bkp_audit_each_sound(log, bkp_repo_sign_pk(in->repo), scan, &w.last, &l->check);
    l->read = true;
    if (l->rc == -ENOENT && l->check.absent)
        l->rc = 1; /* no log at all: a loss the check describes */
    else if (l->rc == 0 && l->check.bad)
        l->rc = 1;
    if (w.last.nomem) {
        rc = -ENOMEM;
        goto out;
    }
    l->key_drill = w.last.key_drill;
    l->key_drill_old = w.last.key_drill_old;
    l->key_split_new = w.last.key_split_new;
    l->key_changed = w.last.key_changed;
    l->created = w.last.first;
    /* In priority order: what care needs back first comes first. */
    for (size_t k = 0; k < p->ndatasets; k++) {
        size_t i = 0;
        for (size_t x = 0; x < p->ndatasets; x++)
            if (rank(p, x) == k)
                i = x;
        rst_dataset *d = &st->datasets[st->ndatasets++];
        if ((rc = dataset_status(in, i, &w, d)))
            goto out;
        if (d->verdict > st->verdict)
            st->verdict = d->verdict;
    }
    st->key_drill = ops_key_drill_status(l, p);
    st->key_changed = l->rc >= 0 ? l->key_changed : 0;
    rc = media_sizes(p, in->repo, &w, st) ? 0 : -ENOMEM;
out:
    if (rc)
        rst_status_clear(st);
    bkp_gen_list_free(w.v, w.n);
    bkp_media_entries_free(w.reg, w.nreg);
    last_free(&w.last);
    free(log);
    free(due);
    return rc;
}

rst_key_drill ops_key_drill_status(const ops_status_log *log, const pol_policy *policy)
{
    time_t last = log && log->rc >= 0 ? log->key_drill : 0, now = bkp_now();
    int64_t every = policy ? policy->key_drill_every : 365 * 86400;
    /* Never held: due once the interval has passed since the repository was
     * made, not on its first day. */
    time_t since = last > 0 ? last : log && log->rc >= 0 ? log->created : 0;
    time_t resplit = log && log->rc >= 0 ? log->key_split_new : 0;
    return (rst_key_drill){.last = last > 0 ? last : 0,
                           .every = every,
                           .due = since <= 0 || now - since > every || resplit,
                           .old_split = log && log->rc >= 0 ? log->key_drill_old : 0,
                           .new_split = resplit};
}

/* ---- the rest of the document ---- */

/* The coming rotations shown: four weeks ahead, at most this many turns
 * (the page prints on one sheet). */
#define CALENDAR_DAYS 28
#define CALENDAR_MAX 8

/* Turn `m` at `when` into the calendar `s` (room for it): false without memory. */
static bool turn(rst_status *s, const pol_medium *m, time_t when, bool done)
{
    rst_turn *t = &s->rotations[s->nrotations++];
    *t = (rst_turn){
        .type = m->type, .offline = m->offline, .offsite = m->offsite, .done = done, .when = when};
    return copy_str(&t->medium, m->name) && copy_str(&t->kept_at, m->kept_at);
}

/* The calendar of the coming rotations (policies/compliance.h), after
 * those of the last week, done: the calendar's 済. */
static bool rotations(const ops_status_in *in, rst_status *s, time_t now)
{
    const pol_policy *p = in->policy;
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    pol_turn turns[CALENDAR_MAX];
    bool ok = due && (s->rotations = calloc(p->nmedia + CALENDAR_MAX + 1, sizeof(*s->rotations)));
    for (size_t i = 0; ok && in->states && i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        time_t w = in->states[i].last_write;
        if (m->rotate_every && w && now - w <= 7 * 86400 && w <= now)
            ok = turn(s, m, w, true);
    }
    if (ok && in->states) {
        pol_media_due(p, in->states, p->nmedia, due);
        size_t n = pol_rotation_calendar(in->states, due, p->nmedia, now,
                                         now + CALENDAR_DAYS * 86400, turns, CALENDAR_MAX);
        for (size_t i = 0; ok && i < n; i++)
            ok = turn(s, turns[i].medium, turns[i].when, false);
    }
    free(due);
    return ok;
}

/* The audit log as ops_status checked it, with the repository's public key
 * (`log`, NULL: not read): what was checked and when, so that the page never
 * says "intact" unverified; the problem as a code, for the page and any
 * reader to say in its own language, and in English as before.
 *
 * The whole log, every time, and not only what was appended since the last
 * check. To skip the rest, a check would have to leave a note of how far
 * the log was found sound (the hash of that prefix, hashed again each time,
 * its signatures not checked again). The head marker (audit_head.c) is not
 * that note: it is signed but names only the last record appended, and
 * says nothing of the records before it. Such a note could not live in the
 * repository unsigned: the insider of the threat model (docs/SECURITY.md
 * §2) writes the repository without the key, would rewrite the note with
 * the record, and a record rewritten before the note's mark would pass. Signed, it would be written
 * by `bkp status`, which opens the repository read-only and writes nothing. So the log is read
 * whole — once, by the same pass that finds the records the status reports: a rewritten older
 * record is always found. */
static void audit_checked(const ops_status_log *log, time_t now, rst_audit *a)
{
    int rc = log ? log->rc : -ENOMEM;
    bkp_audit_check chk = {.why = {.code = BKP_AUDIT_UNREADABLE, .err = rc}};
    if (rc >= 0)
        chk = log->check;
    else
        snprintf(chk.problem, sizeof(chk.problem), "cannot be read: %s", bkp_strerror_en(rc));
    *a = (rst_audit){.checked = log && log->checked ? log->checked : now,
                     .records = chk.records,
                     .restarts = chk.restarts,
                     .ok = rc == 0,
                     .absent = chk.absent,
                     .why = chk.why};
    memcpy(a->problem, chk.problem, sizeof(a->problem));
}

/* The off-line media plugged in (medium_check.h). */
static bool connected(const ops_status_in *in, rst_status *s, time_t now)
{
    ops_connected *v;
    size_t n;
    if (ops_media_connected(in->repo, in->policy, now, &v, &n))
        return true; /* said */
    bool ok = !n || (s->connected = calloc(n, sizeof(*s->connected)));
    for (size_t i = 0; ok && i < n; i++) {
        rst_connected *c = &s->connected[s->nconnected++];
        *c = (rst_connected){.last_write = v[i].last_write, .left = v[i].left, .due = v[i].due};
        /* A disk that still opens with the passphrases of before is due
         * while it is here: its rotation gives it the key file of now, and
         * taken away first it would open with them for another turn. */
        for (size_t k = 0; k < s->nmedia; k++)
            c->due |= s->media[k].keys_behind && !strcmp(s->media[k].medium, v[i].medium->name);
        ok = copy_str(&c->medium, v[i].medium->name) && copy_str(&c->path, v[i].medium->path);
    }
    free(v);
    return ok;
}

int ops_status_doc(const ops_status_in *in, rst_status *s, const ops_status_log *log)
{
    time_t now = bkp_now();
    char host[256] = "";
    if (!in->policy)
        return -EINVAL;
    (void)gethostname(host, sizeof(host) - 1);
    s->generated = now;
    audit_checked(log, now, &s->audit);
    if (!rotations(in, s, now) || !connected(in, s, now) || !copy_str(&s->host, host) ||
        !copy_str(&s->facility, in->policy->facility))
        return -ENOMEM;
    /* What a copy of it needs: left out when the folders cannot be read (said). */
    s->storage = log ? log->storage : (rst_storage){0};
    s->has_storage = log && !ops_storage_files(in->repo, &s->storage);
    return 0;
}

int ops_status_page_write(const rst_status *s, const char *file, bool ja)
{
    char *page = rst_status_page(s, ja);
    /* Mode 0644 whatever the umask (systemd's UMask=0077, cron's): the
     * clerk who opens it is not root. Through the temporary name, so that a
     * browser never opens half a page. */
    int rc = page ? bkp_durable_write_path(file, page, strlen(page), BKP_DURABLE_PUBLIC) : -ENOMEM;
    free(page);
    return rc;
}
