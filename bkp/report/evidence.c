/* evidence.c — the evidence report for checklist item 3-② (evidence.h). */
#include "bkp/report/evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/report/doc.h"
#include "policies/policy.h"

static json_int_t ji(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* The 3-2-1 verdict (compliance.h), for people. */
static const char *verdict_text(const char *v)
{
    static const char *const words[] = {N_("COMPLIANT"), N_("AT RISK"), N_("NON-COMPLIANT")};
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        if (!strcmp(v, words[i]))
            return _(words[i]);
    return v;
}

static void part(json_t *parts, const char *name, bool ok, const char *en, const char *ja)
{
    json_array_append_new(parts, json_pack("{s:s, s:b, s:{s:s, s:s}}", "part", name, "ok", ok,
                                           "evidence", "en", en, "ja", ja));
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
static bool generations(json_t *ev, char *out, size_t n)
{
    json_t *sets = json_object_get(ev, "datasets"), *d;
    size_t i;
    bool ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_int_t g = ji(d, "generations_kept");
        ok &= g >= 3;
        bkp_strappend(out, n, _("%s%s: %lld generation(s) kept"), sep(i), rb_js(d, "dataset"),
                      (long long)g);
    }
    /* Counted on the day the report is made, not over the period. */
    bkp_strappend(out, n, "%s", _(" (as of the day this report was made)"));
    return ok;
}

#define ROTATIONS_CITED 12

/* 2. An off-line copy, never older than the rule allows. */
static bool offline(json_t *ev, char *out, size_t n)
{
    json_t *sets = json_object_get(ev, "datasets"), *d, *r;
    size_t i, k;
    bool ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        bool g = json_is_true(json_object_get(d, "offline_gap_ok"));
        double gap = (double)ji(d, "offline_longest_gap_seconds") / 86400.0;
        double max = (double)ji(d, "offline_max_age_seconds") / 86400.0;
        ok &= g;
        bkp_strappend(out, n,
                      _("%s%s: longest time without a fresh off-line copy %.1f days (at most "
                        "%.0f); rotations"),
                      sep(i), rb_js(d, "dataset"), gap, max);
        size_t cited = 0, okn = 0, skip;
        json_array_foreach(json_object_get(d, "rotations"), k, r) okn +=
            !strcmp(rb_js(r, "outcome"), "ok");
        skip = okn > ROTATIONS_CITED ? okn - ROTATIONS_CITED : 0; /* the newest are cited */
        if (skip)
            bkp_strappend(out, n, _(" (%zu earlier, see the table)"), skip);
        json_array_foreach(json_object_get(d, "rotations"), k, r)
        {
            if (strcmp(rb_js(r, "outcome"), "ok") || (skip && skip--))
                continue;
            bkp_strappend(out, n, " #%lld (%.10s, %s)", (long long)ji(r, "seq"), rb_js(r, "time"),
                          rb_js(r, "medium"));
            cited++;
        }
        if (!cited)
            bkp_strappend(out, n, "%s", _(" none in the period"));
    }
    return ok;
}

/* 3. Two kinds of media and a copy off-site (the 3-2-1 picture of now). */
static bool media(json_t *ev, char *out, size_t n)
{
    json_t *sets = json_object_get(ev, "datasets"), *d, *m;
    size_t i, k;
    bool ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_t *cnt = json_object_get(d, "counted"), *req = json_object_get(d, "required");
        /* The checklist's floor (3 copies, 2 media types, 1 off-site), whatever a
         * policy relaxed, and the verdict of now. */
        json_int_t rc = ji(req, "copies") > 3 ? ji(req, "copies") : 3;
        json_int_t rt = ji(req, "media_types") > 2 ? ji(req, "media_types") : 2;
        json_int_t ro = ji(req, "offsite") > 1 ? ji(req, "offsite") : 1;
        bool g = ji(cnt, "copies") >= rc && ji(cnt, "media_types") >= rt &&
                 ji(cnt, "offsite") >= ro && strcmp(rb_js(d, "verdict"), "NON-COMPLIANT");
        ok &= g;
        bkp_strappend(out, n,
                      _("%s%s: %lld copies, %lld media type(s), %lld off-site (at least "
                        "%lld/%lld/%lld); verdict %s"),
                      sep(i), rb_js(d, "dataset"), (long long)ji(cnt, "copies"),
                      (long long)ji(cnt, "media_types"), (long long)ji(cnt, "offsite"),
                      (long long)rc, (long long)rt, (long long)ro, verdict_text(rb_js(d, "verdict")));
        /* Non-editable copies: off-line media, and Object Lock buckets a probe proved. */
        bkp_strappend(out, n, _("; %lld non-editable"), (long long)ji(cnt, "immutable"));
        json_array_foreach(json_object_get(d, "copies_on_media"), k, m)
        {
            pol_medium_type kind;
            if (pol_medium_type_named(rb_js(m, "type"), &kind) || pol_type_at_path(kind))
                continue; /* only a bucket's lock is proven by a probe */
            const char *pr = json_string_value(json_object_get(m, "proven"));
            if (pr)
                bkp_strappend(out, n,
                              _(" (%s: on-line Object Lock, non-editable, proven on %.10s)"),
                              rb_js(m, "medium"), pr);
            else
                bkp_strappend(out, n,
                              _(" (%s: on-line Object Lock, NOT proven, counted as "
                                "editable)"),
                              rb_js(m, "medium"));
        }
    }
    /* What an inspector cannot check from the log: said, with how it is kept. */
    bkp_strappend(out, n, "%s",
                  _(" (as of the day this report was made; off-site as the policy declares each "
                    "medium's location, which bkp cannot see; non-editable: copies on media kept "
                    "off-line, their files read-only and immutable where the file system allows, "
                    "and buckets whose Object Lock a probe proved)"));
    return ok;
}

/* 4. A written recovery procedure. */
static bool procedure(json_t *ev, char *out, size_t n)
{
    json_t *sets = json_object_get(ev, "datasets"), *d;
    size_t i;
    bool ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_t *rb = json_object_get(d, "runbook");
        bool g = json_is_object(rb) && !json_is_true(json_object_get(rb, "invalid"));
        ok &= g;
        if (g)
            bkp_strappend(out, n, _("%s%s: runbook %s \"%s\" (%lld steps)"), sep(i),
                          rb_js(d, "dataset"), rb_js(rb, "name"), rb_js(rb, "title"),
                          (long long)ji(rb, "steps"));
        else
            bkp_strappend(out, n, _("%s%s: no valid runbook"), sep(i), rb_js(d, "dataset"));
    }
    return ok;
}

/* 5. The procedure confirmed by a drill in the period. */
static bool drill(json_t *ev, char *out, size_t n)
{
    json_t *sets = json_object_get(ev, "datasets"), *d, *r;
    size_t i, k;
    bool ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        /* A drill of the data set's own runbook that restored it without damage
         * and within the target time. */
        json_t *best = NULL, *rb = json_object_get(d, "runbook");
        json_array_foreach(json_object_get(d, "drills"), k, r)
        {
            /* The newest good one, an attended one before any unattended. */
            if (!strcmp(rb_js(r, "outcome"), "ok") && json_is_true(json_object_get(r, "rto_met")) &&
                !ji(r, "damaged") && *rb_js(r, "generation") &&
                (!json_is_object(rb) || !strcmp(rb_js(r, "runbook"), rb_js(rb, "name"))) &&
                (!best || strcmp(rb_js(best, "kind"), "attended") ||
                 !strcmp(rb_js(r, "kind"), "attended")))
                best = r;
        }
        ok &= best != NULL;
        char kind[256];
        if (best)
            bkp_strappend(out, n, _("%s%s: drill #%lld (%.10s, %s) succeeded in %.1f s"), sep(i),
                          rb_js(d, "dataset"), (long long)ji(best, "seq"), rb_js(best, "time"),
                          rb_evidence_drill_kind(best, kind, sizeof(kind)),
                          json_number_value(json_object_get(best, "seconds")));
        else
            bkp_strappend(out, n, _("%s%s: no successful drill in the period"), sep(i),
                          rb_js(d, "dataset"));
    }
    return ok;
}

/* 6. The record itself: the audit chain intact. */
static bool audit(json_t *ev, char *out, size_t n)
{
    json_t *a = json_object_get(ev, "audit");
    bool ok = json_is_true(json_object_get(a, "ok"));
    char why[1024];
    /* The problem from its code, in the language of the moment. */
    bkp_strappend(out, n, _("%lld audit record(s); %s"), (long long)ji(a, "records"),
                  ok ? _("chain and signatures intact")
                     : bkp_audit_problem_shown(a, why, sizeof(why)));
    return ok;
}

json_t *rb_evidence_statement(json_t *ev)
{
    static const struct {
        const char *name;
        bool (*judge)(json_t *ev, char *out, size_t n);
    } t[] = {
        {"generations", generations}, {"offline", offline}, {"media", media},
        {"procedure", procedure},     {"drill", drill},     {"audit", audit},
    };
    json_t *parts = json_array();
    char en[16384], ja[16384];
    bool all = true;
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
        /* Both languages go into the JSON whatever the locale: the same
         * judgement formatted twice. */
        bkp_i18n_saved saved;
        en[0] = ja[0] = '\0';
        bkp_i18n_begin(&saved, "en");
        bool ok = t[i].judge(ev, en, sizeof(en));
        bkp_i18n_end(&saved);
        bkp_i18n_begin(&saved, "ja");
        t[i].judge(ev, ja, sizeof(ja));
        bkp_i18n_end(&saved);
        part(parts, t[i].name, ok, en, ja);
        all &= ok;
    }
    return json_pack("{s:b, s:o}", "answer", all, "parts", parts);
}

const char *rb_evidence_drill_kind(json_t *r, char *buf, size_t n)
{
    const char *kind = rb_js(r, "kind");
    if (!strcmp(kind, "key_recovery"))
        snprintf(buf, n, "%s", _("key-recovery drill"));
    else if (!strcmp(kind, "unattended"))
        snprintf(buf, n, "%s", _("unattended"));
    else if (*rb_js(r, "attested_by"))
        snprintf(buf, n, _("attended, attested by %s"), rb_js(r, "attested_by"));
    else
        snprintf(buf, n, "%s", _("attended"));
    return buf;
}

/* What to do when a part is not met: one sentence, the fix. */
static const char *part_fix(const char *p)
{
    static const struct {
        const char *key, *fix;
    } t[] = {
        {"generations", N_("Let the nightly run back up on three days (or run `bkp backup` three "
                           "times); retention keeps at least three generations.")},
        {"offline", N_("Rotate an off-line disk within the rule's days (`bkp rotate MEDIUM`) and "
                       "keep to the exchange calendar on the status page.")},
        {"media", N_("Copy to a second kind of medium and keep one copy off-site: add them to the "
                     "policy's media and copy_to, then rotate.")},
        {"procedure", N_("Write a runbook for each data set and name it in the policy "
                         "(`runbook:`); `bkp runbook show NAME` checks it.")},
        {"drill", N_("Rehearse the procedure with the staff: `bkp drill RUNBOOK --attest NAME`, "
                     "with the off-line disk connected.")},
        {"audit", N_("Run `bkp audit verify` and do what it says; report the problem to the "
                     "system officer.")},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].key, p))
            return _(t[i].fix);
    return "";
}

static const char *part_title(const char *p)
{
    static const struct {
        const char *key, *title;
    } t[] = {
        {"generations", N_("At least three generations are kept")},
        {"offline", N_("One generation is held off-line, never older than the rule allows")},
        {"media", N_("Copies on two kinds of media, one off-site")},
        {"procedure", N_("The recovery procedure is written")},
        {"drill", N_("The procedure was confirmed by a drill in the period")},
        {"audit", N_("The audit log is intact")},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].key, p))
            return _(t[i].title);
    return p;
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
static void rotations_table(rb_doc *doc, json_t *d)
{
    json_t *r;
    size_t k;
    char seq[32];
    if (!json_array_size(json_object_get(d, "rotations")))
        return;
    char when[64];
    rb_doc_table(doc, (const char *[]){"#", _("Rotation"), _("Medium"), _("Result"), NULL});
    json_array_foreach(json_object_get(d, "rotations"), k, r)
    {
        snprintf(seq, sizeof(seq), "#%lld", (long long)ji(r, "seq"));
        char result[600];
        if (!strcmp(rb_js(r, "outcome"), "ok"))
            snprintf(result, sizeof(result), "%s", _("ok"));
        else
            snprintf(result, sizeof(result), "%s%s%s",
                     json_is_true(json_object_get(r, "refused")) ? _("refused, nothing written")
                                                                 : _("failed"),
                     *rb_js(r, "error") ? ": " : "", rb_js(r, "error"));
        rb_doc_row(doc, (const char *[]){seq, rb_local(when, sizeof(when), rb_js(r, "time")),
                                         rb_js(r, "medium"), result, NULL});
    }
    rb_doc_table_end(doc);
}

/* The table of the drills of data set `d`. */
static void drills_table(rb_doc *doc, json_t *d)
{
    json_t *r;
    size_t k;
    char a[64], b[64], seq[32], when[64], kind[256];
    if (!json_array_size(json_object_get(d, "drills")))
        return;
    rb_doc_table(doc, (const char *[]){"#", _("Drill"), _("Runbook"), _("Kind"), _("Result"),
                                       _("Measured"), _("Target"), NULL});
    json_array_foreach(json_object_get(d, "drills"), k, r)
    {
        snprintf(seq, sizeof(seq), "#%lld", (long long)ji(r, "seq"));
        json_int_t tgt = ji(r, "rto_target_seconds");
        rb_doc_row(doc, (const char *[]){
                            seq, rb_local(when, sizeof(when), rb_js(r, "time")),
                            rb_js(r, "runbook"), rb_evidence_drill_kind(r, kind, sizeof(kind)),
                            strcmp(rb_js(r, "outcome"), "ok") ? _("failed") : _("ok"),
                            rb_duration_text(a, sizeof(a),
                                             json_number_value(json_object_get(r, "seconds"))),
                            tgt ? rb_duration_text(b, sizeof(b), (double)tgt) : "-", NULL});
    }
    rb_doc_table_end(doc);
}

/* The section of data set `d`: its backups, verdict, off-line gap, then
 * its rotations and drills. */
static void dataset_section(rb_doc *doc, json_t *d, bool ja)
{
    char line[1024], a[64];
    json_t *r;
    size_t k;
    snprintf(line, sizeof(line), "%s %s%s%s", _("Data set"), rb_js(d, "dataset"),
             *rb_js(d, "description") ? " — " : "", rb_js(d, "description"));
    rb_doc_h2(doc, line);
    json_t *bk = json_object_get(d, "backups");
    rb_doc_table(doc, (const char *[]){_("Item"), _("Value"), NULL});
    snprintf(line, sizeof(line), _("%lld succeeded, %lld failed, %lld suspicious"),
             (long long)ji(bk, "ok"), (long long)ji(bk, "failed"), (long long)ji(bk, "suspicious"));
    rb_doc_row(doc, (const char *[]){_("Backups in the period"), line, NULL});
    snprintf(line, sizeof(line), "%lld", (long long)ji(d, "generations_kept"));
    rb_doc_row(doc, (const char *[]){_("Generations kept now"), line, NULL});
    line[0] = '\0';
    json_t *reasons = ja && json_is_array(json_object_get(d, "reasons_ja"))
                          ? json_object_get(d, "reasons_ja")
                          : json_object_get(d, "reasons");
    json_array_foreach(reasons, k, r)
        bkp_strappend(line, sizeof(line), "%s%s", k ? "; " : "", json_string_value(r));
    snprintf(a, sizeof(a), "%s", verdict_text(rb_js(d, "verdict")));
    rb_doc_row(doc, (const char *[]){_("3-2-1 verdict now"), a, NULL});
    if (*line)
        rb_doc_row(doc, (const char *[]){_("Why"), line, NULL});
    snprintf(line, sizeof(line), _("%.1f days (at most %.0f)"),
             (double)ji(d, "offline_longest_gap_seconds") / 86400.0,
             (double)ji(d, "offline_max_age_seconds") / 86400.0);
    rb_doc_row(doc, (const char *[]){_("Longest time without a fresh off-line copy"), line, NULL});
    rb_doc_table_end(doc);
    rotations_table(doc, d);
    drills_table(doc, d);
}

/* The statement for item 3-②, part by part, in the document's language. */
static void statement_section(rb_doc *doc, json_t *st, bool ja)
{
    json_t *r;
    size_t k;
    rb_doc_h2(doc, _("Statement for checklist item 3-②"));
    rb_doc_table(doc, (const char *[]){_("Part"), _("Met"), _("Evidence"), NULL});
    json_array_foreach(json_object_get(st, "parts"), k, r)
    {
        json_t *e = json_object_get(r, "evidence");
        rb_doc_row(doc, (const char *[]){part_title(rb_js(r, "part")),
                                         yes(json_is_true(json_object_get(r, "ok"))),
                                         rb_js(e, ja ? "ja" : "en"), NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s: %s", _("Answer"), yes(json_is_true(json_object_get(st, "answer"))));
    /* Each "no" with the one thing that makes it "yes". */
    json_array_foreach(json_object_get(st, "parts"), k, r)
    {
        if (json_is_true(json_object_get(r, "ok")))
            continue;
        rb_doc_para(doc, _("Not met — %s: %s"), part_title(rb_js(r, "part")),
                    part_fix(rb_js(r, "part")));
    }
}

/* Where the people who made, checked and approved the report sign. */
static void signatures(rb_doc *doc)
{
    rb_doc_h2(doc, _("Signatures"));
    rb_doc_table(doc, (const char *[]){_("Role"), _("Name"), _("Date"), _("Signature or seal"),
                                       NULL});
    static const char *const roles[] = {N_("Prepared by (作成者)"), N_("Checked by (確認者)"),
                                        N_("Approved by (承認者)")};
    for (size_t i = 0; i < 3; i++)
        rb_doc_row(doc, (const char *[]){_(roles[i]), " ", "    -   -  ", " ", NULL});
    rb_doc_table_end(doc);
}

static char *render(json_t *ev, rb_format f, bool ja)
{
    json_t *period = json_object_get(ev, "period"), *st = json_object_get(ev, "statement"), *d, *r;
    char line[1024];
    size_t i, k;
    char title[512], a[64], b[64];
    if (*rb_js(ev, "facility"))
        snprintf(title, sizeof(title), _("Backup and recovery evidence — checklist item 3-② — %s"),
                 rb_js(ev, "facility"));
    else
        snprintf(title, sizeof(title), "%s", _("Backup and recovery evidence — checklist item 3-②"));
    rb_doc *doc = rb_doc_new(f, title);
    if (!doc)
        return NULL;
    rb_doc_table(doc, (const char *[]){_("Item"), _("Value"), NULL});
    if (*rb_js(ev, "facility"))
        rb_doc_row(doc, (const char *[]){_("Facility"), rb_js(ev, "facility"), NULL});
    snprintf(line, sizeof(line), "%s — %s", rb_local(a, sizeof(a), rb_js(period, "from")),
             rb_local(b, sizeof(b), rb_js(period, "to")));
    if (json_is_true(json_object_get(period, "since_creation")) &&
        json_is_true(json_object_get(period, "from_default")))
        bkp_strappend(line, sizeof(line), "%s",
                      _(" (from the repository's creation, within the last 30 days: there was "
                        "nothing to back up before)"));
    else if (json_is_true(json_object_get(period, "since_creation")))
        bkp_strappend(line, sizeof(line),
                      _(" (from the repository's creation: there was nothing to back up before; "
                        "asked from %s)"),
                      rb_local(a, sizeof(a), rb_js(period, "asked_from")));
    rb_doc_row(doc, (const char *[]){_("Period"), line, NULL});
    rb_doc_row(doc, (const char *[]){_("Repository"), rb_js(ev, "repository"), NULL});
    if (*rb_js(ev, "fingerprint")) /* what an inspector checks with, without any secret */
        rb_doc_row(doc,
                   (const char *[]){_("Repository key fingerprint"), rb_js(ev, "fingerprint"), NULL});
    rb_doc_row(doc, (const char *[]){_("Generated"), rb_local(a, sizeof(a), rb_js(ev, "generated")),
                                     NULL});
    rb_doc_row(doc, (const char *[]){_("Answer for item 3-②"),
                                     yes(json_is_true(json_object_get(st, "answer"))), NULL});
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                _("Every claim below names the signed audit records it rests on (#sequence "
                  "number); `bkp audit verify` proves the chain and its signatures."));
    attach_annex(doc);
    json_array_foreach(json_object_get(ev, "datasets"), i, d) dataset_section(doc, d, ja);
    rb_doc_h2(doc, _("Verifications"));
    size_t vok = 0, vfail = 0;
    json_array_foreach(json_object_get(ev, "verifications"), k, r)
    {
        vok += !strcmp(rb_js(r, "outcome"), "ok");
        vfail += strcmp(rb_js(r, "outcome"), "ok") != 0;
    }
    rb_doc_para(doc, _("%zu verification(s) in the period succeeded, %zu failed."), vok, vfail);
    rb_evidence_key_section(doc, ev, ja); /* evidence_keys.c */
    statement_section(doc, st, ja);
    signatures(doc);
    return rb_doc_finish(doc);
}

char *rb_evidence_render(json_t *ev, rb_format f, bool ja)
{
    /* In the language asked for, whatever the locale of the cron job or the
     * inspector's terminal. */
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char *text = render(ev, f, ja);
    bkp_i18n_end(&saved);
    return text;
}
