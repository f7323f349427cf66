/* annex.c — the backup section of the operations rules (annex.h). */
#include "bkp/report/annex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "policies/compliance.h"
#include "policies/retention.h"

#define DAY 86400

/* The guideline's Q&A example keeps five generations of the electronic
 * medical record and three of other systems; checklist item 3-② asks for
 * three or more. */
#define GENERATIONS_MIN 3

static const rst_annex_runbook *runbook_of(const rst_annex_facts *f, const char *name)
{
    for (size_t i = 0; f && name && i < f->nrunbooks; i++)
        if (!strcmp(f->runbooks[i].name, name))
            return &f->runbooks[i];
    return NULL;
}

static const rst_annex_medium *medium_of(const rst_annex_facts *f, const char *name)
{
    for (size_t i = 0; f && name && i < f->nmedia; i++)
        if (!strcmp(f->media[i].name, name))
            return &f->media[i];
    return NULL;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

void rst_annex_facts_clear(rst_annex_facts *f)
{
    for (size_t i = 0; i < f->nrunbooks; i++) {
        free(f->runbooks[i].name);
        free(f->runbooks[i].title);
        free(f->runbooks[i].owner);
        free(f->runbooks[i].passphrase_note);
    }
    for (size_t i = 0; i < f->nmedia; i++)
        free(f->media[i].name);
    free(f->runbooks);
    free(f->media);
    memset(f, 0, sizeof(*f));
}

/* A blank line for the facility (hospital or clinic) to write on. */
static const char *blank(void)
{
    return _("________________ (to be filled in by the facility)");
}

/* "every 14 days", or in hours when not whole days. */
static const char *every_words(int64_t secs, char *buf, size_t n)
{
    bool days = secs % DAY == 0;
    long long v = days ? secs / DAY : (secs + 3599) / 3600;
    unsigned long k = v > 1000000 ? 1000000 : (unsigned long)v; /* ngettext's count */
    snprintf(buf, n,
             days ? ngettext("every %lld day", "every %lld days", k)
                  : ngettext("every %lld hour", "every %lld hours", k),
             v);
    return buf;
}

static void join(char *buf, size_t n, const char *one)
{
    bkp_strappend(buf, n, "%s%s", buf[0] ? _(", ") : "", one);
}

/* "last 7, daily 14, ...; no deletion for 7 days" */
static const char *keep_words(const pol_retention *r, char *buf, size_t n)
{
    char one[64];
    buf[0] = '\0';
#define RULE(v, fmt)                                                                               \
    if (v) {                                                                                       \
        snprintf(one, sizeof(one), fmt, v);                                                        \
        join(buf, n, one);                                                                         \
    }
    RULE(r->keep_last, _("last %d"));
    RULE(r->keep_hourly, _("hourly %d"));
    RULE(r->keep_daily, _("daily %d"));
    RULE(r->keep_weekly, _("weekly %d"));
    RULE(r->keep_monthly, _("monthly %d"));
    RULE(r->keep_yearly, _("yearly %d"));
#undef RULE
    if (!buf[0])
        bkp_strappend(buf, n, "%s", _("no rule: every generation is kept"));
    if (r->lock_days) {
        snprintf(one, sizeof(one), _("no deletion for %d day(s)"), r->lock_days);
        bkp_strappend(buf, n, "%s%s", _("; "), one);
    }
    return buf;
}

/* The function that keeps the copy on `m` from being edited, as bkp uses it. */
static const char *guard_words(const pol_medium *m, const rst_annex_facts *facts, char *buf,
                               size_t n)
{
    const rst_annex_medium *known = medium_of(facts, m->name);
    const rst_cited *probe = known && known->probe.time ? &known->probe : NULL;
    char date[16];
    if (pol_medium_bucket(m)) {
        snprintf(buf, n,
                 _("Object Lock in %s mode: each object locked against deletion and overwriting "
                   "for at least %d day(s)"),
                 m->object.governance ? "GOVERNANCE" : "COMPLIANCE", m->object.lock_days);
        if (probe && probe->ok)
            bkp_strappend(buf, n, _("; proven by `bkp media probe` on %.10s"),
                          rb_day(date, sizeof(date), probe->time));
        else
            bkp_strappend(buf, n, _("; not yet proven: run `bkp media probe %s`"), m->name);
    } else if (pol_type_write_once(m->type)) {
        snprintf(buf, n, "%s",
                 _("each generation written once as a separate archive and never rewritten; in a "
                   "folder the archive is made read-only with the immutable attribute, on tape or "
                   "write-once media the medium keeps it"));
    } else {
        snprintf(
            buf, n, "%s",
            _("stored files made read-only with the immutable attribute after each copy (where "
              "the file system allows)"));
        if (m->offline)
            bkp_strappend(buf, n, "%s", _("; disconnected from the network while stored"));
    }
    return buf;
}

/* Where the copies of `d` are kept: the primary repository and its media. */
static const char *storage_words(const pol_policy *p, const pol_dataset *d, char *buf, size_t n)
{
    snprintf(buf, n, _("primary repository %s"), p->repository);
    bkp_strappend(buf, n, "%s%s", _(": "), _("on-site, on-line"));
    for (size_t k = 0; k < d->ncopy_to; k++) {
        const pol_medium *m = pol_medium_find(p, d->copy_to[k]);
        if (m)
            bkp_strappend(buf, n, "\n%s%s%s", m->name, _(": "),
                          pol_medium_place_words(m->offsite, m->offline));
    }
    return buf;
}

/* The data sets in the order they are restored: priority, then policy order. */
static size_t *by_priority(const pol_policy *p)
{
    size_t *o = calloc(p->ndatasets ? p->ndatasets : 1, sizeof(*o));
    if (!o)
        return NULL;
    for (size_t i = 0; i < p->ndatasets; i++) {
        size_t j = i;
        for (; j > 0 && p->datasets[o[j - 1]].priority > p->datasets[i].priority; j--)
            o[j] = o[j - 1];
        o[j] = i;
    }
    return o;
}

static const char *dataset_words(const pol_dataset *d, char *buf, size_t n)
{
    if (d->description && *d->description)
        snprintf(buf, n, "%s (%s)", d->description, d->name);
    else
        snprintf(buf, n, "%s", d->name);
    return buf;
}

static void intro(rb_doc *doc, const pol_policy *p, const rst_annex_facts *facts)
{
    rb_doc_para(doc, "%s",
                _("This annex sets out how backups are made and kept, for attachment to the "
                  "operations management rules as the 2024 medical fee revision's Q&A (No. 8, "
                  "question 2) asks. It is written from the backup policy in force; where the "
                  "policy says nothing, a blank line is left for the facility to fill in."));
    char date[16];
    if (facts && facts->generated)
        rb_doc_para(doc, _("Policy: `%s`. Written on %s."), p->file,
                    rb_day(date, sizeof(date), facts->generated));
    else
        rb_doc_para(doc, _("Policy: `%s`."), p->file);
}

static void data_section(rb_doc *doc, const pol_policy *p, const size_t *o)
{
    char name[512], paths[2048], when[64];
    rb_doc_h2(doc, _("1. Data to be backed up and priority"));
    rb_doc_table(doc, (const char *[]){_("Priority"), _("Data"), _("Paths"), _("Schedule"), NULL});
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[o[i]];
        char prio[16];
        snprintf(prio, sizeof(prio), "%d", d->priority);
        paths[0] = '\0';
        for (size_t k = 0; k < d->npaths; k++)
            bkp_strappend(paths, sizeof(paths), "%s%s", k ? "\n" : "", d->paths[k]);
        if (d->stream.command.command) /* never the command: it may carry a secret */
            bkp_strappend(paths, sizeof(paths), _("the output of a command, as %s"),
                          d->stream.name);
        rb_doc_row(doc,
                   (const char *[]){prio, dataset_words(d, name, sizeof(name)), paths,
                                    pol_schedule_words(&d->schedule, when, sizeof(when)), NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s", _("Priority 1 is restored first."));
}

static void generations_section(rb_doc *doc, const pol_policy *p, const size_t *o)
{
    char name[512], rules[512], count[64];
    bool few = false;
    rb_doc_h2(doc, _("2. Generations kept"));
    rb_doc_table(doc, (const char *[]){_("Data"), _("Retention rules"), _("Generations kept"),
                                       _("Note"), NULL});
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[o[i]];
        int g = pol_retention_keeps(&d->retention);
        const char *note = "";
        if (!g)
            snprintf(count, sizeof(count), "%s", _("all"));
        else
            snprintf(count, sizeof(count), _("at least %d"), g);
        if (g && g < GENERATIONS_MIN) {
            note = _("FEWER THAN THREE: an older clean copy may be gone before an infection is "
                     "noticed; keep at least three");
            few = true;
        }
        rb_doc_row(doc, (const char *[]){dataset_words(d, name, sizeof(name)),
                                         keep_words(&d->retention, rules, sizeof(rules)), count,
                                         note, NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                _("The guideline's Q&A gives as an example five generations for the electronic "
                  "medical record and three for other systems. A generation is one complete "
                  "backup; \"at least\" counts the generations kept once enough backups were "
                  "made."));
    if (few)
        rb_doc_para(doc, "%s",
                    _("A data set above keeps fewer than three generations: raise its keep_last or "
                      "keep_daily in the policy, or write here why fewer are enough."));
}

static void media_section(rb_doc *doc, const pol_policy *p, const rst_annex_facts *facts)
{
    char guard[512];
    rb_doc_h2(doc, _("3. Media, their non-editable function and where they are kept"));
    if (!p->nmedia) {
        rb_doc_para(doc, "%s",
                    _("The policy names no medium besides the primary repository: no copy is "
                      "off-line or off-site. Add a removable disk, an archive or object storage."));
        return;
    }
    rb_doc_table(doc, (const char *[]){_("Medium"), _("Kind"), _("Non-editable function"),
                                       _("Where kept"), NULL});
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        char where[POL_KEPT_AT_MAX + 64];
        snprintf(where, sizeof(where), "%s%s%s", pol_medium_place_words(m->offsite, m->offline),
                 m->kept_at ? "\n" : "", m->kept_at ? m->kept_at : "");
        rb_doc_row(doc, (const char *[]){m->name, pol_medium_type_words(m->type),
                                         guard_words(m, facts, guard, sizeof(guard)), where, NULL});
    }
    rb_doc_table_end(doc);
}

/* How often medium `m` comes back: a disk swapped with others at one
 * mount point each week comes back once every turn of the set ("every 14
 * day(s), in turn with usb-b"). */
static const char *turn_words(const pol_policy *p, const pol_medium *m, char *buf, size_t n)
{
    char others[192] = "", every[64];
    size_t members = 0;
    if (!m->rotate_every) {
        snprintf(buf, n, "%s", _("not set in the policy"));
        return buf;
    }
    for (size_t i = 0; i < p->nmedia; i++) {
        if (!pol_media_take_turns(m, &p->media[i]))
            continue;
        members++;
        if (&p->media[i] != m)
            bkp_strappend(others, sizeof(others), "%s%s", *others ? _(", ") : "", p->media[i].name);
    }
    int64_t turn;
    if (__builtin_mul_overflow(m->rotate_every, (int64_t)members, &turn))
        turn = m->rotate_every;
    every_words(turn, every, sizeof(every));
    if (*others)
        snprintf(buf, n, _("%s, in turn with %s"), every, others);
    else
        snprintf(buf, n, "%s", every);
    return buf;
}

/* The off-line procedure: which medium, how often, last done, who. */
static void offline_section(rb_doc *doc, const pol_policy *p, const rst_annex_facts *facts)
{
    char every[256], last[256];
    size_t n = 0;
    rb_doc_h2(doc, _("4. Off-line procedure"));
    for (size_t i = 0; i < p->nmedia; i++)
        n += p->media[i].offline;
    if (!n) {
        rb_doc_para(doc, "%s",
                    _("The policy names no off-line medium: no copy is out of the network's "
                      "reach. Add one (a removable disk or an archive) to the policy."));
        return;
    }
    rb_doc_table(doc, (const char *[]){_("Medium"), _("Rotation due"), _("Last rotation"),
                                       C_("annex", "Who"), NULL});
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        const rst_annex_medium *known = medium_of(facts, m->name);
        char date[16];
        if (!m->offline)
            continue;
        /* The last exchange that succeeded; a later attempt that did not,
         * beside it (refused: the medium was not there, nothing written). */
        if (known && known->last_ok.time)
            snprintf(last, sizeof(last), "%s", rb_day(date, sizeof(date), known->last_ok.time));
        else
            snprintf(last, sizeof(last), "%s", _("none recorded"));
        if (known && known->last.time && !known->last.ok)
            bkp_strappend(last, sizeof(last),
                          known->last.refused ? _(" (attempt of %.10s refused: nothing written)")
                                              : _(" (attempt of %.10s failed)"),
                          rb_day(date, sizeof(date), known->last.time));
        rb_doc_row(doc, (const char *[]){m->name, turn_words(p, m, every, sizeof(every)), last,
                                         blank(), NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                _("Each time: connect the medium that is due and run `bkp rotate MEDIUM`; bkp "
                  "refuses a medium with the wrong label, copies the generations it lacks, reads "
                  "them back and verifies them. When it reports success, disconnect the medium, "
                  "take it to where it is kept and do not connect it to the network until its "
                  "next rotation. `bkp status` says which medium is due."));
    rb_doc_para(doc, _("An off-line copy older than %lld day(s) is reported as a risk."),
                (long long)(p->rule.offline_max_age / DAY));
}

static const char *drill_words(const rst_cited *dr, char *buf, size_t n)
{
    char took[32], date[16];
    if (!dr || !dr->time) {
        snprintf(buf, n, "%s", _("no drill recorded"));
        return buf;
    }
    rb_duration_text(took, sizeof(took), dr->seconds > 0 ? dr->seconds : 0);
    rb_day(date, sizeof(date), dr->time);
    if (!dr->ok)
        snprintf(buf, n, _("%.10s: failed"), date);
    else if (dr->rto_met == RST_YES)
        snprintf(buf, n, _("%.10s: succeeded in %s, within the target"), date, took);
    else if (dr->rto_met == RST_NO)
        snprintf(buf, n, _("%.10s: succeeded in %s, OVER the target"), date, took);
    else
        snprintf(buf, n, _("%.10s: succeeded in %s"), date, took);
    return buf;
}

/* One data set's row of the recovery table. */
static void recovery_row(rb_doc *doc, const pol_dataset *d, const rst_annex_facts *facts)
{
    char name[512], proc[512], rto[32], drill[512], staff[256];
    const rst_annex_runbook *rb = runbook_of(facts, d->runbook);
    const char *target = _("not set");
    if (!d->runbook)
        snprintf(proc, sizeof(proc), "%s", _("no procedure named in the policy"));
    else if (!rb || rb->invalid)
        snprintf(proc, sizeof(proc), _("%s (could not be read)"), d->runbook);
    else if (rb->owner && *rb->owner)
        snprintf(proc, sizeof(proc), _("%s: %s\nresponsible: %s"), d->runbook, or_empty(rb->title),
                 rb->owner);
    else
        snprintf(proc, sizeof(proc), "%s: %s", d->runbook, or_empty(rb->title));
    if (rb && rb->rto > 0)
        target = rb_duration_text(rto, sizeof(rto), (double)rb->rto);
    drill[0] = '\0';
    if (d->runbook)
        drill_words(rb ? &rb->drill : NULL, drill, sizeof(drill));
    /* An unattended drill proves the restore, not the people's steps: the
     * last drill with the staff beside it, or that there was none. */
    if (d->runbook && rb && rb->drill.time && rb->drill.unattended)
        bkp_strappend(drill, sizeof(drill),
                      _(" (unattended: nobody followed the written steps)\nwith the staff: %s"),
                      rb->attended.time ? drill_words(&rb->attended, staff, sizeof(staff))
                                        : _("none recorded"));
    rb_doc_row(doc,
               (const char *[]){dataset_words(d, name, sizeof(name)), proc, target, drill, NULL});
}

static void recovery_section(rb_doc *doc, const pol_policy *p, const size_t *o,
                             const rst_annex_facts *facts)
{
    char when[64];
    rb_doc_h2(doc, _("5. Emergency recovery"));
    rb_doc_table(doc, (const char *[]){_("Data"), _("Recovery procedure"),
                                       _("Target recovery time"), _("Last drill"), NULL});
    for (size_t i = 0; i < p->ndatasets; i++)
        recovery_row(doc, &p->datasets[o[i]], facts);
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                _("Each procedure is printed with `bkp runbook print NAME` and kept on paper "
                  "where it can be read with the systems down. Before restoring: isolate "
                  "infected machines, restore the security functions an attacker disabled, fix "
                  "the vulnerability used, and invalidate stolen or planted IDs and passwords."));
    for (size_t i = 0; i < p->ndrills; i++)
        rb_doc_para(doc, _("Drill of `%s`: %s (`bkp drill %s`)."), p->drills[i].runbook,
                    pol_schedule_words(&p->drills[i].schedule, when, sizeof(when)),
                    p->drills[i].runbook);
    if (!p->ndrills)
        rb_doc_para(doc, "%s",
                    _("The policy schedules no drill: rehearse each procedure regularly with "
                      "`bkp drill NAME` and record who watched."));
    if (facts && facts->audit == RST_LOG_UNREADABLE)
        rb_doc_para(doc, "%s",
                    _("The audit log could not be read: drills and rotations are not shown."));
}

/* Where the key is kept; the places only, never a secret. */
static void key_section(rb_doc *doc, const pol_policy *p, const rst_annex_facts *facts)
{
    bool noted = false;
    rb_doc_h2(doc, _("6. Keys"));
    rb_doc_para(doc, "%s",
                _("Every copy is encrypted. Any surviving copy can be restored with the "
                  "passphrase, or with the paper key (`bkp key export --paper`) or enough of its "
                  "shares (`bkp key split`), which must be kept apart from the server."));
    if (p->passphrase_file)
        rb_doc_para(doc,
                    _("On the server the passphrase is read from `%s` (readable by root "
                      "only)."),
                    p->passphrase_file);
    for (size_t i = 0; facts && i < facts->nrunbooks; i++) {
        const rst_annex_runbook *rb = &facts->runbooks[i];
        if (!rb->passphrase_note || !*rb->passphrase_note)
            continue;
        rb_doc_para(doc, _("Where the passphrase is kept (procedure %s): %s"), rb->name,
                    rb->passphrase_note);
        noted = true;
    }
    if (!noted)
        rb_doc_para(doc, _("Where the passphrase is kept: %s"), blank());
    /* The runbook says where the passphrase is; the paper key's place is
     * another, which nothing records: the form asks for it. */
    rb_doc_para(doc, _("Where the paper key or its shares are kept, apart from the passphrase: %s"),
                blank());
}

/* The guideline's service levels (12.2): one row per data set. */
static void levels_section(rb_doc *doc, const pol_policy *p, const size_t *o,
                           const rst_annex_facts *facts)
{
    char name[512], when[64], gens[640], rules[512], method[512], where[2048];
    rb_doc_h2(doc, _("7. Service levels"));
    rb_doc_table(doc, (const char *[]){C_("annex", "Target"), _("Frequency"),
                                       _("Generations recoverable"), _("Method"),
                                       _("Storage place"), NULL});
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[o[i]];
        const rst_annex_runbook *rb = runbook_of(facts, d->runbook);
        const char *title = rb && rb->title ? rb->title : "";
        int g = pol_retention_keeps(&d->retention);
        keep_words(&d->retention, rules, sizeof(rules));
        if (g)
            snprintf(gens, sizeof(gens), _("at least %d (%s)"), g, rules);
        else
            snprintf(gens, sizeof(gens), "%s", rules);
        snprintf(method, sizeof(method), "%s",
                 _("encrypted, deduplicated backup by bkp; each copy read back and verified"));
        if (d->runbook)
            bkp_strappend(method, sizeof(method), _("\nrestored by procedure %s%s%s"), d->runbook,
                          *title ? _(": ") : "", title);
        rb_doc_row(doc, (const char *[]){dataset_words(d, name, sizeof(name)),
                                         pol_schedule_words(&d->schedule, when, sizeof(when)), gens,
                                         method, storage_words(p, d, where, sizeof(where)), NULL});
    }
    rb_doc_table_end(doc);
}

char *rst_annex_render(const pol_policy *p, const rst_annex_facts *facts, rb_format f, bool ja)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char *text = NULL;
    size_t *o = by_priority(p);
    rb_doc *doc = o ? rb_doc_new(f, _("Backup (annex to the operations management rules)")) : NULL;
    if (doc) {
        intro(doc, p, facts);
        data_section(doc, p, o);
        generations_section(doc, p, o);
        media_section(doc, p, facts);
        offline_section(doc, p, facts);
        recovery_section(doc, p, o, facts);
        key_section(doc, p, facts);
        levels_section(doc, p, o, facts);
        text = rb_doc_finish(doc);
    }
    free(o);
    bkp_i18n_end(&saved);
    return text;
}
