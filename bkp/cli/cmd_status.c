/*
 * bkp status [--json] — per data set, the 3-2-1 picture of its newest
 * generations (policies/compliance.c decides), with the last backup,
 * verification and drill, a verdict, the reasons and the next actions.
 * Exit 1 when a data set is NON-COMPLIANT. `bkp run` asks the same.
 * A last line reminds when no key-recovery drill (`bkp drill --key-from`,
 * cmd_drill.c) succeeded within the policy's key_drill_every: a reminder, not
 * a verdict — it changes no exit code, and `bkp run` stays quiet about it.
 * With --format html, the same document as --json, as the status page for
 * staff (bkp/report/status_page.h, written by status_page.c). The document is
 * gathered by bkp/ops/status.c; here, the options and what is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/log.h"
#include "policies/compliance.h"
#include "bkp/report/status_page.h"
#include "bkp/io/text.h"

/* A time of the status for people (cli_when), or "never". */
static const char *local(time_t t, char *buf, size_t n)
{
    return bkp_local_time(buf, n, t, _("never"));
}

/* Where copy `m` stands, for a bucket (an on-line medium): whether its
 * lock was proven, and when; "" for a medium at a path. */
static const char *bucket_words(const rst_copy *m, char *buf, size_t n)
{
    char when[32];
    if (pol_type_at_path(m->type))
        return "";
    if (!m->proven)
        return _("  on-line, EDITABLE: its lock was not proven (`bkp media probe`)");
    /* Whole sentences, so that each language closes its own bracket. */
    snprintf(buf, n,
             m->offsite ? _("  on-line, off-site, non-editable (proven on %s)")
                        : _("  on-line, on-site, non-editable (proven on %s)"),
             local(m->proven, when, sizeof(when)));
    return buf;
}

/* How the last drill `dr` went, after its time: whether a person attended
 * it, and a failure (the page says it too). Whole phrases, as above. */
/* How the last drill ended, into `buf`; a failed one names its runbook:
 * the drill shown is the newest failure among the data set's runbooks
 * (ops/status.c), which may be older than another runbook's success. */
static const char *drill_words(const rst_drill *dr, char *buf, size_t n)
{
    bool failed = rst_event_failed(&dr->when);
    bool unattended = dr->attended == RST_NO;
    if (failed && dr->runbook)
        snprintf(buf, n,
                 unattended ? _(" (unattended, FAILED: runbook %s)") : _(" (FAILED: runbook %s)"),
                 dr->runbook);
    else
        snprintf(buf, n, "%s",
                 unattended ? (failed ? _(" (unattended, FAILED)") : _(" (unattended)"))
                 : failed   ? _(" (FAILED)")
                            : "");
    return buf;
}

static void dataset_print(const rst_dataset *d, const char *lang)
{
    char a[32], b[32], x[128], said[256];
    const rst_counts *cnt = &d->counted, *req = &d->required;
    /* The verdict in the reader's words (--json keeps COMPLIANT, AT
     * RISK, NON-COMPLIANT), padded by terminal columns. */
    printf("%-14s ", d->name);
    cli_pad(stdout, _(pol_verdict_name(d->verdict)), 14);
    printf(_("priority %lld  %s\n"), (long long)d->priority, d->description);
    printf(_("  copies %lld/%lld  media types %lld/%lld  off-line %lld/%lld%s%s  off-site "
             "%lld/%lld  non-editable %lld/%lld  generations %lld\n"),
           (long long)cnt->copies, (long long)req->copies, (long long)cnt->media_types,
           (long long)req->media_types, (long long)cnt->offline, (long long)req->offline,
           d->offline_age >= 0
               ? (snprintf(x, sizeof(x), _(" (%.1f days old)"), (double)d->offline_age / 86400), x)
               : "",
           "", (long long)cnt->offsite, (long long)req->offsite, (long long)cnt->immutable,
           (long long)req->immutable, (long long)d->generations);
    for (size_t k = 0; k < d->ncopies; k++) {
        const rst_copy *m = &d->copies[k];
        printf(_("  on %-10s %s:%lld captured %s%s%s%s\n"), m->medium, d->name, (long long)m->seq,
               local(m->captured, a, sizeof(a)), bucket_words(m, x, sizeof(x)), "", "");
    }
    const rst_event *lb = &d->last_backup_run;
    printf(_("  last backup %s%s  last verify %s  last drill %s%s\n"),
           local(d->last_backup, a, sizeof(a)),
           lb->time && lb->outcome && !strcmp(lb->outcome, "failed")
               ? _(" (the latest attempt FAILED)")
           : lb->time && lb->outcome && !strcmp(lb->outcome, "suspicious")
               ? _(" (the latest was sealed as SUSPICIOUS)")
               : "",
           local(d->last_verify.time, b, sizeof(b)), local(d->last_drill.when.time, x, sizeof(x)),
           drill_words(&d->last_drill, said, sizeof(said)));
    const rst_drill *dr = &d->last_drill, *att = &d->last_attended;
    if (att->when.time)
        printf(_("  last attended drill %s (%s%s%s)\n"), local(att->when.time, a, sizeof(a)),
               rst_event_ok(&att->when) ? _("succeeded") : _("FAILED"),
               att->attested_by ? _(", attended by ") : "",
               att->attested_by ? att->attested_by : "");
    else if (dr->attended == RST_NO)
        printf("%s", _("  no drill attended by a person yet: rehearse with the staff who would "
                       "restore (`bkp drill RUNBOOK` at a terminal)\n"));
    if (dr->when.time && rst_event_ok(&dr->when) && rst_drill_missed_offline(dr))
        printf("%s", _("  the last drill read the server itself: the off-line disk was not "
                       "connected — connect it for the next one\n"));
    /* In the language asked for (--lang), else the reader's. */
    const rst_words *says = !lang                 ? rst_dataset_words(d, false)
                            : !strcmp(lang, "ja") ? &d->ja
                                                  : &d->en;
    for (size_t r = 0; r < says->nreasons; r++)
        printf(_("  why:  %s\n"), says->reasons[r]);
    for (size_t k = 0; k < says->nactions; k++)
        printf(k ? _("  then: %s\n") : _("  next: %s\n"), says->actions[k]);
}

void cli_status_print(const rst_status *s, const char *lang)
{
    /* What the clerk is asked first: the checklist's item, in its words —
     * what the verdict judges: the backups, the copies, the written
     * procedure (the drills are said per data set below, the whole item in
     * the evidence report). */
    if (s->ndatasets) {
        fputs(_("checklist item 3-② (backups, copies, written procedure; the drills below), all "
                "data: "),
              stdout);
        printf("%s\n", _(pol_verdict_name(s->verdict)));
    }
    for (size_t i = 0; i < s->ndatasets; i++)
        dataset_print(&s->datasets[i], lang);
}

void cli_key_drill_remind(const rst_key_drill *kd)
{
    char when[32];
    long long days = (long long)(kd->every / 86400);
    if (kd->old_split)
        printf(_("key-recovery drill of %s: it opened the key with share sheets of an older split "
                 "than the newest, so enough of the old sheets are still kept to open it, and the "
                 "new ones were not rehearsed; it does not count. Collect the old split's sheets "
                 "and destroy them, then drill again with the new ones\n"),
               bkp_local_time(when, sizeof(when), kd->old_split, "-"));
    if (!kd->due)
        return;
    if (kd->new_split)
        printf(_("key-recovery drill: the share sheets were split again on %s, and none of the new "
                 "ones has opened the key since: rehearse with the new sheets, `bkp drill RUNBOOK "
                 "--medium M --key-from SHEET...`\n"),
               bkp_local_time(when, sizeof(when), kd->new_split, "-"));
    else if (kd->last > 0)
        printf(_("key-recovery drill: none since %s (the policy asks for one every %lld days): "
                 "rehearse opening an off-line copy with the sheets from the safe alone, `bkp "
                 "drill RUNBOOK --medium M --key-from SHEET...`\n"),
               bkp_local_time(when, sizeof(when), kd->last, "-"), days);
    else
        printf(_("key-recovery drill: never held (the policy asks for one every %lld days): "
                 "rehearse opening an off-line copy with the sheets from the safe alone, `bkp "
                 "drill RUNBOOK --medium M --key-from SHEET...`\n"),
               days);
}

/* --format html [-o FILE], --lang ja|en (the page or the text; JSON is
 * never translated): refused combinations, exit 2. */
static int page_options(cli *c, bool *page)
{
    *page = c->format != NULL;
    if (c->format && strcmp(c->format, "html")) {
        bkp_error(_("--format %s: bkp status writes html (the status page) or, with --json, JSON"),
                  c->format);
        return EXIT_USAGE;
    }
    if (c->format && c->json) {
        bkp_error("%s", _("--format html and --json: choose one"));
        return EXIT_USAGE;
    }
    if (!c->format && c->output) {
        bkp_error("%s", _("-o goes with --format html: `bkp status --format html -o FILE "
                          "[--lang ja|en]`"));
        return EXIT_USAGE;
    }
    if (c->json && c->lang) {
        bkp_error("%s", _("--lang and --json: JSON is written for programs, never translated; "
                          "leave out --lang"));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The page to -o FILE, or to standard output. */
static int write_page(cli *c, const rst_status *doc)
{
    if (c->output && strcmp(c->output, "-")) {
        int rc = cli_status_page_write(doc, c->output, cli_lang_ja(c));
        if (rc)
            bkp_error(_("the status page %s could not be written: %s"), c->output,
                      bkp_strerror(rc));
        return rc ? EXIT_FAILED : EXIT_OK;
    }
    char *page = rst_status_page(doc, cli_lang_ja(c));
    bool ok = page && fputs(page, stdout) >= 0 && fflush(stdout) == 0;
    free(page);
    return ok ? EXIT_OK : EXIT_FAILED;
}

/* The audit log as the status found it, for people: a line only when it is
 * not intact, in the reader's language (from the problem's code). */
static void audit_remind(const ops_status_log *log)
{
    char why[1024];
    if (log->rc == 0)
        return;
    if (log->rc < 0)
        bkp_audit_problem_text(&(bkp_audit_problem){.code = BKP_AUDIT_UNREADABLE, .err = log->rc},
                               why, sizeof(why));
    else
        bkp_audit_problem_text(&log->check.why, why, sizeof(why));
    printf(_("audit log: NOT intact: %s; tell the system administrator today (`bkp audit "
             "verify` says what to do)\n"),
           why);
}

/* Each off-line medium left plugged in. */
static void connected_remind(const rst_status *s)
{
    for (size_t i = 0; i < s->nconnected; i++) {
        const rst_connected *m = &s->connected[i];
        if (m->left && m->due)
            printf(_("%s is still connected at %s and due for its rotation: run `bkp rotate %s`, "
                     "then unmount it and take it away; while it is plugged in, ransomware on "
                     "this server can reach it\n"),
                   m->medium, m->path, m->medium);
        else if (m->left)
            printf(_("%s is still connected at %s: unmount it and take it away (`umount %s`); "
                     "while it is plugged in, ransomware on this server can reach it\n"),
                   m->medium, m->path, m->path);
    }
}

/* A disk of another repository where an off-line medium goes: an old disk
 * after a new start, or another server's — on-line all the same. */
static void foreign_remind(const rst_status *s)
{
    for (size_t i = 0; i < s->nmedia; i++) {
        const rst_medium *m = &s->media[i];
        const char *path = m->path;
        if (rst_medium_foreign_said(s, i))
            printf(_("The disk at %s is not %s: its label is of another repository (%.8s), an "
                     "old disk or another server's. This server neither writes it nor counts it; "
                     "while it is connected, what it holds is within reach of anything on this "
                     "server: unmount it (`umount %s`) and keep it where it belongs\n"),
                   path, m->medium, m->other_repository, path);
    }
}

/* Each rotation that did not finish: the medium holds what it held before,
 * whatever the person who carried it away believes. */
static void unfinished_remind(const rst_status *s)
{
    char began[64];
    for (size_t i = 0; i < s->nmedia; i++) {
        const rst_medium *m = &s->media[i];
        bkp_local_time(began, sizeof(began), m->began, "?");
        if (m->unfinished == RST_RUNNING)
            printf(_("%s: a rotation to it is copying now (since %s); leave it connected until "
                     "`bkp rotate` says it can be removed\n"),
                   m->medium, began);
        else if (m->unfinished == RST_FAILED)
            printf(_("%s: its last rotation (%s) FAILED: %s. It does not hold the newest "
                     "backups: connect it and run `bkp rotate %s` again\n"),
                   m->medium, began,
                   rst_medium_why(m, bkp_i18n_reader_japanese(), _("see `bkp audit show`")),
                   m->medium);
        if (m->unfinished == RST_FAILED && m->full && m->pruned_first)
            printf(_("  %s is too small even after its old generations went: use a larger disk "
                     "(`bkp media label PATH --name %s --force`)\n"),
                   m->medium, m->medium);
        else if (m->unfinished == RST_FAILED && m->full)
            printf(_("  %s is full: `bkp rotate %s --dry-run` lists what its retention deletes "
                     "after the copy, `bkp rotate %s --prune-first` deletes that first; or use a "
                     "larger disk\n"),
                   m->medium, m->medium, m->medium);
        if (m->unfinished == RST_CUT_OFF)
            printf(_("%s: its last rotation (%s) never ended (stopped, or the server went down). "
                     "It does not hold the newest backups: connect it and run `bkp rotate %s` "
                     "again\n"),
                   m->medium, began, m->medium);
    }
}

/* Each disk rotated last before the key slots changed: until its next
 * rotation it opens with the passphrases of before (a person who left still
 * opens it; a new passphrase does not). A bucket keeps its earlier key
 * files for good: said at the change, not here. */
static void keys_remind(const rst_status *s)
{
    char changed[64], written[64];
    bkp_local_time(changed, sizeof(changed), s->key_changed, "?");
    for (size_t i = 0; i < s->nmedia; i++) {
        const rst_medium *m = &s->media[i];
        if (m->keys_behind)
            printf(_("%s holds the key slots of before the key change of %s (its last rotation: "
                     "%s): until its next rotation it still opens with a passphrase changed or "
                     "removed then, and not with one added or changed then. Its next rotation "
                     "(`bkp rotate %s`) brings it up to date\n"),
                   m->medium, changed, bkp_local_time(written, sizeof(written), m->written, "?"),
                   m->medium);
    }
}

/* What the repository takes, what a copy on a disk or in a bucket will
 * need (an archive medium grows by a whole generation each rotation: the
 * guides say so), and what it stands for; then what each medium held after
 * its last rotation (a tape is not measured). */
static void storage_said(const rst_status *st)
{
    const rst_storage *s = &st->storage;
    char a[32], b[32], k[32];
    bool disk, bucket;
    rst_copy_kinds(st, &disk, &bucket);
    if (st->has_storage) {
        bkp_size_text(a, sizeof(a), s->stored);
        if (disk && bucket)
            printf(_("storage: %s on this disk; a copy on a disk or in a bucket needs about as "
                     "much, and its recovery kit\n"),
                   a);
        else if (disk)
            printf(_("storage: %s on this disk; a copy on a disk needs about as much, and its "
                     "recovery kit\n"),
                   a);
        else if (bucket)
            printf(_("storage: %s on this disk; a copy in a bucket needs about as much\n"), a);
        else
            printf(_("storage: %s on this disk\n"), a);
        if (s->kept) {
            /* Against what it stands for, every generation copied whole:
             * a share under 100 % that says what is saved, where against
             * the newest alone it passes 100 % as generations are kept. */
            double pct = 100.0 * (double)s->stored / (double)s->kept;
            printf(_("  %zu generation(s) of %zu data set(s) kept: %s of files if each were "
                     "copied whole (the newest: %s); stored in %s, %.*f %% of that\n"),
                   s->generations, s->datasets, bkp_size_text(k, sizeof(k), s->kept),
                   bkp_size_text(b, sizeof(b), s->newest), bkp_size_text(a, sizeof(a), s->stored),
                   pct < 10 ? 1 : 0, pct);
        }
    }
    for (size_t i = 0; i < st->nmedia; i++) {
        const rst_medium *m = &st->media[i];
        if (m->bytes)
            printf(_("  %s held %s when its last rotation ended (%s)\n"), m->medium,
                   bkp_size_text(a, sizeof(a), m->bytes),
                   bkp_local_time(k, sizeof(k), m->written, _("never")));
        if (rst_medium_tight(m))
            printf(_("  %s had %s free after it, less than a rotation to it copies (about %s): "
                     "the next rotation may not fit. Before it, `bkp rotate %s --dry-run` says "
                     "what it needs; a larger disk, or a retention that keeps fewer generations "
                     "on it\n"),
                   m->medium, bkp_size_text(a, sizeof(a), m->free_after),
                   bkp_size_text(b, sizeof(b), m->wrote), m->medium);
    }
}

int cmd_status(cli *c)
{
    int ex, rc;
    bool page;
    ops_status_log log;
    rst_status st;
    if ((ex = page_options(c, &page)))
        return ex;
    if ((rc = cli_status(c, &st, &log)))
        return rc == -ENOENT && !c->policy ? EXIT_USAGE : EXIT_FAILED;
    /* One document: what --json prints is what the page shows, and what
     * is said here. */
    if (cli_status_doc(c, &st, &log)) {
        rst_status_clear(&st);
        return EXIT_FAILED;
    }
    if (page) {
        ex = write_page(c, &st);
    } else if (c->json) {
        json_t *doc = rst_status_json(&st);
        if (!doc)
            ex = EXIT_FAILED;
        else
            cli_print_json(doc);
    } else {
        /* Asked for in a language (a clerk's terminal, cron's C locale):
         * every line in it, whatever the locale says. */
        bkp_i18n_saved saved;
        if (c->lang)
            bkp_i18n_begin(&saved, c->lang);
        audit_remind(&log); /* first: what the rest is proved by */
        cli_status_print(&st, c->lang);
        connected_remind(&st);
        foreign_remind(&st);
        unfinished_remind(&st);
        keys_remind(&st);
        cli_key_drill_remind(&st.key_drill);
        storage_said(&st);
        fflush(stdout);
        if (c->lang)
            bkp_i18n_end(&saved);
    }
    pol_verdict worst = st.verdict;
    rst_status_clear(&st);
    if (c->metrics && cli_metrics_write(c, c->metrics, NULL, 0))
        return EXIT_FAILED;
    if (ex)
        return ex;
    /* A log changed, cut or gone may be the trace of an intrusion: a
     * monitor that reads the exit code hears of it as of a data set out of
     * compliance (a torn end or a clock set back is said, not alarmed). */
    bool tampered = log.rc > 0 && bkp_audit_code_tampered(log.check.why.code);
    return worst == POL_NON_COMPLIANT || tampered ? EXIT_FAILED : EXIT_OK;
}
