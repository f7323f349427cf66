/*
 * bkp status [--json] — per data set, the 3-2-1 picture of its newest
 * generations (policies/compliance.c decides), with the last backup,
 * verification and drill, a verdict, the reason and the next action.
 * Exit 1 when a data set is NON-COMPLIANT. `bkp run` asks the same.
 * A last line reminds when no key-recovery drill (`bkp drill --key-from`,
 * cmd_drill.c) succeeded within the policy's key_drill_every: a reminder, not
 * a verdict — it changes no exit code, and `bkp run` stays quiet about it.
 * With --format html, the same document as --json, as the status page for
 * staff (bkp/report/status_page.h, written by status_page.c). The document is
 * gathered by bkp/ops/status.c; here, the options and what is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/log.h"
#include "bkp/ops/medium_check.h"
#include "policies/compliance.h"
#include "bkp/report/status_page.h"
#include "bkp/io/text.h"
#include "bkp/ops/storage.h"

/* A time of the status for people (cli_when), or "never". */
static const char *local(json_t *iso, char *buf, size_t n)
{
    time_t t = bkp_iso_parse(json_string_value(iso));
    return bkp_local_time(buf, n, t, _("never"));
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
        /* The verdict in the reader's words (--json keeps COMPLIANT, AT
         * RISK, NON-COMPLIANT), padded by terminal columns. */
        printf("%-14s ", json_string_value(json_object_get(d, "dataset")));
        cli_pad(stdout, _(json_string_value(json_object_get(d, "verdict"))), 14);
        printf(_("priority %lld  %s\n"),
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
            pol_medium_type kind;
            bool obj = !pol_medium_type_named(json_string_value(json_object_get(m, "type")), &kind) &&
                       !pol_type_at_path(kind);
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
        json_t *ld = json_object_get(d, "last_drill");
        printf(_("  last backup %s%s  last verify %s  last drill %s%s\n"),
               local(json_object_get(d, "last_backup"), a, sizeof(a)),
               json_is_object(lb) &&
                       !strcmp(json_string_value(json_object_get(lb, "outcome")), "failed")
                   ? _(" (the latest attempt FAILED)")
                   : "",
               local(json_object_get(json_object_get(d, "last_verify"), "time"), b, sizeof(b)),
               local(json_object_get(ld, "time"), x, sizeof(x)),
               json_is_false(json_object_get(ld, "attended")) ? _(" (unattended)") : "");
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
               bkp_local_time(when, sizeof(when), last, "-"), (long long)days);
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
    printf(_("audit log: NOT intact: %s; tell the system administrator (`bkp audit verify`)\n"),
           why);
}

/* Each off-line medium left plugged in (ops_media_connected). */
static void connected_remind(cli *c)
{
    ops_connected *v;
    size_t n;
    if (ops_media_connected(c->ro, c->policy, bkp_now(), &v, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        const char *path = v[i].medium->path;
        if (v[i].left)
            printf(_("%s is still connected at %s: unmount it and take it away (`umount %s`); "
                     "while it is plugged in, ransomware on this server can reach it\n"),
                   v[i].medium->name, path, path);
    }
    free(v);
}

/* What the repository takes, what a copy on a disk or a tape will need,
 * and what it stands for. */
static void storage_said(cli *c, const ops_status_log *log)
{
    ops_storage s = log->storage;
    char a[32], b[32], k[32];
    if (ops_storage_files(c->ro, &s))
        return;
    printf(_("storage: %s on this disk, what each full copy on a disk or tape needs\n"),
           bkp_size_text(a, sizeof(a), s.stored));
    if (s.newest)
        printf(_("  the newest generations of %zu data set(s) hold %s of files: stored at %.0f %% "
                 "of that, with %zu generation(s) kept (%s counted whole)\n"),
               s.datasets, bkp_size_text(b, sizeof(b), s.newest), 100 * ops_storage_ratio(&s),
               s.generations, bkp_size_text(k, sizeof(k), s.kept));
}

int cmd_status(cli *c)
{
    int worst, ex;
    bool page;
    ops_status_log log;
    if ((ex = page_options(c, &page)))
        return ex;
    json_t *all = cli_status(c, &worst, &log);
    if (!all)
        return c->policy ? EXIT_FAILED : EXIT_USAGE;
    if (c->json || page) {
        /* One document: what --json prints is what the page shows. */
        json_t *doc = cli_status_doc(c, all, worst, &log);
        if (!doc)
            return EXIT_FAILED;
        if (page)
            ex = write_page(c, doc);
        else
            cli_print_json(json_incref(doc));
        json_decref(doc);
    } else {
        json_t *kd = cli_key_drill_status(c, &log);
        cli_status_print(all);
        connected_remind(c);
        cli_key_drill_remind(kd);
        audit_remind(&log);
        storage_said(c, &log);
        json_decref(all);
        json_decref(kd);
    }
    if (c->metrics && cli_metrics_write(c, c->metrics, NULL))
        return EXIT_FAILED;
    if (ex)
        return ex;
    return worst == POL_NON_COMPLIANT ? EXIT_FAILED : EXIT_OK;
}
