/*
 * bkp audit report [--from DATE] [--to DATE] [--format md|html] [--json] [--lang ja|en]
 *
 * The evidence an inspector asks for under checklist item 3-②, for a period
 * (default: the last 30 days), gathered from the signed audit log — every
 * claim names the records (by sequence number) it rests on — and from the
 * repository as it is now: per data set, backups run and failed, generations
 * kept, the 3-2-1 verdict, rotations and the longest gap between off-line
 * copies, verifications, drills with their measured recovery time, the
 * integrity of the audit chain, every key operation, and a
 * closing statement (はい / いいえ). Gathered by bkp/ops/report.c; here, the
 * period and the format are read, and the document printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/copy.h"
#include "bkp/ops/report.h"
#include "bkp/report/evidence.h"
#include "restore/runbook.h"

#define DAY 86400

/* The report's runbooks, through the program's loader (its trust checks). */
static int load_runbook(void *ctx, const char *name, rb_runbook **out)
{
    return cli_runbook_load(ctx, name, out);
}

static bool to_file(const cli *c)
{
    return c->output && strcmp(c->output, "-");
}

/* The format a file's name asks for when --format is not given: .html or
 * .htm is HTML, any other Markdown. */
static void format_of_name(cli *c)
{
    const char *dot = c->output ? strrchr(c->output, '.') : NULL;
    if (!c->format && dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm")))
        c->format = "html";
}

/* The report to -o FILE (whole or not at all: a temporary name renamed),
 * or to standard output. */
static int put(cli *c, const char *text)
{
    if (!to_file(c))
        return fputs(text, stdout) >= 0 && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
    int rc = bkp_durable_write_path(c->output, text, strlen(text), 0);
    if (rc == -EISDIR) {
        bkp_error(_("-o %s names a folder: give the report's file name (for example -o "
                    "evidence.html, or .md)"),
                  c->output);
        return EXIT_USAGE;
    }
    if (rc) {
        bkp_error(_("the evidence report %s could not be written: %s"), c->output,
                  bkp_strerror(rc));
        return EXIT_FAILED;
    }
    printf(_("report: %s\n"), c->output);
    return EXIT_OK;
}

/* The report written to a file, recorded by its SHA-256 in a signed record
 * (`report`), as a drill's reports are: `bkp audit check FILE` then tells
 * an inspector whether the file handed over is the one written, a はい not
 * edited from a いいえ. In the primary's log, or reading a copy, in the
 * journal beside the file. */
static int record_report(cli *c, const char *text, time_t from, time_t to, bool answer)
{
    uint8_t sum[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(sum, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
    char *real = realpath(c->output, NULL);
    bkp_audit_rec rec;
    ops_report_rec(real ? real : c->output, hex, from, to, answer, &rec);
    json_t *fig = rec.figures;
    c->journal_near = c->output; /* a copy's: beside the report, where audit check looks */
    int ex = fig ? cli_audit(c, &rec) : EXIT_FAILED;
    if (ex)
        bkp_error(_("the report %s was written, but it is not recorded: `bkp audit check` will "
                    "not know it; make it again once the audit log takes records"),
                  c->output);
    json_decref(fig);
    free(real);
    return ex;
}

void cli_report_of_copy(const char *repo)
{
    bkp_error(_("%s is a copy of a repository from a backup disk: an evidence report is made on "
                "the server whose repository it is. The server's audit log as the disk's last "
                "rotation left it: `bkp audit show --repo %s --public-key FINGERPRINT` lists it, "
                "`bkp audit verify --repo %s --public-key FINGERPRINT` checks it (the fingerprint "
                "on the disk's label or the key sheet)"),
              repo, repo, repo);
}

/* Is the repository open a disk's copy, wherever it is now (copied off the
 * disk, mounted elsewhere)? Its signed log marker says so, or, before the
 * copy had a log of its own, the server's log a rotation left in it: a
 * primary has its log from `bkp init` on, never that copy. */
static bool a_copy(const bkp_repo *r)
{
    char *medium = NULL, *copy = bkp_repo_subpath(r, BKP_AUDIT_COPY);
    int role = bkp_audit_role(r, &medium);
    bool yes = role == BKP_AUDIT_MEDIUM || (role == BKP_AUDIT_NONE && copy && !access(copy, F_OK));
    free(medium);
    free(copy);
    return yes;
}

int cli_audit_report(cli *c)
{
    /* A disk's copy carries its own log (what was done with the disk) and
     * the server's as its last rotation left it: neither is the server's
     * record of its nights, which the report judges. (A copy named where
     * it lies on its disk is refused before a key is asked for: main.c.) */
    if (c->ro && a_copy(c->ro)) {
        cli_report_of_copy(bkp_repo_path(c->ro));
        return EXIT_USAGE;
    }
    pol_policy *p = cli_policy(c);
    time_t now = bkp_now();
    time_t to = c->period_to ? cli_parse_day(c->period_to, true) : now;
    time_t from = c->from ? cli_parse_day(c->from, false) : to - 30 * DAY;
    format_of_name(c);
    int f = 0, ex = cli_format(c, &f);
    if (!p || ex)
        return EXIT_USAGE;
    /* Each mistake named with what was typed. */
    const char *bad = from < 0 ? c->from : to < 0 ? c->period_to : NULL;
    if (bad) {
        bkp_error(_("'%s' is not a day: give the period as --from YYYY-MM-DD --to YYYY-MM-DD "
                    "(local days)"),
                  bad);
        return EXIT_USAGE;
    }
    if (from > now) {
        bkp_error(_("the period begins after today (%s): nothing has happened in it yet"), c->from);
        return EXIT_USAGE;
    }
    if (from > to) {
        bkp_error(_("the period begins (%s) after it ends (%s): give the earlier day with "
                    "--from"),
                  c->from, c->period_to ? c->period_to : _("today"));
        return EXIT_USAGE;
    }
    to = to > now ? now : to; /* up to now: what happens later is not known */
    rb_evidence ev;
    ops_status_in status;
    /* The status of now and the records of the period from one reading of
     * the audit log (ops_report gathers both). */
    cli_status_in(c, p, &status);
    ops_report_in in = {.repo = c->ro,
                        .policy = p,
                        .from = from,
                        .from_default = !c->from,
                        .to = to,
                        .status_in = &status,
                        .load_runbook = load_runbook,
                        .ctx = c};
    int vrc = ops_report(&in, &ev);
    cli_status_in_clear(&status);
    if (vrc == -ENODATA)
        return EXIT_USAGE; /* said: a period before the repository */
    if (vrc == -ENOMEM)
        return EXIT_FAILED;
    /* JSON for programs, or the report for people (both from the one record). */
    json_t *j = c->json ? rb_evidence_json(&ev) : NULL;
    char *text = j         ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS)
                 : c->json ? NULL
                           : rb_evidence_render(&ev, (rb_format)f, cli_lang_ja(c));
    json_decref(j);
    bool answer = ev.judged && ev.answer;
    /* The period the report shows (shortened to the repository's creation),
     * which its record must say too. */
    from = ev.from;
    to = ev.to;
    rb_evidence_clear(&ev);
    ex = !text                    ? EXIT_FAILED
         : c->json && !to_file(c) ? (printf("%s\n", text) < 0 ? EXIT_FAILED : EXIT_OK)
                                  : put(c, text);
    if (ex == EXIT_OK && to_file(c))
        ex = record_report(c, text, from, to, answer);
    free(text);
    return ex != EXIT_OK ? ex : vrc < 0 ? EXIT_FAILED : EXIT_OK;
}
