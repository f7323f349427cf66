/*
 * bkp run — the cron entry: every data set of the policy that is due, in
 * priority order: before hook, capture, seal, after hook. One run at a time
 * (a second exits 3). Quiet when all is well and nobody is watching; a table
 * on a terminal; one syslog line per data set; a Prometheus textfile with
 * --metrics; exit 1 when anything failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "bkp/i18n.h"
#include "bkp/clock.h"
#include "bkp/cli/cli.h"
#include "bkp/audit.h"
#include "bkp/durable.h"
#include "bkp/hook.h"
#include "bkp/lock.h"
#include "bkp/reread_sample.h"
#include "bkp/verify.h"
#include "bkp/log.h"
#include "policies/compliance.h"
#include "policies/schedule.h"

typedef struct outcome {
    const pol_dataset *d;
    const char *what; /* "sealed", "not due", "failed" (N_: English in --json, syslog) */
    char detail[600]; /* English, for --json, syslog and the alerts */
    char shown[600];  /* the same for the table, through the catalogue */
    bool ran, failed;
    cli_backup b;
    time_t last_success; /* newest sealed generation's end, this run or before */
    size_t generations;
} outcome;

/* Say the detail of `o` twice: in English, and in the reader's language. The
 * format is a literal marked N_() so that the catalogue has it. */
#define DETAIL(o, fmt, ...)                                                                        \
    do {                                                                                           \
        snprintf((o)->detail, sizeof((o)->detail), fmt, __VA_ARGS__);                              \
        snprintf((o)->shown, sizeof((o)->shown), _(fmt), __VA_ARGS__);                             \
    } while (0)

/* The same for a fixed text (marked N_()). */
static void detail_text(outcome *o, const char *text)
{
    snprintf(o->detail, sizeof(o->detail), "%s", text);
    snprintf(o->shown, sizeof(o->shown), "%s", _(text));
}

static int cmp_priority(const void *a, const void *b)
{
    const pol_dataset *x = *(const pol_dataset *const *)a, *y = *(const pol_dataset *const *)b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

static int run_hook(cli *c, const pol_dataset *d, const pol_hook *h, const char *which, outcome *o)
{
    bkp_hook_result hr;
    char op[32];
    if (!h->command)
        return 0;
    bkp_info(_("%s: %s hook: %s"), d->name, which, h->command);
    bkp_hook_spec spec = {.command = h->command,
                          .env = h->env,
                          .nenv = h->nenv,
                          .timeout = h->timeout,
                          .run_as = h->run_as};
    int rc = bkp_hook_exec(&spec, &hr);
    snprintf(op, sizeof(op), "hook-%s", which);
    json_t *fig = json_pack("{s:s, s:i, s:i, s:b, s:I}", "command", h->command, "exit_code",
                            hr.exit_code, "signal", hr.signal, "timed_out", hr.timed_out,
                            "milliseconds", (json_int_t)(hr.seconds * 1000));
    bkp_audit_rec rec = {.op = op, .dataset = d->name, .failed = rc != 0, .figures = fig};
    int aex = cli_audit(c, &rec);
    json_decref(fig);
    if (aex)
        return -EIO;
    if (!rc)
        return 0;
    if (rc == -ETIMEDOUT)
        DETAIL(o, N_("%s hook killed after %llds (timeout)"), which, (long long)h->timeout);
    else if (rc == -ECHILD && hr.signal)
        DETAIL(o, N_("%s hook ended by signal %d"), which, hr.signal);
    else if (rc == -ENOENT && h->run_as)
        DETAIL(o, N_("%s hook: no user '%s' to run it as"), which, h->run_as);
    else if (rc == -ECHILD)
        DETAIL(o, N_("%s hook exited with status %d"), which, hr.exit_code);
    else
        DETAIL(o, N_("%s hook could not start: %s"), which, bkp_strerror(rc));
    bkp_error(_("%s: %s; check `%s` by hand"), d->name, o->shown, h->command);
    return rc;
}

/* Newest generation's finish time and the number of generations of `name`. */
static void history(bkp_repo *r, const char *name, time_t *last, time_t *last_start, size_t *count)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    *last = *last_start = 0;
    *count = 0;
    if (bkp_gen_list(r, name, &v, &n))
        return;
    for (size_t i = 0; i < n; i++)
        if (!v[i]->status && !v[i]->pruned) {
            (*count)++;
            if (v[i]->finished > *last) {
                *last = v[i]->finished;
                *last_start = v[i]->started;
            }
        }
    bkp_gen_list_free(v, n);
}

static void run_dataset(cli *c, const pol_dataset *d, time_t now, outcome *o)
{
    time_t last_start;
    history(c->r, d->name, &o->last_success, &last_start, &o->generations);
    if (!c->force && !pol_is_due(&d->schedule, last_start, now)) {
        char when[32] = "";
        time_t next = pol_next_slot(&d->schedule, now);
        o->what = N_("not due");
        if (next != (time_t)-1)
            DETAIL(o, N_("next %s"), cli_when(when, sizeof(when), next));
        else
            detail_text(o, N_("never (no schedule)"));
        return;
    }
    o->ran = true;
    if (run_hook(c, d, &d->before, "before", o)) {
        o->failed = true;
        o->what = N_("failed");
        return;
    }
    bkp_capture_opts opts;
    cli_dataset_opts(c, d, &opts);
    int ex = cli_backup_run(c, &opts, d, &o->b);
    if (o->b.gen) {
        o->last_success = o->b.gen->finished;
        o->generations++;
    }
    if (ex && o->b.suspicious) {
        o->failed = true;
        o->what = N_("sealed, SUSPICIOUS");
        snprintf(o->detail, sizeof(o->detail), "%s", o->b.reason);
        snprintf(o->shown, sizeof(o->shown), "%s", o->b.reason); /* the guard's, English */
    } else if (ex) {
        o->failed = true;
        o->what = N_("failed");
        if (!*o->detail && o->b.gen)
            DETAIL(o, N_("%zu unreadable path(s)"), o->b.nerrors);
        else if (!*o->detail)
            detail_text(o, N_("capture failed"));
    } else {
        o->what = N_("sealed");
    }
    if (run_hook(c, d, &d->after, "after", o)) {
        o->failed = true;
        o->what = o->b.gen ? N_("sealed, after hook failed") : N_("failed");
    }
}

static void log_syslog(const outcome *o)
{
    int prio = o->failed ? LOG_ERR : LOG_INFO;
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

/* What the run adds to the metrics file (cli_metrics_write). */
static json_t *run_figures(const outcome *v, size_t n, double seconds)
{
    json_t *ds = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_pack("{s:s, s:b, s:I}", "dataset", v[i].d->name, "failed", v[i].failed,
                              "last_success", (json_int_t)v[i].last_success);
        if (d && v[i].b.gen) {
            json_object_set_new(d, "seconds", json_real(v[i].b.seconds));
            json_object_set_new(d, "read_bytes", json_integer((json_int_t)v[i].b.stats.bytes_read));
            json_object_set_new(d, "added_bytes",
                                json_integer((json_int_t)v[i].b.stats.stored_new));
        }
        json_array_append_new(ds, d);
    }
    return json_pack("{s:f, s:o}", "seconds", seconds, "datasets", ds);
}

/* Copies to the on-line disks the data sets of this run name, and to the
 * object media that are due (off-line media go by `bkp rotate`, with a
 * person at the disk). */
static bool copy_online(cli *c, const pol_policy *p, const pol_dataset **order, size_t n)
{
    bool failed = false, json = c->json;
    c->json = false; /* the run's own JSON is the output */
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        bool wanted = false;
        for (size_t i = 0; i < n && !wanted; i++)
            for (size_t j = 0; j < order[i]->ncopy_to; j++)
                wanted |= !strcmp(order[i]->copy_to[j], pm->name);
        if (!wanted || pm->type == POL_ARCHIVE || pm->offline)
            continue;
        /* A bucket is written when its rotation is due, not at every run. */
        time_t due = pm->type == POL_OBJECT ? cli_medium_due(c, pm->name) : 0;
        if (pm->type == POL_OBJECT && due > bkp_now())
            continue;
        cli_medium m;
        int ex = cli_medium_find(c, pm->name, &m);
        if (!ex)
            ex = pm->type == POL_OBJECT ? cli_rotate_object(c, &m, true)
                                        : cli_rotate_disk(c, &m, true);
        cli_medium_clear(&m);
        if (ex) {
            bkp_error(_("copying to the on-line medium %s failed (above); the generations are safe "
                        "in the repository, the next run copies them"),
                      pm->name);
            syslog(LOG_ERR, "copy to %s failed", pm->name);
            failed = true;
        }
    }
    c->json = json;
    return failed;
}

/* One sample: of the primary (`m` NULL) or of an on-line disk. */
static bool reread_one(cli *c, const pol_policy *p, bkp_repo *target, const char *medium)
{
    bkp_verify_result res = {0};
    int rc = bkp_reread_sample(c->r, target, medium, -1, p->reread_every, c->workers, &res);
    json_t *fig = json_pack("{s:s, s:I, s:I, s:I}", "mode", "sample", "packs_read",
                            (json_int_t)res.packs_read, "bytes_read", (json_int_t)res.bytes_read,
                            "problems", (json_int_t)res.problems);
    bkp_audit_rec rec = {.op = "verify",
                         .medium = medium,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? (res.nmessages ? res.messages[0] : bkp_strerror(rc)) : NULL};
    bool failed = cli_audit(c, &rec) != 0 || rc != 0;
    if (rc)
        bkp_error(_("the rolling re-read of %s found %llu problem(s) (above); run `bkp verify%s%s "
                    "--read-data` and repair with `bkp verify%s%s --repair-from MEDIUM`"),
                  medium ? medium : _("the repository"), (unsigned long long)res.problems,
                  medium ? " --media " : "", medium ? medium : "", medium ? " --media " : "",
                  medium ? medium : "");
    json_decref(fig);
    bkp_verify_result_clear(&res);
    return failed;
}

/* A rolling sample of the packs read back, so that each pack of the
 * repository and of every on-line disk is re-read within the policy's
 * `verify: reread_every` (30 days by default). */
static bool reread(cli *c, const pol_policy *p)
{
    bool failed = reread_one(c, p, c->r, NULL);
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        cli_medium m;
        bkp_repo *copy = NULL;
        if (pm->type != POL_DISK || pm->offline || cli_medium_find(c, pm->name, &m))
            continue;
        char *repo = m.entry ? cli_medium_repo(&m) : NULL;
        if (repo && !cli_medium_check_label(c, &m) &&
            !bkp_repo_open_copy(repo, c->r, BKP_REPO_READONLY, &copy))
            failed |= reread_one(c, p, copy, pm->name);
        bkp_repo_free(copy);
        free(repo);
        cli_medium_clear(&m);
    }
    return failed;
}

/* The drills the policy schedules (`drills:`), when due: unattended, so
 * their confirm steps are recorded as not rehearsed. */
static bool drills(cli *c, const pol_policy *p)
{
    bool failed = false;
    char *log = bkp_audit_path(c->r);
    for (size_t i = 0; log && i < p->ndrills; i++) {
        /* Records name a runbook by its file's stem; the policy may give a path. */
        char stem[256];
        const char *base = strrchr(p->drills[i].runbook, '/');
        snprintf(stem, sizeof(stem), "%s", base ? base + 1 : p->drills[i].runbook);
        size_t sl = strlen(stem);
        if (sl > 5 && !strcmp(stem + sl - 5, ".yaml"))
            stem[sl - 5] = '\0';
        time_t when;
        json_decref(bkp_audit_last(log, bkp_repo_sign_pk(c->r),
                                   &(bkp_audit_query){"drill", NULL, "runbook", stem}, &when));
        if (!pol_is_due(&p->drills[i].schedule, when, bkp_now()))
            continue;
        syslog(LOG_INFO, "drill %s", stem);
        if (cli_runbook_execute(c, p->drills[i].runbook, true, true)) {
            bkp_error(_("the scheduled drill %s failed; its report (in the repository's reports/) "
                        "says which step"),
                      stem);
            syslog(LOG_ERR, "drill %s failed", stem);
            failed = true;
        }
    }
    free(log);
    return failed;
}

/* The 3-2-1 rule after the run: each data set's verdict as a condition
 * (`al`, from index `*first`); a failed run when one is non-compliant. The
 * status it judged goes to `*status` (owned), for the status page. */
static bool judge(cli *c, cli_alerts *al, size_t *first, json_t **status, int *worst_out)
{
    int worst = 0;
    json_t *all = cli_status(c, &worst), *d;
    size_t i;
    *first = al->n;
    json_array_foreach(all, i, d)
    {
        const char *v = json_string_value(json_object_get(d, "verdict"));
        const char *ds = json_string_value(json_object_get(d, "dataset"));
        const char *why = json_string_value(json_array_get(json_object_get(d, "reasons"), 0));
        const char *next = json_string_value(json_object_get(d, "action"));
        /* The same in the reader's language, for the terminal (cmd_status.c). */
        json_t *shown = json_object_get(d, "shown");
        const char *why_shown =
            json_string_value(json_array_get(json_object_get(shown, "reasons"), 0));
        const char *next_shown = json_string_value(json_object_get(shown, "action"));
        char key[160];
        snprintf(key, sizeof(key), "verdict:%s", ds ? ds : "?");
        if (!v || !strcmp(v, "COMPLIANT")) {
            cli_alert(al, key, NULL, 0, N_("%s is COMPLIANT again (checklist item 3-②)"), ds);
        } else if (next && *next) {
            cli_alert(al, key, v, strcmp(v, "AT RISK") ? 2 : 1,
                      N_("%s is %s (checklist item 3-②): %s — next: %s"), ds, v, why ? why : "?",
                      next);
            if (why_shown && next_shown)
                cli_alert_reshow(al, key, N_("%s is %s (checklist item 3-②): %s — next: %s"), ds, v,
                                 why_shown, next_shown);
        } else {
            cli_alert(al, key, v, strcmp(v, "AT RISK") ? 2 : 1,
                      N_("%s is %s (checklist item 3-②): %s"), ds, v, why ? why : "?");
            if (why_shown)
                cli_alert_reshow(al, key, N_("%s is %s (checklist item 3-②): %s"), ds, v,
                                 why_shown);
        }
    }
    *status = all;
    *worst_out = worst;
    return worst == POL_NON_COMPLIANT;
}

/* The policy's status page, from the status the run judged: a page that
 * cannot be written is a warning, never a failed run (the backups are
 * made). */
static void status_page(cli *c, const pol_policy *p, json_t *all, int worst)
{
    if (!p->status_page) {
        json_decref(all);
        return;
    }
    json_t *doc = cli_status_doc(c, all, worst);
    int rc = doc ? cli_status_page_write(doc, p->status_page, cli_lang_ja(c)) : -ENOMEM;
    json_decref(doc);
    if (rc) {
        bkp_warn(_("the status page %s could not be written: %s; the backups are not affected"),
                 p->status_page, bkp_strerror(rc));
        syslog(LOG_WARNING, "status page %s not written: %s", p->status_page, bkp_strerror(rc));
    }
}

/* Each off-line medium that is due (or a day past due) for its rotation. */
static void media_due(cli *c, const pol_policy *p, cli_alerts *al)
{
    time_t now = bkp_now();
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        char key[160];
        time_t due = pm->rotate_every ? cli_medium_due(c, pm->name) : 0;
        if (!pm->rotate_every)
            continue;
        snprintf(key, sizeof(key), "due:%s", pm->name);
        const char *st = !due || now < due ? NULL : now - due >= 86400 ? "overdue" : "due";
        if (st)
            cli_alert(al, key, st, strcmp(st, "overdue") ? 0 : 1,
                      N_("%s is %s for its rotation: connect it and run `bkp rotate %s`"), pm->name,
                      st, pm->name);
        else
            cli_alert(al, key, NULL, 0, N_("%s has been rotated"), pm->name);
    }
}

/* No key-recovery drill within the policy's key_drill_every: a condition
 * (told once, then reminded), as `bkp status` reminds of it. */
static void key_drill_due(cli *c, cli_alerts *al)
{
    json_t *kd = cli_key_drill_status(c);
    long long days = (long long)(json_integer_value(json_object_get(kd, "every_seconds")) / 86400);
    if (json_is_true(json_object_get(kd, "due")))
        cli_alert(
            al, "key-drill", "overdue", 1,
            N_("no key-recovery drill within %lld days (key_drill_every): rehearse opening an "
               "off-line copy with the sheets from the safe alone, `bkp drill RUNBOOK "
               "--medium M --key-from SHEET...`"),
            days);
    else
        cli_alert(al, "key-drill", NULL, 0,
                  N_("a key-recovery drill was held within %lld days again"), days);
    json_decref(kd);
}

/* Retention after the run, as `bkp prune` would (quietly off a terminal):
 * true when it failed (said). */
static bool prune_after(cli *c, const pol_policy *p)
{
    bool any_rule = false;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_retention *rt = &p->datasets[i].retention;
        any_rule |= rt->keep_last || rt->keep_hourly || rt->keep_daily || rt->keep_weekly ||
                    rt->keep_monthly || rt->keep_yearly;
    }
    if (!any_rule)
        return false;
    bool json = c->json;
    c->json = false; /* the run's own JSON is the output */
    int pex = cli_prune(c, c->writer);
    c->json = json;
    if (pex)
        bkp_error(_("pruning after the run failed; the generations are safe, run `bkp prune` to "
                    "retry"));
    return pex != 0;
}

/* The rest of the cycle — on-line copies, the rolling re-read, drills — and
 * every condition judged after it, told once per change (notify.h): the
 * run's own words follow the same rule, so that cron mails once. True when
 * something failed. */
static bool after_backups(cli *c, const pol_policy *p, const pol_dataset **order, outcome *out,
                          size_t n)
{
    cli_alerts al = {0};
    bool failed = false, bad;
    for (size_t i = 0; i < n; i++) {
        char key[160];
        snprintf(key, sizeof(key), "backup:%s", out[i].d->name);
        if (out[i].failed)
            cli_alert(&al, key, "failed", 2,
                      N_("the backup of %s failed: %s — run `bkp backup` of it by hand to see why"),
                      out[i].d->name, out[i].detail);
        else if (out[i].ran)
            cli_alert(&al, key, NULL, 0, N_("the backup of %s succeeded again"), out[i].d->name);
        if (out[i].b.gen && out[i].b.suspicious)
            cli_alert(&al, NULL, "suspicious", 2,
                      N_("%s:%u was sealed as suspicious (%s): check the data before trusting it; "
                         "`bkp generations %s` lists it"),
                      out[i].d->name, out[i].b.gen->seq, out[i].b.reason, out[i].d->name);
    }
    failed |= bad = copy_online(c, p, order, n);
    cli_alert(&al, "copy-online", bad ? "failed" : NULL, bad ? 2 : 0,
              bad ? N_("copying to an on-line medium failed; see `bkp status`")
                  : N_("the on-line copies succeed again"));
    failed |= bad = reread(c, p);
    cli_alert(&al, "verify", bad ? "failed" : NULL, bad ? 2 : 0,
              bad ? N_("the rolling re-read found damage; run `bkp verify --read-data`")
                  : N_("the rolling re-read finds no damage again"));
    if (!c->dataset) {
        failed |= bad = drills(c, p);
        cli_alert(&al, "drill", bad ? "failed" : NULL, bad ? 2 : 0,
                  bad ? N_("a scheduled drill failed; its report is in the repository's reports/")
                      : N_("the scheduled drills succeed again"));
        media_due(c, p, &al);
    }
    /* What the run says itself, once per change, from here on: the
     * verdicts and the key-recovery drill (the rest it said as it went). */
    size_t verdicts = 0;
    json_t *status = NULL;
    int worst = 0;
    failed |= judge(c, &al, &verdicts, &status, &worst);
    if (!c->dataset)
        key_drill_due(c, &al);
    bool *told = calloc(al.n + 1, sizeof(*told));
    if (told && cli_alerts_tell(c, &al, told))
        failed = true;
    for (size_t i = verdicts; told && i < al.n; i++) {
        const char *shown = cli_alert_shown(&al, i);
        if (told[i] && al.v[i].state)
            bkp_warn("%s", shown);
        else if (told[i])
            bkp_info("%s", shown);
        else if (al.v[i].state)
            bkp_info(_("%s (told before; `bkp status` shows it)"), shown);
        if (al.v[i].state)
            syslog(LOG_WARNING, "%s", al.v[i].summary);
    }
    free(told);
    cli_alerts_free(&al);
    status_page(c, p, status, worst);
    return failed;
}

/* What the run did: JSON for programs (English words), or a table for a
 * person at a terminal (through the catalogue); nothing for cron. */
static void print_outcomes(const cli *c, const outcome *out, size_t n)
{
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = out[i].b.gen ? cli_backup_json(&out[i].b) : json_object();
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
        char gen[32] = "-", detail[700];
        if (out[i].b.gen)
            snprintf(gen, sizeof(gen), "%u", out[i].b.gen->seq);
        if (out[i].b.gen && !*out[i].detail)
            snprintf(detail, sizeof(detail), _("%.1f s, %s new"), out[i].b.seconds,
                     cli_size(size, sizeof(size), out[i].b.stats.bytes_new));
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
    /* The dispatcher holds the lock "run" (LOCK_CYCLE): one cycle at a time. */
    openlog("bkp", LOG_PID, LOG_DAEMON);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    (void)pol_warn_compliance(p);

    const pol_dataset **order = calloc(p->ndatasets + 1, sizeof(*order));
    outcome *out = calloc(p->ndatasets + 1, sizeof(*out));
    size_t n = 0;
    bool failed = false;
    if (!order || !out) {
        free(order);
        free(out);
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < p->ndatasets; i++)
        if (!c->dataset || !strcmp(c->dataset, p->datasets[i].name))
            order[n++] = &p->datasets[i];
    qsort(order, n, sizeof(*order), cmp_priority);
    time_t now = bkp_now();
    for (size_t i = 0; i < n; i++) {
        out[i].d = order[i];
        run_dataset(c, order[i], now, &out[i]);
        log_syslog(&out[i]);
        failed |= out[i].failed;
    }
    failed |= prune_after(c, p);
    failed |= after_backups(c, p, order, out, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (c->metrics) {
        json_t *fig = run_figures(out, n, secs);
        if (cli_metrics_write(c, c->metrics, fig))
            failed = true;
        json_decref(fig);
    }
    print_outcomes(c, out, n);
    for (size_t i = 0; i < n; i++)
        cli_backup_clear(&out[i].b);
    free(order);
    free(out);
    closelog();
    return failed ? EXIT_FAILED : EXIT_OK;
}
