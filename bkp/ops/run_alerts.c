/*
 * run_alerts.c — the conditions of a run (run.h, alerts.h): each backup,
 * the steps after the data sets, each off-line medium due, each data set's
 * verdict, the key-recovery drill. Their words are literals marked N_():
 * English for the event and the audit log, through the catalogue for the
 * terminal.
 */
#include <stdio.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/text.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/run.h"
#include "bkp/store/generation.h"

/* A generation sealed as suspicious: why, and the step after checking. */
#define SUSPICIOUS_WORDS                                                                           \
    N_("%s:%u was sealed as suspicious (%s): connect no off-line disk to this server until its "   \
       "files are checked; if they are good, run `bkp generations --clear-suspicious %s:%u`, "     \
       "else "                                                                                     \
       "`bkp status` says what to restore")

/* The condition of `o`'s data set's backups: its key, and whether `o`
 * makes it failed. A seal as suspicious is a one-off event (below) and
 * the verdict's until cleared, not a failed backup; a hook that failed
 * after it is a failure all the same. */
static bool backup_failed(const ops_run_outcome *o, char key[160])
{
    snprintf(key, 160, "backup:%s", o->d->name);
    return o->failed && !(o->b.gen && o->b.suspicious && !o->hook);
}

bool ops_run_failed_as_told(const ops_run_in *in, const char *key, const char *cause)
{
    return ops_alert_told(in->repo, in->policy, key, "failed", cause, bkp_now());
}

bool ops_run_told_before(const ops_run_in *in, const ops_run_outcome *o)
{
    char key[160];
    /* A seal as suspicious is news each time, whatever failed with it. */
    return !(o->b.gen && o->b.suspicious) && backup_failed(o, key) &&
           ops_run_failed_as_told(in, key, o->cause);
}

/* The alert of `o`'s failed backup, condition `key`: `fmt`, a literal
 * marked N_(), takes the data set's name, the outcome's detail, then the
 * rest: in English, in Japanese for the mail and in the reader's words on
 * the terminal, each with the detail in its language. */
#define ALERT_FAILED(al, key, o, fmt, ...)                                                         \
    do {                                                                                           \
        if (ops_alert(al, key, "failed", 2, fmt, (o)->d->name,                                     \
                      (o)->detail __VA_OPT__(, ) __VA_ARGS__)) {                                   \
            ops_alert_japanese(al, key, fmt, (o)->d->name,                                         \
                               (o)->detail_ja __VA_OPT__(, ) __VA_ARGS__);                         \
            ops_alert_reshow(al, key, fmt, (o)->d->name, (o)->shown __VA_OPT__(, ) __VA_ARGS__);   \
        }                                                                                          \
    } while (0)

void ops_run_alert_outcomes(ops_alerts *al, const ops_run_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        const ops_run_outcome *o = &res->v[i];
        char key[160];
        bool failed = backup_failed(o, key), sealed_suspicious = o->b.gen && o->b.suspicious;
        bool host = o->b.stream_rc && o->d->host; /* the agent's command, on the source */
        if (sealed_suspicious && !o->hook)
            ;
        else if (o->failed && host && o->hook_output[0])
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s; the last output of ssh and the agent: "
                            "%s — check the source with `bkp host check %s`, then run `bkp run "
                            "--dataset %s --force`"),
                         o->hook_output, o->d->host, o->d->name);
        else if (o->failed && host)
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s — check the source with `bkp host check "
                            "%s`, then run `bkp run --dataset %s --force`"),
                         o->d->host, o->d->name);
        else if (o->failed && o->b.stream_rc && o->hook_output[0]) /* a stream's command here */
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s; its last output: %s — run its command "
                            "`%s` by hand as the policy runs it, and fix what it says"),
                         o->hook_output, o->hook);
        else if (o->failed && o->b.stream_rc)
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s — run its command `%s` by hand as the "
                            "policy runs it, and fix what it says"),
                         o->hook);
        else if (o->failed && o->hook && o->hook_output[0]) /* the advice of its cause: the hook */
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s; its last output: %s — run its hook `%s` "
                            "by hand as the policy runs it, and fix what it says"),
                         o->hook_output, o->hook);
        else if (o->failed && o->hook)
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s — run its hook `%s` by hand as the policy "
                            "runs it, and fix what it says"),
                         o->hook);
        else if (o->failed && o->b.gen && o->b.nerrors) /* sealed, without those paths */
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s left out what it could not read: %s — fix what "
                            "keeps it from being read (permissions, a volume not mounted); the "
                            "next backup takes it"));
        else if (o->failed)
            ALERT_FAILED(al, key, o,
                         N_("the backup of %s failed: %s — run `bkp backup` of it by hand to see "
                            "why"));
        else if (o->ran)
            ops_alert(al, key, NULL, 0, N_("the backup of %s succeeded again"), o->d->name);
        if (failed)
            ops_alert_cause(al, key, o->cause);
        if (sealed_suspicious) {
            /* The guard's reason in each reader's words (guard.h). */
            char why[1024];
            bkp_i18n_saved saved;
            if (!ops_alert(al, NULL, "suspicious", 2, SUSPICIOUS_WORDS, o->d->name, o->b.gen->seq,
                           o->b.reason, o->d->name, o->b.gen->seq))
                continue; /* no memory: not the words of another alert */
            ops_alert_reshow(al, NULL, SUSPICIOUS_WORDS, o->d->name, o->b.gen->seq,
                             pol_guard_reason(&o->b.verdict, false, why, sizeof(why)), o->d->name,
                             o->b.gen->seq);
            bkp_i18n_begin(&saved, "ja");
            pol_guard_reason(&o->b.verdict, false, why, sizeof(why));
            bkp_i18n_end(&saved);
            ops_alert_japanese(al, NULL, SUSPICIOUS_WORDS, o->d->name, o->b.gen->seq, why,
                               o->d->name, o->b.gen->seq);
        }
    }
}

/* Each off-line medium that is due (or a day past due) for its rotation. */
static void media_due(const ops_run_in *in, const ops_connected *v, size_t nv, const char *suspect,
                      ops_alerts *al)
{
    const pol_policy *p = in->policy;
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        char key[160];
        if (!pm->rotate_every)
            continue;
        time_t due = in->io->medium_due(in->io->ctx, pm->name);
        if (due == POL_DUE_NEVER && ops_run_setting_up(in))
            continue; /* its first rotation is part of the setting up */
        snprintf(key, sizeof(key), "due:%s", pm->name);
        bool late = due && in->now >= due && in->now - due >= 86400;
        /* An off-line medium is brought and connected (or, plugged in for
         * it, is only written); one the policy keeps on-line (an archive
         * folder on a NAS) is only written. */
        const ops_connected *c = ops_connected_find(v, nv, pm->name);
        if (!due || in->now < due)
            ops_alert(al, key, NULL, 0, N_("%s has been rotated"), pm->name);
        else if (suspect && pm->offline) /* no disk to this server meanwhile */
            ops_alert(al, key, "held", 1,
                      N_("%s's turn has come, but connect no off-line disk to this server until "
                         "the backups of %s are checked (signs of ransomware); `bkp status` says "
                         "what to check"),
                      pm->name, suspect);
        else if (c && c->due)
            ops_alert(al, key, late ? "overdue" : "due", late ? 1 : 0,
                      N_("%s is connected for its rotation, not done yet: run `bkp rotate %s`"),
                      pm->name, pm->name);
        else if (late && pm->offline)
            ops_alert(al, key, "overdue", 1,
                      N_("%s is overdue for its rotation: connect it and run `bkp rotate %s`"),
                      pm->name, pm->name);
        else if (pm->offline)
            ops_alert(al, key, "due", 0,
                      N_("%s is due for its rotation: connect it and run `bkp rotate %s`"),
                      pm->name, pm->name);
        else if (late)
            ops_alert(al, key, "overdue", 1,
                      N_("%s is overdue for its rotation: run `bkp rotate %s`"), pm->name,
                      pm->name);
        else
            ops_alert(al, key, "due", 0, N_("%s is due for its rotation: run `bkp rotate %s`"),
                      pm->name, pm->name);
    }
}

/* Each off-line medium left plugged in (medium_check.h), and when it is
 * away again. */
static void media_connected(const ops_run_in *in, const ops_connected *v, size_t n,
                            const char *suspect, ops_alerts *al)
{
    const pol_policy *p = in->policy;
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        const ops_connected *c = ops_connected_find(v, n, pm->name);
        char key[160];
        if (!pm->offline)
            continue;
        bool there = c != NULL, left = c && c->left;
        snprintf(key, sizeof(key), "connected:%s", pm->name);
        if (there && suspect) /* within the hour or not: it goes now */
            ops_alert(al, key, "connected", 2,
                      N_("%s is connected at %s while the backups of %s show signs of "
                         "ransomware: unmount it now (`umount %s`); no copy to it until they are "
                         "checked"),
                      pm->name, pm->path, suspect, pm->path);
        else if (there && !left)
            continue; /* just rotated: neither told nor cleared */
        else if (there && c->due)
            ops_alert(al, key, "connected", 1,
                      N_("%s is still connected at %s and due for its rotation: run `bkp rotate "
                         "%s`, then unmount it and take it away"),
                      pm->name, pm->path, pm->name);
        else if (there)
            ops_alert(al, key, "connected", 1,
                      N_("%s is still connected at %s: unmount it and take it away (`umount %s`)"),
                      pm->name, pm->path, pm->path);
        else
            ops_alert(al, key, NULL, 0, N_("%s is no longer connected"), pm->name);
    }
}

bool ops_run_after(const ops_run_in *in, const ops_run_result *res, ops_alerts *al)
{
    bool failed = false, bad;
    /* The copies' words when nobody watches: said when their alert is told
     * (a medium that fails anew, or ends otherwise; the daily reminder). */
    char cause[256] = "";
    bool tried, data, ran;
    bkp_log_scope *words = ops_run_words_begin(in), *was = bkp_log_scope_enter(words);
    failed |= bad = ops_run_copy_online(in, res, cause, sizeof(cause), &tried);
    bkp_log_scope_enter(was);
    /* A condition is judged only by a run that tried it: one that copied
     * or sampled nothing leaves it as the last told it. */
    if (tried)
        ops_alert(al, "copy-online", bad ? "failed" : NULL, bad ? 2 : 0,
                  bad ? N_("copying to an on-line medium failed; see `bkp status`")
                      : N_("the on-line copies succeed again"));
    if (bad)
        ops_alert_cause(al, "copy-online", cause);
    ops_run_words_end(words, bad && ops_run_failed_as_told(in, "copy-online", cause));
    failed |= bad = ops_run_reread(in, ops_run_sealed(res), &ran, &data);
    if (ran)
        ops_alert(al, "verify", bad ? "failed" : NULL, bad ? 2 : 0,
                  !bad   ? N_("the rolling re-read finds no damage again")
                  : data ? N_("the rolling re-read found damage; run `bkp verify --read-data`")
                         : N_("the rolling re-read found the audit log changed or not matching "
                              "the generations; run `bkp audit verify`, which says what to do"));
    if (!in->dataset) {
        char rb[256];
        ops_drills_end end = ops_run_drills(in, &bad, rb, sizeof(rb));
        failed |= bad;
        if (end == OPS_DRILLS_UNSTARTED)
            ops_alert(al, "drill", "failed", 2,
                      N_("the drill of runbook %s could not start (its runbook, or the copies it "
                         "reads): `bkp drill %s` at a terminal says why, and rehearses it once "
                         "mended"),
                      rb, rb);
        else if (end)
            ops_alert(al, "drill", "failed", 2,
                      N_("the drill of runbook %s failed: its report in the repository's reports/ "
                         "says which step; once mended, rehearse it with `bkp drill %s`"),
                      rb, rb);
        else
            ops_alert(al, "drill", NULL, 0,
                      N_("the drills of the scheduled runbooks succeed again"));
    }
    return failed;
}

void ops_run_alert_media(const ops_run_in *in, ops_alerts *al)
{
    if (in->dataset)
        return;
    ops_connected *v = NULL;
    size_t n = 0;
    char ds[256];
    const char *suspect = bkp_gen_suspect_any(in->repo, ds, sizeof(ds)) ? ds : NULL;
    bool known = !ops_media_connected(in->repo, in->policy, in->now, &v, &n);
    media_due(in, v, n, suspect, al);
    if (known) /* not known now: nothing told, nothing cleared */
        media_connected(in, v, n, suspect, al);
    free(v);
}

/* Why, for an alert: the first reason of `w` when an action follows it;
 * every reason when none does (the second day's "only 2 generations kept"
 * is followed by when the schedule makes the third, which is all there is
 * to know), joined by `sep` into `buf`. NULL when `w` has none. */
static const char *why_of(const rst_words *w, const char *sep, char *buf, size_t n)
{
    if (!w->nreasons)
        return NULL;
    snprintf(buf, n, "%s", w->reasons[0]);
    for (size_t i = 1; !w->nactions && i < w->nreasons; i++)
        bkp_strappend(buf, n, "%s%s", sep, w->reasons[i]);
    return buf;
}

/* One data set's status (bkp/report/status_doc.h) as its verdict's condition. */
static void alert_verdict(ops_alerts *al, const rst_dataset *d)
{
    const char *v = pol_verdict_name(d->verdict), *ds = d->name;
    char en[1024], shown[1024], ja[1024];
    const char *why = why_of(&d->en, "; ", en, sizeof(en)), *next = rst_next(&d->en);
    /* The same in the reader's language, for the terminal (cmd_status.c),
     * and in Japanese, for the mail of a Japanese clinic. */
    /* Without the reader's words (a run with --json: its document is
     * English), a Japanese reader's terminal takes the Japanese ones. */
    const rst_words *reader = d->has_shown ? &d->shown : bkp_i18n_reader_japanese() ? &d->ja : NULL;
    const char *why_shown = reader ? why_of(reader, _("; "), shown, sizeof(shown)) : NULL;
    const char *next_shown = reader ? rst_next(reader) : NULL;
    const char *why_ja, *next_ja = rst_next(&d->ja);
    char key[160], v_ja[64] = "", v_shown[64];
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    snprintf(v_ja, sizeof(v_ja), "%s", _(v));
    why_ja = why_of(&d->ja, _("; "), ja, sizeof(ja));
    bkp_i18n_end(&saved);
    snprintf(v_shown, sizeof(v_shown), "%s", _(v)); /* the reader's word for it */
    snprintf(key, sizeof(key), "verdict:%s", ds);
    if (d->verdict == POL_COMPLIANT) {
        ops_alert(al, key, NULL, 0, N_("%s is COMPLIANT again (checklist item 3-②)"), ds);
    } else if (*next) {
        ops_alert(al, key, v, d->verdict == POL_AT_RISK ? 1 : 2,
                  N_("%s is %s (checklist item 3-②): %s — next: %s"), ds, v, why ? why : "?", next);
        if (why_shown && next_shown)
            ops_alert_reshow(al, key, N_("%s is %s (checklist item 3-②): %s — next: %s"), ds,
                             v_shown, why_shown, next_shown);
        if (why_ja)
            ops_alert_japanese(al, key, N_("%s is %s (checklist item 3-②): %s — next: %s"), ds,
                               v_ja, why_ja, next_ja);
    } else {
        /* Nothing to do yet (the schedule makes the third generation): a
         * change told of a verdict already told, never a new alert. */
        ops_alert(al, key, v, d->verdict == POL_AT_RISK ? 1 : 2,
                  N_("%s is %s (checklist item 3-②): %s"), ds, v, why ? why : "?");
        if (d->verdict == POL_AT_RISK)
            ops_alert_waiting(al, key);
        if (why_shown)
            ops_alert_reshow(al, key, N_("%s is %s (checklist item 3-②): %s"), ds, v_shown,
                             why_shown);
        if (why_ja)
            ops_alert_japanese(al, key, N_("%s is %s (checklist item 3-②): %s"), ds, v_ja, why_ja);
    }
}

bool ops_run_setting_up(const ops_run_in *in)
{
    return in->created > 0 && in->now >= in->created && in->now - in->created < OPS_SETUP_DAY;
}

void ops_run_alert_verdicts(const ops_run_in *in, ops_alerts *al, const rst_status *s)
{
    if (ops_run_setting_up(in))
        return; /* what the setting up builds towards: shown by status, not alerted */
    for (size_t i = 0; i < s->ndatasets; i++) {
        const rst_dataset *d = &s->datasets[i];
        char key[160];
        alert_verdict(al, d);
        /* A runbook that stops loading is told once on its own, whatever
         * the verdict already was (a data set AT RISK for another reason
         * stays AT RISK). */
        snprintf(key, sizeof(key), "runbook:%s", d->name);
        if (d->runbook_unusable)
            ops_alert(al, key, "unusable", 1,
                      N_("the runbook %s of %s cannot be used: mend it (`bkp runbook show %s` says "
                         "what), then rehearse it with `bkp drill %s`"),
                      d->runbook_unusable, d->name, d->runbook_unusable, d->runbook_unusable);
        else
            ops_alert(al, key, NULL, 0, N_("the runbook of %s can be used again"), d->name);
    }
}

void ops_run_alert_key_drill(ops_alerts *al, const rst_key_drill *kd)
{
    long long days = (long long)(kd->every / 86400);
    if (kd->due)
        ops_alert(
            al, "key-drill", "overdue", 1,
            N_("no key-recovery drill within %lld days (key_drill_every): rehearse opening an "
               "off-line copy with the sheets from the safe alone, `bkp drill RUNBOOK "
               "--medium M --key-from SHEET...`"),
            days);
    else
        ops_alert(al, "key-drill", NULL, 0,
                  N_("a key-recovery drill was held within %lld days again"), days);
}
