/* evidence.c — the evidence report for checklist item 3-② (evidence.h). */
#include "bkp/report/evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/report/doc.h"
#include "policies/policy.h"

/* The 3-2-1 verdict (compliance.h), for people; "" when not known. */
static const char *verdict_text(const rb_ev_dataset *d)
{
    return d->has_status ? _(pol_verdict_name(d->verdict)) : "";
}

static bool ok_entry(const rb_ev_entry *e)
{
    return e->outcome && !strcmp(e->outcome, "ok");
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The parts of the statement, each in the language of the moment (the
 * statement formats each twice, in English and in Japanese): whether it
 * holds, and the evidence for it appended to `out`. One sentence per data
 * set, after the separator sep() gives. */
static const char *sep(size_t i)
{
    return i ? C_("between data sets", "; ") : "";
}

/* 1. At least three generations. */
static bool generations(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    /* A period that ended before the report is judged at its end, from the
     * log's backups and prunes (known for all data sets or none); one that
     * ends now, by what is there now. */
    bool at_end = ev->to + 60 < ev->generated && ev->ndatasets && ev->datasets[0].held_at_end >= 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        long long held = at_end ? (long long)d->held_at_end : (long long)d->generations;
        ok &= held >= 3;
        if (at_end && d->held_seq)
            bkp_strappend(out, n,
                          _("%s%s: %lld generation(s) held (backup and prune records up to "
                            "#%llu)"),
                          sep(i), d->name, held, (unsigned long long)d->held_seq);
        else if (at_end)
            bkp_strappend(out, n, _("%s%s: %lld generation(s) held"), sep(i), d->name, held);
        else
            bkp_strappend(out, n, _("%s%s: %lld generation(s) kept"), sep(i), d->name, held);
    }
    char end[64];
    if (at_end)
        bkp_strappend(out, n, _(" (at the period's end, %s)"),
                      bkp_local_time(end, sizeof(end), ev->to, "-"));
    else /* counted on the day the report is made, not over the period */
        bkp_strappend(out, n, "%s", _(" (as of the day this report was made)"));
    return ok;
}

#define ROTATIONS_CITED 12

/* 2. An off-line copy no older than the rule allows, at the period's end
 * (as the generations: the checklist asks whether it is done, and a "no"
 * asks for the date it will be); each time in the period it was older,
 * said with the longest. A document written before it was counted that
 * way is judged over the whole period. */
static bool offline(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        double gap = (double)d->offline_gap / 86400.0;
        double max = (double)d->offline_max_age / 86400.0;
        char until[64];
        ok &= d->offline_at_end_ok == RST_UNSAID ? d->offline_gap_ok
                                                 : d->offline_at_end_ok == RST_YES;
        if (d->offline_at_end_ok == RST_YES && d->offline_lapses && d->offline_gap_end)
            bkp_strappend(out, n,
                          _("%s%s: an off-line copy within %.0f days at the period's end; in the "
                            "period it was older %lld time(s), the longest %.1f days, until %s; "
                            "rotations"),
                          sep(i), d->name, max, (long long)d->offline_lapses, gap,
                          bkp_local_time(until, sizeof(until), d->offline_gap_end, "-"));
        else
            bkp_strappend(out, n,
                          _("%s%s: longest time without a fresh off-line copy %.1f days (at most "
                            "%.0f); rotations"),
                          sep(i), d->name, gap, max);
        /* Only the rotations to off-line media: an on-line disk's copy,
         * within reach of what runs on the server, proves nothing here. */
        size_t cited = 0, okn = 0, skip;
        for (size_t k = 0; k < d->nrotations; k++)
            okn += d->rotations[k].offline && ok_entry(&d->rotations[k].e);
        skip = okn > ROTATIONS_CITED ? okn - ROTATIONS_CITED : 0; /* the newest are cited */
        if (skip)
            bkp_strappend(out, n, _(" (%zu earlier, see the table)"), skip);
        for (size_t k = 0; k < d->nrotations; k++) {
            const rb_ev_entry *r = &d->rotations[k].e;
            char date[16];
            if (!d->rotations[k].offline || !ok_entry(r) || (skip && skip--))
                continue;
            bkp_strappend(out, n, " #%llu (%s, %s)", (unsigned long long)r->seq,
                          rb_day(date, sizeof(date), r->time), or_empty(r->medium));
            cited++;
        }
        if (!cited)
            bkp_strappend(out, n, "%s", _(" none to an off-line medium in the period"));
    }
    return ok;
}

/* The floor of the checklist (3 copies, 2 media types, 1 off-site, 1
 * non-editable) or the policy's rule when it asks more. */
static long long floor_of(int rule, int checklist)
{
    return rule > checklist ? rule : checklist;
}

/* 3. A copy in a form that cannot be edited: off-line media, and Object
 * Lock buckets a probe proved. */
static bool immutable(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        long long want = floor_of(d->required.immutable, 1);
        ok &= d->counted.immutable >= want;
        bkp_strappend(out, n, _("%s%s: %lld non-editable (at least %lld)"), sep(i), d->name,
                      (long long)d->counted.immutable, want);
        for (size_t k = 0; k < d->ncopies; k++) {
            const rst_copy *m = &d->copies[k];
            char date[16];
            /* And how its last rotation left its files, where it said. */
            if (m->offline && pol_type_at_path(m->type) && m->immutable_files == RST_YES)
                bkp_strappend(out, n, _(" (%s: off-line, its files made immutable at its last "
                                        "rotation)"),
                              m->medium);
            else if (m->offline && pol_type_at_path(m->type) && m->immutable_files == RST_NO)
                bkp_strappend(out, n,
                              _(" (%s: off-line; its files read-only by their mode, its file "
                                "system taking no immutable attribute)"),
                              m->medium);
            else if (m->offline && pol_type_at_path(m->type))
                bkp_strappend(out, n, _(" (%s: off-line)"), m->medium);
            else if (!pol_type_at_path(m->type) && m->proven)
                bkp_strappend(out, n,
                              _(" (%s: on-line Object Lock, non-editable, proven on %.10s)"),
                              m->medium, rb_day(date, sizeof(date), m->proven));
            else if (!pol_type_at_path(m->type))
                bkp_strappend(out, n,
                              _(" (%s: on-line Object Lock, NOT proven, counted as "
                                "editable)"),
                              m->medium);
        }
    }
    bkp_strappend(out, n, "%s",
                  _(" (as of the day this report was made; non-editable: copies on media kept "
                    "off-line, their files read-only and immutable where the file system allows, "
                    "and buckets whose Object Lock a test write proved (`bkp media probe`))"));
    return ok;
}

/* 4. Copies on two kinds of media, each named: the server's own disk is
 * one of them, which an inspector may or may not accept (said, so that
 * they can judge). */
static bool media(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0, disks = true, any = false;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        const rst_counts *cnt = &d->counted, *req = &d->required;
        long long rc = floor_of(req->copies, 3), rt = floor_of(req->media_types, 2);
        /* The copies and their kinds alone: the verdict of now, which other
         * shortfalls make, has its own line in the data set's table. */
        ok &= cnt->copies >= rc && cnt->media_types >= rt;
        bkp_strappend(out, n,
                      _("%s%s: %lld copies (at least %lld) on %lld kind(s) of media (at least "
                        "%lld): the server's own disk"),
                      sep(i), d->name, (long long)cnt->copies, rc, (long long)cnt->media_types,
                      rt);
        for (size_t k = 0; k < d->ncopies; k++) {
            bkp_strappend(out, n, _(", %s (%s)"), d->copies[k].medium,
                          pol_medium_type_words(d->copies[k].type));
            disks &= d->copies[k].type == POL_DISK || d->copies[k].type == POL_REMOVABLE;
            any = true;
        }
    }
    bkp_strappend(out, n, "%s",
                  _(" (as of the day this report was made; the server's own disk counts as one "
                    "kind, a disk carried away as another)"));
    /* The checklist's example is disk and tape: said when every copy is on
     * a disk, so that the clinic is not surprised by the question. */
    if (ok && any && disks)
        bkp_strappend(out, n, "%s",
                      _(". Every copy is on a hard disk: the checklist's example of two kinds is "
                        "disk and tape; an archive medium (tape, RDX, optical disc) or a bucket "
                        "is a kind apart from disks"));
    return ok;
}

/* 5. One copy off-site, as the policy declares each medium's place. */
static bool offsite(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        long long want = floor_of(d->required.offsite, 1);
        ok &= d->counted.offsite >= want;
        bkp_strappend(out, n, _("%s%s: %lld off-site (at least %lld)"), sep(i), d->name,
                      (long long)d->counted.offsite, want);
        for (size_t k = 0, shown = 0; k < d->ncopies; k++)
            if (d->copies[k].offsite)
                bkp_strappend(out, n, "%s%s", shown++ ? ", " : ": ", d->copies[k].medium);
    }
    bkp_strappend(out, n, "%s",
                  _(" (as of the day this report was made; off-site as the policy declares each "
                    "medium's location, which bkp cannot see)"));
    return ok;
}

/* 6. The policy's own 3-2-1 rule, which may ask more than the checklist
 * (and a primary behind what a medium pinned is a shortfall no count
 * shows): no data set NON-COMPLIANT now. */
static bool rule(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        ok &= !(d->has_status && d->verdict == POL_NON_COMPLIANT);
        bkp_strappend(out, n,
                      d->has_status && d->verdict == POL_AT_RISK
                          ? _("%s%s: verdict %s, with the copies the rule asks for")
                          : _("%s%s: verdict %s"),
                      sep(i), d->name, verdict_text(d));
    }
    bkp_strappend(out, n, "%s", _(" (as of the day this report was made; the reasons are in "
                                  "each data set's table)"));
    return ok;
}

/* 7. A written recovery procedure. */
static bool procedure(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        const rb_ev_runbook *rb = &d->runbook;
        bool g = rb->name && !rb->invalid;
        ok &= g;
        if (g)
            bkp_strappend(out, n, _("%s%s: runbook %s \"%s\" (%lld steps)"), sep(i), d->name,
                          rb->name, or_empty(rb->title), (long long)rb->steps);
        else
            bkp_strappend(out, n, _("%s%s: no valid runbook"), sep(i), d->name);
    }
    return ok;
}

/* A drill of data set `d` that confirms its procedure: by its own runbook,
 * successful, within the target time, the data set restored undamaged. */
static bool confirms(const rb_ev_dataset *d, const rb_ev_drill *r)
{
    return ok_entry(&r->e) && r->rto_met == RST_YES && r->damaged <= 0 && r->e.generation &&
           *r->e.generation &&
           (!d->runbook.name || (r->runbook && !strcmp(r->runbook, d->runbook.name)));
}

/* Did the people who would restore follow its steps: an attended drill,
 * or a restore by the runbook that people attended. */
static bool by_people(rb_ev_kind k)
{
    return k == RB_EV_ATTENDED || k == RB_EV_RECOVERY;
}

/* 5. The procedure confirmed by a drill in the period, or by the real
 * day's restore by the runbook. */
static bool drill(const rb_evidence *ev, char *out, size_t n)
{
    bool ok = ev->ndatasets > 0;
    for (size_t i = 0; i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        const rb_ev_drill *best = NULL;
        /* The newest good one, one by people before any unattended. */
        for (size_t k = 0; k < d->ndrills; k++) {
            const rb_ev_drill *r = &d->drills[k];
            if (confirms(d, r) && (!best || !by_people(best->kind) || by_people(r->kind)))
                best = r;
        }
        ok &= best != NULL;
        char kind[256], date[16];
        if (best && best->kind == RB_EV_RECOVERY)
            bkp_strappend(out, n,
                          _("%s%s: the restore by runbook #%lld (%.10s, attended, not a drill) "
                            "succeeded in %.1f s"),
                          sep(i), d->name, (long long)best->e.seq,
                          rb_day(date, sizeof(date), best->e.time),
                          best->seconds > 0 ? best->seconds : 0.0);
        else if (best)
            bkp_strappend(out, n, _("%s%s: drill #%lld (%.10s, %s) succeeded in %.1f s"), sep(i),
                          d->name, (long long)best->e.seq, rb_day(date, sizeof(date), best->e.time),
                          rb_evidence_drill_kind(best, kind, sizeof(kind)),
                          best->seconds > 0 ? best->seconds : 0.0);
        /* An unattended drill proves the restore, not the people's
         * steps: said, with the last drill with the staff when it did not
         * confirm the procedure (one that did would be `best`). */
        const rb_ev_drill *staff = NULL;
        for (size_t k = 0; best && best->kind == RB_EV_UNATTENDED && k < d->ndrills; k++)
            if (d->drills[k].kind == RB_EV_ATTENDED)
                staff = &d->drills[k];
        if (staff)
            bkp_strappend(out, n,
                          _(" (in this drill nobody followed the written steps; the last drill "
                            "with the staff, #%lld of %.10s, did not confirm the procedure)"),
                          (long long)staff->e.seq, rb_day(date, sizeof(date), staff->e.time));
        else if (best && best->kind == RB_EV_UNATTENDED)
            bkp_strappend(out, n, "%s",
                          _(" (bkp restored and checked the data; in this drill nobody followed "
                            "the written steps: hold one with the staff, `bkp drill RUNBOOK "
                            "--attest NAME`)"));
        else if (!best)
            bkp_strappend(out, n, _("%s%s: no successful drill in the period"), sep(i), d->name);
    }
    return ok;
}

/* 6. The record itself: the audit chain intact. */
static bool audit(const rb_evidence *ev, char *out, size_t n)
{
    const rst_audit *a = &ev->audit;
    char why[1024];
    /* The problem from its code, in the language of the moment; the
     * English of an older record when it has none. */
    if (!a->ok && a->why.code)
        bkp_audit_problem_text(&a->why, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", a->problem);
    bkp_strappend(out, n, _("%lld audit record(s); %s"), (long long)a->records,
                  a->ok ? _("chain and signatures intact") : why);
    return a->ok;
}

bool rb_evidence_judge(rb_evidence *ev)
{
    static bool (*const judges[RB_EV_PARTS])(const rb_evidence *ev, char *out, size_t n) = {
        [RB_EV_GENERATIONS] = generations, [RB_EV_OFFLINE] = offline,
        [RB_EV_IMMUTABLE] = immutable,     [RB_EV_MEDIA] = media,
        [RB_EV_OFFSITE] = offsite,         [RB_EV_RULE] = rule,
        [RB_EV_PROCEDURE] = procedure,
        [RB_EV_DRILL] = drill,             [RB_EV_AUDIT] = audit,
    };
    enum { TEXT_MAX = 16384 };
    char *en = malloc(TEXT_MAX), *ja = malloc(TEXT_MAX);
    bool all = true, mem = en && ja;
    for (size_t i = 0; mem && i < RB_EV_PARTS; i++) {
        /* Both languages whatever the locale: the same judgement formatted
         * twice. */
        bkp_i18n_saved saved;
        rb_ev_part *p = &ev->parts[i];
        en[0] = ja[0] = '\0';
        bkp_i18n_begin(&saved, "en");
        p->ok = judges[i](ev, en, TEXT_MAX);
        bkp_i18n_end(&saved);
        bkp_i18n_begin(&saved, "ja");
        judges[i](ev, ja, TEXT_MAX);
        bkp_i18n_end(&saved);
        free(p->en);
        free(p->ja);
        p->en = strdup(en);
        p->ja = strdup(ja);
        mem &= p->en && p->ja;
        all &= p->ok;
    }
    free(en);
    free(ja);
    ev->answer = all;
    ev->judged = mem;
    return mem;
}

const char *rb_evidence_drill_kind(const rb_ev_drill *r, char *buf, size_t n)
{
    if (r->kind == RB_EV_KEY_RECOVERY)
        snprintf(buf, n, "%s", _("key-recovery drill"));
    else if (r->kind == RB_EV_RECOVERY)
        snprintf(buf, n, "%s", _("restore by runbook (attended, not a drill)"));
    else if (r->kind == RB_EV_UNATTENDED)
        snprintf(buf, n, "%s", _("unattended"));
    else if (r->attested_by && *r->attested_by)
        snprintf(buf, n, _("attended, attested by %s"), r->attested_by);
    else
        snprintf(buf, n, "%s", _("attended"));
    return buf;
}

/* What to do when a part is not met: one sentence, the fix. */
static const char *part_fix(rb_ev_part_id p)
{
    static const char *const fix[RB_EV_PARTS] = {
        [RB_EV_GENERATIONS] = N_("Let the schedule make them, one a run, and do what `bkp "
                                 "status` says (when the third is kept, or what to change); "
                                 "three backups in a row would meet the count, not what three "
                                 "generations are for."),
        [RB_EV_OFFLINE] = N_("Rotate an off-line disk within the rule's days (`bkp rotate "
                             "MEDIUM`) and keep to the exchange calendar on the status page."),
        [RB_EV_IMMUTABLE] = N_("Keep a copy that cannot be edited: an off-line disk or tape "
                               "(`offline: true`), or a bucket with Object Lock proven by `bkp "
                               "media probe`."),
        [RB_EV_MEDIA] = N_("Copy to a second kind of medium: add it to the policy's media and "
                           "copy_to, then rotate."),
        [RB_EV_OFFSITE] = N_("Keep one copy off-site: a medium with `location: offsite`, "
                             "carried away after its rotation, or a bucket with `location: "
                             "offsite`."),
        [RB_EV_RULE] = N_("Do what `bkp status` says for each data set it calls NON-COMPLIANT."),
        [RB_EV_PROCEDURE] = N_("Write a runbook for each data set and name it in the policy "
                               "(`runbook:`); `bkp runbook show NAME` checks it."),
        [RB_EV_DRILL] = N_("Rehearse the procedure with the staff: `bkp drill RUNBOOK --attest "
                           "NAME`, with the off-line disk connected."),
        [RB_EV_AUDIT] = N_("Run `bkp audit verify` and do what it says; report the problem to "
                           "the system officer."),
    };
    return _(fix[p]);
}

static const char *part_title(rb_ev_part_id p)
{
    static const char *const title[RB_EV_PARTS] = {
        [RB_EV_GENERATIONS] = N_("At least three generations are kept"),
        [RB_EV_OFFLINE] = N_("One generation is held off-line, within the rule's days at the "
                             "period's end"),
        [RB_EV_IMMUTABLE] = N_("One copy is held in a form that cannot be edited"),
        [RB_EV_MEDIA] = N_("Copies on two kinds of media"),
        [RB_EV_OFFSITE] = N_("One copy is kept off-site"),
        [RB_EV_RULE] = N_("The policy's 3-2-1 rule holds now"),
        [RB_EV_PROCEDURE] = N_("The recovery procedure is written"),
        [RB_EV_DRILL] =
            N_("The procedure was confirmed by a drill, or a restore by it, in the period"),
        [RB_EV_AUDIT] = N_("The audit log is intact"),
    };
    return _(title[p]);
}

static const char *yes(bool ok)
{
    return ok ? _("yes") : _("no");
}

/* The annex the fee revision's Q&A asks for goes with the evidence. */
static void attach_annex(rb_doc *doc)
{
    rb_doc_para(doc, "%s",
                _("Attach the backup section of the operations management rules (運用管理規程), "
                  "printed with `bkp policy print --regulation`."));
}

/* The table of what was rotated for data set `d`. */
/* A copy to an on-line medium that succeeded: counted, not listed (a NAS
 * copied to every night would bury the off-line swaps item 3-② rests on). */
static bool online_ok(const rb_ev_rotation *r)
{
    return !r->offline && ok_entry(&r->e);
}

/* After the table, each on-line medium's copies that succeeded, in one
 * line: how many, the first and last record. */
static void online_summary(rb_doc *doc, const rb_ev_dataset *d)
{
    /* Each medium once, at its first copy: the media said so far (a
     * policy's few) are looked up, the earlier rows only past 64 of them. */
    const char *said[64];
    size_t nsaid = 0;
    for (size_t k = 0; k < d->nrotations; k++) {
        const rb_ev_rotation *r = &d->rotations[k];
        const char *m = or_empty(r->e.medium);
        bool before = false;
        if (!online_ok(r))
            continue;
        for (size_t i = 0; i < nsaid && !before; i++)
            before = !strcmp(said[i], m);
        for (size_t j = 0; nsaid == sizeof(said) / sizeof(*said) && j < k && !before; j++)
            before = online_ok(&d->rotations[j]) && !strcmp(or_empty(d->rotations[j].e.medium), m);
        if (before)
            continue;
        if (nsaid < sizeof(said) / sizeof(*said))
            said[nsaid++] = m;
        size_t n = 0;
        uint64_t last = 0;
        for (size_t j = k; j < d->nrotations; j++) {
            const rb_ev_rotation *o = &d->rotations[j];
            if (online_ok(o) && !strcmp(or_empty(o->e.medium), m)) {
                n++;
                last = o->e.seq;
            }
        }
        rb_doc_para(doc,
                    _("%s (on-line): %zu copies that succeeded, records #%llu to #%llu, not "
                      "listed one by one: an on-line copy is within reach of the server and "
                      "is not the off-line copy of item 3-②."),
                    m, n, (unsigned long long)r->e.seq, (unsigned long long)last);
    }
}

/* How record `e` ended, into `buf`: "ok", else `failed` (the word of its
 * table) and why, in Japanese for a Japanese report where it has it. */
static const char *result_of(const rb_ev_entry *e, const char *failed, bool ja, char *buf, size_t n)
{
    const char *why = ja && e->error_ja && *e->error_ja ? e->error_ja : e->error;
    if (ok_entry(e))
        snprintf(buf, n, "%s", _("ok"));
    else
        snprintf(buf, n, "%s%s%s", failed, why && *why ? ": " : "", why && *why ? why : "");
    return buf;
}

static void rotations_table(rb_doc *doc, const rb_ev_dataset *d, bool ja)
{
    char seq[32], when[64];
    size_t listed = 0;
    for (size_t k = 0; k < d->nrotations; k++)
        listed += !online_ok(&d->rotations[k]);
    if (listed)
        rb_doc_table(doc, (const char *[]){"#", _("Rotation"), _("Medium"), _("Result"), NULL});
    for (size_t k = 0; k < d->nrotations; k++) {
        const rb_ev_rotation *r = &d->rotations[k];
        if (online_ok(r))
            continue;
        snprintf(seq, sizeof(seq), "#%llu", (unsigned long long)r->e.seq);
        char result[600];
        result_of(&r->e, r->refused ? _("refused, nothing written") : _("failed"), ja, result,
                  sizeof(result));
        rb_doc_row(doc, (const char *[]){seq, bkp_local_time(when, sizeof(when), r->e.time, "-"),
                                         or_empty(r->e.medium), result, NULL});
    }
    if (listed)
        rb_doc_table_end(doc);
    online_summary(doc, d);
}

/* The table of the drills of data set `d`: one that could not start has
 * no measured time, and says why. */
static void drills_table(rb_doc *doc, const rb_ev_dataset *d, bool ja)
{
    char a[64], b[64], seq[32], when[64], kind[256], result[600];
    if (!d->ndrills)
        return;
    rb_doc_table(doc, (const char *[]){"#", _("Drill"), _("Runbook"), _("Kind"), _("Result"),
                                       _("Measured"), _("Target"), NULL});
    for (size_t k = 0; k < d->ndrills; k++) {
        const rb_ev_drill *r = &d->drills[k];
        snprintf(seq, sizeof(seq), "#%llu", (unsigned long long)r->e.seq);
        result_of(&r->e, _("failed"), ja, result, sizeof(result));
        rb_doc_row(
            doc,
            (const char *[]){
                seq, bkp_local_time(when, sizeof(when), r->e.time, "-"), or_empty(r->runbook),
                rb_evidence_drill_kind(r, kind, sizeof(kind)), result,
                r->seconds >= 0 ? rb_duration_text(a, sizeof(a), r->seconds) : "-",
                r->rto_target > 0 ? rb_duration_text(b, sizeof(b), (double)r->rto_target) : "-",
                NULL});
    }
    rb_doc_table_end(doc);
}

/* The failures of `d`'s backups as its days saw them: the attempts that
 * sealed nothing one after another on one day (a source down, tried again
 * at every run) count once; each one that sealed counts. */
static long long failures_of(const rb_ev_dataset *d)
{
    long long attempts = 0, runs = 0;
    bool in_run = false;
    char day[16] = "", was[16] = "";
    for (size_t k = 0; k < d->nbackups; k++) {
        bool nothing = !ok_entry(&d->backups[k]) && !d->backups[k].generation;
        rb_day(day, sizeof(day), d->backups[k].time);
        attempts += nothing;
        runs += nothing && (!in_run || strcmp(day, was));
        in_run = nothing;
        memcpy(was, day, sizeof(was));
    }
    long long failed = (long long)d->backups_failed - attempts + runs;
    return failed > 0 ? failed : 0;
}

/* The section of data set `d`: its backups, verdict, off-line gap, then
 * its rotations and drills. */
static void dataset_section(rb_doc *doc, const rb_ev_dataset *d, bool ja)
{
    char line[1024], a[64];
    snprintf(line, sizeof(line), "%s %s%s%s", _("Data set"), d->name,
             d->description && *d->description ? " — " : "", or_empty(d->description));
    rb_doc_h2(doc, line);
    rb_doc_table(doc, (const char *[]){_("Item"), _("Value"), NULL});
    long long failures = failures_of(d);
    if (failures < (long long)d->backups_failed)
        snprintf(line, sizeof(line),
                 _("%lld succeeded, failed on %lld day(s) (%lld attempts: a failed backup is tried "
                   "again at every run), %lld suspicious"),
                 (long long)d->backups_ok, failures, (long long)d->backups_failed,
                 (long long)d->backups_suspicious);
    else
        snprintf(line, sizeof(line), _("%lld succeeded, %lld failed, %lld suspicious"),
                 (long long)d->backups_ok, (long long)d->backups_failed,
                 (long long)d->backups_suspicious);
    rb_doc_row(doc, (const char *[]){_("Backups in the period"), line, NULL});
    if (d->has_slots) { /* what a count of those made cannot show: a night none took */
        if (!d->slots_missed)
            snprintf(line, sizeof(line), _("%lld, every one made"), (long long)d->slots);
        else {
            snprintf(line, sizeof(line), _("%lld, %lld of them not made:"), (long long)d->slots,
                     (long long)d->slots_missed);
            for (size_t k = 0; k < d->nmissed; k++)
                bkp_strappend(line, sizeof(line), "%s%s", k ? _(", ") : " ",
                              bkp_local_time(a, sizeof(a), d->missed[k], "?"));
            if (d->slots_missed > d->nmissed)
                bkp_strappend(line, sizeof(line), "%s…", _(", "));
        }
        /* More backups than slots made: the reader of both rows asks why. */
        long long runs = (long long)(d->backups_ok + d->backups_failed + d->backups_suspicious);
        long long made = d->slots_missed <= d->slots ? (long long)(d->slots - d->slots_missed) : 0;
        if (runs > made)
            bkp_strappend(line, sizeof(line),
                          _(" (%lld backup(s) beyond them: run by hand, more than one in a "
                            "slot, or a failed one tried again at the next run)"),
                          runs - made);
        rb_doc_row(doc, (const char *[]){_("Scheduled backups (under the current schedule)"), line, NULL});
    }
    snprintf(line, sizeof(line), "%lld", (long long)d->generations);
    rb_doc_row(doc, (const char *[]){_("Generations kept now"), line, NULL});
    line[0] = '\0';
    const rst_words *reasons = ja && d->ja.nreasons ? &d->ja : &d->en;
    for (size_t k = 0; k < reasons->nreasons; k++)
        bkp_strappend(line, sizeof(line), "%s%s", k ? "; " : "", reasons->reasons[k]);
    snprintf(a, sizeof(a), "%s", verdict_text(d));
    rb_doc_row(doc, (const char *[]){_("3-2-1 verdict now"), a, NULL});
    if (*line)
        rb_doc_row(doc, (const char *[]){_("Why"), line, NULL});
    snprintf(line, sizeof(line), _("%.1f days (at most %.0f)"), (double)d->offline_gap / 86400.0,
             (double)d->offline_max_age / 86400.0);
    rb_doc_row(doc, (const char *[]){_("Longest time without a fresh off-line copy"), line, NULL});
    rb_doc_table_end(doc);
    rotations_table(doc, d, ja);
    drills_table(doc, d, ja);
}

/* The statement for item 3-②, part by part, in the document's language. */
static void statement_section(rb_doc *doc, const rb_evidence *ev, bool ja)
{
    rb_doc_h2(doc, _("Statement for checklist item 3-②"));
    rb_doc_table(doc, (const char *[]){_("Part"), _("Met"), _("Evidence"), NULL});
    /* A part a document written before it was one has no evidence: not
     * judged there, neither yes nor no. */
    for (size_t k = 0; ev->judged && k < RB_EV_PARTS; k++) {
        const rb_ev_part *p = &ev->parts[k];
        bool judged = p->en || p->ja;
        rb_doc_row(doc, (const char *[]){part_title((rb_ev_part_id)k),
                                         judged ? yes(p->ok) : _("not judged"),
                                         or_empty(ja ? p->ja : p->en), NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s: %s", _("Answer"), yes(ev->judged && ev->answer));
    /* Beside the answer, whatever it is: each time the off-line copy was
     * older than the rule in the period (a disk swapped late, then again
     * in time, is "yes" at the end, and this says what came before). */
    for (size_t i = 0; ev->judged && i < ev->ndatasets; i++) {
        const rb_ev_dataset *d = &ev->datasets[i];
        char until[64];
        if (d->offline_lapses && d->offline_gap_end)
            rb_doc_para(doc,
                        _("In the period, the off-line copy of %s was older than the rule's %.0f "
                          "days %lld time(s), the longest %.1f days, until %s."),
                        d->name, (double)d->offline_max_age / 86400.0, (long long)d->offline_lapses,
                        (double)d->offline_gap / 86400.0,
                        bkp_local_time(until, sizeof(until), d->offline_gap_end, "-"));
    }
    /* Each "no" with the one thing that makes it "yes". */
    for (size_t k = 0; ev->judged && k < RB_EV_PARTS; k++) {
        if (ev->parts[k].ok || !(ev->parts[k].en || ev->parts[k].ja))
            continue;
        rb_doc_para(doc, _("Not met — %s: %s"), part_title((rb_ev_part_id)k),
                    part_fix((rb_ev_part_id)k));
    }
    /* The checklist asks, of each "no", the date by which it will be "yes". */
    if (ev->judged && !ev->answer)
        rb_doc_para(doc, "%s",
                    _("Target date for meeting it (the checklist asks for one with "
                      "each \"no\"): ______ - ___ - ___"));
}

/* The words of the report, for an inspector who does not run bkp. */
static void terms(rb_doc *doc)
{
    static const char *const words[][2] = {
        {N_("Repository"), N_("The encrypted store of the backups on the backup server; each "
                              "medium holds a copy of it.")},
        {N_("Generation"), N_("One backup of a data set, signed when it is complete: the data "
                              "can be restored as it was at that time.")},
        {N_("Off-line"), N_("A medium disconnected from the server and the network after its "
                            "copy: ransomware on the server cannot reach it.")},
        {N_("Non-editable"), N_("A copy nothing on the server can change: an off-line medium, "
                                "its files also made read-only, or a bucket whose Object Lock "
                                "was proven.")},
        {N_("3-2-1"), N_("Three copies of the data (the data in use counted), on two kinds of "
                         "media, one of them off-site.")},
        {N_("Audit log, hash chain"),
         N_("Every operation is recorded, signed with the repository's key, each record "
            "carrying a hash of the one before it: a record removed or changed is detected.")},
        {N_("Key fingerprint"), N_("A short number that identifies the repository's public "
                                   "key. Written down at installation, it lets an inspector "
                                   "check the signatures without any secret.")},
        {N_("Drill"), N_("A rehearsal of the written recovery procedure: the data restored into "
                         "a separate folder and compared, the time taken against the target.")},
        {N_("Tombstone"), N_("What a deleted generation leaves in its place, so that a "
                             "deletion the retention did not make is detected.")},
    };
    rb_doc_h2(doc, _("Terms"));
    rb_doc_table(doc, (const char *[]){_("Term"), _("Meaning"), NULL});
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        rb_doc_row(doc, (const char *[]){_(words[i][0]), _(words[i][1]), NULL});
    rb_doc_table_end(doc);
}

/* Where the people who made, checked and approved the report sign. */
static void signatures(rb_doc *doc)
{
    rb_doc_h2(doc, _("Signatures"));
    rb_doc_table(doc,
                 (const char *[]){_("Role"), _("Name"), _("Date"), _("Signature or seal"), NULL});
    static const char *const roles[] = {N_("Prepared by (作成者)"), N_("Checked by (確認者)"),
                                        N_("Approved by (承認者)")};
    for (size_t i = 0; i < 3; i++)
        rb_doc_row(doc, (const char *[]){_(roles[i]), " ", "    -   -  ", " ", NULL});
    rb_doc_table_end(doc);
}

static char *render(const rb_evidence *ev, rb_format f, bool ja)
{
    char line[1024], title[512], a[64], b[64];
    if (ev->facility && *ev->facility)
        snprintf(title, sizeof(title), _("Backup and recovery evidence — checklist item 3-② — %s"),
                 ev->facility);
    else
        snprintf(title, sizeof(title), "%s",
                 _("Backup and recovery evidence — checklist item 3-②"));
    rb_doc *doc = rb_doc_new(f, title);
    if (!doc)
        return NULL;
    rb_doc_table(doc, (const char *[]){_("Item"), _("Value"), NULL});
    if (ev->facility && *ev->facility)
        rb_doc_row(doc, (const char *[]){_("Facility"), ev->facility, NULL});
    snprintf(line, sizeof(line), "%s — %s", bkp_local_time(a, sizeof(a), ev->from, "-"),
             bkp_local_time(b, sizeof(b), ev->to, "-"));
    if (ev->asked_from && ev->from_default)
        bkp_strappend(line, sizeof(line), "%s",
                      _(" (from the repository's creation, within the last 30 days: its records "
                        "begin there; an earlier repository's, if there was one, are in its own "
                        "log)"));
    else if (ev->asked_from)
        bkp_strappend(line, sizeof(line),
                      _(" (from the repository's creation: its records begin there; an earlier "
                        "repository's, if there was one, are in its own log; asked from %s)"),
                      bkp_local_time(a, sizeof(a), ev->asked_from, "-"));
    rb_doc_row(doc, (const char *[]){_("Period"), line, NULL});
    rb_doc_row(doc, (const char *[]){_("Repository"), or_empty(ev->repository), NULL});
    if (ev->fingerprint && *ev->fingerprint) /* what an inspector checks with, without any secret */
        rb_doc_row(doc, (const char *[]){_("Repository key fingerprint"), ev->fingerprint, NULL});
    rb_doc_row(doc, (const char *[]){_("Generated"),
                                     bkp_local_time(a, sizeof(a), ev->generated, "-"), NULL});
    rb_doc_row(doc,
               (const char *[]){_("Answer for item 3-②"), yes(ev->judged && ev->answer), NULL});
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                _("The claims that rest on the audit log name its signed records (#sequence "
                  "number); `bkp audit verify` proves the chain and its signatures. Those said "
                  "to be as of the day this report was made rest on the policy and the state "
                  "of that day. The words used are explained at the end."));
    attach_annex(doc);
    for (size_t i = 0; i < ev->ndatasets; i++)
        dataset_section(doc, &ev->datasets[i], ja);
    rb_doc_h2(doc, _("Verifications"));
    size_t vok = 0, vfail = 0;
    for (size_t k = 0; k < ev->nverifications; k++) {
        vok += ok_entry(&ev->verifications[k]);
        vfail += !ok_entry(&ev->verifications[k]);
    }
    rb_doc_para(doc, _("%zu verification(s) in the period succeeded, %zu failed."), vok, vfail);
    rb_evidence_key_section(doc, ev, ja); /* evidence_keys.c */
    statement_section(doc, ev, ja);
    terms(doc);
    signatures(doc);
    return rb_doc_finish(doc);
}

char *rb_evidence_render(const rb_evidence *ev, rb_format f, bool ja)
{
    /* In the language asked for, whatever the locale of the cron job or the
     * inspector's terminal. */
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char *text = render(ev, f, ja);
    bkp_i18n_end(&saved);
    return text;
}
