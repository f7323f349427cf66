/*
 * bkp run — the cron entry: the cycle itself is bkp/ops/run.h (every data
 * set of the policy that is due, in priority order: before hook, capture,
 * seal, after hook; the on-line copies, the rolling re-read, the drills due).
 * Here: what the program gives it (the audit record, the backup, a
 * rotation, a drill), and what the run shows. One run at a time (a second
 * exits 3). Quiet when all is well and nobody is watching; a table on a
 * terminal; one syslog line per data set; every condition told once per
 * change; a Prometheus textfile with --metrics; exit 1 when anything failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/clock.h"
#include "bkp/cli/cli.h"
#include "bkp/io/log.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/rotate.h"
#include "bkp/ops/run.h"
#include "bkp/io/text.h"
#include "policies/compliance.h"

typedef ops_run_outcome outcome;

/* The program's side of the run (bkp/ops/run.h). */
static int io_audit(void *ctx, const bkp_audit_rec *rec)
{
    return cli_audit(ctx, rec);
}

static int io_backup(void *ctx, const pol_dataset *d, ops_run_backup *out)
{
    cli *c = ctx;
    bkp_capture_opts opts;
    cli_backup b;
    cli_dataset_opts(c, d, &opts);
    int ex = cli_backup_run(c, &opts, d, &b);
    out->gen = b.gen;
    out->suspicious = b.suspicious;
    out->verdict = b.verdict;
    snprintf(out->reason, sizeof(out->reason), "%s", b.reason);
    out->stats = b.stats;
    out->nerrors = b.nerrors;
    out->seconds = b.seconds;
    out->err = b.err;
    out->stream_rc = b.stream_rc;
    out->stream = b.stream;
    b.gen = NULL; /* the outcome's now */
    cli_backup_clear(&b);
    return ex;
}

/* A data set's words when nobody watches (run.h): each to syslog as it is
 * said. */
static void io_journal(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)ctx;
    syslog(level == BKP_LOG_ERROR  ? LOG_ERR
           : level == BKP_LOG_NOTE ? LOG_NOTICE
                                   : LOG_WARNING,
           "%s", msg);
}

static void log_syslog(void *ctx, const outcome *o)
{
    int prio = o->failed ? LOG_ERR : LOG_INFO;
    (void)ctx;
    if (!o->ran)
        return;
    if (o->b.gen)
        syslog(prio, "%s:%u %s in %.1fs: %llu files, %llu bytes read, %llu bytes new%s%s",
               o->d->name, o->b.gen->seq, o->what, o->b.seconds,
               (unsigned long long)o->b.stats.files, (unsigned long long)o->b.stats.bytes_read,
               (unsigned long long)o->b.stats.bytes_new, *o->detail ? "; " : "", o->detail);
    else
        syslog(prio, "%s %s: %s", o->d->name, o->what, o->detail);
}

static time_t io_medium_due(void *ctx, const char *name)
{
    return cli_medium_due(ctx, name);
}

/* On-line disks, and buckets that are due (off-line media go by `bkp
 * rotate`, with a person at the disk); quietly: the run's own JSON is the
 * output. */
static int io_copy(void *ctx, const pol_medium *pm)
{
    cli *c = ctx;
    cli_medium m;
    bool json = c->json;
    c->json = false;
    int ex = cli_medium_find(c, pm->name, &m);
    if (!ex)
        ex = cli_rotate(c, &m, true);
    cli_medium_clear(&m);
    c->json = json;
    if (ex)
        syslog(LOG_ERR, "copy to %s failed", pm->name);
    return ex;
}

/* Whether the rotation to on-line disk `pm` would write, by its plan (a
 * dry run: it writes nothing; it checks the label and the pins as the
 * rotation does, and lists the medium's records). What it finds goes to
 * the system log alone (a pin that does not verify, a generation passed
 * over): the copy that follows, if any, says it again for people. */
static int io_lacks(void *ctx, const pol_medium *pm)
{
    cli *c = ctx;
    cli_medium m;
    ops_rotate_out o = {0};
    int rc = -ENOENT;
    bkp_log_scope *hush = bkp_log_scope_new(io_journal, NULL), *was = bkp_log_scope_enter(hush);
    if (hush && !cli_medium_find(c, pm->name, &m)) {
        ops_rotate_in in = {.primary = c->r,
                            .policy = c->policy,
                            .medium = m.name,
                            .pm = m.pm,
                            .path = m.path,
                            .entry = m.entry,
                            .workers = c->workers,
                            .dry_run = true,
                            .unsized = true};
        rc = pol_medium_type_named(m.type, &in.type) ? -EINVAL : ops_rotate(&in, &o);
        if (!rc)
            rc = ops_rotate_plan_acts(&o.plan);
        ops_rotate_out_clear(&o);
        cli_medium_clear(&m);
    }
    bkp_log_scope_enter(was);
    bkp_log_scope_close(hush, false);
    return rc;
}

/* The copy on on-line disk `pm` when its label is there, read-only. A disk
 * not there is passed over quietly: its copy said so. */
static int io_open_online(void *ctx, const pol_medium *pm, bkp_repo **out)
{
    cli *c = ctx;
    cli_medium m;
    int rc = -ENOENT;
    if (!ops_medium_here(c->ro, pm) || cli_medium_find(c, pm->name, &m))
        return rc;
    char *repo = m.entry ? cli_medium_repo(&m) : NULL;
    if (repo && !cli_medium_check_label(c, &m))
        rc = bkp_repo_open_copy(repo, c->ro, BKP_REPO_READONLY, out);
    free(repo);
    cli_medium_clear(&m);
    return rc;
}

static int io_drill(void *ctx, const char *runbook, const char *stem)
{
    syslog(LOG_INFO, "drill %s", stem);
    int ex = cli_runbook_execute(ctx, runbook, true, true);
    if (ex)
        syslog(LOG_ERR, "drill %s failed", stem);
    return ex;
}

/* The policy's status page, from the status the run judged (`rc` how its
 * gathering ended): a page that cannot be written is a warning, never a
 * failed run (the backups are made). */
static void status_page(cli *c, const pol_policy *p, rst_status *st, int rc,
                        const ops_status_log *log)
{
    if (!p->status_page)
        return;
    if (!rc)
        rc = cli_status_doc(c, st, log);
    if (!rc)
        rc = cli_status_page_write(st, p->status_page, cli_lang_ja(c));
    if (rc) {
        bkp_warn(_("the status page %s could not be written: %s; the backups are not affected"),
                 p->status_page, bkp_strerror(rc));
        syslog(LOG_WARNING, "status page %s not written: %s", p->status_page, bkp_strerror(rc));
    }
}

/* Retention after the run, as `bkp prune` would (quietly off a terminal;
 * its words held when nobody watches, `*words`): its exit status, or -1
 * when no data set has a retention rule. */
static int prune_after(cli *c, const ops_run_in *in, bkp_log_scope **words)
{
    if (!ops_run_wants_prune(in->policy))
        return -1;
    bool json = c->json;
    c->json = false; /* the run's own JSON is the output */
    *words = ops_run_words_begin(in);
    bkp_log_scope *was = bkp_log_scope_enter(*words);
    int pex = cli_prune(c, c->writer);
    bkp_log_scope_enter(was);
    c->json = json;
    return pex;
}

/* The prune after the run (`pex`, prune_after) as a condition told once
 * per change: a prune another command kept from running (a rotation
 * writing) waits for the next run, and is told all the same (never a
 * prune kept from running for good unsaid); its words with it. True when
 * it failed. */
static bool alert_prune(const ops_run_in *in, int pex, bkp_log_scope *words, ops_alerts *al)
{
    char cause[32];
    bool bad = pex > 0;
    if (pex < 0)
        return false;
    snprintf(cause, sizeof(cause), "exit:%d", pex);
    if (!bad)
        ops_alert(al, "prune", NULL, 0, N_("pruning after the run succeeds again"));
    else if (pex == EXIT_LOCKED)
        ops_alert(al, "prune", "failed", 1,
                  N_("pruning after the run waits: another command is using the repository (a "
                     "rotation, a restore, a mount: above); the generations are safe, and the "
                     "next run prunes once it has finished"));
    else
        ops_alert(al, "prune", "failed", 2,
                  N_("pruning after the run failed (above); the generations are safe: run `bkp "
                     "prune` to see why and retry"));
    if (bad)
        ops_alert_cause(al, "prune", cause);
    ops_run_words_end(words, bad && ops_run_failed_as_told(in, "prune", cause));
    return bad;
}

/* The rest of the cycle — on-line copies, the rolling re-read, drills — and
 * every condition judged after it, told once per change (bkp/ops/alerts.h):
 * the run's own words follow the same rule, so that cron mails once. True
 * when something failed. */
static bool after_backups(cli *c, const ops_run_in *in, const ops_run_result *res, int pex,
                          bkp_log_scope *prune_words)
{
    ops_alerts al = {0};
    ops_run_alert_outcomes(&al, res);
    bool failed = ops_run_after(in, res, &al);
    /* What the run says itself, once per change, from here on: the prune,
     * the media, the verdicts and the key-recovery drill (the rest it said
     * as it went). */
    size_t own = al.n;
    failed |= alert_prune(in, pex, prune_words, &al);
    ops_run_alert_media(in, &al);
    ops_status_log log;
    rst_status status;
    int src = cli_status(c, &status, &log);
    pol_verdict worst = status.verdict;
    ops_run_alert_verdicts(in, &al, &status);
    if (ops_run_setting_up(in) && worst != POL_COMPLIANT) {
        /* Not a failure of the run on the repository's first day: said,
         * for a person at the terminal. */
        char until[48];
        bkp_local_time(until, sizeof(until), in->created + OPS_SETUP_DAY, "-");
        bkp_info(_("the repository is being set up until %s: the checklist's verdict is not "
                   "alerted before then; `bkp status` shows what is still to do"),
                 until);
    } else {
        failed |= worst == POL_NON_COMPLIANT;
    }
    if (!c->dataset && !src)
        ops_run_alert_key_drill(&al, &status.key_drill);
    bool *told = calloc(al.n + 1, sizeof(*told));
    if (told && ops_alerts_tell(c->r, c->policy, &al, bkp_now(), told, io_audit, c))
        failed = true;
    /* Said as it went, unless the alerts tell it once (run.h): then here,
     * when told. */
    for (size_t i = in->said_once ? 0 : own; told && i < al.n; i++) {
        const char *shown = ops_alert_shown(&al, i);
        if (told[i] && al.v[i].state)
            bkp_log(al.v[i].severity >= 2 ? BKP_LOG_ERROR : BKP_LOG_WARN, "%s", shown);
        else if (told[i] && in->said_once && !c->json)
            fprintf(stderr, "bkp: %s\n", shown); /* mended: cron's mail says so, once, in order */
        else if (told[i])
            bkp_info("%s", shown);
        else if (al.v[i].state)
            bkp_info(_("%s (told before; `bkp status` shows it)"), shown);
        if (al.v[i].state)
            syslog(LOG_WARNING, "%s", al.v[i].summary);
    }
    free(told);
    ops_alerts_free(&al);
    status_page(c, in->policy, &status, src, &log);
    rst_status_clear(&status);
    return failed;
}

/* What the run did: JSON for programs (English words), or a table for a
 * person at a terminal (through the catalogue); nothing for cron. */
static void print_outcomes(const cli *c, const outcome *out, size_t n)
{
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            const ops_run_backup *b = &out[i].b;
            json_t *o = b->gen ? cli_backup_json(b->gen, &b->stats, b->seconds) : NULL;
            o = o ? o : json_object();
            json_object_set_new(o, "dataset", json_string(out[i].d->name));
            json_object_set_new(o, "result", json_string(out[i].what));
            json_object_set_new(o, "detail", json_string(out[i].detail));
            json_array_append_new(arr, o);
        }
        cli_print_json(arr);
        return;
    }
    if (!c->tty)
        return;
    char size[32];
    cli_pad(stdout, _("DATA SET"), 17);
    cli_pad(stdout, _("GENERATION"), 11);
    cli_pad(stdout, _("RESULT"), 29);
    printf("%s\n", _("DETAIL"));
    for (size_t i = 0; i < n; i++) {
        char gen[32] = "-", detail[sizeof(out[i].shown)];
        if (out[i].b.gen)
            snprintf(gen, sizeof(gen), "%u", out[i].b.gen->seq);
        if (out[i].b.gen && !*out[i].detail)
            snprintf(detail, sizeof(detail), _("%.1f s, %s new"), out[i].b.seconds,
                     bkp_size_text(size, sizeof(size), out[i].b.stats.bytes_new));
        else
            snprintf(detail, sizeof(detail), "%s", out[i].shown);
        cli_pad(stdout, out[i].d->name, 17);
        cli_pad(stdout, gen, 11);
        cli_pad(stdout, _(out[i].what), 29);
        printf("%s\n", detail);
    }
}

int cmd_run(cli *c)
{
    pol_policy *p = cli_policy(c);
    struct timespec t0, t1;
    if (!p) {
        bkp_error(_("bkp run needs a policy: give --policy FILE or set BKP_POLICY"));
        return EXIT_USAGE;
    }
    if (c->dataset && !pol_dataset_find(p, c->dataset)) {
        bkp_error(_("%s names no data set '%s'; `bkp policy check` lists them"), p->file,
                  c->dataset);
        return EXIT_USAGE;
    }
    /* The lock: main.c's prepare() took the named lock "run" and then the
     * writer lock (LOCK_CYCLE in commands[]) before the repository was
     * opened, and releases them after this returns. One cycle at a time: two
     * runs would capture the same data sets twice and prune under each
     * other, so a second run started meanwhile (cron overlapping a slow one)
     * finds "run" taken and exits 3 (EXIT_LOCKED), or waits with --lock-wait. */
    openlog("bkp", LOG_PID, LOG_DAEMON);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* On a terminal, what the policy lacks; under cron every quarter of an
     * hour it would be the same mail each time: the status's alerts say a
     * shortfall once, when it changes. */
    if (c->tty)
        (void)pol_warn_compliance(p);

    ops_run_io io = {.ctx = c,
                     .audit = io_audit,
                     .backup = io_backup,
                     .done = log_syslog,
                     .medium_due = io_medium_due,
                     .copy = io_copy,
                     .lacks = io_lacks,
                     .open_online = io_open_online,
                     .drill = io_drill,
                     .journal = io_journal};
    ops_run_in in = {.repo = c->r,
                     .policy = p,
                     .dataset = c->dataset,
                     .force = c->force,
                     .workers = c->workers,
                     .io = &io,
                     /* cron's mail once per change, as the alerts: nobody
                      * watches what the run says (its output may go to a
                      * file), and nothing more is asked for (-v) */
                     .said_once = !isatty(STDERR_FILENO) && bkp_log_get_level() < BKP_LOG_INFO};
    ops_run_result res;
    in.now = c->run_since = bkp_now();
    char *log = bkp_audit_path(c->r);
    in.created = bkp_audit_first_time(log, bkp_repo_sign_pk(c->r));
    free(log);
    if (ops_run_datasets(&in, &res)) {
        closelog();
        return EXIT_FAILED;
    }
    bool failed = ops_run_failed(&res);
    bkp_log_scope *prune_words = NULL;
    int pex = prune_after(c, &in, &prune_words);
    in.now = bkp_now();
    failed |= after_backups(c, &in, &res, pex, prune_words);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* --metrics, else the policy's (metrics: PATH), for node_exporter. */
    const char *metrics = c->metrics ? c->metrics : p->metrics;
    if (metrics && cli_metrics_write(c, metrics, &res, secs))
        failed = true;
    print_outcomes(c, res.v, res.n);
    ops_run_result_free(&res);
    closelog();
    return failed ? EXIT_FAILED : EXIT_OK;
}
