/*
 * bkp status [--json] — per data set, the 3-2-1 picture of its newest
 * generations (policies/compliance.c decides), with the last backup,
 * verification and drill, a verdict, the reason and the next action.
 * Exit 1 when a data set is NON-COMPLIANT. `bkp run` asks the same.
 * A last line reminds when no key-recovery drill (`bkp drill --key-from`,
 * cmd_drill.c) succeeded within the policy's key_drill_every: a reminder, not
 * a verdict — it changes no exit code, and `bkp run` stays quiet about it.
 * With --format html, the same document as --json, as the status page for
 * staff (restore/status_page.h, written by status_page.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit.h"
#include "bkp/i18n.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "policies/compliance.h"
#include "restore/status_page.h"

/* The last record of each kind that status reports, per data set. */
typedef struct last_ctx {
    const char *dataset;
    json_t *backup, *verify, *drill; /* borrowed references kept with incref */
} last_ctx;

static void keep(json_t **slot, json_t *j)
{
    json_decref(*slot);
    *slot = json_incref(j);
}

static int scan(json_t *j, void *ctx)
{
    last_ctx *l = ctx;
    const char *op = json_string_value(json_object_get(j, "op"));
    const char *ds = json_string_value(json_object_get(j, "dataset"));
    if (!op)
        return 0;
    if (!strcmp(op, "backup") && ds && !strcmp(ds, l->dataset))
        keep(&l->backup, j);
    else if (!strcmp(op, "verify") && !json_object_get(j, "medium"))
        keep(&l->verify, j);
    else if (!strcmp(op, "drill") && ds && !strcmp(ds, l->dataset))
        keep(&l->drill, j);
    return 0;
}

static json_t *when_of(json_t *rec)
{
    json_t *t = json_object_get(rec, "time");
    return t ? json_pack("{s:O, s:s}", "time", t, "outcome",
                         json_string_value(json_object_get(rec, "outcome")))
             : json_null();
}

/* A drill's time and outcome, with what it measured: the runbook, its
 * seconds and the target (0: none) it was held to. */
static json_t *drill_of(json_t *rec)
{
    json_t *j = when_of(rec), *fig = json_object_get(rec, "figures");
    if (json_is_object(j) && json_is_object(fig))
        json_object_update_new(j, json_pack("{s:O?, s:O?, s:O?, s:O?}", "runbook",
                                            json_object_get(fig, "runbook"), "seconds",
                                            json_object_get(fig, "seconds"), "rto_target_seconds",
                                            json_object_get(fig, "rto_target_seconds"), "rto_met",
                                            json_object_get(fig, "rto_met")));
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

/* One data set's status as JSON; `*verdict` receives the verdict. */
static json_t *dataset_status(cli *c, const pol_dataset *d, bkp_gen **v, size_t n,
                              const pol_medium_state *st, const time_t *due, json_t *reg,
                              json_t *pins, pol_verdict *verdict)
{
    pol_policy *p = c->policy;
    time_t now = bkp_now();
    pol_copy *copies = calloc(p->nmedia + 1, sizeof(*copies));
    pol_ds_state s = {.dataset = d, .copies = copies};
    pol_status out;
    last_ctx last = {.dataset = d->name};
    char *log = bkp_audit_path(c->r);
    json_t *media = json_array(), *j = NULL;
    size_t i;
    json_t *e;
    pol_behind *behind = calloc(json_array_size(pins) + 1, sizeof(*behind));
    if (!copies || !log || !media || !behind)
        goto fail;
    /* What a medium pinned of this data set, or of the log they all share. */
    json_array_foreach(pins, i, e)
    {
        const char *ds = json_string_value(json_object_get(e, "dataset"));
        if (ds && (!*ds || !strcmp(ds, d->name)))
            behind[s.nbehind++] = (pol_behind){json_string_value(json_object_get(e, "medium")),
                                               json_string_value(json_object_get(e, "what")),
                                               json_is_true(json_object_get(e, "beside"))};
    }
    s.behind = behind;
    for (size_t k = 0; k < n; k++) {
        if (strcmp(v[k]->dataset, d->name) || v[k]->pruned || v[k]->status)
            continue;
        s.generations++;
        if (v[k]->finished > s.last_backup)
            s.last_backup = v[k]->finished;
    }
    (void)bkp_audit_each(log, scan, &last);
    s.last_run_failed =
        last.backup && json_is_string(json_object_get(last.backup, "error")) &&
        !strcmp(json_string_value(json_object_get(last.backup, "outcome")), "failed");
    json_array_foreach(reg, i, e)
    {
        const char *name = json_string_value(json_object_get(json_object_get(e, "label"), "name"));
        const pol_medium *pm = name ? pol_medium_find(p, name) : NULL;
        json_t *g;
        size_t x;
        pol_copy cp = {.medium = pm};
        if (json_is_false(json_object_get(e, "verify_ok")))
            continue; /* its last check failed: it does not count until it verifies */
        json_array_foreach(json_object_get(e, "held"), x, g)
        {
            const char *ds = json_string_value(json_object_get(g, "dataset"));
            time_t t = bkp_iso_parse(json_string_value(json_object_get(g, "finished")));
            if (ds && !strcmp(ds, d->name) && t > cp.newest) {
                cp.newest = t;
                cp.newest_seq = (uint32_t)json_integer_value(json_object_get(g, "seq"));
            }
        }
        if (!pm || !cp.newest)
            continue;
        time_t proven_at = 0;
        cp.proven =
            pm->type == POL_OBJECT && !pm->object.governance && cli_object_proven(c, e, &proven_at);
        copies[s.ncopies++] = cp;
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
    /* In English for programs (--json, alerts, the audit log); for a person
     * also in the language of the messages, under "shown". */
    bkp_i18n_saved lang;
    bkp_i18n_begin(&lang, "en");
    pol_compliance(p, &s, st, due, p->nmedia, now, &out);
    bkp_i18n_end(&lang);
    *verdict = out.verdict;
    json_t *reasons = reasons_of(&out);
    char lb[32] = "";
    if (s.last_backup)
        bkp_iso_time(lb, sizeof(lb), s.last_backup);
    j = json_pack(
        "{s:s, s:s, s:i, s:s, s:i, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i}, "
        "s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "verdict", pol_verdict_name(out.verdict), "generations", (int)s.generations,
        "counted", "copies", out.copies, "media_types", out.media_types, "offline", out.offline,
        "offsite", out.offsite, "immutable", out.immutable, "required", "copies", p->rule.copies,
        "media_types", p->rule.media_types, "offline", p->rule.offline, "offsite", p->rule.offsite,
        "immutable", p->rule.immutable, "offline_age_seconds", (json_int_t)out.offline_age,
        "offline_max_age_seconds", (json_int_t)p->rule.offline_max_age, "last_backup",
        s.last_backup ? json_string(lb) : json_null(), "last_backup_run", when_of(last.backup),
        "last_verify", when_of(last.verify), "last_drill", drill_of(last.drill), "copies_on_media",
        media, "reasons", reasons, "action", out.action);
    media = NULL;
    if (j && !c->json)
        json_object_set_new(j, "shown", shown_status(p, &s, st, due, now, NULL));
    /* For a Japanese reader of a page or a program (the status page). */
    if (j)
        json_object_set_new(j, "ja", shown_status(p, &s, st, due, now, "ja"));
fail:
    json_decref(media);
    json_decref(last.backup);
    json_decref(last.verify);
    json_decref(last.drill);
    free(copies);
    free(behind);
    free(log);
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

json_t *cli_status(cli *c, int *worst)
{
    pol_policy *p = cli_policy(c);
    bkp_gen **v = NULL;
    size_t n = 0;
    *worst = POL_COMPLIANT;
    if (!p)
        return NULL;
    pol_medium_state *st = cli_media_states(c, p);
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    json_t *reg = bkp_media_list(c->r), *all = json_array(), *pins = NULL;
    /* Status is read-only: a primary behind a medium is shown, not fixed. */
    if (cli_pins_check(c, NULL, &pins) < 0)
        pins = NULL;
    if (!st || !due || !reg || !all || bkp_gen_list(c->r, NULL, &v, &n)) {
        json_decref(all);
        all = NULL;
        goto out;
    }
    pol_media_due(p, st, p->nmedia, due);
    /* In priority order: what care needs back first comes first. */
    for (size_t k = 0; k < p->ndatasets; k++) {
        size_t i = 0;
        for (size_t x = 0; x < p->ndatasets; x++)
            if (rank(p, x) == k)
                i = x;
        pol_verdict vd = POL_COMPLIANT;
        json_t *j = dataset_status(c, &p->datasets[i], v, n, st, due, reg, pins, &vd);
        if (j)
            json_array_append_new(all, j);
        if ((int)vd > *worst)
            *worst = (int)vd;
    }
out:
    bkp_gen_list_free(v, n);
    json_decref(reg);
    json_decref(pins);
    free(st);
    free(due);
    return all;
}

/* A time of the status for people (cli_when), or "never". */
static const char *local(json_t *iso, char *buf, size_t n)
{
    time_t t = bkp_iso_parse(json_string_value(iso));
    return t <= 0 ? _("never") : cli_when(buf, n, t);
}

void cli_status_print(json_t *all)
{
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
    {
        char a[32], b[32], x[32];
        json_t *cnt = json_object_get(d, "counted"), *req = json_object_get(d, "required");
        json_int_t age = json_integer_value(json_object_get(d, "offline_age_seconds"));
        printf(_("%-14s %-13s priority %lld  %s\n"),
               json_string_value(json_object_get(d, "dataset")),
               json_string_value(json_object_get(d, "verdict")),
               (long long)json_integer_value(json_object_get(d, "priority")),
               json_string_value(json_object_get(d, "description")));
        printf(_("  copies %lld/%lld  media types %lld/%lld  off-line %lld/%lld%s%s  off-site "
                 "%lld/%lld  non-editable %lld/%lld  generations %lld\n"),
               (long long)json_integer_value(json_object_get(cnt, "copies")),
               (long long)json_integer_value(json_object_get(req, "copies")),
               (long long)json_integer_value(json_object_get(cnt, "media_types")),
               (long long)json_integer_value(json_object_get(req, "media_types")),
               (long long)json_integer_value(json_object_get(cnt, "offline")),
               (long long)json_integer_value(json_object_get(req, "offline")),
               age >= 0 ? (snprintf(x, sizeof(x), _(" (%.1f days old)"), (double)age / 86400), x)
                        : "",
               "", (long long)json_integer_value(json_object_get(cnt, "offsite")),
               (long long)json_integer_value(json_object_get(req, "offsite")),
               (long long)json_integer_value(json_object_get(cnt, "immutable")),
               (long long)json_integer_value(json_object_get(req, "immutable")),
               (long long)json_integer_value(json_object_get(d, "generations")));
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(d, "copies_on_media"), k, m)
        {
            const char *pr = json_string_value(json_object_get(m, "proven"));
            bool obj = !strcmp(json_string_value(json_object_get(m, "type")), "object");
            printf(_("  on %-10s %s:%lld captured %s%s%s%s\n"),
                   json_string_value(json_object_get(m, "medium")),
                   json_string_value(json_object_get(d, "dataset")),
                   (long long)json_integer_value(json_object_get(m, "seq")),
                   local(json_object_get(m, "captured"), a, sizeof(a)),
                   !obj ? ""
                   : pr ? (json_is_true(json_object_get(m, "offsite"))
                               ? _("  on-line, off-site, non-editable (proven on ")
                               : _("  on-line, on-site, non-editable (proven on "))
                        : _("  on-line, EDITABLE: its lock was not proven (`bkp media probe`)"),
                   pr ? local(json_object_get(m, "proven"), b, sizeof(b)) : "", pr ? ")" : "");
        }
        json_t *lb = json_object_get(d, "last_backup_run");
        printf(_("  last backup %s%s  last verify %s  last drill %s\n"),
               local(json_object_get(d, "last_backup"), a, sizeof(a)),
               json_is_object(lb) &&
                       !strcmp(json_string_value(json_object_get(lb, "outcome")), "failed")
                   ? _(" (the latest attempt FAILED)")
                   : "",
               local(json_object_get(json_object_get(d, "last_verify"), "time"), b, sizeof(b)),
               local(json_object_get(json_object_get(d, "last_drill"), "time"), x, sizeof(x)));
        size_t r;
        json_t *why;
        json_t *shown = json_object_get(d, "shown");
        json_t *says = shown ? shown : d;
        json_array_foreach(json_object_get(says, "reasons"), r, why)
            printf(_("  why:  %s\n"), json_string_value(why));
        const char *act = json_string_value(json_object_get(says, "action"));
        if (act && *act)
            printf(_("  next: %s\n"), act);
    }
}

json_t *cli_key_drill_status(cli *c)
{
    time_t last = 0, now = bkp_now();
    char *log = c->r ? bkp_audit_path(c->r) : NULL;
    int64_t every = c->policy ? c->policy->key_drill_every : 365 * 86400;
    char iso[32] = "";
    /* The last successful key-recovery drill. */
    bkp_audit_query q = {"drill", "ok", "key_recovery", NULL};
    json_decref(bkp_audit_last(log, &q, &last));
    free(log);
    if (last > 0)
        bkp_iso_time(iso, sizeof(iso), last);
    return json_pack("{s:o, s:I, s:b}", "last", last > 0 ? json_string(iso) : json_null(),
                     "every_seconds", (json_int_t)every, "due", last <= 0 || now - last > every);
}

void cli_key_drill_remind(json_t *kd)
{
    char when[32];
    json_int_t days = json_integer_value(json_object_get(kd, "every_seconds")) / 86400;
    time_t last = bkp_iso_parse(json_string_value(json_object_get(kd, "last")));
    if (!json_is_true(json_object_get(kd, "due")))
        return;
    if (last > 0)
        printf(_("key-recovery drill: none since %s (the policy asks for one every %lld days): "
                 "rehearse opening an off-line copy with the sheets from the safe alone, `bkp "
                 "drill RUNBOOK --medium M --key-from SHEET...`\n"),
               cli_when(when, sizeof(when), last), (long long)days);
    else
        printf(_("key-recovery drill: never held (the policy asks for one every %lld days): "
                 "rehearse opening an off-line copy with the sheets from the safe alone, `bkp "
                 "drill RUNBOOK --medium M --key-from SHEET...`\n"),
               (long long)days);
}

/* --format html [-o FILE] [--lang ja|en]: refused combinations, exit 2. */
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
    if (!c->format && (c->output || c->lang)) {
        bkp_error("%s", _("-o and --lang go with --format html: `bkp status --format html -o FILE "
                          "[--lang ja|en]`"));
        return EXIT_USAGE;
    }
    if (c->lang && strcmp(c->lang, "ja") && strcmp(c->lang, "en")) {
        bkp_error(_("--lang %s: write ja or en"), c->lang);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The page to -o FILE, or to standard output. */
static int write_page(cli *c, json_t *doc)
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

int cmd_status(cli *c)
{
    int worst, ex;
    bool page;
    if ((ex = page_options(c, &page)))
        return ex;
    json_t *all = cli_status(c, &worst);
    if (!all)
        return c->policy ? EXIT_FAILED : EXIT_USAGE;
    if (c->json || page) {
        /* One document: what --json prints is what the page shows. */
        json_t *doc = cli_status_doc(c, all, worst);
        if (!doc)
            return EXIT_FAILED;
        if (page)
            ex = write_page(c, doc);
        else
            cli_print_json(json_incref(doc));
        json_decref(doc);
    } else {
        json_t *kd = cli_key_drill_status(c);
        cli_status_print(all);
        cli_key_drill_remind(kd);
        json_decref(all);
        json_decref(kd);
    }
    if (c->metrics && cli_metrics_write(c, c->metrics, NULL))
        return EXIT_FAILED;
    if (ex)
        return ex;
    return worst == POL_NON_COMPLIANT ? EXIT_FAILED : EXIT_OK;
}
