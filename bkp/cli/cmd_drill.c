/*
 * bkp drill NAME [--medium M] [--attest WHO] [--report DIR] [--keep] [--key-from FILE|-...]
 * bkp restore --runbook NAME [--attest WHO] [--force]
 *
 * A runbook executed by the restore engine (restore/procedure.c): for real,
 * or rehearsed into a sandbox (never the live paths). Generations are read
 * from the sources that are there, in order: the primary repository, on-line
 * disks, removable disks, archives (--medium limits a drill to one; a bucket
 * is read only when named so, its newest generations fetched). A drill
 * writes its report (Markdown and HTML in Japanese and English, and JSON) and
 * an audit record; a restore by runbook writes its audit record.
 *
 * A drill with --key-from is a key-recovery drill: it rehearses the day the
 * server and every passphrase are gone, so it reads only what would be left —
 * off-line media (removable disks, off-line disks, archives), never the
 * primary or an on-line disk — and opens the first of them with the master
 * secret from the sheets (no key file, no passphrase; one given is refused,
 * open_key_from.c). Its records say so (key_recovery, and which sheets), and
 * `bkp status` reminds when none succeeded within key_drill_every.
 *
 * The sources, the sandbox, the engine's run and the records are
 * bkp/ops/drill.h's; here, how a repository is opened with the key given,
 * how a bucket is fetched, and what is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/media/bucket.h"
#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/keys/pubkey.h"
#include "bkp/io/durable.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/text.h"
#include "bkp/io/log.h"
#include "bkp/ops/archive_check.h"
#include "bkp/ops/drill.h"
#include "restore/drill_report.h"
#include "restore/procedure.h"
#include "restore/runbook_doc.h"

/* ---- what the program does for bkp/ops/drill.c ---- */

/* The primary, when it is there: opened once, read-only (it stays in
 * c->ro, where the records go). */
static int open_primary(void *ctx, const bkp_repo **out)
{
    cli *c = ctx;
    struct stat st;
    *out = NULL;
    if (!cli_repo_path(c) || stat(c->repo, &st) != 0)
        return 0;
    bkp_repo *h = NULL;
    int ex = c->ro ? EXIT_OK : cli_open_repo(c, BKP_REPO_READONLY, &h);
    if (ex)
        return ex == EXIT_KEY ? -EKEYREJECTED : -EIO;
    if (h) {
        cli_keep(h);
        c->ro = h;
    }
    *out = c->ro;
    return 0;
}

/* The first source the primary's key does not open for it: with the
 * sheets, or the passphrase; a medium's folder (its cache/ is not read). */
static int open_keyed(void *ctx, const char *path, bkp_repo **out)
{
    cli *c = ctx;
    if (c->nkey_from) /* recorded in the primary when it is there, never on the medium */
        return cli_open_key_from(c, path, BKP_REPO_READONLY | BKP_REPO_MEDIUM, true, out);
    cli_passphrase_source(c);
    int rc = cli_open_passphrase(c, path, BKP_REPO_READONLY | BKP_REPO_MEDIUM, out);
    return rc == -ENOKEY ? -ENOENT : rc;
}

static int fetch_bucket(void *ctx, const char *name, const rb_runbook *rb, bool as_copy,
                        bkp_repo **out, char **staging)
{
    cli *c = ctx;
    cli_medium m;
    bkp_bucket_fetch f = {0};
    /* A drill rehearses with the newest; a restore by runbook for real may
     * need the last generation before an attack, however old: all of them
     * (the select step chooses, as from a disk). */
    cli_fetch_what what = {.datasets = rb->datasets,
                           .ndatasets = rb->ndatasets,
                           .newest = c->runbook ? 0 : OPS_FETCH_NEWEST};
    int ex = cli_medium_find(c, name, &m);
    if (!ex)
        ex = cli_object_fetch(c, &m, as_copy, &what, out, staging, &f);
    bkp_bucket_fetch_clear(&f);
    cli_medium_clear(&m);
    return ex ? -EIO : 0;
}

typedef struct record_to {
    cli *c;
    const ops_drill_sources *s;
} record_to;

static int append(void *ctx, const bkp_audit_rec *rec)
{
    record_to *to = ctx;
    cli *c = to->c;
    /* To the primary when it is there, else beside the reports (never on
     * the copy used). */
    return c->ro ? cli_audit(c, rec)
                 : cli_record(c, to->s->v[0].repo, to->s->nstaging == to->s->nowned, rec);
}

/* The result on a terminal: one line, then each step's action and result. */
static void print_result(const rb_report *r)
{
    char a[32], b[32], target[64] = "";
    if (r->rto_target)
        snprintf(target, sizeof(target), _(" (target %s)"),
                 rb_duration_text(b, sizeof(b), (double)r->rto_target));
    printf(r->ok ? _("%s %s: succeeded in %s%s\n") : _("%s %s: FAILED in %s%s\n"),
           r->drill ? _("drill") : _("restore by runbook"), r->runbook,
           rb_duration_text(a, sizeof(a), r->seconds), target);
    for (size_t i = 0; i < r->nsteps; i++) {
        printf("  %2zu ", i + 1);
        cli_pad(stdout, r->steps[i].who, 14);
        cli_pad(stdout, rb_action_word(r->steps[i].action), 10);
        cli_pad(stdout, rb_status_word(r->steps[i].status), 16);
        printf("%s\n", r->steps[i].shown);
    }
    /* Where it read from, and why: the day it rehearses. */
    char from[512] = "";
    for (size_t k = 0; k < r->nrestored; k++) {
        const char *src = r->restored[k].source;
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen |= !strcmp(r->restored[j].source, src);
        if (*src && !seen)
            snprintf(from + strlen(from), sizeof(from) - strlen(from), "%s%s", *from ? ", " : "",
                     src);
    }
    if (r->drill && r->read_from)
        printf(_("read from: %s — %s\n"), *from ? from : "-", rb_read_from_text(r->read_from));
    const bkp_sheets_used *ku = r->key_recovery;
    if (ku && ku->kind == BKP_SHEET_SHARE)
        printf(_("key recovery: opened with %lld of %lld share sheets, no passphrase\n"),
               (long long)ku->threshold, (long long)ku->of);
    else if (ku)
        printf(_("key recovery: opened with the paper sheet, no passphrase\n"));
    size_t not_rehearsed = rb_not_rehearsed(r);
    for (size_t i = 0; i < r->reports.n; i++)
        if (strstr(r->reports.v[i], ".md"))
            printf(_("report: %s\n"), r->reports.v[i]);
    if (not_rehearsed && r->attested_by)
        printf(_("%zu confirm step(s) were not rehearsed: nobody was named for their role "
                 "(--attest ROLE=NAME).\n"),
               not_rehearsed);
    else if (not_rehearsed)
        printf(_("%zu confirm step(s) were not rehearsed by a person (unattended drill).\n"),
               not_rehearsed);
}

/* Keep what the run leaves (reports, audit records) and say how it went. */
static int conclude(cli *c, const ops_drill_in *in, const ops_drill_run *run, time_t started,
                    bool unattended)
{
    const rb_runbook *rb = in->rb;
    char user[256];
    rb_report report;
    if (rb_report_make(rb, &run->env, &run->res, started, bkp_user_name(user, sizeof(user)),
                       &report)) {
        bkp_error("%s", bkp_strerror(-ENOMEM));
        return EXIT_FAILED;
    }
    record_to to = {c, &run->sources};
    if (in->keyrec)
        report.key_recovery = &c->key_used;
    if (in->drill)
        report.read_from = ops_drill_from_name(run->sources.from);
    /* Which signed log keeps its record: every copy has the repository's
     * id and signing key. */
    const bkp_repo *signer = c->ro ? c->ro : run->sources.n ? run->sources.v[0].repo : NULL;
    char fp[BKP_FINGERPRINT_LEN];
    if (signer) {
        bkp_pubkey_fingerprint(bkp_repo_sign_pk(signer), fp);
        report.repository = bkp_repo_uuid(signer);
        report.key_fingerprint = fp;
    }
    /* Into --report, else the primary's reports/, never on the media read
     * nor in the current folder. A key-recovery drill opened no primary: one
     * that is here, and no disk's copy, is opened as its audit record's is
     * (its layout checked) to keep the reports in. */
    if (in->drill) {
        bkp_repo *primary = c->report_dir || c->ro || !run->sources.n
                                ? NULL
                                : cli_primary_of(c, run->sources.v[0].repo);
        ops_drill_keep_reports(c->report_dir, c->ro ? c->ro : primary, rb, &report);
        bkp_repo_free(primary);
    }
    size_t bad = ops_drill_record(&report, append, &to);
    if (c->json && !unattended) {
        char *text = rb_report_json(&report, true);
        if (text)
            puts(text);
        free(text);
    } else if (!unattended || c->tty) {
        print_result(&report);
    }
    rb_report_clear(&report);
    return !run->res.ok || bad ? EXIT_FAILED : EXIT_OK;
}

/* Is the primary repository (--repo, the policy's) there to keep reports in? */
static bool primary_there(cli *c)
{
    struct stat st;
    const char *repo =
        c->repo || getenv("BKP_REPO") || cli_policy_named(c) ? cli_repo_path(c) : NULL;
    char *config = repo ? bkp_path_join(repo, "config") : NULL;
    bool there = config && stat(config, &st) == 0;
    free(config);
    return there;
}

/* Is there a terminal to ask a person on (the confirm steps' /dev/tty)? */
static bool terminal(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

/* A drill that could not start (said above): one `bkp run` held on
 * schedule whose runbook could not be used (`rb` NULL) or that could read
 * nothing, or one of people (`attended`) whose off-line media lack a data
 * set of its runbook (`why`, else a sentence of those). Recorded as a
 * drill that failed ("unstarted"), so that the schedule counts from it
 * (not tried again, and said again, at every run) and the status and the
 * evidence show it: under each data set of its runbook (or, its runbook
 * unread, the first whose `runbook:` it is; of none when only `drills:`
 * names it, and then every data set's status shows it), where a drill's
 * record goes (`sources`: what it opened, NULL: none). */
static void record_unstarted(cli *c, const char *name, const rb_runbook *rb, bool attended,
                             const ops_drill_sources *sources, const char *why)
{
    char stem[256], ja[256];
    const char *ds = rb && rb->ndatasets ? rb->datasets[0] : NULL;
    rb_runbook_stem(name, stem, sizeof(stem));
    for (size_t i = 0; c->policy && !ds && i < c->policy->ndatasets; i++) {
        char its[256];
        const char *named = c->policy->datasets[i].runbook;
        if (named && (rb_runbook_stem(named, its, sizeof(its)), !strcmp(its, stem)))
            ds = c->policy->datasets[i].name;
    }
    if (!why)
        why = rb ? N_("the drill could not start: no copy could be read, or the key was refused "
                      "(the run's messages say which)")
                 : N_("the runbook could not be used; `bkp runbook show` says why");
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    snprintf(ja, sizeof(ja), "%s", _(why));
    bkp_i18n_end(&saved);
    json_t *fig = json_pack("{s:s, s:b, s:b, s:b}", "runbook", stem, "drill", true, "attended",
                            attended, "unstarted", true);
    /* Each data set of the runbook, as a drill that failed records them. */
    for (size_t i = 0; i < (rb && rb->ndatasets ? rb->ndatasets : 1); i++) {
        bkp_audit_rec rec = {.op = "drill",
                             .dataset = rb && rb->ndatasets ? rb->datasets[i] : ds,
                             .failed = true,
                             .figures = fig,
                             .error = why,
                             .error_ja = ja};
        /* Where a drill's record goes: without the primary, beside what
         * it opened (a journal), as one that ran. */
        record_to to = {c, sources};
        (void)(sources && sources->n ? append(&to, &rec) : cli_audit(c, &rec));
    }
    json_decref(fig);
}

int cli_runbook_execute(cli *c, const char *name, bool drill, bool unattended)
{
    rb_runbook *rb = NULL;
    ops_drill_run run = {0};
    time_t started = bkp_now();
    c->journal_near = c->report_dir; /* where no primary is open: the journal with the reports */
    c->journal_in = c->report_dir != NULL;
    int ex = cli_runbook_load(c, name, &rb), rc;
    ops_drill_io io = {.ctx = c,
                       .open_primary = open_primary,
                       .open = open_keyed,
                       .archives = ops_archive_list,
                       .fetch = fetch_bucket};
    ops_drill_in in = {.rb = rb,
                       .only = c->medium,
                       .drill = drill,
                       .offline_first = drill && !unattended,
                       .keyrec = drill && c->nkey_from > 0, /* a key-recovery drill */
                       .sandbox = c->sandbox,
                       .keep = c->keep,
                       /* A drill of people named asks each of them its
                        * confirms (on /dev/tty, whatever --json): the report
                        * then says they did them, not that someone said so. */
                       .interactive =
                           !unattended && ((c->tty && !rb_attest_given(&c->attest) && !c->json) ||
                                           (drill && rb_attest_given(&c->attest))),
                       .force = c->force,
                       /* bkp run under cron: a mail only when something failed */
                       .quiet = unattended && !isatty(STDERR_FILENO),
                       .attest = unattended ? NULL : &c->attest,
                       .workers = c->workers,
                       .io = &io};
    if (!ex && !cli_policy(c) && cli_policy_named(c))
        ex = EXIT_USAGE;
    if (!ex && drill && !c->report_dir && !primary_there(c)) {
        /* The report is what the drill leaves for the inspector: into the
         * repository's reports/, or a folder the person names, never
         * wherever the command happened to be typed. */
        bkp_error(_("no repository is here to keep the drill's report: name a folder for it with "
                    "--report DIR"));
        ex = EXIT_USAGE;
    }
    in.policy = c->policy;
    if (!ex && ops_drill_precheck(&in))
        ex = EXIT_USAGE;
    if (!ex && drill && in.interactive && rb_attest_given(&c->attest) && !terminal()) {
        bkp_error(_("--attest names the people who do the drill's confirm steps, and each step "
                    "is asked of them on the terminal: run the drill on one, with them; without "
                    "--attest it runs unattended, its confirms recorded as not rehearsed"));
        ex = EXIT_USAGE;
    }
    if (ex) {
        if (drill && unattended)
            record_unstarted(c, name, NULL, false, NULL, NULL);
        rb_free(rb);
        return ex;
    }
    if ((rc = ops_drill_execute(&in, &run))) {
        ex = rc == -EKEYREJECTED ? EXIT_KEY : EXIT_FAILED;
        /* A drill of people that found no copy of a data set where the
         * day of an attack would look is a failure of the drill too. */
        if (drill && (unattended || rc == -ENODATA))
            record_unstarted(c, name, rb, !unattended, &run.sources,
                             rc == -ENODATA ? N_("the drill could not start: a data set of its "
                                                 "runbook is on none of the off-line media "
                                                 "connected (the run's messages say which)")
                                            : NULL);
    } else
        ex = conclude(c, &in, &run, started, unattended);
    ops_drill_run_clear(&in, &run);
    rb_free(rb);
    return ex;
}

int cmd_drill(cli *c)
{
    return cli_runbook_execute(c, c->args[0], true, false);
}
